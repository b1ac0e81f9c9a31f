"""The true best results at any size: Python's bm25 equals FTS5's, every way of ranking agrees
with FTS5 ranking every match, and the champion lists are built, stored and kept honest.

The thresholds are lowered so a 3,000-passage corpus takes each path a 1M-passage one does."""

from __future__ import annotations

import random
import re
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.core.db import Database
from bot.corpus import champions, lexicon, ranking, terms
from bot.corpus.bounds import GUIDE, OWN, bound, passage_bounds, summed
from bot.corpus.ingest import sync_corpus
from bot.corpus.lexicon import make_vocabulary
from bot.corpus.query import parse_query
from bot.corpus.scoring import (
    Candidate,
    Group,
    Phrase,
    Shape,
    bm25,
    idf,
    index_averages,
    varints,
)
from bot.corpus.search import shapes
from bot.corpus.terms import FTS_MATCH, FTS_MATCH_ANY, fts_cost, group_count
from bot.corpus.tokens import tokens
from bot.services import Services
from tests.conftest import document_text, services_for

COMMON = "the of and to a in is that it light river".split()
RARE = [f"word{i}" for i in range(300)]
TRUTH = """SELECT f.rowid, bm25(passages_fts, 1.0, 0.5, 0.5) AS score FROM passages_fts AS f
    WHERE passages_fts MATCH ? ORDER BY score, f.rowid"""


def _passage(rng: random.Random) -> str:
    size = rng.randint(4, 60)
    words = [rng.choice(COMMON) if rng.random() < 0.6 else rng.choice(RARE) for _ in range(size)]
    return " ".join(words)


@pytest.fixture
def big_folder(tmp_path: Path) -> Path:
    rng = random.Random(12)
    folder = tmp_path / "big"
    folder.mkdir()
    for n, kind in enumerate(("essay", "poem", "journal")):
        body = "\n\n".join(_passage(rng) for _ in range(1000))
        text = document_text(body, title=f"Volume {n}", kind=kind, author=f"Writer {n}")
        (folder / f"volume-{n}.md").write_text(text, encoding="utf-8")
    rare = document_text("A zephyr.\n\nThe zephyr again.", title="Weather")
    (folder / "weather.md").write_text(rare, encoding="utf-8")
    return folder


@pytest.fixture
async def big(
    tmp_path: Path, big_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Services]:
    monkeypatch.setattr(ranking, "EXACT_BUDGET", 300)
    monkeypatch.setattr(terms, "FTS_BUDGET", 300)
    monkeypatch.setattr(ranking, "ENUMERATE", 100)
    monkeypatch.setattr(ranking, "SMALL_CORPUS", 100)  # phrases of common words: the lists
    monkeypatch.setattr(champions, "CHAMPION_DF", 100)  # as in production: = ENUMERATE
    monkeypatch.setattr(champions, "CHAMPIONS", 60)
    monkeypatch.setattr(champions, "STOPWORD_CHAMPIONS", 300)
    async with await Database.open(tmp_path / "db.sqlite3") as db:
        await sync_corpus(db, big_folder)
        services = services_for(db)
        assert await services.search.lexicon.current() is not None
        await _built(services)
        yield services


async def _built(services: Services) -> None:
    """Wait for the champion lists a search starts building in the worker process."""
    await services.search.search("the")
    task = services.search.champions.worker.task
    if task is not None:
        await task
    generation = await services.corpus.generation()
    assert await services.search.champions.current(generation)


def _without_pairs_index(services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rank as while the pairs index is being built, or when it cannot rank in time."""

    async def none(generation: int) -> None:
        return None

    monkeypatch.setattr(services.search.champions, "pair_stopwords", none)


def _truth(db_path: Path, expression: str) -> list[tuple[int, float]]:
    with sqlite3.connect(db_path) as raw:
        return [(int(r), float(s)) for r, s in raw.execute(TRUTH, (expression,))]


async def _ranked_rowids(services: Services, query: str, limit: int = 5) -> list[int]:
    results = await services.search.search(query, limit=limit)
    rowids = dict(await services.db.all("SELECT id, rowid FROM passages"))
    return [int(rowids[h.passage.id]) for h in results.hits]


def test_tokens_are_the_index_s_own(tmp_path: Path) -> None:
    text = "Café “naïve” e-mail—it’s 42 ÆON straße ok_go Ünïcödé 🙂 x"
    with sqlite3.connect(tmp_path / "t.db") as raw:
        raw.execute(
            "CREATE VIRTUAL TABLE t USING fts5(x, tokenize='unicode61 remove_diacritics 2')"
        )
        raw.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, instance)")
        raw.execute("INSERT INTO t VALUES (?)", (text,))
        indexed = [str(r[0]) for r in raw.execute("SELECT term FROM v ORDER BY offset")]
    assert tokens(text) == indexed


async def _candidate(services: Services, rowid: int) -> Candidate:
    """The passage as the scorer reads it."""
    text, title, author, size = await services.db.one(
        """SELECT s.text, s.title, s.author, d.sz FROM passage_search AS s
        JOIN passages_fts_docsize AS d ON d.id = s.rowid WHERE s.rowid = ?""",
        (rowid,),
    )
    return Candidate.of(rowid, text, title, author, sum(varints(bytes(size))))


async def test_python_bm25_is_fts5_bm25(big: Services) -> None:
    vocabulary = await big.search.lexicon.current()
    assert vocabulary is not None
    block = (await big.db.one("SELECT block FROM passages_fts_data WHERE id = 1"))[0]
    rows, avgdl = index_averages(bytes(block))
    for query in ("light", "the river", "word7 the", '"of the" word3', "light -word9"):
        exact, _ = shapes(parse_query(query), vocabulary)
        counts = [  # a phrase's passages FTS5 counts itself; the scorer is told them
            vocabulary.count(g.phrases[0].words[0])
            if len(g.phrases[0].words) == 1
            else len(_truth(big.db.path, g.fts()))
            for g in exact.wanted
        ]
        truth = _truth(big.db.path, exact.fts())
        assert truth, query
        for rowid, fts_score in truth[:50]:
            candidate = await _candidate(big, rowid)
            ours = bm25(candidate, exact, [(idf(rows, n),) for n in counts], avgdl)
            assert ours == pytest.approx(fts_score, rel=1e-9, abs=1e-12), (query, rowid)


FORMS = "lights lighting lit rivers".split()


async def _with_forms(services: Services, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Other forms of "light" and "river", each in a different number of passages, so that
    each form's idf differs from the group's summed count's."""
    rng = random.Random(5)

    def word(n: int) -> str:
        roll = rng.random()
        if roll < 0.2:
            return rng.choice(FORMS[: 1 + n % len(FORMS)])
        return rng.choice(COMMON) if roll < 0.7 else rng.choice(RARE[:20])

    def passage(n: int) -> str:  # "quill" in 80: a rare word, its matches all scored
        words = [word(n) for _ in range(rng.randint(4, 40))]
        return " ".join(words + ["quill"] * (n % 5 == 0))

    body = "\n\n".join(passage(n) for n in range(400))
    await _added(services, folder, monkeypatch, document_text(body, title="Forms"))


def _list_sizes() -> tuple[int, int, int]:
    """The champion lists' thresholds as the fixture sets them (``build``'s defaults are not)."""
    return champions.CHAMPION_DF, champions.CHAMPIONS, champions.STOPWORD_CHAMPIONS


async def _added(
    services: Services, folder: Path, monkeypatch: pytest.MonkeyPatch, document: str
) -> None:
    """The corpus with ``document`` added, its vocabulary and its champion lists built."""
    (folder / "added.md").write_text(document, encoding="utf-8")
    await sync_corpus(services.db, folder)
    monkeypatch.setattr(lexicon, "REBUILD_EVERY", 0.0)  # the new corpus's vocabulary now...
    await services.search.lexicon.current()
    vocabulary = await services.search.lexicon.current()
    assert vocabulary is not None and vocabulary.generation == await services.corpus.generation()
    champions.build(services.db.path, *_list_sizes())  # ...and its lists (the worker waits)


async def test_python_bm25_scores_each_form_as_fts5_does(
    big: Services, big_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FTS5 gives each phrase of a query its own idf and count: ``(light OR lights)`` is two
    phrases, not one word with their summed passages."""
    await _with_forms(big, big_folder, monkeypatch)
    vocabulary = await big.search.lexicon.current()
    assert vocabulary is not None
    block = (await big.db.one("SELECT block FROM passages_fts_data WHERE id = 1"))[0]
    rows, avgdl = index_averages(bytes(block))
    for query in ("light", "lights river", "river the", "light -rivers"):
        _, forms = shapes(parse_query(query), vocabulary)
        assert forms is not None and any(len(g.phrases) > 1 for g in forms.wanted), query
        counts = [group_count(g, vocabulary, rows) for g in forms.wanted]
        idfs = terms.phrase_idfs(forms, counts, vocabulary, rows)
        truth = _truth(big.db.path, forms.fts())
        assert truth, query
        for rowid, fts_score in truth[:60]:
            candidate = await _candidate(big, rowid)
            ours = bm25(candidate, forms, idfs, avgdl)
            assert ours == pytest.approx(fts_score, rel=1e-9, abs=1e-12), (query, rowid)


async def test_the_other_forms_tier_is_ranked_in_fts5_s_order(
    big: Services, big_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Common words in other forms, among a rare word's matches or sifted by a sentence's
    rarest words, scored in Python: in FTS5's order of every match, down to the last."""
    await _with_forms(big, big_folder, monkeypatch)
    vocabulary = await big.search.lexicon.current()
    assert vocabulary is not None
    generation = await big.corpus.generation()
    for query in ("quill the lights", "word30 word47 the lights", "word35 rivers word59 of"):
        _, forms = shapes(parse_query(query), vocabulary)
        assert forms is not None and terms.single_words(forms, vocabulary)
        truth = _truth(big.db.path, forms.fts())
        assert 0 < len(truth) <= ranking.TEXT_BUDGET, query
        ranked = await big.search.ranker.rank(forms, vocabulary, generation, limit=500, offset=0)
        scores = dict(truth)
        assert sorted(ranked.rowids) == sorted(scores), query
        assert [scores[r] for r in ranked.rowids] == sorted(scores.values()), query


@pytest.mark.parametrize(
    "query",
    [
        "zephyr",  # FTS5 ranks every match (few enough)
        "zephyr the",  # a rare word among common ones: every match scored in Python
        "the",  # a stopword: its champion list, exact
        "light",
        "word5 the",  # a less rare word among common ones: the lists
        "the of",  # only common words: the lists, exact by the threshold
        "light river and",
        "river -word3",  # an exclusion checked in Python
        "ri*",  # a short prefix: its own list
        "th* light",
        '"the of"',  # a stopword pair: its own list, complete
        '"and the of"',  # a phrase of stopwords: its pairs bound it
        '"of the" light',
        '"to the" "and it"',
        '"the of of" -word1',
    ],
)
@pytest.mark.parametrize("pairs_index", [True, False])  # without: while it is being built
async def test_page_one_is_the_best_of_every_match(
    big: Services, query: str, pairs_index: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not pairs_index:
        _without_pairs_index(big, monkeypatch)
    vocabulary = await big.search.lexicon.current()
    assert vocabulary is not None
    exact, _ = shapes(parse_query(query), vocabulary)
    truth = _truth(big.db.path, exact.fts())
    got = await _ranked_rowids(big, query)
    scores = dict(truth)
    fifth = truth[min(4, len(truth) - 1)][1]
    assert len(got) == min(5, len(truth))
    # Equal scores may come in any order: every result is as good as the truth's fifth.
    assert all(scores[r] <= fifth + 1e-12 for r in got), (query, got, truth[:5])
    assert [scores[r] for r in got] == sorted(scores[r] for r in got)


async def test_every_way_agrees_where_fts5_is_cheap_enough_to_rank(
    big: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At the production budget FTS5 ranks rare phrases and rare pairs itself, and a common
    word is read off its list: page one is still the best of every match."""
    monkeypatch.setattr(terms, "FTS_BUDGET", 20_000)
    vocabulary = await big.search.lexicon.current()
    assert vocabulary is not None
    for query in ("light", "word5 word7", '"word5 the"', '"the of"', "river -word3", "the"):
        big.search.ranker._orders.clear()
        exact, _ = shapes(parse_query(query), vocabulary)
        truth = _truth(big.db.path, exact.fts())
        scores = dict(truth)
        got = await _ranked_rowids(big, query)
        assert len(got) == min(5, len(truth)), query
        assert all(scores[r] <= truth[len(got) - 1][1] + 1e-12 for r in got), query


def test_fts5_s_cost_grows_with_the_entries_it_walks_and_the_matches_it_scores() -> None:
    rows = 100_000
    vocabulary = make_vocabulary(1, [("the", 90_000, "the"), ("tide", 50, "tide"), ("salt", 40, "salt"), ("sea", 3000, "sea")])  # fmt: skip

    def cost(query: str, match_any: bool = False) -> float:
        exact, _ = shapes(parse_query(query), vocabulary)
        shape = Shape(exact.wanted, match_any=match_any)
        counts = [group_count(g, vocabulary, rows) for g in shape.wanted]
        return fts_cost(shape, counts, vocabulary, rows)

    assert 90 < cost("tide salt") < 100  # both entries walked; together in next to no passage
    assert cost("tide the") > 90_000  # FTS5 counts "the" before it scores a match
    assert cost("sea") == 3000 + FTS_MATCH * 3000  # walked, then every match scored
    assert cost('"tide the"') > 2 * 90_000  # a phrase walks its words' positions too
    # any of them: each match has one or two, and FTS5 passes the others by
    assert cost("tide salt", match_any=True) == 90 + FTS_MATCH_ANY * 2 * 90


def test_fts5_ranks_a_phrase_ending_in_a_prefix_up_to_a_larger_budget() -> None:
    """The lists only guide such a phrase (no bound, no proof): FTS5, exact, is given up to
    GUIDED_TIMES the budget before the guided path is taken."""
    rows = 100_000
    counted = [("to", 60_000), ("the", 90_000), ("then", 5_000), ("in", 50_000), ("a", 55_000)]
    vocabulary = make_vocabulary(1, [(w, n, w) for w, n in counted])

    def by_fts(query: str) -> tuple[bool, float]:
        exact, _ = shapes(parse_query(query), vocabulary)
        counts = [3_000, 1_800]  # as the pair lists count "to the" and "in a"
        cost = fts_cost(exact, counts, vocabulary, rows)
        return terms.cheap_for_fts(exact, counts, vocabulary, rows, ranking.ENUMERATE), cost

    prefixed, cost = by_fts('"to the"* "in a"')
    assert terms.FTS_BUDGET < cost <= terms.GUIDED_TIMES * terms.FTS_BUDGET and prefixed
    plain, plain_cost = by_fts('"to the" "in a"')  # its pairs' lists bound it: the lists
    assert terms.FTS_BUDGET < plain_cost < cost and not plain


def test_a_sentence_is_tried_on_fts5_when_its_words_are_seldom_together() -> None:
    rows = 1_000_000
    words = [(f"w{i}", 40_000, f"w{i}") for i in range(6)] + [("it", 700_000, "it")]
    vocabulary = make_vocabulary(1, [*words, ("wa", 30_000, "wa")])

    def tried(query: str) -> bool:
        exact, _ = shapes(parse_query(query), vocabulary)
        counts = [group_count(g, vocabulary, rows) for g in exact.wanted]
        return terms.few_together(exact, counts, vocabulary, rows, ranking.ENUMERATE)

    assert tried("w0 w1 w2 w3 w4 w5")  # 1M x 0.04^6 x 4: no passage expected
    assert not tried("w0 w1")  # 1M x 0.04^2 x 4 = 6,400 expected: the lists
    assert not tried("w0 w1 w2 w3 w4 it")  # it: 700,000 entries walked, however few match
    assert not tried("w0 w1 w2 w3 w4 wa*")  # a prefix: merged before any limit stops it
    assert not tried("w0")


def test_a_query_with_a_listed_pair_is_tried_on_fts5_only_when_fts5_can_end_in_time() -> None:
    rows = 100_000
    counted = [("the", 90_000), ("of", 80_000), ("storm", 5_000), ("sea", 4_000), ("cod", 20)]
    vocabulary = make_vocabulary(1, [(w, n, w) for w, n in counted])

    def tried(query: str, pair_count: int | None = None) -> bool:
        exact, _ = shapes(parse_query(query), vocabulary)
        counts = [group_count(g, vocabulary, rows) for g in exact.wanted]
        counts = [min(n, pair_count or n) for n in counts]  # what the pair lists counted
        return terms.maybe_rare(exact, counts, vocabulary, rows, ranking.ENUMERATE)

    assert tried('"storm sea"')  # no pair list: only FTS5 knows how rare it is
    assert tried('"storm the sea"', pair_count=3_000)  # "storm the": 2 x 99,000 entries
    assert not tried('"the of the"', pair_count=9_000)  # 2 x 260,000 entries: no stopping it
    assert not tried('"the storm"')  # a listed pair: its list is its ranking
    # A sentence with listed pairs, seldom together: FTS5 counts each phrase before it ranks.
    assert tried('"the storm" sea', pair_count=3_000)  # 2 x 95,000 + 4,000 entries
    assert not tried('"the storm" "of sea"', pair_count=3_000)  # 2 x 179,000: it outlasts 12 ms
    phrase = shapes(parse_query('"cod the sea"'), vocabulary)[0].wanted[0]
    assert terms.listed_keys(phrase, vocabulary, rows) == ["the sea"]  # "cod" is rare


def test_a_sentence_is_sifted_by_its_rarest_words_when_they_are_seldom_together() -> None:
    rows = 1_000_000
    counts = {"the": 900_000, "of": 800_000, "tide": 400, "salt": 900, "sea": 30_000}
    counts |= {"wave": 20_000, "sand": 40_000, "shore": 50_000}
    vocabulary = make_vocabulary(1, [(w, n, w) for w, n in counts.items()])

    def sieve(query: str, match_any: bool = False) -> str | None:
        exact, _ = shapes(parse_query(query), vocabulary)
        shape = Shape(exact.wanted, match_any=match_any)
        counted = [group_count(g, vocabulary, rows) for g in shape.wanted]
        found = terms.rarest(shape, counted, vocabulary, rows, ranking.TEXT_BUDGET)
        return None if found is None else found.fts()

    assert sieve("salt of the tide") == '"salt" AND "tide"'  # in query order
    assert sieve("the sea of tide") == '"sea" AND "tide"'  # 400 x 30,000 / 1M: 12 together
    assert sieve("shore of wave sand") == '"shore" AND "wave" AND "sand"'  # two: 800; three: 40
    assert sieve("salt tide") is None  # the two are the query
    assert sieve("wave sand shore") is None  # only the whole query is seldom together
    assert sieve("the of sea") is None  # "of" and "sea": 830,000 entries to walk
    assert sieve("salt of the tide", match_any=True) is None
    assert sieve('"of the" salt tide') == '"salt" AND "tide"'
    assert sieve('"salt tide" sea the') == '"salt tide" AND "sea"'  # it walks 2,600 entries
    assert sieve('"the sea" wave of') is None  # it walks every "the", with its positions
    assert sieve("salt of the tide*") is None  # nor a prefix: and "of", "the" are too common
    # Only for single words counted exactly is Python's bm25 FTS5's: their sifted order exact
    single = [terms.single_words(shapes(parse_query(q), vocabulary)[0], vocabulary)
              for q in ("salt of tide", '"of the" salt tide', "salt tide*")]  # fmt: skip
    assert single == [True, False, False]


async def test_a_sentence_is_scored_from_the_passages_with_its_rarest_words(
    big: Services, big_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every match has them: when they are together in few passages, those are the sentence's
    matches to score, exactly, and FTS5 never steps through the stopwords' entries."""
    listed: list[str] = []
    original = ranking.Ranker._listed

    async def spied(self: ranking.Ranker, shape: Shape, *args: Any, **kwargs: Any) -> list[int]:
        listed.append(shape.fts())
        return await original(self, shape, *args, **kwargs)

    monkeypatch.setattr(ranking.Ranker, "_listed", spied)
    vocabulary = await big.search.lexicon.current()
    assert vocabulary is not None
    query = "word0 the word1 of"
    exact, _ = shapes(parse_query(query), vocabulary)
    truth = _truth(big.db.path, exact.fts())
    assert 0 < len(truth) <= ranking.TEXT_BUDGET
    results = await big.search.search(query, limit=5)
    assert (results.total, results.capped) == (len(truth), False)
    got = await _ranked_rowids(big, query)
    assert len(got) == min(5, len(truth))
    assert all(dict(truth)[r] <= truth[len(got) - 1][1] + 1e-12 for r in got)
    assert listed == ['"word0" AND "word1"']
    excluding = "word0 the word1 of -word2"  # scored in Python, in FTS5's own order
    exact, _ = shapes(parse_query(excluding), vocabulary)
    assert await _ranked_rowids(big, excluding, limit=50) == [
        r for r, _ in _truth(big.db.path, exact.fts())
    ]
    assert listed == ['"word0" AND "word1"']  # its sieve's passages were kept
    phrased = 'word0 "of the" word1'  # a phrase's bm25 is Python's own: the lists' path
    exact, _ = shapes(parse_query(phrased), vocabulary)
    every = {r for r, _ in _truth(big.db.path, exact.fts())}
    assert every and not terms.single_words(exact, vocabulary)
    results = await big.search.search(phrased, limit=50)
    assert (results.total, results.capped) == (len(every), False)
    assert set(await _ranked_rowids(big, phrased, limit=50)) == every
    listed.clear()
    extra = document_text("word1 of the word0 zephyr", title="More")  # a reload: listed again
    (big_folder / "more.md").write_text(extra, encoding="utf-8")
    await sync_corpus(big.db, big_folder)
    again = await big.search.search(query, limit=5)
    assert again.total == len(truth) + 1 and len(listed) == 1


async def test_a_query_of_few_matches_is_ranked_once_counted_exactly_and_paged_whole(
    big: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(terms, "FTS_BUDGET", 20_000)
    vocabulary = await big.search.lexicon.current()
    assert vocabulary is not None
    for query in ("word5 word7", '"word5 the"', "zephyr"):
        exact, _ = shapes(parse_query(query), vocabulary)
        truth = [r for r, _ in _truth(big.db.path, exact.fts())]
        first = await big.search.search(query, limit=5)
        assert (first.total, first.capped, first.reachable) == (len(truth), False, len(truth))
        rowids = dict(await big.db.all("SELECT id, rowid FROM passages"))
        seen: list[int] = []
        for offset in range(0, len(truth) + 5, 5):
            page = await big.search.search(query, limit=5, offset=offset)
            seen += [int(rowids[h.passage.id]) for h in page.hits]
        assert sorted(seen) == sorted(truth), query


@pytest.mark.parametrize(
    ("queries", "budget"),
    [(('"light river and"', '"river the light"'), 20_000), (("word0 word1 word5",), 300)],
)
async def test_a_rare_phrase_or_sentence_of_common_words_is_ranked_and_counted_exactly(
    big: Services, monkeypatch: pytest.MonkeyPatch, queries: tuple[str, ...], budget: int
) -> None:
    """A phrase or sentence whose words' counts allow many matches, but that FTS5 finds in
    few passages: FTS5 ranks it, no passage's text is read and scored in Python. (As if a
    sentence's rarest words were often together, or it would be sifted by them; and a
    phrase's walk short enough for FTS5 to be stopped in time, as at 100k passages.)"""
    monkeypatch.setattr(ranking, "rarest", lambda *args: None)
    monkeypatch.setattr(terms, "FTS_BUDGET", budget)
    read: list[int] = []
    score = ranking.Ranker._score

    async def counted(self: ranking.Ranker, *args: Any) -> dict[int, float]:
        read.append(1)
        return await score(self, *args)

    monkeypatch.setattr(ranking.Ranker, "_score", counted)
    vocabulary = await big.search.lexicon.current()
    assert vocabulary is not None
    for query in queries:
        exact, _ = shapes(parse_query(query), vocabulary)
        words = [w for g in exact.wanted for p in g.phrases for w in p.words]
        assert min(vocabulary.count(w) for w in words) > ranking.ENUMERATE
        rows = await big.corpus.passage_count()
        counts = [group_count(g, vocabulary, rows) for g in exact.wanted]
        assert sum(vocabulary.count(w) for w in words) > ranking.EXACT_BUDGET
        assert fts_cost(exact, counts, vocabulary, rows) > terms.FTS_BUDGET  # not cheap
        truth = _truth(big.db.path, exact.fts())
        assert 0 < len(truth) <= ranking.ENUMERATE, query
        results = await big.search.search(query, limit=5)
        assert (results.total, results.capped) == (len(truth), False)
        assert await _ranked_rowids(big, query) == [r for r, _ in truth[:5]]
    assert not read
    read.clear()  # as if FTS5 ran out of time: the lists rank the phrase, and still well

    async def too_slow(*args: Any, **kwargs: Any) -> None:
        return None

    monkeypatch.setattr(big.db, "all_within", too_slow)
    big.search.ranker._orders.clear()
    exact, _ = shapes(parse_query(queries[0]), vocabulary)
    truth = _truth(big.db.path, exact.fts())
    got = await _ranked_rowids(big, queries[0])
    assert read and got and all(dict(truth)[r] <= truth[len(got) - 1][1] + 1e-12 for r in got)


async def test_a_rebuild_s_lists_replace_the_ones_kept_in_memory(
    big: Services, big_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kept = (await big.search.champions.lists(["light"]))["light"]
    path = big_folder / "volume-0.md"
    path.write_text(re.sub(r"\blight\b", "", path.read_text(encoding="utf-8")), encoding="utf-8")
    await sync_corpus(big.db, big_folder)
    monkeypatch.setattr(lexicon, "REBUILD_EVERY", 0.0)  # lists are built on a current vocabulary
    await big.search.lexicon.current()
    assert champions.build(big.db.path, *_list_sizes())  # what the worker runs (a minute apart)
    now = (await big.search.champions.lists(["light"]))["light"]
    stored = (await champions.Champions(big.db).lists(["light"]))["light"]
    assert now.rowids == stored.rowids != kept.rowids


async def test_a_phrase_of_common_words_shows_real_matches_best_first(big: Services) -> None:
    results = await big.search.search('"the of"', limit=5)
    assert results.hits
    for hit in results.hits:
        words = tokens(hit.passage.text)
        assert any(words[i : i + 2] == ["the", "of"] for i in range(len(words) - 1))


async def test_champion_lists_are_each_word_s_best_passages(big: Services) -> None:
    found = await big.search.champions.lists(["the", "light", "word0", "zephyr"])
    assert "zephyr" not in found and "word0" in found  # too rare to need one / common
    for word, listed in found.items():
        truth = [r for r, _ in _truth(big.db.path, f'"{word}"')]
        stopword = len(truth) * 10 >= await big.corpus.passage_count()
        size = champions.STOPWORD_CHAMPIONS if stopword else champions.CHAMPIONS
        assert len(listed.rowids) == min(size, len(truth))
        assert set(listed.rowids) == set(truth[:size]) or _ties_at_the_end(big, word, listed)
        assert listed.impacts == sorted(listed.impacts, reverse=True)


async def test_a_short_prefix_has_a_list_of_its_own(big: Services) -> None:
    (listed,) = (await big.search.champions.lists(["li*"])).values()
    truth = _truth(big.db.path, '"li"*')
    assert listed.passages == len(truth)  # the passages with a word starting "li"
    scores = dict(truth)
    cutoff = truth[len(listed.rowids) - 1][1]
    assert all(scores[r] <= cutoff + 1e-12 for r in listed.rowids)


async def test_pairs_with_a_stopword_have_lists_of_every_passage_when_rare(
    big: Services,
) -> None:
    """Two common words in a row, one a stopword, have a list: a pair of stopwords as long as
    a stopword's, a stopword and another common word as long as a common word's."""
    found = await big.search.champions.lists(["the of", "of the", "word1 the", "word1 word2"])
    assert "word1 word2" not in found  # both common, neither a stopword: FTS5 is quick
    assert {"the of", "of the", "word1 the"} <= set(found)
    for pair, listed in found.items():
        truth = _truth(big.db.path, f'"{pair}"')
        assert listed.passages == len(truth), pair  # FTS5's own count of the phrase
        stopwords = pair != "word1 the"
        longest = champions.STOPWORD_CHAMPIONS if stopwords else champions.CHAMPIONS
        size = min(longest, len(truth))
        assert len(listed.rowids) == size
        assert listed.complete == (len(truth) <= longest)
        assert set(listed.rowids) == {r for r, _ in truth[:size]} or _ties_at_the_end(
            big, pair, listed
        )


async def test_a_phrase_of_a_stopword_and_a_common_word_is_ranked_off_its_list(
    big: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FTS5 would walk every "the" with its positions, then score each match: the pair's
    list is its ranking and counts it, like one word's, and no passage is read."""
    asked: list[str] = []
    for name in ("fts_order", "fts_order_within", "scored_texts"):
        original = getattr(ranking, name)

        def spy(*args: Any, _original: Any = original, **kwargs: Any) -> Any:
            asked.append(_original.__name__)
            return _original(*args, **kwargs)

        monkeypatch.setattr(ranking, name, spy)
    vocabulary = await big.search.lexicon.current()
    assert vocabulary is not None
    rowids = dict(await big.db.all("SELECT id, rowid FROM passages"))
    for query in ('"word5 the"', '"of word9"', '"word40 and"'):
        exact, _ = shapes(parse_query(query), vocabulary)
        truth = _truth(big.db.path, exact.fts())
        assert 0 < len(truth) <= champions.CHAMPIONS, query  # complete: every passage
        results = await big.search.search(query, limit=50)
        assert (results.total, results.capped) == (len(truth), False), query
        got = [int(rowids[h.passage.id]) for h in results.hits]
        assert got == [r for r, _ in truth], query
    assert asked == []


async def test_a_pair_that_would_have_a_list_and_has_none_is_in_no_passage(
    big: Services, big_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = "\n\n".join(f"a sextant river word{n}" for n in range(400))  # never "sextant the"
    await _added(big, big_folder, monkeypatch, document_text(body, title="Sextants"))
    vocabulary = await big.search.lexicon.current()
    assert vocabulary is not None and vocabulary.count("sextant") > ranking.EXACT_BUDGET
    asked: list[str] = []
    for name in ("fts_order", "fts_order_within"):
        original = getattr(ranking, name)

        async def spy(*args: Any, _original: Any = original) -> Any:
            asked.append(args[1])
            return await _original(*args)

        monkeypatch.setattr(ranking, name, spy)
    for query, matches in (('"sextant the"', 0), ('"the sextant river"', 0), ('"a sextant"', 400)):
        exact, _ = shapes(parse_query(query), vocabulary)
        assert len(_truth(big.db.path, exact.fts())) == matches
        results = await big.search.search(query, limit=5)
        assert (results.total, results.capped) == (matches, False), query
    assert asked == []  # FTS5 was never given the time to walk "the"


async def test_lists_of_another_format_or_corpus_are_not_taken_to_list_every_pair(
    big: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lists built by an older Lectern (stopword pairs only) or from another generation's
    vocabulary lack pairs that occur: until rebuilt, a pair without a list is not taken to
    be in no passage, and is not ranked off its list."""
    generation = await big.corpus.generation()
    assert await big.search.champions.current(generation)
    await big.db.run("DELETE FROM search_champions WHERE term = 'word5 the'")
    await big.db.run(  # as version 1 stored them: the corpus generation alone
        "UPDATE corpus_meta SET value = ? WHERE key = 'champions'", (str(generation),)
    )
    monkeypatch.setattr(big.search.champions.worker, "start", lambda *args: None)  # no rebuild
    vocabulary = await big.search.lexicon.current()
    assert vocabulary is not None
    assert not await big.search.champions.current(generation)
    exact, _ = shapes(parse_query('"word5 the"'), vocabulary)
    truth = _truth(big.db.path, exact.fts())
    results = await big.search.search('"word5 the"', limit=50)
    assert truth and (results.total, results.capped) == (len(truth), False)
    assert sorted(await _ranked_rowids(big, '"word5 the"', limit=50)) == sorted(r for r, _ in truth)


async def test_lists_are_not_built_from_another_generation_s_vocabulary(big: Services) -> None:
    before = await big.search.champions.built_for()
    await big.db.run("UPDATE corpus_meta SET value = '0' WHERE key = 'vocabulary'")
    assert champions.build(big.db.path, *_list_sizes()) == 0  # nothing built: tried again later
    assert await big.search.champions.built_for() == before


async def test_a_rare_stopword_phrase_counts_every_match(big: Services) -> None:
    truth = _truth(big.db.path, '"the of the"')
    results = await big.search.search('"the of the"', limit=5)
    assert results.total == len(truth) and not results.capped


@pytest.mark.parametrize("query", ['"the of of"', '"and the of"', '"of the" "to a"'])
@pytest.mark.parametrize("pairs_index", [True, False])
async def test_the_first_two_pages_of_a_stopword_phrase_are_exact(
    big: Services, query: str, pairs_index: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not pairs_index:  # the lists bound it by its pairs
        _without_pairs_index(big, monkeypatch)
    vocabulary = await big.search.lexicon.current()
    assert vocabulary is not None
    exact, _ = shapes(parse_query(query), vocabulary)
    truth = _truth(big.db.path, exact.fts())
    depth = ranking.PROOF_DEPTH
    got = await _ranked_rowids(big, query, limit=depth)
    scores = dict(truth)
    assert len(got) == min(depth, len(truth))
    assert all(scores[r] <= truth[len(got) - 1][1] + 1e-12 for r in got), (query, got)


def _ties_at_the_end(services: Services, word: str, listed: champions.ChampionList) -> bool:
    truth = _truth(services.db.path, f'"{word}"')
    scores = dict(truth)
    cutoff = truth[len(listed.rowids) - 1][1]
    return all(scores[r] <= cutoff + 1e-12 for r in listed.rowids)


async def test_stale_lists_never_show_a_passage_that_stopped_matching(
    big: Services, big_folder: Path
) -> None:
    before = await big.search.search("the", limit=5)
    first = before.hits[0].passage
    path = big_folder / f"{first.document}.md"
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r"\bthe\b", "", text, flags=re.IGNORECASE), encoding="utf-8")
    await sync_corpus(big.db, big_folder)
    assert not await big.search.champions.current(await big.corpus.generation())
    after = await big.search.search("the", limit=5)
    assert after.hits and all("the" in tokens(h.passage.text) for h in after.hits)
    assert first.document not in {h.passage.document for h in after.hits}  # none has it now


@pytest.mark.parametrize("query", ["the", "the of", "th* light", "word5 the", "river"])
async def test_pages_of_a_common_query_never_repeat_and_reach_as_far_as_they_say(
    big: Services, query: str
) -> None:
    first = await big.search.search(query, limit=5)
    pages = -(-first.reachable // 5)
    assert pages > 1
    seen: list[str] = []
    for page in range(pages + 1):
        results = await big.search.search(query, limit=5, offset=page * 5)
        assert (results.total, results.reachable) == (first.total, first.reachable)
        seen += [h.passage.id for h in results.hits]
        if page == pages:
            assert not results.hits  # the last page the pager offers is the last with results
    assert len(seen) == len(set(seen)) == first.reachable


def test_summed_bounds_are_the_bounds_passage_by_passage() -> None:
    rng = random.Random(5)

    def a_list() -> champions.ChampionList:
        rowids = rng.sample(range(500), rng.randint(0, 120))
        impacts = sorted((rng.random() for _ in rowids), reverse=True)
        return champions.ChampionList(rowids, impacts, {r: i for i, r in enumerate(rowids)}, 900)

    groups = [[a_list()] if rng.random() < 0.8 else [] for _ in range(8)]
    weights = [rng.uniform(0.5, 9) for _ in groups]
    bounds, known = summed(weights, groups)
    listed = {r for gl in groups for found in gl for r in found.rowids}
    assert set(bounds) == set(known) == listed
    for rowid in listed:
        parts = [bound(rowid, OWN if gl else GUIDE, gl, True) for gl in groups]
        assert bounds[rowid] == sum(w * v for w, (v, _) in zip(weights, parts, strict=True))
        assert known[rowid] == sum(on for _, on in parts)


@pytest.mark.parametrize("seed", range(4))
def test_summed_bounds_of_words_all_wanted_are_the_bounds_passage_by_passage(seed: int) -> None:
    rng = random.Random(seed)

    def a_list(complete: bool) -> champions.ChampionList:
        rowids = rng.sample(range(300), rng.randint(1, 120))
        impacts = sorted((rng.random() for _ in rowids), reverse=True)
        passages = len(rowids) if complete else 900
        where = {r: i for i, r in enumerate(rowids)}
        return champions.ChampionList(rowids, impacts, where, passages)

    groups = [[a_list(complete=rng.random() < 0.2)] for _ in range(rng.randint(2, 7))]
    weights = [rng.uniform(0.5, 9) for _ in groups]
    shape = Shape(tuple(Group((Phrase((f"w{i}",)),)) for i in range(len(groups))))
    expected, expected_known = passage_bounds(shape, [(OWN, gl) for gl in groups], weights)
    bounds, known = summed(weights, groups, match_any=False)
    assert set(bounds) == set(expected) and known == expected_known
    assert expected  # some passage is on every complete list
    for rowid, value in expected.items():
        if known[rowid] == len(groups):  # its exact score: summed in the same order
            assert bounds[rowid] == value
        else:
            assert bounds[rowid] == pytest.approx(value, rel=1e-12, abs=1e-12)
