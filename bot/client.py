"""The Discord bot: a ``commands.Bot`` with Lectern's store, service and start-up sequence."""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from .admin import Actor, AdminService, RuntimeStats
from .config import Settings
from .corpus import CorpusError
from .discord_ui import LecternButton, describe, send, send_apology
from .ingest import sync_corpus
from .logs import configure_logging
from .service import Cooldown, Lectern, error_reply
from .store import Store

log = logging.getLogger(__name__)

#: Extensions are listed, not discovered, so what runs is what this file says.
EXTENSIONS = (
    "bot.cogs.reading",
    "bot.cogs.admin",
    "bot.cogs.daily",
)


async def no_daily_counts() -> dict[str, int]:
    return {}


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
            # None: discord.py asks Discord for the application's owner or team members.
            owner_ids=set(settings.owner_ids) or None,
        )
        self.settings = settings
        self.store = store
        self.lectern = Lectern(store)
        self.admin = AdminService(store, settings, self.lectern)
        #: Interactions being answered: shutdown lets them finish.
        self.inflight: set[asyncio.Task[Any]] = set()
        self._background: set[asyncio.Task[Any]] = set()
        #: Daily posts by outcome and schedules by state, for /admin stats (set by the daily cog).
        self.daily_counts: Callable[[], Awaitable[dict[str, int]]] = no_daily_counts
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

    async def runtime_stats(self) -> RuntimeStats:
        latency = self.latency * 1000 if self.latency == self.latency else None  # NaN at start
        daily = await self.daily_counts()
        return RuntimeStats(
            uptime_seconds=time.monotonic() - self.started,
            guilds=len(self.guilds),
            latency_ms=latency,
            answered=self.counters["answered"],
            failed=self.counters["failed"],
            daily=daily,
        )

    def spawn(self, coroutine: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """Run ``coroutine`` in the background, keeping a reference and logging its failure."""
        task = asyncio.create_task(coroutine, name=name)
        self._background.add(task)

        def done(finished: asyncio.Task[Any]) -> None:
            self._background.discard(finished)
            if not finished.cancelled() and finished.exception() is not None:
                log.error("Background task %s failed", name, exc_info=finished.exception())

        task.add_done_callback(done)
        return task

    async def reload_on_signal(self) -> None:
        """SIGHUP: reload the corpus as /admin reload would, and log the outcome."""
        reply = await self.admin.reload(Actor("SIGHUP"))
        card = reply.cards[0]
        log.info("SIGHUP reload: %s. %s", card.title, card.description.replace("\n", " "))

    async def shutdown(self, reason: str, grace: float = 10.0) -> None:
        """Stop cleanly: let in-flight interactions finish, then close (cogs unload, loops stop)."""
        log.info("Shutting down (%s)", reason)
        pending = {t for t in self.inflight if t is not asyncio.current_task()}
        if pending:
            await asyncio.wait(pending, timeout=grace)
        await self.close()

    async def on_ready(self) -> None:
        assert self.user is not None
        log.info("Ready as %s in %d servers", self.user, len(self.guilds))

    async def on_error(self, event_method: str, /, *args: Any, **kwargs: Any) -> None:
        log.exception("Unhandled error in %s", event_method)


def install_signal_handlers(bot: LecternBot) -> Callable[[], None]:
    """SIGHUP reloads the corpus; SIGINT and SIGTERM shut down cleanly. Returns an undo."""
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGHUP, lambda: bot.spawn(bot.reload_on_signal(), "sighup"))

    def stop(sig: signal.Signals) -> None:
        bot.spawn(bot.shutdown(sig.name), "shutdown")

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop, sig)

    def undo() -> None:
        for sig in (signal.SIGHUP, signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)

    return undo


async def run_bot(settings: Settings) -> None:
    """Open the store and run the bot until it is stopped."""
    assert settings.token
    configure_logging(settings)
    async with await Store.open(settings.db_path) as store:
        bot = LecternBot(settings, store)
        try:
            async with bot:
                undo = install_signal_handlers(bot)
                try:
                    await bot.start(settings.token)
                finally:
                    undo()
        except discord.LoginFailure:
            raise StartupError(
                "Discord refused the token: copy it again from the Developer Portal "
                "(Bot → Reset Token) into DISCORD_TOKEN"
            ) from None
        except discord.PrivilegedIntentsRequired:  # pragma: no cover - Lectern asks for none
            raise StartupError("Discord requires privileged intents Lectern does not use") from None


async def sync_commands(settings: Settings, guild_id: int | None = None) -> int:
    """``lectern sync``: log in over HTTP only and publish the commands (global or one guild)."""
    assert settings.token
    async with await Store.open(settings.db_path) as store:
        bot = LecternBot(settings, store)
        async with bot:
            try:
                await bot.login(settings.token)  # runs setup_hook: corpus, extensions
            except discord.LoginFailure:
                raise StartupError("Discord refused the token in DISCORD_TOKEN") from None
            guild = discord.Object(guild_id) if guild_id else None
            if guild is not None:
                bot.tree.copy_global_to(guild=guild)
            synced = await bot.tree.sync(guild=guild)
            where = f"guild {guild_id}" if guild_id else "global"
            await bot.admin.record(Actor("shell"), f"sync {where}", "ok", f"{len(synced)} commands")
            return len(synced)
