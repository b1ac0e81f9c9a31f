"""Typesetting a passage for a card, without drawing anything (pure, given a measure).

Text is Discord Markdown: ``*italic*`` and ``**bold**`` become styled fragments, never
asterisks. A poem keeps every line break; prose wraps by measured width, never mid-word, and
is balanced: the narrowest measure that keeps the same number of lines is used, so the last
line is not a lone word when that can be avoided. The size is the largest between ``MAX_SIZE``
and ``MIN_SIZE`` that fits; a passage too long even at the minimum becomes an excerpt from its
start that ends at a sentence or a line, with an ellipsis.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from ..core.markdown import inline_runs

MAX_SIZE = 64
MIN_SIZE = 30  # about 15 px on a phone showing the card 540 px wide: still comfortable
STEP = 2
LINE_HEIGHT = 1.42  # times the size
STANZA_GAP = 0.6  # an empty line between stanzas or paragraphs, times the line height
ELLIPSIS = "…"

Fragment = tuple[str, frozenset[str]]  # text and its styles ("bold", "italic", ...)
#: Width of a fragment at size 100; widths at other sizes scale linearly.
Measure = Callable[[str, frozenset[str]], float]

_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*(?=\s)")


@dataclass(frozen=True, slots=True)
class Word:
    fragments: tuple[Fragment, ...]

    @property
    def text(self) -> str:
        return "".join(t for t, _ in self.fragments)


@dataclass(frozen=True, slots=True)
class Line:
    words: tuple[Word, ...]
    gap_before: bool = False  # a blank line above it (a new stanza or paragraph)


@dataclass(frozen=True, slots=True)
class Layout:
    size: int
    lines: tuple[Line, ...]
    excerpt: bool  # cut short: the card says it continues in Lectern

    @property
    def line_height(self) -> float:
        return self.size * LINE_HEIGHT

    @property
    def height(self) -> float:
        gaps = sum(1 for line in self.lines if line.gap_before)
        return self.line_height * (len(self.lines) + STANZA_GAP * gaps)


def blocks(markdown: str) -> list[list[list[Word]]]:
    """Stanzas or paragraphs (split at blank lines), each a list of source lines of words."""
    out: list[list[list[Word]]] = []
    for block in re.split(r"\n[ \t]*\n+", markdown.strip()):
        lines = [_words(line) for line in block.split("\n")]
        lines = [line for line in lines if line]
        if lines:
            out.append(lines)
    return out


def _words(line: str) -> list[Word]:
    words: list[Word] = []
    current: list[Fragment] = []
    for text, styles in inline_runs(line):
        for index, piece in enumerate(re.split(r"(\s+)", text)):
            if index % 2:  # whitespace: the end of a word
                if current:
                    words.append(Word(tuple(current)))
                    current = []
            elif piece:
                current.append((piece, styles))
    if current:
        words.append(Word(tuple(current)))
    return words


class Setter:
    """Lays out words within a width, measuring each word once."""

    def __init__(self, measure: Measure) -> None:
        self.measure = measure
        self._widths: dict[Word, float] = {}
        self.space = measure(" ", frozenset())

    def width(self, word: Word, size: float) -> float:
        base = self._widths.get(word)
        if base is None:
            base = self._widths[word] = sum(self.measure(t, s) for t, s in word.fragments)
        return base * size / 100

    def split_long(self, word: Word, width: float, size: float) -> list[Word]:
        """A word wider than the card (a URL, a run of letters with no space) in pieces that
        fit: the one place a word is cut, since it cannot be set whole at any size."""
        pieces: list[Word] = []
        current: list[Fragment] = []
        used = 0.0
        for text, styles in word.fragments:
            for char in text:
                w = self.measure(char, styles) * size / 100
                if current and used + w > width:
                    pieces.append(Word(tuple(current)))
                    current, used = [], 0.0
                if current and current[-1][1] == styles:
                    current[-1] = (current[-1][0] + char, styles)
                else:
                    current.append((char, styles))
                used += w
        if current:
            pieces.append(Word(tuple(current)))
        return pieces

    def greedy(self, words: list[Word], width: float, size: float) -> list[list[Word]]:
        lines: list[list[Word]] = []
        line: list[Word] = []
        used = 0.0
        space = self.space * size / 100
        if any(self.width(word, size) > width for word in words):
            words = [
                piece
                for word in words
                for piece in (
                    self.split_long(word, width, size) if self.width(word, size) > width else [word]
                )
            ]
        for word in words:
            w = self.width(word, size)
            if line and used + space + w > width:
                lines.append(line)
                line, used = [], 0.0
            used += (space if line else 0.0) + w
            line.append(word)
        if line:
            lines.append(line)
        return lines

    def balanced(self, words: list[Word], width: float, size: float) -> list[list[Word]]:
        """The greedy lines at the narrowest width that needs no more of them."""
        lines = self.greedy(words, width, size)
        if len(lines) <= 1:
            return lines
        # Never narrower than the widest word: balancing must not cut a word that fits.
        widest = max(self.width(word, size) for word in words)
        low, high = max(width * 0.55, min(widest, width)), width
        while high - low > 2:
            middle = (low + high) / 2
            if len(self.greedy(words, middle, size)) <= len(lines):
                high = middle
            else:
                low = middle
        return self.greedy(words, high, size)

    def lay_out(
        self, markdown: str, width: float, size: int, *, poem: bool, balance: bool = True
    ) -> list[Line]:
        lines: list[Line] = []
        for block in blocks(markdown):
            first = True
            # A poem keeps every line as written (wrapped only when wider than the card);
            # prose joins its lines into one paragraph.
            sources = block if poem else [[word for source in block for word in source]]
            for source in sources:
                wrapped = (self.balanced if balance else self.greedy)(source, width, size)
                for words in wrapped:
                    lines.append(Line(tuple(words), gap_before=first and bool(lines)))
                    first = False
        return lines


def fit(markdown: str, setter: Setter, *, width: float, max_height: float, poem: bool) -> Layout:
    """The largest size at which ``markdown`` fits, or an excerpt at the smallest. A poem
    first looks for a size at which none of its lines has to wrap."""

    def quick(text: str, size: int) -> Layout:  # greedy lines: as many as balanced ones
        return Layout(
            size, tuple(setter.lay_out(text, width, size, poem=poem, balance=False)), False
        )

    def final(text: str, size: int, excerpt: bool) -> Layout:
        return Layout(size, tuple(setter.lay_out(text, width, size, poem=poem)), excerpt)

    if quick(markdown, MIN_SIZE).height <= max_height:
        written = sum(len(block) for block in blocks(markdown))
        passes = (True, False) if poem else (False,)
        for whole_lines in passes:
            for size in range(MAX_SIZE, MIN_SIZE - 1, -STEP):
                layout = quick(markdown, size)
                wraps = len(layout.lines) != written
                if layout.height <= max_height and not (whole_lines and wraps):
                    return final(markdown, size, False)
    # Too long even at the smallest size: the longest excerpt that fits (fitting grows with
    # the excerpt, so a binary search over the places it may end finds it).
    cuts = sorted(excerpt_cuts(markdown, poem=poem))
    low, high, best = 0, len(cuts) - 1, None
    while low <= high:
        middle = (low + high) // 2
        text = markdown[: cuts[middle]].rstrip() + ELLIPSIS
        if quick(text, MIN_SIZE).height <= max_height:
            best, low = text, middle + 1
        else:
            high = middle - 1
    if best is None:  # not even a sentence fits: an empty excerpt
        return Layout(MIN_SIZE, (), True)
    return final(best, MIN_SIZE, True)


def excerpt_cuts(markdown: str, *, poem: bool) -> list[int]:
    """Where an excerpt may end, longest first: after a line (poems), else after a sentence,
    else after a word."""
    if poem:
        ends = [m.start() for m in re.finditer(r"\n", markdown)]
    else:
        ends = [m.end() for m in _SENTENCE_END.finditer(markdown)]
    words = [m.start() for m in re.finditer(r"\s", markdown)]
    if not poem:  # a first sentence too long for the card still gives whole words
        first = min(ends) if ends else len(markdown)
        ends += [w for w in words if w < first]
    if not ends:
        ends = words
    return sorted((e for e in ends if 0 < e < len(markdown)), reverse=True)
