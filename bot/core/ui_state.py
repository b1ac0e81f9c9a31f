"""State too long for a button's 100-character custom_id (a search query, the filters of
"Another"), kept under a short content hash that the custom_id carries instead.

Retention: a row lives while buttons use it. Saving or reading it marks the day; rows not used
for :data:`RETENTION_DAYS` are pruned (at start and once a day). A button whose state was
pruned answers that it has expired and how to run the command again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from .db import Database

RETENTION_DAYS = 90


def _today() -> date:
    return datetime.now(UTC).date()


class UiStateStore:
    """Button state in the ``ui_state`` table."""

    def __init__(self, db: Database, today: Callable[[], date] = _today) -> None:
        self._db = db
        self._today = today

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
        """The payload under ``key`` (marking it used today), or None once pruned."""
        row = await self._db.one(
            "UPDATE ui_state SET used_on = ? WHERE key = ? RETURNING payload",
            (self._today().isoformat(), key),
        )
        return str(row[0]) if row else None

    async def prune(self, keep_days: int = RETENTION_DAYS) -> int:
        """Delete state unused for ``keep_days``; the number of rows removed."""
        cutoff = (self._today() - timedelta(days=keep_days)).isoformat()
        return await self._db.run("DELETE FROM ui_state WHERE used_on < ?", (cutoff,))
