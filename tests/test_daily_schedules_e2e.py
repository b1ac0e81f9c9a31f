"""Several named schedules per server, chosen days, chosen passages and forum posts, end to end:
the real LecternBot against the fake Discord, time moved by the test."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import discord
import pytest

from bot.daily.posting import footer_passage_id, make_nonce
from tests.fakediscord import FakeDiscord
from tests.lectern_harness import TestClock, run_lectern, shown
from tests.test_daily_e2e import (
    Crash,
    die_while_posting,
    posts,
    scheduler,
    set_daily,
    text,
    until,
)

MONDAY = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)  # 08:00 in Berlin


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """An instant in the week of Monday 23 November 2026 (UTC; Berlin is UTC+1)."""
    return datetime(2026, 11, 23 + day, hour, minute, tzinfo=UTC)


def passage_of(message: dict[str, Any]) -> str:
    return footer_passage_id(shown(message).subtext)


async def overwrites_removed(fake: FakeDiscord, bot: Any, channel: Any, flag: str) -> None:
    """The server removes the channel's overwrites; wait until the bot sees ``flag`` again."""
    channel.overwrites.clear()
    await fake.dispatch("CHANNEL_UPDATE", channel.to_dict())
    guild = bot.get_guild(channel.guild_id)
    await fake.wait_for(
        lambda: getattr(bot.get_channel(channel.id).permissions_for(guild.me), flag)
    )


@pytest.fixture
def guild(fake_discord: FakeDiscord):
    guild = fake_discord.add_guild("Readers", channels=["general", "quiet"])
    guild.add_channel("ideas", type=15)
    guild.add_channel("gallery", type=16)
    return guild


@pytest.fixture
def admin(guild):
    return guild.add_member("admin", permissions=discord.Permissions(manage_guild=True))


async def test_two_schedules_each_post_once_from_their_own_passages(
    fake_discord, tmp_path, guild, admin
) -> None:
    general, quiet = guild.channel("general"), guild.channel("quiet")
    clock = TestClock(MONDAY)
    async with run_lectern(fake_discord, tmp_path, clock=clock) as bot:
        poems = await set_daily(fake_discord, guild, admin, kind="poem")
        essay = await set_daily(
            fake_discord, guild, admin, channel=quiet, time="09:30", name="essays",
            document="permanent-thing",
        )  # fmt: skip
        assert "Daily reflections on" in text(poems) and "poems only" in text(poems)
        assert "**essays**" in text(essay) and "The Permanent Thing" in text(essay)
        names = await fake_discord.autocomplete(
            "daily status", focused="name", value="ess", guild=guild, user=admin
        )
        listing = await fake_discord.slash("daily list", guild=guild, user=admin)
        unnamed = await fake_discord.slash("daily status", guild=guild, user=admin)
        named = await fake_discord.slash(
            "daily status", guild=guild, user=admin, options={"name": "Essays"}
        )
        run = scheduler(bot).run_due
        for day in range(5):
            assert await run(at(day, 7, 59)) == []
            assert await run(at(day, 8, 0)) == ["sent"]  # the poem, at 09:00 Berlin
            assert await run(at(day, 8, 29)) == []
            assert await run(at(day, 8, 30)) == ["sent"]  # the essay, at 09:30
            assert await run(at(day, 12, 0)) == []
        clock.now = at(4, 12)
        reflection = await fake_discord.slash("reflection", guild=guild, user=admin)
    assert [c["value"] for c in names.choices] == ["essays"]
    listed = text(listing)
    assert "**daily** in <#" in listed and "**essays** in <#" in listed
    assert f"<#{quiet.id}>, every day at **09:30** Europe/Berlin" in listed
    assert listed.count("<t:") == 4  # each schedule's next post, absolute and relative
    assert "2 schedules" in text(unnamed) and "`name`" in text(unnamed)
    assert "Daily reflections: essays" in text(named)
    poem_days, essay_days = posts(fake_discord, general), posts(fake_discord, quiet)
    assert len(poem_days) == len(essay_days) == 5
    poem_ids, essay_ids = [passage_of(m) for m in poem_days], [passage_of(m) for m in essay_days]
    assert all(p.startswith("shape-of-attention-") for p in poem_ids)
    assert all(p.startswith("permanent-thing-") for p in essay_ids)
    assert len(set(poem_ids)) == len(set(essay_ids)) == 5  # no repeats before the end
    days = [date(2026, 11, 23) + timedelta(days=d) for d in range(5)]
    assert [m["nonce"] for m in essay_days] == [make_nonce(guild.id, "essays", d) for d in days]
    # /reflection shows the passage of the server's "daily" schedule that day
    assert passage_of(reflection.data) == poem_ids[-1]


async def test_a_weekday_schedule_skips_the_weekend_without_missing_it(
    fake_discord, tmp_path, guild, admin
) -> None:
    general = guild.channel("general")
    friday_morning = at(4, 7)
    clock = TestClock(friday_morning)
    async with run_lectern(fake_discord, tmp_path, clock=clock) as bot:
        reply = await set_daily(fake_discord, guild, admin, days="Weekdays")
        assert "on weekdays at **09:00**" in text(reply)
        run = scheduler(bot).run_due
        assert await run(at(4, 8)) == ["sent"]  # Friday
        assert await run(at(5, 8)) == [] and await run(at(6, 8)) == []  # Saturday, Sunday
        status = await fake_discord.slash("daily status", guild=guild, user=admin)
    monday = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    assert f"<t:{int(monday.timestamp())}:F>" in text(status)
    # Lectern is down all weekend and comes back on Monday at 10:00 Berlin: Monday's post goes
    # out late; Saturday and Sunday were never due, so they are not missed
    clock.now = monday + timedelta(hours=1)
    async with run_lectern(fake_discord, tmp_path, clock=clock, sync=False) as bot:
        await fake_discord.wait_for(lambda: len(posts(fake_discord, general)) == 2)
        assert await scheduler(bot).run_due() == []
        history = await fake_discord.slash("daily history", guild=guild, user=admin)
    logged = text(history)
    assert "2026-11-30` [🕒 posted late]" in logged and "2026-11-27` [✅ posted]" in logged
    assert "2026-11-28" not in logged and "2026-11-29" not in logged and "missed" not in logged


@pytest.mark.parametrize(
    ("days", "problem"),
    [
        ("mon,,", "empty item"),
        (",mon", "empty item"),
        ("mon, ,wed", "empty item"),
        ("someday", "“someday”, which is not a day"),
        ("mo", "“mo”, which is not a day"),
        ("weekday", "“weekday”, which is not a day"),
        ("mon;wed", "“mon;wed”, which is not a day"),
        ("1,2,3", "“1”, which is not a day"),
    ],
)
async def test_bad_days_change_nothing_and_show_the_accepted_forms(
    fake_discord, tmp_path, guild, admin, days, problem
) -> None:
    async with run_lectern(fake_discord, tmp_path, clock=TestClock(MONDAY)) as bot:
        await set_daily(fake_discord, guild, admin, time="10:00")
        reply = await set_daily(fake_discord, guild, admin, days=days)
        schedule = await bot.services.daily_store.schedule(guild.id, "daily")  # type: ignore[union-attr]
    assert problem in text(reply) and "`weekdays`" in text(reply) and "`mon,wed,fri`" in text(reply)
    assert schedule is not None and schedule.local_time == "10:00" and schedule.days == 0b1111111


async def test_the_schedule_limit_and_replacing_by_name(fake_discord, tmp_path, guild, admin):
    async with run_lectern(
        fake_discord, tmp_path, clock=TestClock(MONDAY), daily_max_schedules=2
    ) as bot:
        await set_daily(fake_discord, guild, admin, name="mornings")
        await set_daily(fake_discord, guild, admin, name="evenings", time="20:00")
        third = await set_daily(fake_discord, guild, admin, name="noon", time="12:00")
        changed = await set_daily(fake_discord, guild, admin, name="EVENINGS", time="21:00")
        await fake_discord.slash("daily off", guild=guild, user=admin, options={"name": "mornings"})
        again = await set_daily(fake_discord, guild, admin, name="noon", time="12:00")
        stored = await bot.services.daily_store.schedules(guild.id)  # type: ignore[union-attr]
        invisible = await set_daily(fake_discord, guild, admin, name="two\u200bparts")
    assert "already has 2 schedules" in text(third) and "**mornings**" in text(third)
    assert "Daily schedule changed" in text(changed)
    assert "Daily reflections on" in text(again)
    assert [(s.name, s.local_time) for s in stored] == [("evenings", "21:00"), ("noon", "12:00")]
    assert "plain text" in text(invisible)


async def test_a_forum_schedule_starts_one_post_a_day(fake_discord, tmp_path, guild, admin):
    ideas = guild.channel("ideas")
    async with run_lectern(fake_discord, tmp_path, clock=TestClock(MONDAY)) as bot:
        reply = await set_daily(fake_discord, guild, admin, channel=ideas, thread=True)
        assert "a forum post in" in text(reply) and "its own thread" in text(reply)
        run = scheduler(bot).run_due
        assert await run(at(0, 8)) == ["sent"]
        assert await run(at(0, 9)) == []
        assert await run(at(1, 8)) == ["sent"]
        status = await fake_discord.slash("daily status", guild=guild, user=admin)
        stored = await bot.services.daily_store.post((guild.id, "daily"), "2026-11-24")  # type: ignore[union-attr]
    threads = [t for t in guild.threads if t.parent_id == ideas.id]
    assert [t.name for t in threads] == [
        "Reflection for Monday, 23 November 2026",
        "Reflection for Tuesday, 24 November 2026",
    ]
    starters = [fake_discord.messages(t) for t in threads]
    assert [[m["id"] for m in ms] for ms in starters] == [[str(t.id)] for t in threads]
    assert shown(starters[1][0]).heading == threads[1].name
    assert fake_discord.messages(ideas) == []  # nothing sent into the forum itself
    assert fake_discord.calls("POST", "/channels/{channel_id}/messages") == []
    assert stored is not None and stored.thread_id == threads[1].id
    assert f"/{threads[1].id}/{threads[1].id})" in text(status) and "(forum posts)" in text(status)
    assert fake_discord.breaches == []


async def test_a_forum_post_survives_a_crash_without_a_second_post(
    fake_discord, tmp_path, guild, admin, monkeypatch
) -> None:
    """A forum post takes no nonce, so after a crash Lectern must look before posting again,
    even within the two minutes in which a text channel's nonce would have protected it."""
    ideas = guild.channel("ideas")
    clock = TestClock(MONDAY)
    async with run_lectern(fake_discord, tmp_path, clock=clock) as bot:
        await set_daily(fake_discord, guild, admin, channel=ideas)
        await die_while_posting(bot, monkeypatch, after_send=True)  # at 09:00 on Monday
    clock.now = at(0, 8, 1)
    async with run_lectern(fake_discord, tmp_path, clock=clock, sync=False) as bot:
        daily = bot.services.daily_store  # type: ignore[union-attr]

        async def recorded() -> bool:
            post = await daily.post((guild.id, "daily"), "2026-11-23")
            return post is not None and post.state == "sent"

        assert await until(recorded)  # the start-up run found the post
        post = await daily.post((guild.id, "daily"), "2026-11-23")
        assert await scheduler(bot).run_due() == []
    (thread,) = [t for t in guild.threads if t.parent_id == ideas.id]
    assert post is not None and post.thread_id == thread.id and post.message_id == thread.id
    assert len(fake_discord.calls("POST", "/channels/{channel_id}/threads")) == 1
    assert fake_discord.calls("GET", "/guilds/{guild_id}/threads/active")


async def test_forum_and_media_permissions_are_named(fake_discord, tmp_path, guild, admin):
    ideas, gallery = guild.channel("ideas"), guild.channel("gallery")
    fake_discord.deny(ideas, guild.me, discord.Permissions(send_messages_in_threads=True))
    fake_discord.deny(gallery, guild.me, discord.Permissions(attach_files=True))
    async with run_lectern(fake_discord, tmp_path, clock=TestClock(MONDAY)) as bot:
        forum = await set_daily(fake_discord, guild, admin, channel=ideas)
        media = await set_daily(fake_discord, guild, admin, channel=gallery)
        await overwrites_removed(fake_discord, bot, gallery, "attach_files")  # fixed
        ok = await set_daily(fake_discord, guild, admin, channel=gallery)
        assert await scheduler(bot).run_due(at(0, 8)) == ["sent"]
    assert "missing **Send Messages in Threads**" in text(forum)
    assert "missing **Attach Files**" in text(media)  # a media post carries the card by default
    assert "quote card" in text(ok)
    (thread,) = [t for t in guild.threads if t.parent_id == gallery.id]
    (starter,) = fake_discord.messages(thread)
    assert [a["filename"] for a in starter["attachments"]] == [f"{passage_of(starter)}.png"]


async def test_filters_are_checked_and_a_document_not_both(fake_discord, tmp_path, guild, admin):
    async with run_lectern(fake_discord, tmp_path, clock=TestClock(MONDAY)) as bot:
        both = await set_daily(fake_discord, guild, admin, document="metaphor", kind="poem")
        unknown = await set_daily(fake_discord, guild, admin, document="Moby Dick")
        stored = await bot.services.daily_store.schedules(guild.id)  # type: ignore[union-attr]
        offered = await fake_discord.autocomplete(
            "daily set", focused="document", value="shape", guild=guild, user=admin
        )
    assert "not both" in text(both)
    assert "No document called “Moby Dick”" in text(unknown)
    assert stored == []
    assert [c["value"] for c in offered.choices] == ["shape-of-attention"]


async def test_only_channels_lectern_can_post_in_are_offered(fake_discord, tmp_path, guild, admin):
    """The channel option lists text, announcement, forum and media channels (Discord's client
    offers nothing else; the fake enforces the option's channel_types)."""
    category = guild.add_channel("Reading room", type=4)
    async with run_lectern(fake_discord, tmp_path, clock=TestClock(MONDAY)):
        (daily,) = [c for c in fake_discord.commands() if c["name"] == "daily"]
        (set_,) = [o for o in daily["options"] if o["name"] == "set"]
        (channel,) = [o for o in set_["options"] if o["name"] == "channel"]
        with pytest.raises(AssertionError, match="is not offered"):
            await set_daily(fake_discord, guild, admin, channel=category)
    assert sorted(channel["channel_types"]) == [0, 5, 15, 16]


async def test_a_forum_that_requires_a_tag_gets_posts_with_one(fake_discord, tmp_path, admin):
    guild = admin.guild
    tagged = guild.add_channel(
        "book-club", type=15, tags=["Discussion", "Daily reflection"], require_tag=True
    )
    strict = guild.add_channel("announcements-only", type=15, require_tag=True)
    async with run_lectern(fake_discord, tmp_path, clock=TestClock(MONDAY)) as bot:
        refused = await set_daily(fake_discord, guild, admin, channel=strict)
        reply = await set_daily(fake_discord, guild, admin, channel=tagged)
        assert await scheduler(bot).run_due(at(0, 8)) == ["sent"]
    assert "requires a tag" in text(refused) and "not moderator-only" in text(refused)
    assert "posts are tagged “Daily reflection”" in text(reply)
    (thread,) = [t for t in guild.threads if t.parent_id == tagged.id]
    assert thread.applied_tags == [tagged.tags["Daily reflection"]]


async def test_two_schedules_in_one_channel_never_take_each_others_post(
    fake_discord, tmp_path, guild, admin, monkeypatch
) -> None:
    """Both show the only passage there is, under the same title: after a crash past the
    nonce window, the second schedule does not mistake the first one's message for its own."""
    folder = tmp_path / "passages"
    folder.mkdir()
    (folder / "one.md").write_text(
        '+++\ntitle = "One Thought"\nkind = "journal"\nsource = "a test"\n+++\n\nOnly this.\n',
        encoding="utf-8",
    )
    general = guild.channel("general")
    clock = TestClock(MONDAY)
    async with run_lectern(fake_discord, tmp_path, clock=clock, passages=folder) as bot:
        await set_daily(fake_discord, guild, admin, name="first")
        await set_daily(fake_discord, guild, admin, name="second")
        poster = scheduler(bot).poster
        original = poster.send

        async def second_dies(schedule, message, nonce):  # type: ignore[no-untyped-def]
            if schedule.name == "second":
                raise Crash
            return await original(schedule, message, nonce)

        monkeypatch.setattr(poster, "send", second_dies)
        first, second = await bot.services.daily_store.schedules(guild.id)  # type: ignore[union-attr]
        assert await scheduler(bot).runner.run_one(first, at(0, 8), poster) == "sent"
        with pytest.raises(Crash):
            await scheduler(bot).runner.run_one(second, at(0, 8), poster)
        monkeypatch.undo()
    (mine,) = posts(fake_discord, general)
    clock.now = at(0, 8, 10)  # past the nonce window: the restart looks in the channel
    async with run_lectern(fake_discord, tmp_path, clock=clock, passages=folder, sync=False) as bot:
        await fake_discord.wait_for(lambda: len(posts(fake_discord, general)) == 2)
        daily = bot.services.daily_store  # type: ignore[union-attr]
        first = await daily.post((guild.id, "first"), "2026-11-23")
        second = await daily.post((guild.id, "second"), "2026-11-23")
    theirs = posts(fake_discord, general)[1]
    assert passage_of(mine) == passage_of(theirs) == "one-1"
    assert first is not None and first.message_id == int(mine["id"])
    assert second is not None and second.message_id == int(theirs["id"])


async def test_a_forum_lookup_without_read_message_history_pauses_instead_of_reposting(
    fake_discord, tmp_path, guild, admin, monkeypatch
) -> None:
    ideas = guild.channel("ideas")
    clock = TestClock(MONDAY)
    async with run_lectern(fake_discord, tmp_path, clock=clock) as bot:
        await set_daily(fake_discord, guild, admin, channel=ideas)
        await die_while_posting(bot, monkeypatch, after_send=True)  # at 09:00 on Monday
    # while Lectern is down, someone takes away Read Message History in the forum
    fake_discord.deny(ideas, guild.me, discord.Permissions(read_message_history=True))
    clock.now = at(0, 8, 1)
    async with run_lectern(fake_discord, tmp_path, clock=clock, sync=False) as bot:
        daily = bot.services.daily_store  # type: ignore[union-attr]

        async def paused() -> bool:
            schedule = await daily.schedule(guild.id, "daily")
            return schedule is not None and not schedule.active

        assert await until(paused)
        status = await fake_discord.slash("daily status", guild=guild, user=admin)
        refused = await set_daily(fake_discord, guild, admin, channel=ideas)
        await overwrites_removed(fake_discord, bot, ideas, "read_message_history")  # fixed
        await set_daily(fake_discord, guild, admin, channel=ideas)  # resumes: woken, it looks

        async def recorded() -> bool:
            post = await daily.post((guild.id, "daily"), "2026-11-23")
            return post is not None and post.state == "sent"

        assert await until(recorded)
        post = await daily.post((guild.id, "daily"), "2026-11-23")
    assert "paused" in text(status) and "Missing Permissions" in text(status)
    assert "missing **Read Message History**" in text(refused)
    (thread,) = [t for t in guild.threads if t.parent_id == ideas.id]  # still only one post
    assert post is not None and post.thread_id == thread.id
