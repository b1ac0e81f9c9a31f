"""'Did you mean': corrections from the corpus's own vocabulary (see ``lexicon.py``), with
rapidfuzz for the edit distance."""

from __future__ import annotations

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from .lexicon import Lexicon, Vocabulary
from .query import SearchQuery, Term

#: A known word is still corrected when a neighbour is in this many times more passages...
FAR_MORE = 20
#: ...unless it is in this many passages itself: then it is a word, not a slip (and the
#: search pays nothing for the check).
SURELY_A_WORD = 3


def allowed_distance(word: str) -> int:
    return 1 if len(word) <= 5 else 2


class Speller:
    """Suggestions from the vocabulary of the current corpus, or of a recent one."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon

    async def suggest(self, word: str) -> str | None:
        """A better-known spelling of ``word``, or None when it is known well enough."""
        vocabulary = await self.lexicon.current()
        return _suggest(vocabulary, word) if vocabulary else None

    async def correct(self, query: SearchQuery) -> SearchQuery | None:
        """``query`` with every word the corpus does not know replaced, or None if none is."""
        vocabulary = await self.lexicon.current()  # one look at the generation for the whole query
        if vocabulary is None:
            return None
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


def _suggest(vocabulary: Vocabulary, word: str) -> str | None:
    """A better-known spelling of ``word`` in ``vocabulary``, or None."""
    word = word.casefold()
    if len(word) < 3 or not word.isalpha():
        return None
    known = vocabulary.passages.get(word, 0)
    if known >= SURELY_A_WORD:
        return None
    found = process.extract(
        word,
        vocabulary.spellable,
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
