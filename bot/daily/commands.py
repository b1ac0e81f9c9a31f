"""The /daily commands, without discord.py: validate, save, and answer with the schedule."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from ..core.errors import UserError
from ..core.reply import Card, Field, Reply
from ..core.text import clip, escape_markdown, split_text
from ..reading.replies import reflection_reply
from .model import FAILED, INTENT, LATE, MISSED, SENT, Schedule
from .order import DailyPicker
from .store import DailyStore
from .timing import (
    ScheduleError,
    discord_time,
    due_on,
    next_due,
    parse_hhmm,
    resolve_zone,
    search_zones,
    unix,
)

DEFAULT_HISTORY_DAYS = 14
MAX_HISTORY_DAYS = 60
_MARKS = {SENT: "✅ posted", LATE: "🕒 posted late", MISSED: "⏭️ missed", INTENT: "⏳ sending"}


def message_link(guild_id: int, channel_id: int, message_id: int) -> str:
    return f"https://discord.com/channels/{guild_id}/{channel_id}/{message_id}"


def scheduled_due(schedule: Schedule) -> datetime:
    """When the schedule's next date is due, by its time and zone (ignoring retries)."""
    zone = ZoneInfo(schedule.zone)
    return due_on(date.fromisoformat(schedule.next_date), parse_hhmm(schedule.local_time), zone)


class DailyCommands:
    """/daily set, status, preview, off and history for one server at a time."""

    def __init__(
        self,
        store: DailyStore,
        picker: DailyPicker,
        *,
        clock: Callable[[], datetime],
        changed: Callable[[], None],
    ) -> None:
        self.store = store
        self.picker = picker
        self.clock = clock
        #: Told whenever a schedule changes, so the scheduler recomputes its next wake-up.
        self.changed = changed

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
        card: bool = False,
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
            card=card,
            next_date=day.isoformat(),
            next_due=unix(due),
            created_by=user_id,
        )
        await self.store.save_schedule(schedule, unix(now))
        self.changed()
        lines = [
            f"A reflection will be posted in <#{channel_id}> every day at "
            f"**{local_time:%H:%M}** {zone.key} time.",
            f"Next: {discord_time(unix(due))}.",
        ]
        if role_id:
            lines.append(f"Each post pings <@&{role_id}> (and no one else).")
        if role_note:
            lines.append(role_note)
        if thread:
            lines.append("Each post opens a discussion thread.")
        if card:
            lines.append("Each post carries the day's quote card.")
        lines.append("See it with /daily preview; stop with /daily off.")
        answer = Card(title="Daily reflections on", description="\n".join(lines))
        return Reply(cards=(answer,), ephemeral=True)

    async def status(self, guild_id: int) -> Reply:
        """/daily status: where and when, the next and the last post, and the last error."""
        schedule = await self.store.schedule(guild_id)
        if schedule is None:
            raise UserError("Daily reflections are off here. Turn them on with /daily set.")
        fields = [
            Field("Channel", f"<#{schedule.channel_id}>", True),
            Field("Time", f"{schedule.local_time} {schedule.zone}", True),
            Field("Ping", f"<@&{schedule.role_id}>" if schedule.role_id else "no one", True),
            Field("Thread", "yes" if schedule.thread else "no", True),
            Field("Card", "yes" if schedule.card else "no", True),
        ]
        if schedule.active:
            fields.append(Field("Next post", discord_time(unix(scheduled_due(schedule)))))
            if schedule.attempts:
                retry = f"attempt {schedule.attempts + 1} {discord_time(schedule.next_due)}"
                fields.append(Field("Retrying", retry))
        else:
            reason = f"{schedule.paused_reason} Fix it, then run /daily set again."
            fields.append(Field("Paused", clip(reason, 1000)))
        last = await self.store.last_post(guild_id)
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
        return Reply(
            cards=(Card(title=title, description="", fields=tuple(fields)),), ephemeral=True
        )

    async def preview(self, guild_id: int) -> Reply:
        """/daily preview: the next post as it will look, shown only to the caller."""
        schedule = await self.store.schedule(guild_id)
        role = None
        if schedule is None:
            day = self.clock().astimezone(UTC).date()
            note = "Daily reflections are off here; this is what a post would look like."
        else:
            day = date.fromisoformat(schedule.next_date)
            when = discord_time(unix(scheduled_due(schedule)))
            note = f"The post for {day:%-d %B} in <#{schedule.channel_id}>, {when}."
            role = schedule.role_id
        chosen = await self.picker.choose(guild_id, day)
        if chosen is None:
            raise UserError("The corpus is empty: there is nothing to post.")
        reply = reflection_reply(chosen[0], split_text(chosen[0].text), day)
        content = f"Preview (nothing is posted). {note}"
        if role:
            content += f" It will ping <@&{role}>."
        return Reply(panel=reply.panel, content=content, rows=reply.rows, ephemeral=True)

    async def off(self, guild_id: int) -> Reply:
        """/daily off: stop posting (the history and the place in the corpus are kept)."""
        if not await self.store.delete_schedule(guild_id):
            raise UserError("Daily reflections are already off here.")
        self.changed()
        card = Card(
            title="Daily reflections off",
            description="No more daily posts here. Turn them back on any time with /daily set.",
        )
        return Reply(cards=(card,), ephemeral=True)

    async def history(self, guild_id: int, days: int = DEFAULT_HISTORY_DAYS) -> Reply:
        """/daily history: what was posted (or missed) on each of the last ``days`` dates."""
        days = min(max(days, 1), MAX_HISTORY_DAYS)
        schedule = await self.store.schedule(guild_id)
        zone = ZoneInfo(schedule.zone) if schedule else UTC
        today = self.clock().astimezone(zone).date()
        since = (today - timedelta(days=days - 1)).isoformat()
        posts = await self.store.history(guild_id, since, limit=days)
        if not posts:
            raise UserError(f"Nothing was posted here in the last {days} days.")
        lines = []
        for p in posts:
            state = _MARKS.get(p.state, "⚠️ failed")
            if p.channel_id and p.message_id and p.state in (SENT, LATE):
                state = f"[{state}]({message_link(guild_id, p.channel_id, p.message_id)})"
            detail = f" · `{p.passage_id}`" if p.passage_id and p.state != MISSED else ""
            if p.error and p.state in (FAILED, MISSED):
                detail += f" · {escape_markdown(clip(p.error, 120))}"
            lines.append(f"`{p.local_date}` {state}{detail}")
        card = Card(
            title=f"Daily reflections, last {days} days", description=clip("\n".join(lines), 4000)
        )
        return Reply(cards=(card,), ephemeral=True)

    def complete_zones(self, typed: str) -> list[str]:
        return search_zones(typed)
