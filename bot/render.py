"""Rendering to Discord's shapes, without discord.py: cards (embeds), buttons and pages.

Everything here is pure. The Discord adapter turns a :class:`Reply` into embeds and views; the
offline console prints the same :class:`Reply` as boxes. Every limit Discord enforces is applied
here, so no passage, however long, can produce a payload Discord rejects.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Discord's limits (see the platform facts sheet).
CONTENT_LIMIT = 2000
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FOOTER_LIMIT = 2048
AUTHOR_LIMIT = 256
EMBED_TOTAL_LIMIT = 6000
MAX_FIELDS = 25
BUTTONS_PER_ROW = 5
MAX_ROWS = 5
CUSTOM_ID_LIMIT = 100
CHOICES_LIMIT = 25
CHOICE_NAME_LIMIT = 100

#: Text per page: below the description limit, leaving room for the other parts of an embed
#: (and for closing and reopening a code block split across pages).
PAGE_CHARS = 3800
#: A document needing more pages than this is also offered as a file.
MAX_PAGES = 20
ELLIPSIS = "…"

ACCENT = 0x8B5CF6


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    value: str
    inline: bool = False


@dataclass(frozen=True, slots=True)
class Card:
    """An embed: every part already within Discord's limits."""

    description: str
    title: str | None = None
    url: str | None = None
    author: str | None = None
    footer: str | None = None
    fields: tuple[Field, ...] = ()
    color: int = ACCENT

    def __post_init__(self) -> None:
        # Constructed only through the helpers below; this guards against a future mistake.
        assert len(self) <= EMBED_TOTAL_LIMIT, len(self)
        assert len(self.description) <= DESCRIPTION_LIMIT

    def __len__(self) -> int:
        """Characters that count towards Discord's 6000 per message, as discord.py counts."""
        parts = [self.description, self.title or "", self.author or "", self.footer or ""]
        parts += [f.name + f.value for f in self.fields]
        return sum(len(p) for p in parts)


@dataclass(frozen=True, slots=True)
class Button:
    """A button whose ``custom_id`` carries all its state, so it works after a restart."""

    label: str
    custom_id: str
    style: str = "secondary"  # primary, secondary, success, danger
    disabled: bool = False

    def __post_init__(self) -> None:
        assert 0 < len(self.custom_id) <= CUSTOM_ID_LIMIT, self.custom_id


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    data: bytes


@dataclass(frozen=True, slots=True)
class Reply:
    """What a command or button answers with."""

    cards: tuple[Card, ...] = ()
    content: str | None = None
    rows: tuple[tuple[Button, ...], ...] = ()
    ephemeral: bool = False
    attachment: Attachment | None = None
    #: For buttons: replace the message that was clicked rather than answering anew.
    edit: bool = False

    def __post_init__(self) -> None:
        assert self.content is None or len(self.content) <= CONTENT_LIMIT
        assert sum(len(c) for c in self.cards) <= EMBED_TOTAL_LIMIT
        assert len(self.rows) <= MAX_ROWS and all(len(r) <= BUTTONS_PER_ROW for r in self.rows)

    @property
    def buttons(self) -> list[Button]:
        return [b for row in self.rows for b in row]


@dataclass(frozen=True, slots=True)
class Choice:
    """An autocomplete choice."""

    name: str
    value: str


# --------------------------------------------------------------------------- text helpers


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters at a word boundary, with an ellipsis if cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip() + ELLIPSIS


_MARKDOWN_SPECIAL = re.compile(r"([\\*_~`|>#\[\]])")


def escape_markdown(text: str) -> str:
    """Escape Discord Markdown so that ``text`` shows literally (used for snippets and names)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def highlight(snippet: str, start: str, end: str) -> str:
    """Turn a search snippet with ``start``/``end`` markers into escaped text with bold hits."""
    out = []
    for index, part in enumerate(re.split(f"[{re.escape(start)}{re.escape(end)}]", snippet)):
        text = escape_markdown(" ".join(part.split("\n")))
        out.append(f"**{text}**" if index % 2 and text.strip() else text)
    return "".join(out)


# Preferred places to cut, best first: between stanzas/paragraphs, between lines, between words.
_CUTS = ("\n\n", "\n", " ")


def split_text(text: str, limit: int = PAGE_CHARS) -> list[str]:
    """Split ``text`` into pages of at most ``limit`` characters that join back to ``text``.

    Cuts fall after a blank line if one is in the second half of the page, else after a line
    break, else after a space; only a run of ``limit`` characters with no space at all is cut
    mid-word. Every cut keeps its separator at the end of the page before it, so
    ``"".join(split_text(t)) == t``.
    """
    if limit < 2:
        raise ValueError("limit must be at least 2")
    pages: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit]
        cut = 0
        for separator in _CUTS:
            found = window.rfind(separator, limit // 2)
            if found > 0:
                cut = found + len(separator)
                break
        else:
            cut = window.rfind(" ") + 1  # a space anywhere beats cutting a word
        if cut <= 0:
            cut = limit
            # Never split a surrogate-free character pair such as an emoji with a modifier.
            while cut > 1 and _joins(rest[cut - 1], rest[cut]):
                cut -= 1
        pages.append(rest[:cut])
        rest = rest[cut:]
    if rest or not pages:
        pages.append(rest)
    return pages


def _joins(before: str, after: str) -> bool:
    """True if cutting between the two characters would split a visible character."""
    return after in "\u200d\ufe0f" or before == "\u200d" or "\U0001f3fb" <= after <= "\U0001f3ff"


def shown(page: str) -> str:
    """A page as displayed: surrounding blank lines removed, never empty."""
    return page.strip("\n") or "\u200b"


FENCE = "```"


def page_view(pages: list[str], index: int) -> str:
    """Page ``index`` as displayed: :func:`shown`, with code blocks kept whole on every page.

    A fence (```) opened on one page and closed on a later one would otherwise swallow the
    first page's end and show the next page's code as prose: the page is closed and the next
    one reopened. Emphasis needs no such care: it cannot span the paragraphs pages break at.
    """
    inside = sum(p.count(FENCE) for p in pages[:index]) % 2 == 1
    text = shown(pages[index])
    if inside:
        text = f"{FENCE}\n{text}"
    if (inside + pages[index].count(FENCE)) % 2 == 1:
        text = f"{text}\n{FENCE}"
    return text
