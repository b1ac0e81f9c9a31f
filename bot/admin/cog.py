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

from ..core.reply import Reply
from ..discord.answer import answer
from ..discord.bot import LecternBot
from .audit import Actor
from .sync import SCOPES, check_scope, confirm_reply, new_commands, synced_reply

log = logging.getLogger(__name__)

Interaction = discord.Interaction[LecternBot]


class NotOwner(app_commands.CheckFailure):
    def __str__(self) -> str:
        return "Only Lectern's owners can use /admin."


def actor_of(interaction: Interaction) -> Actor:
    return Actor(str(interaction.user), interaction.user.id, interaction.guild_id)


@app_commands.default_permissions()  # hidden from everyone but server administrators...
@app_commands.guild_only()
@app_commands.allowed_installs(guilds=True, users=False)
@app_commands.allowed_contexts(guilds=True, dms=False, private_channels=False)
class AdminGroup(app_commands.Group, name="admin", description="Owner operations"):
    """...and checked in code, since admins can loosen the hint."""

    def __init__(self, bot: LecternBot) -> None:
        super().__init__()
        self.bot = bot
        self.admin = bot.services.admin

    async def interaction_check(self, interaction: Interaction) -> bool:  # type: ignore[override]
        if await self.bot.is_owner(interaction.user):
            return True
        name = interaction.command.qualified_name if interaction.command else "admin"
        await self.bot.services.audit.record(
            actor_of(interaction), f"/{name}", "refused", "not an owner"
        )
        raise NotOwner

    @app_commands.command()
    @app_commands.describe(dry_run="Only validate and show what would change")
    async def reload(self, interaction: Interaction, dry_run: bool = False) -> None:
        """Re-read the passages folder and swap it in if every file is valid."""
        work = self.admin.reload(actor_of(interaction), dry_run=dry_run)
        await answer(interaction, work, bot=self.bot, ephemeral_hint=True)

    @app_commands.command()
    async def stats(self, interaction: Interaction) -> None:
        """Version, uptime, servers, corpus, database and what the bot has done."""
        await answer(interaction, self._stats(), bot=self.bot, ephemeral_hint=True)

    async def _stats(self) -> Reply:
        return await self.admin.stats(await self.bot.runtime_stats())

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
        work = self._sync(interaction, scope, confirm)
        await answer(interaction, work, bot=self.bot, ephemeral_hint=True)

    @sync.autocomplete("scope")
    async def _scopes(
        self, interaction: Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=s, value=s) for s in SCOPES if current in s]

    async def _sync(self, interaction: Interaction, scope: str, confirm: bool) -> Reply:
        check_scope(scope)
        guild = (
            discord.Object(interaction.guild_id)
            if scope == "guild" and interaction.guild_id
            else None
        )
        tree = self.bot.tree
        if guild is not None:
            tree.copy_global_to(guild=guild)
        local = [c.name for c in tree.get_commands(guild=guild)]
        new = new_commands(local, [c.name for c in await tree.fetch_commands(guild=guild)])
        if new and not confirm:
            return confirm_reply(new)
        synced = await tree.sync(guild=guild)
        detail = f"{len(synced)} commands"
        await self.bot.services.audit.record(actor_of(interaction), f"sync {scope}", "ok", detail)
        return synced_reply(len(synced), new, scope="global" if guild is None else "guild")


async def setup(bot: LecternBot) -> None:
    if bot.settings.dev_guild_id is None:
        log.info("LECTERN_DEV_GUILD_ID is not set: /admin is not registered; use the lectern CLI")
        return
    group: Any = AdminGroup(bot)
    bot.tree.add_command(group, guild=discord.Object(bot.settings.dev_guild_id))
