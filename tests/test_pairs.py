"""The pairs index: a phrase of stopwords is ranked there by FTS5 exactly as in ``passages_fts``,
and only an index built for the current corpus is ever read."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from pathlib import Path

import pytest

from bot.config import Settings
from bot.corpus import champions, dense, fts_order, lexicon, meaning, pairs, ranking
from bot.corpus.ingest import sync_corpus
from bot.corpus.query import parse_query
from bot.corpus.scoring import Phrase
from bot.corpus.search import shapes
from bot.services import Services
from tests.conftest import services_for
from tests.test_ranking import _ranked_rowids, _truth, big, big_folder  # noqa: F401 (fixtures)

STOP = frozenset({"the", "of", "to", "and", "a"})
#: Phrases whose every pair has a stopword, as a reader types them, prefixes and all.
STOPWORD_QUERIES = [
    '"the of of"',
    '"and the of"',
    '"of the"* "and that"*',
    '"to the"* "in a"*',
    '"the of"* "a light"',
    '"of the" "to a"',
    '"the of the" -"and a"',
    '"light of the"',
]


def test_each_word_is_one_token_joined_to_the_next_when_their_pair_has_a_stopword() -> None:
    words = ["light", "of", "the", "river", "sea", "to"]
    assert pairs.paired(words, STOP) == "light_of of_the the_river river sea_to to"
    assert pairs.paired([], STOP) == ""


def test_only_phrases_whose_every_pair_has_a_stopword_are_asked_of_the_index() -> None:
    def asked(*words: str, prefix: bool = False) -> str | None:
        return pairs.phrase_expression(Phrase(words, prefix), STOP)

    assert asked("the", "of", "of") == '"the_of of_of"'
    assert asked("storm", "of", "sea") == '"storm_of of_sea"'
    assert asked("to", "the", prefix=True) == '"to_the"*'
    assert asked("storm", "the", prefix=True) is None  # "storm theory" is two single words
    assert asked("storm", "sea") is None  # no stopword
    assert asked("the") is None  # one word: the index holds it only where no pair starts
    assert asked("storm", "sea", "of") is None  # "storm sea" has none


def test_the_index_splits_every_text_into_as_many_tokens_as_passages_fts(tmp_path: Path) -> None:
    """One token per indexed word, whatever the text holds: bm25's lengths are the same."""
    from bot.corpus.tokens import tokens

    text = "Café “naïve” e-mail—it’s 42 ÆON straße ok_go Ünïcödé 🙂 of the x the"
    stop = frozenset({"the", "of", "cafe", "42"})
    with sqlite3.connect(tmp_path / "t.db") as raw:
        raw.execute(f'CREATE VIRTUAL TABLE t USING fts5(x, tokenize = "{pairs.TOKENIZER}")')
        raw.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, instance)")
        raw.execute("INSERT INTO t VALUES (?)", (pairs.paired(tokens(text), stop),))
        indexed = [str(r[0]) for r in raw.execute("SELECT term FROM v ORDER BY offset")]
    words = tokens(text)
    assert len(indexed) == len(words)
    assert indexed[0] == "cafe_naive" and indexed[-3:] == ["the_x", "x_the", "the"]
    assert [t.split(pairs.JOIN)[0] for t in indexed] == words


@pytest.mark.parametrize("query", STOPWORD_QUERIES)
async def test_a_stopword_phrase_s_bm25_in_the_pairs_index_is_its_bm25(
    big: Services,  # noqa: F811
    query: str,
) -> None:
    vocabulary = await big.search.lexicon.current()
    assert vocabulary is not None
    stop = await big.search.champions.pair_stopwords(vocabulary.generation)
    assert stop is not None and {"the", "of", "and"} <= stop
    exact, _ = shapes(parse_query(query), vocabulary)
    asked = pairs.expression(exact, stop)
    assert asked is not None, query
    truth = _truth(big.db.path, exact.fts())
    with sqlite3.connect(big.db.path) as raw:
        sql = f"""SELECT rowid, bm25({pairs.TABLE}, 1.0, 0.5, 0.5) AS s FROM {pairs.TABLE}
            WHERE {pairs.TABLE} MATCH ? ORDER BY s, rowid"""
        paired = raw.execute(sql, (asked,)).fetchall()
    assert truth, query  # the corpus has matches: the comparison says something
    assert [r for r, _ in paired] == [r for r, _ in truth]
    assert all(abs(a - b) < 1e-9 for (_, a), (_, b) in zip(paired, truth, strict=True))


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The tables the ranker asks FTS5 to rank a query in, within a time."""
    tables: list[str] = []
    within = fts_order.fts_order_within

    async def spied(db, expression, seconds, table="passages_fts"):  # type: ignore[no-untyped-def]
        tables.append(table)
        return await within(db, expression, seconds, table)

    monkeypatch.setattr(ranking, "fts_order_within", spied)
    return tables


@pytest.mark.parametrize("query", STOPWORD_QUERIES)
async def test_a_search_of_stopword_phrases_is_ranked_in_the_pairs_index(
    big: Services,  # noqa: F811
    query: str,
    asked: list[str],
) -> None:
    vocabulary = await big.search.lexicon.current()
    assert vocabulary is not None
    exact, _ = shapes(parse_query(query), vocabulary)
    truth = _truth(big.db.path, exact.fts())
    got = await _ranked_rowids(big, query, limit=10)
    assert asked[0] == pairs.TABLE
    assert got == [r for r, _ in truth[:10]]  # FTS5's order, ties and all
    results = await big.search.search(query, limit=5)
    assert results.total == min(len(truth), fts_order.COUNT_CAP)


async def test_an_index_of_another_corpus_is_never_read(
    big: Services,  # noqa: F811
    big_folder: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    asked: list[str],
) -> None:
    query = '"and the of"'
    (big_folder / "volume-0.md").unlink()  # a third of the passages go
    monkeypatch.setattr(big.search.champions.worker, "start", lambda *args: None)  # no rebuild
    await sync_corpus(big.db, big_folder)
    generation = await big.corpus.generation()
    assert await big.search.champions.pair_stopwords(generation) is None
    vocabulary = await big.search.lexicon.current()
    assert vocabulary is not None
    exact, _ = shapes(parse_query(query), vocabulary)
    truth = dict(_truth(big.db.path, exact.fts()))
    got = await _ranked_rowids(big, query)
    assert got and all(r in truth for r in got)  # only passages still there, matching
    assert pairs.TABLE not in asked
    monkeypatch.setattr(lexicon, "REBUILD_EVERY", 0.0)  # the new corpus's vocabulary first
    await big.search.lexicon.current()
    if big.search.lexicon._building is not None:
        await big.search.lexicon._building
    assert pairs.build(big.db.path, champions.CHAMPION_DF)  # what the worker runs next
    assert await big.search.champions.pair_stopwords(generation) is not None


async def test_a_build_waits_for_another_process_s_and_clears_a_stopped_one(
    big: Services,  # noqa: F811
) -> None:
    await big.db.run("DELETE FROM corpus_meta WHERE key = 'pairs'")  # to be built again
    other = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "import time; time.sleep(60)"
    )
    try:
        table = pairs.building_table(other.pid)
        await big.db.run(f"CREATE VIRTUAL TABLE {table} USING fts5(text, title, author)")
        await big.db.run(f"INSERT INTO {table} VALUES ('half', 'built', '')")
        await big.db.run(f"CREATE TABLE {table}{dense.SUFFIX} (term TEXT, tf BLOB)")
        assert not pairs.build(big.db.path, champions.CHAMPION_DF)  # the other one is building
        assert await big.db.one(f"SELECT count(*) FROM {table}") == (1,)  # untouched
    finally:
        other.kill()
        await other.wait()
    assert pairs.build(big.db.path, champions.CHAMPION_DF)  # its process is gone: cleared
    names = {str(n) for (n,) in await big.db.all("SELECT name FROM sqlite_master")}
    assert not any(n.startswith(pairs.BUILDING) for n in names) and pairs.TABLE in names
    generation = await big.corpus.generation()
    assert await big.search.champions.pair_stopwords(generation) is not None


async def test_an_index_dropped_after_its_stamp_was_read_is_not_an_error(
    big: Services,  # noqa: F811
) -> None:
    generation = await big.corpus.generation()
    assert await big.search.champions.pair_stopwords(generation) is not None
    await big.db.run(f"DROP TABLE {pairs.TABLE}")  # as a build that found no stopword does
    results = await big.search.search('"the of of"')
    with sqlite3.connect(big.db.path) as raw:
        vocabulary = await big.search.lexicon.current()
        exact, _ = shapes(parse_query('"the of of"'), vocabulary)
        truth = raw.execute(
            "SELECT count(*) FROM passages_fts WHERE passages_fts MATCH ?", (exact.fts(),)
        ).fetchone()[0]
    assert truth and results.hits and results.total == min(truth, fts_order.COUNT_CAP)


async def test_a_build_from_a_corpus_that_changed_meanwhile_keeps_the_old_index(
    big: Services,  # noqa: F811
) -> None:
    with sqlite3.connect(big.db.path, isolation_level=None) as raw:
        before = raw.execute("SELECT value FROM corpus_meta WHERE key = 'pairs'").fetchone()
        raw.execute(
            f"CREATE VIRTUAL TABLE {pairs.building_table()} USING fts5(text, title, author)"
        )
        generation = raw.execute("SELECT value FROM corpus_meta WHERE key = 'generation'")
        old = str(int(generation.fetchone()[0]) - 1)
        assert not pairs._swap(raw, old, champions.CHAMPION_DF, frozenset({"the"}), [])
        after = raw.execute("SELECT value FROM corpus_meta WHERE key = 'pairs'").fetchone()
        tables = {str(n) for (n,) in raw.execute("SELECT name FROM sqlite_master")}
    assert after == before
    assert pairs.TABLE in tables and pairs.building_table() not in tables


async def test_the_worker_is_started_when_only_the_pairs_index_is_missing(
    big: Services,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    started: list[tuple[str, ...]] = []
    worker = big.search.champions.worker
    monkeypatch.setattr(worker, "start", lambda *a: started.append(a))
    monkeypatch.setattr(worker, "_last_start", -worker.every)  # not just started
    vocabulary = await big.search.lexicon.current()
    assert vocabulary is not None
    await big.search.champions.keep_current(vocabulary)
    assert not started  # both current
    await big.db.run("DELETE FROM corpus_meta WHERE key = 'pairs'")
    await big.search.champions.keep_current(vocabulary)
    assert started and started[0][0] == str(big.db.path)


def test_a_corpus_without_stopwords_is_stamped_current_with_no_table(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    with sqlite3.connect(path, isolation_level=None) as raw:
        raw.execute("CREATE TABLE corpus_meta (key TEXT PRIMARY KEY, value)")
        raw.execute("INSERT INTO corpus_meta VALUES ('generation', '3'), ('vocabulary', '3')")
        raw.execute("CREATE TABLE search_vocabulary (term TEXT, passages INTEGER)")
        raw.execute("INSERT INTO search_vocabulary VALUES ('rare', 2)")
        raw.execute("CREATE TABLE passages_fts_data (id INTEGER PRIMARY KEY, block BLOB)")
        raw.execute("CREATE VIEW passage_search AS SELECT 1 AS rowid, 'rare' AS text, "
                    "'' AS title, '' AS author")  # fmt: skip
    assert pairs.build(path, champions.CHAMPION_DF)
    with sqlite3.connect(path) as raw:
        (value,) = raw.execute("SELECT value FROM corpus_meta WHERE key = 'pairs'").fetchone()
        names = {str(n) for (n,) in raw.execute("SELECT name FROM sqlite_master")}
    assert '"stopwords": []' in value and pairs.TABLE not in names


async def test_a_query_of_stopword_phrases_is_not_looked_up_by_meaning(
    big: Services,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytest.importorskip("wordllama", reason="the meaning extra (pip install lectern[meaning])")
    await asyncio.to_thread(meaning.build, big.db.path)
    services = services_for(big.db, Settings(search_meaning=True))
    index = services.search.meaning
    assert index is not None
    await index.keep_current()
    if index._loading is not None:
        await index._loading
    assert index.passages
    looked_up: list[str] = []
    near_text = index.near_text

    async def spied(text: str, depth: int) -> list[tuple[int, float]]:
        looked_up.append(text)
        return await near_text(text, depth)

    monkeypatch.setattr(index, "near_text", spied)
    for query in ('"the of of"', '"of the" "to a"', '"the of the" -"and a"'):
        results = await services.search.search(query)
        assert results.hits and not results.meaning_only, query
    assert not looked_up
    await big.db.run("DELETE FROM corpus_meta WHERE key = 'pairs'")  # as before it is built
    monkeypatch.setattr(services.search.champions.worker, "start", lambda *a: None)
    await services.search.search('"the of of"')  # the same answer: from the vocabulary
    assert not looked_up
    await services.search.search('"the of the" light river')  # a sentence with meaning
    await services.search.search("the of of")  # unquoted: perhaps what it is like to be one
    assert looked_up == ["the of the light river", "the of of"]
