"""Dense frequencies: a sentence of very common words is ranked from their arrays exactly as
FTS5 ranks it, the arrays are FTS5's own counts, and only arrays of the current corpus count.

The ranking tests' corpus (thresholds lowered so 3,000 passages take a 1M corpus's paths), with
one more document whose title and author hold the common words too."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bot.corpus import dense, dense_ranking, fts_order, ranking, terms
from bot.corpus.ingest import sync_corpus
from bot.corpus.query import parse_query
from bot.corpus.scoring import Group, Phrase, Shape, varints
from bot.corpus.search import shapes
from bot.services import Services
from tests.conftest import document_text
from tests.test_ranking import (  # noqa: F401
    COMMON,
    _passage,
    _ranked_rowids,
    _truth,
    _with_forms,
    big,
)

SENTENCES = [
    "it in the of and a",
    "the light of the river",
    "light river that is",
    "and to a in is that it",
    "the the the of",
    "river light -a",
    "of that in -it -is",
]


@pytest.fixture
def big_folder(tmp_path: Path) -> Path:
    rng = random.Random(5)
    folder = tmp_path / "big"
    folder.mkdir()
    for n, kind in enumerate(("essay", "poem", "journal")):
        body = "\n\n".join(_passage(rng) for _ in range(1000))
        text = document_text(body, title=f"Volume {n}", kind=kind, author=f"Writer {n}")
        (folder / f"volume-{n}.md").write_text(text, encoding="utf-8")
    body = "\n\n".join(_passage(rng) for _ in range(300))
    titled = document_text(body, title="The Light of the River", author="It Is the River")
    (folder / "river.md").write_text(titled, encoding="utf-8")
    return folder


def test_a_text_hit_counts_twice_and_a_title_or_author_hit_once() -> None:
    """``2 × aFreq``: FTS5 weighs the text 1 and the title and author 0.5."""
    counts = dense.Frequencies(frozenset({"the", "of", "sea"}), 3)
    counts.add(10, ["the", "sea", "the"], ["the", "light"], ["of"])
    counts.add(20, ["light"], ["the", "light"], ["of"])
    counts.add(30, ["the"] * 200, [], [])  # 400: more than a byte holds
    arrays = counts.arrays()
    assert arrays["sea"] == bytes([2, 0, 0])
    assert arrays["of"] == bytes([1, 1, 0])
    assert "the" not in arrays  # no array: such queries go the other ways
    assert list(memoryview(arrays[dense.LENGTHS]).cast("I")) == [6, 4, 200]
    assert list(memoryview(arrays[dense.ROWIDS]).cast("q")) == [10, 20, 30]


async def test_the_arrays_are_fts5_s_own_counts_and_lengths(big: Services) -> None:  # noqa: F811
    generation = await big.corpus.generation()
    built = await big.search.champions.dense_words(generation)
    assert built is not None
    stamp, words = built
    assert set(COMMON) <= words  # every common word is in more than a twentieth
    loaded = await big.search.ranker.dense.index.load(stamp, set(words))
    assert loaded is not None
    with sqlite3.connect(big.db.path) as raw:
        raw.execute("CREATE VIRTUAL TABLE temp.v USING fts5vocab(main, passages_fts, instance)")
        weight = {0: 2, 1: 1, 2: 1}  # text, title, author: 2 × FTS5's column weights
        truth: dict[str, dict[int, int]] = {w: {} for w in words}
        for term, doc, col, hits in raw.execute(
            "SELECT term, doc, col, count(*) FROM v GROUP BY term, doc, col"
        ):
            if term in truth:
                column = ["text", "title", "author"].index(col)
                truth[term][doc] = truth[term].get(doc, 0) + weight[column] * hits
        sizes = {int(i): sum(varints(bytes(s))) for i, s in raw.execute(
            "SELECT id, sz FROM passages_fts_docsize")}  # fmt: skip
    rowids = [int(r) for r in loaded.rowids]
    assert rowids == sorted(sizes)
    assert [int(n) for n in loaded.lengths] == [sizes[r] for r in rowids]
    for word in words:
        assert {r: int(v) for r, v in zip(rowids, loaded.columns[word], strict=True) if v} == (
            truth[word]
        ), word
    assert any(truth["the"][r] % 2 for r in truth["the"])  # titles and authors were counted


def _spy(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    ranked: list[Any] = []
    real = dense.ranked

    def spied(*args: Any, **kwargs: Any) -> Any:
        ranked.append(real(*args, **kwargs))
        return ranked[-1]

    monkeypatch.setattr(dense, "ranked", spied)
    return ranked


@pytest.mark.parametrize("query", SENTENCES)
async def test_a_sentence_of_common_words_is_ranked_from_the_arrays_as_fts5_ranks_it(
    big: Services,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    query: str,
) -> None:
    ranked = _spy(monkeypatch)
    vocabulary = await big.search.lexicon.current()
    exact, _ = shapes(parse_query(query), vocabulary)
    truth = _truth(big.db.path, exact.fts())
    assert truth  # the sentence matches
    got = await _ranked_rowids(big, query, limit=20)
    assert ranked and ranked[0] is not None  # ranked from the arrays, not another way
    score = dict(truth)
    # Ties may order either way only if FTS5's and numpy's sums differ in the last bit.
    assert [score[r] for r in got] == pytest.approx([s for _, s in truth[:20]], abs=1e-9)
    results = await big.search.search(query)
    assert results.total == min(len(truth), fts_order.COUNT_CAP)


async def test_too_many_matches_are_not_scored_at_once(big: Services) -> None:  # noqa: F811
    generation = await big.corpus.generation()
    built = await big.search.champions.dense_words(generation)
    assert built is not None
    loaded = await big.search.ranker.dense.index.load(built[0], {"the", "of"})
    assert loaded is not None
    shape = Shape((Group((Phrase(("the",)),)), Group((Phrase(("of",)),))))
    idfs = [(1e-6,), (1e-6,)]
    assert dense.ranked(shape, loaded, idfs, 30.0, most=10) is None
    found = dense.ranked(shape, loaded, idfs, 30.0)
    assert found is not None and found[1] > 10


async def test_arrays_of_another_corpus_are_never_read(
    big: Services,  # noqa: F811
    big_folder: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    generation = await big.corpus.generation()
    assert await big.search.champions.dense_words(generation) is not None
    extra = "\n\n".join(["the light of the river"] * 40)
    (big_folder / "more.md").write_text(document_text(extra, title="More"), encoding="utf-8")
    await sync_corpus(big.db, big_folder)
    newer = await big.corpus.generation()
    assert newer != generation
    assert await big.search.champions.dense_words(newer) is None
    ranked = _spy(monkeypatch)
    sifted = _spy_sifted(monkeypatch)
    await big.search.lexicon.current()
    query = "the light of the river"
    vocabulary = await big.search.lexicon.current()
    exact, _ = shapes(parse_query(query), vocabulary)
    truth = _truth(big.db.path, exact.fts())
    got = await _ranked_rowids(big, query, limit=5)
    assert not ranked and not any(sifted)  # the stale arrays were not asked
    assert len(got) == 5 and set(got) <= {r for r, _ in truth}


def test_having_keeps_the_passages_with_every_group_and_refuses_unknown_rowids() -> None:
    loaded = dense.Loaded(
        np.array([3, 7, 9, 12], dtype=np.int64),
        np.array([5, 5, 5, 5], dtype=np.uint32),
        {
            "the": np.array([2, 0, 1, 4], dtype=np.uint8),
            "of": np.array([0, 2, 2, 2], dtype=np.uint8),
            "its": np.array([0, 2, 0, 0], dtype=np.uint8),
        },
    )
    the, of_ = Group((Phrase(("the",)),)), Group((Phrase(("of",)),))
    forms = Group((Phrase(("the",)), Phrase(("its",))))  # any of a group's words

    def kept(rowids: list[int], groups: list[Group], **apart: list[int]) -> Any:
        found = dense_ranking.having(
            rowids, groups, loaded, {Phrase((w,)): r for w, r in apart.items()}
        )
        return None if found is None else found.tolist()

    assert kept([3, 7, 9, 12], [the, of_]) == [9, 12]
    assert kept([3, 7, 12], [forms, of_]) == [7, 12]
    assert kept([], [the]) == []
    rare = Group((Phrase(("the",)), Phrase(("thee",))))  # "thee" has no array: listed apart
    assert kept([3, 7, 9, 12], [rare, of_], thee=[7]) == [7, 9, 12]
    assert kept([3, 7], [rare], thee=[7]) == [3, 7]
    assert kept([9, 10], [the]) is None  # another corpus's arrays
    assert kept([13], [the]) is None


def _spy_sifted(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    found: list[Any] = []
    real = dense_ranking.DenseRanking.sifted

    async def spied(self: dense_ranking.DenseRanking, *args: Any) -> Any:
        found.append(await real(self, *args))
        return found[-1]

    monkeypatch.setattr(dense_ranking.DenseRanking, "sifted", spied)
    return found


@pytest.mark.parametrize("query", ["word5 the of and a", "in word7 it that -word9", "a word11 to"])
async def test_a_sentence_with_a_rarer_word_is_listed_by_it_and_kept_by_the_arrays(
    big: Services,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    query: str,
) -> None:
    """The rarest-words sieve would read too many (its budget lowered here, as ``daym`` and
    ``being`` are at 1M): FTS5 lists the rare word's passages, the arrays keep those with the
    common words, and every match is scored: FTS5's order, and its count."""
    monkeypatch.setattr(ranking, "TEXT_BUDGET", 20)
    found = _spy_sifted(monkeypatch)
    vocabulary = await big.search.lexicon.current()
    exact, _ = shapes(parse_query(query), vocabulary)
    truth = _truth(big.db.path, exact.fts())
    assert 20 < len(truth) <= dense_ranking.READ_MOST
    got = await _ranked_rowids(big, query, limit=20)
    assert found and found[0] is not None  # ranked this way, not another
    score = dict(truth)
    assert [score[r] for r in got] == pytest.approx([s for _, s in truth[:20]], abs=1e-9)
    assert found[0][1] == len(truth)


async def test_too_many_matches_to_read_go_another_way(
    big: Services,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ranking, "TEXT_BUDGET", 20)
    monkeypatch.setattr(dense_ranking, "READ_MOST", 10)
    found = _spy_sifted(monkeypatch)
    query = "word5 the of and a"
    vocabulary = await big.search.lexicon.current()
    exact, _ = shapes(parse_query(query), vocabulary)
    truth = {r for r, _ in _truth(big.db.path, exact.fts())}
    got = await _ranked_rowids(big, query, limit=5)
    assert found == [None] or found == [None, None]  # asked, and declined: not read
    assert len(got) == 5 and set(got) <= truth  # the other ways still answer


def _fts_count(db_path: Path, expression: str) -> int:
    with sqlite3.connect(db_path) as raw:
        sql = "SELECT count(*) FROM passages_fts WHERE passages_fts MATCH ?"
        return int(raw.execute(sql, (expression,)).fetchone()[0])


async def test_the_other_forms_are_counted_as_fts5_counts_them(
    big: Services,  # noqa: F811
    big_folder: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A tier of other forms is counted without ranking it: FTS5 lists the groups without
    arrays (a phrase too), the arrays keep those with the others, and a group only some of
    whose forms have arrays has the others listed apart."""
    await _with_forms(big, big_folder, monkeypatch)
    vocabulary = await big.search.lexicon.current()
    assert vocabulary is not None
    generation = await big.corpus.generation()
    built = await big.search.champions.dense_words(generation)
    assert built is not None and "river" in built[1] and "rivers" not in built[1]
    counted = 0
    for query in ("light river word3 the", "lights quill of", "rivers quill the", "rivers quill"):
        _, forms = shapes(parse_query(query), vocabulary)
        assert forms is not None and any(len(g.phrases) > 1 for g in forms.wanted), query
        found = await big.search.ranker.count(forms, vocabulary, generation)
        if found is not None:
            counted += 1
            assert found == _fts_count(big.db.path, Shape(forms.wanted).fts()), query
    assert counted >= 2
    monkeypatch.setattr(terms, "FTS_BUDGET", 50_000)  # the fixture's 300 lists no phrase
    river = Group((Phrase(("rivers",)), Phrase(("the", "river"))))  # a phrase: listed by FTS5
    quill = Shape((river, Group((Phrase(("quill",)),)), Group((Phrase(("of",)),))))
    found = await big.search.ranker.count(quill, vocabulary, generation)
    assert found is not None and found == _fts_count(big.db.path, quill.fts())


async def test_a_page_of_exact_forms_counts_the_others_and_ranks_the_same(
    big: Services,  # noqa: F811
    big_folder: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """While exact forms fill the page, the other forms are counted, not ranked: the total is
    every match's, the page the exact ranking's; the last exact page ranks the others."""
    await _with_forms(big, big_folder, monkeypatch)
    vocabulary = await big.search.lexicon.current()
    assert vocabulary is not None
    query = "light quill"
    exact, forms = shapes(parse_query(query), vocabulary)
    assert forms is not None
    ranked_forms = []
    real_rank = big.search.ranker.rank

    async def spied(shape: Shape, *args: Any, **kwargs: Any) -> ranking.Ranked:
        ranked_forms.append(shape.minus is not None)
        return await real_rank(shape, *args, **kwargs)

    monkeypatch.setattr(big.search.ranker, "rank", spied)
    results = await big.search.search(query, limit=5)
    assert not any(ranked_forms)  # counted, not ranked
    assert results.total == _fts_count(big.db.path, Shape(forms.wanted).fts())
    exact_truth = [r for r, _ in _truth(big.db.path, exact.fts())]
    assert 5 < len(exact_truth) < results.total
    assert [await _rowid(big, h.passage.id) for h in results.hits] == exact_truth[:5]
    last = (len(exact_truth) - 1) // 5 * 5
    tail = await big.search.search(query, limit=5, offset=last)
    assert any(ranked_forms)  # the page past the exact forms needs their ranking
    assert tail.total == results.total


async def _rowid(services: Services, passage_id: str) -> int:
    row = await services.db.one("SELECT rowid FROM passages WHERE id = ?", (passage_id,))
    return int(row[0])


async def test_the_commonest_arrays_are_read_ahead_once_built(
    big: Services,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After a start or a build, the commonest words' arrays are read on a connection of
    their own, within READ_AHEAD_BYTES: a sentence of them then reads nothing."""
    vocabulary = await big.search.lexicon.current()
    assert vocabulary is not None
    built = await big.search.champions.dense_words(vocabulary.generation)
    assert built is not None
    stamp, words = built
    commonest = sorted(words, key=lambda w: -vocabulary.count(w))
    rows = await big.search.ranker.averages(vocabulary.generation)
    # room for every passage's rowid (8 bytes) and length (4), and three words' arrays
    monkeypatch.setattr(dense, "READ_AHEAD_BYTES", 12 * rows[0] + 3 * rows[0])
    index = big.search.ranker.dense.index
    await big.search.search("light river")  # the first search starts it
    await index.settled()
    reads: list[str] = []
    real_all = big.db.all

    async def spied(sql: str, *args: Any, **kwargs: Any) -> Any:
        reads.append(sql)
        return await real_all(sql, *args, **kwargs)

    monkeypatch.setattr(big.db, "all", spied)
    loaded = await index.load(stamp, set(commonest[:3]))
    assert loaded is not None and not [r for r in reads if dense.TABLE in r]
    assert len(loaded.rowids) == rows[0]
    fourth = await index.load(stamp, {commonest[3]})  # past the budget: read when needed
    assert fourth is not None and [r for r in reads if dense.TABLE in r]
