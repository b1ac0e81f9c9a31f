"""Posting one server's reflection for one local date, exactly once.

Each step is recorded in SQLite before the next, so that a crash at any point neither skips
the day nor posts twice:

1. **intent**: the passage, the deterministic nonce and the attempt time are written.
2. **send**: the message goes out with that nonce. Discord returns the existing message
   instead of posting again when the same nonce is sent within a few minutes.
3. **sent** (or **late**): the message id is written; then the schedule moves to the next date.

Recovering an ``intent`` (a crash between 1 and 3, or a transient failure): within
:data:`NONCE_WINDOW` of the attempt, send again with the same nonce; later than that, first
look for the message in the channel (:meth:`Poster.find_sent`), and send only if it is not there.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from ..cards.service import CardService
from ..corpus.rows import StoredPassage
from ..reading.replies import reflection_title
from .model import FAILED, INTENT, LATE, MISSED, SENT, Post, Schedule
from .order import DailyPicker
from .posting import (
    PostBlocked,
    Poster,
    PostError,
    PostTransient,
    Sent,
    daily_message,
    make_nonce,
    thread_name,
)
from .store import DailyStore
from .timing import due_on, from_unix, next_due, parse_hhmm, unix

log = logging.getLogger(__name__)

#: Discord de-duplicates a repeated nonce "in the past few minutes"; count on less.
NONCE_WINDOW = timedelta(minutes=2)
#: A post sent later than this after its time is marked late.
LATE_AFTER = timedelta(minutes=5)
#: Waits between retries after transient errors (the last one repeats), within the grace period.
RETRY_DELAYS = tuple(timedelta(seconds=s) for s in (30, 60, 120, 300, 600, 1800))
#: Missed days recorded individually after a long downtime (older ones are just skipped).
MAX_MISSED_RECORDED = 31


def _sent_at(post: Post, now: datetime) -> datetime:
    """When a message found after a crash was sent: at its recorded attempt."""
    return from_unix(post.attempted_at) if post.attempted_at is not None else now


class DailyRunner:
    """The posting state machine: :meth:`run_one` handles one due schedule."""

    def __init__(
        self,
        store: DailyStore,
        picker: DailyPicker,
        *,
        grace: timedelta,
        outcomes: Counter[str] | None = None,
        cards: CardService | None = None,
    ) -> None:
        self.store = store
        self.picker = picker
        self.grace = grace
        self.cards = cards
        #: Outcomes since start, for /admin stats.
        self.outcomes: Counter[str] = Counter() if outcomes is None else outcomes

    async def _advance(self, schedule: Schedule, after: datetime, now: datetime) -> None:
        day, due = next_due(after, parse_hhmm(schedule.local_time), ZoneInfo(schedule.zone))
        await self.store.advance(schedule.guild_id, day.isoformat(), unix(due), unix(now))

    async def run_one(self, schedule: Schedule, now: datetime, poster: Poster) -> str:
        """Handle one due schedule; returns the outcome (sent, late, missed, paused, ...)."""
        outcome = await self._run_one(schedule, now, poster)
        self.outcomes[outcome] += 1
        return outcome

    async def _run_one(self, schedule: Schedule, now: datetime, poster: Poster) -> str:
        guild_id = schedule.guild_id
        local_time, zone = parse_hhmm(schedule.local_time), ZoneInfo(schedule.zone)
        day = date.fromisoformat(schedule.next_date)
        due = due_on(day, local_time, zone)
        existing = await self.store.post(guild_id, day.isoformat())
        if existing is not None and existing.state in (SENT, LATE):
            # Sent, but the crash came before the schedule moved on.
            await self._advance(schedule, due, now)
            return "already sent"
        if now - due > self.grace:
            if existing is not None and existing.state == INTENT:
                found = await self._find(poster, schedule, existing, day)
                if found is not None:
                    await self._record_sent(schedule, day, due, found, _sent_at(existing, now))
                    await self._advance(schedule, due, now)
                    return "recovered"
            return await self._catch_up(schedule, day, now)
        if existing is not None and existing.state == INTENT:
            return await self._resume(schedule, existing, day, due, now, poster)
        return await self._post(schedule, day, due, now, poster)

    async def _catch_up(self, schedule: Schedule, day: date, now: datetime) -> str:
        """Days whose time passed longer than the grace period ago are missed; the latest
        day within the grace period (if any) still goes out, late."""
        local_time, zone = parse_hhmm(schedule.local_time), ZoneInfo(schedule.zone)
        following, following_due = next_due(now, local_time, zone)
        latest = following - timedelta(days=1)
        start = max(day, latest - timedelta(days=MAX_MISSED_RECORDED))
        current = start
        while current <= latest:
            current_due = due_on(current, local_time, zone)
            if now - current_due <= self.grace:
                break
            await self.store.record_outcome(
                schedule.guild_id,
                current.isoformat(),
                MISSED,
                due_at=unix(current_due),
                error="Lectern was not running at the time",
                channel_id=schedule.channel_id,
            )
            self.outcomes["missed"] += 1
            current += timedelta(days=1)
        if current <= latest:  # still within the grace period: the scheduler posts it next
            await self.store.advance(
                schedule.guild_id,
                current.isoformat(),
                unix(due_on(current, local_time, zone)),
                unix(now),
            )
            return "catching up"
        await self.store.advance(
            schedule.guild_id, following.isoformat(), unix(following_due), unix(now)
        )
        return "skipped"

    async def _post(
        self, schedule: Schedule, day: date, due: datetime, now: datetime, poster: Poster
    ) -> str:
        try:
            await poster.check(schedule)
        except PostError as error:
            return await self._failed(schedule, day, due, now, error)
        chosen = await self.picker.choose(schedule.guild_id, day)
        if chosen is None:
            await self.store.record_outcome(
                schedule.guild_id, day.isoformat(), FAILED, due_at=unix(due), error="empty corpus"
            )
            await self._advance(schedule, due, now)
            return "empty corpus"
        passage, cycle = chosen
        post = Post(
            guild_id=schedule.guild_id,
            local_date=day.isoformat(),
            passage_id=passage.id,
            cycle=cycle,
            state=INTENT,
            nonce=make_nonce(schedule.guild_id, day),
            channel_id=schedule.channel_id,
            message_id=None,
            thread_id=None,
            due_at=unix(due),
            attempted_at=unix(now),
            sent_at=None,
            error=None,
        )
        if not await self.store.record_intent(post):  # another process claimed it first
            log.info("Daily post for guild %s on %s already claimed", schedule.guild_id, day)
            return "claimed elsewhere"
        return await self._send(schedule, post, passage, day, due, now, poster)

    async def _resume(
        self,
        schedule: Schedule,
        post: Post,
        day: date,
        due: datetime,
        now: datetime,
        poster: Poster,
    ) -> str:
        """An intent without a result: a crash during sending, or a transient failure."""
        passage = await self.picker.corpus.passage(post.passage_id or "")
        if post.attempted_at is None or now - from_unix(post.attempted_at) > NONCE_WINDOW:
            found = await self._find(poster, schedule, post, day)
            if found is not None:
                at = _sent_at(post, now)
                return await self._after_send(schedule, day, due, now, found, poster, at)
        if passage is None:  # the corpus changed since: choose again, same nonce
            chosen = await self.picker.next_unseen(schedule.guild_id)
            if chosen is None:
                return "empty corpus"
            passage = chosen[0]
        try:
            await poster.check(schedule)
        except PostError as error:
            return await self._failed(schedule, day, due, now, error)
        await self.store.touch_intent(schedule.guild_id, day.isoformat(), unix(now), passage.id)
        return await self._send(schedule, post, passage, day, due, now, poster)

    async def _find(self, poster: Poster, schedule: Schedule, post: Post, day: date) -> Sent | None:
        try:
            return await poster.find_sent(schedule, post, reflection_title(day))
        except PostError as error:
            log.info("Could not look for guild %s's post of %s: %s", post.guild_id, day, error)
            return None

    async def _send(
        self,
        schedule: Schedule,
        post: Post,
        passage: StoredPassage,
        day: date,
        due: datetime,
        now: datetime,
        poster: Poster,
    ) -> str:
        card = await self.cards.png(passage) if schedule.card and self.cards else None
        message = daily_message(schedule, passage, day, card)
        nonce = post.nonce or make_nonce(schedule.guild_id, day)
        try:
            sent = await poster.send(schedule, message, nonce)
        except PostError as error:
            return await self._failed(schedule, day, due, now, error)
        return await self._after_send(schedule, day, due, now, sent, poster)

    async def _record_sent(
        self, schedule: Schedule, day: date, due: datetime, sent: Sent, now: datetime
    ) -> bool:
        """Record the message; ``now`` is when it was sent (for a message found after a
        crash, when it was attempted)."""
        late = now - due > LATE_AFTER
        await self.store.record_sent(
            schedule.guild_id,
            day.isoformat(),
            channel_id=sent.channel_id,
            message_id=sent.message_id,
            sent_at=unix(now),
            late=late,
        )
        return late

    async def _after_send(
        self,
        schedule: Schedule,
        day: date,
        due: datetime,
        now: datetime,
        sent: Sent,
        poster: Poster,
        sent_at: datetime | None = None,
    ) -> str:
        late = await self._record_sent(schedule, day, due, sent, sent_at or now)
        if schedule.thread:
            try:
                thread_id = await poster.open_thread(schedule, sent, thread_name(day))
                await self.store.record_thread(schedule.guild_id, day.isoformat(), thread_id)
            except PostError as error:
                await self.store.note_error(
                    schedule.guild_id, f"Posted, but could not open the thread: {error}", unix(now)
                )
        await self._advance(schedule, due, now)
        log.info(
            "Daily reflection for guild %s on %s posted%s", schedule.guild_id, day, " late" * late
        )
        return "late" if late else "sent"

    async def _failed(
        self,
        schedule: Schedule,
        day: date,
        due: datetime,
        now: datetime,
        error: Exception,
    ) -> str:
        guild_id, text = schedule.guild_id, str(error)
        if isinstance(error, PostBlocked):
            # Never retried in a loop: paused until someone fixes it and runs /daily set.
            await self.store.record_outcome(
                guild_id, day.isoformat(), FAILED, due_at=unix(due), error=text,
                channel_id=schedule.channel_id,
            )  # fmt: skip
            await self.store.pause(guild_id, text, unix(now))
            log.warning("Daily reflections paused in guild %s: %s", guild_id, text)
            return "paused"
        if isinstance(error, PostTransient):
            attempts = schedule.attempts + 1
            delay = RETRY_DELAYS[min(attempts - 1, len(RETRY_DELAYS) - 1)]
            retry_at = now + delay
            if retry_at - due <= self.grace:
                await self.store.retry_later(guild_id, unix(retry_at), attempts, text, unix(now))
                log.info("Daily post in guild %s failed (%s); retry %s", guild_id, text, retry_at)
                return "retrying"
            text = f"gave up after {attempts} attempts: {text}"
        await self.store.record_outcome(
            guild_id, day.isoformat(), FAILED, due_at=unix(due), error=text,
            channel_id=schedule.channel_id,
        )  # fmt: skip
        await self.store.note_error(guild_id, text, unix(now))
        await self._advance(schedule, due, now)
        return "failed"
