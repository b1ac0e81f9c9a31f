"""Text utilities, pure: clip at a word, escape Discord Markdown, highlight, split into pages."""

from __future__ import annotations

import re

ELLIPSIS = "…"
#: Text per page: within the 4,000 characters a Components V2 message shows in all, leaving
#: room for its heading and subtext (and for closing and reopening a split code block).
PAGE_CHARS = 3400
FENCE = "```"

_MARKDOWN_SPECIAL = re.compile(r"([\\*_~`|>#\[\]])")
# Preferred places to cut, best first: between stanzas/paragraphs, between lines, between words.
_CUTS = ("\n\n", "\n", " ")


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters at a word boundary, with an ellipsis if cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip() + ELLIPSIS


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


def split_text(text: str, limit: int = PAGE_CHARS) -> list[str]:
    """Split ``text`` into pages of at most ``limit`` characters that join back to ``text``.

    Cuts fall after the last blank line past the first quarter of the page (so a stanza or a
    paragraph is split only when it alone is too long), else after a line break in its second
    half, else after a space; only a run of ``limit`` characters with no space at all is cut
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
            found = window.rfind(separator, limit // 4 if separator == "\n\n" else limit // 2)
            if found > 0:
                cut = found + len(separator)
                break
        else:
            cut = window.rfind(" ") + 1  # a space anywhere beats cutting a word
        if cut <= 0:
            cut = limit
            # Never split a visible character such as an emoji with a modifier.
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
