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
   off the lists can do better; ``bench/bench_search.py`` measures how often page one agrees
   with ranking every match.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass

from ..core.db import Database
from .champions import CHAMPION_DF, ChampionList, Champions
from .lexicon import Vocabulary
from .scoring import K1, Candidate, Shape, bm25, idf, index_averages, varints
from .terms import (
    champion_terms,
    group_count,
    group_terms,
    guide_terms,
    is_one_word,
    list_key,
    plain,
)

#: Ranked by FTS5 itself when the query's words' passage counts add up to at most this.
EXACT_BUDGET = 4000
#: A query whose rarest word is in at most this many passages has all its matches scored. Any
#: word in more has a champion list: CHAMPION_DF must not be above it.
ENUMERATE = CHAMPION_DF
#: Up to this many passages, FTS5 ranks every match of a phrase itself (a few ms); past it, a
#: phrase of common words is checked passage by passage and takes the champion lists' path.
SMALL_CORPUS = 25_000
#: Matches are counted up to this many (the reply says "1,000+").
COUNT_CAP = 1000
#: A prefix or a phrase draws on the first this many passages of each of its words' lists.
GUIDE_DEPTH = 100
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


@dataclass(frozen=True, slots=True)
class _Stats:
    rows: int
    avgdl: float
    idfs: list[float]


class Ranker:
    def __init__(self, db: Database, champions: Champions) -> None:
        self.db = db
        self.champions = champions
        #: (expression, corpus generation, lists' generation) -> a champion path's whole order:
        #: every page of a query slices the same ranking, so no result repeats between pages.
        self._orders: OrderedDict[tuple[str, int, str | None], tuple[list[int], int, bool]]
        self._orders = OrderedDict()

    async def rank(
        self, shape: Shape, vocabulary: Vocabulary, generation: int, *, limit: int, offset: int
    ) -> Ranked:
        """The page ``offset``..``offset + limit`` of ``shape``'s matches, best first."""
        rows, avgdl = await self._averages()
        counts = [group_count(g, vocabulary, rows) for g in shape.wanted]
        cost = sum(counts) + sum(group_count(g, vocabulary, rows) for g in shape.excluded)
        if shape.minus is not None:
            cost += sum(group_count(g, vocabulary, rows) for g in shape.minus.wanted)
        phrases = any(len(p.words) > 1 for g in shape.wanted for p in g.phrases)
        if cost <= EXACT_BUDGET or (phrases and rows <= SMALL_CORPUS):
            return await self._by_fts(shape, limit, offset)
        key = (shape.fts(), generation, await self.champions.built_for())
        if key not in self._orders:
            stats = _Stats(rows, avgdl, [idf(rows, n) for n in counts])
            self._orders[key] = await self._order(shape, vocabulary, generation, counts, stats)
            while len(self._orders) > ORDERS_KEPT:
                self._orders.popitem(last=False)
        self._orders.move_to_end(key)
        order, total, more = self._orders[key]
        return Ranked(tuple(order[offset : offset + limit]), total, more, len(order))

    async def _order(
        self,
        shape: Shape,
        vocabulary: Vocabulary,
        generation: int,
        counts: list[int],
        stats: _Stats,
    ) -> tuple[list[int], int, bool]:
        """(the best RANK_DEPTH matches or every one, how many match, whether more do)."""
        positive = Shape(shape.wanted, match_any=shape.match_any)  # exclusions: checked in Python
        rare = [g for g, n in zip(shape.wanted, counts, strict=True) if n <= ENUMERATE]
        scored: dict[int, float] = {}
        if shape.match_any and sum(n for n in counts if n <= ENUMERATE) <= ENUMERATE and rare:
            listed = await self._listed(Shape(tuple(rare), match_any=True), ENUMERATE)
            scored.update(await self._score(shape, set(listed), stats))
        elif not shape.match_any and min(counts) <= ENUMERATE:
            listed = await self._listed(positive, ENUMERATE + 1)
            scored.update(await self._score(shape, set(listed), stats))
            if len(listed) <= ENUMERATE:  # every match: exact
                return _sorted(scored), len(scored), False
        scored.update(await self._from_champions(shape, vocabulary, generation, stats, set(scored)))
        if len(scored) < RANK_DEPTH:  # the lists hold too few matches: add matches as found
            listed = await self._listed(positive, TEXT_BUDGET, seconds=SCAN_SECONDS)
            scored.update(await self._score(shape, set(listed) - set(scored), stats))
        if is_one_word(shape):  # its whole list, and the vocabulary's count
            return _sorted(scored), counts[0], False
        return _sorted(scored)[:RANK_DEPTH], len(scored), True

    async def _from_champions(
        self, shape: Shape, vocabulary: Vocabulary, generation: int, stats: _Stats, seen: set[int]
    ) -> dict[int, float]:
        need = RANK_DEPTH
        terms = champion_terms(shape, vocabulary)
        lists = await self.champions.lists(terms)
        if any(t.endswith("*") and t not in lists for t in terms):  # lists not built yet
            guides = {t for g in shape.wanted for t in guide_terms(g, vocabulary)}
            lists.update(await self.champions.lists(guides))
        if not lists:
            return {}
        own_lists = plain(shape) and all(list_key(g) in lists for g in shape.wanted)
        exactly = own_lists and await self.champions.current(generation)
        weights = [w * (K1 + 1) for w in stats.idfs]
        per_group = [
            [lists[t] for t in group_terms(g, vocabulary) if t in lists] for g in shape.wanted
        ]
        for i, group in enumerate(shape.wanted):  # a prefix without a list of its own
            if not per_group[i] and (list_key(group) or "").endswith("*"):
                guide = guide_terms(group, vocabulary)
                per_group[i] = [lists[t] for t in guide if t in lists]
        for i, group_lists in enumerate(per_group):
            if len(group_lists) > 1:  # a guide only: the head of each list is enough
                per_group[i] = [_head(found, GUIDE_DEPTH) for found in group_lists]
        if exactly and len(per_group) == 1 and len(per_group[0]) == 1:  # one word: its list
            found = per_group[0][0]
            best = [r for r in found.rowids if r not in seen]
            return {r: -weights[0] * found.impacts[found.where[r]] for r in best}
        bounds: dict[int, float] = {}
        known: dict[int, int] = {}  # how many groups' own lists have the passage
        for group_lists in per_group:
            for found in group_lists:
                for rowid in found.rowids:
                    bounds[rowid] = 0.0
        for rowid in bounds:
            total, groups_known = 0.0, 0
            for weight, group_lists in zip(weights, per_group, strict=True):
                value, on_list = _bound(rowid, group_lists, shape.match_any)
                total += weight * value
                groups_known += on_list
            bounds[rowid], known[rowid] = total, groups_known
        exact: dict[int, float] = {}
        unsure: list[int] = []
        for rowid in sorted(bounds, key=lambda r: (-bounds[r], r)):
            if rowid in seen:
                continue
            if exactly and known[rowid] == len(per_group):
                exact[rowid] = bounds[rowid]  # walked best first: exact scores come in order
                if len(exact) >= need:
                    break  # every later candidate's bound is lower: none can reach the page
            else:
                unsure.append(rowid)
        # The most promising: the highest bounds. A passage with all of many common words is
        # rare, and a sentence's meaning finds it as well: fewer reads for more words.
        many = len(per_group) - 2  # from four words on
        budget = TEXT_BUDGET if shape.match_any or many < 2 else max(30, TEXT_BUDGET // many)
        to_read = unsure[:budget]
        scored = {r: -v for r, v in exact.items()}  # as bm25: lower is better
        scored.update(await self._score(shape, set(to_read), stats))
        return scored

    async def _averages(self) -> tuple[int, float]:
        block = await self.db.one("SELECT block FROM passages_fts_data WHERE id = 1")
        return index_averages(bytes(block[0]) if block else b"")

    async def _by_fts(self, shape: Shape, limit: int, offset: int) -> Ranked:
        expression = shape.fts()
        rows = await self.db.all(
            """SELECT rowid FROM passages_fts WHERE passages_fts MATCH ?
            ORDER BY bm25(passages_fts, 1.0, 0.5, 0.5), rowid LIMIT ? OFFSET ?""",
            (expression, limit, offset),
        )
        counted = await self.db.one(
            """SELECT count(*) FROM (SELECT 1 FROM passages_fts WHERE passages_fts MATCH ?
            LIMIT ?)""",
            (expression, COUNT_CAP),
        )
        total = int(counted[0])
        return Ranked(tuple(int(r[0]) for r in rows), total, total >= COUNT_CAP, total)

    async def _listed(self, shape: Shape, limit: int, seconds: float | None = None) -> list[int]:
        """Matches in rowid order, without ranking; for at most ``seconds`` if given."""
        sql = "SELECT rowid FROM passages_fts WHERE passages_fts MATCH ? LIMIT ?"
        params = (shape.fts(), limit)
        if seconds is None:
            rows = await self.db.all(sql, params)
        else:
            rows = await self.db.first_rows(sql, params, limit=limit, seconds=seconds)
        return [int(r[0]) for r in rows]

    async def _score(self, shape: Shape, rowids: set[int], stats: _Stats) -> dict[int, float]:
        """bm25 of those of ``rowids`` that match ``shape``, from their text."""
        if not rowids:
            return {}
        found = await self.db.all(
            """SELECT s.rowid, s.text, s.title, s.author, d.sz
            FROM json_each(?) AS j CROSS JOIN passage_search AS s ON s.rowid = j.value
            JOIN passages_fts_docsize AS d ON d.id = s.rowid""",
            (json.dumps(sorted(rowids)),),
        )
        scored = {}
        for rowid, text, title, author, size in found:
            candidate = Candidate.of(int(rowid), text, title, author, sum(varints(bytes(size))))
            score = bm25(candidate, shape, stats.idfs, stats.avgdl)
            if score is not None:
                scored[candidate.rowid] = score
        return scored


def _sorted(scored: dict[int, float]) -> list[int]:
    return sorted(scored, key=lambda r: (scored[r], r))


def _bound(rowid: int, group_lists: list[ChampionList], match_any: bool) -> tuple[float, bool]:
    """(the group's impact in the passage, or the most it could be; whether it is known)."""
    if len(group_lists) == 1:
        found = group_lists[0]
        index = found.where.get(rowid)
        if index is not None:
            return found.impacts[index], True
        return (0.0 if match_any else found.floor), False
    best = 0.0
    for found in group_lists:  # a phrase or a prefix: its words' lists are a guide, not a bound
        index = found.where.get(rowid)
        best = max(best, found.impacts[index] if index is not None else found.floor / 2)
    return best, False


def _head(found: ChampionList, depth: int) -> ChampionList:
    if len(found.rowids) <= depth:
        return found
    rowids = found.rowids[:depth]
    return ChampionList(rowids, found.impacts[:depth], {r: i for i, r in enumerate(rowids)})
