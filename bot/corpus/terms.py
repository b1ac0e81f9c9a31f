"""What a query's terms are, as the vocabulary and the champion lists see them (pure)."""

from __future__ import annotations

import bisect
import itertools
import math

from . import champions
from .champions import PREFIX_LENGTHS, listed_pair, pair_key
from .lexicon import Vocabulary
from .scoring import Group, Phrase, Shape, idf

#: A common prefix draws on the champion lists of at most this many of its words.
PREFIX_WORDS = 12
#: Scoring one match costs FTS5 about as much as walking this many index entries per phrase
#: of the query (measured: 0.03-0.06 µs an entry, 2 µs a match of one word)...
FTS_MATCH = 40
#: ...but a match of any of several words ("more like this") has one or two of them, and
#: FTS5 passes the others by: 1.4 µs a match of any of eight at 100k passages (1.5 ms plus
#: that, for 300 to 6,000 matches), where FTS_MATCH a phrase priced it at 10-19 µs...
FTS_MATCH_ANY = 6
#: ...a phrase's entries cost this many times a word's, as their positions are read too...
FTS_POSITIONS = 2
#: ...and words co-occur up to this many times more often than if they were independent.
FTS_MARGIN = 4
#: FTS5 ranks a query itself up to this cost (10-15 ms at worst on the project's machine; for
#: two words at 1M passages its p99 is still below the champion lists').
FTS_BUDGET = 300_000
#: A phrase ending in a prefix ("to the"*) up to this many times FTS_BUDGET: its lists only
#: guide (no bound, no proof), and the guided path, reading up to 300 passages, took as long
#: at 100k passages (38 ms first run) for a recall@5 of 0.65; FTS5 is exact.
GUIDED_TIMES = 3


def list_key(group: Group) -> str | None:
    """The key of the group's own champion list: its word when it is a single plain word,
    "th*" when it is a short prefix (see ``champions.PREFIX_LENGTHS``), "of the" when it is a
    phrase of two words (a list only pairs with a stopword have: ``champions.listed_pair``)."""
    if len(group.phrases) != 1:
        return None
    phrase = group.phrases[0]
    if len(phrase.words) == 2 and not phrase.prefix:
        return pair_key(*phrase.words)
    if len(phrase.words) != 1:
        return None
    if not phrase.prefix:
        return phrase.words[0]
    return phrase.words[0] + "*" if len(phrase.words[0]) in PREFIX_LENGTHS else None


def is_one_word(shape: Shape) -> bool:
    """One word or short prefix, whose own list is its whole ranking."""
    return len(shape.wanted) == 1 and plain(shape) and len(shape.wanted[0].phrases[0].words) == 1


def plain(shape: Shape) -> bool:
    """Plain words only, nothing excluded: a passage's list impacts are its whole score."""
    return (
        not shape.excluded
        and shape.minus is None
        and all(list_key(g) is not None for g in shape.wanted)
    )


def prefix_terms(vocabulary: Vocabulary, prefix: str) -> list[str]:
    """The vocabulary's words starting with ``prefix``, most common first."""
    ordered = vocabulary.sorted_terms()
    start = bisect.bisect_left(ordered, prefix)
    found = []
    for term in ordered[start:]:
        if not term.startswith(prefix):
            break
        found.append(term)
    found.sort(key=lambda t: -vocabulary.passages[t])
    return found


def phrase_count(phrase: Phrase, vocabulary: Vocabulary, rows: int) -> int:
    """At most how many passages have ``phrase`` (exact for a single word)."""
    counts = [vocabulary.count(w) for w in phrase.words[:-1]]
    last = phrase.words[-1]
    if phrase.prefix:
        known = sum(vocabulary.passages[t] for t in prefix_terms(vocabulary, last))
        counts.append(min(rows, known))
    else:
        counts.append(vocabulary.count(last))
    return min(counts)


def pair_keys(phrase: Phrase) -> list[str]:
    """The keys of a phrase's pairs of whole words: "the of of" -> "the of", "of of". A
    passage has the phrase at most as often as each of them."""
    return [pair_key(a, b) for a, b in _whole_pairs(phrase)]


def _whole_pairs(phrase: Phrase) -> list[tuple[str, str]]:
    """A phrase's pairs of whole words, in order (a trailing prefix is no whole word)."""
    return list(itertools.pairwise(phrase.words[:-1] if phrase.prefix else phrase.words))


def listed_keys(group: Group, vocabulary: Vocabulary, rows: int) -> list[str]:
    """The keys of a one-phrase group's pairs that have a list wherever they occur
    (``champions.listed_pair``): with the lists fresh, such a pair without one is in no
    passage, and so is the phrase."""
    if len(group.phrases) != 1:
        return []
    return [
        pair_key(a, b)
        for a, b in _whole_pairs(group.phrases[0])
        if listed_pair(vocabulary.count(a), vocabulary.count(b), rows, champions.CHAMPION_DF)
    ]


def group_count(group: Group, vocabulary: Vocabulary, rows: int) -> int:
    return min(rows, sum(phrase_count(p, vocabulary, rows) for p in group.phrases))


def group_terms(group: Group, vocabulary: Vocabulary) -> list[str]:
    """The words whose champion lists hold a group's best candidates."""
    own = list_key(group)
    if own is not None and own.endswith("*"):
        return [own]  # a short prefix: its own list, then its words' as a guide
    terms: list[str] = []
    for phrase in group.phrases:
        terms += pair_keys(phrase)
        if phrase.prefix and len(phrase.words) > 1:  # "to the*": "to the", "to their", ...
            before = phrase.words[-2]
            ends = prefix_terms(vocabulary, phrase.words[-1])[:PREFIX_WORDS]
            terms += [pair_key(before, t) for t in ends]
        terms += phrase.words[:-1] if phrase.prefix else phrase.words
        if phrase.prefix:
            terms += prefix_terms(vocabulary, phrase.words[-1])[:PREFIX_WORDS]
    return list(dict.fromkeys(terms))


def guide_terms(group: Group, vocabulary: Vocabulary) -> list[str]:
    return [
        t
        for p in group.phrases
        if p.prefix
        for t in prefix_terms(vocabulary, p.words[-1])[:PREFIX_WORDS]
    ]


def champion_terms(shape: Shape, vocabulary: Vocabulary) -> set[str]:
    return {t for g in shape.wanted for t in group_terms(g, vocabulary)}


def fts_cost(shape: Shape, counts: list[int], vocabulary: Vocabulary, rows: int) -> float:
    """About what FTS5's own ``ORDER BY bm25`` costs for ``shape``, in index entries walked:
    it walks every word's whole entry (to count each phrase; a phrase's words with their
    positions) and then scores every match, which costs about FTS_MATCH entries a phrase.
    ``counts`` go with ``shape.wanted``."""
    walked = fts_walk(shape, vocabulary, rows)
    if shape.match_any:
        matches = float(sum(counts))
    else:  # as if the groups were independent, with a margin: words keep company
        matches = min(min(counts), rows * math.prod(n / rows for n in counts) * FTS_MARGIN)
    phrases = sum(len(g.phrases) for g in shape.wanted)  # bm25 visits each, match by match
    per_phrase = FTS_MATCH_ANY if shape.match_any else FTS_MATCH
    return walked + per_phrase * phrases * matches


def fts_walk(shape: Shape, vocabulary: Vocabulary, rows: int) -> int:
    """The index entries FTS5 walks for ``shape`` at most: every word's whole entry, wanted,
    excluded or left out, a phrase's twice (its positions are read too)."""
    walked = 0
    for group in (*shape.wanted, *shape.excluded, *(shape.minus.wanted if shape.minus else ())):
        for phrase in group.phrases:
            words = sum(vocabulary.count(w) for w in phrase.words[:-1])
            words += phrase_count(Phrase(phrase.words[-1:], phrase.prefix), vocabulary, rows)
            walked += words * (FTS_POSITIONS if len(phrase.words) > 1 else 1)
    return walked


def cheap_for_fts(
    shape: Shape, counts: list[int], vocabulary: Vocabulary, rows: int, rare: int
) -> bool:
    """Whether FTS5 ranks every match about as fast as the other ways would: its estimated
    cost is at most FTS_BUDGET (GUIDED_TIMES that with a phrase ending in a prefix, which the
    lists cannot rank exactly), or the query is one phrase in at most ``rare`` passages
    (listing its matches walks the same index entries, and FTS5 scores them in C, five times
    faster than reading and scoring them in Python)."""
    budget = FTS_BUDGET * (GUIDED_TIMES if prefix_phrase(shape) else 1)
    cheap = fts_cost(shape, counts, vocabulary, rows) <= budget
    return cheap or (_alone(shape) and counts[0] <= rare)


def one_phrase(shape: Shape) -> bool:
    """One phrase of several words, nothing else."""
    phrases = shape.wanted[0].phrases if _alone(shape) else ()
    return len(phrases) == 1 and len(phrases[0].words) > 1


def maybe_rare(
    shape: Shape, counts: list[int], vocabulary: Vocabulary, rows: int, few: int
) -> bool:
    """A phrase (not a listed pair, no prefix) or a sentence of common words that may be in
    at most ``few`` passages: worth a try on FTS5 before the lists. Not for a query with a
    listed pair ("the of of", which the pairs' lists bound) when FTS5 would walk more than
    FTS_BUDGET entries: it counts each phrase's passages, positions and all, before it ranks
    one, and that alone outlasts the try (``"to the" "in a"``: 24 ms at 100k passages)."""
    if one_phrase(shape) and paired_or_prefix(shape, vocabulary, rows):
        return False
    paired = any(listed_keys(g, vocabulary, rows) for g in shape.wanted)
    if paired and fts_walk(shape, vocabulary, rows) > FTS_BUDGET:
        return False
    return one_phrase(shape) or few_together(shape, counts, vocabulary, rows, few)


def few_together(
    shape: Shape, counts: list[int], vocabulary: Vocabulary, rows: int, few: int
) -> bool:
    """Several groups, all wanted and without a prefix, whose words would be together in at
    most ``few`` passages if they were independent (times FTS_MARGIN): a sentence of common
    words. FTS5 jumps each word's entry to the next passage that has the others, so it may
    find them all fast however long the entries are; only trying tells. Not past twice
    FTS_BUDGET entries: a query with no match then runs to its end, past the try (41 ms for
    six words and "it" at 1M passages)."""
    if shape.match_any or len(shape.wanted) < 2 or any(map(_prefixed, shape.wanted)):
        return False  # FTS5 merges a prefix's words before its first match: past the try
    if fts_walk(shape, vocabulary, rows) > 2 * FTS_BUDGET:
        return False
    return rows * math.prod(n / rows for n in counts) * FTS_MARGIN <= few


def rarest(
    shape: Shape, counts: list[int], vocabulary: Vocabulary, rows: int, few: int
) -> Shape | None:
    """The fewest of the rarest groups (no prefix) of several all wanted, which every match
    has, that would be together in at most ``few`` passages if they were independent (words
    keep company: if they would be in more, they are, and listing them is a walk for
    nothing). None when that is the whole query or they are common: walking them (a phrase's
    every word, with positions) could cost more than FTS_BUDGET entries."""
    if shape.match_any or len(shape.wanted) < 3:
        return None
    unfixed = [i for i, g in enumerate(shape.wanted) if not _prefixed(g)]
    order = sorted(unfixed, key=counts.__getitem__)
    together, walked = float(rows), 0
    for taken, i in enumerate(order[: len(shape.wanted) - 1], start=1):
        together *= counts[i] / rows
        walked += fts_walk(Shape((shape.wanted[i],)), vocabulary, rows)
        if walked > FTS_BUDGET:
            return None
        if taken >= 2 and together <= few:
            return Shape(tuple(shape.wanted[k] for k in sorted(order[:taken])))
    return None


def single_words(shape: Shape, vocabulary: Vocabulary) -> bool:
    """Every wanted phrase is one word, no prefix, whose passage count is known exactly: then
    Python's bm25 (``scoring``) is FTS5's, a group of forms (``weight OR weights``) too."""
    return all(
        len(p.words) == 1 and not p.prefix and vocabulary.knows(p.words[0])
        for g in shape.wanted
        for p in g.phrases
    )


def phrase_idfs(
    shape: Shape, counts: list[int], vocabulary: Vocabulary, rows: int
) -> list[tuple[float, ...]]:
    """The idf of each wanted group's every phrase, as FTS5 gives each phrase its own: a group
    of one phrase from its ``counts`` entry (which may know a listed pair's passages), the
    phrases of a group of forms each from its own count."""
    return [
        (idf(rows, n),)
        if len(g.phrases) == 1
        else tuple(idf(rows, phrase_count(p, vocabulary, rows)) for p in g.phrases)
        for g, n in zip(shape.wanted, counts, strict=True)
    ]


def _prefixed(group: Group) -> bool:
    return any(p.prefix for p in group.phrases)


def _alone(shape: Shape) -> bool:
    """One group wanted, nothing excluded."""
    return len(shape.wanted) == 1 and not shape.excluded and shape.minus is None


def prefix_phrase(shape: Shape) -> bool:
    """Some phrase of several words ends in a prefix (\"to the\"*)."""
    return any(p.prefix and len(p.words) > 1 for g in shape.wanted for p in g.phrases)


def paired_or_prefix(shape: Shape, vocabulary: Vocabulary, rows: int) -> bool:
    """A pair with a list of its own (``champions.listed_pair``), or a prefix, which FTS5
    expands before its first match, longer than a try."""
    return one_pair(shape, vocabulary, rows) or shape.wanted[0].phrases[0].prefix


def one_pair(shape: Shape, vocabulary: Vocabulary, rows: int) -> bool:
    """One phrase of two words, nothing else, with a list of its own: like one word's, the
    list is its ranking, and it counts the pair's passages."""
    plain_pair = one_phrase(shape) and plain(shape)  # a phrase with a list key: two words
    return plain_pair and bool(listed_keys(shape.wanted[0], vocabulary, rows))
