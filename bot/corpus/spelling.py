"""'Did you mean': corrections from the corpus's own vocabulary (FTS5's fts5vocab), with
rapidfuzz for the edit distance. Cached per corpus generation."""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from ..core.db import Database
from .query import SearchQuery, Term
from .store import CorpusStore

#: A known word is still corrected when a neighbour is in this many times more passages...
FAR_MORE = 20
#: ...unless it is in this many passages itself: then it is a word, not a slip (and the
#: search pays nothing for the check).
SURELY_A_WORD = 3
#: Terms kept for suggestions: the most frequent first (a typo's target is rarely a hapax).
MAX_TERMS = 200_000


def allowed_distance(word: str) -> int:
    return 1 if len(word) <= 5 else 2


@dataclass(frozen=True, slots=True)
class _Vocabulary:
    generation: int
    terms: list[str]
    passages: dict[str, int]  # term -> how many passages have it


class Speller:
    def __init__(self, db: Database, corpus: CorpusStore) -> None:
        self.db = db
        self.corpus = corpus
        self._vocabulary: _Vocabulary | None = None

    async def _current(self) -> _Vocabulary:
        generation = await self.corpus.generation()
        if self._vocabulary is None or self._vocabulary.generation != generation:
            rows = await self.db.all(
                """SELECT term, doc FROM passages_vocab WHERE length(term) >= 3
                ORDER BY doc DESC LIMIT ?""",
                (MAX_TERMS,),
            )
            terms = [str(t) for t, _ in rows if str(t).isalpha()]
            counts = {str(t): int(d) for t, d in rows}
            self._vocabulary = _Vocabulary(generation, terms, counts)
        return self._vocabulary

    async def suggest(self, word: str) -> str | None:
        """A better-known spelling of ``word``, or None when it is known well enough."""
        return _suggest(await self._current(), word)

    async def correct(self, query: SearchQuery) -> SearchQuery | None:
        """``query`` with every word the corpus does not know replaced, or None if none is."""
        vocabulary = await self._current()  # one look at the generation for the whole query
        changed = False
        terms: list[Term] = []
        for term in query.terms:
            if term.prefix:
                terms.append(term)
                continue
            words = []
            for w in term.words:
                better = _suggest(vocabulary, w)
                changed |= better is not None
                words.append(better or w)
            terms.append(Term(tuple(words), term.prefix, term.excluded))
        return SearchQuery(tuple(terms), query.notes, query.match_any) if changed else None


def _suggest(vocabulary: _Vocabulary, word: str) -> str | None:
    """A better-known spelling of ``word`` in ``vocabulary``, or None."""
    word = word.casefold()
    if len(word) < 3 or not word.isalpha():
        return None
    known = vocabulary.passages.get(word, 0)
    if known >= SURELY_A_WORD:
        return None
    found = process.extract(
        word,
        vocabulary.terms,
        scorer=Levenshtein.distance,
        score_cutoff=allowed_distance(word),
        limit=20,
    )
    candidates = [(d, -vocabulary.passages[t], t) for t, d, _ in found if t != word]
    if not candidates:
        return None
    _, minus_count, best = min(candidates)
    if known and -minus_count < FAR_MORE * known:
        return None
    return best
