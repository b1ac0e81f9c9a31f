"""Search benchmark (issue 12): latency per query class, recall@5 against ranking every match,
the naive baselines in the same run, index sizes and build throughput.

    python bench/bench_search.py [--sizes 10000 100000 1000000] [--queries 20]

For each size it ingests ``bench/.cache/corpus-N/`` (see corpus_gen.py) into a fresh SQLite
file, builds what search builds in the background (vocabulary, champion lists, vectors: each
timed), then runs every query class through Lectern's own ``PassageSearch.search``. Beside it,
in the same process on the same database: FTS5 ranking every match (``ORDER BY bm25``, no cap:
also the truth for recall) and LIKE. recall@5: of Lectern's word ranking's first five, how many
are among the exact first five (a passage tied with the fifth counts). Each query runs three
times; "first-run p99" is over the first runs alone, before anything of the query is kept in
memory (its ranking, its nearest vectors): the process is warmed up with other queries of the
class, and a query that a class holds twice (the four hostile ones) counts its first run only. PASS needs both p99s within the target: a reader's
first search of a query is a first run. Markdown tables.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import corpus_gen  # noqa: E402
from bench_store import CACHE, fmt_ms, machine_info, remove_db  # noqa: E402

from bot.config import Settings  # noqa: E402
from bot.core.db import Database  # noqa: E402
from bot.corpus import meaning  # noqa: E402
from bot.corpus.ingest import sync_corpus  # noqa: E402
from bot.corpus.query import parse_query, similarity_query  # noqa: E402
from bot.corpus.tiers import shapes  # noqa: E402
from bot.services import Services, build_services  # noqa: E402

TRUTH = """SELECT f.rowid, bm25(passages_fts, 1.0, 0.5, 0.5) AS s FROM passages_fts AS f
    WHERE passages_fts MATCH ? ORDER BY s, f.rowid LIMIT 5"""
HOSTILE = ['"of on the"* "and that is"*', '"the of of"', '"and the of"', '"to the"* "in a"*']
#: Of the same kind, for warming the process up without warming the measured queries.
HOSTILE_WARM = ['"is the of"', '"a to the"*', '"that in"* "on a"*']


def target_ms(size: int) -> float:
    return 10.0 if size <= 100_000 else 25.0


def queries(size: int, count: int, texts: list[str]) -> dict[str, list[str]]:
    rng = random.Random(size)
    vocab = corpus_gen.VOCAB
    words = [w for w in vocab[30:300] if len(w) > 2]

    def run_of(length: int) -> list[str]:
        tokens = rng.choice(texts).lower().split()
        start = rng.randrange(max(1, len(tokens) - length))
        return [t.strip(".,;:!?\"'") for t in tokens[start : start + length]]

    def phrase() -> str:
        return '"' + " ".join(run_of(2)) + '"'

    return {
        "common word": [rng.choice(words) for _ in range(count)],
        "stopword": [rng.choice(("the", "of", "and", "to", "a", "in", "is", "that")) for _ in range(count)],
        "two words": [f"{rng.choice(vocab[30:2000])} {rng.choice(vocab[30:2000])}" for _ in range(count)],
        "phrase": [phrase() for _ in range(count)],
        "prefix": [rng.choice(("st", "th", "wh", "br", "sp", "gr", "pr", "sh")) + "*" for _ in range(count)],
        "hostile": [HOSTILE[i % len(HOSTILE)] for i in range(count)],
        "meaning (6 words)": [" ".join(rng.sample(words, 6)) for _ in range(count)],
        "sentence (remembered)": [" ".join(run_of(6)) for _ in range(count)],
    }  # fmt: skip


def p(samples: list[float], q: float) -> float:
    data = sorted(samples)
    return data[min(len(data) - 1, round(q * (len(data) - 1)))]


async def time_each(
    fn: Callable[[str], Awaitable[Any]], items: list[str], runs: int
) -> list[float]:
    samples = []
    for _ in range(runs):
        for item in items:
            t0 = time.perf_counter()
            await fn(item)
            samples.append((time.perf_counter() - t0) * 1000)
    return samples


def timed_sql(raw: sqlite3.Connection, sql: str, args: tuple[Any, ...]) -> tuple[float, list[Any]]:
    t0 = time.perf_counter()
    rows = raw.execute(sql, args).fetchall()
    return (time.perf_counter() - t0) * 1000, rows


async def recall(services: Services, raw: sqlite3.Connection, query: str) -> float | None:
    """Lectern's word ranking's page one against FTS5 ranking every match."""
    vocabulary = await services.search.lexicon.current()
    assert vocabulary is not None
    parsed = similarity_query(query, vocabulary.count) if query.startswith("like:") else None
    parsed = parsed or parse_query(query)
    exact, _ = shapes(parsed, vocabulary)
    truth = raw.execute(TRUTH, (exact.fts(),)).fetchall()
    if not truth:
        return None
    generation = await services.corpus.generation()
    ranked = await services.search.ranker.rank(exact, vocabulary, generation, limit=5, offset=0)
    got = list(ranked.rowids)
    marks = ",".join("?" * len(got))
    scores = dict(
        raw.execute(
            f"""SELECT rowid, bm25(passages_fts, 1.0, 0.5, 0.5) FROM passages_fts
            WHERE passages_fts MATCH ? AND rowid IN ({marks})""",
            (exact.fts(), *got),
        ).fetchall()
    )
    fifth = truth[-1][1]
    good = sum(1 for r in got if r in scores and scores[r] <= fifth + 1e-9)
    return good / len(truth)


async def bench_size(size: int, count: int) -> None:
    folder = corpus_gen.generate(size)
    db_path = CACHE / f"search-{size}.sqlite"
    remove_db(db_path)
    async with await Database.open(db_path) as db:
        t0 = time.perf_counter()
        await sync_corpus(db, folder, force=True)
        ingest = time.perf_counter() - t0
        services = build_services(db, Settings(search_meaning=True), clock=lambda: None)  # type: ignore[arg-type,return-value]
        t0 = time.perf_counter()
        await services.search.lexicon.current()
        if services.search.lexicon._building is not None:  # what searches wait for at first
            await services.search.lexicon._building
        vocab_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        # In processes of their own, as the bot's worker runs them: the peak memory is theirs.
        command = [sys.executable, "-m", "bot.corpus.pairs", str(db_path)]
        await asyncio.to_thread(subprocess.run, command, check=True, cwd=HERE.parent)
        pairs_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        command = [sys.executable, "-m", "bot.corpus.champions", str(db_path)]  # pairs: current
        await asyncio.to_thread(subprocess.run, command, check=True, cwd=HERE.parent)
        champions_s = time.perf_counter() - t0
        build_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # KiB -> MiB
        vectors_s = None
        if meaning.embedder() is not None:
            t0 = time.perf_counter()
            await asyncio.to_thread(meaning.build, db_path)
            vectors_s = time.perf_counter() - t0
            index = services.search.meaning
            assert index is not None
            await index.keep_current()
            if index._loading is not None:
                await index._loading
        vocabulary = await services.search.lexicon.current()
        assert vocabulary is not None
        await services.search.ranker.dense.read_ahead(vocabulary)  # as the first search does
        await services.search.ranker.dense.index.settled()
        raw = sqlite3.connect(db_path)
        raw.execute("PRAGMA cache_size = -65536")
        sizes = {
            "FTS5 index": raw.execute("SELECT sum(length(block)) FROM passages_fts_data").fetchone()[0],
            "vocabulary": raw.execute("SELECT sum(length(term) + 12) FROM search_vocabulary").fetchone()[0],
            "champion lists": raw.execute("SELECT sum(length(rowids)) FROM search_champions").fetchone()[0],
            "pairs index": raw.execute("SELECT sum(length(block)) FROM search_pairs_data").fetchone()[0],
            "dense arrays": raw.execute("SELECT sum(length(tf)) FROM search_dense").fetchone()[0],
            "vectors": raw.execute("SELECT sum(length(vectors)) FROM document_vectors").fetchone()[0],
        }  # fmt: skip
        lists, pairs = raw.execute(
            "SELECT count(*), coalesce(sum(term LIKE '% %'), 0) FROM search_champions"
        ).fetchone()
        print(f"\n### {size:,} passages\n")
        print(f"- ingest (text searchable): {ingest:.1f} s, {size / ingest:,.0f} passages/s")
        print(
            f"- vocabulary: {vocab_s:.1f} s; pairs index and dense arrays: {pairs_s:.1f} s;"
            f" champion lists: {champions_s:.1f} s ({lists:,} lists,"
            f" {pairs:,} of them pairs; the builds' peak memory {build_rss:,.0f} MiB)"
        )
        if vectors_s is not None:
            memory = services.search.meaning._vectors.matrix.nbytes  # type: ignore[union-attr]
            print(f"- vectors (background): {vectors_s:.1f} s, {size / vectors_s:,.0f} passages/s;"
                  f" in memory {memory / 2**20:.0f} MiB")  # fmt: skip
        print("- sizes: " + ", ".join(f"{k} {(v or 0) / 2**20:.1f} MiB" for k, v in sizes.items()))
        # The same passages every run, so runs compare: every (size // count)-th one.
        step = max(1, size // count)
        sampled = "SELECT id, text FROM passages WHERE rowid IN (SELECT rowid FROM passages" \
            " ORDER BY rowid LIMIT ? OFFSET ?)"  # fmt: skip
        picked = [raw.execute(sampled, (1, i * step + 7)).fetchone() for i in range(count)]
        texts = [str(t) for _, t in picked]
        classes = queries(size, count, texts)
        warm_up = queries(size + 1, 3, texts[::-1]) | {"hostile": HOSTILE_WARM}
        sample_ids = [str(r) for r, _ in picked]
        warm_up["more like this"] = [
            str(raw.execute(sampled, (1, i * step + 11)).fetchone()[0]) for i in range(3)
        ]
        print("\n| class | n | Lectern p50 ms | p99 ms | first-run p99 | target | recall@5 | FTS5 unbounded p50 | p99 "
              "| LIKE p50 | p99 | p50 vs FTS5 |\n|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|")  # fmt: skip
        for name, items in [*classes.items(), ("more like this", sample_ids)]:
            if name == "more like this":

                async def run(pid: str) -> Any:
                    source = await services.corpus.passage(pid)
                    return await services.search.related(source, limit=5)  # type: ignore[arg-type]
            else:

                async def run(q: str) -> Any:
                    return await services.search.search(q, limit=5)

            for item in warm_up[name]:  # the process, not the queries measured
                await run(item)
            ours = await time_each(run, items, 3)
            fts, like, recalls = [], [], []
            for item in items:
                query = item
                if name == "more like this":
                    source = await services.corpus.passage(item)
                    assert source is not None
                    vocabulary = await services.search.lexicon.current()
                    sq = similarity_query(source.text, vocabulary.count if vocabulary else None)
                    query = str(sq)
                    exact, _ = shapes(sq, vocabulary)
                else:
                    exact, _ = shapes(parse_query(query), await services.search.lexicon.current())
                ms, truth = timed_sql(raw, TRUTH, (exact.fts(),))
                fts.append(ms)
                word = exact.wanted[0].phrases[0].words[0]
                ms, _ = timed_sql(
                    raw, "SELECT rowid FROM passages WHERE text LIKE ? LIMIT 5", (f"%{word}%",)
                )
                like.append(ms)
                if name.startswith("meaning"):
                    continue
                if name == "more like this":
                    vocabulary = await services.search.lexicon.current()
                    assert vocabulary is not None
                    generation = await services.corpus.generation()
                    ranked = await services.search.ranker.rank(
                        exact, vocabulary, generation, limit=5, offset=0
                    )
                    got = list(ranked.rowids)
                    if truth:
                        marks = ",".join("?" * len(got)) or "NULL"
                        scores = dict(
                            raw.execute(
                                f"SELECT rowid, bm25(passages_fts, 1.0, 0.5, 0.5) FROM passages_fts WHERE passages_fts MATCH ? AND rowid IN ({marks})",
                                (exact.fts(), *got),
                            ).fetchall()
                        )
                        recalls.append(
                            sum(1 for r in got if r in scores and scores[r] <= truth[-1][1] + 1e-9)
                            / len(truth)
                        )
                else:
                    value = await recall(services, raw, query)
                    if value is not None:
                        recalls.append(value)
            r5 = f"{statistics.mean(recalls):.3f}" if recalls else "n/a"
            # Each query's first run, nothing of it kept yet (a query met twice: its first).
            first = [ours[i] for i, item in enumerate(items) if items.index(item) == i]
            ok = "PASS" if max(p(ours, 0.99), p(first, 0.99)) <= target_ms(size) else "FAIL"
            print(f"| {name} | {len(ours)} | {fmt_ms(p(ours, .5))} | {fmt_ms(p(ours, .99))} | {fmt_ms(p(first, .99))} | "
                  f"≤ {target_ms(size):.0f} {ok} | {r5} | {fmt_ms(p(fts, .5))} | {fmt_ms(p(fts, .99))} | "
                  f"{fmt_ms(p(like, .5))} | {fmt_ms(p(like, .99))} | {p(fts, .5) / p(ours, .5):.1f}x |",
                  flush=True)  # fmt: skip
        raw.close()
        await services.search.close()


async def main_async(args: argparse.Namespace) -> int:
    CACHE.mkdir(parents=True, exist_ok=True)
    print("## Lectern search benchmark\n")
    print(machine_info())
    print(f"- command: python bench/bench_search.py {' '.join(sys.argv[1:])}".rstrip())
    for size in args.sizes:
        await bench_size(size, args.queries)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=20, help="queries per class")
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
