"""The scheduler loop, without discord.py: sleep until the earliest due schedule of this
process's shards (an indexed query), wake early when a schedule changes, and hand each due
schedule to the :class:`~bot.daily.runner.DailyRunner` with the poster it was given."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from .model import Schedule, ShardFilter
from .posting import Poster
from .runner import DailyRunner
from .state import DailyState
from .timing import unix

log = logging.getLogger(__name__)

#: Schedules handled per query, and at once.
BATCH = 100
CONCURRENCY = 8
#: Longest sleep between checks: a schedule changed by another process of a cluster or by
#: the shell (nothing wakes this one) is noticed within this many seconds. Each check is two
#: indexed queries. The shortest sleep keeps errors from spinning.
POLL_SECONDS = 5.0
MIN_SLEEP = 1.0
#: Longest wait after repeated failures (the database gone, the disk full): one traceback in
#: the log, then a line per retry, doubling from POLL_SECONDS up to this.
MAX_BACKOFF_SECONDS = 300.0


def retry_delay(failures: int, poll: float = POLL_SECONDS) -> float:
    """Seconds to wait after ``failures`` failed wake-ups in a row (0: the normal poll)."""
    if failures <= 0:
        return poll
    return min(MAX_BACKOFF_SECONDS, poll * float(2 ** min(failures - 1, 32)))


class Wakeup:
    """Tells a sleeping scheduler that schedules changed (``/daily set``, ``off``, a removal)."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def __call__(self) -> None:
        self._event.set()

    def clear(self) -> None:
        self._event.clear()

    async def wait(self, seconds: float) -> None:
        """Until woken, or ``seconds`` pass."""
        # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation that
        # arrives as the event fires, and the loop would then outlive its cog.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._event.wait()


class Scheduler:
    """Posts due reflections. ``run_due(now)`` is one wake-up; ``run_forever`` the loop."""

    def __init__(
        self,
        runner: DailyRunner,
        store: DailyState,
        poster: Poster,
        *,
        clock: Callable[[], datetime],
        shards: Callable[[], ShardFilter | None],
        wakeup: Wakeup,
    ) -> None:
        self.runner = runner
        self.store = store
        self.poster = poster
        self.clock = clock
        self.shards = shards
        self.wakeup = wakeup
        self.poll_seconds = POLL_SECONDS
        self._lock = asyncio.Lock()

    def wake(self) -> None:
        """A schedule changed: recompute the next wake-up now."""
        self.wakeup()

    async def run_due(self, now: datetime | None = None) -> list[str]:
        """Handle every schedule due at ``now`` (default: the clock); the outcomes."""
        async with self._lock:
            now = now or self.clock()
            shards = self.shards()
            outcomes: list[str] = []
            handled: set[tuple[int, str, str, int]] = set()
            limit = asyncio.Semaphore(CONCURRENCY)

            async def one(schedule: Schedule) -> str:
                async with limit:
                    return await self._run_one(schedule, now)

            while True:
                # Rows handled but still due (a run that could not advance them) come first in
                # every page: ask for that many more, so they never hide the rest.
                batch = await self.store.due(unix(now), shards, BATCH + len(handled))
                fresh = [s for s in batch if (*s.key, s.next_date, s.next_due) not in handled]
                if not fresh:
                    return outcomes
                handled.update((*s.key, s.next_date, s.next_due) for s in fresh)
                outcomes.extend(await asyncio.gather(*(one(s) for s in fresh)))

    async def _run_one(self, schedule: Schedule, now: datetime) -> str:
        try:
            return await self.runner.run_one(schedule, now, self.poster)
        except Exception:
            log.exception("Daily post %s failed", schedule.key)
            retry = unix(now + timedelta(minutes=1))
            await self.store.retry_later(
                schedule.key,
                retry,
                schedule.attempts + 1,
                "internal error",
                unix(now),
                revision=schedule.revision,
            )
            return "error"

    async def run_forever(self, ready: Callable[[], Awaitable[None]]) -> None:
        """Wait for ``ready``, then post what is due, sleep until the next, forever."""
        await ready()
        failures = 0
        while True:
            self.wakeup.clear()
            try:
                await self.run_due()
                earliest = await self.store.earliest_due(self.shards())
            except Exception as error:
                failures += 1
                delay = retry_delay(failures, self.poll_seconds)
                if failures == 1:
                    log.exception("The daily scheduler failed; trying again in %.0f s", delay)
                else:
                    log.error("The daily scheduler failed again (%d in a row: %s); trying again "
                              "in %.0f s", failures, error, delay)  # fmt: skip
                await self.wakeup.wait(delay)
                continue
            if failures:
                log.info("The daily scheduler works again after %d failures", failures)
                failures = 0
            delay = self.poll_seconds
            if earliest is not None:
                until_due = earliest - self.clock().timestamp()
                delay = min(max(until_due, min(MIN_SLEEP, self.poll_seconds)), self.poll_seconds)
            await self.wakeup.wait(delay)
