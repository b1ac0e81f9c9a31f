"""What every command does, without discord.py: the cogs and the offline console both call this.

Each method returns a :class:`~bot.render.Reply` or raises :class:`UserError` with a friendly
message. Buttons carry their state in ``custom_id`` strings (grammar below), so a button keeps
working after a restart, and :meth:`Lectern.press` answers any of them.

Button ids: ``lx:<action>:<args...>`` where action is one of

    prev/next/open/share/more/whole <passage-id>     navigate from a passage
    again <state-key or ->                           another random passage, same filters
    pp <passage-id> <page> <user>                    page of a long passage
    dp <document-slug> <page> <user>                 page of a whole document
    sp <state-key> <page> <user>                     page of search results
    src <page> <user>                                page of /sources
"""

from __future__ import annotations

import difflib
import hashlib
import json
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date

from . import __version__
from .render import (
    CHOICE_NAME_LIMIT,
    CHOICES_LIMIT,
    FOOTER_LIMIT,
    MAX_PAGES,
    TITLE_LIMIT,
    Attachment,
    Button,
    Card,
    Choice,
    Field,
    Reply,
    clip,
    escape_markdown,
    highlight,
    page_view,
    shown,
    split_text,
)
from .store import (
    HIGHLIGHT_END,
    HIGHLIGHT_START,
    DocumentInfo,
    PassageFilter,
    SearchResults,
    Store,
    StoredPassage,
)

DEFAULT_POEM = "shape-of-attention"
RESULTS_PER_PAGE = 5
SOURCES_PER_PAGE = 8
ERROR_COLOR = 0xE5484D
PREFIX = "lx"
APOLOGY = "Sorry, something went wrong on Lectern's side. It has been logged; please try again."
#: Field sizes that keep five results (or eight sources) under Discord's 6000 per message.
FIELD_NAME_CHARS = 120
FIELD_VALUE_CHARS = 800


class UserError(Exception):
    """Something the user asked for cannot be done; the message says why, kindly."""


@dataclass(frozen=True, slots=True)
class Clicker:
    """Who pressed a button, and where the button was."""

    user_id: int
    private_message: bool  # the clicked message is ephemeral (only the clicker sees it)


def error_reply(message: str) -> Reply:
    return Reply(cards=(Card(description=message, color=ERROR_COLOR),), ephemeral=True)


def _cid(*parts: object) -> str:
    return ":".join([PREFIX, *(str(p) for p in parts)])


def _source_url(source: str) -> str | None:
    return source if source.startswith(("https://", "http://")) else None


class Cooldown:
    """A per-user cooldown: at most one command per ``seconds`` (0 disables it)."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._last: dict[int, float] = {}

    def retry_after(self, user_id: int) -> float:
        """0 if ``user_id`` may run a command now (and records it), else seconds to wait."""
        if self.seconds <= 0:
            return 0.0
        now = self._clock()
        last = self._last.get(user_id)
        if last is not None and now - last < self.seconds:
            return self.seconds - (now - last)
        if len(self._last) > 10_000:  # forget users idle for longer than the cooldown
            self._last = {u: t for u, t in self._last.items() if now - t < self.seconds}
        self._last[user_id] = now
        return 0.0


class Lectern:
    """The reading commands of Lectern over a :class:`Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._document_pages: OrderedDict[str, tuple[list[str], list[int]]] = OrderedDict()
        #: Set by the daily cog: a scheduled server's passage and local date for /reflection.
        self.daily_reflection: (
            Callable[[int], Awaitable[tuple[StoredPassage, date] | None]] | None
        ) = None

    def forget_cached_documents(self) -> None:
        """Drop cached document pages and lists (call after the corpus is reloaded)."""
        self._document_pages.clear()
        self.store.forget_cached_corpus()

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
        slug = (await self.resolve_document(document)).slug if document else None
        author_name = await self.resolve_author(author) if author else None
        about = about.strip() if about and about.strip() else None
        where = PassageFilter(document=slug, author=author_name, about=about)
        passage = await self.store.random_passage(where)
        if passage is None:
            raise UserError(_nothing_matches(where))
        return await self._passage_reply(passage, user_id=user_id, where=where)

    async def passage(self, passage_id: str, *, user_id: int) -> Reply:
        """/passage: one passage by id."""
        passage = await self.store.passage(passage_id)
        if passage is None:
            raise UserError(await self._unknown_id(passage_id))
        return await self._passage_reply(passage, user_id=user_id)

    async def search(self, query: str, *, user_id: int, page: int = 0) -> Reply:
        """/search: ranked results with snippets, paged; results can be opened."""
        if not query.strip():
            raise UserError('Type some words to search for, e.g. `attention` or `"the weights"`.')
        key = await self.store.save_state(query)
        return await self._search_page(query, key, page, user_id)

    async def poem(self, *, user_id: int, title: str | None = None) -> Reply:
        """/poem: a whole poem (default: The Shape of Attention)."""
        if title:
            document = await self.resolve_document(title, kind="poem")
        else:
            poems = [d for d in await self.store.documents() if d.kind == "poem"]
            if not poems:
                raise UserError("There are no poems in the corpus.")
            document = next((d for d in poems if d.slug == DEFAULT_POEM), poems[0])
        return await self._document_page(document.slug, 0, user_id)

    async def read(self, document: str, *, user_id: int) -> Reply:
        """/read: any whole document, in order."""
        info = await self.resolve_document(document)
        return await self._document_page(info.slug, 0, user_id)

    async def reflection(self, *, day: date, guild_id: int | None, user_id: int) -> Reply:
        """/reflection: the day's passage, the same for everyone in a server on that date."""
        if guild_id is not None and self.daily_reflection is not None:
            scheduled = await self.daily_reflection(guild_id)
            if scheduled is not None:  # the passage the server's daily post shows that day
                return reflection_reply(*scheduled)
        count = await self.store.passage_count()
        if count == 0:
            raise UserError("The corpus is empty.")
        seed = hashlib.sha256(f"{day.isoformat()}:{guild_id or 0}".encode()).digest()
        passage = await self.store.passage_at(int.from_bytes(seed[:8], "big") % count)
        if passage is None:  # pragma: no cover - rowids are dense
            raise UserError("Today's reflection could not be found.")
        return reflection_reply(passage, day)

    async def sources(self, *, user_id: int, page: int = 0) -> Reply:
        """/sources: the documents, their authors, kinds, sources and passage counts."""
        documents = await self.store.documents()
        pages = max(1, -(-len(documents) // SOURCES_PER_PAGE))
        page = min(max(page, 0), pages - 1)
        chunk = documents[page * SOURCES_PER_PAGE : (page + 1) * SOURCES_PER_PAGE]
        total = sum(d.passage_count for d in documents)
        fields = []
        for d in chunk:
            by = escape_markdown(d.author) if d.author else "no author named"
            url = _source_url(d.source)
            source = f"[source]({url})" if url else clip(escape_markdown(d.source), 300)
            value = f"{d.kind} · {by} · {d.passage_count} passages · `{d.slug}`\n{source}"
            fields.append(
                Field(
                    clip(escape_markdown(d.title), FIELD_NAME_CHARS), clip(value, FIELD_VALUE_CHARS)
                )
            )
        card = Card(
            title="Sources",
            description=f"{len(documents)} documents, {total} passages.",
            fields=tuple(fields),
            footer=f"page {page + 1} of {pages}" if pages > 1 else None,
        )
        rows = _pager(lambda p: _cid("src", p, user_id), page, pages)
        return Reply(cards=(card,), rows=rows)

    async def about(self) -> Reply:
        """/about: what Lectern is and how to use it."""
        passages = await self.store.passage_count()
        text = (
            "Lectern brings literary passages into Discord: a poem, an essay, a journal and a "
            f"comment thread on attention and language models ({passages} passages).\n\n"
            "**/quote** a random passage (filter by document, author or words)\n"
            '**/search** full-text search: `"exact phrase"`, `prefix*`, `-exclude`\n'
            "**/passage** one passage by id · **/poem** the whole poem · **/read** any document\n"
            "**/reflection** today's reflection · **/sources** where the texts come from\n\n"
            "Buttons under a passage move through its document, find similar passages or "
            "share a private result with the channel."
        )
        return Reply(
            cards=(Card(title="About Lectern", description=text, footer=f"Lectern {__version__}"),)
        )

    # ------------------------------------------------------------------ buttons

    async def press(self, custom_id: str, clicker: Clicker) -> Reply:
        """Answer any Lectern button."""
        parts = custom_id.split(":")
        if len(parts) < 2 or parts[0] != PREFIX:
            raise UserError("This button is not one of Lectern's.")
        action, args = parts[1], parts[2:]
        in_place = clicker.private_message
        try:
            if action in {"prev", "next", "open", "share", "more", "whole"} and len(args) == 1:
                return await self._press_passage(action, args[0], clicker)
            if action == "again" and len(args) == 1:
                where = await self._load_filter(args[0])
                passage = await self.store.random_passage(where)
                if passage is None:
                    raise UserError(_nothing_matches(where))
                reply = await self._passage_reply(passage, user_id=clicker.user_id, where=where)
                return _as_private(reply, edit=in_place)
            if action in {"pp", "dp", "sp"} and len(args) == 3:
                ref, page, owner = args[0], int(args[1]), int(args[2])
                mine = owner == clicker.user_id
                if action == "pp":
                    passage = await self.store.passage(ref)
                    if passage is None:
                        raise UserError(_gone(ref))
                    reply = await self._passage_reply(passage, user_id=clicker.user_id, page=page)
                elif action == "dp":
                    reply = await self._document_page(ref, page, clicker.user_id)
                else:
                    query = await self.store.load_state(ref)
                    if query is None:
                        raise UserError("This search has expired: run /search again.")
                    reply = await self._search_page(query, ref, page, clicker.user_id)
                # The invoker turns the pages in place; anyone else gets a copy of their own.
                return _as_private(reply, edit=mine)
            if action == "src" and len(args) == 2:
                page, owner = int(args[0]), int(args[1])
                reply = await self.sources(user_id=clicker.user_id, page=page)
                return _as_private(reply, edit=owner == clicker.user_id)
        except ValueError:
            pass
        raise UserError("This button is from an older version of Lectern; run the command again.")

    async def _press_passage(self, action: str, passage_id: str, clicker: Clicker) -> Reply:
        current = await self.store.passage(passage_id)
        if current is None:
            raise UserError(_gone(passage_id))
        if action == "share":
            reply = await self._passage_reply(current, user_id=clicker.user_id, shared=True)
            return Reply(cards=reply.cards, rows=reply.rows, ephemeral=False)
        if action == "whole":
            return await self._document_page(
                current.document, await self._page_of(current), clicker.user_id, private=True
            )
        if action == "more":
            related = await self.store.related(current.id, limit=5)
            if not related:
                raise UserError("No passage is much like this one.")
            return _as_private(_related_reply(current, related), edit=False)
        target: StoredPassage | None = current
        if action in {"prev", "next"}:
            before, after = await self.store.neighbours(current.id)
            target = before if action == "prev" else after
            if target is None:
                where = "first" if action == "prev" else "last"
                raise UserError(
                    f"This is the {where} passage of *{escape_markdown(current.title)}*."
                )
        assert target is not None
        reply = await self._passage_reply(target, user_id=clicker.user_id)
        return _as_private(reply, edit=clicker.private_message and action != "open")

    # ------------------------------------------------------------------ autocomplete

    async def complete_documents(self, typed: str, *, kind: str | None = None) -> list[Choice]:
        """Documents whose title or slug contains ``typed`` (value: the slug)."""
        needle = typed.strip().casefold()
        docs = [d for d in await self.store.documents() if kind is None or d.kind == kind]
        hits = [d for d in docs if needle in d.title.casefold() or needle in d.slug]
        hits.sort(key=lambda d: (not d.title.casefold().startswith(needle), d.title.casefold()))
        return [
            Choice(clip(f"{d.title} ({d.kind}, {d.passage_count})", CHOICE_NAME_LIMIT), d.slug)
            for d in hits[:CHOICES_LIMIT]
        ]

    async def complete_authors(self, typed: str) -> list[Choice]:
        needle = " ".join(typed.split()).casefold()
        authors = [a for a in await self.store.authors() if needle in a.name.casefold()]
        authors.sort(key=lambda a: (not a.name.casefold().startswith(needle), a.name.casefold()))
        return [
            Choice(clip(f"{a.name} ({a.passage_count})", CHOICE_NAME_LIMIT), clip(a.name, 100))
            for a in authors[:CHOICES_LIMIT]
        ]

    async def complete_passages(self, typed: str) -> list[Choice]:
        """Passage ids starting with ``typed``, else passages whose words match it."""
        found = await self.store.ids_starting_with(typed, limit=CHOICES_LIMIT)
        if not found and typed.strip():
            results = await self.store.search(typed, limit=CHOICES_LIMIT)
            found = [(h.passage.id, h.passage.text) for h in results.hits]
        return [
            Choice(clip(f"{pid} · {' '.join(text.split())}", CHOICE_NAME_LIMIT), pid)
            for pid, text in found
        ]

    # ------------------------------------------------------------------ resolving typed values

    async def resolve_document(self, typed: str, *, kind: str | None = None) -> DocumentInfo:
        """The document the user meant by ``typed`` (slug, title, or a unique part of either)."""
        needle = " ".join(typed.split()).casefold()
        docs = [d for d in await self.store.documents() if kind is None or d.kind == kind]
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
        hint = (
            f" Did you mean: {', '.join(f'*{escape_markdown(n)}*' for n in names[:5])}?"
            if names
            else ""
        )
        raise UserError(
            f"No {what} called “{escape_markdown(clip(typed, 80))}”.{hint} "
            "Pick one from the list as you type, or see /sources."
        )

    async def resolve_author(self, typed: str) -> str:
        needle = " ".join(typed.split()).casefold()
        authors = await self.store.authors()
        for a in authors:
            if a.name.casefold() == needle:
                return a.name
        partial = [a.name for a in authors if needle and needle in a.name.casefold()]
        if len(partial) == 1:
            return partial[0]
        names = partial or difflib.get_close_matches(
            typed, [a.name for a in authors], n=5, cutoff=0.3
        )
        hint = (
            f" Did you mean: {', '.join(escape_markdown(n) for n in names[:5])}?" if names else ""
        )
        raise UserError(f"No author called “{escape_markdown(clip(typed, 80))}”.{hint}")

    async def _unknown_id(self, typed: str) -> str:
        shown_id = escape_markdown(clip(typed.strip(), 80))
        close = await self.store.ids_starting_with(typed.strip().rsplit("-", 1)[0], limit=3)
        hint = f" Close ones: {', '.join(f'`{pid}`' for pid, _ in close)}." if close else ""
        return (
            f"No passage has the id “{shown_id}”. Ids look like `shape-of-attention-7`; "
            f"start typing and pick one from the list.{hint}"
        )

    # ------------------------------------------------------------------ building replies

    async def _passage_reply(
        self,
        passage: StoredPassage,
        *,
        user_id: int,
        where: PassageFilter | None = None,
        page: int = 0,
        shared: bool = False,
    ) -> Reply:
        pages = split_text(passage.text)
        page = min(max(page, 0), len(pages) - 1)
        card = passage_card(passage, page_view(pages, page), page, len(pages))
        first = passage.seq == 1
        last = passage.seq == passage.document_total
        row = [
            Button("◀ Previous", _cid("prev", passage.id), disabled=first),
            Button("Next ▶", _cid("next", passage.id), disabled=last),
            Button("Whole document", _cid("whole", passage.id)),
            Button("More like this", _cid("more", passage.id)),
        ]
        if where is not None:
            row.append(Button("Another", _cid("again", await self._save_filter(where)), "primary"))
        rows = [tuple(row)]
        second = []
        if len(pages) > 1:
            second = [
                Button("◀ Page", _cid("pp", passage.id, page - 1, user_id), disabled=page == 0),
                Button(
                    "Page ▶",
                    _cid("pp", passage.id, page + 1, user_id),
                    disabled=page == len(pages) - 1,
                ),
            ]
        if not shared:
            second.append(Button("Share", _cid("share", passage.id), "success"))
        if second:
            rows.append(tuple(second))
        return Reply(cards=(card,), rows=tuple(rows))

    async def _save_filter(self, where: PassageFilter) -> str:
        if where.empty:
            return "-"
        payload = json.dumps([where.document, where.author, where.kind, where.about])
        return await self.store.save_state(payload)

    async def _load_filter(self, key: str) -> PassageFilter:
        if key == "-":
            return PassageFilter()
        payload = await self.store.load_state(key)
        if payload is None:
            raise UserError("These filters have expired: run /quote again.")
        document, author, kind, about = json.loads(payload)
        return PassageFilter(document=document, author=author, kind=kind, about=about)

    async def _search_page(self, query: str, key: str, page: int, user_id: int) -> Reply:
        page = max(page, 0)
        results = await self.store.search(
            query, limit=RESULTS_PER_PAGE, offset=page * RESULTS_PER_PAGE
        )
        if not results.hits and page == 0:
            notes = "".join(f" {note}" for note in results.query.notes)
            raise UserError(
                f"Nothing matches “{escape_markdown(clip(query.strip(), 100))}”.{notes} "
                "Try fewer or other words, or a prefix like `atten*`."
            )
        return _search_reply(results, key, page, user_id)

    async def _document_text(self, slug: str) -> tuple[list[str], list[int]]:
        """A document's pages and, for each passage, the page it starts on (cached)."""
        cached = self._document_pages.get(slug)
        if cached is not None:
            self._document_pages.move_to_end(slug)
            return cached
        found = await self.store.document(slug)
        if found is None:
            raise UserError(_gone_document(slug))
        _, passages = found
        text, starts = document_text(passages)
        pages = split_text(text)
        offsets, total, page_of = [], 0, []
        for page_text in pages:
            offsets.append(total)
            total += len(page_text)
        index = 0
        for start in starts:
            while index + 1 < len(offsets) and offsets[index + 1] <= start:
                index += 1
            page_of.append(index)
        self._document_pages[slug] = (pages, page_of)
        if len(self._document_pages) > 32:
            self._document_pages.popitem(last=False)
        return pages, page_of

    async def _page_of(self, passage: StoredPassage) -> int:
        _, page_of = await self._document_text(passage.document)
        return page_of[min(passage.seq - 1, len(page_of) - 1)]

    async def _document_page(
        self, slug: str, page: int, user_id: int, *, private: bool = False
    ) -> Reply:
        info = await self.store.document_info(slug)
        if info is None:
            raise UserError(_gone_document(slug))
        pages, _ = await self._document_text(info.slug)
        page = min(max(page, 0), len(pages) - 1)
        by = info.author or "no author named"
        footer = f"{info.kind} · {by} · {info.passage_count} passages"
        if len(pages) > 1:
            footer += f" · page {page + 1} of {len(pages)}"
        card = Card(
            title=clip(info.title, TITLE_LIMIT),
            url=_source_url(info.source),
            description=page_view(pages, page),
            footer=clip(footer, FOOTER_LIMIT),
        )
        rows: tuple[tuple[Button, ...], ...] = _pager(
            lambda p: _cid("dp", info.slug, p, user_id), page, len(pages)
        )
        attachment = None
        if len(pages) > MAX_PAGES and page == 0:
            attachment = Attachment(f"{info.slug}.md", "".join(pages).encode("utf-8"))
        return Reply(cards=(card,), rows=rows, attachment=attachment, ephemeral=private)


def _as_private(reply: Reply, *, edit: bool) -> Reply:
    return Reply(reply.cards, reply.content, reply.rows, True, reply.attachment, edit)


def _gone(passage_id: str) -> str:
    return (
        f"The passage `{escape_markdown(clip(passage_id, 80))}` is no longer in the corpus "
        "(it was changed or removed since this message was sent). Try /quote for another."
    )


def _gone_document(slug: str) -> str:
    shown_slug = escape_markdown(clip(slug, 80))
    return f"The document `{shown_slug}` is no longer in the corpus. See /sources."


def _nothing_matches(where: PassageFilter) -> str:
    parts = []
    if where.document:
        parts.append(f"in `{where.document}`")
    if where.author:
        parts.append(f"by {escape_markdown(where.author)}")
    if where.about:
        parts.append(f"about “{escape_markdown(clip(where.about, 100))}”")
    return f"No passage {' '.join(parts) or 'at all'}. Try fewer filters."


def _pager(make_id: Callable[[int], str], page: int, pages: int) -> tuple[tuple[Button, ...], ...]:
    if pages <= 1:
        return ()
    return (
        (
            Button("◀", make_id(page - 1), disabled=page == 0),
            Button(f"{page + 1} / {pages}", make_id(page) + ":", disabled=True),
            Button("▶", make_id(page + 1), disabled=page >= pages - 1),
        ),
    )


def passage_card(passage: StoredPassage, text: str, page: int, pages: int) -> Card:
    """A passage (or one page of it) as an embed."""
    footer = f"{passage.label} · {passage.id}"
    if pages > 1:
        footer += f" · page {page + 1} of {pages}"
    return Card(
        title=clip(passage.title, TITLE_LIMIT),
        url=_source_url(passage.source),
        author=clip(passage.author, 256) if passage.author else None,
        description=shown(text),
        footer=clip(footer, FOOTER_LIMIT),
    )


def reflection_reply(passage: StoredPassage, day: date) -> Reply:
    """The day's reflection: date, passage, attribution, and a way to read it in context."""
    pages = split_text(passage.text)
    by = f" by {passage.author}" if passage.author else ""
    card = Card(
        title=f"Reflection for {day:%A, %-d %B %Y}",
        description=page_view(pages, 0),
        url=_source_url(passage.source),
        footer=clip(f"{passage.title}{by} · {passage.label} · {passage.id}", FOOTER_LIMIT),
    )
    button = Button("Read in context", _cid("whole", passage.id), "primary")
    return Reply(cards=(card,), rows=((button,),))


def document_text(passages: list[StoredPassage]) -> tuple[str, list[int]]:
    """A whole document as one text, and where each passage starts in it."""
    chunks: list[str] = []
    starts: list[int] = []
    position = 0
    for p in passages:
        if p.unit == "comment" and p.author:
            chunk = f"**{escape_markdown(p.author)}**\n{p.text}"
        elif p.unit == "afterword":
            chunk = f"⁂\n\n{p.text}"
        else:
            chunk = p.text
        if chunks:
            chunks.append("\n\n")
            position += 2
        starts.append(position)
        chunks.append(chunk)
        position += len(chunk)
    return "".join(chunks), starts


def _related_reply(source: StoredPassage, related: list[StoredPassage]) -> Reply:
    fields = tuple(
        Field(
            clip(f"{i}. {p.title} — {p.label}", FIELD_NAME_CHARS),
            escape_markdown(clip(" ".join(p.text.split()), 300)) + f"\n`{p.id}`",
        )
        for i, p in enumerate(related, 1)
    )
    card = Card(
        title="More like this",
        description=f"Passages sharing words with `{source.id}`:",
        fields=fields,
    )
    row = tuple(Button(str(i), _cid("open", p.id)) for i, p in enumerate(related, 1))
    return Reply(cards=(card,), rows=(row,))


def _snippet_value(snippet: str, passage_id: str) -> str:
    """A highlighted snippet and the passage id, within FIELD_VALUE_CHARS whatever the text."""
    suffix = f"\n`{passage_id}`"
    value = highlight(clip(snippet, 300), HIGHLIGHT_START, HIGHLIGHT_END)
    if len(value) + len(suffix) > FIELD_VALUE_CHARS:  # text dense with Markdown characters
        plain = snippet.replace(HIGHLIGHT_START, "").replace(HIGHLIGHT_END, "")
        value = clip(" ".join(plain.split()), (FIELD_VALUE_CHARS - len(suffix)) // 2)
        value = escape_markdown(value)
    return value + suffix


def _search_reply(results: SearchResults, key: str, page: int, user_id: int) -> Reply:
    count = f"{results.total:,}" + ("+" if results.capped else "")
    first = results.offset + 1
    description = f"{count} passages match. Showing {first}–{results.offset + len(results.hits)}."
    if results.capped:
        description += (
            " That is a lot: add words to narrow it (the first 1,000 matches are ranked)."
        )
    if results.query.notes:
        description += "\n" + " ".join(results.query.notes)
    fields = []
    for i, hit in enumerate(results.hits, first):
        p = hit.passage
        fields.append(
            Field(
                clip(f"{i}. {p.title} — {p.label}", FIELD_NAME_CHARS),
                _snippet_value(hit.snippet, p.id),
            )
        )
    card = Card(
        title=clip(f"Search: {results.query}", TITLE_LIMIT),
        description=description,
        fields=tuple(fields),
    )
    rows: list[tuple[Button, ...]] = [
        tuple(Button(str(i), _cid("open", h.passage.id)) for i, h in enumerate(results.hits, first))
    ]
    pages = -(-min(results.total, 1000) // RESULTS_PER_PAGE)
    rows.extend(_pager(lambda pg: _cid("sp", key, pg, user_id), page, pages))
    return Reply(cards=(card,), rows=tuple(r for r in rows if r), ephemeral=True)
