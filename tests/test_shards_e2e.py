"""Lectern past one shard and one process: the real AutoShardedBot against the fake Discord
taught several shards (GET /gateway/bot's count, IDENTIFY per shard, each guild's events on its
own shard, close code 4011 past a shard's guild limit)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import discord
import pytest
from discord.ext import commands

from bot.config import BUNDLED_PASSAGES
from bot.core.db import Database
from bot.corpus.ingest import sync_corpus
from bot.daily.store import DailyStore
from tests.fakediscord import FakeDiscord
from tests.lectern_harness import TestClock, due_schedule, run_lectern
from tests.test_daily_e2e import posts

DUE = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


async def test_discord_refuses_one_shard_past_its_guild_limit(fake_discord) -> None:
    fake_discord.max_guilds_per_shard = 2  # Discord's is 2,500: the rule, not the number
    for n in range(3):
        fake_discord.add_guild(f"Guild {n}")
    bot = commands.Bot(command_prefix="!", intents=discord.Intents.none())
    with pytest.raises(discord.ConnectionClosed) as closed:
        async with fake_discord.running(bot, timeout=5):
            pass
    assert closed.value.code == 4011


async def test_recommended_shards_run_in_one_process(fake_discord, tmp_path) -> None:
    fake_discord.recommended_shards = 2
    first = fake_discord.add_guild("On shard 0", shard=(0, 2))
    second = fake_discord.add_guild("On shard 1", shard=(1, 2))
    boss = next(m for m in first.members if m.user.id == fake_discord.owner.id)
    async with run_lectern(fake_discord, tmp_path, dev_guild_id=first.id) as bot:
        assert bot.shard_count == 2 and fake_discord.connected_shards() == {0: 2, 1: 2}
        assert {g.id: g.shard_id for g in bot.guilds} == {first.id: 0, second.id: 1}
        quotes = [
            await fake_discord.slash("quote", guild=g, user=g.add_member("reader"))
            for g in (first, second)
        ]
        stats = await fake_discord.slash("admin stats", guild=first, user=boss)
    assert all(q.data.get("components") for q in quotes)  # answered on each shard
    fields = {f["name"]: f["value"] for f in stats.data["embeds"][0]["fields"]}
    lines = fields["Shards here (of 2)"].splitlines()
    assert [line.split(":")[0] for line in lines] == ["#0", "#1"]
    assert all(line.endswith(", 1 servers") for line in lines)
    assert [g["shard"] for g in fake_discord.gateway_identities()] == [[0, 2], [1, 2]]


async def test_a_cluster_of_two_processes_posts_each_schedule_once(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    """Two processes with the same token and database, one shard each: each posts only for
    the guilds of its shard, and together every schedule is posted exactly once."""
    guilds = [fake_discord.add_guild(f"Guild {n}", shard=(n % 2, 2)) for n in range(6)]
    channels = [g.channel("general") for g in guilds]
    clock = TestClock(DUE - timedelta(minutes=1))
    async with await Database.open(tmp_path / "lectern.sqlite3") as db:
        await sync_corpus(db, BUNDLED_PASSAGES)
        for channel in channels:
            await DailyStore(db).save_schedule(due_schedule(channel, DUE), 0)
    cluster = {"shard_count": 2, "sync": False, "clock": clock}
    async with run_lectern(fake_discord, tmp_path, shard_ids=(0,), **cluster) as zero:
        async with run_lectern(fake_discord, tmp_path, shard_ids=(1,), **cluster) as one:
            assert fake_discord.connected_shards() == {0: 2, 1: 2}
            assert {g.id for g in zero.guilds} == {g.id for g in guilds[0::2]}
            # Discord's 50 requests a second are the bot's, shared by the whole cluster
            paces = [b.scheduler.poster.pacer.interval for b in (zero, one)]  # type: ignore[attr-defined]
            assert paces == pytest.approx([2 / 45, 2 / 45])  # each half of 45 a second
            done_zero = await zero.scheduler.run_due(DUE)
            again_zero = await zero.scheduler.run_due(DUE)
            done_one = await one.scheduler.run_due(DUE)
    assert done_zero == ["sent"] * 3 and again_zero == [] and done_one == ["sent"] * 3
    assert [len(posts(fake_discord, c)) for c in channels] == [1] * 6


async def test_a_schedule_written_by_another_process_is_noticed_within_seconds(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    """Nothing wakes this process when another one (or the shell) changes a schedule: its
    scheduler looks again every few seconds (here a fraction of one) instead of sleeping on."""
    guild = fake_discord.add_guild("Readers")
    general = guild.channel("general")
    clock = TestClock(DUE)
    async with run_lectern(fake_discord, tmp_path, clock=clock, sync=False) as bot:
        bot.scheduler.poll_seconds = 0.2
        bot.scheduler.wake()  # start its next sleep with the short poll
        async with await Database.open(tmp_path / "lectern.sqlite3") as shell:
            await DailyStore(shell).save_schedule(due_schedule(general, DUE), 0)
        await fake_discord.wait_for(lambda: posts(fake_discord, general), what="the post")
    assert len(posts(fake_discord, general)) == 1


async def test_each_shard_gets_only_its_guilds_events_after_a_redeploy(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    """An unsharded deployment, then a process running only shard 1 of 2: a guild of shard 1
    is answered by it, a guild of shard 0 (nobody runs it now) gets nothing."""
    mine = fake_discord.add_guild("Shard one", shard=(1, 2))
    theirs = fake_discord.add_guild("Shard zero", shard=(0, 2))
    async with run_lectern(fake_discord, tmp_path):
        pass
    async with run_lectern(fake_discord, tmp_path, shard_count=2, shard_ids=(1,), sync=False):
        answered = await fake_discord.slash("quote", guild=mine, user=mine.add_member("a"))
        unheard = await fake_discord.slash(
            "quote", guild=theirs, user=theirs.add_member("b"), wait=False
        )
    assert answered.data.get("components")
    assert unheard.attempts == []  # no process got it, so no one answered
    fake_discord.interactions.pop(unheard.id, None)  # Discord's "did not respond", on purpose
