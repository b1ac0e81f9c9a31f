"""The SQLite database: opening it, numbered migrations, and the one-hop query helpers.

One :class:`Database` wraps one aiosqlite connection in autocommit mode, so every read sees the
latest commit of any process. Multi-statement writes go through :meth:`Database.transaction`, on a
short-lived connection of their own, so readers keep the previous state until the commit (WAL).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import sqlite3
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Self

import aiosqlite

log = logging.getLogger(__name__)

Params = Sequence[Any] | dict[str, Any]

#: A timed read (``first_rows``, ``all_within``) checks its clock this often, in SQLite virtual
#: machine steps. FTS5 reads its index with statements of a few steps each: at 2,000, a scan
#: given 5 ms at 1M passages ran 9-13 ms warm and 1.3 s on a cold disk; at 100, 5-6 ms warm
#: (a cold disk can still add a page read per step). Checking every 10 steps cost more.
PROGRESS_STEPS = 100


class StoreError(Exception):
    """The database cannot be used (newer schema, not a Lectern database, unreadable)."""


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def bundled_migrations() -> list[Migration]:
    """The numbered ``NNNN_name.sql`` files shipped in ``bot/core/migrations``, in order."""
    found = []
    for entry in resources.files("bot.core.migrations").iterdir():
        match = re.fullmatch(r"(\d{4})_(\w+)\.sql", entry.name)
        if match:
            found.append(Migration(int(match.group(1)), match.group(2), entry.read_text("utf-8")))
    found.sort(key=lambda m: m.version)
    if [m.version for m in found] != list(range(1, len(found) + 1)):
        raise StoreError("migrations must be numbered 0001, 0002, ... without gaps")
    return found


async def configure(db: aiosqlite.Connection) -> None:
    """WAL, foreign keys, and a busy timeout so a writer waits for another instead of failing."""
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


class Database:
    """Async access to Lectern's SQLite file: one round trip to aiosqlite's thread per query."""

    def __init__(self, connection: aiosqlite.Connection, path: Path) -> None:
        self._db = connection
        self.path = path
        self._scanner: sqlite3.Connection | None = None  # for bounded scans, opened on first use
        self._scan_lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path, migrations: Sequence[Migration] | None = None) -> Self:
        """Open (creating if needed) and migrate the database at ``path``."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StoreError(f"cannot create its folder: {error.strerror or error}") from None
        try:
            connection = await aiosqlite.connect(path, isolation_level=None)
        except (sqlite3.Error, OSError) as error:
            raise StoreError(f"cannot open the database: {error}") from None
        try:
            await configure(connection)
            await migrate(connection, bundled_migrations() if migrations is None else migrations)
        except sqlite3.DatabaseError as error:
            await connection.close()
            raise StoreError(f"not a usable SQLite database ({error})") from None
        except BaseException:
            await connection.close()
            raise
        return cls(connection, path)

    async def close(self) -> None:
        async with self._scan_lock:  # not while a bounded scan uses it in a thread
            if self._scanner is not None:
                self._scanner.close()
                self._scanner = None
        await self._db.close()

    async def first_rows(
        self, sql: str, params: Params, *, limit: int, seconds: float
    ) -> list[Any]:
        """Up to ``limit`` rows of a read, as many as ``seconds`` allow. For a scan whose cost
        cannot be known before (FTS5 checking a phrase of common words passage by passage);
        it runs on a connection of its own, so no other query is ever cut short."""
        async with self._scan_lock:
            rows, _ = await asyncio.to_thread(self._first_rows, sql, params, limit, seconds)
        return rows

    async def all_within(self, sql: str, params: Params, *, seconds: float) -> list[Any] | None:
        """Every row of a read that ends within ``seconds``, or None when it does not (on the
        scanning connection, like :meth:`first_rows`)."""
        async with self._scan_lock:
            rows, done = await asyncio.to_thread(self._first_rows, sql, params, None, seconds)
        return rows if done else None

    def _first_rows(
        self, sql: str, params: Params, limit: int | None, seconds: float
    ) -> tuple[list[Any], bool]:
        if self._scanner is None:
            self._scanner = sqlite3.connect(self.path, check_same_thread=False)
        deadline = time.monotonic() + seconds
        # Every PROGRESS_STEPS virtual machine steps, counting those of the statements FTS5
        # runs to read its index: one step can read a page from disk.
        self._scanner.set_progress_handler(lambda: int(time.monotonic() > deadline), PROGRESS_STEPS)
        rows: list[Any] = []
        try:
            cursor = self._scanner.execute(sql, params)
            # One at a time, so the rows read before an interrupt are kept (all but the one
            # the cursor was reading ahead: it steps to the next row before it returns one).
            for row in cursor:
                rows.append(row)
                if limit is not None and len(rows) >= limit:
                    break
            cursor.close()
        except sqlite3.OperationalError as error:
            if "interrupt" not in str(error):
                raise
            return rows, False
        finally:
            self._scanner.set_progress_handler(None, 0)
        return rows, True

    @property
    def connection(self) -> aiosqlite.Connection:
        """The raw connection, for tools that time SQL against Lectern's own queries."""
        return self._db

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def one(self, sql: str, params: Params = ()) -> Any:
        """The first row of ``sql``, or None."""
        rows = await self._db.execute_fetchall(sql, params)
        return next(iter(rows), None)

    async def all(self, sql: str, params: Params = ()) -> list[Any]:
        return list(await self._db.execute_fetchall(sql, params))

    async def run(self, sql: str, params: Params = ()) -> int:
        """Execute one statement; the number of rows it changed."""
        async with self._db.execute(sql, params) as cursor:
            return int(cursor.rowcount)

    async def run_many(self, sql: str, rows: Iterable[Params]) -> None:
        await self._db.executemany(sql, rows)

    @contextlib.asynccontextmanager
    async def transaction(self, *, cache_mib: int = 0) -> AsyncIterator[Database]:
        """One ``BEGIN IMMEDIATE`` … ``COMMIT`` (``ROLLBACK`` on any error) on a short-lived
        connection of its own.

        Its own connection, so no other coroutine's statement on this one can slip into the
        transaction (or be rolled back with it), and readers here keep seeing the previous
        state until the commit (WAL). IMMEDIATE takes SQLite's write lock up front, so another
        writer, in this process or another, waits for it (busy timeout) rather than failing
        half way. ``cache_mib`` enlarges the page cache for index builds.
        """
        async with self.session(cache_mib=cache_mib) as session, session.immediate():
            yield session

    @contextlib.asynccontextmanager
    async def session(self, *, cache_mib: int = 0) -> AsyncIterator[Database]:
        """A connection of its own, in autocommit mode, for a job of several transactions
        (see :meth:`immediate`) that may also keep ``TEMP`` tables between them."""
        connection = await aiosqlite.connect(self.path, isolation_level=None)
        try:
            await configure(connection)
            if cache_mib:
                await connection.execute(f"PRAGMA cache_size = -{int(cache_mib) * 1024}")
            yield Database(connection, self.path)
        finally:
            await connection.close()

    @contextlib.asynccontextmanager
    async def immediate(self) -> AsyncIterator[None]:
        """``BEGIN IMMEDIATE`` … ``COMMIT`` on this connection, ``ROLLBACK`` on any error.

        Only for a connection no other coroutine uses (one from :meth:`session`)."""
        await self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            if self._db.in_transaction:  # SQLite may have rolled back by itself already
                await self._db.execute("ROLLBACK")
            raise
        await self._db.execute("COMMIT")

    async def ping(self) -> int:
        """``SELECT 1``: one round trip, the floor every query is measured against."""
        row = await self.one("SELECT 1")
        return int(row[0])

    def size_bytes(self) -> int:
        """The database file and its write-ahead log, in bytes."""
        files = (self.path, Path(f"{self.path}-wal"))
        return sum(p.stat().st_size for p in files if p.exists())

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

        await asyncio.to_thread(copy)
