"""Daily reflections without discord.py: the /daily commands and the posting state machine.

Posting one server's reflection for one local date goes through these steps, each recorded in
SQLite before the next, so that a crash at any point neither skips the day nor posts twice:

1. **intent**: the passage, the deterministic nonce and the attempt time are written.
2. **send**: the message goes out with that nonce. Discord returns the existing message
   instead of posting again when the same nonce is sent within a few minutes.
3. **sent** (or **late**): the message id is written; then the schedule moves to the next date.

Recovering an ``intent`` (a crash between 1 and 3, or a transient failure): within
:data:`NONCE_WINDOW` of the attempt, send again with the same nonce; later than that, first
look for the message in the channel (:meth:`Poster.find_sent`), and send only if it is not there.

The Discord side is injected as a :class:`Poster`, which turns Discord's errors into
:class:`PostBlocked` (403/404: pause the schedule, never retry in a loop), :class:`PostTransient`
(5xx, timeouts: retry with backoff) and :class:`PostRejected` (this post only).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from .daily_store import FAILED, INTENT, LATE, MISSED, SENT, SHOWN, DailyStore, Post, Schedule
from .render import Card, Field, Reply, clip, escape_markdown
from .schedule import (
    ScheduleError,
    due_on,
    next_due,
    parse_hhmm,
    pick_next,
    resolve_zone,
    search_zones,
)
from .service import UserError, reflection_reply
from .store import Store, StoredPassage

log = logging.getLogger(__name__)

#: Discord de-duplicates a repeated nonce "in the past few minutes"; count on less.
NONCE_WINDOW = timedelta(minutes=2)
#: A post sent later than this after its time is marked late.
LATE_AFTER = timedelta(minutes=5)
#: Waits between retries after transient errors (the last one repeats), within the grace period.
RETRY_DELAYS = tuple(timedelta(seconds=s) for s in (30, 60, 120, 300, 600, 1800))
#: Missed days recorded individually after a long downtime (older ones are just skipped).
MAX_MISSED_RECORDED = 31
DEFAULT_HISTORY_DAYS = 14


class PostBlocked(Exception):
    """Posting cannot work until a human fixes something (permission, deleted channel)."""


class PostTransient(Exception):
    """Discord or the network failed in a way that may pass; try again later."""


class PostRejected(Exception):
    """Discord refused this one post; the schedule itself stays active."""


@dataclass(frozen=True, slots=True)
class Sent:
    channel_id: int
    message_id: int


@dataclass(frozen=True, slots=True)
class DailyMessage:
    reply: Reply
    content: str | None  # the role mention, if any
    role_id: int | None
    thread_name: str | None


class Poster(Protocol):
    """What the scheduler needs from Discord (see ``bot/cogs/daily.py``)."""

    async def check(self, schedule: Schedule) -> None:
        """Raise PostBlocked/PostTransient if posting cannot work now (no request made)."""

    async def send(self, schedule: Schedule, message: DailyMessage, nonce: str) -> Sent: ...

    async def find_sent(self, schedule: Schedule, post: Post, title: str) -> Sent | None:
        """The message of ``post`` if it reached the channel (looked up after a crash)."""

    async def open_thread(self, schedule: Schedule, sent: Sent, name: str) -> int: ...


def make_nonce(guild_id: int, day: date) -> str:
    """Deterministic per server and date, at most 25 characters: ``ld<guild base36>.<yyyymmdd>``."""
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    number, out = guild_id, ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if not number:
            break
    return f"ld{out}.{day:%Y%m%d}"


def _ts(moment: datetime) -> int:
    return int(moment.timestamp())


def _at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def discord_time(seconds: int) -> str:
    return f"<t:{seconds}:F> (<t:{seconds}:R>)"


def message_link(guild_id: int, channel_id: int, message_id: int) -> str:
    return f"https://discord.com/channels/{guild_id}/{channel_id}/{message_id}"


def _sent_at(post: Post, now: datetime) -> datetime:
    """When a message found after a crash was sent: at its recorded attempt."""
    return _at(post.attempted_at) if post.attempted_at is not None else now


def post_title(day: date) -> str:
    """The title of a day's reflection card (as :func:`bot.service.reflection_reply` writes it)."""
    return f"Reflection for {day:%A, %-d %B %Y}"


class DailyService:
    """The /daily commands and the posting of each server's reflection."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Callable[[], datetime],
        grace: timedelta,
        on_change: Callable[[], None] = lambda: None,
    ) -> None:
        self.store = store
        self.daily = DailyStore(store)
        self.clock = clock
        self.grace = grace
        #: Called when a schedule changes, to wake the scheduler.
        self.on_change = on_change
        #: Outcomes since start, for /admin stats.
        self.counts: Counter[str] = Counter()
        self._ids: tuple[str | None, list[str]] = (None, [])

    async def stats_counts(self) -> dict[str, int]:
        """Posts by outcome since start, and schedules active and paused now."""
        active, paused = await self.daily.schedule_counts()
        return {**self.counts, "schedules active": active, "schedules paused": paused}

    # ------------------------------------------------------------------ choosing passages

    async def _passage_ids(self) -> list[str]:
        fingerprint = await self.store.meta("fingerprint")
        if fingerprint is None or fingerprint != self._ids[0]:
            self._ids = (fingerprint, await self.store.passage_ids())
        return self._ids[1]

    async def choose(self, guild_id: int, day: date) -> tuple[StoredPassage, int] | None:
        """The passage for ``guild_id`` on local date ``day`` and its cycle: the one already
        chosen for that date, else the next of the server's order."""
        post = await self.daily.post(guild_id, day.isoformat())
        if post is not None and post.passage_id and post.state in SHOWN:
            passage = await self.store.passage(post.passage_id)
            if passage is not None:
                return passage, post.cycle
        cycle, seen, last = await self.daily.current_cycle(guild_id)
        picked = pick_next(
            await self._passage_ids(), guild_id=guild_id, cycle=cycle, seen=seen, last=last
        )
        if picked is None:
            return None
        passage = await self.store.passage(picked[0])
        return (passage, picked[1]) if passage is not None else None

    async def todays_passage(self, guild_id: int) -> tuple[StoredPassage, date] | None:
        """For /reflection: a scheduled server's passage for its local date (None: no schedule)."""
        schedule = await self.daily.schedule(guild_id)
        if schedule is None:
            return None
        day = self.clock().astimezone(ZoneInfo(schedule.zone)).date()
        chosen = await self.choose(guild_id, day)
        return (chosen[0], day) if chosen else None

    async def message_for(
        self, schedule: Schedule, passage: StoredPassage, day: date
    ) -> DailyMessage:
        reply = reflection_reply(passage, day)
        content = f"<@&{schedule.role_id}>" if schedule.role_id else None
        thread = clip(f"Reflection · {day:%-d %B %Y}", 100) if schedule.thread else None
        return DailyMessage(reply, content, schedule.role_id, thread)

    # ------------------------------------------------------------------ commands

    async def set(
        self,
        *,
        guild_id: int,
        user_id: int,
        channel_id: int,
        time_text: str,
        zone_text: str,
        role_id: int | None = None,
        role_note: str | None = None,
        thread: bool = False,
        missing: list[str] | None = None,
    ) -> Reply:
        """/daily set: validate, check the bot can post there, save, and say when it posts."""
        try:
            local_time = parse_hhmm(time_text)
            zone = resolve_zone(zone_text)
        except ScheduleError as error:
            raise UserError(str(error)) from None
        if missing:
            names = ", ".join(f"**{m}**" for m in missing)
            raise UserError(
                f"I can't post in <#{channel_id}>: I'm missing {names} there. Give Lectern's role "
                "these permissions in the channel's settings (Edit Channel → Permissions), "
                "then run /daily set again."
            )
        now = self.clock()
        day, due = next_due(now, local_time, zone)
        schedule = Schedule(
            guild_id=guild_id,
            channel_id=channel_id,
            local_time=f"{local_time:%H:%M}",
            zone=zone.key,
            role_id=role_id,
            thread=thread,
            next_date=day.isoformat(),
            next_due=_ts(due),
            created_by=user_id,
        )
        await self.daily.save_schedule(schedule, _ts(now))
        self.on_change()
        lines = [
            f"A reflection will be posted in <#{channel_id}> every day at "
            f"**{local_time:%H:%M}** {zone.key} time.",
            f"Next: {discord_time(_ts(due))}.",
        ]
        if role_id:
            lines.append(f"Each post pings <@&{role_id}> (and no one else).")
        if role_note:
            lines.append(role_note)
        if thread:
            lines.append("Each post opens a discussion thread.")
        lines.append("See it with /daily preview; stop with /daily off.")
        return Reply(
            cards=(Card(title="Daily reflections on", description="\n".join(lines)),),
            ephemeral=True,
        )

    async def status(self, guild_id: int) -> Reply:
        """/daily status: where and when, the next and the last post, and the last error."""
        schedule = await self.daily.schedule(guild_id)
        if schedule is None:
            raise UserError("Daily reflections are off here. Turn them on with /daily set.")
        fields = [
            Field("Channel", f"<#{schedule.channel_id}>", True),
            Field("Time", f"{schedule.local_time} {schedule.zone}", True),
            Field("Ping", f"<@&{schedule.role_id}>" if schedule.role_id else "no one", True),
            Field("Thread", "yes" if schedule.thread else "no", True),
        ]
        if schedule.active:
            due = self._real_due(schedule)
            fields.append(Field("Next post", discord_time(_ts(due))))
            if schedule.attempts:
                retry = f"attempt {schedule.attempts + 1} {discord_time(schedule.next_due)}"
                fields.append(Field("Retrying", retry))
        else:
            fields.append(
                Field(
                    "Paused",
                    clip(f"{schedule.paused_reason} Fix it, then run /daily set again.", 1000),
                )
            )
        last = await self.daily.last_post(guild_id)
        if last is not None and last.channel_id and last.message_id:
            link = message_link(guild_id, last.channel_id, last.message_id)
            when = discord_time(last.sent_at) if last.sent_at else ""
            late = " (late)" if last.state == LATE else ""
            fields.append(Field("Last post", f"[{last.local_date}]({link}){late} {when}".strip()))
        else:
            fields.append(Field("Last post", "none yet"))
        if schedule.last_error:
            when = f" ({discord_time(schedule.last_error_at)})" if schedule.last_error_at else ""
            fields.append(Field("Last error", clip(schedule.last_error, 900) + when))
        title = "Daily reflections" + ("" if schedule.active else " (paused)")
        card = Card(title=title, description="", fields=tuple(fields))
        return Reply(cards=(card,), ephemeral=True)

    async def preview(self, guild_id: int) -> Reply:
        """/daily preview: the next post as it will look, shown only to the caller."""
        schedule = await self.daily.schedule(guild_id)
        if schedule is None:
            day = self.clock().astimezone(UTC).date()
            note = "Daily reflections are off here; this is what a post would look like."
            role = None
        else:
            day = date.fromisoformat(schedule.next_date)
            due = self._real_due(schedule)
            where = f"<#{schedule.channel_id}>"
            note = f"The post for {day:%-d %B} in {where}, {discord_time(_ts(due))}."
            role = schedule.role_id
        chosen = await self.choose(guild_id, day)
        if chosen is None:
            raise UserError("The corpus is empty: there is nothing to post.")
        reply = reflection_reply(chosen[0], day)
        content = f"Preview (nothing is posted). {note}"
        if role:
            content += f" It will ping <@&{role}>."
        return Reply(cards=reply.cards, content=content, rows=reply.rows, ephemeral=True)

    async def off(self, guild_id: int) -> Reply:
        """/daily off: stop posting (the history and the place in the corpus are kept)."""
        if not await self.daily.delete_schedule(guild_id):
            raise UserError("Daily reflections are already off here.")
        self.on_change()
        card = Card(
            title="Daily reflections off",
            description="No more daily posts here. Turn them back on any time with /daily set.",
        )
        return Reply(cards=(card,), ephemeral=True)

    async def history(self, guild_id: int, days: int = DEFAULT_HISTORY_DAYS) -> Reply:
        """/daily history: what was posted (or missed) on each of the last ``days`` dates."""
        days = min(max(days, 1), 60)
        schedule = await self.daily.schedule(guild_id)
        zone = ZoneInfo(schedule.zone) if schedule else UTC
        today = self.clock().astimezone(zone).date()
        since = (today - timedelta(days=days - 1)).isoformat()
        posts = await self.daily.history(guild_id, since, limit=days)
        if not posts:
            raise UserError(f"Nothing was posted here in the last {days} days.")
        marks = {
            SENT: "✅ posted",
            LATE: "🕒 posted late",
            MISSED: "⏭️ missed",
            INTENT: "⏳ sending",
        }
        lines = []
        for p in posts:
            state = marks.get(p.state, "⚠️ failed")
            if p.channel_id and p.message_id and p.state in (SENT, LATE):
                state = f"[{state}]({message_link(guild_id, p.channel_id, p.message_id)})"
            detail = f" · `{p.passage_id}`" if p.passage_id and p.state != MISSED else ""
            if p.error and p.state in (FAILED, MISSED):
                detail += f" · {escape_markdown(clip(p.error, 120))}"
            lines.append(f"`{p.local_date}` {state}{detail}")
        text = clip("\n".join(lines), 4000)
        card = Card(title=f"Daily reflections, last {days} days", description=text)
        return Reply(cards=(card,), ephemeral=True)

    async def complete_zones(self, typed: str) -> list[str]:
        return search_zones(typed)

    # ------------------------------------------------------------------ posting

    def _real_due(self, schedule: Schedule) -> datetime:
        return due_on(
            date.fromisoformat(schedule.next_date),
            parse_hhmm(schedule.local_time),
            ZoneInfo(schedule.zone),
        )

    async def _advance(self, schedule: Schedule, after: datetime, now: datetime) -> None:
        day, due = next_due(after, parse_hhmm(schedule.local_time), ZoneInfo(schedule.zone))
        await self.daily.advance(schedule.guild_id, day.isoformat(), _ts(due), _ts(now))

    async def run_one(self, schedule: Schedule, now: datetime, poster: Poster) -> str:
        """Handle one due schedule; returns the outcome (sent, late, missed, paused, ...)."""
        outcome = await self._run_one(schedule, now, poster)
        self.counts[outcome] += 1
        return outcome

    async def _run_one(self, schedule: Schedule, now: datetime, poster: Poster) -> str:
        guild_id = schedule.guild_id
        local_time, zone = parse_hhmm(schedule.local_time), ZoneInfo(schedule.zone)
        day = date.fromisoformat(schedule.next_date)
        due = due_on(day, local_time, zone)
        existing = await self.daily.post(guild_id, day.isoformat())
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
            await self.daily.record_outcome(
                schedule.guild_id,
                current.isoformat(),
                MISSED,
                due_at=_ts(current_due),
                error="Lectern was not running at the time",
                channel_id=schedule.channel_id,
            )
            self.counts["missed"] += 1
            current += timedelta(days=1)
        if current <= latest:  # still within the grace period: the scheduler posts it next
            await self.daily.advance(
                schedule.guild_id,
                current.isoformat(),
                _ts(due_on(current, local_time, zone)),
                _ts(now),
            )
            return "catching up"
        await self.daily.advance(
            schedule.guild_id, following.isoformat(), _ts(following_due), _ts(now)
        )
        return "skipped"

    async def _post(
        self, schedule: Schedule, day: date, due: datetime, now: datetime, poster: Poster
    ) -> str:
        try:
            await poster.check(schedule)
        except (PostBlocked, PostTransient, PostRejected) as error:
            return await self._failed(schedule, day, due, now, error)
        chosen = await self.choose(schedule.guild_id, day)
        if chosen is None:
            await self.daily.record_outcome(
                schedule.guild_id, day.isoformat(), FAILED, due_at=_ts(due), error="empty corpus"
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
            due_at=_ts(due),
            attempted_at=_ts(now),
            sent_at=None,
            error=None,
        )
        if not await self.daily.record_intent(post):  # pragma: no cover - another process
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
        passage = await self.store.passage(post.passage_id or "")
        if post.attempted_at is None or now - _at(post.attempted_at) > NONCE_WINDOW:
            found = await self._find(poster, schedule, post, day)
            if found is not None:
                at = _sent_at(post, now)
                return await self._after_send(schedule, day, due, now, found, poster, at)
        if passage is None:  # the corpus changed since: choose again, same nonce
            chosen = await self.choose_fresh(schedule.guild_id)
            if chosen is None:
                return "empty corpus"
            passage = chosen
        try:
            await poster.check(schedule)
        except (PostBlocked, PostTransient, PostRejected) as error:
            return await self._failed(schedule, day, due, now, error)
        await self.daily.touch_intent(schedule.guild_id, day.isoformat(), _ts(now))
        return await self._send(schedule, post, passage, day, due, now, poster)

    async def choose_fresh(self, guild_id: int) -> StoredPassage | None:
        cycle, seen, last = await self.daily.current_cycle(guild_id)
        picked = pick_next(
            await self._passage_ids(), guild_id=guild_id, cycle=cycle, seen=seen, last=last
        )
        return await self.store.passage(picked[0]) if picked else None

    async def _find(self, poster: Poster, schedule: Schedule, post: Post, day: date) -> Sent | None:
        try:
            return await poster.find_sent(schedule, post, post_title(day))
        except (PostBlocked, PostTransient, PostRejected) as error:
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
        message = await self.message_for(schedule, passage, day)
        assert post.nonce is not None
        try:
            sent = await poster.send(schedule, message, post.nonce)
        except (PostBlocked, PostTransient, PostRejected) as error:
            return await self._failed(schedule, day, due, now, error)
        return await self._after_send(schedule, day, due, now, sent, poster)

    async def _record_sent(
        self, schedule: Schedule, day: date, due: datetime, sent: Sent, now: datetime
    ) -> bool:
        """Record the message; ``now`` is when it was sent (for a message found after a
        crash, when it was attempted)."""
        late = now - due > LATE_AFTER
        await self.daily.record_sent(
            schedule.guild_id,
            day.isoformat(),
            channel_id=sent.channel_id,
            message_id=sent.message_id,
            sent_at=_ts(now),
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
            name = clip(f"Reflection · {day:%-d %B %Y}", 100)
            try:
                thread_id = await poster.open_thread(schedule, sent, name)
                await self.daily.record_thread(schedule.guild_id, day.isoformat(), thread_id)
            except (PostBlocked, PostTransient, PostRejected) as error:
                await self.daily.note_error(
                    schedule.guild_id, f"Posted, but could not open the thread: {error}", _ts(now)
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
            await self.daily.record_outcome(
                guild_id, day.isoformat(), FAILED, due_at=_ts(due), error=text,
                channel_id=schedule.channel_id,
            )  # fmt: skip
            await self.daily.pause(guild_id, text, _ts(now))
            log.warning("Daily reflections paused in guild %s: %s", guild_id, text)
            return "paused"
        if isinstance(error, PostTransient):
            attempts = schedule.attempts + 1
            delay = RETRY_DELAYS[min(attempts - 1, len(RETRY_DELAYS) - 1)]
            retry_at = now + delay
            if retry_at - due <= self.grace:
                await self.daily.retry_later(guild_id, _ts(retry_at), attempts, text, _ts(now))
                log.info("Daily post in guild %s failed (%s); retry %s", guild_id, text, retry_at)
                return "retrying"
            text = f"gave up after {attempts} attempts: {text}"
        await self.daily.record_outcome(
            guild_id, day.isoformat(), FAILED, due_at=_ts(due), error=text,
            channel_id=schedule.channel_id,
        )  # fmt: skip
        await self.daily.note_error(guild_id, text, _ts(now))
        await self._advance(schedule, due, now)
        return "failed"
