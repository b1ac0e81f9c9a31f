"""/admin: owner-only operations, registered only in the owners' server (LECTERN_DEV_GUILD_ID).

Why not global: every server's administrators would see an /admin group they can never use.
Discord's ``default_member_permissions`` is only a hint that server admins can loosen, so the
owner check runs in code on every call.
"""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands

from ..admin import Actor
from ..client import LecternBot
from ..discord_ui import answer
from ..render import Card, Reply

log = logging.getLogger(__name__)

Interaction = discord.Interaction[LecternBot]
DAILY_CREATE_BUDGET = 200


class NotOwner(app_commands.CheckFailure):
    def __str__(self) -> str:
        return "Only Lectern's owners can use /admin."


async def is_owner(interaction: Interaction) -> bool:
    if await interaction.client.is_owner(interaction.user):
        return True
    await interaction.client.admin.record(
        actor_of(interaction),
        f"/{interaction.command.qualified_name if interaction.command else 'admin'}",
        "refused",
        "not an owner",
    )
    raise NotOwner


def actor_of(interaction: Interaction) -> Actor:
    return Actor(str(interaction.user), interaction.user.id, interaction.guild_id)


@app_commands.default_permissions()  # hidden from everyone but server administrators...
@app_commands.guild_only()
class AdminGroup(app_commands.Group, name="admin", description="Owner operations"):
    """...and checked in code, since admins can loosen the hint."""

    def __init__(self, bot: LecternBot) -> None:
        super().__init__()
        self.bot = bot

    async def interaction_check(self, interaction: Interaction) -> bool:  # type: ignore[override]
        return await is_owner(interaction)

    @app_commands.command()
    @app_commands.describe(dry_run="Only validate and show what would change")
    async def reload(self, interaction: Interaction, dry_run: bool = False) -> None:
        """Re-read the passages folder and swap it in if every file is valid."""
        await answer(
            interaction,
            self.bot.admin.reload(actor_of(interaction), dry_run=dry_run),
            bot=self.bot,
            ephemeral_hint=True,
        )

    @app_commands.command()
    async def stats(self, interaction: Interaction) -> None:
        """Version, uptime, servers, corpus, database and what the bot has done."""
        await answer(
            interaction,
            self._stats(),
            bot=self.bot,
            ephemeral_hint=True,
        )

    async def _stats(self) -> Reply:
        return await self.bot.admin.stats(await self.bot.runtime_stats())

    @app_commands.command()
    @app_commands.describe(
        scope="global: every server (slow to appear); guild: this server only, at once",
        confirm="Go ahead even if Discord counts new commands against its daily budget",
    )
    async def sync(
        self,
        interaction: Interaction,
        scope: str = "global",
        confirm: bool = False,
    ) -> None:
        """Publish the application commands to Discord."""
        await answer(
            interaction, self._sync(interaction, scope, confirm), bot=self.bot, ephemeral_hint=True
        )

    @sync.autocomplete("scope")
    async def _scopes(
        self, interaction: Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=s, value=s) for s in ("global", "guild") if current in s]

    async def _sync(self, interaction: Interaction, scope: str, confirm: bool) -> Reply:
        from ..service import UserError

        if scope not in {"global", "guild"}:
            raise UserError("scope must be global or guild.")
        guild = (
            discord.Object(interaction.guild_id)
            if scope == "guild" and interaction.guild_id
            else None
        )
        if guild is not None:
            self.bot.tree.copy_global_to(guild=guild)
        local = {c.name for c in self.bot.tree.get_commands(guild=guild)}
        remote = {c.name for c in await self.bot.tree.fetch_commands(guild=guild)}
        new = sorted(local - remote)
        if new and not confirm:
            text = (
                f"This sync creates {len(new)} new command(s): {', '.join(new)}. Discord allows "
                f"{DAILY_CREATE_BUDGET} command creations per day per server; run "
                "`/admin sync confirm:True` to go ahead."
            )
            return Reply(cards=(Card(title="Confirm the sync", description=text),), ephemeral=True)
        synced = await self.bot.tree.sync(guild=guild)
        where = "globally" if guild is None else "to this server"
        await self.bot.admin.record(
            actor_of(interaction), f"sync {scope}", "ok", f"{len(synced)} commands"
        )
        text = f"Synced {len(synced)} commands {where}" + (f" ({len(new)} new)." if new else ".")
        return Reply(cards=(Card(title="Commands synced", description=text),), ephemeral=True)


async def setup(bot: LecternBot) -> None:
    if bot.settings.dev_guild_id is None:
        log.info("LECTERN_DEV_GUILD_ID is not set: /admin is not registered; use the lectern CLI")
        return
    group: Any = AdminGroup(bot)
    bot.tree.add_command(group, guild=discord.Object(bot.settings.dev_guild_id))
