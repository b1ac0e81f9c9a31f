"""All of Lectern's SQL: the schema's migrations, corpus ingest and the queries commands need.

One :class:`Store` wraps one aiosqlite connection used for reads and short writes. Replacing the
corpus runs on a second, short-lived connection so that, thanks to WAL, the bot keeps answering
from the previous corpus until the new one commits.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import sqlite3
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Self

import aiosqlite

from .corpus import Corpus, position_label
from .search import SearchQuery, parse_query, similarity_query

log = logging.getLogger(__name__)

#: Markers around highlighted words in search snippets; renderers turn them into bold text.
HIGHLIGHT_START = "\x02"
HIGHLIGHT_END = "\x03"

#: Search ranks at most this many matches. Beyond it, the best of the first RANK_CAP matches (in
#: corpus order) are shown: ranking every match of a stopword costs seconds on a large corpus.
RANK_CAP = 1000
#: Candidates a filtered random pick chooses among when no index makes it a single lookup.
RANDOM_CANDIDATE_CAP = 5000
#: A random passage matching words is drawn exactly uniformly below this many matches; above,
#: from a random point onwards (counting further would cost more than the pick).
RANDOM_EXACT_BELOW = 64


class StoreError(Exception):
    """The database cannot be used (newer schema, not a Lectern database, unreadable)."""


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def bundled_migrations() -> list[Migration]:
    """The numbered ``NNNN_name.sql`` files shipped in ``bot/migrations``, in order."""
    found = []
    for entry in resources.files("bot.migrations").iterdir():
        match = re.fullmatch(r"(\d{4})_(\w+)\.sql", entry.name)
        if match:
            found.append(Migration(int(match.group(1)), match.group(2), entry.read_text("utf-8")))
    found.sort(key=lambda m: m.version)
    if [m.version for m in found] != list(range(1, len(found) + 1)):
        raise StoreError("migrations must be numbered 0001, 0002, ... without gaps")
    return found


@dataclass(frozen=True, slots=True)
class StoredPassage:
    """A passage as the commands show it, with its document's details."""

    id: str
    document: str  # the document's slug
    title: str
    author: str | None
    kind: str
    source: str
    seq: int
    unit: str
    number: int
    unit_total: int
    document_total: int
    text: str

    @property
    def label(self) -> str:
        return position_label(self.unit, self.number, self.unit_total)


@dataclass(frozen=True, slots=True)
class DocumentInfo:
    slug: str
    title: str
    author: str | None
    kind: str
    source: str
    note: str | None
    passage_count: int


@dataclass(frozen=True, slots=True)
class AuthorInfo:
    name: str
    passage_count: int


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


@dataclass(frozen=True, slots=True)
class IngestReport:
    """What an ingest did. ``skipped`` means the stored corpus was already up to date."""

    skipped: bool
    documents: int
    passages_before: int
    passages_after: int
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    vanished_ids: tuple[str, ...] = ()
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: str
    actor: str
    actor_id: int | None
    guild_id: int | None
    action: str
    result: str
    detail: str


@dataclass(frozen=True, slots=True)
class CorpusStats:
    documents: int
    passages: int
    authors: int
    kinds: dict[str, int] = field(default_factory=dict)
    database_bytes: int = 0
    fingerprint: str | None = None


_PASSAGE_COLUMNS = """p.id, d.slug, d.title, a.name, d.kind, d.source, p.seq, p.unit, p.number,
    p.unit_total, d.passage_count, p.text"""
_PASSAGE_JOINS = """JOIN documents AS d ON d.id = p.document_id
    LEFT JOIN authors AS a ON a.id = p.author_id"""
_PASSAGE_FROM = f"passages AS p {_PASSAGE_JOINS}"
_SELECT_PASSAGE = f"SELECT {_PASSAGE_COLUMNS} FROM {_PASSAGE_FROM}"


# Random picks. {span} is a query giving the rowid range (lo, hi) the filters allow.
_RANDOM_IN_SPAN = f"""WITH span AS MATERIALIZED ({{span}})
    {_SELECT_PASSAGE} WHERE p.rowid = (SELECT lo + abs(random()) % (hi - lo + 1) FROM span)"""

# An author's passages in a span: their author_ord values there are consecutive, from the first
# to the last of the author's rowids inside the span (index passages_by_author_rowid).
_RANDOM_AUTHOR = f"""WITH span AS MATERIALIZED ({{span}}),
    pick AS MATERIALIZED (
        SELECT x.id AS aid,
            (SELECT author_ord FROM passages WHERE author_id = x.id AND rowid >= span.lo
                ORDER BY rowid LIMIT 1) AS first,
            (SELECT author_ord FROM passages WHERE author_id = x.id AND rowid <= span.hi
                ORDER BY rowid DESC LIMIT 1) AS last
        FROM authors AS x, span WHERE x.key = :author)
    SELECT {_PASSAGE_COLUMNS} FROM pick
    JOIN passages AS p ON p.author_id = pick.aid
        AND p.author_ord = pick.first + abs(random()) % (pick.last - pick.first + 1)
    {_PASSAGE_JOINS}
    WHERE pick.last >= pick.first"""

_RANDOM_WORDS = f"""WITH span AS MATERIALIZED ({{span}}),
    matches AS MATERIALIZED (
        SELECT count(*) AS n FROM (SELECT 1 FROM passages_fts, span WHERE passages_fts MATCH :q
            AND passages_fts.rowid BETWEEN span.lo AND span.hi LIMIT :cap)),
    dice AS MATERIALIZED (
        SELECT lo + abs(random()) % (hi - lo + 1) AS start, abs(random()) AS roll FROM span)
    {_SELECT_PASSAGE} WHERE p.rowid = CASE
        WHEN (SELECT n FROM matches) = 0 THEN NULL
        WHEN (SELECT n FROM matches) < :cap THEN (
            SELECT f.rowid FROM passages_fts AS f, span WHERE passages_fts MATCH :q
                AND f.rowid BETWEEN span.lo AND span.hi ORDER BY f.rowid LIMIT 1
                OFFSET (SELECT roll % n FROM dice, matches))
        ELSE coalesce(
            (SELECT f.rowid FROM passages_fts AS f, span, dice WHERE passages_fts MATCH :q
                AND f.rowid BETWEEN dice.start AND span.hi ORDER BY f.rowid LIMIT 1),
            (SELECT f.rowid FROM passages_fts AS f, span WHERE passages_fts MATCH :q
                AND f.rowid BETWEEN span.lo AND span.hi ORDER BY f.rowid LIMIT 1))
        END"""

# Words and an author together (rare): among the first RANDOM_CANDIDATE_CAP such matches.
_RANDOM_AUTHOR_AND_WORDS = f"""WITH span AS MATERIALIZED ({{span}}),
    candidates AS MATERIALIZED (
        SELECT p.rowid AS r FROM passages_fts AS f, span
        JOIN passages AS p ON p.rowid = f.rowid
        JOIN authors AS a ON a.id = p.author_id AND a.key = :author
        WHERE passages_fts MATCH :q AND f.rowid BETWEEN span.lo AND span.hi
        LIMIT {RANDOM_CANDIDATE_CAP})
    {_SELECT_PASSAGE} WHERE p.rowid = (SELECT r FROM candidates LIMIT 1 OFFSET
        (SELECT abs(random()) % max(count(*), 1) FROM candidates))"""


def _passage(row: Sequence[Any]) -> StoredPassage:
    return StoredPassage(*row[:12])


def _key(name: str) -> str:
    return " ".join(name.split()).casefold()


async def _configure(db: aiosqlite.Connection) -> None:
    await db.execute("PRAGMA journal_mode = WAL")
    await db.execute("PRAGMA synchronous = NORMAL")
    await db.execute("PRAGMA foreign_keys = ON")
    await db.execute("PRAGMA busy_timeout = 10000")


async def migrate(db: aiosqlite.Connection, migrations: Sequence[Migration]) -> int:
    """Apply every migration newer than ``PRAGMA user_version``, each in its own transaction."""
    async with db.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    current = int(row[0]) if row else 0
    latest = migrations[-1].version if migrations else 0
    if current > latest:
        raise StoreError(
            f"the database is at schema version {current}, newer than this Lectern knows "
            f"({latest}): upgrade Lectern or point LECTERN_DB at another file"
        )
    for migration in migrations:
        if migration.version <= current:
            continue
        log.info("Applying migration %04d_%s", migration.version, migration.name)
        try:
            script = f"{migration.sql}\nPRAGMA user_version = {migration.version};"
            await db.executescript(f"BEGIN IMMEDIATE;\n{script}\nCOMMIT;")
        except sqlite3.Error as error:
            await db.rollback()
            raise StoreError(
                f"migration {migration.version:04d}_{migration.name} failed: {error}"
            ) from error
    return latest


class Store:
    """Async access to Lectern's SQLite database."""

    def __init__(self, db: aiosqlite.Connection, path: Path) -> None:
        self._db = db
        self.path = path
        # Documents and authors change only when the corpus is replaced: kept in memory.
        self._documents: list[DocumentInfo] | None = None
        self._authors: list[AuthorInfo] | None = None

    @classmethod
    async def open(cls, path: Path, migrations: Sequence[Migration] | None = None) -> Self:
        """Open (creating if needed) and migrate the database at ``path``."""
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            db = await aiosqlite.connect(path, isolation_level=None)
        except sqlite3.Error as error:
            raise StoreError(f"cannot open the database {path}: {error}") from error
        try:
            await _configure(db)
            await migrate(db, bundled_migrations() if migrations is None else migrations)
        except sqlite3.DatabaseError as error:
            await db.close()
            raise StoreError(f"{path} is not a usable SQLite database: {error}") from error
        except BaseException:
            await db.close()
            raise
        return cls(db, path)

    async def close(self) -> None:
        await self._db.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def connection(self) -> aiosqlite.Connection:
        """The underlying connection, for other storage modules of Lectern sharing it."""
        return self._db

    # ------------------------------------------------------------------ small helpers

    # One trip to aiosqlite's thread per query (execute + fetch + close would be three).
    async def _one(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> Any:
        rows = await self._db.execute_fetchall(sql, params)
        return next(iter(rows), None)

    async def _all(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[Any]:
        return list(await self._db.execute_fetchall(sql, params))

    async def ping(self) -> int:
        """``SELECT 1``: one round trip, the floor every query is measured against."""
        row = await self._one("SELECT 1")
        return int(row[0])

    async def meta(self, key: str) -> str | None:
        row = await self._one("SELECT value FROM corpus_meta WHERE key = ?", (key,))
        return str(row[0]) if row else None

    # ------------------------------------------------------------------ reading passages

    async def passage(self, passage_id: str) -> StoredPassage | None:
        """A passage by its id (case-insensitive, surrounding spaces ignored)."""
        row = await self._one(f"{_SELECT_PASSAGE} WHERE p.id = ?", (passage_id.strip().lower(),))
        return _passage(row) if row else None

    async def random_passage(self, where: PassageFilter | None = None) -> StoredPassage | None:
        """A random passage matching ``where`` (uniform unless noted); None when nothing does.

        Every case is one query. Passages of a kind or a document are a contiguous rowid range,
        so those filters become a range; an author's passages are numbered in rowid order, so
        an author within a range is a range of those numbers. With words (``about``), a random
        match is drawn uniformly when there are fewer than RANDOM_EXACT_BELOW, else the first
        match after a random point in the range (passages after long gaps are favoured).
        """
        where = where or PassageFilter()
        params: dict[str, Any] = {
            "document": where.document.strip().lower() if where.document else None,
            "author": _key(where.author) if where.author else None,
            "kind": where.kind.strip().lower() if where.kind else None,
            "cap": RANDOM_EXACT_BELOW,
        }
        if where.about:
            params["q"] = parse_query(where.about).expression
            if params["q"] is None:
                return None
        if params["document"]:
            kind_too = " AND kind = :kind" if params["kind"] else ""
            span = f"""SELECT first_rowid AS lo, first_rowid + passage_count - 1 AS hi
                FROM documents WHERE slug = :document{kind_too}"""
        elif params["kind"]:
            span = """SELECT first_rowid AS lo, first_rowid + passage_count - 1 AS hi
                FROM kinds WHERE kind = :kind"""
        else:
            span = "SELECT 1 AS lo, max(rowid) AS hi FROM passages"
        if where.about and where.author:
            sql = _RANDOM_AUTHOR_AND_WORDS
        elif where.about:
            sql = _RANDOM_WORDS
        elif where.author:
            sql = _RANDOM_AUTHOR
        else:
            sql = _RANDOM_IN_SPAN
        row = await self._one(sql.replace("{span}", span), params)
        return _passage(row) if row else None

    async def neighbours(
        self, passage_id: str
    ) -> tuple[StoredPassage | None, StoredPassage | None]:
        """The passages just before and after ``passage_id`` in its document."""
        sql = f"""SELECT {_PASSAGE_COLUMNS}, p.seq - me.seq FROM passages AS me
            JOIN passages AS p ON p.document_id = me.document_id
                AND p.seq IN (me.seq - 1, me.seq + 1)
            {_PASSAGE_JOINS}
            WHERE me.id = ?"""
        before = after = None
        for row in await self._all(sql, (passage_id.strip().lower(),)):
            if row[12] < 0:
                before = _passage(row)
            else:
                after = _passage(row)
        return before, after

    async def document(self, slug: str) -> tuple[DocumentInfo, list[StoredPassage]] | None:
        """A whole document, its passages in order."""
        info = await self.document_info(slug)
        if info is None:
            return None
        rows = await self._all(
            f"{_SELECT_PASSAGE} WHERE p.document_id = (SELECT id FROM documents WHERE slug = ?)"
            " ORDER BY p.seq",
            (info.slug,),
        )
        return info, [_passage(r) for r in rows]

    async def document_info(self, slug: str) -> DocumentInfo | None:
        row = await self._one(
            """SELECT slug, title, author, kind, source, note, passage_count FROM documents
            WHERE slug = ?""",
            (slug.strip().lower(),),
        )
        return DocumentInfo(*row) if row else None

    async def documents(self) -> list[DocumentInfo]:
        """Every document, ordered by title (cached until the corpus is replaced)."""
        if self._documents is None:
            rows = await self._all(
                """SELECT slug, title, author, kind, source, note, passage_count FROM documents
                ORDER BY title COLLATE NOCASE"""
            )
            self._documents = [DocumentInfo(*r) for r in rows]
        return list(self._documents)

    async def authors(self) -> list[AuthorInfo]:
        """Every author named in the corpus, ordered by name (cached like documents)."""
        if self._authors is None:
            rows = await self._all("SELECT name, passage_count FROM authors ORDER BY key")
            self._authors = [AuthorInfo(*r) for r in rows]
        return list(self._authors)

    def forget_cached_corpus(self) -> None:
        """Drop what is cached about the corpus (done by every replace in this process; call it
        after another process, such as ``lectern ingest``, changed the database)."""
        self._documents = self._authors = None

    async def stats(self) -> CorpusStats:
        kinds = dict(await self._all("SELECT kind, passage_count FROM kinds ORDER BY kind"))
        row = await self._one(
            """SELECT (SELECT count(*) FROM documents), (SELECT coalesce(max(rowid), 0) FROM
            passages), (SELECT count(*) FROM authors), (SELECT value FROM corpus_meta
            WHERE key = 'fingerprint')"""
        )
        size = sum(p.stat().st_size for p in (self.path, Path(f"{self.path}-wal")) if p.exists())
        return CorpusStats(row[0], row[1], row[2], kinds, size, row[3])

    async def passage_at(self, index: int) -> StoredPassage | None:
        """The passage at 0-based ``index`` in corpus order (for deterministic daily picks)."""
        row = await self._one(f"{_SELECT_PASSAGE} WHERE p.rowid = ?", (index + 1,))
        return _passage(row) if row else None

    async def passage_count(self) -> int:
        row = await self._one("SELECT coalesce(max(rowid), 0) FROM passages")
        return int(row[0])

    async def ids_starting_with(self, prefix: str, *, limit: int = 25) -> list[tuple[str, str]]:
        """``(id, first words)`` of passages whose id starts with ``prefix``, in id order."""
        prefix = prefix.strip().lower()
        rows = await self._all(
            """SELECT id, substr(text, 1, 80) FROM passages WHERE id >= ? AND id < ?
            ORDER BY id LIMIT ?""",
            (prefix, prefix + "\U0010ffff", limit),
        )
        return [(r[0], r[1]) for r in rows]

    async def save_state(self, payload: str) -> str:
        """Keep ``payload`` for a button and return the short key its custom_id carries."""
        key = hashlib.sha256(payload.encode()).hexdigest()[:16]
        await self._db.execute(
            "INSERT OR IGNORE INTO ui_state (key, payload) VALUES (?, ?)", (key, payload)
        )
        return key

    async def load_state(self, key: str) -> str | None:
        row = await self._one("SELECT payload FROM ui_state WHERE key = ?", (key,))
        return str(row[0]) if row else None

    # ------------------------------------------------------------------ search

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
            probe = await self._one(
                "SELECT count(*) FROM (SELECT 1 FROM passages_fts WHERE passages_fts MATCH ? "
                "LIMIT ?)",
                (expression, RANK_CAP),
            )
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
            SELECT {_PASSAGE_COLUMNS},
                (SELECT snippet(passages_fts, 0, :hs, :he, '…', 24) FROM passages_fts
                    WHERE passages_fts MATCH :q AND rowid = best.r),
                (SELECT n FROM probe)
            FROM best JOIN passages AS p ON p.rowid = best.r {_PASSAGE_JOINS}
            ORDER BY best.score"""
        params = {
            "q": expression,
            "cap": RANK_CAP,
            "limit": max(1, limit),
            "offset": max(0, offset),
            "hs": HIGHLIGHT_START,
            "he": HIGHLIGHT_END,
        }
        rows = await self._all(sql, params)
        if rows:
            total = int(rows[0][13])
        else:
            total_row = await self._one(
                "SELECT count(*) FROM (SELECT 1 FROM passages_fts WHERE passages_fts MATCH ? "
                "LIMIT ?)",
                (expression, RANK_CAP),
            )
            total = int(total_row[0])
        hits = tuple(SearchHit(_passage(r), r[12] or r[11][:200]) for r in rows)
        return SearchResults(parsed, hits, total, offset)

    async def related(self, passage_id: str, *, limit: int = 5) -> list[StoredPassage]:
        """Passages sharing the most distinctive words of ``passage_id`` (not itself)."""
        source = await self.passage(passage_id)
        if source is None:
            return []
        query = similarity_query(source.text)
        if query.expression is None:
            return []
        results = await self.search(query, limit=limit + 1)
        return [h.passage for h in results.hits if h.passage.id != source.id][:limit]

    # ------------------------------------------------------------------ ingest

    async def replace_corpus(self, corpus: Corpus, *, signature: str | None = None) -> IngestReport:
        """Swap in ``corpus`` in one transaction on a separate connection.

        Readers of this store keep seeing the previous corpus until the commit. On any error
        the transaction rolls back and the previous corpus stays.
        """
        started = time.perf_counter()
        writer = await aiosqlite.connect(self.path, isolation_level=None)
        try:
            await _configure(writer)
            await writer.execute("PRAGMA cache_size = -262144")  # 256 MiB for the index build
            await writer.execute("BEGIN IMMEDIATE")
            try:
                report = await _replace(writer, corpus)
                await writer.executemany(
                    "INSERT OR REPLACE INTO corpus_meta (key, value) VALUES (?, ?)",
                    [("fingerprint", corpus.fingerprint), ("signature", signature or "")],
                )
                await writer.execute("COMMIT")
            except BaseException:
                await writer.execute("ROLLBACK")
                raise
        finally:
            await writer.close()
        self.forget_cached_corpus()
        seconds = time.perf_counter() - started
        log.info(
            "Corpus replaced: %d documents, %d passages in %.2fs",
            report.documents,
            report.passages_after,
            seconds,
        )
        return IngestReport(
            False,
            report.documents,
            report.passages_before,
            report.passages_after,
            report.added,
            report.removed,
            report.changed,
            report.vanished_ids,
            seconds,
        )

    async def preview_replace(self, corpus: Corpus) -> IngestReport:
        """What :meth:`replace_corpus` would change, without changing anything."""
        return await _diff(self._db, corpus)

    async def record_audit(
        self,
        *,
        actor: str,
        action: str,
        result: str,
        detail: str = "",
        actor_id: int | None = None,
        guild_id: int | None = None,
    ) -> None:
        """Append to the audit trail of admin actions."""
        await self._db.execute(
            """INSERT INTO audit (actor_id, actor, guild_id, action, result, detail)
            VALUES (?, ?, ?, ?, ?, ?)""",
            (actor_id, actor, guild_id, action, result, detail),
        )

    async def audit_trail(self, limit: int = 20) -> list[AuditEntry]:
        """The most recent admin actions, newest first."""
        rows = await self._all(
            """SELECT at, actor, actor_id, guild_id, action, result, detail FROM audit
            ORDER BY id DESC LIMIT ?""",
            (limit,),
        )
        return [AuditEntry(*r) for r in rows]

    async def backup(self, target: Path) -> None:
        """Copy the live database to ``target`` with SQLite's online backup API."""

        def copy() -> None:
            source = sqlite3.connect(self.path)
            destination = sqlite3.connect(target)
            try:
                source.backup(destination)
            finally:
                destination.close()
                source.close()

        target.parent.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(copy)

    async def remember_signature(self, signature: str) -> None:
        """Record the folder signature of a corpus found unchanged by content."""
        await self._db.execute(
            "INSERT OR REPLACE INTO corpus_meta (key, value) VALUES ('signature', ?)", (signature,)
        )

    async def passage_ids(self) -> list[str]:
        return [r[0] for r in await self._all("SELECT id FROM passages ORDER BY rowid")]

    async def iter_passages(self, batch: int = 2000) -> AsyncIterator[StoredPassage]:
        """Every passage in corpus order, fetched in batches (for exports)."""
        last = 0
        while True:
            rows = await self._all(
                f"SELECT {_PASSAGE_COLUMNS}, p.rowid FROM {_PASSAGE_FROM} WHERE p.rowid > ?"
                " ORDER BY p.rowid LIMIT ?",
                (last, batch),
            )
            for row in rows:
                yield _passage(row)
            if len(rows) < batch:
                return
            last = rows[-1][12]


async def _diff(db: aiosqlite.Connection, corpus: Corpus) -> IngestReport:
    """What replacing the stored corpus with ``corpus`` would change (nothing is written)."""
    async with db.execute("SELECT slug, content_hash FROM documents") as cursor:
        old: dict[str, str] = dict(await cursor.fetchall())  # type: ignore[arg-type]
    async with db.execute("SELECT coalesce(max(rowid), 0) FROM passages") as cursor:
        row = await cursor.fetchone()
        before = int(row[0]) if row else 0
    new = {d.slug: d.content_hash for d in corpus.documents}
    added = tuple(sorted(set(new) - set(old)))
    removed = tuple(sorted(set(old) - set(new)))
    changed = tuple(sorted(s for s in set(old) & set(new) if old[s] != new[s]))
    vanished: list[str] = []
    if removed or changed:
        gone = list(removed) + list(changed)
        marks = ",".join("?" * len(gone))
        async with db.execute(
            f"""SELECT p.id FROM passages AS p JOIN documents AS d ON d.id = p.document_id
            WHERE d.slug IN ({marks}) ORDER BY p.rowid""",
            gone,
        ) as cursor:
            new_ids = {p.id for d in corpus.documents if d.slug in changed for p in d.passages}
            vanished = [r[0] for r in await cursor.fetchall() if r[0] not in new_ids]
    return IngestReport(
        False,
        len(corpus.documents),
        before,
        corpus.passage_count,
        added,
        removed,
        changed,
        tuple(vanished),
    )


async def _replace(db: aiosqlite.Connection, corpus: Corpus) -> IngestReport:
    report = await _diff(db, corpus)
    await db.execute("INSERT INTO passages_fts (passages_fts) VALUES ('delete-all')")
    for table in ("passages", "documents", "authors", "kinds"):
        await db.execute(f"DELETE FROM {table}")

    authors: dict[str, list[int]] = {}  # key -> [id, count]
    names: dict[str, str] = {}
    for doc in corpus.documents:
        for p in doc.passages:
            if p.author:
                key = _key(p.author)
                names.setdefault(key, p.author)
                entry = authors.setdefault(key, [len(authors) + 1, 0])
                entry[1] += 1
    await db.executemany(
        "INSERT INTO authors (id, name, key, passage_count) VALUES (?, ?, ?, ?)",
        [(ident, names[key], key, count) for key, (ident, count) in authors.items()],
    )

    kinds: dict[str, list[int]] = {}
    document_rows = []
    rowid = 1
    for doc_id, doc in enumerate(corpus.documents, 1):  # corpus is sorted by (kind, slug)
        document_rows.append(
            (
                doc_id,
                doc.slug,
                doc.title,
                doc.author,
                doc.kind,
                doc.source,
                doc.note,
                doc.path,
                doc.content_hash,
                rowid,
                len(doc.passages),
            )
        )
        kinds.setdefault(doc.kind, [rowid, 0])[1] += len(doc.passages)
        rowid += len(doc.passages)
    await db.executemany(
        "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", document_rows
    )
    await db.executemany(
        "INSERT INTO kinds (kind, first_rowid, passage_count) VALUES (?, ?, ?)",
        [(kind, first, count) for kind, (first, count) in kinds.items()],
    )
    await db.executemany(
        "INSERT INTO passages VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", _passage_rows(corpus, authors)
    )
    await db.execute("INSERT INTO passages_fts (passages_fts) VALUES ('rebuild')")
    return report


def _passage_rows(corpus: Corpus, authors: dict[str, list[int]]) -> Iterable[tuple[Any, ...]]:
    rowid = 0
    seen: dict[str, int] = {}
    for doc_id, doc in enumerate(corpus.documents, 1):
        for p in doc.passages:
            rowid += 1
            author_id = author_ord = None
            if p.author:
                key = _key(p.author)
                author_id = authors[key][0]
                author_ord = seen.get(key, 0)
                seen[key] = author_ord + 1
            yield (
                rowid,
                p.id,
                doc_id,
                p.seq,
                p.unit,
                p.number,
                p.unit_total,
                author_id,
                author_ord,
                p.text,
            )
