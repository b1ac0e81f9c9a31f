"""Search answers: /search pages with "Did you mean", and "Passages like this" pages."""

from __future__ import annotations

import dataclasses

from ..core.errors import UserError
from ..core.reply import Button, Reply
from ..core.text import clip, escape_markdown
from ..core.ui_state import UiStateStore
from ..corpus.query import parse_query, similarity_query
from ..corpus.search import PassageSearch, SearchResults
from ..corpus.spelling import Speller
from . import buttons as b
from .results import RESULTS_PER_PAGE, nothing_like_reply, search_reply

#: How much of a right-clicked message is compared (Discord's messages are at most 4,000).
LIKE_THIS_CHARS = 4000


class Finder:
    def __init__(self, search: PassageSearch, ui_state: UiStateStore, speller: Speller) -> None:
        self.searcher = search
        self.ui_state = ui_state
        self.speller = speller

    async def search(self, query: str, *, user_id: int, page: int = 0) -> Reply:
        if not query.strip():
            raise UserError('Type some words to search for, e.g. `attention` or `"the weights"`.')
        key = await self.ui_state.save(query)
        return await self.search_page(query, key, page, user_id)

    async def search_page(self, query: str, key: str, page: int, user_id: int) -> Reply:
        page = max(page, 0)
        results = await self._results(query, page)
        corrected = await self.speller.correct(results.query) if page == 0 else None
        if results.total == results.meaning_only and page == 0:  # no passage has the words
            if corrected is not None:  # show the correction right away
                fixed = str(corrected)
                alternative = await self._results(fixed, 0)
                if alternative.total > alternative.meaning_only:
                    fixed_key = await self.ui_state.save(fixed)
                    reply = search_reply(alternative, fixed_key, 0, user_id=user_id)
                    return _with_note(
                        reply,
                        f"Nothing matches “{_typed(query)}”; showing results for "
                        f"*{escape_markdown(fixed)}*.",
                    )
            if results.hits:  # found by meaning alone
                reply = search_reply(results, key, page, user_id=user_id)
                return _with_note(
                    reply, "No passage has all these words; these say something close to them."
                )
            notes = "".join(f" {note}" for note in results.query.notes)
            raise UserError(
                f"Nothing matches “{_typed(query)}”.{notes} "
                "Try fewer or other words, or a prefix like `atten*`."
            )
        reply = search_reply(results, key, page, user_id=user_id)
        if corrected is None:
            return reply
        fixed = str(corrected)
        fixed_key = await self.ui_state.save(fixed)
        suggestion = Button(
            clip(f"Did you mean: {fixed}", 80), b.SearchPage(fixed_key, 0, user_id).encode()
        )
        reply = _with_note(reply, f"Did you mean *{escape_markdown(fixed)}*?")
        return dataclasses.replace(reply, rows=(*reply.rows, (suggestion,)))

    async def _results(self, query: str, page: int) -> SearchResults:
        offset = page * RESULTS_PER_PAGE
        return await self.searcher.search(parse_query(query), limit=RESULTS_PER_PAGE, offset=offset)

    async def like_this(self, text: str, *, user_id: int, page: int = 0) -> Reply:
        text = text.strip()[:LIKE_THIS_CHARS]
        if not text:
            return nothing_like_reply(empty=True)
        # Only the distinctive words are kept for the page buttons, not the message itself
        # (it may be someone else's, from a server Lectern is not in).
        words = str(similarity_query(text))
        if not words:
            return nothing_like_reply(empty=False)
        key = await self.ui_state.save(words)
        return await self.like_page(words, key, page, user_id)

    async def like_page(self, words: str, key: str, page: int, user_id: int) -> Reply:
        query = similarity_query(words)
        page = max(page, 0)
        offset = page * RESULTS_PER_PAGE
        results = await self.searcher.search(query, limit=RESULTS_PER_PAGE, offset=offset)
        if not results.hits and page == 0:
            return nothing_like_reply(empty=False)
        return search_reply(
            results,
            key,
            page,
            user_id=user_id,
            title="Passages like this message",
            pager_kind=b.LikeThisPage,
            advice=False,  # "add words to narrow it" is no help for a message
        )


def _typed(query: str) -> str:
    return escape_markdown(clip(query.strip(), 100))


def _with_note(reply: Reply, note: str) -> Reply:
    """``reply`` (search results) with ``note`` opening its description."""
    (card,) = reply.cards
    noted = dataclasses.replace(card, description=clip(f"{note}\n{card.description}", 3000))
    return dataclasses.replace(reply, cards=(noted,))
