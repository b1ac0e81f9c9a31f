"""The relevance set's floors: what ``bench/bench_relevance.py`` measured, held.

Word search (meaning off) and word search fused with meaning (the WordLlama model, real), over
the bundled corpus, through the /search reply a reader sees (corrections included)."""

from __future__ import annotations

from bot.core.errors import UserError
from bot.services import Services
from tests.relevance_set import evaluate, first_page_ids

#: success@5 floors, as measured (bench/bench_relevance.py); MRR is printed by the bench.
WORDS_ONLY = {"exact": 1.0, "word forms": 0.9, "typos": 1.0, "meaning": 0.0, "marks": 1.0}
WITH_MEANING = {"exact": 1.0, "word forms": 0.9, "typos": 1.0, "meaning": 0.7, "marks": 1.0}


async def searched_by(services: Services) -> object:
    async def search(query: str) -> list[str]:
        try:
            return first_page_ids(await services.reading.search(query, user_id=1))
        except UserError:  # "Nothing matches"
            return []

    return search


async def test_word_search_holds_its_floor(store: Services) -> None:
    scores = await evaluate(await searched_by(store))
    for category, floor in WORDS_ONLY.items():
        assert scores[category][0] >= floor, (category, scores[category])


async def test_meaning_finds_paraphrases_and_keeps_the_word_floors(
    with_meaning: Services,
) -> None:
    scores = await evaluate(await searched_by(with_meaning))
    for category, floor in WITH_MEANING.items():
        assert scores[category][0] >= floor, (category, scores[category])
