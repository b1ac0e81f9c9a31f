"""Reply builders for passages, documents, the day's reflection, /sources and /about (pure)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import date

from .. import __version__
from ..core.reply import (
    ACCENT,
    KIND_ACCENTS,
    Attachment,
    Button,
    Card,
    Field,
    Panel,
    Reply,
    text_files,
)
from ..core.text import clip, escape_markdown, page_view, shown
from ..corpus.random import PassageFilter
from ..corpus.rows import StoredPassage
from ..corpus.store import DocumentInfo
from .buttons import (
    Another,
    CardOf,
    DocumentPage,
    MoreLikeThis,
    Next,
    Open,
    PageButton,
    PassagePage,
    Previous,
    Share,
    ShareCard,
    SourcesPage,
    WholeDocument,
    with_page,
)
from .commands import READING_COMMANDS

SOURCES_PER_PAGE = 8
#: A document needing more pages than this is also offered as a file.
MAX_PAGES = 20
#: Field sizes that keep five results (or eight sources) under Discord's 6000 per message.
FIELD_NAME_CHARS = 120
FIELD_VALUE_CHARS = 800


def source_url(source: str) -> str | None:
    return source if source.startswith(("https://", "http://")) else None


def byline(author: str | None) -> str:
    return author or "no author named"


#: What a heading or subtext line may take of a V2 message's 4,000 characters, escapes included:
#: with a 3,400-character page they always fit.
LINE_CHARS = 280


def heading(title: str, author: str | None) -> str:
    """``**The Shape of Attention** · Kenneth Reitz`` (both shown literally)."""
    line = f"**{clip(escape_markdown(title), LINE_CHARS - 120)}**"
    return f"{line} · {clip(escape_markdown(author), 110)}" if author else line


def passage_panel(passage: StoredPassage, text: str, page: int, pages: int) -> Panel:
    """A passage (or one page of it) as a Components V2 panel."""
    subtext = f"{passage.label} · {passage.id}"
    if pages > 1:
        subtext += f" · page {page + 1} of {pages}"
    return Panel(
        heading=heading(passage.title, passage.author),
        body=shown(text),
        subtext=subtext,
        accent=KIND_ACCENTS.get(passage.kind, ACCENT),
        link=source_url(passage.source),
    )


def passage_reply(
    passage: StoredPassage,
    pages: list[str],
    page: int,
    *,
    user_id: int,
    another: Another | None = None,
    shared: bool = False,
) -> Reply:
    """A passage with its buttons; ``another`` adds "Another" with the same filters."""
    page = min(max(page, 0), len(pages) - 1)
    panel = passage_panel(passage, page_view(pages, page), page, len(pages))
    row = [
        Button("◀ Previous", Previous(passage.id).encode(), disabled=passage.seq == 1),
        Button("Next ▶", Next(passage.id).encode(), disabled=passage.seq == passage.document_total),
        Button("Whole document", WholeDocument(passage.id).encode()),
        Button("More like this", MoreLikeThis(passage.id).encode()),
    ]
    if another is not None:
        row.append(Button("Another", another.encode(), "primary"))
    rows = [tuple(row)]
    second = []
    if len(pages) > 1:
        turn = PassagePage(passage.id, page, user_id)
        second = [
            Button("◀ Page", with_page(turn, page - 1).encode(), disabled=page == 0),
            Button("Page ▶", with_page(turn, page + 1).encode(), disabled=page == len(pages) - 1),
        ]
    second.append(Button("Card", CardOf(passage.id).encode()))
    if not shared:
        second.append(Button("Share", Share(passage.id).encode(), "success"))
    if second:
        rows.append(tuple(second))
    return Reply(panel=panel, rows=tuple(rows))


def pager(button: PageButton, pages: int) -> tuple[tuple[Button, ...], ...]:
    """◀ n / N ▶ under a paged answer (nothing for a single page)."""
    if pages <= 1:
        return ()
    page = button.page
    return (
        (
            Button("◀", with_page(button, page - 1).encode(), disabled=page == 0),
            # Disabled, never pressed: the trailing ':' only keeps its id apart from the others.
            Button(f"{page + 1} / {pages}", button.encode() + ":", disabled=True),
            Button("▶", with_page(button, page + 1).encode(), disabled=page >= pages - 1),
        ),
    )


def card_reply(passage: StoredPassage, png: bytes, *, private: bool) -> Reply:
    """A passage's quote card: the image in a gallery, its title and author beside it, the
    way to the passage, and (when only the clicker sees it) Share to post it."""
    name = f"{passage.id}.png"
    panel = Panel(
        heading=heading(passage.title, passage.author),
        body="",
        subtext=f"{passage.label} · {passage.id}",
        accent=KIND_ACCENTS.get(passage.kind, ACCENT),
        link=source_url(passage.source),
        image=name,
    )
    row = [
        Button("Read the passage", Open(passage.id).encode()),
        Button("Whole document", WholeDocument(passage.id).encode()),
    ]
    if private:
        row.append(Button("Share", ShareCard(passage.id).encode(), "success"))
    return Reply(
        panel=panel, rows=(tuple(row),), attachments=(Attachment(name, png),), ephemeral=private
    )


def reflection_title(day: date) -> str:
    return f"Reflection for {day:%A, %-d %B %Y}"


def reflection_reply(passage: StoredPassage, pages: list[str], day: date) -> Reply:
    """The day's reflection: date, passage, attribution, and a way to read it in context."""
    by = f" by {clip(escape_markdown(passage.author), 110)}" if passage.author else ""
    title = clip(escape_markdown(passage.title), LINE_CHARS - 200)
    panel = Panel(
        heading=reflection_title(day),
        body=page_view(pages, 0),
        subtext=f"{title}{by} · {passage.label} · {passage.id}",
        accent=KIND_ACCENTS.get(passage.kind, ACCENT),
        link=source_url(passage.source),
    )
    button = Button("Read in context", WholeDocument(passage.id).encode(), "primary")
    return Reply(panel=panel, rows=((button,),))


def document_text(passages: Sequence[StoredPassage]) -> tuple[str, list[int]]:
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


def document_reply(
    info: DocumentInfo, pages: list[str], page: int, *, user_id: int, private: bool
) -> Reply:
    """One page of a whole document; past MAX_PAGES, page one carries the text as a file."""
    page = min(max(page, 0), len(pages) - 1)
    subtext = (
        f"{info.kind} · {escape_markdown(byline(info.author))} · {info.passage_count} passages"
    )
    if len(pages) > 1:
        subtext += f" · page {page + 1} of {len(pages)}"
    panel = Panel(
        heading=heading(info.title, info.author),
        body=page_view(pages, page),
        subtext=subtext,
        accent=KIND_ACCENTS.get(info.kind, ACCENT),
        link=source_url(info.source),
    )
    rows = pager(DocumentPage(info.slug, page, user_id), len(pages))
    files: tuple[Attachment, ...] = ()
    content = None
    if len(pages) > MAX_PAGES:  # the whole text as files, in parts past what one file holds
        whole = "".join(pages)
        made = text_files(info.slug, ".md", whole)
        # Page one attaches them; later pages (turned in place) keep showing the same files.
        panel = dataclasses.replace(panel, files=tuple(f.filename for f in made))
        if page == 0:
            files = made
            if sum(len(f.data) for f in files) < len(whole.encode("utf-8")):
                content = "The attached text stops where Discord's 25 MiB per message does."
    return Reply(panel=panel, content=content, rows=rows, attachments=files, ephemeral=private)


def sources_reply(documents: Sequence[DocumentInfo], page: int, *, user_id: int) -> Reply:
    """/sources: the documents, their authors, kinds, sources and passage counts, paged."""
    pages = max(1, -(-len(documents) // SOURCES_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    chunk = documents[page * SOURCES_PER_PAGE : (page + 1) * SOURCES_PER_PAGE]
    total = sum(d.passage_count for d in documents)
    fields = []
    for d in chunk:
        url = source_url(d.source)
        source = f"[source]({url})" if url else clip(escape_markdown(d.source), 300)
        by = escape_markdown(byline(d.author))
        value = f"{d.kind} · {by} · {d.passage_count} passages · `{d.slug}`\n{source}"
        name = clip(escape_markdown(d.title), FIELD_NAME_CHARS)
        fields.append(Field(name, clip(value, FIELD_VALUE_CHARS)))
    card = Card(
        title="Sources",
        description=f"{len(documents)} documents, {total} passages.",
        fields=tuple(fields),
        footer=f"page {page + 1} of {pages}" if pages > 1 else None,
    )
    return Reply(cards=(card,), rows=pager(SourcesPage(page, user_id), pages))


def about_reply(passages: int) -> Reply:
    """/about: what Lectern is, and every reading command from the command table."""
    commands = "\n".join(f"**/{c.name}** {c.description}" for c in READING_COMMANDS)
    text = (
        "Lectern brings literary passages into Discord: a poem, an essay, a journal and a "
        f"comment thread on attention and language models ({passages} passages).\n\n"
        f"{commands}\n\n"
        'Search understands `"exact phrase"`, `prefix*` and `-exclude`. Buttons under a '
        "passage move through its document, find similar passages or share a private result "
        "with the channel."
    )
    return Reply(
        cards=(Card(title="About Lectern", description=text, footer=f"Lectern {__version__}"),)
    )


def gone(passage_id: str) -> str:
    return (
        f"The passage `{escape_markdown(clip(passage_id, 80))}` is no longer in the corpus "
        "(it was changed or removed since this message was sent). Try /quote for another."
    )


def gone_document(slug: str) -> str:
    shown_slug = escape_markdown(clip(slug, 80))
    return f"The document `{shown_slug}` is no longer in the corpus. See /sources."


def nothing_matches(where: PassageFilter) -> str:
    parts = []
    if where.document:
        parts.append(f"in `{escape_markdown(where.document)}`")
    if where.author:
        parts.append(f"by {escape_markdown(where.author)}")
    if where.about:
        parts.append(f"about “{escape_markdown(clip(where.about, 100))}”")
    return f"No passage {' '.join(parts) or 'at all'}. Try fewer filters."


def slow_down(retry_at: int) -> str:
    """The refusal of a throttled reading command; ``retry_at`` is a unix time."""
    return f"Easy there: you can run another reading command <t:{retry_at}:R>."
