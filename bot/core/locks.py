"""Locks in the database, for a cluster of Lectern processes sharing one SQLite file.

SQLite's own write lock keeps writes apart but makes a second writer wait (and, past the busy
timeout, fail); a long job such as reloading a large corpus wants the others to know it is
happening and to skip or wait instead. A lock is a row: taken with one conditional upsert,
released by its holder, overtaken when its lease ran out or its holder (a process on this
machine) is gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

from .db import Database

#: How long a lock holds without being renewed: longer than any reload of a million passages.
LEASE_SECONDS = 30 * 60


@dataclass(frozen=True, slots=True)
class LockHeld(Exception):
    """Another process holds the lock; ``holder`` is its ``host:pid:token``."""

    name: str
    holder: str
    since: int  # unix seconds

    def __str__(self) -> str:
        host, _, rest = self.holder.partition(":")
        pid = rest.partition(":")[0]
        since = time.strftime("%H:%M:%S UTC", time.gmtime(self.since))
        return f"another Lectern process (pid {pid} on {host}) holds it since {since}"


def _alive_here(holder: str) -> bool:
    """False when ``holder`` is a process of this machine that no longer exists."""
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return True  # another machine: only its lease can tell
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, as another user
        return True
    return True


class DatabaseLock:
    """One named lock; each instance is its own holder."""

    def __init__(self, db: Database, name: str, *, lease: int = LEASE_SECONDS) -> None:
        self.db = db
        self.name = name
        self.lease = lease
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    async def try_acquire(self) -> LockHeld | None:
        """Take the lock; None when taken, else who holds it. Free, expired, or held by a
        process of this machine that died: taken (one upsert, so two takers cannot both win)."""
        now = int(time.time())
        # On a connection of its own (a short write transaction), whatever the caller's
        # connection is in the middle of.
        async with self.db.transaction() as tx:
            row = await tx.one("SELECT holder, acquired_at FROM locks WHERE name = ?", (self.name,))
            dead = row[0] if row is not None and not _alive_here(row[0]) else ""
            taken = await tx.run(
                """INSERT INTO locks (name, holder, acquired_at, expires_at) VALUES (?, ?, ?, ?)
                ON CONFLICT (name) DO UPDATE SET holder = excluded.holder,
                    acquired_at = excluded.acquired_at, expires_at = excluded.expires_at
                WHERE locks.holder IN (excluded.holder, ?) OR locks.expires_at < ?""",
                (self.name, self.holder, now, now + self.lease, dead, now),
            )
        if taken or row is None:
            return None
        return LockHeld(self.name, row[0], int(row[1]))

    async def release(self) -> None:
        async with self.db.transaction() as tx:
            await tx.run(
                "DELETE FROM locks WHERE name = ? AND holder = ?", (self.name, self.holder)
            )


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
