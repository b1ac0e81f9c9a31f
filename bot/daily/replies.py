"""What the /daily commands answer, as pure functions of schedules and posts."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from ..core.reply import Card, Field, Reply
from ..core.text import clip, escape_markdown
from .days import describe_days
from .model import FAILED, INTENT, LATE, MISSED, SENT, Post, Schedule
from .timing import discord_time, due_on, parse_hhmm, unix

_MARKS = {SENT: "✅ posted", LATE: "🕒 posted late", MISSED: "⏭️ missed", INTENT: "⏳ sending"}


def message_link(guild_id: int, channel_id: int, message_id: int) -> str:
    return f"https://discord.com/channels/{guild_id}/{channel_id}/{message_id}"


def scheduled_due(schedule: Schedule) -> datetime:
    """When the schedule's next date is due, by its time and zone (ignoring retries)."""
    zone = ZoneInfo(schedule.zone)
    return due_on(date.fromisoformat(schedule.next_date), parse_hhmm(schedule.local_time), zone)


def shown_name(name: str) -> str:
    return f"**{escape_markdown(name)}**"


def passages_of(schedule: Schedule, title: str | None = None) -> str:
    """Which passages a schedule draws from, for people: "all", "poems", "*The Shape…*"."""
    if schedule.document is not None:
        return f"*{escape_markdown(title or schedule.document)}*"
    if schedule.kind is not None:
        return f"{schedule.kind}s only"
    return "the whole corpus"


def when(schedule: Schedule) -> str:
    """``every day at 09:00 Europe/Berlin`` or ``Mon, Wed at 09:00 ...``."""
    days = describe_days(schedule.days)
    days = days if days == "every day" else f"on {days}"
    return f"{days} at **{schedule.local_time}** {schedule.zone}"


def status_reply(
    schedule: Schedule, last: Post | None, *, forum: bool, document_title: str | None
) -> Reply:
    """/daily status: where and when, what, the next and the last post, and the last error."""
    fields = [
        Field("Channel", f"<#{schedule.channel_id}>" + (" (forum posts)" if forum else ""), True),
        Field("When", when(schedule), True),
        Field("Passages", passages_of(schedule, document_title), True),
        Field("Ping", f"<@&{schedule.role_id}>" if schedule.role_id else "no one", True),
        Field("Thread", "each post is one" if forum else "yes" if schedule.thread else "no", True),
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
    if last is not None and last.channel_id and last.message_id:
        link = message_link(schedule.guild_id, last.channel_id, last.message_id)
        at = discord_time(last.sent_at) if last.sent_at else ""
        late = " (late)" if last.state == LATE else ""
        fields.append(Field("Last post", f"[{last.local_date}]({link}){late} {at}".strip()))
    else:
        fields.append(Field("Last post", "none yet"))
    if schedule.last_error:
        at = f" ({discord_time(schedule.last_error_at)})" if schedule.last_error_at else ""
        fields.append(Field("Last error", clip(schedule.last_error, 900) + at))
    title = f"Daily reflections: {clip(schedule.name, 32)}"
    title += "" if schedule.active else " (paused)"
    return Reply(cards=(Card(title=title, description="", fields=tuple(fields)),), ephemeral=True)


def list_reply(schedules: list[Schedule], titles: dict[str, str], limit: int) -> Reply:
    """/daily list: every schedule of the server, a short block each."""
    blocks = []
    for s in schedules:
        state = (
            f"next {discord_time(unix(scheduled_due(s)))}"
            if s.active
            else f"⏸️ paused: {escape_markdown(clip(s.paused_reason or '', 200))}"
        )
        passages = passages_of(s, titles.get(s.document or ""))
        blocks.append(f"{shown_name(s.name)} in <#{s.channel_id}>, {when(s)}\n{passages} · {state}")
    description = _whole_blocks(blocks, 4000)
    count = f"{len(schedules)} of at most {limit} schedules"
    footer = "Change one with /daily set name:…, stop one with /daily off name:…"
    card = Card(title="Daily schedules", description=description, footer=f"{count}. {footer}")
    return Reply(cards=(card,), ephemeral=True)


def _whole_blocks(blocks: list[str], limit: int) -> str:
    """The blocks that fit in ``limit`` characters, never one cut in half (a cut timestamp
    shows as raw ``<t:17…``), with a last line saying how many are left out."""
    shown: list[str] = []
    for n, block in enumerate(blocks):
        rest = len(blocks) - n - 1
        more = f"\n\n… and {rest} more: see them by name with /daily status." if rest else ""
        if len("\n\n".join([*shown, block])) + len(more) > limit:
            left = len(blocks) - n
            return "\n\n".join([*shown, f"… and {left} more: see them by name with /daily status."])
        shown.append(block)
    return "\n\n".join(shown)


def history_reply(guild_id: int, posts: list[Post], days: int, name: str | None) -> Reply:
    """/daily history: what was posted (or missed) on each date, newest first."""
    lines = []
    for p in posts:
        state = _MARKS.get(p.state, "⚠️ failed")
        if p.channel_id and p.message_id and p.state in (SENT, LATE):
            state = f"[{state}]({message_link(guild_id, p.channel_id, p.message_id)})"
        detail = f" · `{p.passage_id}`" if p.passage_id and p.state != MISSED else ""
        if p.error and p.state in (FAILED, MISSED):
            detail += f" · {escape_markdown(clip(p.error, 120))}"
        if name is None:
            detail += f" · {escape_markdown(p.schedule)}"
        lines.append(f"`{p.local_date}` {state}{detail}")
    title = f"Daily reflections, last {days} days"
    if name is not None:
        title += f": {clip(name, 32)}"
    card = Card(title=title, description=clip("\n".join(lines), 4000))
    return Reply(cards=(card,), ephemeral=True)


def saved_reply(
    schedule: Schedule,
    title: str | None,
    role_note: str | None,
    thread_asked: bool,
    *,
    forum: bool,
    changed: bool,
    tag: str | None = None,
) -> Reply:
    """/daily set's answer: what was saved, in words, and when the next post comes."""
    post = "a forum post" if forum else "a reflection"
    lines = [
        f"Schedule {shown_name(schedule.name)}: {post} in <#{schedule.channel_id}> "
        f"{when(schedule)} time, from {passages_of(schedule, title)}.",
        f"Next: {discord_time(schedule.next_due)}.",
    ]
    if schedule.role_id:
        lines.append(f"Each post pings <@&{schedule.role_id}> (and no one else).")
    if role_note:
        lines.append(role_note)
    if schedule.thread:
        lines.append("Each post opens a discussion thread.")
    elif thread_asked and forum:
        lines.append("Each forum post is its own thread, so `thread` is not needed there.")
    if tag is not None:
        lines.append(f"The forum requires a tag: posts are tagged “{escape_markdown(tag)}”.")
    if schedule.card:
        lines.append("Each post carries the day's quote card.")
    lines.append("See it with /daily preview; all schedules with /daily list.")
    heading = "Daily schedule changed" if changed else "Daily reflections on"
    return Reply(cards=(Card(title=heading, description="\n".join(lines)),), ephemeral=True)
