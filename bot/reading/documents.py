"""Whole documents cut into pages, cached per corpus generation (so another process's ingest
is seen on the next command)."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from ..core.errors import UserError
from ..core.text import split_text
from ..corpus.rows import StoredPassage
from ..corpus.store import CorpusStore
from .replies import document_text, gone_document

CACHED_DOCUMENTS = 32


@dataclass(frozen=True, slots=True)
class Paged:
    pages: list[str]
    page_of: list[int]  # for each passage (by position), the page it starts on


class DocumentPages:
    """The pages of each document, computed once per (generation, slug)."""

    def __init__(self, corpus: CorpusStore) -> None:
        self.corpus = corpus
        self._cache: OrderedDict[tuple[int, str], Paged] = OrderedDict()

    async def pages(self, slug: str) -> Paged:
        key = (await self.corpus.generation(), slug)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        found = await self.corpus.document(slug)
        if found is None:
            raise UserError(gone_document(slug))
        text, starts = document_text(found[1])
        paged = paginate(text, starts)
        self._cache[key] = paged
        while len(self._cache) > CACHED_DOCUMENTS:
            self._cache.popitem(last=False)
        return paged

    async def page_of(self, passage: StoredPassage) -> int:
        """The page of its document on which ``passage`` starts."""
        page_of = (await self.pages(passage.document)).page_of
        return page_of[min(passage.seq - 1, len(page_of) - 1)]


def paginate(text: str, starts: list[int]) -> Paged:
    """Pages of ``text`` and the page each start offset falls on."""
    pages = split_text(text)
    offsets, total = [], 0
    for page_text in pages:
        offsets.append(total)
        total += len(page_text)
    page_of, index = [], 0
    for start in starts:
        while index + 1 < len(offsets) and offsets[index + 1] <= start:
            index += 1
        page_of.append(index)
    return Paged(pages, page_of)
