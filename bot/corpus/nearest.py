"""The stored passage vectors in memory, and the passages nearest a text or a passage."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import sqlite3
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.db import Database
from ..core.worker import Worker
from .meaning import DIMS, MODEL, SCALE, embedder

log = logging.getLogger(__name__)

#: The vectors are embedded again at most this often while the corpus keeps changing...
REBUILD_EVERY = 30.0
#: ...and read into memory again at most this often while they arrive.
RELOAD_EVERY = 10.0
#: How long the first search waits for the stored vectors to be read (1M passages: ~1 s).
FIRST_READ_WAIT = 0.5
_CHUNK = 4096  # rows scanned per step: 1 MB of float32, within a core's cache (measured best)
#: From this many vectors the scan is split over two threads.
SPLIT_FROM = 200_000
#: The k-th best score is first looked for in every this-many-th score.
_SAMPLE_EVERY = 64
#: The answers to this many recent questions are kept: every page of a query asks again.
KEPT_ANSWERS = 256


@dataclass(frozen=True, slots=True)
class _Vectors:
    version: tuple[str, str]  # (corpus_meta 'vectors', 'generation') when read
    matrix: Any  # (n, DIMS) int8, rows in rowid order
    rowids: Any  # (n,) int64, sorted


def _read(path: Path, version: tuple[str, str]) -> _Vectors:
    import numpy as np

    with sqlite3.connect(path, timeout=30) as connection:
        rows = connection.execute(
            """SELECT d.first_rowid, v.vectors FROM document_vectors AS v
            JOIN documents AS d ON d.id = v.document_id AND d.content_hash = v.content_hash
                AND length(v.vectors) = d.passage_count * ?
            WHERE v.model = ? ORDER BY d.first_rowid""",
            (DIMS, MODEL),
        ).fetchall()
    blocks = [np.frombuffer(b, dtype=np.int8).reshape(-1, DIMS) for _, b in rows]
    rowids = [
        np.arange(int(f), int(f) + len(a), dtype=np.int64)
        for (f, _), a in zip(rows, blocks, strict=True)
    ]
    if not blocks:
        return _Vectors(version, np.zeros((0, DIMS), np.int8), np.zeros(0, np.int64))
    return _Vectors(version, np.concatenate(blocks), np.concatenate(rowids))


def _nearest(vectors: _Vectors, query: Any, k: int, skip: int | None) -> list[tuple[int, float]]:
    import numpy as np

    n = len(vectors.rowids)
    if n == 0:
        return []
    q = query.astype(np.float32)
    scores = np.empty(n, dtype=np.float32)

    def scan(span: tuple[int, int]) -> None:
        for start in range(span[0], span[1], _CHUNK):
            end = min(start + _CHUNK, span[1])
            scores[start:end] = vectors.matrix[start:end].astype(np.float32) @ q

    if n < SPLIT_FROM:
        scan((0, n))
    else:  # numpy lets go of the GIL in each step: both cores (1M: 16 ms -> 10 ms)
        list(_scanners().map(scan, [(0, n // 2), (n // 2, n)]))
    if skip is not None:
        at = int(np.searchsorted(vectors.rowids, skip))
        if at < n and vectors.rowids[at] == skip:
            scores[at] = -np.inf
    top = _best(scores, min(k, n))
    norm = SCALE * SCALE
    return [
        (int(vectors.rowids[i]), float(scores[i]) / norm) for i in top if np.isfinite(scores[i])
    ]


@functools.lru_cache(maxsize=1)
def _scanners() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(2, thread_name_prefix="lectern-vectors")


def _best(scores: Any, k: int) -> Any:
    """The places of the ``k`` highest scores, best first (ties: the first place first).
    Partitioning a million scores costs more than the scan. The k-th best of every
    _SAMPLE_EVERY-th score is a threshold at least k scores reach (those k among them), and
    usually not many more."""
    import numpy as np

    sample = scores[::_SAMPLE_EVERY]
    if len(sample) > k:
        threshold = np.partition(sample, len(sample) - k)[len(sample) - k]
        candidates = np.flatnonzero(scores >= threshold)
    else:
        candidates = np.arange(len(scores))
    return candidates[np.argsort(-scores[candidates], kind="stable")[:k]]


class MeaningIndex:
    """Keeps the vectors built (a worker process) and in memory (a thread), and finds the
    passages nearest a text. Never in a search's way: until vectors exist, it finds none."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.worker = Worker("bot.corpus.meaning", "search vectors", every=REBUILD_EVERY)
        self._vectors: _Vectors | None = None
        self._loading: asyncio.Task[None] | None = None
        self._last_load = -RELOAD_EVERY
        #: (vectors' version, text or rowid, k) -> nearest; only for the vectors in memory.
        self._answers: OrderedDict[tuple[Any, ...], list[tuple[int, float]]] = OrderedDict()

    @property
    def available(self) -> bool:
        return embedder() is not None

    async def keep_current(self) -> None:
        """Embed what changed in the background; read the vectors again when they did."""
        if not self.available or not self.db.path.exists():
            return
        meta = dict(
            await self.db.all(
                """SELECT key, value FROM corpus_meta
                WHERE key IN ('vectors', 'generation', 'vectors_for')"""
            )
        )
        generation = str(meta.get("generation", "0"))
        if meta.get("vectors_for") != generation:
            self.worker.start(str(self.db.path))
        version = (str(meta.get("vectors", "")), generation)
        if "vectors" not in meta or (self._vectors and self._vectors.version == version):
            return
        if self._loading is None and time.monotonic() - self._last_load >= RELOAD_EVERY:
            self._last_load = time.monotonic()
            self._loading = asyncio.create_task(self._load(version))
        if self._vectors is None and self._loading is not None:  # the first read: wait a little
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._loading), FIRST_READ_WAIT)

    async def _load(self, version: tuple[str, str]) -> None:
        try:
            self._vectors = await asyncio.to_thread(_read, self.db.path, version)
        except (sqlite3.Error, ValueError) as error:
            log.warning("Could not read the search vectors: %s", error)
        finally:
            self._loading = None

    @property
    def passages(self) -> int:
        return 0 if self._vectors is None else len(self._vectors.rowids)

    async def near_text(self, text: str, k: int) -> list[tuple[int, float]]:
        """The ``k`` passages nearest ``text`` with their cosine, best first."""
        model, vectors = embedder(), self._vectors
        if model is None or vectors is None or not text.strip():
            return []
        key = (vectors.version, "text", text, k)
        if key not in self._answers:
            found = await asyncio.to_thread(
                lambda: _nearest(vectors, model.embed([text])[0], k, None)
            )
            self._keep(key, found)
        return self._answered(key)

    async def near_passage(self, rowid: int, k: int) -> list[tuple[int, float]]:
        """The ``k`` passages nearest passage ``rowid`` (not itself), best first."""
        import numpy as np

        vectors = self._vectors
        if vectors is None or not len(vectors.rowids):
            return []
        at = int(np.searchsorted(vectors.rowids, rowid))
        if at >= len(vectors.rowids) or vectors.rowids[at] != rowid:
            return []
        key = (vectors.version, "passage", rowid, k)
        if key not in self._answers:
            self._keep(
                key, await asyncio.to_thread(_nearest, vectors, vectors.matrix[at], k, rowid)
            )
        return self._answered(key)

    def _keep(self, key: tuple[Any, ...], found: list[tuple[int, float]]) -> None:
        self._answers[key] = found
        while len(self._answers) > KEPT_ANSWERS:
            self._answers.popitem(last=False)

    def _answered(self, key: tuple[Any, ...]) -> list[tuple[int, float]]:
        self._answers.move_to_end(key)
        return list(self._answers[key])

    async def close(self, grace: float = 0.0) -> None:
        await self.worker.close(grace)
        if self._loading is not None:
            await self._loading
