"""Random picks, each one query: passages are stored in (kind, document, position) order with
dense rowids, so a kind or a document is a rowid range, and an author's passages are numbered
in rowid order, so an author within a range is a range of those numbers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..core.db import Database
from .query import parse_query
from .rows import PASSAGE_COLUMNS, PASSAGE_JOINS, SELECT_PASSAGE

#: Candidates a pick by words and author chooses among (no index makes it a single lookup).
RANDOM_CANDIDATE_CAP = 5000
#: A random passage matching words is drawn exactly uniformly below this many matches; above,
#: from a random point onwards (counting further would cost more than the pick).
RANDOM_EXACT_BELOW = 64


@dataclass(frozen=True, slots=True)
class PassageFilter:
    """Optional constraints on a random passage. Values are matched case-insensitively."""

    document: str | None = None  # slug
    author: str | None = None
    kind: str | None = None
    about: str | None = None  # search words

    @property
    def empty(self) -> bool:
        return not (self.document or self.author or self.kind or self.about)


def author_key(name: str) -> str:
    """How author names are matched: spaces folded, case-folded."""
    return " ".join(name.split()).casefold()


# {span} is a query giving the rowid range (lo, hi) the filters allow.
_IN_SPAN = f"""WITH span AS MATERIALIZED ({{span}})
    {SELECT_PASSAGE} WHERE p.rowid = (SELECT lo + abs(random()) % (hi - lo + 1) FROM span)"""

# An author's passages in a span: their author_ord values there are consecutive, from the first
# to the last of the author's rowids inside the span (index passages_by_author_rowid).
_BY_AUTHOR = f"""WITH span AS MATERIALIZED ({{span}}),
    pick AS MATERIALIZED (
        SELECT x.id AS aid,
            (SELECT author_ord FROM passages WHERE author_id = x.id AND rowid >= span.lo
                ORDER BY rowid LIMIT 1) AS first,
            (SELECT author_ord FROM passages WHERE author_id = x.id AND rowid <= span.hi
                ORDER BY rowid DESC LIMIT 1) AS last
        FROM authors AS x, span WHERE x.key = :author)
    SELECT {PASSAGE_COLUMNS} FROM pick
    JOIN passages AS p ON p.author_id = pick.aid
        AND p.author_ord = pick.first + abs(random()) % (pick.last - pick.first + 1)
    {PASSAGE_JOINS}
    WHERE pick.last >= pick.first"""

_BY_WORDS = f"""WITH span AS MATERIALIZED ({{span}}),
    matches AS MATERIALIZED (
        SELECT count(*) AS n FROM (SELECT 1 FROM passages_fts, span WHERE passages_fts MATCH :q
            AND passages_fts.rowid BETWEEN span.lo AND span.hi LIMIT :cap)),
    dice AS MATERIALIZED (
        SELECT lo + abs(random()) % (hi - lo + 1) AS start, abs(random()) AS roll FROM span)
    {SELECT_PASSAGE} WHERE p.rowid = CASE
        WHEN (SELECT n FROM matches) = 0 THEN NULL
        WHEN (SELECT n FROM matches) < :cap THEN (
            SELECT f.rowid FROM passages_fts AS f, span WHERE passages_fts MATCH :q
                AND f.rowid BETWEEN span.lo AND span.hi ORDER BY f.rowid LIMIT 1
                OFFSET (SELECT roll % n FROM dice, matches))
        ELSE coalesce(
            (SELECT f.rowid FROM passages_fts AS f, span, dice WHERE passages_fts MATCH :q
                AND f.rowid BETWEEN dice.start AND span.hi ORDER BY f.rowid LIMIT 1),
            (SELECT f.rowid FROM passages_fts AS f, span WHERE passages_fts MATCH :q
                AND f.rowid BETWEEN span.lo AND span.hi ORDER BY f.rowid LIMIT 1))
        END"""

# Words and an author together (rare): among the first RANDOM_CANDIDATE_CAP such matches.
_BY_AUTHOR_AND_WORDS = f"""WITH span AS MATERIALIZED ({{span}}),
    candidates AS MATERIALIZED (
        SELECT p.rowid AS r FROM passages_fts AS f, span
        JOIN passages AS p ON p.rowid = f.rowid
        JOIN authors AS a ON a.id = p.author_id AND a.key = :author
        WHERE passages_fts MATCH :q AND f.rowid BETWEEN span.lo AND span.hi
        LIMIT {RANDOM_CANDIDATE_CAP})
    {SELECT_PASSAGE} WHERE p.rowid = (SELECT r FROM candidates LIMIT 1 OFFSET
        (SELECT abs(random()) % max(count(*), 1) FROM candidates))"""


async def random_passage(db: Database, where: PassageFilter) -> Any:
    """A random passage matching ``where`` (a row of ``rows.SELECT_PASSAGE``), or None.

    Uniform, except with words (``about``): a random match is drawn uniformly when there are
    fewer than RANDOM_EXACT_BELOW, else the first match after a random point in the range
    (passages after long gaps between matches are favoured).
    """
    params: dict[str, Any] = {
        "document": where.document.strip().lower() if where.document else None,
        "author": author_key(where.author) if where.author else None,
        "kind": where.kind.strip().lower() if where.kind else None,
        "cap": RANDOM_EXACT_BELOW,
    }
    if where.about:
        params["q"] = parse_query(where.about).expression
        if params["q"] is None:
            return None
    if params["document"]:
        kind_too = " AND kind = :kind" if params["kind"] else ""
        span = f"""SELECT first_rowid AS lo, first_rowid + passage_count - 1 AS hi
            FROM documents WHERE slug = :document{kind_too}"""
    elif params["kind"]:
        span = """SELECT first_rowid AS lo, first_rowid + passage_count - 1 AS hi
            FROM kinds WHERE kind = :kind"""
    else:
        span = "SELECT 1 AS lo, max(rowid) AS hi FROM passages"
    if where.about and where.author:
        sql = _BY_AUTHOR_AND_WORDS
    elif where.about:
        sql = _BY_WORDS
    elif where.author:
        sql = _BY_AUTHOR
    else:
        sql = _IN_SPAN
    return await db.one(sql.replace("{span}", span), params)
