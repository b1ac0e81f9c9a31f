"""The audit trail: who did what to the running bot, and how it went."""

from __future__ import annotations

from dataclasses import dataclass

from ..core.db import Database


@dataclass(frozen=True, slots=True)
class Actor:
    """Who asked: a Discord user, the shell, or a signal."""

    name: str
    user_id: int | None = None
    guild_id: int | None = None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: str
    actor: str
    actor_id: int | None
    guild_id: int | None
    action: str
    result: str
    detail: str


class AuditStore:
    """The ``audit`` table."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(self, actor: Actor, action: str, result: str, detail: str = "") -> None:
        """Append one action (``result``: ok, refused or failed)."""
        await self._db.run(
            """INSERT INTO audit (actor_id, actor, guild_id, action, result, detail)
            VALUES (?, ?, ?, ?, ?, ?)""",
            (actor.user_id, actor.name, actor.guild_id, action, result, detail),
        )

    async def trail(self, limit: int = 20) -> list[AuditEntry]:
        """The most recent actions, newest first."""
        rows = await self._db.all(
            """SELECT at, actor, actor_id, guild_id, action, result, detail FROM audit
            ORDER BY id DESC LIMIT ?""",
            (limit,),
        )
        return [AuditEntry(*r) for r in rows]
