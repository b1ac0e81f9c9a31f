"""Benchmark of the daily scheduler with many schedules in a real SQLite file.

Measures, against a full-scan baseline in the same run:

- one scheduler wake-up: find what is due (indexed range scan, LIMIT 100) and the next
  instant to sleep until;
- the same for a process serving 4 of 16 shards;
- re-computing after a change: compute one schedule's next instant (zone rules), save it, and
  find the new earliest instant;
- baselines: load every schedule and decide in Python (comparing the stored instants), and
  load every schedule and recompute each instant from its time and zone.

    .venv/bin/python bench/bench_daily.py              # 100,000 schedules
    .venv/bin/python bench/bench_daily.py --schedules 10000 --runs 50
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.core.db import Database
from bot.daily.model import Schedule, ShardFilter
from bot.daily.store import DailyStore
from bot.daily.timing import due_on, next_due, parse_hhmm, search_zones

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
ZONES = [
    "UTC",
    "Europe/Berlin",
    "Europe/London",
    "America/New_York",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Australia/Adelaide",
    "Australia/Lord_Howe",
    "Pacific/Auckland",
]


async def populate(daily_db: Database, count: int) -> None:
    rng = random.Random(7)
    rows = []
    base = 1 << 40
    for n in range(count):
        guild_id = (base + n * 7919) << 22 | n % 4096
        zone = ZoneInfo(rng.choice(ZONES))
        local = f"{rng.randrange(24):02d}:{rng.choice((0, 15, 30, 45)):02d}"
        day, due = next_due(NOW - timedelta(hours=rng.uniform(0, 24)), parse_hhmm(local), zone)
        rows.append(
            (guild_id, 1, local, zone.key, None, 0, day.isoformat(), int(due.timestamp()), 0, 0)
        )
    db = daily_db.connection
    await db.execute("BEGIN")
    await db.executemany(
        """INSERT INTO daily_schedules (guild_id, name, channel_id, local_time, zone, role_id,
        thread, next_date, next_due, created_at, updated_at)
        VALUES (?, 'daily', ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        rows,
    )
    await db.execute("COMMIT")
    await db.execute("ANALYZE")


async def timed(work: Callable[[], Awaitable[object]], runs: int) -> list[float]:
    await work()  # warm the cache
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await work()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--schedules", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--baseline-runs", type=int, default=5)
    args = parser.parse_args()
    search_zones("warm")  # load the zone list once

    with tempfile.TemporaryDirectory() as folder:
        async with await Database.open(Path(folder) / "bench.sqlite3") as store:
            daily = DailyStore(store)
            started = time.perf_counter()
            await populate(store, args.schedules)
            print(f"{args.schedules:,} schedules written in {time.perf_counter() - started:.1f}s")
            rng = random.Random(11)
            db = store.connection

            async def wake(shards: ShardFilter | None = None) -> None:
                now = int((NOW + timedelta(minutes=rng.randrange(1440))).timestamp())
                await daily.due(now, shards, 100)
                await daily.earliest_due(shards)

            some = ShardFilter(16, frozenset({0, 5, 10, 15}))
            ids = [
                r[0]
                for r in await (await db.execute("SELECT guild_id FROM daily_schedules")).fetchall()
            ]

            async def change() -> None:
                guild_id = rng.choice(ids)
                zone = ZoneInfo(rng.choice(ZONES))
                local = parse_hhmm(f"{rng.randrange(24):02d}:30")
                day, due = next_due(NOW, local, zone)
                await daily.save_schedule(
                    Schedule(guild_id, 1, f"{local:%H:%M}", zone.key, None, False,
                             day.isoformat(), int(due.timestamp())),
                    int(NOW.timestamp()),
                )  # fmt: skip
                await daily.earliest_due(None)

            async def full_scan() -> None:
                now = int((NOW + timedelta(minutes=rng.randrange(1440))).timestamp())
                async with db.execute("SELECT guild_id, next_due FROM daily_schedules") as cur:
                    rows = await cur.fetchall()
                due = sorted((r for r in rows if r[1] <= now), key=lambda r: r[1])[:100]
                earliest = min(r[1] for r in rows)
                assert earliest is not None and due is not None

            async def full_recompute() -> None:
                now = NOW + timedelta(minutes=rng.randrange(1440))
                async with db.execute(
                    "SELECT guild_id, local_time, zone, next_date FROM daily_schedules"
                ) as cur:
                    rows = await cur.fetchall()
                zones: dict[str, ZoneInfo] = {}
                instants = []
                for guild_id, local, zone, day in rows:
                    tz = zones.get(zone) or zones.setdefault(zone, ZoneInfo(zone))
                    instants.append(
                        (due_on(date.fromisoformat(day), parse_hhmm(local), tz), guild_id)
                    )
                due = [g for at, g in instants if at <= now]
                assert min(instants)[0] and due is not None

            results = [
                ("wake-up: due + next instant (indexed)", await timed(wake, args.runs)),
                ("wake-up, 4 of 16 shards (indexed)", await timed(lambda: wake(some), args.runs)),
                ("re-compute after a change + next instant", await timed(change, args.runs)),
                ("baseline: full scan, stored instants", await timed(full_scan, args.baseline_runs)),
                ("baseline: full scan, recompute in Python", await timed(full_recompute, args.baseline_runs)),
            ]  # fmt: skip
            plan = await (
                await db.execute(
                    "EXPLAIN QUERY PLAN SELECT guild_id FROM daily_schedules INDEXED BY "
                    "daily_schedules_due WHERE next_due <= 1 AND paused_reason IS NULL "
                    "ORDER BY next_due LIMIT 100"
                )
            ).fetchall()

    scan_median = statistics.median(results[3][1])
    print(f"\n{args.schedules:,} schedules, Python {sys.version.split()[0]}, query plan: "
          f"{plan[0][3]}\n")  # fmt: skip
    print("| operation | runs | median ms | p99 ms | full scan ÷ this (medians) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, samples in results:
        median = statistics.median(samples)
        print(
            f"| {name} | {len(samples)} | {median:.3f} | {p99(samples):.3f} | "
            f"{scan_median / median:,.1f}× |"
        )


if __name__ == "__main__":
    asyncio.run(main())
