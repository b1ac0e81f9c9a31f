"""Schedule arithmetic: wall-clock posts in many zones and years, DST gaps and overlaps."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.daily.order import order_key, pick_next
from bot.daily.timing import (
    ScheduleError,
    due_on,
    next_due,
    parse_hhmm,
    resolve_zone,
    search_zones,
)

ZONES = [
    "UTC",
    "Europe/Berlin",
    "Europe/London",
    "Europe/Dublin",  # negative DST in tzdata
    "America/New_York",
    "America/Santiago",
    "America/Sao_Paulo",  # dropped DST in 2019
    "America/St_Johns",  # -3:30 / -2:30
    "Europe/Moscow",  # permanent +4 in 2011, back to +3 in 2014
    "Australia/Adelaide",  # +9:30 / +10:30
    "Australia/Lord_Howe",  # 30-minute DST
    "Asia/Kathmandu",  # +5:45
    "Asia/Kolkata",
    "Asia/Tehran",
    "Pacific/Chatham",  # +12:45 / +13:45
    "Pacific/Apia",  # skipped 30 December 2011 entirely
    "Africa/Casablanca",  # DST suspended during Ramadan
]

instants = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2037, 12, 31), timezones=st.just(UTC)
)
times = st.builds(time, st.integers(0, 23), st.sampled_from([0, 1, 15, 29, 30, 45, 59]))
zones = st.sampled_from(ZONES).map(ZoneInfo)


def wall(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.astimezone(zone).replace(tzinfo=None)


def exists(day: date, at: time, zone: ZoneInfo) -> bool:
    naive = datetime.combine(day, at)
    return wall(naive.replace(tzinfo=zone).astimezone(UTC), zone) == naive


@settings(max_examples=400, deadline=None)
@given(after=instants, at=times, zone=zones)
def test_next_due_is_the_first_post_after(after: datetime, at: time, zone: ZoneInfo) -> None:
    day, due = next_due(after, at, zone)
    assert due > after
    assert due.utcoffset() == timedelta(0)
    target = datetime.combine(day, at)
    if exists(day, at, zone):
        # wall-clock correct, and the first occurrence of an ambiguous time
        assert wall(due, zone) == target
        other = target.replace(tzinfo=zone, fold=1).astimezone(UTC)
        if wall(other, zone) == target:  # ambiguous or not, never the second occurrence
            assert due <= other
    else:
        # in a gap: the first valid minute after it (a whole minute, past the target)
        assert due.second == 0
        assert wall(due, zone) > target
        assert wall(due - timedelta(minutes=1), zone) < target
    # nothing was skipped: the previous date's post is not after ``after``
    assert due_on(day - timedelta(days=1), at, zone) <= after


@settings(max_examples=60, deadline=None)
@given(start=instants, at=times, zone=zones)
def test_one_post_per_date_for_a_year(start: datetime, at: time, zone: ZoneInfo) -> None:
    """Following next_due for a year visits every date exactly once, in order."""
    day, due = next_due(start, at, zone)
    for _ in range(366):
        following, following_due = next_due(due, at, zone)
        assert following == day + timedelta(days=1)
        assert following_due > due
        day, due = following, following_due


@pytest.mark.parametrize(
    ("zone", "day", "at", "expected_utc"),
    [
        # 09:00 Berlin on both sides of the March and October changes
        ("Europe/Berlin", date(2026, 3, 28), time(9), datetime(2026, 3, 28, 8, 0)),
        ("Europe/Berlin", date(2026, 3, 29), time(9), datetime(2026, 3, 29, 7, 0)),
        ("Europe/Berlin", date(2026, 10, 24), time(9), datetime(2026, 10, 24, 7, 0)),
        ("Europe/Berlin", date(2026, 10, 25), time(9), datetime(2026, 10, 25, 8, 0)),
        # the spring gap: 02:30 does not exist, posts at 03:00 local (01:00 UTC)
        ("Europe/Berlin", date(2026, 3, 29), time(2, 30), datetime(2026, 3, 29, 1, 0)),
        # the autumn overlap: 02:30 happens twice, posts at the first (CEST, 00:30 UTC)
        ("Europe/Berlin", date(2026, 10, 25), time(2, 30), datetime(2026, 10, 25, 0, 30)),
        ("America/New_York", date(2026, 3, 8), time(2, 15), datetime(2026, 3, 8, 7, 0)),
        ("America/New_York", date(2026, 11, 1), time(1, 30), datetime(2026, 11, 1, 5, 30)),
        # Lord Howe moves by 30 minutes: 02:15 on 5 October 2025 is in the gap (02:00→02:30)
        ("Australia/Lord_Howe", date(2025, 10, 5), time(2, 15), datetime(2025, 10, 4, 15, 30)),
        ("Australia/Adelaide", date(2026, 1, 10), time(9), datetime(2026, 1, 9, 22, 30)),
        ("Asia/Kathmandu", date(2026, 6, 1), time(9), datetime(2026, 6, 1, 3, 15)),
        # rule changes: Moscow +4 all year in 2012, +3 from 26 October 2014
        ("Europe/Moscow", date(2012, 12, 1), time(9), datetime(2012, 12, 1, 5, 0)),
        ("Europe/Moscow", date(2014, 12, 1), time(9), datetime(2014, 12, 1, 6, 0)),
        # Sao Paulo: DST in January 2019, none in January 2020
        ("America/Sao_Paulo", date(2019, 1, 10), time(9), datetime(2019, 1, 10, 11, 0)),
        ("America/Sao_Paulo", date(2020, 1, 10), time(9), datetime(2020, 1, 10, 12, 0)),
        # Samoa skipped 30 December 2011: that date's post comes at the start of the 31st
        ("Pacific/Apia", date(2011, 12, 30), time(9), datetime(2011, 12, 30, 10, 0)),
    ],
)
def test_known_instants(zone: str, day: date, at: time, expected_utc: datetime) -> None:
    assert due_on(day, at, ZoneInfo(zone)) == expected_utc.replace(tzinfo=UTC)


def test_overlap_posts_once() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    after = datetime(2026, 10, 24, 12, tzinfo=UTC)
    day, first = next_due(after, time(2, 30), berlin)
    assert day == date(2026, 10, 25)
    assert first == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST, the first of two
    # asking again just after the first occurrence gives the next day, not the repeat
    assert next_due(first, time(2, 30), berlin)[0] == date(2026, 10, 26)
    assert next_due(first + timedelta(hours=1), time(2, 30), berlin)[0] == date(2026, 10, 26)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("09:00", time(9)), ("9:05", time(9, 5)), (" 23:59 ", time(23, 59)), ("7.30", time(7, 30))],
)
def test_parse_hhmm(text: str, expected: time) -> None:
    assert parse_hhmm(text) == expected


@pytest.mark.parametrize("text", ["24:00", "9", "9:7", "noon", "12:60", ""])
def test_parse_hhmm_rejects(text: str) -> None:
    with pytest.raises(ScheduleError, match="HH:MM"):
        parse_hhmm(text)


@pytest.mark.parametrize(
    ("typed", "first"),
    [
        ("berlin", "Europe/Berlin"),
        ("new york", "America/New_York"),
        ("NEW_YORK", "America/New_York"),
        ("kathmandu", "Asia/Kathmandu"),
        ("europe/lon", "Europe/London"),
        ("lord howe", "Australia/Lord_Howe"),
    ],
)
def test_search_zones(typed: str, first: str) -> None:
    found = search_zones(typed)
    assert found[0] == first
    assert len(found) <= 25


def test_search_zones_caps_at_25_and_skips_aliases() -> None:
    assert len(search_zones("a")) == 25
    assert not [z for z in search_zones("gmt") if z.startswith("Etc/")]
    assert search_zones("")[0] == "UTC"


def test_resolve_zone() -> None:
    assert resolve_zone("europe/berlin").key == "Europe/Berlin"
    assert resolve_zone("Berlin").key == "Europe/Berlin"
    assert resolve_zone("new york").key == "America/New_York"
    with pytest.raises(ScheduleError, match="not a time zone"):
        resolve_zone("Atlantis")


def test_pick_next_goes_through_the_whole_corpus_before_repeating() -> None:
    ids = [f"p-{i}" for i in range(30)]
    seen: set[str] = set()
    cycle, shown = 0, []
    for _ in range(30):
        picked = pick_next(ids, guild_id=42, cycle=cycle, seen=seen)
        assert picked is not None
        passage, cycle = picked
        shown.append(passage)
        seen.add(passage)
    assert sorted(shown) == sorted(ids) and cycle == 0
    # the next cycle starts, and never with the passage just shown
    picked = pick_next(ids, guild_id=42, cycle=0, seen=seen, last=shown[-1])
    assert picked is not None and picked[1] == 1 and picked[0] != shown[-1]


def test_pick_next_is_per_server_and_survives_corpus_changes() -> None:
    ids = [f"p-{i}" for i in range(50)]
    first_a = pick_next(ids, guild_id=1, cycle=0, seen=set())
    first_b = pick_next(ids, guild_id=2, cycle=0, seen=set())
    assert first_a != first_b  # two servers, two orders (for these ids)
    assert first_a is not None
    # a passage vanishing or joining does not reorder the others
    order = sorted(ids, key=lambda p: order_key(1, 0, p))
    fewer = [p for p in ids if p != order[0]] + ["new-1", "new-2"]
    merged = sorted(fewer, key=lambda p: order_key(1, 0, p))
    assert [p for p in merged if p in ids] == order[1:]
    assert pick_next([], guild_id=1, cycle=0, seen=set()) is None
