"""The pairs index: the corpus again, with each word that is or precedes a stopword joined to
the next one, so FTS5 ranks a phrase of stopwords exactly and fast (Lucene's CommonGrams).

In ``passages_fts`` a phrase like ``"the of of"`` or ``"to the"*`` is found by walking the
stopwords' whole index entries with their positions, and ``"the*"`` merges every word that
starts so: 300 ms and 860 ms at 1M passages. In ``search_pairs`` the word at each place of a
column is one token, ``the_of`` when the pair it starts has a stopword, else the word alone.
A column keeps exactly as many tokens as it has words, so a phrase whose every pair has a
stopword (``"the of of"`` is ``"the_of of_of"``, ``"to the"*`` is ``"to_the"*``) matches the
same passages as many times, in columns of the same lengths, and FTS5's bm25 there equals its
bm25 in ``passages_fts``: the same ranking, from index entries a few percent as long.

It is built with the champion lists, in their worker process, once per corpus generation,
into a table of its own that replaces the old one in one short transaction. Until it is built
for the current corpus, nothing reads it. The same pass builds the very common words' dense
frequencies (``dense.py``), swapped in with it.
"""

from __future__ import annotations

import itertools
import json
import os
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path

from ..core.db import Database
from ..core.locks import process_alive
from . import dense
from .scoring import Group, Phrase, Shape, index_averages
from .tokens import tokens

#: The table searches read, and the start of the name of those builds fill before one takes
#: its place: ``search_pairs_building_<pid>``, one per building process, so two processes of a
#: cluster never write into each other's table (``building_table``).
TABLE = "search_pairs"
BUILDING = "search_pairs_building"
#: Joins the two words of a pair into one token; FTS5's tokenizer splits words at it in
#: ``passages_fts``, so no indexed word holds it, and here it is part of the token.
JOIN = "_"
TOKENIZER = f"unicode61 remove_diacritics 0 tokenchars '{JOIN}'"
#: Bumped when what the index holds changes: an older one is rebuilt (2: with dense arrays).
PAIRS_FORMAT = 2
#: Passages written per transaction: each commit holds the write lock a moment only.
BATCH = 2000
#: A stopword is in at least one passage in this many (and more than the lists' threshold).
STOPWORD_SHARE = 10


def paired(words: list[str], stop: frozenset[str] | set[str]) -> str:
    """A column's words as the pairs index holds them: one token per word, ``a_b`` where the
    pair a word starts has a stopword."""
    out = [f"{a}{JOIN}{b}" if a in stop or b in stop else a for a, b in itertools.pairwise(words)]
    if words:
        out.append(words[-1])
    return " ".join(out)


def phrase_expression(phrase: Phrase, stop: frozenset[str]) -> str | None:
    """The phrase as a pairs-index phrase, or None when some pair of it lacks a stopword (or it
    is one word). A prefix's pair needs the word before it to be a stopword: "storm the*"
    could be "storm theory", which the index holds as two single words."""
    words = phrase.words
    if len(words) < 2:
        return None
    pairs = list(itertools.pairwise(words))
    for n, (a, b) in enumerate(pairs):
        last_is_prefix = phrase.prefix and n == len(pairs) - 1
        if not (a in stop or (b in stop and not last_is_prefix)):
            return None
    quoted = '"' + " ".join(f"{a}{JOIN}{b}" for a, b in pairs) + '"'
    return quoted + "*" if phrase.prefix else quoted


def group_expression(group: Group, stop: frozenset[str]) -> str | None:
    found = [phrase_expression(p, stop) for p in group.phrases]
    if any(e is None for e in found):
        return None
    return f"({' OR '.join(found)})" if len(found) > 1 else found[0]  # type: ignore[arg-type]


def expression(shape: Shape, stop: frozenset[str]) -> str | None:
    """``shape.fts()`` for the pairs index, or None unless every term of it is a phrase the
    index holds (``phrase_expression``)."""
    wanted = [group_expression(g, stop) for g in shape.wanted]
    excluded = [group_expression(g, stop) for g in shape.excluded]
    minus = None if shape.minus is None else expression(shape.minus, stop)
    if None in wanted or None in excluded or (shape.minus is not None and minus is None):
        return None
    expr = (" OR " if shape.match_any else " AND ").join(wanted)  # type: ignore[arg-type]
    for group in excluded:
        expr = f"({expr}) NOT {group}"
    if minus is not None:
        expr = f"({expr}) NOT ({minus})"
    return expr


def is_stopword(passages: int, rows: int, df: int) -> bool:
    """Whether a word in ``passages`` of the corpus's ``rows`` is a stopword of the index."""
    return passages > df and passages * STOPWORD_SHARE >= rows


def building_table(pid: int | None = None) -> str:
    """The table the build of process ``pid`` (this one's by default) fills."""
    return f"{BUILDING}_{os.getpid() if pid is None else pid}"


def stamp(generation: int | str, df: int) -> str:
    """What an index built from corpus ``generation`` is stored as, with its format and the
    threshold that chose its stopwords."""
    return f"{generation}/v{PAIRS_FORMAT}/df{df}"


class PairIndex:
    """Reads the stored pairs index's stamp and stopwords (built by ``build``)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        #: (stored value, stamp, stopwords, words with dense arrays)
        self._read: tuple[str, str, frozenset[str], frozenset[str]] | None = None

    async def stopwords(self, generation: int, df: int) -> frozenset[str] | None:
        """The stopwords of the index when it is built for corpus ``generation``, else None."""
        read = await self._current(generation, df)
        return None if read is None else read[2]

    async def dense_words(self, generation: int, df: int) -> tuple[str, frozenset[str]] | None:
        """(the stamp, the words with dense arrays) when built for corpus ``generation``."""
        read = await self._current(generation, df)
        return None if read is None else (read[1], read[3])

    async def _current(
        self, generation: int, df: int
    ) -> tuple[str, str, frozenset[str], frozenset[str]] | None:
        row = await self.db.one("SELECT value FROM corpus_meta WHERE key = 'pairs'")
        if row is None:
            return None
        stored = str(row[0])
        if self._read is None or self._read[0] != stored:
            meta = json.loads(stored)
            words = frozenset(meta.get("dense", ()))
            self._read = stored, str(meta["stamp"]), frozenset(meta["stopwords"]), words
        return self._read if self._read[1] == stamp(generation, df) else None

    async def current(self, generation: int, df: int) -> bool:
        return await self.stopwords(generation, df) is not None


def build(path: Path, df: int) -> bool:
    """Build the pairs index of the database at ``path`` unless it is current; whether it is
    current after. Not when the vocabulary is another corpus's (its counts pick the
    stopwords). With no stopword it holds nothing and has no table."""
    reader = sqlite3.connect(path, timeout=30, isolation_level=None)
    writer = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        reader.execute("BEGIN")  # one snapshot for the whole read
        meta = dict(reader.execute("SELECT key, value FROM corpus_meta"))
        generation = str(meta.get("generation", "0"))
        if str(meta.get("vocabulary", "0")) != generation:
            return False
        if "pairs" in meta and json.loads(meta["pairs"])["stamp"] == stamp(generation, df):
            return True
        block = reader.execute("SELECT block FROM passages_fts_data WHERE id = 1").fetchone()
        passages, _ = index_averages(block[0] if block else b"")
        vocabulary = "SELECT term, passages FROM search_vocabulary WHERE passages > ?"
        common = reader.execute(vocabulary, (df,))
        common_words = [(str(t), int(n)) for t, n in common]
        stop = frozenset(t for t, n in common_words if is_stopword(n, passages, df))
        if _others_building(writer):  # it will stamp the same index: the worker comes back
            return False
        if not stop:  # nothing to pair: stamped current, with no table
            reader.execute("COMMIT")
            return _swap(writer, generation, df, stop, [])
        building = building_table()
        counted = reader.execute("SELECT count(*) FROM passage_search").fetchone()[0]
        frequencies = dense.Frequencies(
            frozenset(t for t, n in common_words if dense.is_dense(n, passages, df)), counted
        )
        writer.execute(
            f"""CREATE VIRTUAL TABLE {building} USING fts5 (text, title, author,
            content = '', tokenize = "{TOKENIZER}")"""
        )
        for batch in _batches(reader, stop, frequencies):
            writer.execute("BEGIN")
            writer.executemany(
                f"INSERT INTO {building} (rowid, text, title, author) VALUES (?, ?, ?, ?)", batch
            )
            writer.execute("COMMIT")
        writer.execute(f"INSERT INTO {building} ({building}) VALUES ('optimize')")
        reader.execute("COMMIT")
        words = dense.write(writer, building + dense.SUFFIX, frequencies)
        return _swap(writer, generation, df, stop, words)
    finally:
        reader.close()
        writer.close()


def _batches(
    reader: sqlite3.Connection, stop: frozenset[str], frequencies: dense.Frequencies
) -> Iterator[list[tuple[int, str, str, str]]]:
    fixed: dict[tuple[str, str], tuple[list[str], list[str], str, str]] = {}  # per document
    batch: list[tuple[int, str, str, str]] = []
    for rowid, text, title, author in reader.execute(
        "SELECT rowid, text, title, author FROM passage_search ORDER BY rowid"
    ):
        key = (title or "", author or "")
        if key not in fixed:
            both = (tokens(key[0]), tokens(key[1]))
            fixed[key] = (*both, paired(both[0], stop), paired(both[1], stop))
        title_words, author_words, paired_title, paired_author = fixed[key]
        words = tokens(text)
        frequencies.add(int(rowid), words, title_words, author_words)
        batch.append((int(rowid), paired(words, stop), paired_title, paired_author))
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _others_building(writer: sqlite3.Connection) -> bool:
    """Whether another live process is building; drops the tables of builds that were stopped
    (their process is gone: SQLite's WAL keeps every process of a database on one machine)."""
    others = False
    names = writer.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name GLOB ?",
                           (f"{BUILDING}_[0-9]*",)).fetchall()  # fmt: skip
    for (name,) in names:
        pid, _, rest = str(name).removeprefix(f"{BUILDING}_").partition("_")
        if not pid.isdigit() or rest not in ("", dense.SUFFIX[1:]):  # FTS5's _data, _idx, ...
            continue
        if int(pid) != os.getpid() and process_alive(int(pid)):
            others = True
        else:
            writer.execute(f"DROP TABLE IF EXISTS {name}")
    return others


def _swap(
    writer: sqlite3.Connection, generation: str, df: int, stop: frozenset[str], words: list[str]
) -> bool:
    """Put the new index and dense arrays (of ``words``) in the old ones' place, unless the
    corpus changed meanwhile."""
    writer.execute("BEGIN IMMEDIATE")
    try:
        now = writer.execute("SELECT value FROM corpus_meta WHERE key = 'generation'").fetchone()
        if str(now[0] if now else "0") != generation:  # built from a corpus that is gone
            writer.execute(f"DROP TABLE IF EXISTS {building_table()}")
            writer.execute(f"DROP TABLE IF EXISTS {building_table()}{dense.SUFFIX}")
            writer.execute("COMMIT")
            return False
        writer.execute(f"DROP TABLE IF EXISTS {TABLE}")
        writer.execute(f"DROP TABLE IF EXISTS {dense.TABLE}")
        if stop:
            writer.execute(f"ALTER TABLE {building_table()} RENAME TO {TABLE}")
            writer.execute(f"ALTER TABLE {building_table()}{dense.SUFFIX} RENAME TO {dense.TABLE}")
        meta = {"stamp": stamp(generation, df), "stopwords": sorted(stop), "dense": words}
        value = json.dumps(meta)
        writer.execute("INSERT OR REPLACE INTO corpus_meta VALUES ('pairs', ?)", (value,))
        writer.execute("COMMIT")
        return True
    except BaseException:
        writer.execute("ROLLBACK")
        raise


if __name__ == "__main__":  # python -m bot.corpus.pairs DB [DF]
    from .champions import CHAMPION_DF

    threshold = int(sys.argv[2]) if len(sys.argv) > 2 else CHAMPION_DF
    sys.exit(0 if build(Path(sys.argv[1]), threshold) else 1)
