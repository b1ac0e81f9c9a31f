"""Pacing daily posts under Discord's global rate limit: the Pacer itself (a clock handed in),
and a burst of due schedules through the real client into the fake enforcing the limits."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import discord
import pytest

from bot.core.pacing import Pacer
from tests.lectern_harness import TestClock, due_schedule, run_lectern

DUE = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


async def test_starts_are_spaced_evenly_in_the_order_asked() -> None:
    clock = FakeTime()
    pacer = Pacer(50, clock=clock, sleep=clock.sleep)
    for _ in range(5):
        await pacer.wait()
    assert clock.slept == pytest.approx([0.02, 0.04, 0.06, 0.08])  # the first goes at once
    clock.now += 10  # idle: no credit is saved up for a burst later
    assert pacer.reserve() == 0.0 and pacer.reserve() == pytest.approx(0.02)
    with pytest.raises(ValueError, match="positive"):
        Pacer(0)


async def test_sleepers_woken_together_by_a_stall_still_start_at_most_rate_a_second() -> None:
    """An event loop that stalls (a long GC, a busy CPU) wakes every sleeper whose time passed
    at once; the pacer then holds back those past ``rate`` in the last second."""
    clock = FakeTime()
    resume = asyncio.Event()

    async def sleep(seconds: float) -> None:
        if not resume.is_set():
            await resume.wait()  # the stall: nobody wakes until the loop is back
        else:
            clock.now += seconds

    pacer = Pacer(10, clock=clock, sleep=sleep)
    starts: list[float] = []

    async def one() -> None:
        await pacer.wait()
        starts.append(clock.now)

    tasks = [asyncio.create_task(one()) for _ in range(25)]
    await asyncio.sleep(0)
    clock.now += 2.0  # the loop comes back two seconds late: 20 slots are overdue
    resume.set()
    await asyncio.gather(*tasks)
    assert len(starts) == 25
    assert max(sum(t <= s < t + 1.0 for s in starts) for t in starts) <= 10


async def test_a_burst_of_due_posts_stays_under_the_global_limit(fake_discord, tmp_path) -> None:
    """120 servers due the same minute: every post goes out once and Discord never answers
    429 (without pacing the same burst is refused a third of the time: bench_fanout.py)."""
    channels = [
        fake_discord.add_guild(f"Guild {n}", channels=["general"]).channel("general")
        for n in range(120)
    ]
    clock = TestClock(DUE - timedelta(minutes=1))
    async with run_lectern(fake_discord, tmp_path, clock=clock, sync=False) as bot:
        store = bot.services.daily_store
        for channel in channels:
            await store.save_schedule(due_schedule(channel, DUE), 0)
        limiter = fake_discord.enforce_rate_limits(per_second=50)
        outcomes = await bot.scheduler.run_due(DUE)
    assert outcomes == ["sent"] * 120
    assert [len(fake_discord.messages(c)) for c in channels] == [1] * 120
    assert limiter.refusals == [] and limiter.allowed >= 120


async def test_the_fake_refuses_past_the_limits_and_discord_py_retries(fake_discord) -> None:
    """The fake's side, through the real client: past the global limit it answers 429 global
    with retry_after (and the "Via" header discord.py needs to trust a 429), and discord.py
    waits and retries; a channel route's bucket sends X-RateLimit headers, which discord.py
    honours before it is refused; interaction endpoints are exempt."""
    guild = fake_discord.add_guild("Loud", channels=["general"])
    client = discord.Client(intents=discord.Intents.none())
    async with fake_discord.running(client):
        limiter = fake_discord.enforce_rate_limits(per_second=5)
        infos = await asyncio.gather(*(client.application_info() for _ in range(8)))
        buckets = fake_discord.enforce_rate_limits(bucket_size=3, bucket_seconds=1)
        channel = client.get_channel(guild.channel("general").id)
        assert isinstance(channel, discord.TextChannel)
        for n in range(4):  # the fourth waits for the channel's bucket to reset
            await channel.send(f"message {n}")
    assert len(infos) == 8 and all(i.id == fake_discord.application_id for i in infos)
    assert limiter.refusals and all(r.is_global for r in limiter.refusals)
    assert buckets.refusals == [] and buckets.allowed == 4  # the headers were enough
    assert [m["content"] for m in fake_discord.messages(guild.channel("general"))] == [
        f"message {n}" for n in range(4)
    ]
    assert limiter.exempt("/interactions/{interaction_id}/{token}/callback")
