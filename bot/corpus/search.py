"""Full-text search over the corpus (FTS5, bm25) and "more like this".

A query runs in two tiers: the words as typed (accents, case and quotes never matter: the index
folds them), then the corpus's other forms of its words ("weight" also finds "weights"), ranked
after every exact-form match. ``ranking.py`` finds each tier's best matches at any corpus size.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace

from ..core.db import Database
from . import pairs
from .champions import CHAMPION_DF, Champions
from .fusion import MAX_ADDED, fuse, meaning_text
from .lexicon import Lexicon, Vocabulary
from .nearest import MeaningIndex
from .query import SearchQuery, parse_query, similarity_query
from .ranking import Ranker
from .rows import PASSAGE_COLUMNS, PASSAGE_JOINS, StoredPassage, passage_from_row
from .scoring import Group, Shape, positions
from .tiers import shapes
from .tokens import snippet, tokens

#: Markers around highlighted words in search snippets; renderers turn them into bold text.
HIGHLIGHT_START = "\x02"
HIGHLIGHT_END = "\x03"
#: Without a vocabulary yet (the first seconds after a new corpus), at most this many matches
#: are ranked: the best of the first RANK_CAP in rowid order (by kind, then document).
RANK_CAP = 1000
#: Meaning re-orders the first this many results, and adds to them when they are all there
#: are, for a query of SENTENCE_WORDS words or more (a sentence says what it means); one or two
#: words are searched as words, and by meaning only when no passage has them.
FUSE_DEPTH = 20
SENTENCE_WORDS = 3

_COUNT = "SELECT count(*) FROM (SELECT 1 FROM passages_fts WHERE passages_fts MATCH ? LIMIT ?)"


@dataclass(frozen=True, slots=True)
class SearchHit:
    passage: StoredPassage
    snippet: str  # text with HIGHLIGHT_START/END around matched words


@dataclass(frozen=True, slots=True)
class SearchResults:
    query: SearchQuery
    hits: tuple[SearchHit, ...]
    total: int  # matches counted; a lower bound when ``capped``
    offset: int
    capped: bool = False  # there are more matches than ``total``
    reachable: int = 0  # how many results paging reaches
    meaning_only: int = 0  # of ``total``, passages found by meaning without the words


@dataclass(frozen=True, slots=True)
class _Page:
    tiers: list[list[int]]  # the page's exact-form results, then its other-form ones
    total: int
    capped: bool
    reachable: int

    @property
    def rowids(self) -> list[int]:
        return [r for tier in self.tiers for r in tier]


class PassageSearch:
    """Searches over the ``passages_fts`` index of a :class:`~bot.core.db.Database`, and by
    meaning when the ``meaning`` extra is installed."""

    def __init__(
        self,
        db: Database,
        lexicon: Lexicon,
        champions: Champions,
        meaning: MeaningIndex | None = None,
    ) -> None:
        self.db = db
        self.lexicon = lexicon
        self.champions = champions
        self.meaning = meaning
        self.ranker = Ranker(db, champions)

    async def search(
        self, query: str | SearchQuery, *, limit: int = 5, offset: int = 0
    ) -> SearchResults:
        """Passages matching ``query``, best first (bm25, fused with meaning), with snippets."""
        parsed = parse_query(query) if isinstance(query, str) else query
        limit, offset = max(1, limit), max(0, offset)
        if parsed.expression is None:
            return SearchResults(parsed, (), 0, offset)
        vocabulary = await self.lexicon.current()
        if vocabulary is None:
            return await self._first_matches(parsed, limit, offset)
        await self.champions.keep_current(vocabulary)
        await self.ranker.dense.read_ahead(vocabulary)
        exact, other = shapes(parsed, vocabulary)
        groups = [*exact.wanted, *(other.wanted if other else ())]
        meaning = self.meaning
        if meaning is not None:
            await meaning.keep_current()
        wanted = meaning_text(parsed)
        fusing = bool(meaning and meaning.passages and offset < FUSE_DEPTH + MAX_ADDED)
        fusing = fusing and not await self._stopword_phrases(parsed, vocabulary)
        if not fusing or len(wanted.split()) < SENTENCE_WORDS:
            page = await self._lexical(exact, other, vocabulary, limit, offset)
            if not fusing or page.total or offset:
                hits = await self._hits(page.rowids, groups)
                return SearchResults(parsed, hits, page.total, offset, page.capped, page.reachable)
            top = page  # a word or two that no passage has: perhaps they mean something
            near = await meaning.near_text(wanted, FUSE_DEPTH)  # type: ignore[union-attr]
        else:  # a sentence says what it means: words and meaning together
            assert meaning is not None
            # One after the other: the vector scan runs in threads, in numpy steps that each
            # wait for the GIL while the word ranking scores in Python (measured 2-3x slower).
            near = await meaning.near_text(wanted, FUSE_DEPTH)
            top = await self._lexical(exact, other, vocabulary, FUSE_DEPTH, 0)
        complete = not top.capped and top.total <= FUSE_DEPTH
        order, added = fuse(top.tiers, near, extras=complete and not exact.excluded)
        rowids = order[offset : offset + limit]
        if len(rowids) < limit and not complete:  # past the fused head: the word ranking
            start = max(offset + len(rowids), len(order))  # the head is the words' first 20
            rest = await self._lexical(exact, other, vocabulary, limit - len(rowids), start)
            rowids += rest.rowids
        total, reachable = top.total + added, max(top.reachable, len(order))
        hits = await self._hits(rowids, groups)
        return SearchResults(parsed, hits, total, offset, top.capped, reachable, added)

    async def _stopword_phrases(self, parsed: SearchQuery, vocabulary: Vocabulary) -> bool:
        """Whether every term is a phrase of the corpus's stopwords (``"the of of"``; also a
        word the tokenizer splits, ``it's``): the reader wants those very words, in which a
        static model finds no meaning (their nearest passages are noise, and looking costs
        12 ms at 1M passages). Stopwords as the pairs index has them, from the vocabulary, so
        the answer does not change when that index is built."""
        wanted = [t for t in parsed.terms if not t.excluded]
        if not all(len(t.words) > 1 for t in wanted):
            return False
        rows, _ = await self.ranker.averages(await self.lexicon.corpus.generation())
        counts = [vocabulary.count(w) for t in wanted for w in t.words]
        return all(pairs.is_stopword(n, rows, CHAMPION_DF) for n in counts)

    async def _lexical(
        self, exact: Shape, other: Shape | None, vocabulary: Vocabulary, limit: int, offset: int
    ) -> _Page:
        generation = await self.lexicon.corpus.generation()
        ranked = await self.ranker.rank(exact, vocabulary, generation, limit=limit, offset=offset)
        tiers = [list(ranked.rowids), []]
        total, capped, reachable = ranked.total, ranked.more, ranked.reachable
        every_exact = not ranked.more and ranked.reachable >= ranked.total
        # The other forms are counted first, when that is cheap: ranking them may cost 30 ms
        # at 1M passages, for none (their count is the exact ones'), or for a later page only.
        counted = None
        if other is not None and every_exact:
            counted = await self.ranker.count(other, vocabulary, generation)
        if counted is not None and (
            counted == ranked.total or (counted > ranked.total and offset + limit < ranked.total)
        ):
            total += counted - ranked.total  # it counts the exact ones too
        elif other is not None and every_exact:  # other forms come after every exact one
            if not ranked.total:  # none to leave out: the same ranking, for half the walk
                other = replace(other, minus=None)
            skip = max(0, offset - ranked.total)
            more = await self.ranker.rank(other, vocabulary, generation, limit=limit, offset=skip)
            tiers[1] = list(more.rowids[: limit - len(tiers[0])])
            total, capped = total + more.total, more.more
            reachable = ranked.total + more.reachable
        return _Page(tiers, total, capped, reachable)

    async def _hits(self, rowids: list[int], groups: list[Group]) -> tuple[SearchHit, ...]:
        if not rowids:
            return ()
        rows = await self.db.all(
            f"""SELECT {PASSAGE_COLUMNS}, p.rowid FROM json_each(?) AS j
            CROSS JOIN passages AS p ON p.rowid = j.value {PASSAGE_JOINS}""",
            (json.dumps(rowids),),
        )
        by_rowid = {int(r[12]): passage_from_row(r) for r in rows}
        hits = []
        for rowid in rowids:
            passage = by_rowid.get(rowid)
            if passage is not None:  # gone in a reload since it was ranked
                hits.append(SearchHit(passage, highlighted(passage.text, groups)))
        return tuple(hits)

    async def _first_matches(self, parsed: SearchQuery, limit: int, offset: int) -> SearchResults:
        """The best of the first RANK_CAP matches: only until the vocabulary is built."""
        shape, _ = shapes(parsed, None)
        expression = shape.fts()
        rows = await self.db.all(
            """WITH probe AS MATERIALIZED (SELECT max(rowid) AS cutoff FROM (
                SELECT rowid FROM passages_fts WHERE passages_fts MATCH :q LIMIT :cap))
            SELECT f.rowid FROM passages_fts AS f, probe WHERE passages_fts MATCH :q
                AND f.rowid <= probe.cutoff
            ORDER BY bm25(passages_fts, 1.0, 0.5, 0.5), f.rowid LIMIT :limit OFFSET :offset""",
            {"q": expression, "cap": RANK_CAP, "limit": limit, "offset": offset},
        )
        total = int((await self.db.one(_COUNT, (expression, RANK_CAP)))[0])
        hits = await self._hits([int(r[0]) for r in rows], list(shape.wanted))
        return SearchResults(parsed, hits, total, offset, total >= RANK_CAP, min(total, RANK_CAP))

    async def related(self, source: StoredPassage, *, limit: int = 5) -> list[StoredPassage]:
        """Passages sharing the rarest words of ``source`` and nearest it in meaning (fused),
        not itself."""
        vocabulary = await self.lexicon.current()
        query = similarity_query(source.text, vocabulary.count if vocabulary else None)
        depth = max(limit + 1, 20)
        words: list[int] = []
        if query.expression is not None and vocabulary is not None:
            exact, other = shapes(query, vocabulary)
            words = (await self._lexical(exact, None, vocabulary, depth, 0)).rowids
            if len(words) < depth and other is not None:  # only then their other forms
                words = (await self._lexical(exact, other, vocabulary, depth, 0)).rowids
        elif query.expression is not None:  # no vocabulary yet
            words = await self._rowids(await self.search(query, limit=depth))
        own = await self._rowid(source.id)
        near: list[tuple[int, float]] = []
        if self.meaning is not None and self.meaning.passages:
            await self.meaning.keep_current()
            near = await self.meaning.near_passage(own, depth)
        order, _ = fuse([[r for r in words if r != own]], near, extras=True)
        hits = await self._hits([r for r in order if r != own][:limit], [])
        return [h.passage for h in hits]

    async def close(self, grace: float = 0.0) -> None:
        """Stop the background builds (champion lists, vectors), after letting them finish for
        up to ``grace`` seconds."""
        await self.champions.close(grace)
        await self.ranker.dense.index.close()
        if self.meaning is not None:
            await self.meaning.close(grace)
        await self.lexicon.close()

    async def _rowids(self, results: SearchResults) -> list[int]:
        ids = [h.passage.id for h in results.hits]
        marks = ",".join("?" * len(ids)) or "NULL"
        found = dict(
            await self.db.all(f"SELECT id, rowid FROM passages WHERE id IN ({marks})", ids)
        )
        return [int(found[i]) for i in ids if i in found]

    async def _rowid(self, passage_id: str) -> int:
        row = await self.db.one("SELECT rowid FROM passages WHERE id = ?", (passage_id,))
        return int(row[0]) if row else -1


def highlighted(text: str, groups: list[Group]) -> str:
    """A snippet of ``text`` around the words of ``groups`` it contains, marked."""
    words = tokens(text)
    hits: set[int] = set()
    for group in groups:
        for phrase in group.phrases:
            for at in positions(words, phrase):
                hits.update(range(at, at + len(phrase.words)))
    return snippet(text, hits, start=HIGHLIGHT_START, end=HIGHLIGHT_END)
