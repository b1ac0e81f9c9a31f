"""Discord's inline Markdown as styled runs of text (pure): for the console and the cards."""

from __future__ import annotations

import re

# Longest markers first; a backslash escapes the next character; _x_ only between words.
_INLINE = re.compile(
    r"\\(?P<escaped>.)|\*\*(?P<bold>.+?)\*\*|__(?P<underline>.+?)__|\*(?P<italic>[^*\n]+?)\*"
    r"|(?<!\w)_(?P<italic2>[^_\n]+?)_(?!\w)|~~(?P<strike>.+?)~~|\|\|(?P<spoiler>.+?)\|\|"
    r"|`(?P<code>[^`\n]+?)`",
    re.DOTALL,
)
_STYLE = {"italic2": "italic"}

Run = tuple[str, frozenset[str]]


def inline_runs(markdown: str, styles: frozenset[str] = frozenset()) -> list[Run]:
    """``A **bold** word`` → ``[("A ", {}), ("bold", {"bold"}), (" word", {})]``: markers
    and escaping backslashes gone, every line break kept, nested styles combined."""
    runs: list[Run] = []
    position = 0
    for match in _INLINE.finditer(markdown):
        if match.start() > position:
            runs.append((markdown[position : match.start()], styles))
        kind = match.lastgroup or "escaped"
        inner = match.group(kind)
        if kind == "escaped":
            runs.append((inner, styles))
        elif kind == "code":
            runs.append((inner, styles | {"code"}))
        else:
            runs += inline_runs(inner, styles | {_STYLE.get(kind, kind)})
        position = match.end()
    if position < len(markdown):
        runs.append((markdown[position:], styles))
    return runs
