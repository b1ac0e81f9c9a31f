"""The corpus's vocabulary: every indexed word, how many passages have it, and its other forms.

Reading it from FTS5 (``fts5vocab``) walks the whole index (~7 s at 1M passages), so it is built
once per corpus generation on a connection of its own and kept in ``search_vocabulary`` for every
process and restart. Search uses it for idf and word forms, "Did you mean" for spelling.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from ..core.db import Database
from .store import CorpusStore
from .tokens import stem

#: Terms kept: the most frequent first. A rarer one is in fewer passages than the last kept.
MAX_TERMS = 200_000
#: How long a search waits for a vocabulary being built before going on without it.
BUILD_WAIT = 0.5
#: While the corpus keeps changing (a long reload), rebuild the vocabulary at most this often.
REBUILD_EVERY = 30.0

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Vocabulary:
    generation: int
    passages: dict[str, int]  # term -> how many passages have it
    spellable: list[str]  # words worth suggesting: letters only, 3 or more
    forms: dict[str, tuple[str, ...]]  # stem -> the terms with it, most common first
    least: int  # the smallest count kept: any other term is in at most this many passages
    ordered: list[str]  # every term, sorted: prefixes are ranges of it

    def sorted_terms(self) -> list[str]:
        return self.ordered

    def count(self, term: str) -> int:
        """How many passages have ``term`` (an upper bound for a term not kept)."""
        known = self.passages.get(term)
        if known is not None:
            return known
        return self.least if len(self.passages) >= MAX_TERMS else 0

    def knows(self, term: str) -> bool:
        """Whether ``count(term)`` is exact (every term is kept, or this one is)."""
        return term in self.passages or len(self.passages) < MAX_TERMS

    def other_forms(self, word: str) -> tuple[str, ...]:
        """The corpus's other forms of ``word`` ("weights" for "weight"), most common first."""
        return tuple(t for t in self.forms.get(stem(word), ()) if t != word)


def make_vocabulary(generation: int, rows: list[tuple[str, int, str]]) -> Vocabulary:
    forms: defaultdict[str, list[str]] = defaultdict(list)
    for term, _, root in rows:  # rows come most frequent first
        forms[root].append(term)
    return Vocabulary(
        generation,
        {t: n for t, n, _ in rows},
        [t for t, _, _ in rows if len(t) >= 3 and t.isalpha()],
        {root: tuple(terms) for root, terms in forms.items()},
        min((n for _, n, _ in rows), default=0),
        sorted(t for t, _, _ in rows),
    )


class Lexicon:
    """The vocabulary of the current corpus, or of a recent one.

    A search never waits long for it: it is read from ``search_vocabulary`` when that was built
    for this corpus generation, otherwise built on a connection of its own (a search waits up to
    BUILD_WAIT for it, then goes on with the previous vocabulary, or without one). During a long
    reload the generation moves on every commit: it is rebuilt at most every REBUILD_EVERY then.
    """

    def __init__(self, db: Database, corpus: CorpusStore) -> None:
        self.db = db
        self.corpus = corpus
        self._vocabulary: Vocabulary | None = None
        self._building: asyncio.Task[Vocabulary] | None = None
        self._last_build = -REBUILD_EVERY  # monotonic time this process last built one
        #: Called with each vocabulary this process builds and stores (search aids follow it).
        self.on_built: list[Callable[[Vocabulary], None]] = []

    async def current(self) -> Vocabulary | None:
        generation = await self.corpus.generation()
        known = self._vocabulary
        if known is not None and known.generation == generation:
            return known
        stored = await self.db.one("SELECT value FROM corpus_meta WHERE key = 'vocabulary'")
        if stored is not None and str(stored[0]) == str(generation):
            rows = await self.db.all(
                "SELECT term, passages, stem FROM search_vocabulary ORDER BY passages DESC"
            )
            self._vocabulary = make_vocabulary(
                generation, [(str(t), int(n), str(s)) for t, n, s in rows]
            )
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

    async def close(self) -> None:
        """Let a vocabulary build in progress end (its connection is its own)."""
        building = self._building
        if building is not None:
            building.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await building

    def _built(self, task: asyncio.Task[Vocabulary]) -> None:
        self._building = None
        if task.cancelled():
            return
        if task.exception() is not None:
            log.warning("Could not build the search vocabulary: %s", task.exception())
            return
        self._vocabulary = task.result()
        for listener in self.on_built:
            listener(self._vocabulary)

    async def _build(self, generation: int) -> Vocabulary:
        async with self.db.session() as session:
            rows = await session.all(
                "SELECT term, doc FROM passages_vocab ORDER BY doc DESC LIMIT ?", (MAX_TERMS,)
            )
            pairs = [(str(t), int(d)) for t, d in rows]
            triples = await asyncio.to_thread(lambda: [(t, d, stem(t)) for t, d in pairs])
            with contextlib.suppress(sqlite3.Error):  # read-only or busy: keep it in memory
                await self._store(session, generation, triples)
        return make_vocabulary(generation, triples)

    async def _store(
        self, session: Database, generation: int, rows: list[tuple[str, int, str]]
    ) -> None:
        async with session.immediate():
            if await session.one(  # the corpus may have moved on meanwhile
                "SELECT 1 FROM corpus_meta WHERE key = 'generation' AND value = ?",
                (str(generation),),
            ):
                await session.run("DELETE FROM search_vocabulary")
                await session.run_many("INSERT INTO search_vocabulary VALUES (?, ?, ?)", rows)
                await session.run(
                    "INSERT OR REPLACE INTO corpus_meta VALUES ('vocabulary', ?)",
                    (str(generation),),
                )
