"""Locks in the database, for a cluster of Lectern processes sharing one SQLite file.

SQLite's own write lock keeps writes apart but makes a second writer wait (and, past the busy
timeout, fail); a long job such as reloading a large corpus wants the others to know it is
happening and to skip or wait instead. A lock is a row: taken with one conditional upsert,
released by its holder, overtaken when its holder (a process of this machine) is gone, or, for a
holder on another machine, when its lease ran out. (Processes in containers with separate PID
namespaces and one hostname cannot tell each other's liveness: give them distinct hostnames.)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator

from .db import Database

#: How long a lock holds for a holder on another machine (a holder on this machine holds while
#: its process lives): longer than any reload of a million passages.
LEASE_SECONDS = 6 * 3600

log = logging.getLogger(__name__)


class LockHeld(Exception):
    """Another process holds the lock; ``holder`` is its ``host:pid:token``."""

    def __init__(self, name: str, holder: str, since: int) -> None:
        super().__init__(name, holder, since)
        self.name, self.holder, self.since = name, holder, since

    def __str__(self) -> str:
        host, _, rest = self.holder.partition(":")
        pid = rest.partition(":")[0]
        since = time.strftime("%H:%M:%S UTC", time.gmtime(self.since))
        return f"another Lectern process (pid {pid} on {host}) holds it since {since}"


def _here(holder: str) -> tuple[bool, bool]:
    """(on this machine, alive): a holder of another machine counts as alive."""
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False, True
    return True, process_alive(int(pid_text))


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` of this machine exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, as another user
        return True
    return True


def _stale(holder: str, expires_at: int, now: int) -> bool:
    """A dead holder of this machine, or any holder of another machine past its lease."""
    here, alive = _here(holder)
    return not alive or (not here and expires_at < now)


class DatabaseLock:
    """One named lock; each instance is its own holder."""

    def __init__(self, db: Database, name: str, *, lease: int = LEASE_SECONDS) -> None:
        self.db = db
        self.name = name
        self.lease = lease
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    async def _row(self) -> tuple[str, int, int] | None:
        row = await self.db.one(
            "SELECT holder, acquired_at, expires_at FROM locks WHERE name = ?", (self.name,)
        )
        return (str(row[0]), int(row[1]), int(row[2])) if row else None

    async def try_acquire(self) -> LockHeld | None:
        """Take the lock; None when taken, else who holds it.

        It is read first (a WAL read never waits, even while the holder writes a large
        corpus), and written only when free or stale, in one conditional upsert on a
        connection of its own, so two takers cannot both win.
        """
        now = int(time.time())
        row = await self._row()
        if row is not None and row[0] != self.holder and not _stale(row[0], row[2], now):
            return LockHeld(self.name, row[0], row[1])
        stale = row[0] if row is not None and row[0] != self.holder else ""
        try:
            async with self.db.transaction() as tx:
                taken = await tx.run(
                    """INSERT INTO locks (name, holder, acquired_at, expires_at)
                    VALUES (?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET
                        holder = excluded.holder, acquired_at = excluded.acquired_at,
                        expires_at = excluded.expires_at
                    WHERE locks.holder IN (excluded.holder, ?)""",
                    (self.name, self.holder, now, now + self.lease, stale),
                )
        except sqlite3.OperationalError as error:  # a writer outlasted the busy timeout
            log.info("Could not take the %s lock yet: %s", self.name, error)
            taken = 0
        if taken:
            return None
        current = await self._row()
        if current is None:  # released meanwhile, or the database was too busy to say
            return LockHeld(self.name, "?:?", now)
        return LockHeld(self.name, current[0], current[1])

    async def release(self) -> None:
        """Give the lock back (tried a few times: a lock left behind would stop the others
        until this process ends)."""
        for attempt in range(3):
            try:
                async with self.db.transaction() as tx:
                    await tx.run(
                        "DELETE FROM locks WHERE name = ? AND holder = ?", (self.name, self.holder)
                    )
                return
            except sqlite3.OperationalError as error:
                log.warning("Could not release the %s lock (%s); trying again", self.name, error)
                await asyncio.sleep(1 + attempt)
        log.error("The %s lock stays held until this process ends", self.name)


@contextlib.asynccontextmanager
async def held(
    db: Database, name: str, *, wait: float = 0.0, poll: float = 0.5
) -> AsyncIterator[None]:
    """Hold lock ``name`` for the block; waits up to ``wait`` seconds for another holder, then
    raises :class:`LockHeld`."""
    lock = DatabaseLock(db, name)
    deadline = time.monotonic() + wait
    while (busy := await lock.try_acquire()) is not None:
        if time.monotonic() >= deadline:
            raise busy
        await asyncio.sleep(poll)
    try:
        yield
    finally:
        await lock.release()
