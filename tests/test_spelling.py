"""'Did you mean': corrections from the corpus's own vocabulary."""

from __future__ import annotations

from pathlib import Path

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
