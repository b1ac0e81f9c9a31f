"""The two ways the dense arrays (``dense.py``) rank a query of single words exactly.

1. **Every word has an array** (``it in when the i in``): the arrays are ANDed and every
   match scored in numpy (``dense.ranked``).
2. **Some words have one** (``being the daym a the to``): FTS5 lists the passages with the
   others, which are rarer (``daym`` and ``being``: 419 passages at 1M, in 1 ms, where ranking
   the sentence takes FTS5 40-60 ms as it steps through ``the`` and ``to``). The arrays keep
   those with the common words too: every match (231), read and scored from their text. The
   rarest-words sieve (``terms.rarest``) cannot do it: ``daym`` and ``being`` with any third word
   would be in more than the 150 passages it reads, and ``a`` or ``to`` cost a long walk.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable

import numpy as np

from . import dense, terms
from .champions import Champions
from .from_lists import Scorer
from .fts_order import Order
from .lexicon import Vocabulary
from .scoring import Group, Phrase, Shape
from .texts import Stats, best_first

#: The others' passages are listed when they would be together in at most this many if
#: independent, and are (5,000 rowids: 2-3 ms)...
LISTED_MOST = 5_000
#: ...and every match is read and scored when at most this many have the common words too
#: (34 µs a passage at 1M once its page is in memory: 10 ms).
READ_MOST = 300

#: Matches of a shape in rowid order, at most ``limit``: ``Ranker._listed``.
Lister = Callable[[Shape, int], Awaitable[list[int]]]


def split(
    shape: Shape, counts: list[int], words: frozenset[str], vocabulary: Vocabulary, rows: int
) -> tuple[Shape, list[Group]] | None:
    """(the rarest groups without arrays, to list with FTS5; the groups with arrays), or None
    when every group has arrays, none does, or listing would walk or find too much. A group
    with a phrase or a prefix has no arrays."""
    arrayed = [_all_arrayed(g, words) for g in shape.wanted]
    if all(arrayed) or not any(arrayed):
        return None
    others = sorted((i for i, a in enumerate(arrayed) if not a), key=counts.__getitem__)
    taken: list[int] = []
    together, walked = float(rows), 0
    for i in others:
        walked += terms.fts_walk(Shape((shape.wanted[i],)), vocabulary, rows)
        if walked > terms.FTS_BUDGET:
            break
        together *= counts[i] / rows
        taken.append(i)
    if not taken or together > LISTED_MOST:
        return None
    listed = Shape(tuple(shape.wanted[i] for i in sorted(taken)))
    return listed, [g for g, a in zip(shape.wanted, arrayed, strict=True) if a]


def _arrayed(phrase: Phrase, words: frozenset[str]) -> bool:
    return len(phrase.words) == 1 and not phrase.prefix and phrase.words[0] in words


def _all_arrayed(group: Group, words: frozenset[str]) -> bool:
    return all(_arrayed(p, words) for p in group.phrases)


def together(counts: list[int], rows: int) -> float:
    """How many passages would have every group if the groups were independent."""
    return rows * math.prod(n / rows for n in counts) if rows else 0.0


def having(
    rowids: list[int],
    groups: list[Group],
    loaded: dense.Loaded,
    apart: dict[Phrase, list[int]] | None = None,
) -> np.ndarray | None:
    """Those of ``rowids`` that have every group: any of its phrases, a word in the arrays or
    one of ``apart``'s passages. None when one is not in the arrays: they are another
    corpus's."""
    found = np.asarray(rowids, dtype=np.int64)
    places = _places(found, loaded)
    if places is None:
        return None
    mask = np.ones(len(found), dtype=bool)
    for group in groups:
        present = np.zeros(len(found), dtype=bool)
        for phrase in group.phrases:
            if apart and phrase in apart:
                present |= np.isin(found, np.asarray(apart[phrase], dtype=np.int64))
            else:
                present |= loaded.columns[phrase.words[0]][places] != 0
        mask &= present
    kept: np.ndarray = found[mask]
    return kept


def _places(rowids: np.ndarray, loaded: dense.Loaded) -> np.ndarray | None:
    """Where ``rowids`` are in the arrays, or None when one is not there."""
    places = np.searchsorted(loaded.rowids, rowids)
    if len(rowids) and (
        places.max() >= len(loaded.rowids) or not (loaded.rowids[places] == rowids).all()
    ):
        return None
    return places


class DenseRanking:
    """Ranks from the arrays of the current corpus, read through ``dense.DenseIndex``."""

    def __init__(self, index: dense.DenseIndex, champions: Champions) -> None:
        self.index = index
        self.champions = champions
        self._ahead_for: int | None = None  # the corpus generation read ahead

    async def read_ahead(self, vocabulary: Vocabulary) -> None:
        """Once the arrays of the vocabulary's corpus are built, have the commonest words'
        read ahead (``DenseIndex.read_ahead``)."""
        if self._ahead_for == vocabulary.generation:
            return
        built = await self.champions.dense_words(vocabulary.generation)
        if built is not None:
            self._ahead_for = vocabulary.generation
            commonest = sorted(built[1], key=lambda w: (-vocabulary.count(w), w))
            self.index.read_ahead(built[0], commonest)

    async def ranked(self, shape: Shape, counts: list[int], stats: Stats) -> Order | None:
        """Way 1, when every word has an array and they would be together in at most
        DENSE_MOST passages."""
        words = dense.phrases_of(shape)
        if words is None or shape.match_any or together(counts, stats.rows) > dense.DENSE_MOST:
            return None
        built = await self.champions.dense_words(stats.generation)
        if built is None or not words <= built[1]:
            return None
        loaded = await self.index.load(built[0], words)
        if loaded is None:
            return None
        found = dense.ranked(shape, loaded, stats.idfs, stats.avgdl)
        # A build may have put a newer corpus's arrays in their place meanwhile.
        return found if await self.champions.dense_words(stats.generation) == built else None

    async def sifted(
        self,
        shape: Shape,
        counts: list[int],
        vocabulary: Vocabulary,
        stats: Stats,
        listed: Lister,
        score: Scorer,
    ) -> Order | None:
        """Way 2: the others' passages listed, kept when they have the common words, and
        every match scored; None when there would be too many to list or to read."""
        if shape.match_any or together(counts, stats.rows) > READ_MOST:  # they are, or more
            return None
        corpus = stats.generation, stats.rows
        kept = await self._kept(shape, counts, vocabulary, corpus, listed, whole=False)
        if kept is None or len(kept) > READ_MOST:
            return None
        scored = await score(shape, {int(r) for r in kept}, stats)  # every group, exclusion
        return best_first(scored), len(scored), False

    async def counted(
        self,
        shape: Shape,
        counts: list[int],
        vocabulary: Vocabulary,
        corpus: tuple[int, int],
        listed: Lister,
    ) -> int | None:
        """How many passages have every wanted group of ``shape`` (its exclusions and
        ``minus`` aside), without scoring them; None when some group would be neither listed
        nor in the arrays, or the passages listed would be too many. ``corpus``: its
        (generation, passages)."""
        kept = await self._kept(shape, counts, vocabulary, corpus, listed, whole=True)
        return None if kept is None else len(kept)

    async def _kept(
        self,
        shape: Shape,
        counts: list[int],
        vocabulary: Vocabulary,
        corpus: tuple[int, int],
        listed: Lister,
        *,
        whole: bool,
    ) -> np.ndarray | None:
        """The passages FTS5 lists for the groups without arrays (``split``) that the arrays
        say have the others. ``whole``: every group is checked, a group of forms only some of
        which have arrays (``a OR aing``) by listing those apart, or None."""
        generation, rows = corpus
        built = await self.champions.dense_words(generation)
        if built is None:
            return None
        picked = split(shape, counts, built[1], vocabulary, rows)
        if picked is None:  # all in the arrays (``ranked``'s, in numpy), or none listed
            return None
        sieve, arrayed = picked
        apart: dict[Phrase, list[int]] = {}  # forms without arrays, listed apart
        if whole:
            mixed = [g for g in shape.wanted if g not in arrayed and g not in sieve.wanted]
            forms = [p for g in mixed for p in g.phrases if not _arrayed(p, built[1])]
            walk = sum(terms.fts_walk(Shape((Group((p,)),)), vocabulary, rows) for p in forms)
            if walk > terms.FTS_BUDGET:
                return None  # a group too common to list, without arrays
            for phrase in forms:
                apart[phrase] = await listed(Shape((Group((phrase,)),)), LISTED_MOST + 1)
                if len(apart[phrase]) > LISTED_MOST:
                    return None
            arrayed = [*arrayed, *mixed]
        rowids = await listed(sieve, LISTED_MOST + 1)
        if len(rowids) > LISTED_MOST:
            return None
        words = {p.words[0] for g in arrayed for p in g.phrases if p not in apart}
        loaded = await self.index.load(built[0], words)
        kept = None if loaded is None else having(rowids, arrayed, loaded, apart)
        if kept is None or await self.champions.dense_words(generation) != built:
            return None  # a newer corpus's arrays: ``kept`` may lack matches
        return kept
