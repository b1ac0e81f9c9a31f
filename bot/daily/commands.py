"""The /daily commands, without discord.py: validate, save, and answer with the schedule."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from ..core.errors import UserError
from ..core.reply import Card, Choice, Reply
from ..core.text import clip, escape_markdown, split_text
from ..reading.lookup import Lookup
from ..reading.replies import reflection_reply
from .days import DaysError, describe_days, parse_days
from .model import INTENT, KINDS, Placement, Schedule, schedule_name
from .order import DailyPicker
from .posting import schedule_tag
from .replies import (
    history_reply,
    list_reply,
    saved_reply,
    scheduled_due,
    shown_name,
    status_reply,
)
from .state import DailyState
from .timing import (
    ScheduleError,
    discord_time,
    next_due,
    parse_hhmm,
    resolve_zone,
    search_zones,
    unix,
)

DEFAULT_HISTORY_DAYS = 14
MAX_HISTORY_DAYS = 60
CHOICES = 25


def named(schedules: list[Schedule], typed: str) -> Schedule | None:
    """The schedule called ``typed``: any case, spaces collapsed as names are stored."""
    wanted = " ".join(typed.split()).casefold()
    return next((s for s in schedules if s.name.casefold() == wanted), None)


class DailyCommands:
    """/daily set, list, status, preview, off and history, for one server at a time."""

    def __init__(
        self,
        store: DailyState,
        picker: DailyPicker,
        lookup: Lookup,
        *,
        clock: Callable[[], datetime],
        changed: Callable[[], None],
        max_schedules: int = 10,
    ) -> None:
        self.store = store
        self.picker = picker
        self.lookup = lookup
        self.clock = clock
        #: Told whenever a schedule changes, so the scheduler recomputes its next wake-up.
        self.changed = changed
        self.max_schedules = max_schedules

    async def set(
        self,
        *,
        guild_id: int,
        user_id: int,
        where: Placement,
        time_text: str,
        zone_text: str,
        role_id: int | None = None,
        role_note: str | None = None,
        thread: bool = False,
        card: bool | None = None,
        name: str | None = None,
        days_text: str | None = None,
        document: str | None = None,
        kind: str | None = None,
    ) -> Reply:
        """/daily set: validate everything, check the bot can post there, then save one
        schedule (a new name adds one, an existing name changes it and resumes it)."""
        try:
            local_time, zone = parse_hhmm(time_text), resolve_zone(zone_text)
            days = parse_days(days_text)
        except (ScheduleError, DaysError) as error:
            raise UserError(str(error)) from None
        name = schedule_name(name)
        slug, title = await self._filter(document, kind)
        if where.missing:
            names = ", ".join(f"**{m}**" for m in where.missing)
            raise UserError(
                f"I can't post in <#{where.channel_id}>: I'm missing {names} there. Give "
                "Lectern's role these permissions in the channel's settings (Edit Channel → "
                "Permissions), then run /daily set again."
            )
        existing = await self.store.schedules(guild_id)
        same = named(existing, name)
        if same is None:
            self._check_room(existing, name)
        else:
            name = same.name
        card = where.media if card is None else card  # a media channel is a gallery of cards
        now = self.clock()
        day, due = next_due(now, local_time, zone, days)
        if same is not None and await self._unfinished(same):
            # A post of that date was on its way (the schedule paused meanwhile): finish it
            # first, so the runner looks for it instead of leaving it half-recorded.
            day, due = date.fromisoformat(same.next_date), now
        schedule = Schedule(
            guild_id=guild_id,
            channel_id=where.channel_id,
            local_time=f"{local_time:%H:%M}",
            zone=zone.key,
            role_id=role_id,
            thread=thread and not where.forum,
            card=card,
            next_date=day.isoformat(),
            next_due=unix(due),
            created_by=user_id,
            name=name,
            days=days,
            document=slug,
            kind=kind if slug is None else None,
        )
        await self.store.save_schedule(schedule, unix(now))
        self.changed()
        changed = same is not None
        return saved_reply(
            schedule, title, role_note, thread, forum=where.forum, tag=where.tag, changed=changed
        )

    async def _unfinished(self, schedule: Schedule) -> bool:
        post = await self.store.post(schedule.key, schedule.next_date)
        return post is not None and post.state == INTENT

    def _check_room(self, existing: list[Schedule], name: str) -> None:
        if len(existing) >= self.max_schedules:
            names = ", ".join(shown_name(s.name) for s in existing)
            raise UserError(
                f"This server already has {len(existing)} schedules, the most it may have: "
                f"{names}. Change one with /daily set name:…, or remove one with /daily off."
            )
        tag = schedule_tag(name)
        if any(schedule_tag(s.name) == tag for s in existing):  # ~1 in 60 million names
            raise UserError(f"Pick another name than “{escape_markdown(name)}”, please.")

    async def _filter(
        self, document: str | None, kind: str | None
    ) -> tuple[str | None, str | None]:
        """The document slug (and its title) a schedule is limited to; checks the kind."""
        if document is not None and document.strip() and kind is not None:
            raise UserError("Choose a document or a kind for a schedule, not both.")
        if kind is not None:
            if kind not in KINDS:
                raise UserError(f"Kinds are {', '.join(KINDS)}.")
            if not await self.picker.corpus.kind_count(kind):
                raise UserError(f"The corpus has no {kind}s yet: choose another kind.")
            return None, None
        if document is None or not document.strip():
            return None, None
        info = await self.lookup.document(document)
        return info.slug, info.title

    # ------------------------------------------------------------------ one schedule

    async def pick(self, guild_id: int, name: str | None) -> Schedule:
        """The schedule a command means: ``name`` (any case), or the server's only one."""
        schedules = await self.store.schedules(guild_id)
        if not schedules:
            raise UserError("Daily reflections are off here. Turn them on with /daily set.")
        if name is not None and name.strip():
            if (found := named(schedules, name)) is not None:
                return found
            names = ", ".join(shown_name(s.name) for s in schedules)
            raise UserError(
                f"This server has no schedule called “{escape_markdown(clip(name, 40))}”. "
                f"Its schedules: {names}."
            )
        if len(schedules) == 1:
            return schedules[0]
        names = ", ".join(shown_name(s.name) for s in schedules)
        raise UserError(
            f"This server has {len(schedules)} schedules ({names}): say which with `name`."
        )

    async def status(
        self,
        guild_id: int,
        name: str | None = None,
        *,
        is_forum: Callable[[int], bool] = lambda channel_id: False,
    ) -> Reply:
        """/daily status: where and when, the next and the last post, and the last error."""
        schedule = await self.pick(guild_id, name)
        last = await self.store.last_post(schedule.key)
        title = await self._title(schedule)
        forum = is_forum(schedule.channel_id)
        return status_reply(schedule, last, forum=forum, document_title=title)

    async def _title(self, schedule: Schedule) -> str | None:
        if schedule.document is None:
            return None
        info = await self.picker.corpus.document_info(schedule.document)
        return info.title if info else None

    async def list_schedules(self, guild_id: int) -> Reply:
        """/daily list: every schedule of the server."""
        schedules = await self.store.schedules(guild_id)
        if not schedules:
            raise UserError("Daily reflections are off here. Turn them on with /daily set.")
        titles = {d.slug: d.title for d in await self.picker.corpus.documents()}
        return list_reply(schedules, titles, self.max_schedules)

    async def preview(self, guild_id: int, name: str | None = None) -> Reply:
        """/daily preview: the next post as it will look, shown only to the caller."""
        role = None
        if not await self.store.schedules(guild_id) and not (name and name.strip()):
            day = self.clock().astimezone(UTC).date()
            note = "Daily reflections are off here; this is what a post would look like."
            schedule = Schedule(
                guild_id=guild_id,
                channel_id=0,
                local_time="00:00",
                zone="UTC",
                role_id=None,
                thread=False,
                next_date=day.isoformat(),
                next_due=0,
            )
        else:
            schedule = await self.pick(guild_id, name)
            day = date.fromisoformat(schedule.next_date)
            at = discord_time(unix(scheduled_due(schedule)))
            note = f"The post of {shown_name(schedule.name)} for {day:%-d %B} in "
            note += f"<#{schedule.channel_id}>, {at}."
            role = schedule.role_id
        chosen = await self.picker.choose(schedule, day)
        if chosen is None:
            raise UserError("There are no passages for this schedule: there is nothing to post.")
        reply = reflection_reply(chosen[0], split_text(chosen[0].text), day)
        content = f"Preview (nothing is posted). {note}"
        if role:
            content += f" It will ping <@&{role}>."
        return Reply(panel=reply.panel, content=content, rows=reply.rows, ephemeral=True)

    async def off(self, guild_id: int, name: str | None = None) -> Reply:
        """/daily off: stop one schedule (its history and place in its order are kept)."""
        schedule = await self.pick(guild_id, name)
        await self.store.delete_schedule(*schedule.key)
        self.changed()
        left = len(await self.store.schedules(guild_id))
        rest = f" The other {left} keep posting." if left else ""
        card = Card(
            title="Daily reflections off",
            description=f"No more posts from {shown_name(schedule.name)}.{rest} Turn it back on "
            "any time with /daily set.",
        )
        return Reply(cards=(card,), ephemeral=True)

    async def history(
        self, guild_id: int, days: int = DEFAULT_HISTORY_DAYS, name: str | None = None
    ) -> Reply:
        """/daily history: what one schedule posted (or missed) on each of the last ``days``
        dates, also one turned off since (its posts are kept); with no name and no schedule
        left, what every past schedule of the server did."""
        days = min(max(days, 1), MAX_HISTORY_DAYS)
        schedules = await self.store.schedules(guild_id)
        typed = " ".join(name.split()) if name and name.strip() else None
        match = named(schedules, typed) if typed else schedules[0] if len(schedules) == 1 else None
        zone = ZoneInfo(match.zone) if match else UTC
        since = (self.clock().astimezone(zone).date() - timedelta(days=days - 1)).isoformat()
        if match is not None:
            posts = await self.store.history(match.key, since, limit=days)
        elif typed is not None:  # a schedule that was turned off
            posts = await self.store.history((guild_id, typed), since, limit=days)
            if not posts:
                await self.pick(guild_id, typed)  # says which names there are
        elif schedules:
            await self.pick(guild_id, None)  # several: says to name one
            posts = []
        else:
            posts = await self.store.guild_history(guild_id, since, limit=days * 4)
        if not posts:
            raise UserError(f"Nothing was posted here in the last {days} days.")
        shown = match.name if match else (posts[0].schedule if typed else None)
        return history_reply(guild_id, posts, days, shown)

    # ------------------------------------------------------------------ autocomplete

    async def complete_names(self, guild_id: int, typed: str) -> list[Choice]:
        """The server's schedule names containing ``typed``."""
        needle = typed.strip().casefold()
        found = [s for s in await self.store.schedules(guild_id) if needle in s.name.casefold()]
        found.sort(key=lambda s: (not s.name.casefold().startswith(needle), s.name.casefold()))
        return [
            Choice(clip(f"{s.name} · {describe_days(s.days)} {s.local_time}", 100), s.name)
            for s in found[:CHOICES]
        ]

    async def complete_documents(self, typed: str) -> list[Choice]:
        return await self.lookup.complete_documents(typed)

    def complete_zones(self, typed: str) -> list[str]:
        return search_zones(typed)
