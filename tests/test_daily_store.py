"""Daily schedules and posts in a real SQLite file, and the posting state machine with a fake
poster (crashes, retries, pauses, missed days), time given explicitly."""

from __future__ import annotations

import dataclasses
import sqlite3
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.config import Settings
from bot.core.db import Database
from bot.core.errors import UserError
from bot.daily.model import INTENT, Placement, Post, Schedule, ShardFilter
from bot.daily.posting import DailyMessage, PostBlocked, PostTransient, Sent, make_nonce
from bot.daily.store import DailyStore
from bot.services import Services, build_services

GUILD = 1_100_000_000_000_000_001
KEY = (GUILD, "daily")
T0 = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)  # 08:00 in Berlin
DUE = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # 09:00 in Berlin


class Crash(BaseException):
    """The process dies here."""


class FakePoster:
    def __init__(self) -> None:
        self.sent: list[tuple[int, str, DailyMessage]] = []
        self.by_nonce: dict[str, Sent] = {}
        self.fail: Exception | None = None
        self.crash_after_send = False
        self.threads: list[int] = []
        self.lookups = 0

    async def check(self, schedule: Schedule) -> None:
        if isinstance(self.fail, PostBlocked):
            raise self.fail

    def deduplicates(self, schedule: Schedule) -> bool:
        return self.nonces_work

    nonces_work = True  # False: like a forum post, a repeated send posts twice
    lookup_error: Exception | None = None

    async def send(self, schedule: Schedule, message: DailyMessage, nonce: str) -> Sent:
        if self.fail is not None:
            raise self.fail
        if nonce in self.by_nonce:  # what Discord does with enforce_nonce
            return self.by_nonce[nonce]
        sent = Sent(schedule.channel_id, 1000 + len(self.sent))
        self.sent.append((schedule.guild_id, nonce, message))
        self.by_nonce[nonce] = sent
        if self.crash_after_send:
            raise Crash
        return sent

    async def find_sent(
        self, schedule: Schedule, post: Post, title: str, taken: frozenset[int]
    ) -> Sent | None:
        self.lookups += 1
        if self.lookup_error is not None:
            raise self.lookup_error
        return self.by_nonce.get(post.nonce or "")

    async def open_thread(self, schedule: Schedule, sent: Sent, name: str) -> int:
        self.threads.append(sent.message_id)
        return 5000 + sent.message_id


@pytest.fixture
def now() -> dict[str, datetime]:
    """The services' clock: tests move ``now["t"]``."""
    return {"t": T0}


@pytest.fixture
async def service(store: Services, now: dict[str, datetime]) -> Services:
    settings = Settings(daily_grace_hours=6)
    return build_services(store.db, settings, clock=lambda: now["t"])


async def _set(service: Services, **kw) -> Schedule:
    options = {
        "guild_id": GUILD,
        "user_id": 7,
        "where": Placement(99),
        "time_text": "09:00",
        "zone_text": "Europe/Berlin",
    }
    options.update(kw)
    await service.daily.set(**options)
    schedule = await service.daily_store.schedule(GUILD, kw.get("name", "daily"))
    assert schedule is not None
    return schedule


async def _run(service: Services, poster: FakePoster, at: datetime) -> list[str]:
    out = []
    for schedule in await service.daily_store.due(int(at.timestamp()), None):
        out.append(await service.daily_runner.run_one(schedule, at, poster))
    return out


def assert_due_index_used(db: sqlite3.Connection) -> None:
    """The "what is due" query is a range scan of the due index, not of every schedule."""
    plan = db.execute(
        "EXPLAIN QUERY PLAN SELECT guild_id FROM daily_schedules "
        "WHERE next_due <= 5 AND paused_reason IS NULL ORDER BY next_due LIMIT 10"
    ).fetchall()
    assert "daily_schedules_due" in str(plan)


async def test_migration_creates_the_tables_and_the_due_index(tmp_path) -> None:
    async with await Database.open(tmp_path / "a.sqlite3"):
        pass
    db = sqlite3.connect(tmp_path / "a.sqlite3")
    names = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
    assert {"daily_schedules", "daily_posts", "daily_schedules_due"} <= names
    assert_due_index_used(db)
    db.close()


async def test_set_stores_the_next_due_instant(service: Services) -> None:
    schedule = await _set(service)
    assert schedule.next_date == "2026-11-23"
    assert schedule.next_due == int(DUE.timestamp())
    assert schedule.zone == "Europe/Berlin" and schedule.local_time == "09:00"
    assert await service.daily_store.earliest_due(None) == int(DUE.timestamp())


async def test_due_finds_only_due_active_schedules_of_our_shards(store: Services) -> None:
    daily = DailyStore(store.db)
    ids = [(i << 22) | 5 for i in range(1, 9)]  # shard i % 4
    for n, gid in enumerate(ids):
        schedule = Schedule(gid, 1, "09:00", "UTC", None, False, "2026-01-01", 100 + n)
        await daily.save_schedule(schedule, 0)
    await daily.pause((ids[0], "daily"), "gone", 0)
    due = await daily.due(104, None)
    assert [s.guild_id for s in due] == ids[1:5]
    mine = ShardFilter(4, frozenset({1, 2}))
    assert [s.guild_id >> 22 for s in await daily.due(10_000, mine)] == [2, 5, 6]  # 1 paused
    assert await daily.earliest_due(ShardFilter(4, frozenset({3}))) == 102


async def test_post_at_the_right_instant_and_once(service: Services) -> None:
    await _set(service)
    poster = FakePoster()
    assert await _run(service, poster, DUE - timedelta(seconds=1)) == []
    assert await _run(service, poster, DUE) == ["sent"]
    assert await _run(service, poster, DUE + timedelta(minutes=1)) == []
    ((_, nonce, message),) = poster.sent
    assert nonce == make_nonce(GUILD, "daily", date(2026, 11, 23)) and len(nonce) <= 25
    assert message.reply.panel is not None
    assert message.reply.panel.heading == "Reflection for Monday, 23 November 2026"
    schedule = await service.daily_store.schedule(GUILD, "daily")
    assert schedule is not None and schedule.next_date == "2026-11-24"
    # /reflection that day shows the posted passage
    today = await service.daily_picker.todays_passage(GUILD)
    assert today is not None
    assert message.reply.panel.subtext.endswith(today[0].id)


async def test_crash_after_send_before_result_posts_once(service: Services) -> None:
    await _set(service)
    poster = FakePoster()
    poster.crash_after_send = True
    with pytest.raises(Crash):
        await _run(service, poster, DUE)
    post = await service.daily_store.post(KEY, "2026-11-23")
    assert post is not None and post.state == INTENT
    poster.crash_after_send = False
    # restart a minute later: same nonce, Discord returns the same message
    assert await _run(service, poster, DUE + timedelta(minutes=1)) == ["sent"]
    assert len(poster.sent) == 1
    post = await service.daily_store.post(KEY, "2026-11-23")
    assert post is not None and post.state == "sent" and post.message_id == 1000


async def test_crash_before_send_long_ago_looks_first_then_sends(service: Services) -> None:
    await _set(service)
    poster = FakePoster()
    poster.fail = Crash()  # type: ignore[assignment]
    with pytest.raises(Crash):
        await _run(service, poster, DUE)
    poster.fail = None
    # back after the nonce window: look in the channel, not there, so send (late)
    assert await _run(service, poster, DUE + timedelta(hours=1)) == ["late"]
    assert poster.lookups == 1 and len(poster.sent) == 1


async def test_crash_after_send_long_ago_finds_the_message(service: Services) -> None:
    await _set(service)
    poster = FakePoster()
    poster.crash_after_send = True
    with pytest.raises(Crash):
        await _run(service, poster, DUE)
    poster.crash_after_send = False
    # beyond the grace period even: the message is found, recorded, nothing sent again
    assert await _run(service, poster, DUE + timedelta(hours=8)) == ["recovered"]
    assert len(poster.sent) == 1
    post = await service.daily_store.post(KEY, "2026-11-23")
    assert post is not None and post.state == "sent"


async def test_missed_within_and_beyond_grace(service: Services) -> None:
    await _set(service)
    poster = FakePoster()
    # down from before 09:00 on the 23rd until 11:00 on the 25th: the 23rd is beyond the
    # grace period (missed), the 24th too, the 25th (2 h late) goes out, marked late
    back = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    outcomes = await _run(service, poster, back)
    outcomes += await _run(service, poster, back)
    assert outcomes == ["catching up", "late"]
    history = await service.daily_store.history(KEY, "2026-11-01")
    assert [(p.local_date, p.state) for p in history] == [
        ("2026-11-25", "late"),
        ("2026-11-24", "missed"),
        ("2026-11-23", "missed"),
    ]
    assert len(poster.sent) == 1


async def test_blocked_pauses_without_retrying(service: Services, now: dict[str, datetime]) -> None:
    await _set(service)
    poster = FakePoster()
    poster.fail = PostBlocked("Lectern lacks a permission in #general (50013).")
    assert await _run(service, poster, DUE) == ["paused"]
    assert await _run(service, poster, DUE + timedelta(hours=1)) == []  # never again
    schedule = await service.daily_store.schedule(GUILD, "daily")
    assert schedule is not None and schedule.paused_reason and "50013" in schedule.paused_reason
    status = await service.daily.status(GUILD)
    assert "Paused" in [f.name for f in status.cards[0].fields]
    # fixing it and setting again resumes at the next occurrence
    poster.fail = None
    now["t"] = DUE + timedelta(hours=2)
    schedule = await _set(service)
    assert schedule.active and schedule.next_date == "2026-11-24"


async def test_transient_errors_retry_with_backoff_then_give_up(service: Services) -> None:
    await _set(service)
    poster = FakePoster()
    poster.fail = PostTransient("Discord error 503")
    assert await _run(service, poster, DUE) == ["retrying"]
    schedule = await service.daily_store.schedule(GUILD, "daily")
    assert schedule is not None and schedule.next_due == int(DUE.timestamp()) + 30
    assert await _run(service, poster, DUE + timedelta(seconds=29)) == []
    poster.fail = None
    assert await _run(service, poster, DUE + timedelta(seconds=30)) == ["sent"]
    assert len(poster.sent) == 1
    # another day: it keeps failing past the grace period, so that day is given up
    poster.fail = PostTransient("timeout")
    at = DUE + timedelta(days=1)
    outcomes = []
    for _ in range(30):
        schedule = await service.daily_store.schedule(GUILD, "daily")
        assert schedule is not None
        if schedule.next_date != "2026-11-24":
            break
        at = max(at, datetime.fromtimestamp(schedule.next_due, UTC))
        outcomes += await _run(service, poster, at)
    assert outcomes[-1] == "failed" and set(outcomes[:-1]) == {"retrying"}
    post = await service.daily_store.post(KEY, "2026-11-24")
    assert post is not None and post.state == "failed" and "gave up" in (post.error or "")


async def test_thread_and_role(service: Services) -> None:
    await _set(service, role_id=555, thread=True)
    poster = FakePoster()
    assert await _run(service, poster, DUE) == ["sent"]
    ((_, _, message),) = poster.sent
    assert message.content == "<@&555>" and message.role_id == 555
    post = await service.daily_store.post(KEY, "2026-11-23")
    assert poster.threads == [1000] and post is not None and post.thread_id == 6000


async def test_the_order_does_not_repeat_until_the_corpus_is_seen(service: Services) -> None:
    await _set(service)
    poster = FakePoster()
    total = len(await service.corpus.passage_ids())
    at = DUE
    for _ in range(total + 1):
        assert await _run(service, poster, at) == ["sent"]
        at += timedelta(days=1)
    shown = [m.passage_id for _, _, m in poster.sent]
    assert len(set(shown[:total])) == total
    assert shown[total] != shown[total - 1]


async def test_off_and_history(service: Services, now: dict[str, datetime]) -> None:
    await _set(service)
    await _run(service, FakePoster(), DUE)
    now["t"] = DUE + timedelta(hours=1)
    history = await service.daily.history(GUILD, 7)
    assert "2026-11-23" in history.cards[0].description
    assert "https://discord.com/channels/" in history.cards[0].description
    off = await service.daily.off(GUILD)
    assert off.ephemeral and await service.daily_store.schedule(GUILD, "daily") is None


async def test_forgetting_a_guild_is_all_or_nothing(service: Services) -> None:
    await _set(service)
    assert await _run(service, FakePoster(), DUE) == ["sent"]
    # make the second half fail inside SQLite: nothing of the first half may stay done
    await service.db.run(
        """CREATE TRIGGER refuse BEFORE DELETE ON daily_posts
        BEGIN SELECT RAISE(ABORT, 'disk on fire'); END"""
    )
    with pytest.raises(sqlite3.DatabaseError, match="disk on fire"):
        await service.daily_store.forget_guild(GUILD)
    assert await service.daily_store.schedule(GUILD, "daily") is not None
    await service.db.run("DROP TRIGGER refuse")
    await service.daily_store.forget_guild(GUILD)
    assert await service.daily_store.schedule(GUILD, "daily") is None
    assert await service.daily_store.post(KEY, "2026-11-23") is None


async def test_a_resent_intent_records_the_passage_it_sends_now(
    service: Services, passages_dir
) -> None:
    from bot.corpus.ingest import sync_corpus

    await _set(service)
    poster = FakePoster()
    poster.fail = Crash()  # type: ignore[assignment]  # dies while sending: only the intent
    with pytest.raises(Crash):
        await _run(service, poster, DUE)
    intent = await service.daily_store.post(KEY, "2026-11-23")
    assert intent is not None and intent.state == INTENT and intent.passage_id
    gone = intent.passage_id.rsplit("-", 1)[0]
    (passages_dir / f"{gone}.md").unlink()  # a reload removes that passage's document
    await sync_corpus(service.db, passages_dir)
    poster.fail = None
    assert await _run(service, poster, DUE + timedelta(minutes=1)) == ["sent"]
    ((_, _, message),) = poster.sent
    post = await service.daily_store.post(KEY, "2026-11-23")
    assert post is not None and post.passage_id == message.passage_id != intent.passage_id


async def test_reflection_follows_the_daily_schedule_else_the_first_by_name(service) -> None:
    await _set(service, name="poems", kind="poem")
    await _set(service, name="zz essays", kind="essay")
    first = await service.daily_picker.todays_passage(GUILD)
    await _set(service, kind="journal")  # the "daily" schedule
    daily = await service.daily_picker.todays_passage(GUILD)
    assert first is not None and first[0].id.startswith("shape-of-attention-")
    assert daily is not None and daily[0].id.startswith("metaphor-")


async def test_without_nonces_a_failed_lookup_never_sends_again(service) -> None:
    """Where a repeated send would post twice (a forum), not knowing whether the post went
    out means waiting, not sending: retried while Discord cannot tell, paused when a
    permission is missing, and the post is found once Discord can answer."""
    await _set(service)
    poster = FakePoster()
    poster.nonces_work = False
    poster.crash_after_send = True
    with pytest.raises(Crash):
        await _run(service, poster, DUE)
    poster.crash_after_send = False
    poster.lookup_error = PostTransient("Discord error 503")
    assert await _run(service, poster, DUE + timedelta(seconds=30)) == ["retrying"]
    poster.lookup_error = PostBlocked("Lectern lacks a permission in #forum")
    schedule = await service.daily_store.schedule(GUILD, "daily")
    assert schedule is not None
    assert await service.daily_runner.run_one(schedule, DUE + timedelta(minutes=2), poster) == (
        "paused"
    )
    poster.lookup_error = None
    await _set(service)  # someone fixed it and ran /daily set again
    assert await _run(service, poster, DUE + timedelta(minutes=3)) == ["sent"]
    assert len(poster.sent) == 1  # never a second post
    post = await service.daily_store.post(KEY, "2026-11-23")
    assert post is not None and post.state == "sent" and post.message_id == 1000


async def test_a_running_post_never_overwrites_newer_settings(service) -> None:
    """/daily set while a post of the old settings is on its way: that post completes, but the
    new days and time stand (the runner's writes are guarded by the schedule's revision)."""
    old = await _set(service)
    await _set(service, days_text="sat", time_text="10:00")  # revision + 1
    poster = FakePoster()
    assert await service.daily_runner.run_one(old, DUE, poster) == "sent"
    schedule = await service.daily_store.schedule(GUILD, "daily")
    assert schedule is not None and (schedule.next_date, schedule.local_time) == (
        "2026-11-28", "10:00",
    )  # fmt: skip
    assert schedule.revision == 1 and len(poster.sent) == 1


async def test_a_date_that_is_not_one_of_the_schedules_days_is_never_posted(service) -> None:
    schedule = await _set(service, days_text="sat")
    monday = dataclasses.replace(schedule, next_date="2026-11-23", next_due=int(DUE.timestamp()))
    poster = FakePoster()
    assert await service.daily_runner.run_one(monday, DUE, poster) == "skipped"
    assert poster.sent == [] and await service.daily_store.post(KEY, "2026-11-23") is None


async def test_the_history_of_a_schedule_turned_off_stays_readable(service) -> None:
    await _set(service, name="poems", kind="poem")
    await _set(service, time_text="10:00")
    assert sorted(await _run(service, FakePoster(), DUE + timedelta(hours=1))) == ["late", "sent"]
    await service.daily.off(GUILD, "Poems")
    history = await service.daily.history(GUILD, 7, "POEMS")
    with pytest.raises(UserError) as unknown:
        await service.daily.history(GUILD, 7, "essays")
    (card,) = history.cards
    assert card.title is not None and card.title.endswith(": poems")
    assert "shape-of-attention-" in card.description
    assert "no schedule called “essays”" in str(unknown.value) and "**daily**" in str(unknown.value)


async def test_a_burst_comes_in_an_order_that_changes_from_day_to_day(store: Services) -> None:
    """Thousands due at 09:00 go out over minutes: no server may always be the last."""
    daily = DailyStore(store.db)
    ids = [((n * 7_919_111) << 22) | n for n in range(1, 61)]
    for gid in ids:
        await daily.save_schedule(Schedule(gid, 1, "09:00", "UTC", None, False, "x", 100), 0)
    days = [86_400 * d + 100 for d in range(20_000, 20_007)]
    orders = [[s.guild_id for s in await daily.due(day, None, limit=100)] for day in days]
    assert all(sorted(order) == sorted(ids) for order in orders)
    assert len({tuple(order) for order in orders}) == len(days)  # a new order every day
    lasts = Counter(order[-1] for order in orders)
    assert max(lasts.values()) <= 2  # shuffled: no server is last day after day
