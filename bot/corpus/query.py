"""Turn whatever a user typed into a safe SQLite FTS5 query.

Supported on purpose: plain words (all must match), ``"exact phrases"``, ``prefix*`` (also
after a phrase: ``"to the"*`` is "to" then any word starting "the") and ``-excluded`` words.
Everything else (FTS operators such as ``AND``/``NEAR``, brackets, column filters, emoji,
punctuation) is treated as text, so no input can be an FTS syntax error: every term reaches
FTS5 as a quoted string.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from ..core.text import escape_markdown
from .tokens import tokens, without_surrogates

MAX_QUERY_CHARS = 300
MAX_TERMS = 12
MIN_PREFIX_CHARS = 2
#: "More like this" keeps a passage's rarest words while together they are in at most this
#: many passages (the rarest one always): a word in thousands of passages says little about
#: what this one is about (its idf is low), and FTS5 takes ~1 µs a passage to rank it. Lucene's
#: MoreLikeThis has the same knob (``maxDocFreq``).
LIKE_PASSAGES = 2000

_PIECE = re.compile(r'(-?)"([^"]*)(?:"(\*)?)?|(\S+)')


@dataclass(frozen=True, slots=True)
class Term:
    """One part of a query: a word, a phrase (several words) or a prefix."""

    words: tuple[str, ...]
    prefix: bool = False
    excluded: bool = False

    def fts(self) -> str:
        quoted = '"' + " ".join(self.words) + '"'
        return quoted + "*" if self.prefix else quoted

    def __str__(self) -> str:
        text = " ".join(self.words)
        if len(self.words) > 1:
            text = f'"{text}"'
        return ("-" if self.excluded else "") + text + ("*" if self.prefix else "")


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """A parsed query. ``expression`` is None when nothing searchable was typed."""

    terms: tuple[Term, ...]
    notes: tuple[str, ...] = field(default=())
    match_any: bool = False  # OR instead of AND (used for "more like this")

    @property
    def expression(self) -> str | None:
        wanted = [t.fts() for t in self.terms if not t.excluded]
        if not wanted:
            return None
        expr = (" OR " if self.match_any else " AND ").join(wanted)
        for t in self.terms:
            if t.excluded:
                expr = f"({expr}) NOT {t.fts()}"
        return expr

    def __str__(self) -> str:
        return " ".join(str(t) for t in self.terms)


def parse_query(text: str) -> SearchQuery:
    """Parse user input into a :class:`SearchQuery`; never raises."""
    notes: list[str] = []
    text = without_surrogates(text)
    text = text.replace("\u201c", '"').replace("\u201d", '"')  # curly quotes from phones
    if len(text) > MAX_QUERY_CHARS:
        text = text[:MAX_QUERY_CHARS]
        notes.append(f"Only the first {MAX_QUERY_CHARS} characters were searched.")
    terms: list[Term] = []
    for match in _PIECE.finditer(text):
        minus, phrase, starred, bare = match.groups()
        if phrase is not None:
            typed, words = match.group(), tuple(tokens(phrase))
            excluded, prefix = bool(minus), bool(starred)
        else:
            typed, words = bare, tuple(tokens(bare))
            excluded, prefix = bare.startswith("-") and len(bare) > 1, bare.endswith("*")
        if not words:
            continue
        if prefix and len(words[-1]) < MIN_PREFIX_CHARS:
            notes.append(
                f"Prefixes need at least {MIN_PREFIX_CHARS} letters: searched "
                f"“{escape_markdown(typed[:40])}” as a {'phrase' if phrase else 'word'}."
            )
            prefix = False
        # "don't" or "e-mail" become several adjacent tokens: FTS5 then matches the phrase.
        terms.append(Term(words, prefix=prefix, excluded=excluded))
    if len(terms) > MAX_TERMS:
        notes.append(f"Only the first {MAX_TERMS} words were searched.")
        terms = terms[:MAX_TERMS]
    if terms and all(t.excluded for t in terms):
        notes.append("Add a word to look for; - only excludes words.")
    return SearchQuery(tuple(terms), tuple(notes))


STOPWORDS = frozenset(
    """
    a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further
    had has have having he her here hers herself him himself his how i if in into is it its
    itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself yourselves
    s t don doesn didn isn wasn weren won ll re ve d m o y
    """.split()
)


def similarity_query(
    text: str, passages_with: Callable[[str], int] | None = None, max_terms: int = 8
) -> SearchQuery:
    """An OR-style query of a passage's most distinctive words, for "more like this".

    "Distinctive" means: not a stopword, then in the fewest passages when ``passages_with``
    (the corpus's counts) is given, and at most LIKE_PASSAGES together, else the longest (long
    words are rarer in English); ties by first occurrence.
    """
    seen: dict[str, int] = {}
    for index, word in enumerate(tokens(without_surrogates(text))):
        if len(word) > 2 and word not in STOPWORDS and word not in seen:
            seen[word] = index
    if passages_with is not None:
        chosen: list[str] = []
        together = 0
        for word in sorted(seen, key=lambda w: (passages_with(w), seen[w]))[:max_terms]:
            together += passages_with(word)
            if chosen and together > LIKE_PASSAGES:
                break
            chosen.append(word)
    else:
        chosen = sorted(seen, key=lambda w: (-len(w), seen[w]))[:max_terms]
    return SearchQuery(tuple(Term((w,)) for w in chosen), match_any=True)
