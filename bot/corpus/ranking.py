"""The best matches of a query over the whole corpus, fast at any size.

Three ways, chosen from the vocabulary's passage counts before anything is ranked:

1. **Few matches possible** (the words' counts add up to at most EXACT_BUDGET): FTS5 ranks
   every match itself (``ORDER BY bm25``). Exact, and the common case.
2. **A rare word among common ones** (at most ENUMERATE passages have it): every match is
   listed in rowid order, without ranking, and scored in Python (``scoring.py``) with the
   counts the vocabulary already has. Also exact: FTS5's bm25 would first walk the common
   words' whole index entries to count them (150 ms for "the" at 1M passages).
3. **Only common words**: the candidates are the passages on the words' champion lists
   (``champions.py``), which carry each word's impact. A passage on every list of a query of
   plain words has its exact score without being read; the others are read and scored, the
   most promising first, at most TEXT_BUDGET of them. Fagin's threshold tells when no passage
   off the lists can do better (``from_lists.py``); ``bench/bench_search.py`` measures how
   often page one agrees with ranking every match. Two common words in a row, one of them a
   stopword ("of now", "the of"), have a list of their own: a phrase of two is ranked off it
   like one word, and a longer one ("the of of") is bounded by each of its pairs' lists.

Before those, a query of phrases whose every pair has a stopword ("the of of", "to the"*) is
ranked by FTS5 in the pairs index (``pairs.py``), where each such pair is one token: exact,
and a few percent of the walk FTS5 makes in ``passages_fts``. A sentence of very common words
(``it in when the i in``) is ranked exactly in numpy from their dense frequencies; one that
also has rarer words (``being the daym a the to``) is listed by those and kept by the arrays
(``dense_ranking.py``).
"""

from __future__ import annotations

import sqlite3
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from ..core.db import Database
from . import dense, pairs
from .champions import CHAMPION_DF, Champions
from .dense_ranking import DenseRanking
from .from_lists import PROOF_DEPTH, from_lists
from .fts_order import Order, fts_order, fts_order_within
from .lexicon import Vocabulary
from .scoring import Shape, index_averages
from .terms import (
    cheap_for_fts,
    group_count,
    is_one_word,
    listed_keys,
    maybe_rare,
    one_pair,
    pair_keys,
    phrase_idfs,
    prefix_phrase,
    rarest,
    single_words,
)
from .texts import Stats, best_first, scored_texts

#: Ranked by FTS5 itself when the query's words' passage counts add up to at most this, or
#: when ``terms.cheap_for_fts``.
EXACT_BUDGET = 4000
#: A query whose rarest word is in at most this many passages has all its matches scored. Any
#: word in more has a champion list: CHAMPION_DF must not be above it.
ENUMERATE = CHAMPION_DF
#: Up to this many passages, FTS5 ranks every match of a phrase itself (a few ms); past it, a
#: phrase of common words is checked passage by passage and takes the champion lists' path.
SMALL_CORPUS = 25_000
#: A phrase or a sentence of common words is given this long for FTS5 to rank it (``_if_rare``).
RARE_SECONDS = 0.012
#: A query of stopword phrases is given this long for FTS5 to rank it in the pairs index. At
#: 1M passages the hostile phrases took it 8-57 ms, exact, where the lists' guided path took
#: 44-60 ms and found 0-0.4 of the true five.
PAIRS_SECONDS = 0.06
#: The champion paths rank this many results whatever page is asked, so pages stay consistent
#: (20 pages; a one-word query reaches its whole list)...
RANK_DEPTH = 100
#: ...and keep the orders of this many recent queries.
ORDERS_KEPT = 128
#: At most this many champion candidates are read and scored from their text per query.
TEXT_BUDGET = 150
#: When too few candidates match (a phrase of common words), matches in rowid order are added
#: for at most this long: FTS5 checks such a phrase passage by passage.
SCAN_SECONDS = 0.005


@dataclass(frozen=True, slots=True)
class Ranked:
    rowids: tuple[int, ...]  # best first: the page asked for, from the offset
    total: int  # matches counted; a lower bound when ``more``
    more: bool
    reachable: int  # how many results paging can reach


class Ranker:
    def __init__(self, db: Database, champions: Champions) -> None:
        self.db = db
        self.champions = champions
        #: (expression, corpus generation, lists' generation) -> a champion path's whole order:
        #: every page of a query slices the same ranking, so no result repeats between pages.
        self._orders: OrderedDict[tuple[str, int, str | None], Order]
        self._orders = OrderedDict()
        self._averages_of: tuple[int, tuple[int, float]] | None = None
        self._common: OrderedDict[tuple[str, int], None] = OrderedDict()  # not rare: > ENUMERATE
        self._sieved: OrderedDict[tuple[str, int], list[int]] = OrderedDict()  # see _sifted
        self._counted: OrderedDict[tuple[str, int], int] = OrderedDict()  # see count
        self.dense = DenseRanking(dense.DenseIndex(db), champions)

    async def rank(
        self, shape: Shape, vocabulary: Vocabulary, generation: int, *, limit: int, offset: int
    ) -> Ranked:
        """The page ``offset``..``offset + limit`` of ``shape``'s matches, best first."""
        expression = shape.fts()
        key: tuple[str, int, str | None] = (expression, generation, "fts")  # or the lists' path
        if key not in self._orders:
            key = (expression, generation, await self.champions.built_for())
        if key not in self._orders:
            key = await self._ranked(shape, expression, vocabulary, generation)
        self._orders.move_to_end(key)
        order, total, more = self._orders[key]
        return Ranked(tuple(order[offset : offset + limit]), total, more, len(order))

    async def count(self, shape: Shape, vocabulary: Vocabulary, generation: int) -> int | None:
        """How many passages have ``shape``'s wanted groups (its ``minus`` aside), when the
        dense arrays tell without ranking them (``DenseRanking.counted``) and FTS5 would not
        rank them cheaply (``EXACT_BUDGET``); else None."""
        key = (Shape(shape.wanted).fts(), generation)
        if key not in self._counted and not (shape.excluded or shape.match_any):
            rows, _ = await self.averages(generation)
            counts = [group_count(g, vocabulary, rows) for g in shape.wanted]
            if sum(counts) <= EXACT_BUDGET:
                return None
            corpus = generation, rows
            found = await self.dense.counted(shape, counts, vocabulary, corpus, self._listed)
            if found is not None:
                self._counted[key] = found
                _trim(self._counted)
        return self._counted.get(key)

    async def _ranked(
        self, shape: Shape, expression: str, vocabulary: Vocabulary, generation: int
    ) -> tuple[str, int, str | None]:
        """Rank ``shape`` the cheapest way good enough, keep its order, and say where: exact
        (FTS5's first COUNT_CAP, or a sifted sentence's words), or a champion path's."""
        rows, avgdl = await self.averages(generation)
        counts = [group_count(g, vocabulary, rows) for g in shape.wanted]
        cost = sum(counts) + sum(group_count(g, vocabulary, rows) for g in shape.excluded)
        if shape.minus is not None:
            cost += sum(group_count(g, vocabulary, rows) for g in shape.minus.wanted)
        phrases = any(len(p.words) > 1 for g in shape.wanted for p in g.phrases)
        listed = counts[0] > ENUMERATE and (  # its list is its ranking
            is_one_word(shape)
            or (one_pair(shape, vocabulary, rows) and await self.champions.current(generation))
        )
        by_fts = not listed and (cost <= EXACT_BUDGET or (phrases and rows <= SMALL_CORPUS))
        none = False
        if not by_fts and phrases:
            counts, none = await self._pair_counts(shape, counts, vocabulary, generation)
        order: Order | None = ([], 0, False) if none else None
        if order is None and phrases and not (by_fts or listed):  # exact, and cheaper than FTS5
            order = await self._paired(shape, generation)
        by_fts = by_fts or (
            not listed and cheap_for_fts(shape, counts, vocabulary, rows, ENUMERATE)
        )
        stats = Stats(rows, avgdl, phrase_idfs(shape, counts, vocabulary, rows), generation)
        exact = single_words(shape, vocabulary) and vocabulary.generation == generation  # as FTS5
        sieve = rarest(shape, counts, vocabulary, rows, TEXT_BUDGET)
        if order is None and not (by_fts or listed) and exact:
            order = await self.dense.ranked(shape, counts, stats)
        if order is None and cost > EXACT_BUDGET and exact:
            order = await self._sifted(shape, sieve, stats)
        if order is None and not (by_fts or listed) and exact:
            order = await self.dense.sifted(
                shape, counts, vocabulary, stats, self._listed, self._score
            )
        if order is None and not by_fts and maybe_rare(shape, counts, vocabulary, rows, ENUMERATE):
            order = await self._if_rare(expression, generation)
        if by_fts or order is not None:  # exact
            key: tuple[str, int, str | None] = (expression, generation, "fts")
            order = order or await fts_order(self.db, expression)
        else:  # sifted, its every match is scored as the lists' candidates would be
            key = (expression, generation, await self.champions.built_for())
            order = None if exact else await self._sifted(shape, sieve, stats)
            order = order or await self._order(shape, vocabulary, counts, stats, listed)
        self._orders[key] = order
        _trim(self._orders)
        return key

    async def _sifted(self, shape: Shape, sieve: Shape | None, stats: Stats) -> Order | None:
        """Every match of a sentence has its rarest words. When two or three of them are
        together in at most TEXT_BUDGET passages, those are read and scored: every match.
        FTS5 finds them in 0.2-1 ms for a sentence remembered from a passage at 1M, where the
        whole sentence takes it 4-50 ms (each step in a stopword's long entry costs ~4 µs)."""
        if sieve is None:
            return None
        key = (sieve.fts(), stats.generation)
        if key not in self._sieved:  # the other forms' tier often has the same sieve
            self._sieved[key] = await self._listed(sieve, TEXT_BUDGET + 1)
            _trim(self._sieved)
        listed = self._sieved[key]
        if len(listed) > TEXT_BUDGET:
            return None
        scored = await self._score(shape, set(listed), stats)
        return best_first(scored), len(scored), False

    async def _if_rare(self, expression: str, generation: int) -> Order | None:
        """FTS5's ranking of a phrase or sentence of common words if it ends within
        RARE_SECONDS. Only FTS5 knows how rare it is; a rare one it ranks exactly, faster than
        the lists guess (a sentence at 1M: 5-8 ms, the lists 20-40). A common one: None."""
        if (expression, generation) in self._common:
            return None
        found = await fts_order_within(self.db, expression, RARE_SECONDS)
        if found is None:
            self._common[expression, generation] = None
            _trim(self._common)
        return found

    async def _paired(self, shape: Shape, generation: int) -> Order | None:
        """FTS5's own ranking of a query of stopword phrases in the pairs index (``pairs.py``),
        exact, if it ends within PAIRS_SECONDS; None when it cannot be asked there."""
        stop = await self.champions.pair_stopwords(generation)
        query = None if stop is None else pairs.expression(shape, stop)
        if query is None or (query, generation) in self._common:
            return None
        try:
            found = await fts_order_within(self.db, query, PAIRS_SECONDS, table=pairs.TABLE)
        except sqlite3.OperationalError as error:  # a build of a corpus without stopwords
            if "no such table" not in str(error):  # dropped it since the stamp was read
                raise
            return None
        if found is None:
            self._common[query, generation] = None
            _trim(self._common)
        # A build may have put a newer corpus's index in its place meanwhile.
        return found if await self.champions.pair_stopwords(generation) == stop else None

    async def _order(
        self,
        shape: Shape,
        vocabulary: Vocabulary,
        counts: list[int],
        stats: Stats,
        one_list: bool,
    ) -> Order:
        """(the best RANK_DEPTH matches or every one, how many match, whether more do).
        ``one_list``: one word or listed pair, whose list is its ranking (``_ranked``)."""
        positive = Shape(shape.wanted, match_any=shape.match_any)  # exclusions: checked in Python
        rare = [g for g, n in zip(shape.wanted, counts, strict=True) if n <= ENUMERATE]
        scored: dict[int, float] = {}
        if shape.match_any and sum(n for n in counts if n <= ENUMERATE) <= ENUMERATE and rare:
            # Any of several words ("more like this"): FTS5 ranks the rare ones' few matches
            # (2 ms), and the best of them by those words are scored with every word.
            best, _, _ = await fts_order(
                self.db, Shape(tuple(rare), match_any=True).fts(), TEXT_BUDGET
            )
            scored.update(await self._score(shape, set(best), stats))
        elif not shape.match_any and min(counts) <= ENUMERATE and not one_list:
            listed = await self._listed(positive, ENUMERATE + 1)
            scored.update(await self._score(shape, set(listed), stats))
            if len(listed) <= ENUMERATE:  # every match: exact
                return best_first(scored), len(scored), False
        found, proven, complete = await from_lists(
            self.champions, self._score, shape, vocabulary, stats, set(scored),
            depth=RANK_DEPTH, budget=TEXT_BUDGET,
        )  # fmt: skip
        scored.update(found)
        # Too few on the lists: add matches. FTS5 merges every word of a phrase's prefix
        # ("to the"*: the, their, then, ...) before it yields a first match (25 ms at 100k
        # passages), past the scan's time, so such a query scans only for page two.
        # The other forms' tier (``minus``) does not scan: its words are common (or it would be
        # FTS5's), so finding the first match that lacks the exact forms can walk them whole.
        enough = PROOF_DEPTH if prefix_phrase(shape) else RANK_DEPTH
        if len(scored) < enough and not proven and shape.minus is None:
            listed = await self._listed(positive, TEXT_BUDGET, seconds=SCAN_SECONDS)
            scored.update(await self._score(shape, set(listed) - set(scored), stats))
        if is_one_word(shape) or (one_list and proven):  # its list, and the count it knows
            return best_first(scored), counts[0], False
        if complete and len(scored) < RANK_DEPTH:  # every match
            return best_first(scored), len(scored), False
        return best_first(scored)[:RANK_DEPTH], len(scored), True

    async def _pair_counts(
        self, shape: Shape, counts: list[int], vocabulary: Vocabulary, generation: int
    ) -> tuple[list[int], bool]:
        """A phrase is in at most as many passages as its rarest listed pair; (those counts,
        whether some wanted phrase is in none: a pair that would have a list has none)."""
        keys = [pair_keys(g.phrases[0]) if len(g.phrases) == 1 else [] for g in shape.wanted]
        known, current = await self.champions.counted((k for ks in keys for k in ks), generation)
        rows = (await self.averages(generation))[0]
        sure = vocabulary.generation == generation and current
        absent = sure and any(
            k not in known for g in shape.wanted for k in listed_keys(g, vocabulary, rows)
        )
        pairs = zip(counts, keys, strict=True)
        found = [min([n, *(known[k] for k in ks if k in known)]) for n, ks in pairs]
        return found, absent and not shape.match_any

    async def averages(self, generation: int) -> tuple[int, float]:
        """FTS5's passage count and average length, read once per corpus generation."""
        if self._averages_of is None or self._averages_of[0] != generation:
            block = await self.db.one("SELECT block FROM passages_fts_data WHERE id = 1")
            self._averages_of = generation, index_averages(bytes(block[0]) if block else b"")
        return self._averages_of[1]

    async def _listed(self, shape: Shape, limit: int, seconds: float | None = None) -> list[int]:
        """Matches in rowid order, without ranking; for at most ``seconds`` if given."""
        sql = "SELECT rowid FROM passages_fts WHERE passages_fts MATCH ? LIMIT ?"
        params = (shape.fts(), limit)
        if seconds is None:
            rows = await self.db.all(sql, params)
        else:
            rows = await self.db.first_rows(sql, params, limit=limit, seconds=seconds)
        return [int(r[0]) for r in rows]

    async def _score(self, shape: Shape, rowids: set[int], stats: Stats) -> dict[int, float]:
        return await scored_texts(self.db, shape, rowids, stats)


def _trim(kept: OrderedDict[Any, Any]) -> None:
    while len(kept) > ORDERS_KEPT:
        kept.popitem(last=False)
