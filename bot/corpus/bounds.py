"""How a query's champion lists bound each of its groups in a passage (pure; see
``ranking.py``): a group's own list gives its exact impact, a phrase's listed pairs each bound
the phrase, and the lists of a group's words only point to likely passages."""

from __future__ import annotations

from .champions import ChampionList
from .lexicon import Vocabulary
from .scoring import Group, Shape
from .terms import group_terms, guide_terms, list_key, pair_keys

#: A prefix or a phrase draws on the first this many passages of each of its words' lists.
GUIDE_DEPTH = 100

#: How a group's lists speak for it: its own list (the exact impact), a phrase's word pairs
#: (each bounds the phrase), or its words' lists, which only point to likely passages.
OWN, PAIRS, GUIDE = "own", "pairs", "guide"


def lists_of(
    group: Group, lists: dict[str, ChampionList], vocabulary: Vocabulary
) -> tuple[str, list[ChampionList]]:
    """(how the lists speak for the group, which lists)."""
    own = list_key(group)
    if own is not None and own in lists:
        return OWN, [lists[own]]
    if len(group.phrases) == 1:
        pairs = [lists[k] for k in pair_keys(group.phrases[0]) if k in lists]
        if pairs:
            return PAIRS, pairs
    guide = [lists[t] for t in group_terms(group, vocabulary) if t in lists]
    if not guide and (own or "").endswith("*"):  # a prefix without a list of its own
        guide = [lists[t] for t in guide_terms(group, vocabulary) if t in lists]
    return GUIDE, [head(found, GUIDE_DEPTH) for found in guide] if len(guide) > 1 else guide


def bound(
    rowid: int, mode: str, group_lists: list[ChampionList], match_any: bool
) -> tuple[float | None, bool]:
    """(the group's impact in the passage, or the most it could be, or None when it cannot
    have the group; whether the impact is known)."""
    if mode == GUIDE:  # a guide, not a bound
        best = 0.0
        for found in group_lists:
            index = found.where.get(rowid)
            best = max(best, found.impacts[index] if index is not None else found.floor / 2)
        return best, False
    value = float("inf")
    for found in group_lists:
        index = found.where.get(rowid)
        if index is not None:
            value = min(value, found.impacts[index])
        elif match_any:
            return 0.0, False
        elif found.complete:
            return None, False
        else:
            value = min(value, found.floor)
    return value, mode == OWN and rowid in group_lists[0].where


def floor(group_lists: list[ChampionList]) -> float:
    """The most the group can weigh in a passage on none of its lists."""
    return min((found.floor for found in group_lists), default=0.0)


def head(found: ChampionList, depth: int) -> ChampionList:
    if len(found.rowids) <= depth:
        return found
    rowids = found.rowids[:depth]
    return ChampionList(rowids, found.impacts[:depth], {r: i for i, r in enumerate(rowids)})


def summed(
    weights: list[float], groups: list[list[ChampionList]], match_any: bool = True
) -> tuple[dict[int, float], dict[int, int]]:
    """For plain words (each group its own list, or none when any will do): each listed
    passage's bound and on how many lists it is. What ``passage_bounds`` gives passage by
    passage, summed list by list (a sentence of seven stopwords: 38,000 calls of ``bound``).
    All wanted, a passage off a list has that list's floor there, or no match when the list
    is complete; on every list its bound is its exact score, summed in the same order."""
    bounds: dict[int, float] = {}
    known: dict[int, int] = {}
    floors: dict[int, float] = {}  # all wanted: the floors of the lists a passage is on
    for weight, group_lists in zip(weights, groups, strict=True):
        for found in group_lists:
            low = weight * found.floor
            for rowid, impact in zip(found.rowids, found.impacts, strict=True):
                bounds[rowid] = bounds.get(rowid, 0.0) + weight * impact
                known[rowid] = known.get(rowid, 0) + 1
                if not match_any:
                    floors[rowid] = floors.get(rowid, 0.0) + low
    if match_any:
        return bounds, known
    complete = [gl[0] for gl in groups if gl[0].complete]
    every_floor = sum(w * gl[0].floor for w, gl in zip(weights, groups, strict=True))
    for rowid in list(bounds):
        if known[rowid] == len(groups):
            continue
        if any(rowid not in found.where for found in complete):
            del bounds[rowid], known[rowid]
        else:
            bounds[rowid] += every_floor - floors[rowid]
    return bounds, known


def passage_bounds(
    shape: Shape, groups: list[tuple[str, list[ChampionList]]], weights: list[float]
) -> tuple[dict[int, float], dict[int, int]]:
    """Each listed passage's bound, and how many groups' own lists have it."""
    bounds: dict[int, float] = {}
    known: dict[int, int] = {}  # how many groups' own lists have the passage
    listed = {r for _, group_lists in groups for found in group_lists for r in found.rowids}
    if not shape.match_any:  # only a complete list's passages can have all the groups
        for found in (f for mode, gl in groups if mode != GUIDE for f in gl if f.complete):
            listed.intersection_update(found.rowids)
    for rowid in listed:
        total, groups_known = 0.0, 0
        for weight, (mode, group_lists) in zip(weights, groups, strict=True):
            value, on_list = bound(rowid, mode, group_lists, shape.match_any)
            if value is None:  # off a list that has every passage with the group
                break
            total += weight * value
            groups_known += on_list
        else:
            bounds[rowid], known[rowid] = total, groups_known
    return bounds, known
