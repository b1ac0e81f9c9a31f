"""Full-text search over the corpus (FTS5, bm25) and "more like this"."""

from __future__ import annotations

from dataclasses import dataclass

from ..core.db import Database
from .query import SearchQuery, parse_query, similarity_query
from .rows import PASSAGE_COLUMNS, PASSAGE_JOINS, StoredPassage, passage_from_row

#: Markers around highlighted words in search snippets; renderers turn them into bold text.
HIGHLIGHT_START = "\x02"
HIGHLIGHT_END = "\x03"
#: Search ranks at most this many matches. Beyond it, the best of the first RANK_CAP matches (in
#: rowid order: by kind, then document id, see ``layout.py``) are shown: ranking every match of
#: a stopword costs seconds on a large corpus. (Issue 12 replaces this cap with true top-k.)
RANK_CAP = 1000

_COUNT = "SELECT count(*) FROM (SELECT 1 FROM passages_fts WHERE passages_fts MATCH ? LIMIT ?)"


@dataclass(frozen=True, slots=True)
class SearchHit:
    passage: StoredPassage
    snippet: str  # text with HIGHLIGHT_START/END around matched words


@dataclass(frozen=True, slots=True)
class SearchResults:
    query: SearchQuery
    hits: tuple[SearchHit, ...]
    total: int  # matches counted, at most RANK_CAP
    offset: int

    @property
    def capped(self) -> bool:
        """True when there are more than RANK_CAP matches and only the first were ranked."""
        return self.total >= RANK_CAP


class PassageSearch:
    """Searches over the ``passages_fts`` index of a :class:`~bot.core.db.Database`."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def search(
        self, query: str | SearchQuery, *, limit: int = 5, offset: int = 0
    ) -> SearchResults:
        """Passages matching ``query``, best first (bm25), with highlighted snippets."""
        parsed = parse_query(query) if isinstance(query, str) else query
        expression = parsed.expression
        if expression is None:
            return SearchResults(parsed, (), 0, offset)
        # Count up to RANK_CAP matches in rowid order (cheap: no ranking), then rank only those:
        # with fewer matches the cutoff is the last match, so every match is ranked.
        score = "bm25(passages_fts, 1.0, 0.5, 0.5)"
        if any(len(t.words) > 1 for t in parsed.terms if not t.excluded):
            # bm25 weighs a phrase by how many passages contain it, which it counts over the
            # whole index: 60-100 ms at 1M for a phrase of common words. Past RANK_CAP matches
            # the results are flagged as capped anyway, so show those in corpus order instead.
            probe = await self.db.one(_COUNT, (expression, RANK_CAP))
            if int(probe[0]) >= RANK_CAP:
                score = "f.rowid"
        sql = f"""
            WITH probe AS MATERIALIZED (
                SELECT count(*) AS n, max(rowid) AS cutoff FROM (
                    SELECT rowid FROM passages_fts WHERE passages_fts MATCH :q LIMIT :cap)),
            best AS MATERIALIZED (
                SELECT f.rowid AS r, {score} AS score
                FROM passages_fts AS f, probe
                WHERE passages_fts MATCH :q AND f.rowid <= probe.cutoff
                ORDER BY score LIMIT :limit OFFSET :offset)
            SELECT {PASSAGE_COLUMNS},
                (SELECT snippet(passages_fts, 0, :hs, :he, '…', 24) FROM passages_fts
                    WHERE passages_fts MATCH :q AND rowid = best.r),
                (SELECT n FROM probe)
            FROM best JOIN passages AS p ON p.rowid = best.r {PASSAGE_JOINS}
            ORDER BY best.score"""
        params = {
            "q": expression,
            "cap": RANK_CAP,
            "limit": max(1, limit),
            "offset": max(0, offset),
            "hs": HIGHLIGHT_START,
            "he": HIGHLIGHT_END,
        }
        rows = await self.db.all(sql, params)
        if rows:
            total = int(rows[0][13])
        else:
            total = int((await self.db.one(_COUNT, (expression, RANK_CAP)))[0])
        hits = tuple(SearchHit(passage_from_row(r), r[12] or r[11][:200]) for r in rows)
        return SearchResults(parsed, hits, total, offset)

    async def related(self, source: StoredPassage, *, limit: int = 5) -> list[StoredPassage]:
        """Passages sharing the most distinctive words of ``source`` (not itself)."""
        query = similarity_query(source.text)
        if query.expression is None:
            return []
        results = await self.search(query, limit=limit + 1)
        return [h.passage for h in results.hits if h.passage.id != source.id][:limit]
