"""The SQL of daily reflections: schedules, and what was posted for each schedule and date.

Every write is one statement (or one transaction), and the posting state machine in
:mod:`bot.daily.runner` is built so that each step is safe to repeat after a crash.
Instants are unix seconds (UTC); dates are ``YYYY-MM-DD`` in the schedule's zone.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import fields
from typing import Any

from .model import Schedule, ShardFilter
from .post_log import PostLog

log = logging.getLogger(__name__)

_SCHEDULE_FIELDS = tuple(f.name for f in fields(Schedule))
_SCHEDULE_COLUMNS = ", ".join(_SCHEDULE_FIELDS)
#: Schedules whose key is (guild_id, name): the WHERE of every per-schedule statement.
_KEY = "guild_id = ? AND name = ?"
#: "Only while the schedule is still this revision" (no revision given: always).
_GUARD = " AND (? IS NULL OR revision = ?)"


#: A prime just under 2**32: guild ids are reduced modulo it before mixing.
_PRIME = 4_294_967_291


def burst_order(day: int) -> tuple[int, int]:
    """The day's (factor, offset): servers due at one instant are ordered by
    ``(guild_id mod p) * factor + offset mod p``, a permutation drawn anew each day. Plain
    integer SQL (no function per row), and the product stays under 2**63."""
    digest = hashlib.blake2b(f"burst:{day}".encode(), digest_size=8).digest()
    return 1 + int.from_bytes(digest[:4]) % (2**30), int.from_bytes(digest[4:]) % _PRIME


def _schedule(row: Sequence[Any]) -> Schedule:
    values = dict(zip(_SCHEDULE_FIELDS, row, strict=True))
    values["thread"], values["card"] = bool(values["thread"]), bool(values["card"])
    return Schedule(**values)


class DailyStore(PostLog):
    """Schedules and posts in the daily tables of a :class:`~bot.core.db.Database`."""

    # ------------------------------------------------------------------ schedules

    async def save_schedule(self, schedule: Schedule, now: int) -> None:
        """Create or replace one schedule of a server (active again, errors cleared)."""
        values = {f: getattr(schedule, f) for f in _SCHEDULE_FIELDS}
        values |= {"thread": int(schedule.thread), "card": int(schedule.card), "attempts": 0}
        values |= {"paused_reason": None, "last_error": None, "last_error_at": None}
        values |= {"created_at": now, "updated_at": now}
        kept = ("guild_id", "name", "created_at", "revision")
        updates = ", ".join(f"{f} = excluded.{f}" for f in _SCHEDULE_FIELDS if f not in kept)
        updates += ", revision = daily_schedules.revision + 1"
        marks = ", ".join(f":{f}" for f in _SCHEDULE_FIELDS)
        await self._run(
            f"""INSERT INTO daily_schedules ({_SCHEDULE_COLUMNS}) VALUES ({marks})
            ON CONFLICT (guild_id, name) DO UPDATE SET {updates}""",
            values,
        )

    async def schedule(self, guild_id: int, name: str) -> Schedule | None:
        row = await self._one(
            f"SELECT {_SCHEDULE_COLUMNS} FROM daily_schedules WHERE {_KEY}", (guild_id, name)
        )
        return _schedule(row) if row else None

    async def schedules(self, guild_id: int) -> list[Schedule]:
        """Every schedule of a server, by name."""
        rows = await self._all(
            f"SELECT {_SCHEDULE_COLUMNS} FROM daily_schedules WHERE guild_id = ? ORDER BY name",
            (guild_id,),
        )
        return [_schedule(r) for r in rows]

    async def delete_schedule(self, guild_id: int, name: str) -> bool:
        return await self._run(f"DELETE FROM daily_schedules WHERE {_KEY}", (guild_id, name)) > 0

    async def forget_guild(self, guild_id: int) -> None:
        """The bot left the server: remove its schedules and their post history, together."""
        async with self._db.transaction() as tx:
            await tx.run("DELETE FROM daily_schedules WHERE guild_id = ?", (guild_id,))
            await tx.run("DELETE FROM daily_posts WHERE guild_id = ?", (guild_id,))

    async def pause(
        self, key: tuple[int, str], reason: str, now: int, *, revision: int | None = None
    ) -> None:
        """Pause a schedule. With ``revision`` (this and the next writes), only while it is
        still that revision: a post that was running while /daily set saved new settings
        must not overwrite them."""
        await self._run(
            f"""UPDATE daily_schedules SET paused_reason = ?, last_error = ?, last_error_at = ?,
            updated_at = ? WHERE {_KEY}{_GUARD}""",
            (reason, reason, now, now, *key, revision, revision),
        )

    async def pause_channel(self, channel_id: int, reason: str, now: int) -> list[tuple[int, str]]:
        """Pause every schedule posting into ``channel_id``; the keys of those paused."""
        rows = await self._all(
            """UPDATE daily_schedules SET paused_reason = ?, last_error = ?, last_error_at = ?,
            updated_at = ? WHERE channel_id = ? AND paused_reason IS NULL
            RETURNING guild_id, name""",
            (reason, reason, now, now, channel_id),
        )
        return [(r[0], r[1]) for r in rows]

    async def advance(
        self,
        key: tuple[int, str],
        next_date: str,
        next_due: int,
        now: int,
        *,
        revision: int | None = None,
    ) -> None:
        """Move a schedule on to its next post (after a post, a miss or a failure)."""
        await self._run(
            f"""UPDATE daily_schedules SET next_date = ?, next_due = ?, attempts = 0,
            updated_at = ? WHERE {_KEY}{_GUARD}""",
            (next_date, next_due, now, *key, revision, revision),
        )

    async def retry_later(
        self,
        key: tuple[int, str],
        at: int,
        attempts: int,
        error: str,
        now: int,
        *,
        revision: int | None = None,
    ) -> None:
        """A transient failure: try the same date again at ``at``."""
        await self._run(
            f"""UPDATE daily_schedules SET next_due = ?, attempts = ?, last_error = ?,
            last_error_at = ?, updated_at = ? WHERE {_KEY}{_GUARD}""",
            (at, attempts, error, now, now, *key, revision, revision),
        )

    async def note_error(self, key: tuple[int, str], error: str, now: int) -> None:
        await self._run(
            f"UPDATE daily_schedules SET last_error = ?, last_error_at = ? WHERE {_KEY}",
            (error, now, *key),
        )

    @staticmethod
    def _shard_sql(shards: ShardFilter | None) -> tuple[str, list[int]]:
        if shards is None or shards.everything:
            return "", []
        marks = ",".join("?" * len(shards.ids))
        return f" AND ((guild_id >> 22) % ?) IN ({marks})", [shards.count, *sorted(shards.ids)]

    async def due(self, now: int, shards: ShardFilter | None, limit: int = 100) -> list[Schedule]:
        """Active schedules due at ``now``, earliest first: one range scan of the due index.

        Schedules due at the same instant (thousands at 09:00) come shuffled, in an order
        that changes from day to day (:func:`burst_order`), so that no server's post is always
        the last of the burst.
        """
        where, params = self._shard_sql(shards)
        factor, offset = burst_order(now // 86_400)
        rows = await self._all(
            f"""SELECT {_SCHEDULE_COLUMNS} FROM daily_schedules INDEXED BY daily_schedules_due
            WHERE next_due <= ? AND paused_reason IS NULL{where}
            ORDER BY next_due, ((guild_id % {_PRIME}) * ? + ?) % {_PRIME}, name LIMIT ?""",
            (now, *params, factor, offset, limit),
        )
        return [_schedule(r) for r in rows]

    async def earliest_due(self, shards: ShardFilter | None) -> int | None:
        """When the next active schedule of these shards is due (unix seconds), if any."""
        where, params = self._shard_sql(shards)
        row = await self._one(
            f"""SELECT next_due FROM daily_schedules INDEXED BY daily_schedules_due
            WHERE paused_reason IS NULL{where} ORDER BY next_due LIMIT 1""",
            params,
        )
        return int(row[0]) if row else None

    async def schedule_counts(self) -> tuple[int, int]:
        """(active, paused) schedules."""
        row = await self._one(
            """SELECT count(*) FILTER (WHERE paused_reason IS NULL),
            count(*) FILTER (WHERE paused_reason IS NOT NULL) FROM daily_schedules"""
        )
        return int(row[0]), int(row[1])
