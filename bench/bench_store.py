"""Store benchmark: Lectern's own async API over synthetic corpora of 10k, 100k and 1M passages.

    python bench/bench_store.py [--sizes 10000 100000 1000000] [--repeat 300]

For each size it generates (or reuses) ``bench/.cache/corpus-N/``, ingests it into a fresh SQLite
file, times the warm start, then times each read operation through ``Store``, each beside a naive
baseline run in the same process on the same database and beside the floor: a bare ``SELECT 1``
through aiosqlite (``Store.ping``). It prints Markdown tables; see ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import os
import platform
import random
import re
import sqlite3
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import aiosqlite  # noqa: E402
import corpus_gen  # noqa: E402

from bot.core.db import Database  # noqa: E402
from bot.core.db import configure as _configure  # noqa: E402
from bot.corpus.champions import Champions  # noqa: E402
from bot.corpus.champions import build as champions_build  # noqa: E402
from bot.corpus.files import corpus_files  # noqa: E402
from bot.corpus.ingest import sync_corpus as _sync_corpus  # noqa: E402
from bot.corpus.lexicon import Lexicon  # noqa: E402
from bot.corpus.random import PassageFilter  # noqa: E402
from bot.corpus.rows import PASSAGE_COLUMNS as _PASSAGE_COLUMNS  # noqa: E402
from bot.corpus.rows import PASSAGE_JOINS, StoredPassage  # noqa: E402
from bot.corpus.search import PassageSearch, SearchResults  # noqa: E402
from bot.corpus.store import CorpusStore  # noqa: E402

_PASSAGE_FROM = f"passages AS p {PASSAGE_JOINS}"


class Store:
    """The corpus reads and searches the bot makes, over one database (as the services hold
    them), with the raw connection for the naive baselines."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.connection = db.connection
        self.corpus = CorpusStore(db)
        self.searcher = PassageSearch(db, Lexicon(db, self.corpus), Champions(db))
        self.random_passage = self.corpus.random_passage
        self.passage = self.corpus.passage
        self.neighbours = self.corpus.neighbours
        self.authors = self.corpus.authors
        self.ping = db.ping
        self.close = db.close

    @classmethod
    async def open(cls, path: Path) -> Store:
        return cls(await Database.open(path))

    async def prepare_search(self) -> None:
        """Build what search builds in the background (vocabulary, champion lists) first."""
        await self.searcher.lexicon.current()
        if self.searcher.lexicon._building is not None:
            await self.searcher.lexicon._building
        await asyncio.to_thread(champions_build, self.db.path)

    async def search(self, query: str) -> SearchResults:
        return await self.searcher.search(query)

    async def related(self, passage_id: str) -> list[StoredPassage]:
        source = await self.corpus.passage(passage_id)
        return await self.searcher.related(source) if source else []


async def sync_corpus(store: Store, folder: Path, **kwargs: Any) -> Any:
    return await _sync_corpus(store.db, folder, **kwargs)


CACHE = corpus_gen.CACHE
POINT_FACTOR = 1.5  # point reads: median within 1.5x of the SELECT 1 floor
INGEST_TARGET = 15_000  # passages/s, index included (set for 1M)
WARM_TARGET_MS = 50.0  # warm start with an unchanged corpus (set for 1M)
NAIVE_INGEST_ROWS = 5_000
STOPWORDS = ("the", "of", "and", "to", "a", "in", "is", "that")
PREFIXES = ("st", "th", "wh", "br", "sp", "gr", "pr", "sh")
_WORD = re.compile(r"[^\W_]+")


def search_target_ms(size: int) -> float:
    """Search p99 target: 10 ms up to 100k passages, 50 ms at 1M."""
    return 10.0 if size <= 100_000 else 50.0


@dataclass
class Timing:
    samples: list[float]  # milliseconds

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def p99(self) -> float:
        data = sorted(self.samples)
        return data[min(len(data) - 1, round(0.99 * (len(data) - 1)))]


@dataclass
class Row:
    operation: str
    size: int
    n: int
    median: str
    p99: str
    baseline: str
    vs_baseline: str
    vs_floor: str
    target: str
    result: str


def fmt_ms(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.3f}"


def fmt_ratio(value: float) -> str:
    return f"{value:,.0f}x" if value >= 100 else f"{value:.2f}x"


async def timed(
    fn: Callable[[int], Awaitable[Any]],
    *,
    iterations: int,
    budget_s: float,
    minimum: int = 3,
    warmup: int = 3,
    floor: Callable[[], Awaitable[Any]] | None = None,
) -> tuple[Timing, Timing | None]:
    """Run ``fn(i)`` up to ``iterations`` times or until ``budget_s`` runs out (at least
    ``minimum``). With ``floor``, a SELECT 1 is timed before each call (interleaved)."""
    for i in range(warmup):
        await fn(-1 - i)
    samples: list[float] = []
    floors: list[float] = []
    clock = time.perf_counter
    deadline = clock() + budget_s
    for i in range(iterations):
        if floor is not None:
            t0 = clock()
            await floor()
            floors.append((clock() - t0) * 1000)
        t0 = clock()
        await fn(i)
        samples.append((clock() - t0) * 1000)
        if i + 1 >= minimum and clock() > deadline:
            break
    return Timing(samples), (Timing(floors) if floors else None)


def remove_db(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            Path(f"{path}{suffix}").unlink()


def db_bytes(path: Path) -> tuple[int, int]:
    wal = Path(f"{path}-wal")
    return path.stat().st_size, wal.stat().st_size if wal.exists() else 0


# --------------------------------------------------------------------------- naive baselines


async def naive_ingest_rate(rows: list[tuple[str, str]], path: Path) -> float:
    """One INSERT and one COMMIT per row (autocommit) into a plain table: passages/s."""
    remove_db(path)
    db = await aiosqlite.connect(path, isolation_level=None)
    try:
        await _configure(db)  # the store's own pragmas: WAL, synchronous = NORMAL
        await db.execute("CREATE TABLE naive (rowid INTEGER PRIMARY KEY, id TEXT, text TEXT)")
        started = time.perf_counter()
        for rowid, (ident, text) in enumerate(rows, 1):
            await db.execute("BEGIN")
            await db.execute("INSERT INTO naive VALUES (?, ?, ?)", (rowid, ident, text))
            await db.execute("COMMIT")
        elapsed = time.perf_counter() - started
    finally:
        await db.close()
    remove_db(path)
    return len(rows) / elapsed


def naive_warm_start(folder: Path) -> None:
    """What a naive restart does: read and hash every file to see whether anything changed."""
    digest = hashlib.sha256()
    for path in corpus_files(folder):
        digest.update(hashlib.sha256(path.read_bytes()).digest())


def like_clause(query: str) -> tuple[str, list[str]]:
    """The naive LIKE translation of a benchmark query (substring match, no index)."""
    phrase = re.fullmatch(r'"(.+)"', query)
    if phrase:
        return "p.text LIKE ?", [f"%{phrase.group(1)}%"]
    parts = [w.rstrip("*") for w in query.split()]
    return " AND ".join("p.text LIKE ?" for _ in parts), [f"%{w}%" for w in parts]


# --------------------------------------------------------------------------- one size


@dataclass
class Samples:
    """Values drawn from the corpus so that every iteration asks for something different."""

    ids: list[str]
    kinds: list[str]
    slugs: list[str]
    authors: list[str]
    author_kinds: list[tuple[str, str]]
    common: list[str]
    pairs: list[str]
    phrases: list[str]


async def draw_samples(store: Store, rng: random.Random, count: int) -> Samples:
    db = store.connection
    async with db.execute("SELECT rowid FROM passages") as cursor:  # sparse: see layout.py
        every = [r[0] for r in await cursor.fetchall()]
    rowids = rng.choices(every, k=count)
    marks = ",".join("?" * len(rowids))
    async with db.execute(
        f"SELECT rowid, id, text FROM passages WHERE rowid IN ({marks})", rowids
    ) as cursor:
        by_rowid = {r[0]: (r[1], r[2]) for r in await cursor.fetchall()}
    ids = [by_rowid[r][0] for r in rowids]
    phrases = []
    for r in rowids:
        words = _WORD.findall(by_rowid[r][1].lower())
        start = rng.randrange(max(1, len(words) - 2))
        phrases.append('"' + " ".join(words[start : start + 2]) + '"')
    async with db.execute("SELECT kind FROM kinds") as cursor:
        kinds = [r[0] for r in await cursor.fetchall()]
    async with db.execute("SELECT slug FROM documents") as cursor:
        slugs = [r[0] for r in await cursor.fetchall()]
    authors = [a.name for a in await store.authors()]
    async with db.execute(
        """SELECT DISTINCT a.name, d.kind FROM passages AS p
        JOIN documents AS d ON d.id = p.document_id JOIN authors AS a ON a.id = p.author_id"""
    ) as cursor:
        author_kinds = [(r[0], r[1]) for r in await cursor.fetchall()]
    vocab = corpus_gen.VOCAB
    # "Common": ranks 30-300, each in ~0.5-5% of the words. Pairs: ranks 30-2000.
    common = [w for w in vocab[30:300] if w not in STOPWORDS and len(w) > 2]
    pairs = [f"{rng.choice(vocab[30:2000])} {rng.choice(vocab[30:2000])}" for _ in range(count)]
    return Samples(ids, kinds, slugs, authors, author_kinds, common, pairs, phrases)


async def bench_size(size: int, repeat: int, budget: float, base_budget: float) -> list[Row]:
    rows: list[Row] = []
    rng = random.Random(size)
    t0 = time.perf_counter()
    folder = corpus_gen.generate(size)
    print(f"\n[{size:,}] corpus ready in {time.perf_counter() - t0:.1f}s: {folder}", flush=True)
    db_path = CACHE / f"store-{size}.sqlite"
    remove_db(db_path)

    # Ingest: the whole sync_corpus (signature, staging, the swap, FTS index included).
    store = await Store.open(db_path)
    t0 = time.perf_counter()
    report = await sync_corpus(store, folder, force=True)
    ingest_s = time.perf_counter() - t0
    assert report.passages_after == size, report
    await store.close()
    main_b, wal_b = db_bytes(db_path)
    print(
        f"[{size:,}] ingest {ingest_s:.1f}s; db {main_b / 1e6:.0f} MB + wal {wal_b / 1e6:.0f} MB",
        flush=True,
    )

    # Naive ingest: first rows, one commit each.
    reader = await Store.open(db_path)
    await reader.prepare_search()
    async with reader.connection.execute(
        "SELECT id, text FROM passages LIMIT ?", (NAIVE_INGEST_ROWS,)
    ) as cursor:
        sample_rows = [(r[0], r[1]) for r in await cursor.fetchall()]
    naive_rate = await naive_ingest_rate(sample_rows, CACHE / f"naive-{size}.sqlite")
    rate = size / ingest_s
    ok = rate >= INGEST_TARGET
    rows.append(
        Row(
            "ingest: sync_corpus(force) passages/s",
            size,
            1,
            f"{rate:,.0f}/s",
            "",
            f"{naive_rate:,.0f}/s",
            fmt_ratio(rate / naive_rate),
            "",
            f">= {INGEST_TARGET:,}/s",
            "PASS" if ok else "FAIL",
        )
    )
    # Warm start: a fresh Store each time, unchanged folder.
    sync_ms: list[float] = []
    whole_ms: list[float] = []
    warm_runs = max(5, min(30, repeat // 10))
    for _ in range(warm_runs):
        t0 = time.perf_counter()
        fresh = await Store.open(db_path)
        t1 = time.perf_counter()
        result = await sync_corpus(fresh, folder)
        t2 = time.perf_counter()
        await fresh.close()
        assert result.skipped
        sync_ms.append((t2 - t1) * 1000)
        whole_ms.append((t2 - t0) * 1000)
    naive_ms = []
    for _ in range(3):
        t0 = time.perf_counter()
        await asyncio.to_thread(naive_warm_start, folder)
        naive_ms.append((time.perf_counter() - t0) * 1000)
    naive_med = statistics.median(naive_ms)
    for label, values in (
        ("warm start: sync_corpus", sync_ms),
        ("warm start: open + sync", whole_ms),
    ):
        t = Timing(values)
        rows.append(
            Row(
                label,
                size,
                len(values),
                fmt_ms(t.median),
                fmt_ms(t.p99),
                fmt_ms(naive_med),
                fmt_ratio(t.median / naive_med),
                "",
                f"< {WARM_TARGET_MS:.0f} ms",
                "PASS" if t.p99 < WARM_TARGET_MS else "FAIL",
            )
        )
    print(f"[{size:,}] warm start median {statistics.median(whole_ms):.1f} ms", flush=True)

    # Reads.
    store = reader
    db = store.connection
    samples = await draw_samples(store, rng, max(repeat, 50) + 10)
    pick = samples.ids

    def cycle(values: list[Any], i: int) -> Any:
        return values[i % len(values)]

    all_floors: list[float] = []

    async def one(sql: str, params: Any = ()) -> Any:
        async with db.execute(sql, params) as cursor:
            return await cursor.fetchall()

    random_sql = f"SELECT {_PASSAGE_COLUMNS} FROM {_PASSAGE_FROM}"
    like_sql = (
        f"SELECT {_PASSAGE_COLUMNS}, (SELECT count(*) FROM (SELECT 1 FROM passages AS p "
        "WHERE {where} LIMIT 1000)) FROM " + _PASSAGE_FROM + " WHERE {where} LIMIT 5"
    )

    def like_baseline(query_of: Callable[[int], str]) -> Callable[[int], Awaitable[Any]]:
        async def run(i: int) -> Any:
            where, params = like_clause(query_of(i))
            return await one(like_sql.format(where=where), params + params)

        return run

    def rand_filter(i: int) -> PassageFilter:
        kind = cycle(samples.kinds, i)
        return PassageFilter(kind=kind)

    ops: list[tuple[str, str, Callable[[int], Awaitable[Any]], Any]] = [
        (
            "random",
            "point",
            lambda i: store.random_passage(),
            lambda i: one(f"{random_sql} ORDER BY random() LIMIT 1"),
        ),
        (
            "random kind=",
            "point",
            lambda i: store.random_passage(rand_filter(i)),
            lambda i: one(
                f"{random_sql} WHERE d.kind = ? ORDER BY random() LIMIT 1",
                (cycle(samples.kinds, i),),
            ),
        ),
        (
            "random document=",
            "point",
            lambda i: store.random_passage(PassageFilter(document=rng.choice(samples.slugs))),
            lambda i: one(
                f"{random_sql} WHERE d.slug = ? ORDER BY random() LIMIT 1",
                (rng.choice(samples.slugs),),
            ),
        ),
        (
            "random author=",
            "point",
            lambda i: store.random_passage(PassageFilter(author=rng.choice(samples.authors))),
            lambda i: one(
                f"{random_sql} WHERE a.key = ? ORDER BY random() LIMIT 1",
                (rng.choice(samples.authors).casefold(),),
            ),
        ),
        (
            "random author= kind=",
            "point",
            lambda i: store.random_passage(
                PassageFilter(author=(ak := rng.choice(samples.author_kinds))[0], kind=ak[1])
            ),
            lambda i: one(
                f"{random_sql} WHERE a.key = ? AND d.kind = ? ORDER BY random() LIMIT 1",
                ((ak := rng.choice(samples.author_kinds))[0].casefold(), ak[1]),
            ),
        ),
        (
            "random about=<common word>",
            "point",
            lambda i: store.random_passage(PassageFilter(about=rng.choice(samples.common))),
            lambda i: one(
                f"{random_sql} WHERE p.text LIKE ? ORDER BY random() LIMIT 1",
                (f"%{rng.choice(samples.common)}%",),
            ),
        ),
        (
            "passage by id",
            "point",
            lambda i: store.passage(cycle(pick, i)),
            lambda i: one(f"{random_sql} WHERE p.id = ? COLLATE NOCASE", (cycle(pick, i),)),
        ),
        (
            "neighbours",
            "point",
            lambda i: store.neighbours(cycle(pick, i)),
            lambda i: naive_neighbours(cycle(pick, i)),
        ),
        (
            "search <common word>",
            "search",
            lambda i: store.search(cycle(samples.common, i)),
            like_baseline(lambda i: cycle(samples.common, i)),
        ),
        (
            "search <stopword> (the, of, and...)",
            "search",
            lambda i: store.search(cycle(list(STOPWORDS), i)),
            like_baseline(lambda i: cycle(list(STOPWORDS), i)),
        ),
        (
            "search <two words>",
            "search",
            lambda i: store.search(cycle(samples.pairs, i)),
            like_baseline(lambda i: cycle(samples.pairs, i)),
        ),
        (
            'search "<phrase>"',
            "search",
            lambda i: store.search(cycle(samples.phrases, i)),
            like_baseline(lambda i: cycle(samples.phrases, i)),
        ),
        (
            "search <prefix>* (st*, th*, wh*...)",
            "search",
            lambda i: store.search(cycle(list(PREFIXES), i) + "*"),
            like_baseline(lambda i: cycle(list(PREFIXES), i)),
        ),
        (
            "search st* (always)",
            "search",
            lambda i: store.search("st*"),
            like_baseline(lambda i: "st"),
        ),
        (
            "related (more like this)",
            "search",
            lambda i: store.related(cycle(pick, i)),
            None,
        ),
    ]

    async def naive_neighbours(ident: str) -> Any:
        me = await one("SELECT document_id, seq FROM passages WHERE id = ?", (ident,))
        doc, seq = me[0]
        before = await one(f"{random_sql} WHERE p.document_id = ? AND p.seq = ?", (doc, seq - 1))
        after = await one(f"{random_sql} WHERE p.document_id = ? AND p.seq = ?", (doc, seq + 1))
        return before, after

    floor_fn = store.ping
    for name, kind, fn, base in ops:
        timing, floor = await timed(fn, iterations=repeat, budget_s=budget, floor=floor_fn)
        assert floor is not None
        all_floors.extend(floor.samples)
        base_timing = None
        if base is not None:
            base_timing, _ = await timed(
                base, iterations=repeat, budget_s=base_budget, warmup=1, minimum=3
            )
        if kind == "point":
            limit = POINT_FACTOR * floor.median
            target = f"<= {POINT_FACTOR}x floor"
            passed = timing.median <= limit
        else:
            target = f"p99 < {search_target_ms(size):.0f} ms"
            passed = timing.p99 < search_target_ms(size)
        rows.append(
            Row(
                name,
                size,
                len(timing.samples),
                fmt_ms(timing.median),
                fmt_ms(timing.p99),
                f"{fmt_ms(base_timing.median)} (n={len(base_timing.samples)})"
                if base_timing
                else "—",
                fmt_ratio(timing.median / base_timing.median) if base_timing else "—",
                fmt_ratio(timing.median / floor.median),
                target,
                "PASS" if passed else "FAIL",
            )
        )
        print(f"[{size:,}] {name}: median {timing.median:.3f} ms p99 {timing.p99:.3f}", flush=True)

    floor_all = Timing(all_floors)
    rows.insert(
        0,
        Row(
            "floor: SELECT 1 (Store.ping)",
            size,
            len(all_floors),
            fmt_ms(floor_all.median),
            fmt_ms(floor_all.p99),
            "",
            "",
            "1.00x",
            "",
            "",
        ),
    )
    await store.close()
    return rows


def machine_info() -> str:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return (
        f"- cores: {os.cpu_count()} ({cpu}), {platform.system()} {platform.release()}\n"
        f"- Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"aiosqlite {metadata.version('aiosqlite')}"
    )


def table(rows: list[Row]) -> str:
    head = (
        "| operation | size | n | median ms | p99 ms | baseline median ms | vs baseline "
        "| vs floor | target | result |\n|---|---:|---:|---:|---:|---:|---:|---:|---|---|"
    )
    body = [
        f"| {r.operation} | {r.size:,} | {r.n} | {r.median} | {r.p99} | {r.baseline} | "
        f"{r.vs_baseline} | {r.vs_floor} | {r.target} | {r.result} |"
        for r in rows
    ]
    return "\n".join([head, *body])


async def main_async(args: argparse.Namespace) -> int:
    CACHE.mkdir(parents=True, exist_ok=True)
    print("## Lectern store benchmark\n")
    print(machine_info())
    print(f"- command: python bench/bench_store.py {' '.join(sys.argv[1:])}".rstrip())
    all_rows: dict[int, list[Row]] = {}
    for size in args.sizes:
        all_rows[size] = await bench_size(size, args.repeat, args.budget, args.baseline_budget)
        print(f"\n### {size:,} passages\n\n{table(all_rows[size])}\n", flush=True)
    if len(all_rows) > 1:
        print("\n## All sizes\n")
        for size, rows in all_rows.items():
            print(f"### {size:,} passages\n\n{table(rows)}\n")
    failed = [(s, r.operation) for s, rows in all_rows.items() for r in rows if r.result == "FAIL"]
    print(f"{len(failed)} target(s) failed" + (": " if failed else ""))
    for size, op in failed:
        print(f"- {size:,}: {op}")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=300, help="iterations per operation")
    parser.add_argument(
        "--budget", type=float, default=15.0, help="seconds at most per operation (min 3 runs)"
    )
    parser.add_argument(
        "--baseline-budget", type=float, default=8.0, help="seconds at most per naive baseline"
    )
    args = parser.parse_args(argv)
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
