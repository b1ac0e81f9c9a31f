"""The champion lists' path (way 4 of ``ranking.py``): the passages on a query's lists,
their bounds, and Fagin's threshold, which tells when no passage left unread can reach the
first pages."""

from __future__ import annotations

import heapq
from collections.abc import Awaitable, Callable

from .bounds import GUIDE, OWN, floor, lists_of, passage_bounds, summed
from .champions import Champions
from .lexicon import Vocabulary
from .scoring import K1, Shape
from .terms import champion_terms, guide_terms, plain
from .texts import Stats

#: Where the lists bound every group, candidates are read this many at a time, until the
#: threshold shows the rest cannot reach the ranking...
READ_BATCH = 40
#: ...until the best this many (two pages) are proven exact.
PROOF_DEPTH = 10

#: Reads passages from their text and scores them: ``Ranker._score``.
Scorer = Callable[[Shape, set[int], Stats], Awaitable[dict[int, float]]]


async def from_lists(
    champions: Champions,
    score: Scorer,
    shape: Shape,
    vocabulary: Vocabulary,
    stats: Stats,
    seen: set[int],
    *,
    depth: int,
    budget: int,
) -> tuple[dict[int, float], bool, bool]:
    """Scores of the most promising passages on the query's lists, up to ``depth`` of them,
    at most ``budget`` read from their text (``score``); whether the lists prove that no other
    passage is among the best PROOF_DEPTH; whether none other matches."""
    terms = champion_terms(shape, vocabulary)
    lists = await champions.lists(terms)
    if any(t.endswith("*") and t not in lists for t in terms):  # lists not built yet
        guides = {t for g in shape.wanted for t in guide_terms(g, vocabulary)}
        lists.update(await champions.lists(guides))
    if not lists:
        return {}, False, False
    fresh = await champions.current(stats.generation)
    groups = [lists_of(g, lists, vocabulary) for g in shape.wanted]
    exactly = fresh and plain(shape) and all(mode == OWN for mode, _ in groups)
    weights = [max(ws) * (K1 + 1) for ws in stats.idfs]  # forms: a guide's, not a bound
    if exactly and len(groups) == 1:  # one word (or pair): its list is its ranking
        found = groups[0][1][0]
        best = [r for r in found.rowids if r not in seen]
        ranked = {r: -weights[0] * found.impacts[found.where[r]] for r in best}
        return ranked, True, found.complete
    if all(mode == OWN or (shape.match_any and not gl) for mode, gl in groups):
        bounds, known = summed(weights, [gl for _, gl in groups], shape.match_any)
    else:
        bounds, known = passage_bounds(shape, groups, weights)
    exact: dict[int, float] = {}
    unsure: list[int] = []
    for rowid in sorted(bounds, key=lambda r: (-bounds[r], r)):
        if rowid in seen:
            continue
        if exactly and known[rowid] == len(groups):
            exact[rowid] = bounds[rowid]  # walked best first: exact scores come in order
            if len(exact) >= depth:
                break  # every later candidate's bound is lower: none can reach the page
        else:
            unsure.append(rowid)
    # The most promising: the highest bounds. A passage with all of many common words is
    # rare, and a sentence's meaning finds it as well: fewer reads for more words.
    many = len(groups) - 2  # from four words on
    budget = budget if shape.match_any or many < 2 else max(30, budget // many)
    scored = {r: -v for r, v in exact.items()}  # as bm25: lower is better
    if not fresh or shape.match_any or any(mode == GUIDE for mode, _ in groups):
        scored.update(await score(shape, set(unsure[:budget]), stats))
        return scored, False, False
    # Fagin's threshold: once no passage left unread can beat the PROOF_DEPTH-th best read,
    # stop: the first pages are exact, and later ones rank what was read.
    unseen = sum(w * floor(gl) for w, (_, gl) in zip(weights, groups, strict=True))
    if any(any(f.complete for f in gl) for _, gl in groups):
        unseen = 0.0  # a passage on no list lacks a group
    read = 0
    while True:
        ceiling = max(unseen, bounds[unsure[read]] if len(unsure) > read else 0.0)
        if ceiling <= 0:
            return scored, True, True  # every passage that can match is read
        top = heapq.nlargest(PROOF_DEPTH, [-v for v in scored.values()])
        countable = unseen <= 0 and len(unsure) <= budget  # then read all: exact count
        if not countable and len(top) >= PROOF_DEPTH and top[-1] >= ceiling:
            return scored, True, False
        if read >= min(budget, len(unsure)):
            return scored, False, False
        batch = unsure[read : min(budget, read + READ_BATCH)]
        scored.update(await score(shape, set(batch), stats))
        read += len(batch)
