"""The scheduler loop: a database that fails is retried ever more slowly without flooding the
log, and schedules a run leaves due never hide the others."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.db import Database
from bot.daily.scheduler import MAX_BACKOFF_SECONDS, Scheduler, retry_delay
from tests.conftest import services_for
from tests.test_daily_store import FakePoster


def test_retry_delays_double_from_the_poll_up_to_a_ceiling() -> None:
    assert retry_delay(0, 5) == 5
    assert [retry_delay(n, 5) for n in range(1, 6)] == [5, 10, 20, 40, 80]
    assert retry_delay(7, 5) == MAX_BACKOFF_SECONDS == retry_delay(10**6, 5)


class RecordingWakeup:
    """The scheduler's wake-up, recording how long it is asked to sleep (and not sleeping)."""

    def __init__(self, stop_after: int) -> None:
        self.delays: list[float] = []
        self.stop_after = stop_after
        self.before_sleep = lambda: None

    def __call__(self) -> None:
        pass

    def clear(self) -> None:
        pass

    async def wait(self, seconds: float) -> None:
        self.delays.append(seconds)
        self.before_sleep()
        if len(self.delays) >= self.stop_after:
            raise asyncio.CancelledError
        await asyncio.sleep(0)


async def test_a_broken_database_backs_off_and_logs_one_traceback(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = await Database.open(tmp_path / "db.sqlite3")
    services = services_for(db)
    wakeup = RecordingWakeup(stop_after=6)
    scheduler = Scheduler(
        services.daily_runner,
        services.daily_store,
        FakePoster(),
        clock=lambda: datetime.now(UTC),
        shards=lambda: None,
        wakeup=wakeup,  # type: ignore[arg-type]
    )
    await db.close()  # every query from now on fails, as with a vanished disk

    async def ready() -> None:
        return None

    with caplog.at_level(logging.INFO, "bot.daily.scheduler"):
        with contextlib.suppress(asyncio.CancelledError):
            await scheduler.run_forever(ready)
    assert wakeup.delays == [retry_delay(n) for n in range(1, 7)]
    records = [r for r in caplog.records if r.name == "bot.daily.scheduler"]
    assert sum(r.exc_info is not None for r in records) == 1  # one traceback, then one-liners
    assert "failed again (6 in a row" in records[-1].getMessage()


async def test_after_a_failure_the_scheduler_polls_normally_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with await Database.open(tmp_path / "db.sqlite3") as db:
        services = services_for(db)
        wakeup = RecordingWakeup(stop_after=4)
        store = services.daily_store
        real = store.earliest_due
        calls = {"n": 0}

        async def flaky(*args: object) -> object:
            calls["n"] += 1
            if calls["n"] <= 2:
                raise OSError("disk I/O error")
            return await real(*args)  # type: ignore[arg-type]

        store.earliest_due = flaky  # type: ignore[method-assign]
        scheduler = Scheduler(
            services.daily_runner, store, FakePoster(), clock=lambda: datetime.now(UTC),
            shards=lambda: None, wakeup=wakeup,  # type: ignore[arg-type]
        )  # fmt: skip

        async def ready() -> None:
            return None

        with caplog.at_level(logging.INFO, "bot.daily.scheduler"):
            with contextlib.suppress(asyncio.CancelledError):
                await scheduler.run_forever(ready)
    assert wakeup.delays == [retry_delay(1), retry_delay(2), scheduler.poll_seconds,
                             scheduler.poll_seconds]  # fmt: skip
    assert any("works again after 2 failures" in r.getMessage() for r in caplog.records)


async def test_schedules_left_due_by_their_run_do_not_hide_the_others(tmp_path: Path) -> None:
    """A whole page of schedules whose runs cannot advance them (say, each lost a race with an
    edit) must not stop this wake-up from reaching the schedules behind them."""
    from bot.daily.model import Schedule
    from bot.daily.scheduler import BATCH

    due = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    async with await Database.open(tmp_path / "db.sqlite3") as db:
        services = services_for(db)
        store = services.daily_store
        count = BATCH * 2 + 30
        for guild in range(1, count + 1):
            schedule = Schedule(guild_id=guild, channel_id=guild, local_time="09:00", zone="UTC",
                                role_id=None, thread=False, next_date="2026-12-02",
                                next_due=int(due.timestamp()))  # fmt: skip
            await store.save_schedule(schedule, int(due.timestamp()) - 60)
        first_page = {s.key for s in await store.due(int(due.timestamp()), None, BATCH)}
        seen: list[tuple[int, str]] = []

        class StuckOrDone:
            async def run_one(self, schedule: Schedule, now: datetime, poster: object) -> str:
                seen.append(schedule.key)
                if schedule.key in first_page:
                    return "stuck"  # left due, exactly as it was
                await store.retry_later(schedule.key, int(now.timestamp()) + 86_400, 0, "", 0,
                                        revision=schedule.revision)  # fmt: skip
                return "done"

        scheduler = Scheduler(
            StuckOrDone(), store, FakePoster(), clock=lambda: due,  # type: ignore[arg-type]
            shards=lambda: None, wakeup=RecordingWakeup(1),  # type: ignore[arg-type]
        )  # fmt: skip
        outcomes = await scheduler.run_due(due)
    assert len(seen) == len(set(seen)) == count  # each once, the stuck ones included
    assert outcomes.count("stuck") == BATCH and outcomes.count("done") == count - BATCH
