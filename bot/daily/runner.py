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

import contextlib
import logging
from collections import Counter
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from ..cards.service import CardService
from ..corpus.rows import StoredPassage
from ..reading.replies import reflection_title
from .days import posts_on
from .failures import Failures
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
from .state import DailyState
from .timing import catch_up, due_on, from_unix, next_due, parse_hhmm, unix

log = logging.getLogger(__name__)

#: Discord de-duplicates a repeated nonce "in the past few minutes"; count on less.
NONCE_WINDOW = timedelta(minutes=2)
#: A post sent later than this after its time is marked late.
LATE_AFTER = timedelta(minutes=5)
#: Missed days recorded individually after a long downtime (older ones are just skipped).
MAX_MISSED_RECORDED = 31


def _sent_at(post: Post, now: datetime) -> datetime:
    """When a message found after a crash was sent: at its recorded attempt."""
    return from_unix(post.attempted_at) if post.attempted_at is not None else now


class DailyRunner:
    """The posting state machine: :meth:`run_one` handles one due schedule."""

    def __init__(
        self,
        store: DailyState,
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
        self._failed = Failures(store, grace, self._advance)

    async def _advance(self, schedule: Schedule, after: datetime, now: datetime) -> None:
        local_time, zone = parse_hhmm(schedule.local_time), ZoneInfo(schedule.zone)
        day, due = next_due(after, local_time, zone, schedule.days)
        await self.store.advance(
            schedule.key, day.isoformat(), unix(due), unix(now), revision=schedule.revision
        )

    async def run_one(self, schedule: Schedule, now: datetime, poster: Poster) -> str:
        """Handle one due schedule; returns the outcome (sent, late, missed, paused, ...)."""
        outcome = await self._run_one(schedule, now, poster)
        self.outcomes[outcome] += 1
        return outcome

    async def _run_one(self, schedule: Schedule, now: datetime, poster: Poster) -> str:
        local_time, zone = parse_hhmm(schedule.local_time), ZoneInfo(schedule.zone)
        day = date.fromisoformat(schedule.next_date)
        due = due_on(day, local_time, zone)
        if not posts_on(schedule.days, day):  # e.g. set to fewer days while this was queued
            return await self._catch_up(schedule, day, now)
        existing = await self.store.post(schedule.key, day.isoformat())
        if existing is not None and existing.state in (SENT, LATE):
            # Sent, but the crash came before the schedule moved on.
            await self._advance(schedule, due, now)
            return "already sent"
        if now - due > self.grace:
            if existing is not None and existing.state == INTENT:
                with contextlib.suppress(PostError):  # not found or not known: missed, unsent
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
        """Days whose time passed longer than the grace period ago are missed (only the
        schedule's own days count); the latest day within the grace period, if any, still goes
        out, late."""
        local_time, zone = parse_hhmm(schedule.local_time), ZoneInfo(schedule.zone)
        plan = catch_up(day, now, local_time, zone, schedule.days, self.grace, MAX_MISSED_RECORDED)
        for missed in plan.missed:
            await self.store.record_outcome(
                schedule.key,
                missed.isoformat(),
                MISSED,
                due_at=unix(due_on(missed, local_time, zone)),
                error="Lectern was not running at the time",
                channel_id=schedule.channel_id,
            )
            self.outcomes["missed"] += 1
        await self.store.advance(
            schedule.key,
            plan.next_date.isoformat(),
            plan.next_due,
            unix(now),
            revision=schedule.revision,
        )
        return "catching up" if plan.within_grace else "skipped"

    async def _post(
        self, schedule: Schedule, day: date, due: datetime, now: datetime, poster: Poster
    ) -> str:
        try:
            await poster.check(schedule)
        except PostError as error:
            return await self._failed(schedule, day, due, now, error)
        chosen = await self.picker.choose(schedule, day)
        if chosen is None:
            return await self._nothing_to_post(schedule, day, due, now)
        passage, cycle = chosen
        post = Post(
            guild_id=schedule.guild_id,
            schedule=schedule.name,
            local_date=day.isoformat(),
            passage_id=passage.id,
            cycle=cycle,
            state=INTENT,
            nonce=make_nonce(schedule.guild_id, schedule.name, day),
            channel_id=schedule.channel_id,
            message_id=None,
            thread_id=None,
            due_at=unix(due),
            attempted_at=unix(now),
            sent_at=None,
            error=None,
        )
        if not await self.store.record_intent(post):  # another process claimed it first
            log.info("Daily post %s on %s already claimed", schedule.key, day)
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
        attempted = post.attempted_at
        if (
            attempted is None
            or now - from_unix(attempted) > NONCE_WINDOW
            or not poster.deduplicates(schedule)
        ):
            # Sending again is safe only if the post is not there; not knowing is no answer.
            try:
                found = await self._find(poster, schedule, post, day)
            except PostBlocked as error:  # e.g. no Read Message History: a human must fix it
                # Paused, but the intent stays: /daily set resumes it, and the runner looks again.
                await self.store.pause(
                    schedule.key, str(error), unix(now), revision=schedule.revision
                )
                return "paused"
            except PostError as error:
                unknown = PostTransient(f"could not check whether the post went out: {error}")
                return await self._failed(schedule, day, due, now, unknown)
            if found is not None:
                at = _sent_at(post, now)
                return await self._after_send(schedule, day, due, now, found, poster, at)
        if passage is None:  # the corpus changed since: choose again, same nonce
            chosen = await self.picker.next_unseen(schedule)
            if chosen is None:
                return await self._nothing_to_post(schedule, day, due, now)
            passage = chosen[0]
        try:
            await poster.check(schedule)
        except PostError as error:
            return await self._failed(schedule, day, due, now, error)
        await self.store.touch_intent(schedule.key, day.isoformat(), unix(now), passage.id)
        return await self._send(schedule, post, passage, day, due, now, poster)

    async def _find(self, poster: Poster, schedule: Schedule, post: Post, day: date) -> Sent | None:
        """The post's message if it went out; raises PostError when Discord cannot tell."""
        taken = await self.store.messages_of_others(schedule.key, day.isoformat())
        try:
            return await poster.find_sent(schedule, post, reflection_title(day), taken)
        except PostError as error:
            log.info("Could not look for %s's post of %s: %s", schedule.key, day, error)
            raise

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
        nonce = post.nonce or make_nonce(schedule.guild_id, schedule.name, day)
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
            schedule.key,
            day.isoformat(),
            channel_id=sent.channel_id,
            message_id=sent.message_id,
            sent_at=unix(now),
            late=late,
            thread_id=sent.thread_id,
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
        if schedule.thread and sent.thread_id is None:  # a forum post is its own thread
            try:
                thread_id = await poster.open_thread(schedule, sent, thread_name(day))
                await self.store.record_thread(schedule.key, day.isoformat(), thread_id)
            except PostError as error:
                await self.store.note_error(
                    schedule.key, f"Posted, but could not open the thread: {error}", unix(now)
                )
        await self._advance(schedule, due, now)
        log.info("Daily reflection %s on %s posted%s", schedule.key, day, " late" * late)
        return "late" if late else "sent"

    async def _nothing_to_post(
        self, schedule: Schedule, day: date, due: datetime, now: datetime
    ) -> str:
        """The schedule's passages are gone: a filtered schedule pauses until someone picks
        another document or kind; an empty corpus fails only that day."""
        if schedule.document is not None or schedule.kind is not None:
            wanted = f"document “{schedule.document}”" if schedule.document else f"{schedule.kind}s"
            reason = f"The corpus has no {wanted} any more: choose another with /daily set."
            return await self._failed(schedule, day, due, now, PostBlocked(reason))
        await self.store.record_outcome(
            schedule.key, day.isoformat(), FAILED, due_at=unix(due), error="empty corpus"
        )
        await self._advance(schedule, due, now)
        return "empty corpus"
