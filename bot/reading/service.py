"""What every reading command and button does, without discord.py: the cogs and the offline
console both call :class:`ReadingService`. Each method returns a
:class:`~bot.core.reply.Reply` or raises :class:`~bot.core.errors.UserError`."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from ..cards.service import DEFAULT_THEME, CardService
from ..core.errors import UserError
from ..core.reply import Reply, as_private
from ..core.text import escape_markdown, split_text
from ..core.ui_state import UiStateStore
from ..corpus.random import PassageFilter
from ..corpus.rows import StoredPassage
from ..corpus.search import PassageSearch
from ..corpus.spelling import Speller
from ..corpus.store import CorpusStore
from . import buttons as b
from .documents import DocumentPages
from .finding import Finder
from .lookup import Lookup
from .replies import (
    about_reply,
    card_reply,
    document_reply,
    gone,
    gone_document,
    nothing_matches,
    passage_reply,
    reflection_reply,
    sources_reply,
)
from .results import related_reply

DEFAULT_POEM = "shape-of-attention"
OUT_OF_DATE = (
    "This button is out of date (Lectern changed since it was posted): run the command again."
)


@dataclass(frozen=True, slots=True)
class Clicker:
    """Who pressed a button, and where the button was."""

    user_id: int
    private_message: bool  # the clicked message is ephemeral (only the clicker sees it)


class ScheduledReflections(Protocol):
    """Where /reflection learns a scheduled server's passage of the day (the daily feature)."""

    async def todays_passage(self, guild_id: int) -> tuple[StoredPassage, date] | None: ...


class NoSchedules:
    """For the console and any host without daily reflections."""

    async def todays_passage(self, guild_id: int) -> tuple[StoredPassage, date] | None:
        return None


class ReadingService:
    """The reading commands over the corpus."""

    def __init__(
        self,
        corpus: CorpusStore,
        search: PassageSearch,
        ui_state: UiStateStore,
        cards: CardService,
        reflections: ScheduledReflections | None = None,
    ) -> None:
        self.corpus = corpus
        self.searcher = search
        self.ui_state = ui_state
        self.lookup = Lookup(corpus, search)
        self.documents = DocumentPages(corpus)
        self.reflections = reflections or NoSchedules()
        self.cards = cards
        self.finder = Finder(search, ui_state, Speller(search.lexicon))

    # ------------------------------------------------------------------ commands

    async def quote(
        self,
        *,
        user_id: int,
        document: str | None = None,
        author: str | None = None,
        about: str | None = None,
    ) -> Reply:
        """/quote: a random passage, optionally filtered."""
        slug = (await self.lookup.document(document)).slug if document else None
        author_name = await self.lookup.author(author) if author else None
        about = about.strip() if about and about.strip() else None
        return await self._random(PassageFilter(slug, author_name, None, about), user_id)

    async def passage(self, passage_id: str, *, user_id: int) -> Reply:
        """/passage: one passage by id."""
        passage = await self._typed_id(passage_id)
        return passage_reply(passage, split_text(passage.text), 0, user_id=user_id)

    async def search(self, query: str, *, user_id: int, page: int = 0) -> Reply:
        """/search: ranked results with snippets, paged; results can be opened."""
        return await self.finder.search(query, user_id=user_id, page=page)

    async def like_this(self, text: str, *, user_id: int, page: int = 0) -> Reply:
        """ "Passages like this": the passages most related to a message's text, paged."""
        return await self.finder.like_this(text, user_id=user_id, page=page)

    async def card(self, passage_id: str, *, user_id: int, theme: str = DEFAULT_THEME) -> Reply:
        """/card: a passage as an image worth sharing, posted for everyone."""
        passage = await self._typed_id(passage_id)
        return card_reply(passage, await self.cards.png(passage, theme), private=False)

    async def poem(self, *, user_id: int, title: str | None = None) -> Reply:
        """/poem: a whole poem (default: The Shape of Attention)."""
        if title:
            document = await self.lookup.document(title, kind="poem")
        else:
            poems = [d for d in await self.corpus.documents() if d.kind == "poem"]
            if not poems:
                raise UserError("There are no poems in the corpus.")
            document = next((d for d in poems if d.slug == DEFAULT_POEM), poems[0])
        return await self._document_page(document.slug, 0, user_id)

    async def read(self, document: str, *, user_id: int) -> Reply:
        """/read: any whole document, in order."""
        info = await self.lookup.document(document)
        return await self._document_page(info.slug, 0, user_id)

    async def reflection(self, *, day: date, guild_id: int | None, user_id: int) -> Reply:
        """/reflection: the day's passage: a scheduled server's daily post, else the one
        reflection of the day for everyone."""
        if guild_id is not None:
            scheduled = await self.reflections.todays_passage(guild_id)
            if scheduled is not None:  # the passage the server's daily post shows that day
                passage, local_day = scheduled
                return reflection_reply(passage, split_text(passage.text), local_day)
        count = await self.corpus.passage_count()
        if count == 0:
            raise UserError("The corpus is empty.")
        # Without a schedule the day's reflection is the same everywhere (servers, DMs, group
        # DMs, user installs alike).
        seed = hashlib.sha256(f"{day.isoformat()}:0".encode()).digest()
        picked = await self.corpus.passage_at(int.from_bytes(seed[:8], "big") % count)
        if picked is None:  # a reload between the two queries
            raise UserError("Today's reflection is being reloaded; try again in a moment.")
        return reflection_reply(picked, split_text(picked.text), day)

    async def sources(self, *, user_id: int, page: int = 0) -> Reply:
        """/sources: the documents, their authors, kinds, sources and passage counts."""
        return sources_reply(await self.corpus.documents(), page, user_id=user_id)

    async def about(self) -> Reply:
        """/about: what Lectern is and how to use it."""
        return about_reply(await self.corpus.passage_count())

    # ------------------------------------------------------------------ buttons

    async def press(self, custom_id: str, clicker: Clicker) -> Reply:
        """Answer any Lectern button; a malformed or retired id says it is out of date."""
        button = b.parse_button(custom_id)
        user = clicker.user_id
        match button:
            case b.OnPassage(passage_id=passage_id):
                return await self._on_passage(button, passage_id, clicker)
            case b.Another(filters=key):
                reply = await self._random(await self._load_filter(key), user)
                return as_private(reply, edit=clicker.private_message)
            case b.PassagePage(passage_id=passage_id, page=page, owner=owner):
                passage = await self._existing(passage_id)
                reply = passage_reply(passage, split_text(passage.text), page, user_id=user)
            case b.DocumentPage(slug=slug, page=page, owner=owner):
                reply = await self._document_page(slug, page, user)
            case b.SearchPage(key=key, page=page, owner=owner):
                query = await self.ui_state.load(key)
                if query is None:
                    raise UserError("This search has expired: run /search again.")
                reply = await self.finder.search_page(query, key, page, user)
            case b.LikeThisPage(key=key, page=page, owner=owner):
                text = await self.ui_state.load(key)
                if text is None:
                    raise UserError("These results have expired: right-click the message again.")
                reply = await self.finder.like_page(text, key, page, user)
            case b.SourcesPage(page=page, owner=owner):
                reply = await self.sources(user_id=user, page=page)
            case _:
                raise UserError(OUT_OF_DATE)
        # The invoker turns the pages in place; anyone else gets a copy of their own.
        return as_private(reply, edit=owner == user)

    async def _on_passage(self, button: b.ButtonId, passage_id: str, clicker: Clicker) -> Reply:
        current = await self._existing(passage_id)
        user = clicker.user_id
        if isinstance(button, b.Share):
            pages = split_text(current.text)
            shared = passage_reply(current, pages, 0, user_id=user, shared=True)
            return Reply(panel=shared.panel, rows=shared.rows, ephemeral=False)
        if isinstance(button, b.WholeDocument):
            page = await self.documents.page_of(current)
            return await self._document_page(current.document, page, user, private=True)
        if isinstance(button, b.CardOf | b.ShareCard):
            private = isinstance(button, b.CardOf) and clicker.private_message
            return card_reply(current, await self.cards.png(current), private=private)
        if isinstance(button, b.MoreLikeThis):
            related = await self.searcher.related(current, limit=5)
            if not related:
                raise UserError("No passage is much like this one.")
            return related_reply(current, related)
        target: StoredPassage | None = current
        if isinstance(button, b.Previous | b.Next):
            before, after = await self.corpus.neighbours(current.id)
            target = before if isinstance(button, b.Previous) else after
        if target is None:
            where = "first" if isinstance(button, b.Previous) else "last"
            raise UserError(f"This is the {where} passage of *{escape_markdown(current.title)}*.")
        reply = passage_reply(target, split_text(target.text), 0, user_id=user)
        edit = clicker.private_message and not isinstance(button, b.Open)
        return as_private(reply, edit=edit)

    # ------------------------------------------------------------------ helpers

    async def _typed_id(self, passage_id: str) -> StoredPassage:
        """The passage a reader typed the id of, or an answer naming close ids."""
        passage = await self.corpus.passage(passage_id)
        if passage is None:
            raise UserError(await self.lookup.unknown_id(passage_id))
        return passage

    async def _existing(self, passage_id: str) -> StoredPassage:
        passage = await self.corpus.passage(passage_id)
        if passage is None:
            raise UserError(gone(passage_id))
        return passage

    async def _random(self, where: PassageFilter, user_id: int) -> Reply:
        passage = await self.corpus.random_passage(where)
        if passage is None:
            raise UserError(nothing_matches(where))
        another = b.Another(await self._save_filter(where))
        pages = split_text(passage.text)
        return passage_reply(passage, pages, 0, user_id=user_id, another=another)

    async def _save_filter(self, where: PassageFilter) -> str:
        if where.empty:
            return "-"
        payload = json.dumps([where.document, where.author, where.kind, where.about])
        return await self.ui_state.save(payload)

    async def _load_filter(self, key: str) -> PassageFilter:
        if key == "-":
            return PassageFilter()
        payload = await self.ui_state.load(key)
        if payload is None:
            raise UserError("These filters have expired: run /quote again.")
        try:
            document, author, kind, about = json.loads(payload)
        except (ValueError, TypeError):  # not a payload this version wrote
            raise UserError("These filters have expired: run /quote again.") from None
        return PassageFilter(document=document, author=author, kind=kind, about=about)

    async def _document_page(
        self, slug: str, page: int, user_id: int, *, private: bool = False
    ) -> Reply:
        info = await self.corpus.document_info(slug)
        if info is None:
            raise UserError(gone_document(slug))
        paged = await self.documents.pages(info.slug)
        return document_reply(info, paged.pages, page, user_id=user_id, private=private)
