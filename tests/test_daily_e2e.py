"""Daily reflections end to end: the real LecternBot against the fake Discord, with time moved
by the test (the scheduler's clock is injected; nothing waits for wall-clock time)."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any

import discord
import pytest

from bot.daily.posting import make_nonce
from tests.fakediscord import FakeDiscord
from tests.lectern_harness import TestClock, run_lectern, shown

EPHEMERAL = 64
BEFORE = datetime(2026, 11, 23, 7, 30, tzinfo=UTC)  # 08:30 in Berlin
DUE = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # 09:00 in Berlin
POSTS = "/channels/{channel_id}/messages"


class Crash(BaseException):
    """The process dies here."""


@pytest.fixture
def guild(fake_discord: FakeDiscord):
    return fake_discord.add_guild("Readers", channels=["general", "quiet"])


@pytest.fixture
def admin(guild):
    return guild.add_member("admin", permissions=discord.Permissions(manage_guild=True))


def posts(fake: FakeDiscord, channel: Any) -> list[dict[str, Any]]:
    """Messages the bot posted by itself (not interaction answers)."""
    return [
        m
        for m in fake.messages(channel)
        if "interaction_metadata" not in m and not m.get("flags", 0) & EPHEMERAL
    ]


def text(reply: Any) -> str:
    """What an answer says: an embed's parts, or a Components V2 panel's text."""
    if not reply.data.get("embeds"):
        return shown(reply.data).text
    embed = reply.data["embeds"][0]
    parts = [embed.get("title") or "", embed.get("description") or ""]
    parts += [f"{f['name']}: {f['value']}" for f in embed.get("fields") or []]
    return "\n".join([reply.data.get("content") or "", *parts])


def scheduler(bot: Any):
    assert bot.get_cog("Daily") is not None  # the cog runs the bot's scheduler
    return bot.scheduler


async def set_daily(fake: FakeDiscord, guild: Any, admin: Any, **options: Any) -> Any:
    values = {"channel": guild.channel("general"), "time": "09:00", "timezone": "Europe/Berlin"}
    values.update(options)
    reply = await fake.slash("daily set", guild=guild, user=admin, options=values)
    assert reply.data["flags"] & EPHEMERAL
    return reply


async def test_set_post_at_the_instant_then_status_reflection_history(
    fake_discord, tmp_path, guild, admin
) -> None:
    clock = TestClock(BEFORE)
    general = guild.channel("general")
    reader = guild.add_member("reader")
    async with run_lectern(fake_discord, tmp_path, clock=clock) as bot:
        registered = {c["name"]: c for c in fake_discord.commands()}
        assert registered["daily"]["default_member_permissions"] == str(1 << 5)
        assert registered["daily"]["contexts"] == [0]
        reply = await set_daily(fake_discord, guild, admin)
        assert f"<t:{int(DUE.timestamp())}:F>" in text(reply)
        preview = await fake_discord.slash("daily preview", guild=guild, user=admin)
        assert preview.data["flags"] & EPHEMERAL and "nothing is posted" in text(preview)
        assert await scheduler(bot).run_due(DUE - timedelta(seconds=1)) == []
        assert posts(fake_discord, general) == []
        # time reaches 09:00 Berlin: the sleeping scheduler is woken and posts
        clock.now = DUE
        scheduler(bot).wake()
        await fake_discord.wait_for(lambda: posts(fake_discord, general), what="daily post")
        (post,) = posts(fake_discord, general)
        assert post["nonce"] == make_nonce(guild.id, "daily", date(2026, 11, 23))
        assert shown(post).heading == "Reflection for Monday, 23 November 2026"
        posted, previewed = shown(post), shown(preview.data)
        assert (posted.body, posted.subtext) == (previewed.body, previewed.subtext)
        body = fake_discord.calls("POST", POSTS)[-1].body
        assert body["enforce_nonce"] is True and body["allowed_mentions"] == {"parse": []}
        # /reflection in that server shows the same passage that day
        reflection = await fake_discord.slash("reflection", guild=guild, user=reader)
        assert shown(reflection.data).subtext == shown(post).subtext
        clock.now = DUE + timedelta(hours=1)
        assert await scheduler(bot).run_due() == []  # once per date
        status = await fake_discord.slash("daily status", guild=guild, user=admin)
        history = await fake_discord.slash("daily history", guild=guild, user=admin)
        off = await fake_discord.slash("daily off", guild=guild, user=admin)
        assert "Daily reflections off" in text(off) and "No more posts" in text(off)
        again = await fake_discord.slash("daily status", guild=guild, user=admin)
    status_text = text(status)
    assert f"/{general.id}/{post['id']}" in status_text
    assert f"<t:{int((DUE + timedelta(days=1)).timestamp())}:F>" in status_text
    assert "2026-11-23" in text(history) and post["id"] in text(history)
    assert "off here" in text(again)
    assert len(posts(fake_discord, general)) == 1


async def test_permissions_autocomplete_and_missing_bot_permissions(
    fake_discord, tmp_path, guild, admin
) -> None:
    quiet = guild.channel("quiet")
    fake_discord.deny(quiet, guild.me, discord.Permissions(embed_links=True))
    pleb = guild.add_member("pleb")
    async with run_lectern(fake_discord, tmp_path, clock=TestClock(BEFORE)) as bot:
        berlin = await fake_discord.autocomplete(
            "daily set", focused="timezone", value="berlin", guild=guild, user=admin
        )
        new_york = await fake_discord.autocomplete(
            "daily set", focused="timezone", value="new york", guild=guild, user=admin
        )
        denied = await set_daily(fake_discord, guild, pleb)
        missing = await set_daily(fake_discord, guild, admin, channel=quiet)
        bad_time = await set_daily(fake_discord, guild, admin, time="25:00")
        bad_zone = await set_daily(fake_discord, guild, admin, timezone="Atlantis")
        assert await bot.services.daily_store.schedule(guild.id, "daily") is None  # type: ignore[union-attr]
    assert [c["value"] for c in berlin.choices] == ["Europe/Berlin"]
    assert new_york.choices[0]["value"] == "America/New_York"
    assert "Manage Server" in text(denied)
    assert "missing **Embed Links**" in text(missing) and f"<#{quiet.id}>" in text(missing)
    assert "HH:MM" in text(bad_time)
    assert "not a time zone" in text(bad_zone)


async def test_role_ping_mentions_only_that_role_and_a_thread_opens(
    fake_discord, tmp_path, guild, admin
) -> None:
    clock = TestClock(BEFORE)
    role = guild.add_role("readers")
    general = guild.channel("general")
    async with run_lectern(fake_discord, tmp_path, clock=clock) as bot:
        await set_daily(fake_discord, guild, admin, role=role, thread=True)
        assert await scheduler(bot).run_due(DUE) == ["sent"]
    (post,) = posts(fake_discord, general)
    assert shown(post).note == f"<@&{role.id}>"  # a text display above the passage
    body = fake_discord.calls("POST", POSTS)[-1].body
    assert body["allowed_mentions"] == {"parse": [], "roles": [role.id]}
    (thread,) = guild.threads
    assert thread.id == int(post["id"]) and thread.name == "Reflection · 23 November 2026"


@pytest.mark.parametrize(
    ("status", "code", "reason"),
    [(403, 50013, "Missing Permissions"), (403, 50001, "Missing Access"), (404, 10003, "deleted")],
)
async def test_403_and_404_pause_without_retrying(
    fake_discord, tmp_path, guild, admin, status, code, reason
) -> None:
    general = guild.channel("general")
    async with run_lectern(fake_discord, tmp_path, clock=TestClock(BEFORE)) as bot:
        await set_daily(fake_discord, guild, admin)
        fake_discord.fail_channel(general, status=status, code=code)
        assert await scheduler(bot).run_due(DUE) == ["paused"]
        for hours in (1, 5, 30):
            assert await scheduler(bot).run_due(DUE + timedelta(hours=hours)) == []
        status_reply = await fake_discord.slash("daily status", guild=guild, user=admin)
    assert [r.status for r in fake_discord.calls("POST", POSTS) if "nonce" in r.body] == [status]
    assert reason in text(status_reply) and "paused" in text(status_reply)


async def test_permission_lost_is_seen_before_any_request(
    fake_discord, tmp_path, guild, admin
) -> None:
    general = guild.channel("general")
    async with run_lectern(fake_discord, tmp_path, clock=TestClock(BEFORE)) as bot:
        await set_daily(fake_discord, guild, admin)
        fake_discord.deny(general, guild.me, discord.Permissions(send_messages=True))
        await fake_discord.dispatch("CHANNEL_UPDATE", general.to_dict())
        await fake_discord.wait_for(
            lambda: (
                not bot.get_channel(general.id)
                .permissions_for(  # type: ignore[union-attr]
                    bot.get_guild(guild.id).me  # type: ignore[union-attr]
                )
                .send_messages
            )
        )
        assert await scheduler(bot).run_due(DUE) == ["paused"]
        status = await fake_discord.slash("daily status", guild=guild, user=admin)
    assert not [r for r in fake_discord.calls("POST", POSTS) if "nonce" in r.body]
    assert "Send Messages" in text(status)


async def test_channel_deleted_pauses_and_leaving_the_server_cleans_up(
    fake_discord, tmp_path, guild, admin
) -> None:
    general = guild.channel("general")
    async with run_lectern(fake_discord, tmp_path, clock=TestClock(BEFORE)) as bot:
        daily = bot.services.daily_store
        await set_daily(fake_discord, guild, admin)
        guild.channels.remove(general)
        await fake_discord.dispatch("CHANNEL_DELETE", general.to_dict())
        await fake_discord.wait_for(lambda: bot.get_channel(general.id) is None)

        async def paused() -> bool:  # the listener runs as its own task
            schedule = await daily.schedule(guild.id, "daily")
            return schedule is not None and bool(schedule.paused_reason)

        assert await until(paused)
        schedule = await daily.schedule(guild.id, "daily")
        assert schedule is not None and "deleted" in (schedule.paused_reason or "")
        await fake_discord.dispatch("GUILD_DELETE", {"id": str(guild.id)})
        await fake_discord.wait_for(lambda: bot.get_guild(guild.id) is None)

        async def forgotten() -> bool:  # one transaction on a connection of its own
            return await daily.schedule(guild.id, "daily") is None

        assert await until(forgotten)


async def test_transient_error_retries_with_backoff(fake_discord, tmp_path, guild, admin) -> None:
    general = guild.channel("general")
    async with run_lectern(fake_discord, tmp_path, clock=TestClock(BEFORE)) as bot:
        await set_daily(fake_discord, guild, admin)
        fake_discord.fail_channel(general, status=503, code=0)
        assert await scheduler(bot).run_due(DUE) == ["retrying"]
        assert await scheduler(bot).run_due(DUE + timedelta(seconds=10)) == []
        fake_discord.heal_channel(general)
        assert await scheduler(bot).run_due(DUE + timedelta(seconds=30)) == ["sent"]
        fake_discord.rate_limit(POSTS, retry_after=0.01)  # discord.py waits and retries a 429
        assert await scheduler(bot).run_due(DUE + timedelta(days=1)) == ["sent"]
    assert len(posts(fake_discord, general)) == 2


async def test_restart_before_and_after_the_post_time(fake_discord, tmp_path, guild, admin) -> None:
    general = guild.channel("general")
    clock = TestClock(BEFORE)
    async with run_lectern(fake_discord, tmp_path, clock=clock):
        await set_daily(fake_discord, guild, admin)
    # restarted before 09:00: nothing yet, then the post at 09:00
    clock.now = DUE - timedelta(minutes=1)
    async with run_lectern(fake_discord, tmp_path, clock=clock, sync=False) as bot:
        assert await scheduler(bot).run_due() == []
        assert await scheduler(bot).run_due(DUE) == ["sent"]
    # down over the next day's post; back 2 hours late (within the 6 h grace): posted, late
    clock.now = DUE + timedelta(days=1, hours=2)
    async with run_lectern(fake_discord, tmp_path, clock=clock, sync=False) as bot:
        await fake_discord.wait_for(lambda: len(posts(fake_discord, general)) == 2)
        history = await fake_discord.slash("daily history", guild=guild, user=admin)
    assert "🕒 posted late" in text(history)
    # down for the third day's post beyond the grace period: missed, not posted
    clock.now = DUE + timedelta(days=2, hours=8)
    async with run_lectern(fake_discord, tmp_path, clock=clock, sync=False) as bot:
        assert await scheduler(bot).run_due() == []  # the start-up run already handled it
        history = await fake_discord.slash("daily history", guild=guild, user=admin)
        schedule = await bot.services.daily_store.schedule(guild.id, "daily")  # type: ignore[union-attr]
    assert "2026-11-25` ⏭️ missed" in text(history)
    assert schedule is not None and schedule.next_date == "2026-11-26"
    assert len(posts(fake_discord, general)) == 2


async def die_while_posting(bot: Any, monkeypatch: pytest.MonkeyPatch, *, after_send: bool) -> None:
    """The process dies in the middle of the 09:00 post: before or after Discord got it."""
    poster = scheduler(bot).poster
    original = poster.send

    async def dying_send(schedule, message, nonce):  # type: ignore[no-untyped-def]
        if after_send:
            await original(schedule, message, nonce)
        raise Crash

    monkeypatch.setattr(poster, "send", dying_send)
    with pytest.raises(Crash):
        await scheduler(bot).run_due(DUE)


async def until(check: Any, seconds: float = 10.0) -> bool:
    """Poll the coroutine function ``check`` until it is true (False after ``seconds``)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True


async def settled_post(fake: FakeDiscord, bot: Any, guild: Any) -> Any:
    """The day's post once the restarted bot's start-up run has sent or found it (polled for
    up to 10 s: on a loaded machine the start-up run can take a while)."""
    deadline = asyncio.get_running_loop().time() + 10
    while True:
        state = await bot.services.daily_store.post((guild.id, "daily"), "2026-11-23")
        done = state is not None and state.state in ("sent", "late")
        if done or asyncio.get_running_loop().time() > deadline:
            return state
        await asyncio.sleep(0.01)


@pytest.mark.parametrize("crash_after_send", [False, True])
async def test_killed_between_intent_and_result_posts_exactly_once(
    fake_discord, tmp_path, guild, admin, monkeypatch, crash_after_send
) -> None:
    general = guild.channel("general")
    clock = TestClock(BEFORE)

    async with run_lectern(fake_discord, tmp_path, clock=clock) as bot:
        await set_daily(fake_discord, guild, admin)
        await die_while_posting(bot, monkeypatch, after_send=crash_after_send)
        state = await bot.services.daily_store.post((guild.id, "daily"), "2026-11-23")  # type: ignore[union-attr]
        assert state is not None and state.state == "intent"
    # the process comes back a minute later: the start-up run finishes the post
    clock.now = DUE + timedelta(minutes=1)
    async with run_lectern(fake_discord, tmp_path, clock=clock, sync=False) as bot:
        await fake_discord.wait_for(lambda: posts(fake_discord, general))
        state = await settled_post(fake_discord, bot, guild)
        assert await scheduler(bot).run_due() == []
    (post,) = posts(fake_discord, general)
    assert state is not None and state.state == "sent" and state.message_id == int(post["id"])
    nonces = [r.body["nonce"] for r in fake_discord.calls("POST", POSTS) if "nonce" in r.body]
    assert nonces == [make_nonce(guild.id, "daily", date(2026, 11, 23))] * (
        2 if crash_after_send else 1
    )


@pytest.mark.parametrize("crash_after_send", [False, True])
async def test_restart_past_the_nonce_window_reads_history_and_matches_exactly(
    fake_discord, tmp_path, guild, admin, monkeypatch, crash_after_send
) -> None:
    general = guild.channel("general")
    clock = TestClock(BEFORE)
    async with run_lectern(fake_discord, tmp_path, clock=clock) as bot:
        await set_daily(fake_discord, guild, admin)
        await die_while_posting(bot, monkeypatch, after_send=crash_after_send)
        intent = await bot.services.daily_store.post((guild.id, "daily"), "2026-11-23")
        assert intent is not None and intent.passage_id is not None
    sent_before = posts(fake_discord, general)
    # A newer message of the bot's with the same title whose passage id only *contains* this
    # one (metaphor-1 is inside metaphor-12): it must not be taken for the post.
    title = "Reflection for Monday, 23 November 2026"
    decoy = fake_discord.post_as_bot(
        general, {"embeds": [{"title": title, "footer": {"text": f"x · {intent.passage_id}2"}}]}
    )
    # back ten minutes later: Discord no longer de-duplicates the nonce
    clock.now = DUE + timedelta(minutes=10)
    fake_discord.advance_clock(600)
    async with run_lectern(fake_discord, tmp_path, clock=clock, sync=False) as bot:
        state = await settled_post(fake_discord, bot, guild)
    assert fake_discord.calls("GET", POSTS), "the channel's history was read"
    real = [m for m in posts(fake_discord, general) if m["id"] != decoy["id"]]
    assert len(real) == 1  # exactly one post, whether or not the first send got through
    assert state is not None and state.message_id == int(real[0]["id"])
    if crash_after_send:
        assert real == sent_before and state.state == "sent"  # found, not sent again
    else:
        assert sent_before == [] and state.state == "late"  # sent now, ten minutes late


async def test_two_servers_in_different_zones_across_a_dst_change(
    fake_discord, tmp_path, admin, guild
) -> None:
    other = fake_discord.add_guild("Far", channels=["general"])
    boss = other.add_member("boss", permissions=discord.Permissions(manage_guild=True))
    clock = TestClock(datetime(2026, 10, 24, 0, 0, tzinfo=UTC))
    async with run_lectern(fake_discord, tmp_path, clock=clock) as bot:
        await set_daily(fake_discord, guild, admin)  # 09:00 Berlin
        await set_daily(fake_discord, other, boss, timezone="America/New_York")
        run = scheduler(bot).run_due
        # Saturday: 09:00 CEST is 07:00 UTC; 09:00 EDT is 13:00 UTC
        assert await run(datetime(2026, 10, 24, 7, 0, tzinfo=UTC)) == ["sent"]
        assert await run(datetime(2026, 10, 24, 12, 59, tzinfo=UTC)) == []
        assert await run(datetime(2026, 10, 24, 13, 0, tzinfo=UTC)) == ["sent"]
        # Sunday, Berlin is back on CET: 09:00 local is now 08:00 UTC, not 07:00
        assert await run(datetime(2026, 10, 25, 7, 30, tzinfo=UTC)) == []
        assert await run(datetime(2026, 10, 25, 8, 0, tzinfo=UTC)) == ["sent"]
    mine = posts(fake_discord, guild.channel("general"))
    theirs = posts(fake_discord, other.channel("general"))
    saturday, sunday = date(2026, 10, 24), date(2026, 10, 25)
    assert [m["nonce"] for m in mine] == [
        make_nonce(guild.id, "daily", d) for d in (saturday, sunday)
    ]
    assert [m["nonce"] for m in theirs] == [make_nonce(other.id, "daily", saturday)]


async def test_admin_stats_counts_daily_posts_and_paused_schedules(
    fake_discord, tmp_path, guild, admin
) -> None:
    other = fake_discord.add_guild("Other", channels=["general"])
    other_admin = other.add_member("boss", permissions=discord.Permissions(manage_guild=True))
    owner = next(m for m in guild.members if m.user.id == fake_discord.owner.id)
    async with run_lectern(
        fake_discord, tmp_path, clock=TestClock(BEFORE), dev_guild_id=guild.id
    ) as bot:
        await set_daily(fake_discord, guild, admin)
        await set_daily(fake_discord, other, other_admin)
        fake_discord.fail_channel(other.channel("general"), status=404, code=10003)
        assert sorted(await scheduler(bot).run_due(DUE)) == ["paused", "sent"]
        stats = await fake_discord.slash("admin stats", guild=guild, user=owner)
    fields = {f["name"]: f["value"] for f in stats.data["embeds"][0]["fields"]}
    assert "sent 1" in fields["Daily posts"]
    assert "schedules active 1" in fields["Daily posts"]
    assert "schedules paused 1" in fields["Daily posts"]


async def test_a_schedule_with_card_true_posts_the_days_card(
    fake_discord, tmp_path, guild, admin
) -> None:
    general, quiet = guild.channel("general"), guild.channel("quiet")
    fake_discord.deny(quiet, guild.me, discord.Permissions(attach_files=True))
    async with run_lectern(fake_discord, tmp_path, clock=TestClock(BEFORE)) as bot:
        refused = await set_daily(fake_discord, guild, admin, channel=quiet, card=True)
        await set_daily(fake_discord, guild, admin, card=True)
        status = await fake_discord.slash("daily status", guild=guild, user=admin)
        assert await scheduler(bot).run_due(DUE) == ["sent"]
    assert "Attach Files" in text(refused)
    assert "Card: yes" in text(status)
    (post,) = posts(fake_discord, general)
    (attachment,) = post["attachments"]
    passage_id = shown(post).subtext.rsplit(" · ", 1)[1]
    assert attachment["filename"] == f"{passage_id}.png"
    gallery = [c for c in post["components"][0]["components"] if c["type"] == 12]
    assert gallery[0]["items"][0]["media"]["url"] == f"attachment://{passage_id}.png"
    (upload,) = [f for f in fake_discord.files if f["filename"] == attachment["filename"]]
    assert 0 < upload["size"] < 1_000_000
