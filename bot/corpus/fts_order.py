"""FTS5 ranking a query itself (``ORDER BY bm25``): the first COUNT_CAP matches at once, which
counts them too (a second walk just to count cost as much again), whole or within a time."""

from __future__ import annotations

from typing import Any

from ..core.db import Database

#: Matches are counted up to this many (the reply says "1,000+").
COUNT_CAP = 1000
#: FTS5 ranking every match, in the order a search shows them (of ``passages_fts`` or of an
#: index with the same columns and lengths: ``pairs.py``).
RANKED = """SELECT rowid FROM {table} WHERE {table} MATCH ?
    ORDER BY bm25({table}, 1.0, 0.5, 0.5), rowid LIMIT ?"""

#: Best first: the rowids, how many there are (up to the depth asked), whether more match.
Order = tuple[list[int], int, bool]


async def fts_order(db: Database, expression: str, depth: int = COUNT_CAP) -> Order:
    """FTS5's best ``depth`` matches of ``expression``."""
    sql = RANKED.format(table="passages_fts")
    return _first(await db.all(sql, (expression, depth + 1)), depth)


async def fts_order_within(
    db: Database, expression: str, seconds: float, table: str = "passages_fts"
) -> Order | None:
    """FTS5's best COUNT_CAP matches of ``expression`` if it ranks them within ``seconds``
    (on the scanning connection, which the time limit stops), else None."""
    sql = RANKED.format(table=table)
    found = await db.all_within(sql, (expression, COUNT_CAP + 1), seconds=seconds)
    return None if found is None else _first(found, COUNT_CAP)


def _first(rows: list[Any], depth: int) -> Order:
    order = [int(r[0]) for r in rows[:depth]]
    return order, len(order), len(rows) > depth
