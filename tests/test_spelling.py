"""'Did you mean': corrections from the corpus's own vocabulary."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.core.db import Database
from bot.corpus.ingest import sync_corpus
from bot.corpus.query import parse_query
from bot.reading.service import Clicker
from bot.services import Services
from tests.conftest import document_text, services_for


async def test_unknown_words_get_the_corpus_spelling(store: Services) -> None:
    speller = store.reading.finder.speller
    assert await speller.suggest("atention") == "attention"
    assert await speller.suggest("wieghts") == "weights"
    assert await speller.suggest("attention") is None  # known: nothing to correct
    assert await speller.suggest("zqxwvk") is None  # nothing close
    assert await speller.suggest("an") is None  # too short to guess
    fixed = await speller.correct(parse_query('"the wieghts" -atention strem*'))
    assert fixed is not None and str(fixed) == '"the weights" -attention strem*'  # not prefixes


async def test_a_query_finding_nothing_shows_the_corrected_results(store: Services) -> None:
    reply = await store.reading.search("atention convergence", user_id=3)
    (card,) = reply.cards
    assert card.title == "Search: attention convergence"
    assert card.description.startswith(
        "Nothing matches “atention convergence”; showing results for *attention convergence*."
    )


async def test_a_rare_spelling_beside_a_common_one_offers_the_common_one(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    body = "\n\n".join(["Attention is all there is."] * 30 + ["One atention slip."])
    (folder / "a.md").write_text(document_text(body), encoding="utf-8")
    async with await Database.open(tmp_path / "db.sqlite3") as db:
        await sync_corpus(db, folder)
        services = services_for(db)
        reply = await services.reading.search("atention", user_id=3)  # matches the one slip
        (card,) = reply.cards
        assert card.description.startswith("Did you mean *attention*?")
        suggestion = next(b for row in reply.rows for b in row if b.label.startswith("Did you"))
        assert suggestion.label == "Did you mean: attention"
        pressed = await services.reading.press(suggestion.custom_id, Clicker(3, True))
        assert pressed.cards[0].title == "Search: attention"
        assert "30 passages match" in pressed.cards[0].description


async def test_the_vocabulary_is_built_once_per_corpus_and_shared(
    tmp_path: Path, passages_dir: Path
) -> None:
    """Built once for a generation and stored: another process (a second Speller over its
    own connection) reads it instead of scanning the index; a reload makes a new one."""
    from bot.corpus.lexicon import Lexicon
    from bot.corpus.spelling import Speller
    from bot.corpus.store import CorpusStore

    path = tmp_path / "db.sqlite3"
    async with await Database.open(path) as db:
        await sync_corpus(db, passages_dir)
        assert await services_for(db).reading.finder.speller.suggest("atention") == "attention"
        built_for = (await db.one("SELECT value FROM corpus_meta WHERE key = 'vocabulary'"))[0]
        assert built_for == str(await CorpusStore(db).generation())
        await db.run("UPDATE search_vocabulary SET passages = 999 WHERE term = 'attention'")
    async with await Database.open(path) as other:
        speller = Speller(Lexicon(other, CorpusStore(other)))
        vocabulary = await speller.lexicon.current()
        assert vocabulary is not None and vocabulary.passages["attention"] == 999  # read, kept
        (passages_dir / "new.md").write_text(document_text("Quixotic zeal."), encoding="utf-8")
        await sync_corpus(other, passages_dir)
        assert await speller.suggest("quixotc") == "quixotic"  # the new corpus's words


async def test_a_slow_vocabulary_never_holds_a_search_up(
    tmp_path: Path, passages_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.corpus.lexicon as lexicon

    monkeypatch.setattr(lexicon, "BUILD_WAIT", 0.0)  # as if the index were huge
    async with await Database.open(tmp_path / "db.sqlite3") as db:
        await sync_corpus(db, passages_dir)
        speller = services_for(db).reading.finder.speller
        assert await speller.suggest("atention") is None  # not ready: no suggestion, no wait
        assert speller.lexicon._building is not None
        await speller.lexicon._building
        assert await speller.suggest("atention") == "attention"


async def test_a_vocabulary_that_cannot_be_stored_still_serves_and_never_fails_a_search(
    tmp_path: Path, passages_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.corpus.lexicon as lexicon

    async def refuse(*args: object) -> None:
        raise sqlite3.OperationalError("attempt to write a readonly database")

    monkeypatch.setattr(lexicon.Lexicon, "_store", refuse)
    async with await Database.open(tmp_path / "db.sqlite3") as db:
        await sync_corpus(db, passages_dir)
        services = services_for(db)
        assert await services.reading.finder.speller.suggest("atention") == "attention"
        reply = await services.reading.search("atention", user_id=3)
        assert reply.cards[0].title == "Search: attention"
