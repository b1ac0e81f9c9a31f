"""What a failed daily post does to its schedule: pause, retry with backoff, or give up on
the day. Kept apart from the posting state machine in :mod:`bot.daily.runner`."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta

from .model import FAILED, Schedule
from .posting import PostBlocked, PostTransient
from .state import DailyState
from .timing import unix

log = logging.getLogger(__name__)

#: Waits between retries after transient errors (the last one repeats), within the grace period.
RETRY_DELAYS = tuple(timedelta(seconds=s) for s in (30, 60, 120, 300, 600, 1800))


class Failures:
    """Records a failed post: a blocked one pauses its schedule (never retried in a loop), a
    transient one is retried with backoff within the grace period, anything else fails the
    day and the schedule moves on (by ``advance``)."""

    def __init__(
        self,
        store: DailyState,
        grace: timedelta,
        advance: Callable[[Schedule, datetime, datetime], Awaitable[None]],
    ) -> None:
        self.store = store
        self.grace = grace
        self.advance = advance

    async def __call__(
        self, schedule: Schedule, day: date, due: datetime, now: datetime, error: Exception
    ) -> str:
        key, text = schedule.key, str(error)
        if isinstance(error, PostBlocked):
            # Paused until someone fixes it and runs /daily set.
            await self.store.record_outcome(
                key, day.isoformat(), FAILED, due_at=unix(due), error=text,
                channel_id=schedule.channel_id,
            )  # fmt: skip
            await self.store.pause(key, text, unix(now), revision=schedule.revision)
            log.warning("Daily reflections %s paused: %s", key, text)
            return "paused"
        if isinstance(error, PostTransient):
            attempts = schedule.attempts + 1
            retry_at = now + RETRY_DELAYS[min(attempts - 1, len(RETRY_DELAYS) - 1)]
            if retry_at - due <= self.grace:
                await self.store.retry_later(
                    key, unix(retry_at), attempts, text, unix(now), revision=schedule.revision
                )
                log.info("Daily post %s failed (%s); retry %s", key, text, retry_at)
                return "retrying"
            text = f"gave up after {attempts} attempts: {text}"
        await self.store.record_outcome(
            key, day.isoformat(), FAILED, due_at=unix(due), error=text,
            channel_id=schedule.channel_id,
        )  # fmt: skip
        await self.store.note_error(key, text, unix(now))
        await self.advance(schedule, due, now)
        return "failed"
