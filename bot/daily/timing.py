"""Daily-schedule arithmetic, without I/O: local wall-clock times to UTC instants, time zones.

Every instant here is an aware ``datetime`` in UTC. A schedule is "09:00 in Europe/Berlin":
:func:`next_due` turns it into the next UTC instant, following the zone's rules on that date,
so the post stays at 09:00 local on both sides of a daylight-saving change.

- A local time that does not exist on a date (the spring gap) is due at the first valid minute
  after it: 02:30 on the day clocks jump from 02:00 to 03:00 is due at 03:00.
- A local time that happens twice (the autumn overlap) is due once, at its first occurrence.
"""

from __future__ import annotations

import functools
import re
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ..core.text import escape_markdown
from .days import EVERY_DAY, posts_on, valid_mask

#: Zones offered by autocomplete: named places, not aliases like ``US/Eastern`` or ``Etc/GMT+5``.
_AREAS = (
    "Africa",
    "America",
    "Antarctica",
    "Arctic",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
)
CHOICES = 25


class ScheduleError(ValueError):
    """A time or zone the user typed cannot be used; the message says what is expected."""


# --------------------------------------------------------------------------- times and instants


def parse_hhmm(text: str) -> time:
    """``"9:05"`` or ``"09:05"`` (24-hour clock) as a :class:`time`."""
    match = re.fullmatch(r"\s*(\d{1,2})\s*[:.h]\s*(\d{2})\s*", text)
    if match:
        hour, minute = int(match.group(1)), int(match.group(2))
        if hour < 24 and minute < 60:
            return time(hour, minute)
    raise ScheduleError(
        f"“{escape_markdown(text.strip()[:20])}” is not a time of day: use the 24-hour clock, "
        "HH:MM (e.g. 09:00)."
    )


def _utc(wall: datetime, zone: ZoneInfo, fold: int) -> datetime:
    return wall.replace(tzinfo=zone, fold=fold).astimezone(UTC)


def due_on(day: date, local_time: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of ``local_time`` on ``day`` in ``zone``.

    Ambiguous (repeated) times give the first occurrence; times in a gap give the end of the
    gap, i.e. the first valid instant after them, rounded up to a whole minute.
    """
    wall = datetime.combine(day, local_time.replace(tzinfo=None, fold=0))
    first = _utc(wall, zone, 0)
    if first.astimezone(zone).replace(tzinfo=None) == wall:
        # Exists. In an overlap fold=0 is the earlier of the two instants.
        return first
    # In a gap: fold=0 reads the wall time with the offset before the transition, fold=1 with
    # the offset after it; the transition lies between the two UTC readings.
    low, high = sorted((first, _utc(wall, zone, 1)))
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(zone).replace(tzinfo=None) >= wall:
            high = middle
        else:
            low = middle
    high = high.replace(microsecond=0)
    if high.astimezone(zone).replace(tzinfo=None) < wall:  # pragma: no cover - rounding guard
        high += timedelta(seconds=1)
    if high.second:
        high += timedelta(seconds=60 - high.second)
    return high


def next_due(
    after: datetime, local_time: time, zone: ZoneInfo, days: int = EVERY_DAY
) -> tuple[date, datetime]:
    """The first post strictly after ``after`` (UTC) on one of ``days`` (a mask of weekdays,
    see :mod:`bot.daily.days`): its local date and its UTC instant."""
    if after.tzinfo is None:
        raise ValueError("after must be an aware datetime")
    if not valid_mask(days):
        raise ValueError(f"not a set of days: {days}")
    # The local date at ``after``, minus one: a gap-shifted post of yesterday can still be ahead.
    day = after.astimezone(zone).date() - timedelta(days=1)
    for _ in range(10):
        if posts_on(days, day):
            due = due_on(day, local_time, zone)
            if due > after:
                return day, due
        day += timedelta(days=1)
    raise AssertionError("no due instant within nine days")  # pragma: no cover


@dataclass(frozen=True, slots=True)
class CatchUp:
    """What to do after downtime: the dates to record as missed, and the date to post next
    (``within_grace``: a date whose time has passed but may still go out, late)."""

    missed: list[date]
    next_date: date
    next_due: int  # unix seconds
    within_grace: bool


def catch_up(
    day: date,
    now: datetime,
    local_time: time,
    zone: ZoneInfo,
    days: int,
    grace: timedelta,
    max_missed: int,
) -> CatchUp:
    """After downtime, from the overdue date ``day``: the schedule's own days whose time is more
    than ``grace`` ago are missed (at most the last ``max_missed`` days are looked at), and the
    first of them within the grace period, or else the next due date, comes next."""
    following, following_due = next_due(now, local_time, zone, days)
    latest = following - timedelta(days=1)
    current = max(day, latest - timedelta(days=max_missed))
    missed: list[date] = []
    while current <= latest:
        if posts_on(days, current):
            current_due = due_on(current, local_time, zone)
            if now - current_due <= grace:
                return CatchUp(missed, current, unix(current_due), True)
            missed.append(current)
        current += timedelta(days=1)
    return CatchUp(missed, following, unix(following_due), False)


# --------------------------------------------------------------------------- time zones


@functools.cache
def _zones() -> tuple[tuple[str, str, str], ...]:
    """(zone, its city part normalised, the whole name normalised), sorted by zone."""
    names = sorted(
        z for z in zoneinfo.available_timezones() if z.split("/", 1)[0] in _AREAS or z == "UTC"
    )
    return tuple((z, _normal(z.rsplit("/", 1)[-1]), _normal(z)) for z in names)


def _normal(text: str) -> str:
    return " ".join(re.sub(r"[_/\-]+", " ", text).split()).casefold()


def search_zones(typed: str, limit: int = CHOICES) -> list[str]:
    """Zones matching ``typed``: ``berlin`` finds Europe/Berlin, ``new york`` America/New_York.

    Cities starting with the words come first, then cities containing them, then any zone
    whose full name contains them.
    """
    needle = _normal(typed)
    if not needle:
        common = ("UTC", "Europe/London", "Europe/Berlin", "America/New_York", "Asia/Tokyo")
        return [z for z in common if z in {entry[0] for entry in _zones()}][:limit]
    ranked: list[tuple[int, str]] = []
    for zone, city, whole in _zones():
        if city.startswith(needle):
            ranked.append((0, zone))
        elif needle in city:
            ranked.append((1, zone))
        elif needle in whole:
            ranked.append((2, zone))
    ranked.sort()
    return [zone for _, zone in ranked[:limit]]


def resolve_zone(typed: str) -> ZoneInfo:
    """The zone the user meant: an IANA name (any case), or a city that names one zone."""
    text = typed.strip()
    if not text:
        raise ScheduleError("Give a time zone, e.g. Europe/Berlin (start typing a city).")
    exact = {z.casefold(): z for z, _, _ in _zones()}
    name = exact.get(text.casefold())
    if name is None:
        found = search_zones(text, limit=CHOICES)
        cities = [z for z in found if _normal(z.rsplit("/", 1)[-1]) == _normal(text)]
        if len(cities) == 1:
            name = cities[0]
        elif len(found) == 1:
            name = found[0]
        else:
            hint = f" Did you mean {', '.join(found[:5])}?" if found else ""
            raise ScheduleError(
                f"“{escape_markdown(text[:60])}” is not a time zone I know.{hint} "
                "Pick one from the list as you type (e.g. Europe/Berlin)."
            )
    try:
        return ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):  # pragma: no cover - listed zones load
        raise ScheduleError(f"The time zone {name} cannot be loaded on this machine.") from None


# --------------------------------------------------------------------------- unix seconds


def unix(moment: datetime) -> int:
    """An aware instant as unix seconds (how the database stores instants)."""
    return int(moment.timestamp())


def from_unix(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def discord_time(seconds: int) -> str:
    """A Discord timestamp, absolute and relative: every reader sees it in their own zone."""
    return f"<t:{seconds}:F> (<t:{seconds}:R>)"
