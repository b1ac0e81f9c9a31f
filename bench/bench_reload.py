"""Ingest, start-up and reloads of a large corpus, each beside a naive baseline in the same run.

    python bench/bench_reload.py                      # 1M passages (bench/corpus_gen.py)
    python bench/bench_reload.py --size 100000 --edits 5 --skip-naive

Four measures, through Lectern's own code (the reload under load and the start-up through the
real discord.py client and the project's fake Discord on 127.0.0.1):

1. **ingest**: a fresh ``sync_corpus`` in a child process importing only Lectern's corpus
   code, as ``lectern ingest`` does: seconds, passages/s, peak RSS (``VmHWM``).
2. **start-up**: an unchanged corpus, LecternBot from ``start()`` to ready, beside a bare
   discord.py bot's gateway login (the floor) and a start that parses the folder again.
3. **edit one document**: append a paragraph to one file, ``/admin reload`` (the service SIGHUP
   calls too), and time until ``/search`` through the fake finds the new words.
4. **full reload under load**: every document rewritten (``force``) while ``/quote`` runs at
   ``--rate`` per second: latency percentiles, answers over 3 s, peak RSS of the process;
   the same load with no reload is the floor.

The naive baseline is the reload Lectern had before this bench: the whole folder parsed into
memory, then one transaction (here: ``load_corpus`` held, and the same writes committed once).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
for _p in (str(ROOT), str(BENCH)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import corpus_gen  # noqa: E402

import bot.corpus.apply as apply_module  # noqa: E402
import bot.corpus.staging as staging_module  # noqa: E402
from bot.admin.audit import Actor  # noqa: E402
from bot.core.db import Database  # noqa: E402
from bot.corpus.files import load_corpus  # noqa: E402
from bot.corpus.ingest import sync_corpus  # noqa: E402

if TYPE_CHECKING:
    from tests.fakediscord import FakeDiscord

CACHE = BENCH / ".cache" / "reload"
INGEST_RSS_MIB, INGEST_RATE = 250, 20_000
VISIBLE_S = 2.0
RELOAD_P99_MS, RELOAD_RSS_MIB, DEADLINE_S = 100.0, 400, 3.0


# ------------------------------------------------------------------------------ helpers


def pct(samples: list[float], q: float) -> float:
    data = sorted(samples)
    return data[min(len(data) - 1, round(q * (len(data) - 1)))] if data else float("nan")


def peak_rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def reset_peak_rss() -> None:
    with contextlib.suppress(OSError):  # Linux: "5" resets VmHWM to the current RSS
        Path("/proc/self/clear_refs").write_text("5")


def remove_db(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


@contextlib.contextmanager
def naive_reload() -> Any:
    """Lectern's reload before streaming: hold the whole corpus, commit it once."""
    saved = apply_module.COMMIT_PASSAGES
    apply_module.COMMIT_PASSAGES = 1 << 40
    try:
        yield
    finally:
        apply_module.COMMIT_PASSAGES = saved


async def naive_sync(db: Database, folder: Path, *, force: bool = False) -> Any:
    held = await asyncio.to_thread(load_corpus, folder)  # the whole corpus in memory
    with naive_reload():
        report = await sync_corpus(db, folder, force=force)
    del held
    return report


# ------------------------------------------------------------------------------ 1. ingest


def ingest_child(db: Path, folder: Path, naive: bool) -> None:
    """Run in a child process: one fresh ingest, its figures as JSON on stdout."""

    async def go() -> dict[str, Any]:
        remove_db(db)
        async with await Database.open(db) as opened:
            started = time.perf_counter()
            report = await (naive_sync(opened, folder) if naive else sync_corpus(opened, folder))
            seconds = time.perf_counter() - started
        return {"seconds": seconds, "passages": report.passages_after, "rss": peak_rss_mib()}

    print(json.dumps(asyncio.run(go())))


def run_ingest(db: Path, folder: Path, naive: bool) -> dict[str, Any]:
    flag = ["--naive"] if naive else []
    out = subprocess.run(
        [sys.executable, __file__, "_ingest", str(db), str(folder), *flag],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


# ------------------------------------------------------------------------------ 2-4. bot


async def time_to_ready(fake: FakeDiscord, make: Callable[[], Any]) -> float:
    started = time.perf_counter()
    async with make():
        return time.perf_counter() - started


@contextlib.asynccontextmanager
async def floor_bot(fake: FakeDiscord) -> AsyncIterator[Any]:
    from bench_e2e import FloorBot  # discord.py: not imported by the ingest child

    async with fake.running(FloorBot()) as bot:
        yield bot


async def under_load(
    fake: FakeDiscord, guild: Any, member: Any, rate: float, work: Awaitable[Any] | float
) -> tuple[list[float], int, float]:
    """``/quote`` at ``rate`` per second while ``work`` runs (or for that many seconds):
    latencies (s), interactions never answered within DEADLINE_S, and the work's duration."""
    latencies: list[float] = []
    missed = 0

    async def one() -> None:
        nonlocal missed
        try:
            reply = await asyncio.wait_for(fake.slash("quote", guild=guild, user=member), 10)
        except TimeoutError:
            missed += 1
            return
        if reply.elapsed is None or reply.elapsed > DEADLINE_S:
            missed += 1
        if reply.elapsed is not None:
            latencies.append(reply.elapsed)

    started = time.perf_counter()
    job = asyncio.ensure_future(asyncio.sleep(work) if isinstance(work, float) else work)
    sent: list[asyncio.Task[None]] = []
    while not job.done():
        sent.append(asyncio.create_task(one()))
        await asyncio.sleep(1 / rate)
    seconds = time.perf_counter() - started
    job.result()
    await asyncio.gather(*sent)
    return latencies, missed, seconds


def append_paragraph(folder: Path, n: int) -> tuple[Path, str]:
    files = sorted(folder.glob("*.md"))
    path = files[(n * 7919) % len(files)]
    word = f"benchedit{n}x{os.getpid()}"
    with path.open("a", encoding="utf-8") as out:
        out.write(f"\n\nA paragraph added by the bench: {word}.\n")
    return path, word


async def visible_after(fake: FakeDiscord, guild: Any, member: Any, word: str) -> bool:
    reply = await fake.slash("search", guild=guild, user=member, options={"query": word})
    embeds = reply.data.get("embeds") or [{}]
    return word in json.dumps(embeds[0])


async def bot_measures(args: argparse.Namespace, db_dir: Path, folder: Path) -> list[list[str]]:
    from tests.fakediscord import FakeDiscord
    from tests.lectern_harness import run_lectern

    rows: list[list[str]] = []
    fake = FakeDiscord()
    await fake.start()
    guild = fake.add_guild("Bench", channels=["general"])
    member = guild.add_member("reader")
    try:
        floors, readies, naive_starts = [], [], []
        for _ in range(args.starts):
            floors.append(await time_to_ready(fake, lambda: floor_bot(fake)))
            readies.append(await time_to_ready(
                fake, lambda: run_lectern(fake, db_dir, passages=folder, sync=False)))  # fmt: skip
            started = time.perf_counter()
            await asyncio.to_thread(load_corpus, folder)
            naive_starts.append(time.perf_counter() - started)
        rows.append(row("start-up, unchanged corpus: to ready", readies, naive_starts,
                        f"~ gateway login ({statistics.median(floors) * 1000:.0f} ms)",
                        statistics.median(readies) <= statistics.median(floors) + 0.5,
                        scale=1000, unit="ms"))  # fmt: skip
        async with run_lectern(fake, db_dir, passages=folder) as bot:
            admin = bot.services.admin
            visible: list[float] = []
            for n in range(args.edits):
                _, word = append_paragraph(folder, n)
                started = time.perf_counter()
                await admin.reload(Actor("bench"))
                if not await visible_after(fake, guild, member, word):
                    raise AssertionError(f"{word} not found after the reload")
                visible.append(time.perf_counter() - started)
            naive_edit: list[float] = []
            if not args.skip_naive:
                _, word = append_paragraph(folder, args.edits)
                started = time.perf_counter()
                await naive_sync(bot.services.db, folder, force=True)
                assert await visible_after(fake, guild, member, word)
                naive_edit.append(time.perf_counter() - started)
            rows.append(row("edit one document: reload until /search finds it", visible,
                            naive_edit, f"<= {VISIBLE_S:.0f} s", pct(visible, 0.99) <= VISIBLE_S,
                            scale=1, unit="s"))  # fmt: skip
            idle, _, _ = await under_load(fake, guild, member, args.rate, 10.0)
            rows.append(row(f"/quote at {args.rate:.0f}/s, no reload (floor)", idle, [], "",
                            True, scale=1000, unit="ms"))  # fmt: skip
            db = bot.services.db
            reset_peak_rss()
            busy, missed, took = await under_load(
                fake, guild, member, args.rate, sync_corpus(db, folder, force=True)
            )
            rss = peak_rss_mib()
            naive_busy: list[float] = []
            naive_note = ""
            if not args.skip_naive:
                reset_peak_rss()
                naive_busy, naive_missed, naive_took = await under_load(
                    fake, guild, member, args.rate, naive_sync(db, folder, force=True)
                )
                naive_note = (f"; naive: {naive_took:.0f} s, {naive_missed} over 3 s, "
                              f"{peak_rss_mib():.0f} MiB")  # fmt: skip
            ok = pct(busy, 0.99) * 1000 <= RELOAD_P99_MS and not missed and rss <= RELOAD_RSS_MIB
            rows.append(row(
                f"/quote during a full reload ({took:.0f} s, {missed} over 3 s, "
                f"{rss:.0f} MiB peak{naive_note})", busy, naive_busy,
                f"p99 <= {RELOAD_P99_MS:.0f} ms, 0 over 3 s, <= {RELOAD_RSS_MIB} MiB", ok,
                scale=1000, unit="ms"))  # fmt: skip
    finally:
        problems = fake.problems()
        await fake.stop()
    if problems:
        print(f"WARNING: the fake Discord recorded {len(problems)} problem(s): {problems[:5]}")
    return rows


# ------------------------------------------------------------------------------ report


def row(
    name: str,
    samples: list[float],
    naive: list[float],
    target: str,
    ok: bool,
    *,
    scale: float,
    unit: str,
) -> list[str]:
    def show(value: float) -> str:
        return f"{value * scale:,.1f} {unit}" if value == value else "-"

    median = statistics.median(samples) if samples else float("nan")
    base = statistics.median(naive) if naive else float("nan")
    ratio = f"{base / median:.1f}x faster" if naive and median else "-"
    return [name, str(len(samples)), show(median), show(pct(samples, 0.99)), show(base), ratio,
            target, "PASS" if ok else "FAIL"]  # fmt: skip


def table(rows: list[list[str]]) -> str:
    head = ["measure", "n", "median", "p99", "naive median", "vs naive", "target", "result"]
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    lines = [" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in [head, *rows]]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


async def run(args: argparse.Namespace) -> int:
    folder_src = corpus_gen.generate(args.size)
    work = CACHE / f"run-{args.size}"
    shutil.rmtree(work, ignore_errors=True)
    folder = work / "passages"
    shutil.copytree(folder_src, folder)  # the edits must not touch the cached corpus
    await asyncio.sleep(staging_module.RACY_NS / 1e9 + 0.5)  # fresher files are read again
    db_dir = work / "db"
    db_dir.mkdir(parents=True)
    print(f"Corpus: {args.size:,} passages in {folder}; {os.cpu_count()} CPUs, "
          f"{sys.version.split()[0]}", flush=True)  # fmt: skip
    rows: list[list[str]] = []
    fresh_runs: list[dict[str, Any]] = []
    naive_runs: list[dict[str, Any]] = []
    for _ in range(args.ingests):  # alternating, so machine noise lands on both
        fresh_runs.append(run_ingest(db_dir / "lectern.sqlite3", folder, naive=False))
        if not args.skip_naive:
            naive_runs.append(run_ingest(work / "naive.sqlite3", folder, naive=True))
        print(f"  ingest: {fresh_runs[-1]}" + (f"; naive: {naive_runs[-1]}" if naive_runs else ""),
              flush=True)  # fmt: skip
    remove_db(work / "naive.sqlite3")
    seconds = [r["seconds"] for r in fresh_runs]
    rate = args.size / statistics.median(seconds)
    rows.append(row(f"fresh ingest: seconds ({rate:,.0f} passages/s at the median)", seconds,
                    [r["seconds"] for r in naive_runs], f">= {INGEST_RATE:,} passages/s",
                    rate >= INGEST_RATE, scale=1, unit="s"))  # fmt: skip
    peaks = [r["rss"] for r in fresh_runs]
    rows.append(row("fresh ingest: peak RSS", peaks, [r["rss"] for r in naive_runs],
                    f"<= {INGEST_RSS_MIB} MiB", max(peaks) <= INGEST_RSS_MIB, scale=1,
                    unit="MiB"))  # fmt: skip
    rows += await bot_measures(args, db_dir, folder)
    print()
    print(table(rows))
    print("\nvs naive > 1 means Lectern is faster (for RSS: smaller).")
    return 0 if all(r[-1] == "PASS" for r in rows) else 1


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["_ingest"]:
        ingest_child(Path(argv[1]), Path(argv[2]), naive="--naive" in argv)
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--edits", type=int, default=10)
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument("--ingests", type=int, default=3)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--skip-naive", action="store_true")
    return asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
