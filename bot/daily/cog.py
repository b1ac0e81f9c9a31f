"""/daily on Discord: the commands, the guild events that change schedules, and the scheduler's
lifecycle. The services (and the scheduler with its Discord poster) are built by the bot."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable

import discord
from discord import app_commands
from discord.ext import commands

from ..core.errors import UserError
from ..core.reply import Reply
from ..discord.answer import answer
from ..discord.bot import LecternBot
from ..discord.poster import missing_permissions

log = logging.getLogger(__name__)

Interaction = discord.Interaction[LecternBot]


def _guild_id(interaction: Interaction) -> int:
    if interaction.guild_id is None:  # guild_only: Discord never sends one without
        raise app_commands.NoPrivateMessage()
    return interaction.guild_id


@app_commands.guild_only()
@app_commands.allowed_installs(guilds=True, users=False)  # set explicitly: null means "every
@app_commands.allowed_contexts(guilds=True, dms=False, private_channels=False)  # install kind"
@app_commands.default_permissions(manage_guild=True)
class Daily(commands.GroupCog, group_name="daily", group_description="Daily reflections"):
    """/daily: a reflection posted in a channel every day at a local time."""

    def __init__(self, bot: LecternBot) -> None:
        self.bot = bot
        self.commands = bot.services.daily
        self.store = bot.services.daily_store
        self.scheduler = bot.scheduler
        self._task: asyncio.Task[None] | None = None

    async def cog_load(self) -> None:
        self._task = self.bot.spawn(
            self.scheduler.run_forever(self.bot.wait_until_ready), "daily-scheduler"
        )

    async def cog_unload(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def interaction_check(self, interaction: Interaction) -> bool:  # type: ignore[override]
        """The real check: Discord's default permission is only a hint admins can loosen."""
        if interaction.guild is None:
            raise app_commands.NoPrivateMessage()
        if not interaction.permissions.manage_guild:
            raise app_commands.CheckFailure(
                "You need the **Manage Server** permission to manage daily reflections."
            )
        return True

    async def _answer(self, interaction: Interaction, work: Awaitable[Reply]) -> None:
        await answer(interaction, work, bot=self.bot, ephemeral_hint=True)

    # ------------------------------------------------------------------ events

    @commands.Cog.listener()
    async def on_guild_remove(self, guild: discord.Guild) -> None:
        await self.store.forget_guild(guild.id)
        log.info("Left guild %s: its daily schedule is removed", guild.id)
        self.scheduler.wake()

    @commands.Cog.listener()
    async def on_guild_channel_delete(self, channel: discord.abc.GuildChannel) -> None:
        now = int(self.bot.clock().timestamp())
        reason = f"The daily channel #{channel.name} was deleted."
        if await self.store.pause_channel(channel.id, reason, now):
            log.info("Channel %s deleted: daily schedule paused", channel.id)
            self.scheduler.wake()

    # ------------------------------------------------------------------ commands

    @app_commands.command(name="set")
    @app_commands.describe(
        channel="Where to post (a text or announcement channel)",
        time="Local time, 24-hour clock HH:MM (e.g. 09:00)",
        timezone="Time zone: start typing a city, e.g. Berlin or New York",
        role="A role to ping with each post (only this role is mentioned)",
        thread="Open a discussion thread on each post",
        card="Attach the day's passage as a quote card (an image)",
    )
    async def set_(
        self,
        interaction: Interaction,
        channel: discord.TextChannel,
        time: app_commands.Range[str, 1, 8],
        timezone: app_commands.Range[str, 1, 64],
        role: discord.Role | None = None,
        thread: bool = False,
        card: bool = False,
    ) -> None:
        """Post a reflection in a channel every day at a local time."""
        work = self._set(interaction, channel, time, timezone, role, thread, card)
        await self._answer(interaction, work)

    async def _set(
        self,
        interaction: Interaction,
        channel: discord.TextChannel,
        time: str,
        timezone: str,
        role: discord.Role | None,
        thread: bool,
        card: bool,
    ) -> Reply:
        guild = channel.guild
        missing = missing_permissions(channel, guild.me, thread=thread, card=card)
        note = None
        if role is not None:
            if role.is_default():
                raise UserError("Pick a role to ping, not @everyone.")
            if not role.mentionable and not channel.permissions_for(guild.me).mention_everyone:
                note = (
                    f"Note: {role.mention} is not mentionable, so the mention will show but not "
                    "notify. Make it mentionable under Server Settings → Roles."
                )
        return await self.commands.set(
            guild_id=guild.id,
            user_id=interaction.user.id,
            channel_id=channel.id,
            time_text=time,
            zone_text=timezone,
            role_id=role.id if role else None,
            role_note=note,
            thread=thread,
            card=card,
            missing=missing,
        )

    @set_.autocomplete("timezone")
    async def _zones(
        self, interaction: Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        try:
            zones = self.commands.complete_zones(current)
        except Exception:
            log.exception("Time zone autocomplete failed")
            return []
        return [app_commands.Choice(name=z, value=z) for z in zones]

    @app_commands.command()
    async def status(self, interaction: Interaction) -> None:
        """Where and when reflections are posted, the next and last post, and any error."""
        await self._answer(interaction, self.commands.status(_guild_id(interaction)))

    @app_commands.command()
    async def preview(self, interaction: Interaction) -> None:
        """Show the next reflection as it will look (only to you; nothing is posted)."""
        await self._answer(interaction, self.commands.preview(_guild_id(interaction)))

    @app_commands.command()
    async def off(self, interaction: Interaction) -> None:
        """Stop posting daily reflections here."""
        await self._answer(interaction, self.commands.off(_guild_id(interaction)))

    @app_commands.command()
    @app_commands.describe(days="How many days back (default 14)")
    async def history(
        self, interaction: Interaction, days: app_commands.Range[int, 1, 60] = 14
    ) -> None:
        """What was posted (or missed) recently."""
        await self._answer(interaction, self.commands.history(_guild_id(interaction), days))


async def setup(bot: LecternBot) -> None:
    await bot.add_cog(Daily(bot))
