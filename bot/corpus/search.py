"""Full-text search over the corpus (FTS5, bm25) and "more like this".

A query runs in two tiers: the words as typed (accents, case and quotes never matter: the index
folds them), then the corpus's other forms of its words ("weight" also finds "weights"), ranked
after every exact-form match. ``ranking.py`` finds each tier's best matches at any corpus size.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from ..core.db import Database
from .champions import Champions
from .lexicon import Lexicon, Vocabulary
from .query import SearchQuery, Term, parse_query, similarity_query
from .ranking import Ranker
from .rows import PASSAGE_COLUMNS, PASSAGE_JOINS, StoredPassage, passage_from_row
from .scoring import Group, Phrase, Shape, positions
from .tokens import snippet, tokens

#: Markers around highlighted words in search snippets; renderers turn them into bold text.
HIGHLIGHT_START = "\x02"
HIGHLIGHT_END = "\x03"
#: Without a vocabulary yet (the first seconds after a new corpus), at most this many matches
#: are ranked: the best of the first RANK_CAP in rowid order (by kind, then document).
RANK_CAP = 1000
#: At most this many other forms of a word are searched with it (the most common first).
MAX_FORMS = 8

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


def _term_group(term: Term, vocabulary: Vocabulary | None, forms: bool) -> Group:
    phrases = [Phrase(term.words, term.prefix)]
    if vocabulary is not None and len(term.words) > 1 and not term.prefix:
        joined = "".join(term.words)  # "e-mail" is also "email"
        if vocabulary.count(joined):
            phrases.append(Phrase((joined,)))
    if forms and vocabulary is not None and len(term.words) == 1 and not term.prefix:
        word = term.words[0]
        phrases += [Phrase((w,)) for w in vocabulary.other_forms(word)[:MAX_FORMS]]
        phrases += [Phrase(pair) for pair in _hyphenated(word, vocabulary)]
    return Group(tuple(phrases))


def _hyphenated(word: str, vocabulary: Vocabulary) -> list[tuple[str, str]]:
    """Ways the corpus may have written ``word`` with a hyphen: "email" as "e-mail"."""
    if len(word) < 5 or not word.isalpha():
        return []
    pairs = [(word[:i], word[i:]) for i in range(1, len(word))]
    return [p for p in pairs if vocabulary.passages.get(p[0]) and vocabulary.passages.get(p[1])][:3]


def shapes(query: SearchQuery, vocabulary: Vocabulary | None) -> tuple[Shape, Shape | None]:
    """The exact-form tier of ``query`` and, when its words have other forms, the other tier."""
    wanted = [t for t in query.terms if not t.excluded]
    excluded = tuple(_term_group(t, vocabulary, True) for t in query.terms if t.excluded)
    exact = Shape(tuple(_term_group(t, vocabulary, False) for t in wanted), excluded,
                  query.match_any)  # fmt: skip
    widened = tuple(_term_group(t, vocabulary, True) for t in wanted)
    if widened == exact.wanted:
        return exact, None
    return exact, Shape(widened, excluded, query.match_any, minus=exact)


class PassageSearch:
    """Searches over the ``passages_fts`` index of a :class:`~bot.core.db.Database`."""

    def __init__(self, db: Database, lexicon: Lexicon, champions: Champions) -> None:
        self.db = db
        self.lexicon = lexicon
        self.champions = champions
        self.ranker = Ranker(db, champions)

    async def search(
        self, query: str | SearchQuery, *, limit: int = 5, offset: int = 0
    ) -> SearchResults:
        """Passages matching ``query``, best first (bm25), with highlighted snippets."""
        parsed = parse_query(query) if isinstance(query, str) else query
        limit, offset = max(1, limit), max(0, offset)
        if parsed.expression is None:
            return SearchResults(parsed, (), 0, offset)
        vocabulary = await self.lexicon.current()
        if vocabulary is None:
            return await self._first_matches(parsed, limit, offset)
        await self.champions.keep_current(vocabulary)
        exact, other = shapes(parsed, vocabulary)
        ranked = await self.ranker.rank(exact, vocabulary, limit=limit, offset=offset)
        rowids = list(ranked.rowids)
        total, capped, reachable = ranked.total, ranked.more, ranked.reachable
        if other is not None and not ranked.more:  # other forms come after every exact one
            skip = max(0, offset - ranked.total)
            more = await self.ranker.rank(other, vocabulary, limit=limit, offset=skip)
            rowids += list(more.rowids[: limit - len(rowids)])
            total, capped = total + more.total, more.more
            reachable = ranked.total + more.reachable
        groups = [*exact.wanted, *(other.wanted if other else ())]
        hits = await self._hits(rowids, groups)
        return SearchResults(parsed, hits, total, offset, capped, reachable)

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
        """Passages sharing the most distinctive words of ``source`` (not itself)."""
        query = similarity_query(source.text)
        if query.expression is None:
            return []
        results = await self.search(query, limit=limit + 1)
        return [h.passage for h in results.hits if h.passage.id != source.id][:limit]


def highlighted(text: str, groups: list[Group]) -> str:
    """A snippet of ``text`` around the words of ``groups`` it contains, marked."""
    words = tokens(text)
    hits: set[int] = set()
    for group in groups:
        for phrase in group.phrases:
            for at in positions(words, phrase):
                hits.update(range(at, at + len(phrase.words)))
    return snippet(text, hits, start=HIGHLIGHT_START, end=HIGHLIGHT_END)
