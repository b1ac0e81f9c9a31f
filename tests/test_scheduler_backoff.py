"""A scheduler whose database fails keeps trying, ever more slowly, without flooding the log,
and says when it works again."""

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
