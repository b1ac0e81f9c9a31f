"""Search by meaning: vectors built in a worker process after the text is searchable, kept per
document, read into memory, fused with word search; and search without the meaning extra."""

from __future__ import annotations

import asyncio
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from bot.config import ConfigError, Settings, load_settings
from bot.core.db import Database
from bot.corpus import meaning, nearest
from bot.corpus.ingest import sync_corpus
from bot.services import Services
from tests.conftest import document_text, services_for
from tests.relevance_set import first_page_ids


def _needs_the_extra() -> None:
    pytest.importorskip("wordllama", reason="the meaning extra (pip install lectern[meaning])")


async def test_a_search_starts_the_worker_and_its_vectors_are_used(
    tmp_path: Path, passages_dir: Path
) -> None:
    _needs_the_extra()
    async with await Database.open(tmp_path / "db.sqlite3") as db:
        await sync_corpus(db, passages_dir)
        services = services_for(db, Settings(search_meaning=True))
        index = services.search.meaning
        assert index is not None
        await services.search.search("attention")  # words only, for now
        assert index.worker.task is not None  # embedding in a process of its own
        await index.worker.task
        stored = await db.all("SELECT document_id, model, length(vectors) FROM document_vectors")
        counts = dict(await db.all("SELECT id, passage_count FROM documents"))
        assert {d: n // meaning.DIMS for d, _, n in stored} == counts
        assert {m for _, m, _ in stored} == {meaning.MODEL}
        generation = await services.corpus.generation()
        covered = await db.one("SELECT value FROM corpus_meta WHERE key = 'vectors_for'")
        assert covered[0] == str(generation)
        await services.search.search("attention")  # sees the new vectors: reads them
        if index._loading is not None:
            await index._loading
        assert index.passages == sum(counts.values())


async def test_an_edited_document_alone_is_embedded_again(
    tmp_path: Path, passages_dir: Path
) -> None:
    _needs_the_extra()
    async with await Database.open(tmp_path / "db.sqlite3") as db:
        await sync_corpus(db, passages_dir)
        total = await asyncio.to_thread(meaning.build, db.path)
        assert total == (await db.one("SELECT count(*) FROM passages"))[0]
        (passages_dir / "extra.md").write_text(document_text("One.\n\nTwo."), encoding="utf-8")
        await sync_corpus(db, passages_dir)
        assert await asyncio.to_thread(meaning.build, db.path) == 2  # the new document only
        (passages_dir / "extra.md").unlink()
        await sync_corpus(db, passages_dir)
        assert await asyncio.to_thread(meaning.build, db.path) == 0
        documents = {d for (d,) in await db.all("SELECT id FROM documents")}
        stored = {d for (d,) in await db.all("SELECT document_id FROM document_vectors")}
        assert stored == documents  # the removed document's vectors went with it


async def test_a_paraphrase_finds_the_passage_it_means(
    with_meaning: Services,
) -> None:
    reply = await with_meaning.reading.search("a coffee shop that was waiting for you", user_id=1)
    assert "shape-of-attention-10" in first_page_ids(reply)
    assert reply.cards[0].description.startswith("No passage has all these words")


async def test_more_like_this_draws_on_meaning(with_meaning: Services) -> None:
    source = await with_meaning.corpus.passage("permanent-thing-1")
    assert source is not None
    related = await with_meaning.search.related(source, limit=5)
    assert len(related) == 5 and source.id not in {p.id for p in related}
    assert "permanent-thing-6" in {p.id for p in related}  # the fans, the hum, again


async def test_without_the_extra_search_is_words_only(
    tmp_path: Path, passages_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "wordllama.inference", None)  # as if not installed
    meaning.embedder.cache_clear()
    try:
        with pytest.raises(meaning.MeaningUnavailable, match=r"lectern\[meaning\]"):
            meaning.Embedder()
        async with await Database.open(tmp_path / "db.sqlite3") as db:
            await sync_corpus(db, passages_dir)
            services = services_for(db, Settings(search_meaning=True))
            results = await services.search.search("convergence")
            assert results.hits and results.meaning_only == 0
            assert services.search.meaning is not None
            assert not services.search.meaning.available
            assert services.search.meaning.worker.task is None  # nothing to build with
    finally:
        monkeypatch.undo()
        meaning.embedder.cache_clear()


def test_hosts_can_turn_meaning_off(tmp_path: Path) -> None:
    assert load_settings({}, env_file=None).search_meaning
    assert not load_settings({"LECTERN_SEARCH_MEANING": "off"}, env_file=None).search_meaning
    with pytest.raises(ConfigError, match="LECTERN_SEARCH_MEANING must be on or off"):
        load_settings({"LECTERN_SEARCH_MEANING": "sometimes"}, env_file=None)


async def test_pages_of_a_fused_search_reach_every_result_once(with_meaning: Services) -> None:
    for query in ("like", "attention", "a coffee shop that was waiting for you"):
        first = await with_meaning.search.search(query, limit=5)
        seen: list[str] = []
        for offset in range(0, first.reachable + 5, 5):
            page = await with_meaning.search.search(query, limit=5, offset=offset)
            seen += [h.passage.id for h in page.hits]
        assert len(seen) == len(set(seen)) == first.reachable, query
        assert first.total >= first.reachable


async def test_the_pages_of_a_sentence_scan_the_vectors_once(
    with_meaning: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    scans: list[int] = []
    scan = nearest._nearest

    def counted(*args: object) -> list[tuple[int, float]]:
        scans.append(1)
        return scan(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(nearest, "_nearest", counted)
    query = "a coffee shop that was waiting for you"
    pages = [await with_meaning.search.search(query, limit=5, offset=o) for o in (0, 5, 10, 0)]
    assert len(scans) == 1
    assert [h.passage.id for h in pages[0].hits] == [h.passage.id for h in pages[3].hits]
    index = with_meaning.search.meaning
    assert index is not None and index._vectors is not None
    index._vectors = replace(index._vectors, version=("other", "vectors"))  # as after a reload
    await with_meaning.search.search(query, limit=5)
    assert len(scans) == 2


def test_the_nearest_are_the_highest_scores_in_order_at_any_size() -> None:
    np = pytest.importorskip("numpy")
    rng = np.random.default_rng(7)
    for n, k in ((5, 20), (100, 20), (50_000, 20), (50_000, 1), (3000, 3000)):
        scores = rng.standard_normal(n).astype(np.float32)
        scores[rng.integers(0, n, n // 10)] = 0.5  # ties
        got = nearest._best(scores, min(k, n))
        expected = sorted(range(n), key=lambda i: (-scores[i], i))[: min(k, n)]
        assert got.tolist() == expected


def test_a_scan_split_over_two_threads_finds_what_one_finds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    np = pytest.importorskip("numpy")
    rng = np.random.default_rng(3)
    matrix = rng.integers(-127, 128, (10_000, meaning.DIMS), dtype=np.int8)
    vectors = nearest._Vectors(("v", "1"), matrix, np.arange(5, 10_005, dtype=np.int64))
    query = matrix[42]
    one = nearest._nearest(vectors, query, 20, skip=47)
    monkeypatch.setattr(nearest, "SPLIT_FROM", 0)
    two = nearest._nearest(vectors, query, 20, skip=47)
    assert two == one and len(one) == 20
    assert one[0][0] != 47 and 47 not in [r for r, _ in one]  # the passage itself is skipped
    scores = matrix.astype(np.float32) @ query.astype(np.float32)
    scores[42] = -np.inf
    assert [r for r, _ in one] == [int(i) + 5 for i in np.argsort(-scores, kind="stable")[:20]]
