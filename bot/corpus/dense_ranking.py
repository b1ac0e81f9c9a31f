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
from .scoring import Group, Shape
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
    when every group has arrays, none does, or listing would walk or find too much. Every
    wanted phrase is a single word (``terms.single_words``), all wanted."""
    arrayed = [all(p.words[0] in words for p in g.phrases) for g in shape.wanted]
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


def together(counts: list[int], rows: int) -> float:
    """How many passages would have every group if the groups were independent."""
    return rows * math.prod(n / rows for n in counts) if rows else 0.0


def having(rowids: list[int], groups: list[Group], loaded: dense.Loaded) -> list[int] | None:
    """Those of ``rowids`` that have every group (any of its words); None when one is not in
    the arrays: they are another corpus's."""
    found = np.asarray(rowids, dtype=np.int64)
    places = np.searchsorted(loaded.rowids, found)
    if len(found) and (
        places.max() >= len(loaded.rowids) or not (loaded.rowids[places] == found).all()
    ):
        return None
    mask = np.ones(len(found), dtype=bool)
    for group in groups:
        present = np.zeros(len(found), dtype=bool)
        for phrase in group.phrases:
            present |= loaded.columns[phrase.words[0]][places] != 0
        mask &= present
    return [int(r) for r in found[mask]]


class DenseRanking:
    """Ranks from the arrays of the current corpus, read through ``dense.DenseIndex``."""

    def __init__(self, index: dense.DenseIndex, champions: Champions) -> None:
        self.index = index
        self.champions = champions

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
        built = await self.champions.dense_words(stats.generation)
        picked = None if built is None else split(shape, counts, built[1], vocabulary, stats.rows)
        if built is None or picked is None:
            return None
        sieve, arrayed = picked
        rowids = await listed(sieve, LISTED_MOST + 1)
        if len(rowids) > LISTED_MOST:
            return None
        loaded = await self.index.load(built[0], {p.words[0] for g in arrayed for p in g.phrases})
        kept = None if loaded is None else having(rowids, arrayed, loaded)
        if kept is None or len(kept) > READ_MOST:
            return None
        if await self.champions.dense_words(stats.generation) != built:
            return None  # a newer corpus's arrays: ``kept`` may lack matches
        scored = await score(shape, set(kept), stats)  # checks every group and exclusion
        return best_first(scored), len(scored), False
