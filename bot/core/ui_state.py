"""State too long for a button's 100-character custom_id (a search query, the filters of
"Another"), kept under a short content hash that the custom_id carries instead.

Retention: a row lives while buttons use it. Saving or reading it marks the day; rows not used
for :data:`RETENTION_DAYS` are pruned (at start and once a day). A button whose state was
pruned answers that it has expired and how to run the command again.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import sqlite3
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from .db import Database

log = logging.getLogger(__name__)

RETENTION_DAYS = 90


def _today() -> date:
    return datetime.now(UTC).date()


class UiStateStore:
    """Button state in the ``ui_state`` table."""

    def __init__(self, db: Database, today: Callable[[], date] = _today) -> None:
        self._db = db
        self._today = today
        self._marking: set[asyncio.Task[None]] = set()

    async def save(self, payload: str) -> str:
        """Keep ``payload`` and return the short key a custom_id carries."""
        key = hashlib.sha256(payload.encode()).hexdigest()[:16]
        await self._db.run(
            """INSERT INTO ui_state (key, payload, used_on) VALUES (?, ?, ?)
            ON CONFLICT (key) DO UPDATE SET used_on = excluded.used_on""",
            (key, payload, self._today().isoformat()),
        )
        return key

    async def load(self, key: str) -> str | None:
        """The payload under ``key``, or None once pruned. A read: the day it was used is
        marked in the background, at most once a day, so a button never waits for a write
        lock that a long reload may hold."""
        row = await self._db.one("SELECT payload, used_on FROM ui_state WHERE key = ?", (key,))
        if row is None:
            return None
        today = self._today().isoformat()
        if (row[1] or "") < today:
            task = asyncio.create_task(self._mark_used(key, today))
            self._marking.add(task)
            task.add_done_callback(self._marking.discard)
        return str(row[0])

    async def _mark_used(self, key: str, today: str) -> None:
        try:  # on a connection of its own: waiting for the lock holds up no other query
            async with self._db.transaction() as tx:
                await tx.run(
                    "UPDATE ui_state SET used_on = ? WHERE key = ? AND used_on < ?",
                    (today, key, today),
                )
        except sqlite3.Error as error:  # the next use marks it again
            log.warning("Could not mark button state %s as used: %s", key, error)

    async def settled(self) -> None:
        """Wait until every background mark has been written (for tests and shutdown)."""
        while self._marking:
            await asyncio.gather(*self._marking)

    async def prune(self, keep_days: int = RETENTION_DAYS) -> int:
        """Delete state unused for ``keep_days``; the number of rows removed."""
        cutoff = (self._today() - timedelta(days=keep_days)).isoformat()
        return await self._db.run("DELETE FROM ui_state WHERE used_on < ?", (cutoff,))
