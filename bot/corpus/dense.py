"""Dense frequencies: for each very common word, its weighted count in every passage, one byte
a passage, so a sentence of such words is ranked exactly in numpy (Lucene's dense postings).

FTS5 ranks ``it in when the i in`` by stepping through six of the longest index entries, each
step ~4 µs: 21 ms at 100k passages, 165 ms at 1M. The champion lists cannot prove its page
one either (their floors are too high), and the pairs index holds only words next to each
other. Here a word in at least a twentieth of the passages has an array of ``2 × aFreq`` (FTS5's
weighted count: 1 for a hit in the text, 0.5 in the title or author) indexed by the passage's
place in rowid order, beside every passage's rowid and length. A query of such words is their
arrays ANDed, and bm25 over the passages left, with FTS5's formula: under 1 ms at 1M for six
words. A word with a count over 255 somewhere gets no array (and such queries go the other
ways); so do queries whose matches would be too many to score at once (``DENSE_MOST``).

The arrays are built in the pairs index's pass over the corpus (``pairs.build``), written to a
table of the building process, and swapped in with the pairs index, under its stamp.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
from array import array
from collections import Counter, OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core.db import Database
from .fts_order import COUNT_CAP, Order
from .scoring import K1, B, Shape

#: A word in at least one passage in this many (and more than the lists' threshold) has an
#: array. Every stopword of the pairs index (a tenth) is one.
DENSE_SHARE = 20
#: The table searches read; a build fills ``<its building pairs table>_tf`` first.
TABLE = "search_dense"
SUFFIX = "_tf"
#: Keys of the two arrays every query needs; no word holds a space.
ROWIDS, LENGTHS = " rowids", " lengths"
#: Ranked here when the words would be together in at most this many passages if independent
#: (and are): scoring 50,000 passages takes numpy 2-3 ms at 1M, 500,000 took 20.
DENSE_MOST = 50_000
#: Bytes of arrays kept in memory between queries (at 1M passages: 1 MB a word)...
KEPT_BYTES = 48 * 2**20
#: ...of which the commonest words' fill this many when a process starts or a build ends:
#: read when first needed, five arrays took a sentence 20-36 ms at 1M (``DenseIndex.read_ahead``).
READ_AHEAD_BYTES = KEPT_BYTES * 3 // 4

log = logging.getLogger(__name__)


def is_dense(passages: int, rows: int, df: int) -> bool:
    """Whether a word in ``passages`` of the corpus's ``rows`` gets an array."""
    return passages > df and passages * DENSE_SHARE >= rows


class Frequencies:
    """Collects the arrays during a pass over every passage in rowid order (``add``)."""

    def __init__(self, words: frozenset[str], passages: int) -> None:
        self.words = words
        self.columns = {w: bytearray(passages) for w in words}
        self.too_many: set[str] = set()  # a count over 255 somewhere: no array
        self.rowids = array("q")
        self.lengths = array("I")
        self._fixed: dict[tuple[str, str], tuple[Counter[str], int]] = {}

    def add(self, rowid: int, text: list[str], title: list[str], author: list[str]) -> None:
        """One passage's words, column by column, in rowid order."""
        place = len(self.rowids)
        self.rowids.append(rowid)
        key = (" ".join(title), " ".join(author))
        if key not in self._fixed:  # the same for every passage of a document
            self._fixed[key] = Counter(title) + Counter(author), len(title) + len(author)
        fixed, fixed_length = self._fixed[key]
        self.lengths.append(len(text) + fixed_length)
        counted = Counter(text)  # in C, then only the dense words are looked at
        present = set(self.words.intersection(counted))
        present.update(self.words.intersection(fixed))
        for word in present:
            value = 2 * counted[word] + fixed[word]
            if value > 255:
                self.too_many.add(word)
            else:
                self.columns[word][place] = value

    def arrays(self) -> dict[str, bytes]:
        """Every array to store, by key: the words' and the rowids' and lengths'."""
        found = {w: bytes(c[: len(self.rowids)]) for w, c in self.columns.items()}
        for word in self.too_many:
            del found[word]
        return found | {ROWIDS: self.rowids.tobytes(), LENGTHS: self.lengths.tobytes()}


def write(writer: sqlite3.Connection, table: str, frequencies: Frequencies) -> list[str]:
    """Store the arrays in ``table``, one transaction each; the words that have one."""
    writer.execute(f"DROP TABLE IF EXISTS {table}")
    writer.execute(f"CREATE TABLE {table} (term TEXT PRIMARY KEY, tf BLOB NOT NULL)")
    found = frequencies.arrays()
    for term, blob in found.items():
        writer.execute(f"INSERT INTO {table} VALUES (?, ?)", (term, blob))
    return sorted(t for t in found if t not in (ROWIDS, LENGTHS))


@dataclass(frozen=True, slots=True)
class Loaded:
    """The arrays one query needs: each word's, and every passage's rowid and length."""

    rowids: np.ndarray
    lengths: np.ndarray
    columns: dict[str, np.ndarray]


def phrases_of(shape: Shape) -> set[str] | None:
    """The words of every phrase of ``shape``, or None when one is not a plain word."""
    found: set[str] = set()
    groups = [*shape.wanted, *shape.excluded]
    for group in groups:
        for phrase in group.phrases:
            if len(phrase.words) != 1 or phrase.prefix:
                return None
            found.add(phrase.words[0])
    if shape.minus is not None:
        inner = phrases_of(shape.minus)
        if inner is None:
            return None
        found |= inner
    return found


class DenseIndex:
    """Reads the stored arrays, keeping the recent ones (``KEPT_BYTES``)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._kept: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._kept_bytes = 0
        self._ahead: tuple[str, asyncio.Task[None]] | None = None  # (stamp, its reading)

    def read_ahead(self, stamp: str, words: list[str]) -> None:
        """Start reading, on a connection of its own, every passage's rowid and length and the
        arrays of ``words`` in that order while they fit in READ_AHEAD_BYTES, once per
        ``stamp``: the first sentences of common words then read nothing."""
        if self._ahead is None or self._ahead[0] != stamp:
            if self._ahead is not None:
                self._ahead[1].cancel()
            self._ahead = stamp, asyncio.create_task(self._read_ahead(stamp, words))

    async def settled(self) -> None:
        """Wait for a reading ahead to end (the benchmark's warm process)."""
        if self._ahead is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._ahead[1]

    async def close(self) -> None:
        if self._ahead is not None:
            self._ahead[1].cancel()
            await self.settled()

    async def _read_ahead(self, stamp: str, words: list[str]) -> None:
        try:
            read = await asyncio.to_thread(_read_arrays, self.db.path, stamp, words)
        except sqlite3.Error as error:
            log.warning("Could not read the dense arrays ahead: %s", error)
            return
        for key, values in reversed(read):  # the commonest last: the last to be dropped
            if (stamp, key) not in self._kept:
                self._keep((stamp, key), values)

    async def load(self, stamp: str, words: set[str]) -> Loaded | None:
        """The arrays of ``words`` stored under the pairs index's ``stamp`` (read by the
        caller before, and checked by it after, as a build may swap them meanwhile)."""
        keys = sorted({ROWIDS, LENGTHS, *words})
        missing = [k for k in keys if (stamp, k) not in self._kept]
        if missing:
            marks = ",".join("?" * len(missing))
            try:
                rows = await self.db.all(
                    f"SELECT term, tf FROM {TABLE} WHERE term IN ({marks})", missing
                )
            except sqlite3.OperationalError as error:  # swapped out since the stamp was read
                if "no such table" not in str(error):
                    raise
                return None
            for term, blob in rows:
                self._keep((stamp, str(term)), _array(str(term), blob))
        if any((stamp, k) not in self._kept for k in keys):
            return None
        for key in keys:
            self._kept.move_to_end((stamp, key))
        columns = {w: self._kept[stamp, w] for w in words}
        return Loaded(self._kept[stamp, ROWIDS], self._kept[stamp, LENGTHS], columns)

    def _keep(self, key: tuple[str, str], values: np.ndarray) -> None:
        self._kept[key] = values
        self._kept_bytes += values.nbytes
        while self._kept_bytes > KEPT_BYTES and len(self._kept) > 1:
            _, dropped = self._kept.popitem(last=False)
            self._kept_bytes -= dropped.nbytes


def _array(key: str, blob: bytes) -> np.ndarray:
    """A stored array: the rowids (8 bytes each), the lengths (4) or a word's counts (1)."""
    dtype = np.int64 if key == ROWIDS else np.uint32 if key == LENGTHS else np.uint8
    return np.frombuffer(bytes(blob), dtype=dtype)


def _read_arrays(path: Path, stamp: str, words: list[str]) -> list[tuple[str, np.ndarray]]:
    """(key, array) for ``DenseIndex.read_ahead``, in its order; none unless the stored arrays
    are ``stamp``'s, read in one transaction with it."""
    with contextlib.closing(sqlite3.connect(path, timeout=30, isolation_level=None)) as db:
        db.execute("BEGIN")
        row = db.execute("SELECT value FROM corpus_meta WHERE key = 'pairs'").fetchone()
        if row is None or json.loads(row[0]).get("stamp") != stamp:
            return []
        read: list[tuple[str, np.ndarray]] = []
        budget = READ_AHEAD_BYTES
        for key in (ROWIDS, LENGTHS, *words):
            found = db.execute(f"SELECT tf FROM {TABLE} WHERE term = ?", (key,)).fetchone()
            if found is None or len(found[0]) > budget:
                break
            budget -= len(found[0])
            read.append((key, _array(key, found[0])))
        return read


def _present(shape: Shape, loaded: Loaded) -> np.ndarray:
    """Which passages match ``shape`` (every phrase a word with an array)."""
    groups = []
    for group in shape.wanted:
        found = np.zeros(len(loaded.rowids), dtype=bool)
        for phrase in group.phrases:
            found |= loaded.columns[phrase.words[0]] != 0
        groups.append(found)
    mask: np.ndarray = (np.logical_or if shape.match_any else np.logical_and).reduce(groups)
    for group in shape.excluded:
        for phrase in group.phrases:
            mask &= loaded.columns[phrase.words[0]] == 0
    if shape.minus is not None:
        mask &= ~_present(shape.minus, loaded)
    return mask


def ranked(
    shape: Shape,
    loaded: Loaded,
    idfs: Sequence[Sequence[float]],
    avgdl: float,
    *,
    most: int = DENSE_MOST,
) -> Order | None:
    """FTS5's first COUNT_CAP matches of ``shape`` by bm25 (then rowid), as FTS5 orders them;
    None when more than ``most`` passages match."""
    places = np.flatnonzero(_present(shape, loaded))
    if len(places) > most:
        return None
    norm = K1 * (1 - B + B * loaded.lengths[places].astype(np.float64) / avgdl)
    score = np.zeros(len(places))
    for group, weights in zip(shape.wanted, idfs, strict=True):
        for phrase, weight in zip(group.phrases, weights, strict=True):
            tf = loaded.columns[phrase.words[0]][places] * 0.5  # exact: halves are binary
            score += weight * (tf * (K1 + 1)) / (tf + norm)
    negative = -score  # FTS5's bm25: lower is better
    if len(places) > COUNT_CAP:  # the best COUNT_CAP and whatever ties with the last of them
        cut = np.partition(negative, COUNT_CAP)[COUNT_CAP]
        best = np.flatnonzero(negative <= cut)
        places, negative = places[best], negative[best]
    order = np.lexsort((places, negative))[: COUNT_CAP + 1]  # place order is rowid order
    rowids = [int(r) for r in loaded.rowids[places[order]]]
    return rowids[:COUNT_CAP], min(len(rowids), COUNT_CAP), len(rowids) > COUNT_CAP
