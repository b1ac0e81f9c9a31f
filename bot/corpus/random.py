"""Random picks, each one query. A passage's corpus-order ordinal is one indexed lookup away
from its rowid (``documents.ord_start``), so a random passage of the corpus, a kind or a
document is a random ordinal; an author's passages are numbered the same way
(``author_documents.a_ord``). See ``layout.py`` and migration 0011.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..core.db import Database
from .layout import ALL_ROWIDS, KIND_ORDER, kind_span
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


# {span} is a query giving the ordinal range (lo, hi) and the rowid range (rlo, rhi) allowed.
# The rowid of the passage at ordinal :n (the last document starting at or before it):
_ROWID_AT = """(SELECT d.first_rowid + {n} - d.ord_start FROM documents AS d
    WHERE d.ord_start <= {n} ORDER BY d.ord_start DESC LIMIT 1)"""

_IN_SPAN = f"""WITH span AS MATERIALIZED ({{span}}),
    pick AS MATERIALIZED (SELECT lo + abs(random()) % (hi - lo + 1) AS n FROM span WHERE hi >= lo)
    {SELECT_PASSAGE} WHERE p.rowid = (SELECT {_ROWID_AT.format(n="pick.n")} FROM pick)"""

# An author's passages in a span: their a_ord numbers there run from the first of the
# author's documents in the span to the last; the pick is a number in between.
_BY_AUTHOR = f"""WITH span AS MATERIALIZED ({{span}}),
    bounds AS MATERIALIZED (
        SELECT x.id AS aid, 0 AS first, x.passage_count - 1 AS last FROM authors AS x
        WHERE x.key = :author AND :whole
        UNION ALL
        SELECT x.id, min(ad.a_ord), max(ad.a_ord + ad.passage_count) - 1
        FROM authors AS x, span
        JOIN author_documents AS ad ON ad.author_id = x.id
        JOIN documents AS d ON d.id = ad.document_id AND d.ord_start BETWEEN span.lo AND span.hi
        WHERE x.key = :author AND NOT :whole),
    pick AS MATERIALIZED (
        SELECT aid, first + abs(random()) % (last - first + 1) AS n FROM bounds
        WHERE last >= first),
    hit AS MATERIALIZED (
        SELECT ad.author_id, ad.document_id, pick.n - ad.a_ord AS k FROM pick
        JOIN author_documents AS ad ON ad.author_id = pick.aid AND ad.a_ord = (
            SELECT max(a_ord) FROM author_documents WHERE author_id = pick.aid
            AND a_ord <= pick.n))
    SELECT {PASSAGE_COLUMNS} FROM hit
    JOIN passages AS p ON p.author_id = hit.author_id AND p.document_id = hit.document_id
        AND p.author_seq = hit.k
    {PASSAGE_JOINS}"""

_BY_WORDS = f"""WITH span AS MATERIALIZED ({{span}}),
    matches AS MATERIALIZED (
        SELECT count(*) AS n FROM (SELECT 1 FROM passages_fts, span WHERE passages_fts MATCH :q
            AND passages_fts.rowid BETWEEN span.rlo AND span.rhi LIMIT :cap)),
    throw AS MATERIALIZED (
        SELECT lo + abs(random()) % (hi - lo + 1) AS n, abs(random()) AS roll FROM span
        WHERE hi >= lo),
    dice AS MATERIALIZED (SELECT {_ROWID_AT.format(n="throw.n")} AS start, roll FROM throw)
    {SELECT_PASSAGE} WHERE p.rowid = CASE
        WHEN (SELECT n FROM matches) = 0 THEN NULL
        WHEN (SELECT n FROM matches) < :cap THEN (
            SELECT f.rowid FROM passages_fts AS f, span WHERE passages_fts MATCH :q
                AND f.rowid BETWEEN span.rlo AND span.rhi ORDER BY f.rowid LIMIT 1
                OFFSET (SELECT roll % n FROM dice, matches))
        ELSE coalesce(
            (SELECT f.rowid FROM passages_fts AS f, span, dice WHERE passages_fts MATCH :q
                AND f.rowid BETWEEN dice.start AND span.rhi ORDER BY f.rowid LIMIT 1),
            (SELECT f.rowid FROM passages_fts AS f, span WHERE passages_fts MATCH :q
                AND f.rowid BETWEEN span.rlo AND span.rhi ORDER BY f.rowid LIMIT 1))
        END"""

# Words and an author together (rare): among the first RANDOM_CANDIDATE_CAP such matches.
_BY_AUTHOR_AND_WORDS = f"""WITH span AS MATERIALIZED ({{span}}),
    candidates AS MATERIALIZED (
        SELECT p.rowid AS r FROM passages_fts AS f, span
        JOIN passages AS p ON p.rowid = f.rowid
        JOIN authors AS a ON a.id = p.author_id AND a.key = :author
        WHERE passages_fts MATCH :q AND f.rowid BETWEEN span.rlo AND span.rhi
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
        "whole": not (where.document or where.kind),  # the author's numbers are all in range
    }
    if where.about:
        params["q"] = parse_query(where.about).expression
        if params["q"] is None:
            return None
    if params["document"]:
        kind_too = " AND kind = :kind" if params["kind"] else ""
        span = f"""SELECT ord_start AS lo, ord_start + passage_count - 1 AS hi,
            first_rowid AS rlo, first_rowid + passage_count - 1 AS rhi
            FROM documents WHERE slug = :document{kind_too}"""
    elif params["kind"]:
        if params["kind"] not in KIND_ORDER:
            return None
        rlo, rhi = kind_span(params["kind"])
        span = f"""SELECT ord_start AS lo, ord_start + passage_count - 1 AS hi,
            {rlo} AS rlo, {rhi} AS rhi FROM kinds WHERE kind = :kind"""
    else:
        rlo, rhi = ALL_ROWIDS
        span = f"""SELECT 0 AS lo, coalesce(sum(passage_count), 0) - 1 AS hi,
            {rlo} AS rlo, {rhi} AS rhi FROM kinds"""
    if where.about and where.author:
        sql = _BY_AUTHOR_AND_WORDS
    elif where.about:
        sql = _BY_WORDS
    elif where.author:
        sql = _BY_AUTHOR
    else:
        sql = _IN_SPAN
    return await db.one(sql.replace("{span}", span), params)
