"""Relevance benchmark (issue 12): success@5 and MRR per category of ``tests/relevance_set.py``.

    python bench/bench_relevance.py

Over the bundled corpus, three ways, in the same run: the naive baseline (FTS5 ``MATCH`` of the
query as typed, ranked by bm25: no word forms, no corrections, no meaning), Lectern's word
search, and Lectern's word search fused with meaning (needs ``lectern[meaning]``). Lectern is
measured through the /search reply a reader sees, corrections included.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bot.config import BUNDLED_PASSAGES, Settings  # noqa: E402
from bot.core.db import Database  # noqa: E402
from bot.core.errors import UserError  # noqa: E402
from bot.corpus import meaning  # noqa: E402
from bot.corpus.ingest import sync_corpus  # noqa: E402
from bot.corpus.query import parse_query  # noqa: E402
from tests.conftest import services_for  # noqa: E402
from tests.relevance_set import RELEVANCE, evaluate, first_page_ids  # noqa: E402


async def measure() -> dict[str, dict[str, tuple[float, float, list[str]]]]:
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "db.sqlite3"
        async with await Database.open(path) as db:
            await sync_corpus(db, BUNDLED_PASSAGES)
            raw = sqlite3.connect(path)

            async def naive(query: str) -> list[str]:
                expression = parse_query(query).expression
                if expression is None:
                    return []
                rows = raw.execute(
                    """SELECT p.id FROM passages_fts AS f JOIN passages AS p ON p.rowid = f.rowid
                    WHERE passages_fts MATCH ? ORDER BY rank LIMIT 5""",
                    (expression,),
                ).fetchall()
                return [str(r[0]) for r in rows]

            results["naive FTS5"] = await evaluate(naive)
            for label, on in (("Lectern, words", False), ("Lectern, words + meaning", True)):
                if on and meaning.embedder() is None:
                    continue
                services = services_for(db, Settings(search_meaning=on))
                await services.search.lexicon.current()
                if on:
                    t0 = time.perf_counter()
                    await asyncio.to_thread(meaning.build, path)
                    print(f"- vectors for the bundled corpus: {time.perf_counter() - t0:.2f} s")
                    index = services.search.meaning
                    assert index is not None
                    await index.keep_current()
                    if index._loading is not None:
                        await index._loading

                async def lectern(query: str, services: object = services) -> list[str]:
                    try:
                        reply = await services.reading.search(query, user_id=1)  # type: ignore[attr-defined]
                    except UserError:
                        return []
                    return first_page_ids(reply)

                results[label] = await evaluate(lectern)
                await services.search.close()
            raw.close()
    return results


def main() -> int:
    print("## Lectern relevance benchmark\n")
    print(f"- {sum(len(v) for v in RELEVANCE.values())} queries, tests/relevance_set.py")
    results = asyncio.run(measure())
    ways = list(results)
    print("\n| category | " + " | ".join(f"{w} success@5 | MRR" for w in ways) + " |")
    print("|---|" + "---:|---:|" * len(ways))
    for category in RELEVANCE:
        cells = [f"{results[w][category][0]:.2f} | {results[w][category][1]:.2f}" for w in ways]
        print(f"| {category} | " + " | ".join(cells) + " |")
    print("\nMissed by the last column:")
    for category, (_, _, missed) in results[ways[-1]].items():
        if missed:
            print(f"- {category}: " + "; ".join(missed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
