"""The pure parts of several schedules: days of the week, schedule names, nonces, catch-up, and
the migration of a database that had one schedule per server."""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.config import BUNDLED_PASSAGES
from bot.core.db import Database, bundled_migrations
from bot.core.errors import UserError
from bot.corpus.files import load_corpus
from bot.corpus.ingest import sync_corpus
from bot.corpus.store import CorpusStore
from bot.daily.days import EVERY_DAY, WEEKDAYS, WEEKENDS, DaysError, describe_days, parse_days
from bot.daily.model import Schedule, schedule_name
from bot.daily.order import DailyPicker
from bot.daily.posting import make_nonce
from bot.daily.replies import list_reply
from bot.daily.store import DailyStore
from bot.daily.timing import catch_up, next_due
from tests.old_layout import write_old_layout
from tests.test_daily_store import assert_due_index_used

BERLIN = ZoneInfo("Europe/Berlin")
MON, WED, FRI, SUN = 1, 1 << 2, 1 << 4, 1 << 6


@pytest.mark.parametrize(
    ("typed", "mask"),
    [
        (None, EVERY_DAY),
        ("", EVERY_DAY),
        ("every day", EVERY_DAY),
        ("  Every   Day ", EVERY_DAY),
        ("weekdays", WEEKDAYS),
        ("WEEKENDS", WEEKENDS),
        ("mon,wed,fri", MON | WED | FRI),
        ("Monday Wednesday", MON | WED),
        ("mon, wed fri", MON | WED | FRI),
        ("sun,sunday", SUN),
        ("fri , mon", MON | FRI),
    ],
)
def test_days_people_type(typed: str | None, mask: int) -> None:
    assert parse_days(typed) == mask


@pytest.mark.parametrize(
    "typed", ["mon,,", ",", "mon,", " , wed", "tues", "mo", "weekday", "lundi", "mon;wed", "7"]
)
def test_anything_else_is_an_error_showing_the_accepted_forms(typed: str) -> None:
    with pytest.raises(DaysError) as caught:
        parse_days(typed)
    assert "`every day`, `weekdays`, `weekends`" in str(caught.value)


def test_days_read_back_as_people_say_them() -> None:
    assert describe_days(EVERY_DAY) == "every day"
    assert describe_days(WEEKDAYS) == "weekdays"
    assert describe_days(MON | WED | FRI) == "Mon, Wed, Fri"
    assert describe_days(parse_days(describe_days(MON | SUN))) == "Mon, Sun"


def test_next_due_skips_days_that_are_not_the_schedules() -> None:
    friday_evening = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)
    day, due = next_due(friday_evening, time(9), BERLIN, WEEKDAYS)
    assert day == date(2026, 11, 30) and due == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    day, _ = next_due(friday_evening, time(9), BERLIN, SUN)
    assert day == date(2026, 11, 29)
    with pytest.raises(ValueError, match="not a set of days"):
        next_due(friday_evening, time(9), BERLIN, 0)


def test_days_are_the_schedules_own_weekdays_not_utcs() -> None:
    """08:00 on Mondays in Auckland (UTC+13 in summer) is Sunday evening in UTC."""
    auckland = ZoneInfo("Pacific/Auckland")
    sunday_noon_utc = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    day, due = next_due(sunday_noon_utc, time(8), auckland, MON)
    assert day == date(2026, 11, 30) and due == datetime(2026, 11, 29, 19, 0, tzinfo=UTC)
    # and across Berlin's autumn change: Sundays at 09:00 stay 09:00 local
    day, due = next_due(datetime(2026, 10, 20, tzinfo=UTC), time(9), BERLIN, SUN)
    assert day == date(2026, 10, 25) and due == datetime(2026, 10, 25, 8, 0, tzinfo=UTC)
    day, due = next_due(due, time(9), BERLIN, SUN)
    assert day == date(2026, 11, 1) and due == datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def test_catch_up_counts_only_the_schedules_days_as_missed() -> None:
    # down from Monday 30 November to Thursday 10 December at noon, Mon/Wed/Fri at 09:00
    now = datetime(2026, 12, 10, 11, 0, tzinfo=UTC)
    plan = catch_up(
        date(2026, 11, 30), now, time(9), BERLIN, MON | WED | FRI, timedelta(hours=6), 31
    )
    assert [d.isoformat() for d in plan.missed] == [
        "2026-11-30", "2026-12-02", "2026-12-04", "2026-12-07", "2026-12-09",
    ]  # fmt: skip
    assert plan.next_date == date(2026, 12, 11) and not plan.within_grace
    # back on Wednesday at 11:00, two hours after the post time: Wednesday still goes out
    wednesday = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    plan = catch_up(
        date(2026, 11, 30), wednesday, time(9), BERLIN, MON | WED, timedelta(hours=6), 31
    )
    assert plan.missed == [date(2026, 11, 30)] and plan.within_grace
    assert plan.next_date == date(2026, 12, 2)


def test_nonces_fit_discord_and_differ_by_server_schedule_and_date() -> None:
    biggest = 2**64 - 1
    day = date(2026, 11, 23)
    assert len(make_nonce(biggest, "a" * 32, date(9999, 12, 31))) <= 25
    seen = {
        make_nonce(g, name, day + timedelta(days=d))
        for g in (1, 2, biggest)
        for name in ("daily", "poems", "Poems", "weekday mornings")
        for d in range(40)
    }
    assert len(seen) == 3 * 4 * 40
    assert make_nonce(7, "poems", day) == make_nonce(7, "poems", day)  # deterministic


def test_schedule_names() -> None:
    assert schedule_name(None) == "daily" and schedule_name("   ") == "daily"
    assert schedule_name("  weekday   mornings ") == "weekday mornings"
    assert schedule_name("x" * 32) == "x" * 32
    assert schedule_name("tab\tand\nnewline") == "tab and newline"
    for bad in ("x" * 33, "bell\x07", "zero\u200bwidth", "\u202eright-to-left"):
        with pytest.raises(UserError):
            schedule_name(bad)


async def test_a_database_with_one_schedule_per_server_migrates_to_named_schedules(tmp_path):
    """A server's schedule becomes "daily"; its posts (and so its place in its order) move
    with it, and the next post continues the order instead of starting over."""
    path = tmp_path / "old.sqlite3"
    migrations = bundled_migrations()
    assert migrations[8].name == "daily_named_schedules"
    async with await Database.open(path, migrations[:8]) as db:
        corpus = load_corpus(BUNDLED_PASSAGES)
        await write_old_layout(db, corpus)
        ids = [p.id for d in corpus.documents for p in d.passages]
        await db.run(
            """INSERT INTO daily_schedules (guild_id, channel_id, local_time, zone, role_id,
            thread, next_date, next_due, created_at, updated_at, card)
            VALUES (42, 7, '09:00', 'Europe/Berlin', NULL, 1, '2026-11-25', 1, 0, 0, 1)"""
        )
        await db.run(  # a post on its way when the old Lectern stopped
            """INSERT INTO daily_posts (guild_id, local_date, passage_id, cycle, state, nonce,
            channel_id, due_at, attempted_at) VALUES (42, '2026-11-25', ?, 0, 'intent',
            'ld16.20261125', 7, 0, 5)""",
            (ids[2],),
        )
        for n, passage in enumerate(ids[:2]):
            await db.run(
                """INSERT INTO daily_posts (guild_id, local_date, passage_id, cycle, state,
                nonce, channel_id, message_id, due_at) VALUES (42, ?, ?, 0, 'sent', ?, 7, ?, 0)""",
                (f"2026-11-2{3 + n}", passage, f"ld16.2026112{3 + n}", 100 + n),
            )
    async with await Database.open(path) as db:
        assert await CorpusStore(db).passage_count() == 0  # 0011: the corpus is ingested again
        await sync_corpus(db, BUNDLED_PASSAGES)
        assert await CorpusStore(db).passage_ids() == ids
        store = DailyStore(db)
        (schedule,) = await store.schedules(42)
        assert (schedule.name, schedule.channel_id, schedule.thread, schedule.card) == (
            "daily", 7, True, True,
        )  # fmt: skip
        assert schedule.days == EVERY_DAY and schedule.document is None and schedule.kind is None
        history = await store.history(schedule.key, "2026-11-01")
        assert [(p.local_date, p.message_id) for p in history] == [
            ("2026-11-25", None), ("2026-11-24", 101), ("2026-11-23", 100),
        ]  # fmt: skip
        intent = await store.post(schedule.key, "2026-11-25")
        assert intent is not None and intent.nonce == "ld16.20261125"  # resent with its nonce
        cycle, seen, last = await store.current_cycle(schedule.key)
        assert (cycle, seen, last) == (0, set(ids[:3]), ids[2])
        picker = DailyPicker(CorpusStore(db), store, lambda: datetime.now(UTC))
        chosen = await picker.next_unseen(schedule)

        def before_names(passage_id: str) -> bytes:  # the order key of one-schedule Lectern
            return hashlib.blake2b(f"42:0:{passage_id}".encode(), digest_size=8).digest()

        assert chosen is not None and chosen[0].id == min(ids[3:], key=before_names)
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA user_version").fetchone()[0] == len(migrations)
    indexes = {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"daily_schedules_due", "daily_schedules_by_channel", "daily_posts_by_cycle"} <= indexes
    assert_due_index_used(raw)
    raw.close()


def test_a_long_list_keeps_whole_schedules_and_says_how_many_are_left_out() -> None:
    reason = "Lectern lacks a permission in #a-channel-with-a-long-name (Missing Permissions). " * 3
    schedules = [
        Schedule(
            guild_id=1,
            channel_id=10**18 + n,
            local_time="09:00",
            zone="America/Argentina/ComodRivadavia",
            role_id=None,
            thread=False,
            next_date="2026-11-23",
            next_due=1_790_000_000,
            name=f"schedule number {n:02d} of many",
            paused_reason=reason if n % 2 else None,
        )
        for n in range(100)
    ]
    (card,) = list_reply(schedules, {}, 100).cards
    blocks = card.description.split("\n\n")
    assert len(card.description) <= 4000 and blocks[-1].startswith("… and ")
    left_out = int(blocks[-1].split()[2])
    assert len(blocks) - 1 + left_out == 100
    assert all(b.count("<t:") == 2 * b.count(":R>") for b in blocks)  # no timestamp cut
