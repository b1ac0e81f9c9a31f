"""Word forms and marks: a word finds its other forms after its own, accents, quotes, hyphens and
case never matter, and phrases and prefixes keep working."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from bot.core.db import Database
from bot.corpus.fts_order import RANKED
from bot.corpus.ingest import sync_corpus
from bot.corpus.search import HIGHLIGHT_END, HIGHLIGHT_START
from bot.corpus.tokens import stem, tokens
from bot.services import Services
from tests.conftest import document_text, services_for


def _marked(snippet: str) -> set[str]:
    words = set()
    for piece in snippet.split(HIGHLIGHT_START)[1:]:
        words.add(piece.split(HIGHLIGHT_END)[0].lower())
    return words


def test_forms_share_a_stem() -> None:
    assert stem("weights") == stem("weight") == stem("weighted")
    assert stem("arriving") == stem("arrives") == stem("arrived")
    assert stem("Café") == stem("cafe")


async def test_a_word_finds_its_other_forms_after_its_own(store: Services) -> None:
    results = await store.search.search("weight", limit=50)
    marked = [_marked(h.snippet) for h in results.hits]
    as_typed = [i for i, m in enumerate(marked) if "weight" in m]
    other = [i for i, m in enumerate(marked) if "weight" not in m]
    assert as_typed and other and max(as_typed) < min(other)  # exact forms rank first
    assert all(m <= {"weight", "weights", "weighted", "weighting"} for m in marked)
    assert "weights" in set().union(*(marked[i] for i in other))


async def test_arriving_finds_arrive_and_arrived(store: Services) -> None:
    results = await store.search.search("arriving", limit=10)
    found = set().union(*(set(tokens(h.passage.text)) for h in results.hits))
    assert {"arriving", "arrived", "arrive"} <= found
    assert "arriving" in _marked(results.hits[0].snippet)


async def test_marks_case_and_quotes_never_matter(store: Services) -> None:
    plain = await store.search.search("cafe")
    for typed in ("café", "CAFÉ", "Cafe", "“cafe”", "‘cafe’", '"cafe"'):
        found = await store.search.search(typed)
        assert [h.passage.id for h in found.hits] == [h.passage.id for h in plain.hits], typed
    assert plain.hits


@contextlib.asynccontextmanager
async def _one_document(tmp_path: Path, body: str) -> AsyncIterator[Services]:
    """Services over a corpus of one document, ``a``, whose passages are ``body``'s."""
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "a.md").write_text(document_text(body), encoding="utf-8")
    async with await Database.open(tmp_path / "db.sqlite3") as db:
        await sync_corpus(db, folder)
        yield services_for(db)


async def test_an_accented_passage_is_found_without_the_accent(tmp_path: Path) -> None:
    body = "We met at the Café Nero.\n\nShe wrote an e-mail.\n\nHe wrote an email too."
    async with _one_document(tmp_path, body) as services:
        for typed in ("cafe", "café", "CAFE"):
            (hit,) = (await services.search.search(typed)).hits
            assert hit.passage.text.startswith("We met") and "Café" in _marked(hit.snippet) | {
                w.title() for w in _marked(hit.snippet)
            }
        for typed in ("e-mail", "email", "e mail"):
            found = {h.passage.id for h in (await services.search.search(typed)).hits}
            assert "a-2" in found, typed
        for typed in ("e-mail", "email"):  # the hyphen never matters, either way
            both = [h.passage.id for h in (await services.search.search(typed)).hits]
            assert set(both) == {"a-2", "a-3"}, typed


async def test_phrases_and_prefixes_keep_working(store: Services) -> None:
    phrase = await store.search.search('"the weights"')
    assert phrase.hits and all(
        "the weights" in " ".join(tokens(h.passage.text)) for h in phrase.hits
    )
    prefix = await store.search.search("arriv*")
    assert {"arriving", "arrived", "arrive"} <= set().union(
        *(set(tokens(h.passage.text)) for h in prefix.hits)
    )


async def test_a_word_is_not_split_into_stopwords(store: Services) -> None:
    for word in ("nothing", "often", "input", "still"):
        results = await store.search.search(word, limit=50)
        marked = set().union(*(_marked(h.snippet) for h in results.hits)) if results.hits else set()
        assert marked <= {word, word + "s"}, (word, marked)  # never "no thing", "of ten"


async def test_stopwords_are_never_joined_into_a_word(tmp_path: Path) -> None:
    body = "Ask thea about it.\n\nWe saw the a-frame.\n\nShe wrote an e-mail."
    async with _one_document(tmp_path, body) as services:
        found = [h.passage.id for h in (await services.search.search('"the a"')).hits]
        assert found == ["a-2"]  # not "thea" in a-1
        joined = {h.passage.id for h in (await services.search.search('"e mail"')).hits}
        assert joined == {"a-3"}


async def test_other_forms_alone_are_ranked_as_fts5_ranks_them(tmp_path: Path) -> None:
    """No passage has "weighted river": the other forms are all there is, and they are ranked
    without first leaving out exact matches there are none of (FTS5 would walk them)."""
    body = "\n\n".join(
        ["The weights of the river.", "A weight, a river, a weight.", "Weights by rivers."]
        + ["Nothing else here."] * 3
    )
    async with _one_document(tmp_path, body) as services:
        ranker = services.search.ranker
        ranked: list[str] = []
        rank = ranker.rank

        async def spied(shape: Any, *args: Any, **kwargs: Any) -> Any:
            ranked.append(shape.fts())
            return await rank(shape, *args, **kwargs)

        ranker.rank = spied  # type: ignore[method-assign]
        results = await services.search.search("weighted river", limit=5)
        assert len(ranked) == 2 and "NOT" not in ranked[1]
        with sqlite3.connect(services.db.path) as raw:
            truth = raw.execute(RANKED.format(table="passages_fts"), (ranked[1], 10)).fetchall()
            ids = dict(raw.execute("SELECT rowid, id FROM passages").fetchall())
        assert [h.passage.id for h in results.hits] == [ids[r] for (r,) in truth]
        assert len(results.hits) == 3 and results.total == 3
