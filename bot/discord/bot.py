"""The Discord bot, and the one composition root: it builds every service (through
:func:`bot.services.build_services`) and the Discord-side daily poster and scheduler, then hands
them to the cogs, which only translate between Discord and the services."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

import discord
from discord.ext import commands

from ..admin.audit import Actor
from ..admin.replies import RuntimeStats
from ..config import Settings
from ..core.db import Database
from ..core.locks import LockHeld
from ..core.pacing import Pacer
from ..corpus.ingest import sync_corpus
from ..corpus.model import CorpusError
from ..daily.model import ShardFilter
from ..daily.scheduler import Scheduler
from ..reading.service import Clicker
from ..services import build_services
from .answer import answer
from .convert import LecternButton
from .poster import DAILY_REQUESTS_PER_SECOND, DiscordPoster
from .tree import LecternTree

log = logging.getLogger(__name__)

#: Extensions are listed, not discovered, so what runs is what this file says.
EXTENSIONS = ("bot.reading.cog", "bot.admin.cog", "bot.daily.cog")
#: How long start-up waits for another process of a cluster that is ingesting the corpus.
STARTUP_LOCK_WAIT = 600.0
#: How often old button state is pruned (also once at start).
MAINTENANCE_SECONDS = 24 * 3600


class StartupError(Exception):
    """The bot cannot start; the message says what to do."""


class DiscordUnreachable(StartupError):
    """Discord could not be reached (network, DNS, an outage): worth trying again later."""


def daily_request_rate(settings: Settings) -> float:
    """This process's share of the daily posts' request budget: Discord's limit is per bot, so
    a process running a quarter of the cluster's shards paces at a quarter of the rate."""
    if settings.shard_count is None or settings.shard_ids is None:
        return DAILY_REQUESTS_PER_SECOND
    return DAILY_REQUESTS_PER_SECOND * len(settings.shard_ids) / settings.shard_count


def _shard_options(settings: Settings) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if settings.shard_count is not None:
        options["shard_count"] = settings.shard_count
    if settings.shard_ids is not None:
        options["shard_ids"] = list(settings.shard_ids)
    return options


class LecternBot(commands.AutoShardedBot):
    """Lectern on Discord. Owns nothing it did not create: the database is handed in."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
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
            # No count: as many shards as Discord recommends (GET /gateway/bot), all run here.
            **_shard_options(settings),
        )
        self.settings = settings
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self.services = build_services(db, settings, clock=self.clock)
        self.scheduler = Scheduler(
            self.services.daily_runner,
            self.services.daily_store,
            DiscordPoster(self, Pacer(daily_request_rate(settings))),
            clock=self.clock,
            shards=self._shards,
            wakeup=self.services.schedules_changed,
        )
        #: Interactions being answered: shutdown lets them finish.
        self.inflight: set[asyncio.Task[Any]] = set()
        self._background: set[asyncio.Task[Any]] = set()
        self._maintenance_task: asyncio.Task[Any] | None = None
        self.started = time.monotonic()
        self.counters: Counter[str] = Counter()

    async def setup_hook(self) -> None:
        await self.load_corpus()
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        self.add_dynamic_items(LecternButton)
        self._maintenance_task = self.spawn(self._maintenance(), "maintenance")
        if self.settings.dev_guild_id:
            guild = discord.Object(self.settings.dev_guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            log.info("Synced %d commands to the development guild %s", len(synced), guild.id)

    async def load_corpus(self) -> None:
        """Ingest the passages folder if it changed. An invalid folder keeps the old corpus;
        with no corpus at all to fall back on, it stops the start."""
        try:
            report = await sync_corpus(
                self.services.db, self.settings.passages_dir, wait=STARTUP_LOCK_WAIT
            )
        except LockHeld as busy:  # another process of the cluster is still ingesting
            if await self.services.corpus.passage_count() == 0:
                raise StartupError(f"the corpus is still being ingested: {busy}") from busy
            log.warning("Not re-reading the passages folder (%s): serving the stored corpus", busy)
            return
        except CorpusError as error:
            problems = "\n".join(f"  {p}" for p in error.problems)
            if await self.services.corpus.passage_count() == 0:
                if len(error.problems) == 1 and error.problems[0].line == 0:
                    raise StartupError(
                        f"LECTERN_PASSAGES_DIR: {error.problems[0]}, and there is no earlier "
                        "corpus to serve"
                    ) from error
                raise StartupError(
                    f"the passages folder is invalid and there is no earlier corpus to serve; "
                    f"fix these and start again (lectern ingest --check):\n{problems}"
                ) from error
            log.error("Passages folder invalid; still serving the previous corpus:\n%s", problems)
            return
        for line in report.not_documents:
            log.warning("Passages folder: %s", line)

    async def _maintenance(self) -> None:
        while True:
            try:
                removed = await self.services.ui_state.prune()
            except Exception:  # e.g. a long shell ingest holds the lock: try again tomorrow
                log.exception("Could not prune button state")
            else:
                if removed:
                    log.info("Pruned %d unused button states", removed)
            await asyncio.sleep(MAINTENANCE_SECONDS)

    def _shards(self) -> ShardFilter | None:
        """The shards this process runs, for the scheduler: None when it runs them all."""
        count = self.shard_count
        if not count or count <= 1 or self.shard_ids is None:
            return None
        return ShardFilter(count, frozenset(self.shard_ids))

    async def answer_button(self, interaction: discord.Interaction[Any], custom_id: str) -> None:
        """A Lectern button was pressed: the reading service answers it."""
        message = interaction.message
        clicker = Clicker(
            user_id=interaction.user.id,
            private_message=bool(message is not None and message.flags.ephemeral),
        )
        await answer(interaction, self.services.reading.press(custom_id, clicker), bot=self)

    async def runtime_stats(self) -> RuntimeStats:
        latency = self.latency * 1000 if self.latency == self.latency else None  # NaN at start
        return RuntimeStats(
            uptime_seconds=time.monotonic() - self.started,
            guilds=len(self.guilds),
            latency_ms=latency,
            answered=self.counters["answered"],
            failed=self.counters["failed"],
            daily=await self.services.daily_stats.counts(),
            shards=self._shard_stats(),
            shard_count=self.shard_count or 1,
        )

    def _shard_stats(self) -> tuple[tuple[int, float | None, int], ...]:
        guilds = Counter(g.shard_id for g in self.guilds)
        return tuple(
            (sid, shard.latency * 1000 if math.isfinite(shard.latency) else None, guilds[sid])
            for sid, shard in sorted(self.shards.items())
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
        reply = await self.services.admin.reload(Actor("SIGHUP"))
        card = reply.cards[0]
        log.info("SIGHUP reload: %s. %s", card.title, card.description.replace("\n", " "))

    async def shutdown(self, reason: str, grace: float = 10.0) -> None:
        """Stop cleanly: let in-flight interactions finish, then close (cogs unload, loops stop)."""
        log.info("Shutting down (%s)", reason)
        pending = {t for t in self.inflight if t is not asyncio.current_task()}
        if pending:
            await asyncio.wait(pending, timeout=grace)
        await self.close()

    async def close(self) -> None:
        if self._maintenance_task is not None:
            self._maintenance_task.cancel()
        await self.services.search.close()
        await super().close()

    async def on_ready(self) -> None:
        log.info("Ready as %s in %d servers", self.user, len(self.guilds))

    async def on_error(self, event_method: str, /, *args: Any, **kwargs: Any) -> None:
        log.exception("Unhandled error in %s", event_method)
