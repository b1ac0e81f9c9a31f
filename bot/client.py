"""The Discord bot: a ``commands.Bot`` with Lectern's store, service and start-up sequence."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from .config import Settings
from .corpus import CorpusError
from .discord_ui import LecternButton, describe, send, send_apology
from .ingest import sync_corpus
from .service import Cooldown, Lectern, error_reply
from .store import Store

log = logging.getLogger(__name__)

#: Extensions are listed, not discovered, so what runs is what this file says.
EXTENSIONS = ("bot.cogs.reading",)


class StartupError(Exception):
    """The bot cannot start; the message says what to do."""


class LecternTree(app_commands.CommandTree["LecternBot"]):
    """The command tree: a per-user cooldown, and one handler for every command error."""

    async def interaction_check(self, interaction: discord.Interaction[LecternBot]) -> bool:
        if interaction.type != discord.InteractionType.application_command:
            return True
        wait = interaction.client.cooldown.retry_after(interaction.user.id)
        if wait > 0:
            await send(interaction, error_reply(f"Easy there: try again in {wait:.0f} s."))
            return False
        return True

    async def on_error(
        self, interaction: discord.Interaction[LecternBot], error: app_commands.AppCommandError
    ) -> None:
        bot = interaction.client
        if isinstance(error, app_commands.TransformerError | app_commands.CheckFailure):
            bot.counters["answered"] += 1
            message = (
                str(error)
                if isinstance(error, app_commands.CheckFailure)
                else (f"That value is not one I can use: {error.value!r}.")
            )
            if isinstance(error, app_commands.NoPrivateMessage):
                message = "This command only works in a server."
            await send(interaction, error_reply(message))
            return
        bot.counters["failed"] += 1
        log.error("Unexpected error in %s", describe(interaction), exc_info=error)
        if interaction.type != discord.InteractionType.autocomplete:
            await send_apology(interaction)


class LecternBot(commands.Bot):
    """Lectern on Discord. Owns nothing it did not create: the store is handed in."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        intents = discord.Intents.none()
        intents.guilds = True  # channels and our own permissions; no privileged intent
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            allowed_mentions=discord.AllowedMentions.none(),  # a passage never pings anyone
            tree_cls=LecternTree,
            help_command=None,
        )
        self.settings = settings
        self.store = store
        self.lectern = Lectern(store)
        self.cooldown = Cooldown(settings.cooldown_seconds)
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self.started = time.monotonic()
        self.counters: Counter[str] = Counter()

    async def setup_hook(self) -> None:
        await self.load_corpus()
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        self.add_dynamic_items(LecternButton)
        if self.settings.dev_guild_id:
            guild = discord.Object(self.settings.dev_guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            log.info("Synced %d commands to the development guild %s", len(synced), guild.id)

    async def load_corpus(self) -> None:
        """Ingest the passages folder if it changed. An invalid folder keeps the old corpus;
        with no corpus at all to fall back on, it stops the start."""
        try:
            await sync_corpus(self.store, self.settings.passages_dir)
        except CorpusError as error:
            problems = "\n".join(f"  {p}" for p in error.problems)
            if (await self.store.stats()).passages == 0:
                raise StartupError(
                    f"the passages folder is invalid and there is no earlier corpus to serve; "
                    f"fix these and start again (lectern ingest --check):\n{problems}"
                ) from error
            log.error("Passages folder invalid; still serving the previous corpus:\n%s", problems)
        self.lectern.forget_cached_documents()

    async def on_ready(self) -> None:
        assert self.user is not None
        log.info("Ready as %s in %d servers", self.user, len(self.guilds))

    async def on_error(self, event_method: str, /, *args: Any, **kwargs: Any) -> None:
        log.exception("Unhandled error in %s", event_method)


async def run_bot(settings: Settings) -> None:
    """Open the store and run the bot until it is stopped."""
    assert settings.token
    discord.utils.setup_logging(level=logging.getLevelName(settings.log_level), root=True)
    async with await Store.open(settings.db_path) as store:
        bot = LecternBot(settings, store)
        try:
            async with bot:
                await bot.start(settings.token)
        except discord.LoginFailure:
            raise StartupError(
                "Discord refused the token: copy it again from the Developer Portal "
                "(Bot → Reset Token) into DISCORD_TOKEN"
            ) from None
        except discord.PrivilegedIntentsRequired:  # pragma: no cover - Lectern asks for none
            raise StartupError("Discord requires privileged intents Lectern does not use") from None
