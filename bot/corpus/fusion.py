"""Word matches and meaning together: reciprocal rank fusion (Cormack et al., 2009).

Each passage scores 1 / (RRF_K + rank) in each list it is in. Within each word tier (exact
forms, then other forms) the order becomes the fused one, so a passage that has the words *and*
says what was meant comes first; passages found by meaning alone follow every word match.
"""

from __future__ import annotations

from .query import SearchQuery

#: The usual constant: a list's first places count, none dominates.
RRF_K = 60
#: A passage found by meaning alone must be at least this close to the query (cosine of the
#: stored vectors: paraphrases of the relevance set's passages score 0.28 to 0.7)...
MIN_SIMILARITY = 0.25
#: ...and at most this many are added: past them, the static model's guesses are noise.
MAX_ADDED = 10


def meaning_text(query: SearchQuery) -> str:
    """What the reader meant, for the embedding: the words wanted, without the syntax."""
    return " ".join(" ".join(t.words) for t in query.terms if not t.excluded)


def fuse(
    tiers: list[list[int]], near: list[tuple[int, float]], *, extras: bool
) -> tuple[list[int], int]:
    """The tiers re-ordered by fusion with ``near`` (best first), then, when ``extras``, the
    near passages no tier has that are close enough. Returns (order, how many were added)."""
    near_rank = {rowid: i for i, (rowid, _) in enumerate(near)}

    def fused(rowid: int, rank: int) -> float:
        score = 1 / (RRF_K + rank + 1)
        if rowid in near_rank:
            score += 1 / (RRF_K + near_rank[rowid] + 1)
        return score

    order: list[int] = []
    for tier in tiers:
        scored = [(-fused(r, i), i, r) for i, r in enumerate(tier)]
        order += [r for _, _, r in sorted(scored)]
    if not extras:
        return order, 0
    seen = set(order)
    added = [r for r, similarity in near if r not in seen and similarity >= MIN_SIMILARITY]
    added = added[:MAX_ADDED]
    return order + added, len(added)
