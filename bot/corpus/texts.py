"""Passages read from their text and scored in Python, as FTS5 would score them (``scoring``)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from ..core.db import Database
from .scoring import Candidate, Shape, bm25, varints


@dataclass(frozen=True, slots=True)
class Stats:
    """What bm25 needs besides the passage: the corpus's size and average length, and each
    wanted group's phrases' idfs (in the corpus generation they were read in)."""

    rows: int
    avgdl: float
    idfs: list[tuple[float, ...]]
    generation: int


async def scored_texts(
    db: Database, shape: Shape, rowids: set[int], stats: Stats
) -> dict[int, float]:
    """bm25 of those of ``rowids`` that match ``shape``, from their text."""
    if not rowids:
        return {}
    found = await db.all(
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


def best_first(scored: dict[int, float]) -> list[int]:
    """Rowids by bm25 (negative: lowest first), then rowid, as FTS5 orders ties."""
    return sorted(scored, key=lambda r: (scored[r], r))
