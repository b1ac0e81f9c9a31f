"""Fan-out benchmark: thousands of daily schedules due the same minute, posted through the real
discord.py client into the fake Discord enforcing Discord's rate limits (50 requests a second
per bot, 5 per 5 s per channel route, 429 with ``retry_after``).

Lectern's poster paces its requests (``bot/core/pacing.py``); the naive baseline is the same bot
and scheduler with pacing off, which is how Lectern posted before: discord.py retries a global
429 instead of pacing, so a burst becomes a storm of refused requests. Both run in the same
process against fresh fakes and databases.

    .venv/bin/python bench/bench_fanout.py                    # 2,000 guilds
    .venv/bin/python bench/bench_fanout.py --guilds 10000     # the issue's 10,000 (~5 min)

Per mode it prints: posts/s sustained, the share of requests answered 429, the most 429s in one
second, the time from the due minute to each post (median, p99, last) and whether every
schedule posted exactly once. Targets: >= 40 posts/s, 429s < 1% of requests, exactly once.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
for _p in (str(ROOT), str(BENCH)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from bot.core.pacing import Pacer  # noqa: E402
from tests.fakediscord import FakeDiscord  # noqa: E402
from tests.lectern_harness import TestClock, due_schedule, run_lectern  # noqa: E402

DUE = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
RATE_TARGET = 40.0
REFUSED_TARGET = 0.01


@dataclass
class Result:
    mode: str
    posts: int
    seconds: float
    requests: int
    refused: int
    worst_second: int
    delays: list[float]
    exactly_once: bool

    @property
    def rate(self) -> float:
        return self.posts / self.seconds if self.seconds else 0.0

    @property
    def refused_share(self) -> float:
        return self.refused / self.requests if self.requests else 0.0


def p99(values: list[float]) -> float:
    data = sorted(values)
    return data[min(len(data) - 1, round(0.99 * (len(data) - 1)))]


async def fan_out(guilds: int, *, paced: bool) -> Result:
    fake = FakeDiscord()
    channels = []
    for n in range(guilds):
        guild = fake.add_guild(f"Guild {n}", channels=["general"])
        channels.append(guild.channel("general"))
    await fake.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            clock = TestClock(DUE - timedelta(minutes=1))
            async with run_lectern(fake, Path(tmp), clock=clock, sync=False) as bot:
                store = bot.services.daily_store
                for channel in channels:
                    await store.save_schedule(due_schedule(channel, DUE), 0)
                if not paced:
                    bot.scheduler.poster.pacer = Pacer(1e9)  # type: ignore[attr-defined]
                limiter = fake.enforce_rate_limits()
                before = len(fake.requests)
                started = time.monotonic()
                outcomes = await bot.scheduler.run_due(DUE)
                seconds = time.monotonic() - started
                requests = fake.requests[before:]
    finally:
        await fake.stop()
    counts = [len(fake.messages(c)) for c in channels]
    created = sorted(
        m["_created"] for c in channels for m in fake.messages(c) if "interaction_metadata" not in m
    )
    first = created[0] if created else 0.0
    return Result(
        "Lectern (paced)" if paced else "naive (no pacing)",
        sum(1 for o in outcomes if o in ("sent", "late")),
        seconds,
        sum(1 for r in requests if not r.route.startswith(("/interactions/", "/webhooks/"))),
        len(limiter.refusals),
        limiter.most_refused_in_a_second(),
        [c - first for c in created],
        all(n == 1 for n in counts),
    )


def table(results: list[Result]) -> str:
    naive = next(r for r in results if r.mode.startswith("naive"))
    lines = [
        "| mode | posts | posts/s | requests | 429s | 429 share | most 429s in 1 s "
        "| median delay s | p99 delay s | last s | exactly once | 429s vs naive |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |",
    ]
    for r in results:
        ratio = f"{r.refused / naive.refused:.3f}x" if naive.refused else "—"
        lines.append(
            f"| {r.mode} | {r.posts:,} | {r.rate:.1f} | {r.requests:,} | {r.refused:,} "
            f"| {r.refused_share:.2%} | {r.worst_second} | {statistics.median(r.delays):.1f} "
            f"| {p99(r.delays):.1f} | {max(r.delays):.1f} | {'yes' if r.exactly_once else 'NO'} "
            f"| {ratio} |"
        )
    return "\n".join(lines)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--guilds", type=int, default=2000)
    parser.add_argument("--skip-naive", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)  # discord.py warns on every 429 of the baseline
    results = [await fan_out(args.guilds, paced=True)]
    if not args.skip_naive:
        results.append(await fan_out(args.guilds, paced=False))
    else:
        results.append(Result("naive (skipped)", 0, 0, 0, 0, 0, [0.0], True))
    print(f"\n{args.guilds:,} schedules due at the same minute, one per guild\n")
    print(table(results))
    paced = results[0]
    ok = (
        paced.rate >= RATE_TARGET
        and paced.refused_share < REFUSED_TARGET
        and paced.exactly_once
        and paced.posts == args.guilds
    )
    print(
        f"\ntargets: >= {RATE_TARGET:.0f} posts/s, 429s < {REFUSED_TARGET:.0%}, exactly once: "
        f"{'PASS' if ok else 'FAIL'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
