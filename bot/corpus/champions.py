"""Champion lists: for each common word, the passages where it weighs most.

Ranking every match of "the" costs seconds at 1M passages. So for each word in more than
CHAMPION_DF passages, the CHAMPIONS passages with the highest bm25 for that word alone (its idf
is the same for all of them, so only its count and the passage's length matter) are computed
once per corpus generation and kept in ``search_champions``. A search for common words scores
the union of its words' lists instead of every match (the classic "champion list" of a tiered
index; ``docs/search.md`` says how close that comes to ranking everything, as measured). Two
common words in a row with a stopword among them ("of now") have a list too (``listed_pair``):
FTS5 finds such a phrase only by walking the stopword's whole entry.

The build reads every passage once. It runs in a process of its own (``python -m
bot.corpus.champions DB``) so the bot's event loop never waits for it, and it is only needed
once some word is in more than CHAMPION_DF passages.
"""

from __future__ import annotations

import array
import itertools
import sqlite3
import sys
from collections import Counter, OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..core.db import Database
from ..core.worker import Worker
from .best import Best
from .lexicon import Vocabulary
from .pairs import PairIndex
from .pairs import build as build_pairs
from .scoring import WEIGHTS, impact, index_averages, varints
from .tokens import tokens

#: A word in more passages than this gets a champion list...
CHAMPION_DF = 1000
#: ...of this many passages: the deepest page a common word reaches (5 per page)...
CHAMPIONS = 200
#: ...or of this many for the words in a tenth of all passages or more ("the", "of"): a query
#: of several such words finds its best passages deeper in each word's list.
STOPWORD_CHAMPIONS = 1000
#: Prefixes of these lengths have lists of their own (the index's own prefix lengths).
PREFIX_LENGTHS = (2, 3)
#: The lists' format: 2 has pairs of a stopword and another common word (1: of stopwords).
LISTS_FORMAT = 2
#: While the corpus keeps changing, the lists are rebuilt at most this often (seconds).
REBUILD_EVERY = 60.0
#: Unpacked lists are kept in memory up to this many passages in all (about 170 bytes each):
#: the stopwords' lists are in most queries of common words, and unpacking one costs a ms.
KEPT_PASSAGES = 200_000


@dataclass(frozen=True, slots=True)
class ChampionList:
    """A word's best passages, best first, with the word's impact in each (``impact()``)."""

    rowids: list[int]
    impacts: list[float]
    where: dict[int, int]  # rowid -> its place
    passages: int = 0  # how many passages have the word (or the prefix)
    #: Every passage with the word (or pair) is on the list.
    complete: bool = field(init=False)
    #: No passage missing from the list has a higher impact for the word.
    floor: float = field(init=False)

    def __post_init__(self) -> None:  # read for every candidate: computed once
        complete = 0 < self.passages <= len(self.rowids)
        object.__setattr__(self, "complete", complete)
        floor = 0.0 if complete or not self.impacts else self.impacts[-1]
        object.__setattr__(self, "floor", floor)


def unpack(blob: bytes, passages: int = 0) -> ChampionList:
    half = len(blob) // 2
    rowids, impacts = array.array("q"), array.array("d")
    rowids.frombytes(blob[:half])
    impacts.frombytes(blob[half:])
    listed = rowids.tolist()
    where = {r: i for i, r in enumerate(listed)}
    return ChampionList(listed, impacts.tolist(), where, passages)


def compute(
    connection: sqlite3.Connection, df: int, size: int, stopword_size: int
) -> tuple[str, dict[str, tuple[int, Best]]] | None:
    """(their stamp, term -> (its passages, its champions)) over the database's current corpus:
    for each word in more than ``df`` passages, its ``size`` best (``stopword_size`` for a word
    in a tenth of them or more). Short prefixes ("th*") get lists too: FTS5 has prefix indexes
    for them, and ranking every match of "th*" is as slow as of "the". None while the stored
    vocabulary is another corpus generation's: its counts decide which words and pairs get a
    list, and a pair without one is taken to be in no passage."""
    connection.execute("BEGIN")  # one snapshot for the whole read
    meta = dict(connection.execute("SELECT key, value FROM corpus_meta"))
    generation = str(meta.get("generation", "0"))
    if str(meta.get("vocabulary", "0")) != generation:  # another corpus's counts: wrong words
        connection.execute("COMMIT")
        return None
    block = connection.execute("SELECT block FROM passages_fts_data WHERE id = 1").fetchone()
    passages, avgdl = index_averages(block[0] if block else b"")
    words = [(str(t), int(n)) for t, n in connection.execute(
        "SELECT term, passages FROM search_vocabulary")]  # fmt: skip
    reach: dict[str, int] = dict(words)
    for word, n in words:  # a prefix reaches at most the sum of its words' passages
        for prefix in prefix_keys(word):
            reach[prefix] = reach.get(prefix, 0) + n
    sizes = {t: stopword_size if n * 10 >= passages else size for t, n in reach.items() if n > df}
    common = {t for t, n in words if n > df}
    stop = {t for t in common if reach[t] * 10 >= passages}
    best = {t: Best(n) for t, n in sizes.items()}
    found_in: dict[str, int] = dict.fromkeys(sizes, 0)  # how many passages have each
    fixed: dict[tuple[str, str], dict[str, float]] = {}  # title and author words, per document
    rows = connection.execute(
        """SELECT s.rowid, s.text, s.title, s.author, d.sz FROM passage_search AS s
        JOIN passages_fts_docsize AS d ON d.id = s.rowid"""
    )
    for rowid, text, title, author, docsize in rows:
        length = sum(varints(docsize))
        words_in = tokens(text)
        counts: dict[str, float] = dict(Counter(words_in))
        key = (title, author)
        if key not in fixed:
            extra: dict[str, float] = {}
            for weight, column in zip(WEIGHTS[1:], key, strict=True):
                column_words = tokens(column or "")
                for word in (*column_words, *pairs_of(column_words, common, stop)):
                    extra[word] = extra.get(word, 0.0) + weight
            fixed[key] = extra
        for pair in pairs_of(words_in, common, stop):
            counts[pair] = counts.get(pair, 0.0) + 1.0
        for word, weight in fixed[key].items():
            counts[word] = counts.get(word, 0.0) + weight
        prefixed: dict[str, float] = {}
        for word, tf in counts.items():
            for prefix in prefix_keys(word) if " " not in word else ():
                if prefix in best:
                    prefixed[prefix] = prefixed.get(prefix, 0.0) + tf
        for word, tf in (*counts.items(), *prefixed.items()):
            kept = best.get(word)
            if kept is None:
                if " " not in word:
                    continue
                kept = best[word] = Best(  # a pair's first passage
                    stopword_size if set(word.split(" ")) <= stop else size
                )
                found_in[word] = 0
            found_in[word] += 1
            kept.offer(impact(tf, length, avgdl), rowid)
    connection.execute("COMMIT")
    lists = {t: (found_in[t], kept) for t, kept in best.items() if len(kept)}
    return stamp(generation, df), lists


def stamp(generation: int | str, df: int) -> str:
    """What a build of corpus ``generation`` is stored as: with the lists' format and the
    threshold that chose their words, so an upgrade or a new threshold rebuilds them."""
    return f"{generation}/v{LISTS_FORMAT}/df{df}"


def pair_key(first: str, second: str) -> str:
    """The list key of two words in a row: "of the"."""
    return f"{first} {second}"


def listed_pair(first: int, second: int, passages: int, df: int) -> bool:
    """Whether two words in a row, in ``first`` and ``second`` of ``passages``, have a list
    of their own: both common (in more than ``df`` passages) and one a stopword (in a tenth of
    them or more). FTS5 finds such a phrase by walking the stopword's whole index entry, with
    its positions (30-50 ms at 1M passages for "of now"), and then scores each match."""
    return first > df and second > df and max(first, second) * 10 >= passages


def pairs_of(words: list[str], common: set[str], stop: set[str]) -> list[str]:
    """The keys of the listed pairs (``listed_pair``) in a column's words, once per
    occurrence. A pair of stopwords gets a STOPWORD_CHAMPIONS-long list (a rarer one has every
    passage on it), a stopword and another common word a CHAMPIONS-long one."""
    return [
        pair_key(a, b)
        for a, b in itertools.pairwise(words)
        if (a in stop or b in stop) and a in common and b in common
    ]


def prefix_keys(word: str) -> list[str]:
    """The keys of the 2- and 3-letter prefixes a word belongs to: "the" -> "th*", "the*"."""
    return [word[:n] + "*" for n in PREFIX_LENGTHS if len(word) >= n]


def build(
    path: Path,
    df: int = CHAMPION_DF,
    size: int = CHAMPIONS,
    stopword_size: int = STOPWORD_CHAMPIONS,
) -> int:
    """Compute and store the champion lists of the database at ``path``; how many. The pairs
    index (``pairs.py``) is built first, unless it is current: it takes a fifth as long."""
    build_pairs(path, df)
    connection = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        connection.execute("PRAGMA cache_size = -65536")
        computed = compute(connection, df, size, stopword_size)
        if computed is None:
            return 0  # started again once the vocabulary is built (``keep_current``)
        built, lists = computed
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("DELETE FROM search_champions")
        connection.executemany(
            "INSERT INTO search_champions VALUES (?, ?, ?)",
            ((t, kept.packed(), n) for t, (n, kept) in lists.items()),
        )
        connection.execute("INSERT OR REPLACE INTO corpus_meta VALUES ('champions', ?)", (built,))
        connection.execute("COMMIT")
        return len(lists)
    finally:
        connection.close()


class Champions:
    """Reads the champion lists, and keeps them built for the current corpus in a worker
    process. Until they are, searches use whatever lists there are (see ``ranking.py``)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.worker = Worker(__name__, "search pairs index and champion lists", every=REBUILD_EVERY)
        self._kept: OrderedDict[tuple[str | None, str], ChampionList] = OrderedDict()
        self._kept_passages = 0
        self.pairs = PairIndex(db)  # built by the same worker, before the lists

    async def pair_stopwords(self, generation: int) -> frozenset[str] | None:
        """The pairs index's stopwords when it is built for corpus ``generation``."""
        return await self.pairs.stopwords(generation, CHAMPION_DF)

    async def dense_words(self, generation: int) -> tuple[str, frozenset[str]] | None:
        """(the stamp, the words with dense arrays) when built for corpus ``generation``."""
        return await self.pairs.dense_words(generation, CHAMPION_DF)

    async def built_for(self) -> str | None:
        """The stored lists' stamp (``stamp``): the corpus they were computed from, and how."""
        stored = await self.db.one("SELECT value FROM corpus_meta WHERE key = 'champions'")
        return None if stored is None else str(stored[0])

    async def current(self, generation: int) -> bool:
        """Whether the stored lists were computed from corpus ``generation``, as this code
        computes them (lists of an older format or threshold are not)."""
        return await self.built_for() == stamp(generation, CHAMPION_DF)

    async def counted(self, terms: Iterable[str], generation: int) -> tuple[dict[str, int], bool]:
        """``passages(terms)``, and whether they are the current lists' (``current``): read
        between two looks at the stamp, so a build committing meanwhile makes it False."""
        before = await self.built_for()
        found = await self.passages(terms)
        return found, before == stamp(generation, CHAMPION_DF) == await self.built_for()

    async def lists(self, terms: Iterable[str]) -> dict[str, ChampionList]:
        """The stored lists of those of ``terms`` that have one."""
        wanted = sorted(set(terms))
        if not wanted:
            return {}
        built = await self.built_for()  # read first: a build committing meanwhile is missed
        found = {t: self._kept[(built, t)] for t in wanted if (built, t) in self._kept}
        missing = [t for t in wanted if t not in found]
        for term in found:
            self._kept.move_to_end((built, term))
        if missing:  # a term with no list is looked up again: it costs an index probe
            marks = ",".join("?" * len(missing))
            rows = await self.db.all(
                f"SELECT term, rowids, passages FROM search_champions WHERE term IN ({marks})",
                missing,
            )
            for term, blob, passages in rows:
                found[str(term)] = self._keep(
                    (built, str(term)), unpack(bytes(blob), int(passages))
                )
        return found

    def _keep(self, key: tuple[str | None, str], found: ChampionList) -> ChampionList:
        self._kept[key] = found
        self._kept_passages += len(found.rowids)
        while self._kept_passages > KEPT_PASSAGES and len(self._kept) > 1:
            _, dropped = self._kept.popitem(last=False)
            self._kept_passages -= len(dropped.rowids)
        return found

    async def passages(self, terms: Iterable[str]) -> dict[str, int]:
        """How many passages have each of ``terms`` that has a list, without reading it."""
        wanted = sorted(set(terms))
        if not wanted:
            return {}
        marks = ",".join("?" * len(wanted))
        rows = await self.db.all(
            f"SELECT term, passages FROM search_champions WHERE term IN ({marks})", wanted
        )
        return {str(t): int(n) for t, n in rows}

    async def keep_current(self, vocabulary: Vocabulary) -> None:
        """Start a build when the stored lists are for another corpus and one is needed."""
        if self.worker.busy or not self.db.path.exists():
            return
        if not any(n > CHAMPION_DF for n in vocabulary.passages.values()):
            return
        generation = vocabulary.generation
        if not (
            await self.current(generation) and await self.pairs.current(generation, CHAMPION_DF)
        ):
            args = (str(self.db.path), str(CHAMPION_DF), str(CHAMPIONS), str(STOPWORD_CHAMPIONS))
            self.worker.start(*args)

    async def close(self, grace: float = 0.0) -> None:
        """Stop a build in progress, after ``grace`` seconds (the next start builds again)."""
        await self.worker.close(grace)


if __name__ == "__main__":  # the worker process: DB [DF SIZE STOPWORD_SIZE]
    numbers = [int(a) for a in sys.argv[2:5]]
    sys.exit(0 if build(Path(sys.argv[1]), *numbers) >= 0 else 1)
