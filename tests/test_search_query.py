"""Turning typed text into FTS5 queries: deliberate features, and no input that breaks FTS5."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.corpus.query import LIKE_PASSAGES, MAX_TERMS, parse_query, similarity_query


@pytest.mark.parametrize(
    ("typed", "expression"),
    [
        ("attention", '"attention"'),
        ("Attention  Weights", '"attention" AND "weights"'),
        ('"love and loss"', '"love and loss"'),
        ("“curly quotes”", '"curly quotes"'),
        ("st*", '"st"*'),
        ("weights -rock", '("weights") NOT "rock"'),
        ("AND( NEAR x", '"and" AND "near" AND "x"'),
        ("don't", '"don t"'),
        ("title:shape", '"title shape"'),
        ('"unclosed phrase', '"unclosed phrase"'),
        ('"to the"* "of on"', '"to the"* AND "of on"'),  # a phrase ending in a prefix
        ('"a"*"b" -"c de"*', '("a" AND "b") NOT "c de"*'),
        ('"open*', '"open"'),
        ("🙂 ", '"🙂"'),  # FTS5 keeps most emoji as words: searchable
        ("", None),
        ("-alone", None),
    ],
)
def test_parse_query(typed: str, expression: str | None) -> None:
    assert parse_query(typed).expression == expression


def test_short_prefixes_are_searched_as_words_with_a_note() -> None:
    query = parse_query("a*")
    assert query.expression == '"a"'
    assert "at least 2 letters" in query.notes[0]
    query = parse_query('"in a"*')
    assert query.expression == '"in a"'
    assert '“"in a"\\*” as a phrase' in query.notes[0]


def test_long_queries_are_cut_with_a_note() -> None:
    query = parse_query(" ".join(f"w{i}" for i in range(40)))
    assert len(query.terms) == MAX_TERMS
    assert any("first" in note for note in query.notes)


def test_similarity_query_prefers_long_non_stopwords() -> None:
    query = similarity_query("The the the convergence of attend, and a mechanism!", max_terms=2)
    assert [t.words[0] for t in query.terms] == ["convergence", "mechanism"]
    assert query.expression == '"convergence" OR "mechanism"'


def test_similarity_query_keeps_the_rarest_words_within_the_passage_budget() -> None:
    counts = {"lantern": 12, "harbour": LIKE_PASSAGES - 50, "tide": 80, "stone": 5000}
    query = similarity_query("Stone, tide, harbour and lantern.", counts.__getitem__)
    # rarest first; harbour would take the three past the budget, and stone is commoner still
    assert [t.words[0] for t in query.terms] == ["lantern", "tide"]
    assert query.match_any
    alone = similarity_query("stone stone", counts.__getitem__)
    assert [t.words[0] for t in alone.terms] == ["stone"]  # the rarest is kept, whatever its count


@pytest.fixture(scope="module")
def fts() -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE t USING fts5(text, prefix='2 3')")
    db.execute("INSERT INTO t VALUES ('the shape of attention')")
    return db


@settings(max_examples=400, deadline=None)
@given(
    text=st.text(max_size=400)
    | st.lists(
        st.sampled_from(
            ['"', "*", "-", "(", ")", "AND", "OR", "NOT", "NEAR", ":", "^", "+", "a", "st", " "]
        )
    ).map("".join)
)
def test_every_expression_is_valid_fts5(fts: sqlite3.Connection, text: str) -> None:
    expression = parse_query(text).expression
    if expression is not None:
        fts.execute("SELECT count(*) FROM t WHERE t MATCH ?", (expression,)).fetchone()
