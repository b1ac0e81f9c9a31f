"""What a reader typed, resolved: documents and authors by name, and autocomplete choices."""

from __future__ import annotations

import difflib

from ..core.errors import UserError
from ..core.reply import CHOICE_NAME_LIMIT, CHOICES_LIMIT, Choice
from ..core.text import clip, escape_markdown
from ..corpus.search import PassageSearch
from ..corpus.store import CorpusStore, DocumentInfo


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def document_choice_name(d: DocumentInfo) -> str:
    """``The Shape of Attention — Kenneth Reitz (poem, 25)``."""
    by = f" — {d.author}" if d.author else ""
    return clip(f"{d.title}{by} ({d.kind}, {d.passage_count})", CHOICE_NAME_LIMIT)


class Lookup:
    """Resolves typed names and offers autocomplete choices over the corpus."""

    def __init__(self, corpus: CorpusStore, search: PassageSearch) -> None:
        self.corpus = corpus
        self.search = search

    async def complete_documents(self, typed: str, *, kind: str | None = None) -> list[Choice]:
        """Documents whose title, slug or author contains ``typed`` (value: the slug)."""
        needle = _fold(typed)
        docs = [d for d in await self.corpus.documents() if kind is None or d.kind == kind]
        hits = [
            d
            for d in docs
            if needle in d.title.casefold()
            or needle in d.slug
            or (d.author and needle in d.author.casefold())
        ]
        hits.sort(key=lambda d: (not d.title.casefold().startswith(needle), d.title.casefold()))
        return [Choice(document_choice_name(d), d.slug) for d in hits[:CHOICES_LIMIT]]

    async def complete_authors(self, typed: str) -> list[Choice]:
        needle = _fold(typed)
        authors = [a for a in await self.corpus.authors() if needle in a.name.casefold()]
        authors.sort(key=lambda a: (not a.name.casefold().startswith(needle), a.name.casefold()))
        return [
            Choice(clip(f"{a.name} ({a.passage_count})", CHOICE_NAME_LIMIT), clip(a.name, 100))
            for a in authors[:CHOICES_LIMIT]
        ]

    async def complete_passages(self, typed: str) -> list[Choice]:
        """Passage ids starting with ``typed``, else passages whose words match it."""
        found = await self.corpus.ids_starting_with(typed, limit=CHOICES_LIMIT)
        if not found and typed.strip():
            results = await self.search.search(typed, limit=CHOICES_LIMIT)
            found = [(h.passage.id, h.passage.text) for h in results.hits]
        return [
            Choice(clip(f"{pid} · {' '.join(text.split())}", CHOICE_NAME_LIMIT), pid)
            for pid, text in found
        ]

    async def document(self, typed: str, *, kind: str | None = None) -> DocumentInfo:
        """The document the user meant by ``typed`` (slug, title, or a unique part of either)."""
        needle = _fold(typed)
        docs = [d for d in await self.corpus.documents() if kind is None or d.kind == kind]
        for d in docs:
            if needle in (d.slug, d.title.casefold()):
                return d
        partial = [d for d in docs if needle and (needle in d.slug or needle in d.title.casefold())]
        if len(partial) == 1:
            return partial[0]
        what = "poem" if kind == "poem" else "document"
        names = [d.title for d in partial] or difflib.get_close_matches(
            typed, [d.title for d in docs], n=5, cutoff=0.3
        )
        hint = _did_you_mean([f"*{escape_markdown(n)}*" for n in names])
        raise UserError(
            f"No {what} called “{escape_markdown(clip(typed, 80))}”.{hint} "
            "Pick one from the list as you type, or see /sources."
        )

    async def author(self, typed: str) -> str:
        """The author's name as the corpus writes it (exact, or a unique part of a name)."""
        needle = _fold(typed)
        authors = await self.corpus.authors()
        for a in authors:
            if a.name.casefold() == needle:
                return a.name
        partial = [a.name for a in authors if needle and needle in a.name.casefold()]
        if len(partial) == 1:
            return partial[0]
        names = partial or difflib.get_close_matches(
            typed, [a.name for a in authors], n=5, cutoff=0.3
        )
        hint = _did_you_mean([escape_markdown(n) for n in names])
        raise UserError(f"No author called “{escape_markdown(clip(typed, 80))}”.{hint}")

    async def unknown_id(self, typed: str) -> str:
        """The answer to an id that names no passage, with close ids if there are any."""
        shown_id = escape_markdown(clip(typed.strip(), 80))
        close = await self.corpus.ids_starting_with(typed.strip().rsplit("-", 1)[0], limit=3)
        hint = f" Close ones: {', '.join(f'`{pid}`' for pid, _ in close)}." if close else ""
        return (
            f"No passage has the id “{shown_id}”. Ids look like `shape-of-attention-7`; "
            f"start typing and pick one from the list.{hint}"
        )


def _did_you_mean(names: list[str]) -> str:
    return f" Did you mean: {', '.join(names[:5])}?" if names else ""
