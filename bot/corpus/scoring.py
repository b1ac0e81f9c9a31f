"""Matching and bm25 in Python, equal to FTS5's for the passages a search ranks itself.

FTS5's ``bm25()`` first counts, for every phrase of the query, the passages that contain it: a
walk over the whole index entry of "the" (150 ms at 1M passages) before the first score. A
search that knows those counts already (the vocabulary) scores its few candidates here instead,
with the same formula (``fts5_aux.c``): k1 = 1.2, b = 0.75, column weights, idf floored at 1e-6.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from .tokens import tokens

K1 = 1.2
B = 0.75
#: Column weights of (text, title, author): the same as the SQL ranking uses.
WEIGHTS = (1.0, 0.5, 0.5)
_TEXT, _TITLE, _AUTHOR = WEIGHTS


@dataclass(frozen=True, slots=True)
class Phrase:
    """Consecutive indexed words; the last one may be a prefix."""

    words: tuple[str, ...]
    prefix: bool = False

    def fts(self) -> str:
        quoted = '"' + " ".join(self.words) + '"'
        return quoted + "*" if self.prefix else quoted


@dataclass(frozen=True, slots=True)
class Group:
    """One query term: any of its phrases (a word and its other forms) counts as the term."""

    phrases: tuple[Phrase, ...]

    def fts(self) -> str:
        inner = " OR ".join(p.fts() for p in self.phrases)
        return f"({inner})" if len(self.phrases) > 1 else inner


@dataclass(frozen=True, slots=True)
class Shape:
    """A query as FTS5 runs it: wanted groups (all, or any), excluded groups, and optionally
    another shape whose matches are left out (the exact-form results, for the other forms)."""

    wanted: tuple[Group, ...]
    excluded: tuple[Group, ...] = ()
    match_any: bool = False
    minus: Shape | None = field(default=None)

    def fts(self) -> str:
        expr = (" OR " if self.match_any else " AND ").join(g.fts() for g in self.wanted)
        for group in self.excluded:
            expr = f"({expr}) NOT {group.fts()}"
        if self.minus is not None:
            expr = f"({expr}) NOT ({self.minus.fts()})"
        return expr


def positions(words: list[str], phrase: Phrase) -> list[int]:
    """Where ``phrase`` starts in ``words``."""
    n = len(phrase.words)
    first, last = phrase.words[0], phrase.words[-1]
    if n == 1 and phrase.prefix:
        return [i for i, w in enumerate(words) if w.startswith(first)]
    found: list[int] = []
    i = -1
    while True:
        try:  # list.index finds the first word at C speed; most passages have few
            i = words.index(first, i + 1)
        except ValueError:
            return found
        if i + n > len(words):
            return found
        tail = words[i + n - 1]
        if (tail.startswith(last) if phrase.prefix else tail == last) and all(
            words[i + k] == phrase.words[k] for k in range(1, n - 1)
        ):
            found.append(i)


@dataclass(slots=True)
class Candidate:
    """One passage as the scorer sees it: its columns' words and its indexed length."""

    rowid: int
    columns: tuple[list[str], list[str], list[str]]  # text, title, author
    length: int  # all columns, as FTS5 counts it (its docsize table)
    #: Each column's words counted: a single word's frequency without walking the column.
    counts: tuple[Counter[str], ...] = ()

    @classmethod
    def of(cls, rowid: int, text: str, title: str, author: str | None, length: int) -> Candidate:
        columns = (tokens(text), _tokens_of(title), _tokens_of(author or ""))
        return cls(rowid, columns, length, tuple(Counter(c) for c in columns))


_tokens_of = lru_cache(maxsize=4096)(tokens)  # titles and authors repeat: one per document


def frequency(candidate: Candidate, group: Group) -> float:
    """The group's weighted count of occurrences in the passage, all its phrases together."""
    return sum(phrase_frequency(candidate, p) for p in group.phrases)


def phrase_frequency(candidate: Candidate, phrase: Phrase) -> float:
    """The phrase's weighted count of occurrences in the passage (FTS5's ``aFreq``)."""
    if candidate.counts and len(phrase.words) == 1 and not phrase.prefix:
        word = phrase.words[0]
        text, title, author = candidate.counts  # read for every phrase of every candidate
        return _TEXT * text[word] + _TITLE * title[word] + _AUTHOR * author[word]
    total = 0.0
    for weight, words in zip(WEIGHTS, candidate.columns, strict=True):
        total += weight * len(positions(words, phrase))
    return total


def matches(candidate: Candidate, shape: Shape) -> bool:
    """Whether FTS5 would return the passage for ``shape``."""
    return _matches(candidate, shape, [frequency(candidate, g) for g in shape.wanted])


def _matches(candidate: Candidate, shape: Shape, tfs: list[float]) -> bool:
    present = [tf > 0 for tf in tfs]
    if not (any(present) if shape.match_any else all(present)):
        return False
    if any(frequency(candidate, g) > 0 for g in shape.excluded):
        return False
    return shape.minus is None or not matches(candidate, shape.minus)


def idf(passages: int, containing: int) -> float:
    """FTS5's inverse document frequency, floored so a word in most passages still counts."""
    value = math.log((passages - containing + 0.5) / (containing + 0.5))
    return value if value > 0 else 1e-6


def bm25(
    candidate: Candidate, shape: Shape, idfs: Sequence[Sequence[float]], avgdl: float
) -> float | None:
    """FTS5's ``bm25(passages_fts, 1.0, 0.5, 0.5)`` (negative, lower is better), or None when
    the passage does not match ``shape``. ``idfs`` go with ``shape.wanted``, one for each of a
    group's phrases: FTS5 scores each phrase of a query on its own (``weight OR weights`` is two
    phrases, each with its own idf and count)."""
    norm = K1 * (1 - B + B * candidate.length / avgdl)
    tfs: list[float] = []
    score = 0.0
    for group, weights in zip(shape.wanted, idfs, strict=True):
        total = 0.0
        for phrase, weight in zip(group.phrases, weights, strict=True):
            tf = phrase_frequency(candidate, phrase)
            if tf:  # a phrase absent adds nothing (0.0 exactly)
                total += tf
                score += weight * (tf * (K1 + 1)) / (tf + norm)
        tfs.append(total)
    if not _matches(candidate, shape, tfs):
        return None
    return -score


def impact(tf: float, length: int, avgdl: float) -> float:
    """A word's bm25 in one passage without its idf: orders the passages for a one-word query."""
    return tf / (tf + K1 * (1 - B + B * length / avgdl))


def varints(blob: bytes) -> list[int]:
    """SQLite's variable-length integers, as FTS5 stores its sizes."""
    out, i = [], 0
    while i < len(blob):
        value = 0
        for k in range(9):
            byte = blob[i]
            i += 1
            if k == 8:
                value = (value << 8) | byte
                break
            value = (value << 7) | (byte & 0x7F)
            if not byte & 0x80:
                break
        out.append(value)
    return out


def index_averages(block: bytes) -> tuple[int, float]:
    """(passages, average length) from FTS5's averages record (``_data`` row 1)."""
    numbers = varints(block)
    rows = numbers[0] if numbers else 0
    return rows, (sum(numbers[1:]) / rows if rows else 1.0)
