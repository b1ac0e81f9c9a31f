"""'Did you mean': corrections from the corpus's own vocabulary (FTS5's fts5vocab), with
rapidfuzz for the edit distance. Cached per corpus generation."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from dataclasses import dataclass

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from ..core.db import Database
from .query import SearchQuery, Term
from .store import CorpusStore

#: A known word is still corrected when a neighbour is in this many times more passages...
FAR_MORE = 20
#: ...unless it is in this many passages itself: then it is a word, not a slip (and the
#: search pays nothing for the check).
SURELY_A_WORD = 3
#: Terms kept for suggestions: the most frequent first (a typo's target is rarely a hapax).
MAX_TERMS = 200_000
#: How long a search waits for a vocabulary being built before going on without it.
BUILD_WAIT = 0.5
#: While the corpus keeps changing (a long reload), rebuild the vocabulary at most this often.
REBUILD_EVERY = 30.0

log = logging.getLogger(__name__)


def allowed_distance(word: str) -> int:
    return 1 if len(word) <= 5 else 2


@dataclass(frozen=True, slots=True)
class _Vocabulary:
    generation: int
    terms: list[str]
    passages: dict[str, int]  # term -> how many passages have it


def _make_vocabulary(generation: int, rows: list[tuple[str, int]]) -> _Vocabulary:
    terms = [t for t, _ in rows if t.isalpha()]
    return _Vocabulary(generation, terms, dict(rows))


class Speller:
    """Suggestions from the vocabulary of the current corpus, or of a recent one.

    A search never waits long for the vocabulary: it is read from ``search_vocabulary`` when
    that was built for this corpus generation, otherwise built on a connection of its own
    (a search waits up to BUILD_WAIT for it, then goes on with the previous vocabulary, or
    with no suggestions). During a long reload the generation moves on every commit: the
    vocabulary is rebuilt at most every REBUILD_EVERY seconds then.
    """

    def __init__(self, db: Database, corpus: CorpusStore) -> None:
        self.db = db
        self.corpus = corpus
        self._vocabulary: _Vocabulary | None = None
        self._building: asyncio.Task[_Vocabulary] | None = None
        self._last_build = -REBUILD_EVERY  # monotonic time this process last built one

    async def _current(self) -> _Vocabulary | None:
        generation = await self.corpus.generation()
        known = self._vocabulary
        if known is not None and known.generation == generation:
            return known
        stored = await self.db.one("SELECT value FROM corpus_meta WHERE key = 'vocabulary'")
        if stored is not None and str(stored[0]) == str(generation):
            rows = await self.db.all("SELECT term, passages FROM search_vocabulary")
            self._vocabulary = _make_vocabulary(generation, [(str(t), int(n)) for t, n in rows])
            return self._vocabulary
        recent = known is not None and time.monotonic() - self._last_build < REBUILD_EVERY
        if self._building is None and not recent:
            self._last_build = time.monotonic()
            self._building = asyncio.create_task(self._build(generation))
            self._building.add_done_callback(self._built)
        if self._building is not None:
            # Never a reason for a search to fail: a build that fails is logged by _built.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(self._building), BUILD_WAIT)
        return self._vocabulary

    def _built(self, task: asyncio.Task[_Vocabulary]) -> None:
        self._building = None
        if task.cancelled():
            return
        if task.exception() is not None:
            log.warning("Could not build the search vocabulary: %s", task.exception())
            return
        self._vocabulary = task.result()

    async def _build(self, generation: int) -> _Vocabulary:
        async with self.db.session() as session:
            rows = await session.all(
                """SELECT term, doc FROM passages_vocab WHERE length(term) >= 3
                ORDER BY doc DESC LIMIT ?""",
                (MAX_TERMS,),
            )
            pairs = [(str(t), int(d)) for t, d in rows]
            with contextlib.suppress(sqlite3.Error):  # read-only or busy: keep it in memory
                await self._store(session, generation, pairs)
        return _make_vocabulary(generation, pairs)

    async def _store(
        self, session: Database, generation: int, pairs: list[tuple[str, int]]
    ) -> None:
        async with session.immediate():
            if await session.one(  # the corpus may have moved on meanwhile
                "SELECT 1 FROM corpus_meta WHERE key = 'generation' AND value = ?",
                (str(generation),),
            ):
                await session.run("DELETE FROM search_vocabulary")
                await session.run_many("INSERT INTO search_vocabulary VALUES (?, ?)", pairs)
                await session.run(
                    "INSERT OR REPLACE INTO corpus_meta VALUES ('vocabulary', ?)",
                    (str(generation),),
                )

    async def suggest(self, word: str) -> str | None:
        """A better-known spelling of ``word``, or None when it is known well enough."""
        vocabulary = await self._current()
        return _suggest(vocabulary, word) if vocabulary else None

    async def correct(self, query: SearchQuery) -> SearchQuery | None:
        """``query`` with every word the corpus does not know replaced, or None if none is."""
        vocabulary = await self._current()  # one look at the generation for the whole query
        if vocabulary is None:
            return None
        changed = False
        terms: list[Term] = []
        for term in query.terms:
            if term.prefix:
                terms.append(term)
                continue
            words = []
            for w in term.words:
                better = _suggest(vocabulary, w)
                changed |= better is not None
                words.append(better or w)
            terms.append(Term(tuple(words), term.prefix, term.excluded))
        return SearchQuery(tuple(terms), query.notes, query.match_any) if changed else None


def _suggest(vocabulary: _Vocabulary, word: str) -> str | None:
    """A better-known spelling of ``word`` in ``vocabulary``, or None."""
    word = word.casefold()
    if len(word) < 3 or not word.isalpha():
        return None
    known = vocabulary.passages.get(word, 0)
    if known >= SURELY_A_WORD:
        return None
    found = process.extract(
        word,
        vocabulary.terms,
        scorer=Levenshtein.distance,
        score_cutoff=allowed_distance(word),
        limit=20,
    )
    candidates = [(d, -vocabulary.passages[t], t) for t, d, _ in found if t != word]
    if not candidates:
        return None
    _, minus_count, best = min(candidates)
    if known and -minus_count < FAR_MORE * known:
        return None
    return best
