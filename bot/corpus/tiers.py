"""A query's two tiers: its words as typed, then the corpus's other forms of them.

Accents, case and quotes never matter (the index folds them); "e-mail" is also "email" and the
other way round; "weight" also finds "weights", ranked after every passage with "weight".
"""

from __future__ import annotations

from .lexicon import Vocabulary
from .query import STOPWORDS, SearchQuery, Term
from .scoring import Group, Phrase, Shape

#: At most this many other forms of a word are searched with it (the most common first).
MAX_FORMS = 8


def _term_group(term: Term, vocabulary: Vocabulary | None, forms: bool) -> Group:
    phrases = [Phrase(term.words, term.prefix)]
    if vocabulary is not None and len(term.words) > 1 and not term.prefix:
        joined = "".join(term.words)  # "e-mail" is also "email", but "the a" is not "thea"
        if vocabulary.count(joined) and not STOPWORDS.intersection(term.words):
            phrases.append(Phrase((joined,)))
    if forms and vocabulary is not None and len(term.words) == 1 and not term.prefix:
        word = term.words[0]
        phrases += [Phrase((w,)) for w in vocabulary.other_forms(word)[:MAX_FORMS]]
        phrases += [Phrase(pair) for pair in _hyphenated(word, vocabulary)]
    return Group(tuple(phrases))


def _hyphenated(word: str, vocabulary: Vocabulary) -> list[tuple[str, str]]:
    """Ways the corpus may have written ``word`` with a hyphen: "email" as "e-mail"."""
    if len(word) < 5 or not word.isalpha():
        return []
    pairs = [(word[:i], word[i:]) for i in range(1, len(word))]
    # Not "no thing" for "nothing" nor "of ten" for "often": no half may be a stopword.
    return [
        p
        for p in pairs
        if not STOPWORDS.intersection(p)
        and vocabulary.passages.get(p[0])
        and vocabulary.passages.get(p[1])
    ][:3]


def shapes(query: SearchQuery, vocabulary: Vocabulary | None) -> tuple[Shape, Shape | None]:
    """The exact-form tier of ``query`` and, when its words have other forms, the other tier."""
    wanted = [t for t in query.terms if not t.excluded]
    excluded = tuple(_term_group(t, vocabulary, True) for t in query.terms if t.excluded)
    exact = Shape(tuple(_term_group(t, vocabulary, False) for t in wanted), excluded,
                  query.match_any)  # fmt: skip
    widened = tuple(_term_group(t, vocabulary, True) for t in wanted)
    if widened == exact.wanted:
        return exact, None
    return exact, Shape(widened, excluded, query.match_any, minus=exact)
