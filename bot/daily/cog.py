"""/daily on Discord: the commands, the guild events that change schedules, and the scheduler's
lifecycle. The services (and the scheduler with its Discord poster) are built by the bot."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from ..core.errors import UserError
from ..core.reply import Choice, Reply
from ..discord.answer import answer
from ..discord.bot import LecternBot
from ..discord.poster import missing_permissions, post_tag, untaggable
from .model import NAME_MAX, Placement

log = logging.getLogger(__name__)

Interaction = discord.Interaction[LecternBot]
Choices = list[app_commands.Choice[str]]
ScheduleName = app_commands.Range[str, 1, NAME_MAX]


@dataclass(frozen=True, slots=True)
class SetOptions:
    """What /daily set was given besides the channel."""

    time: str
    timezone: str
    role: discord.Role | None
    thread: bool
    card: bool | None
    name: str | None
    days: str | None
    document: str | None
    kind: str | None


async def _complete(lookup: Callable[[], Awaitable[list[Choice]]]) -> Choices:
    """Autocomplete never fails loudly: a broken lookup offers nothing rather than an error."""
    try:
        return [app_commands.Choice(name=c.name, value=c.value) for c in await lookup()]
    except Exception:
        log.exception("Daily autocomplete failed")
        return []


def _guild_id(interaction: Interaction) -> int:
    if interaction.guild_id is None:  # guild_only: Discord never sends one without
        raise app_commands.NoPrivateMessage()
    return interaction.guild_id


@app_commands.guild_only()
@app_commands.allowed_installs(guilds=True, users=False)  # set explicitly: null means "every
@app_commands.allowed_contexts(guilds=True, dms=False, private_channels=False)  # install kind"
@app_commands.default_permissions(manage_guild=True)
class Daily(commands.GroupCog, group_name="daily", group_description="Daily reflections"):
    """/daily: reflections posted on schedules, each in a channel at a local time."""

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
        log.info("Left guild %s: its daily schedules are removed", guild.id)
        self.scheduler.wake()

    @commands.Cog.listener()
    async def on_guild_channel_delete(self, channel: discord.abc.GuildChannel) -> None:
        now = int(self.bot.clock().timestamp())
        reason = f"The daily channel #{channel.name} was deleted."
        if await self.store.pause_channel(channel.id, reason, now):
            log.info("Channel %s deleted: its daily schedules are paused", channel.id)
            self.scheduler.wake()

    # ------------------------------------------------------------------ commands

    @app_commands.command(name="set")
    @app_commands.describe(
        channel="Where to post: a text, announcement, forum or media channel",
        time="Local time, 24-hour clock HH:MM (e.g. 09:00)",
        timezone="Time zone: start typing a city, e.g. Berlin or New York",
        role="A role to ping with each post (only this role is mentioned)",
        thread="Open a discussion thread on each post (forum posts are threads already)",
        card="Attach the day's passage as a quote card (an image)",
        name="The schedule's name (default: daily); a new name adds a schedule",
        days="every day, weekdays, weekends, or days such as mon,wed,fri",
        document="Only passages of this document",
        kind="Only passages of this kind",
    )
    async def set_(
        self,
        interaction: Interaction,
        channel: discord.TextChannel | discord.ForumChannel,
        time: app_commands.Range[str, 1, 8],
        timezone: app_commands.Range[str, 1, 64],
        role: discord.Role | None = None,
        thread: bool = False,
        card: bool | None = None,
        name: ScheduleName | None = None,
        days: app_commands.Range[str, 1, 100] | None = None,
        document: app_commands.Range[str, 1, 100] | None = None,
        kind: Literal["poem", "essay", "journal", "thread"] | None = None,
    ) -> None:
        """Post a reflection in a channel at a local time, every day or on chosen days."""
        options = SetOptions(time, timezone, role, thread, card, name, days, document, kind)
        await self._answer(interaction, self._set(interaction, channel, options))

    async def _set(
        self,
        interaction: Interaction,
        channel: discord.TextChannel | discord.ForumChannel,
        o: SetOptions,
    ) -> Reply:
        guild = channel.guild
        forum = channel if isinstance(channel, discord.ForumChannel) else None
        media = forum is not None and forum.is_media()
        card = media if o.card is None else o.card
        missing = missing_permissions(channel, guild.me, thread=o.thread, card=card)
        tag = post_tag(forum) if forum else None
        if forum and untaggable(forum):
            raise UserError(
                f"{channel.mention} requires a tag on each post, and has none Lectern may apply. "
                "Add a tag that is not moderator-only in the forum's settings, then try again."
            )
        note = None
        if o.role is not None:
            if o.role.is_default():
                raise UserError("Pick a role to ping, not @everyone.")
            if not o.role.mentionable and not channel.permissions_for(guild.me).mention_everyone:
                note = (
                    f"Note: {o.role.mention} is not mentionable, so the mention will show but "
                    "not notify. Make it mentionable under Server Settings → Roles."
                )
        return await self.commands.set(
            guild_id=guild.id,
            user_id=interaction.user.id,
            where=Placement(
                channel.id,
                forum=forum is not None,
                media=media,
                missing=tuple(missing),
                tag=tag.name if tag else None,
            ),
            time_text=o.time,
            zone_text=o.timezone,
            role_id=o.role.id if o.role else None,
            role_note=note,
            thread=o.thread,
            card=o.card,
            name=o.name,
            days_text=o.days,
            document=o.document,
            kind=o.kind,
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

    @set_.autocomplete("name")
    async def _set_names(self, interaction: Interaction, current: str) -> Choices:
        return await self._names(interaction, current)

    @set_.autocomplete("document")
    async def _documents(self, interaction: Interaction, current: str) -> Choices:
        return await _complete(lambda: self.commands.complete_documents(current))

    async def _names(self, interaction: Interaction, current: str) -> Choices:
        guild_id = interaction.guild_id
        if guild_id is None:
            return []
        return await _complete(lambda: self.commands.complete_names(guild_id, current))

    @app_commands.command(name="list")
    async def list_(self, interaction: Interaction) -> None:
        """Every daily schedule of this server: where, when, what, and the next post."""
        await self._answer(interaction, self.commands.list_schedules(_guild_id(interaction)))

    @app_commands.command()
    @app_commands.describe(name="Which schedule (needed when the server has several)")
    @app_commands.autocomplete(name=_names)
    async def status(self, interaction: Interaction, name: ScheduleName | None = None) -> None:
        """Where and when a schedule posts, its next and last post, and any error."""
        guild = interaction.guild

        def is_forum(channel_id: int) -> bool:
            channel = guild.get_channel(channel_id) if guild else None
            return isinstance(channel, discord.ForumChannel)

        work = self.commands.status(_guild_id(interaction), name, is_forum=is_forum)
        await self._answer(interaction, work)

    @app_commands.command()
    @app_commands.describe(name="Which schedule (needed when the server has several)")
    @app_commands.autocomplete(name=_names)
    async def preview(self, interaction: Interaction, name: ScheduleName | None = None) -> None:
        """Show a schedule's next reflection as it will look (only to you; nothing is posted)."""
        await self._answer(interaction, self.commands.preview(_guild_id(interaction), name))

    @app_commands.command()
    @app_commands.describe(name="Which schedule (needed when the server has several)")
    @app_commands.autocomplete(name=_names)
    async def off(self, interaction: Interaction, name: ScheduleName | None = None) -> None:
        """Stop one daily schedule here (its history is kept)."""
        await self._answer(interaction, self.commands.off(_guild_id(interaction), name))

    @app_commands.command()
    @app_commands.describe(
        days="How many days back (default 14)",
        name="Which schedule (needed when the server has several)",
    )
    @app_commands.autocomplete(name=_names)
    async def history(
        self,
        interaction: Interaction,
        days: app_commands.Range[int, 1, 60] = 14,
        name: ScheduleName | None = None,
    ) -> None:
        """What a schedule posted (or missed) recently."""
        await self._answer(interaction, self.commands.history(_guild_id(interaction), days, name))


async def setup(bot: LecternBot) -> None:
    await bot.add_cog(Daily(bot))
