"""The SQL of daily reflections: schedules, and what was posted for each schedule and date.

Every write is one statement (or one transaction), and the posting state machine in
:mod:`bot.daily.runner` is built so that each step is safe to repeat after a crash.
Instants are unix seconds (UTC); dates are ``YYYY-MM-DD`` in the schedule's zone.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import fields
from typing import Any

from ..core.db import Database, Params
from .model import FAILED, LATE, MISSED, SENT, Post, Schedule, ShardFilter

log = logging.getLogger(__name__)

_SCHEDULE_FIELDS = tuple(f.name for f in fields(Schedule))
_SCHEDULE_COLUMNS = ", ".join(_SCHEDULE_FIELDS)
_POST_COLUMNS = ", ".join(f.name for f in fields(Post))
#: Schedules whose key is (guild_id, name): the WHERE of every per-schedule statement.
_KEY = "guild_id = ? AND name = ?"
_POST_KEY = "guild_id = ? AND schedule = ? AND local_date = ?"


def _schedule(row: Sequence[Any]) -> Schedule:
    values = dict(zip(_SCHEDULE_FIELDS, row, strict=True))
    values["thread"], values["card"] = bool(values["thread"]), bool(values["card"])
    return Schedule(**values)


def _post(row: Sequence[Any]) -> Post:
    return Post(*row)


class DailyStore:
    """Schedules and posts in the daily tables of a :class:`~bot.core.db.Database`."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def _one(self, sql: str, params: Params = ()) -> Any:
        return await self._db.one(sql, params)

    async def _all(self, sql: str, params: Params = ()) -> list[Any]:
        return await self._db.all(sql, params)

    async def _run(self, sql: str, params: Params = ()) -> int:
        return await self._db.run(sql, params)

    # ------------------------------------------------------------------ schedules

    async def save_schedule(self, schedule: Schedule, now: int) -> None:
        """Create or replace one schedule of a server (active again, errors cleared)."""
        values = {f: getattr(schedule, f) for f in _SCHEDULE_FIELDS}
        values |= {"thread": int(schedule.thread), "card": int(schedule.card), "attempts": 0}
        values |= {"paused_reason": None, "last_error": None, "last_error_at": None}
        values |= {"created_at": now, "updated_at": now}
        kept = ("guild_id", "name", "created_at")
        updates = ", ".join(f"{f} = excluded.{f}" for f in _SCHEDULE_FIELDS if f not in kept)
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

    async def pause(self, key: tuple[int, str], reason: str, now: int) -> None:
        await self._run(
            f"""UPDATE daily_schedules SET paused_reason = ?, last_error = ?, last_error_at = ?,
            updated_at = ? WHERE {_KEY}""",
            (reason, reason, now, now, *key),
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

    async def advance(self, key: tuple[int, str], next_date: str, next_due: int, now: int) -> None:
        """Move a schedule on to its next post (after a post, a miss or a failure)."""
        await self._run(
            f"""UPDATE daily_schedules SET next_date = ?, next_due = ?, attempts = 0,
            updated_at = ? WHERE {_KEY}""",
            (next_date, next_due, now, *key),
        )

    async def retry_later(
        self, key: tuple[int, str], at: int, attempts: int, error: str, now: int
    ) -> None:
        """A transient failure: try the same date again at ``at``."""
        await self._run(
            f"""UPDATE daily_schedules SET next_due = ?, attempts = ?, last_error = ?,
            last_error_at = ?, updated_at = ? WHERE {_KEY}""",
            (at, attempts, error, now, now, *key),
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
        """Active schedules due at ``now``, earliest first: one range scan of the due index."""
        where, params = self._shard_sql(shards)
        rows = await self._all(
            f"""SELECT {_SCHEDULE_COLUMNS} FROM daily_schedules INDEXED BY daily_schedules_due
            WHERE next_due <= ? AND paused_reason IS NULL{where}
            ORDER BY next_due LIMIT ?""",
            (now, *params, limit),
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

    # ------------------------------------------------------------------ posts

    async def post(self, key: tuple[int, str], local_date: str) -> Post | None:
        row = await self._one(
            f"SELECT {_POST_COLUMNS} FROM daily_posts WHERE {_POST_KEY}", (*key, local_date)
        )
        return _post(row) if row else None

    async def record_intent(self, post: Post) -> bool:
        """Claim (schedule, date) before sending. False if it is already claimed or done.

        A missed or failed day can be claimed again (e.g. after the server fixed a permission
        and moved its time later the same day).
        """
        changed = await self._run(
            f"""INSERT INTO daily_posts ({_POST_COLUMNS})
            VALUES (?, ?, ?, ?, ?, 'intent', ?, ?, NULL, NULL, ?, ?, NULL, NULL)
            ON CONFLICT (guild_id, schedule, local_date) DO UPDATE SET
                passage_id = excluded.passage_id, cycle = excluded.cycle, state = 'intent',
                nonce = excluded.nonce, channel_id = excluded.channel_id, message_id = NULL,
                thread_id = NULL, due_at = excluded.due_at, attempted_at = excluded.attempted_at,
                sent_at = NULL, error = NULL
            WHERE daily_posts.state IN ('missed', 'failed')""",
            (
                post.guild_id,
                post.schedule,
                post.local_date,
                post.passage_id,
                post.cycle,
                post.nonce,
                post.channel_id,
                post.due_at,
                post.attempted_at,
            ),
        )
        return changed > 0

    async def touch_intent(
        self, key: tuple[int, str], local_date: str, attempted_at: int, passage_id: str
    ) -> None:
        """Record another attempt at an intent, with the passage it now sends (re-chosen when
        the corpus lost the first), so recovery looks for the message actually sent."""
        await self._run(
            f"""UPDATE daily_posts SET attempted_at = ?, passage_id = ?
            WHERE {_POST_KEY} AND state = 'intent'""",
            (attempted_at, passage_id, *key, local_date),
        )

    async def record_sent(
        self,
        key: tuple[int, str],
        local_date: str,
        *,
        channel_id: int,
        message_id: int,
        sent_at: int,
        late: bool,
    ) -> None:
        await self._run(
            f"""UPDATE daily_posts SET state = ?, channel_id = ?, message_id = ?, sent_at = ?,
            error = NULL WHERE {_POST_KEY}""",
            (LATE if late else SENT, channel_id, message_id, sent_at, *key, local_date),
        )

    async def record_thread(self, key: tuple[int, str], local_date: str, thread_id: int) -> None:
        await self._run(
            f"UPDATE daily_posts SET thread_id = ? WHERE {_POST_KEY}", (thread_id, *key, local_date)
        )

    async def record_outcome(
        self,
        key: tuple[int, str],
        local_date: str,
        state: str,
        *,
        due_at: int,
        error: str | None,
        channel_id: int | None = None,
    ) -> None:
        """Record a day that was missed or failed (never overwrites a sent post)."""
        if state not in (MISSED, FAILED):
            raise ValueError(f"not an outcome: {state}")
        await self._run(
            f"""INSERT INTO daily_posts ({_POST_COLUMNS})
            VALUES (?, ?, ?, NULL, 0, ?, NULL, ?, NULL, NULL, ?, NULL, NULL, ?)
            ON CONFLICT (guild_id, schedule, local_date) DO UPDATE SET state = excluded.state,
                error = excluded.error
            WHERE daily_posts.state NOT IN ('sent', 'late')""",
            (*key, local_date, state, channel_id, due_at, error),
        )

    async def current_cycle(self, key: tuple[int, str]) -> tuple[int, set[str], str | None]:
        """The schedule's cycle over its passages, the passages shown in it, and the last."""
        where = "guild_id = ? AND schedule = ?"
        row = await self._one(f"SELECT coalesce(max(cycle), 0) FROM daily_posts WHERE {where}", key)
        cycle = int(row[0])
        rows = await self._all(
            f"""SELECT passage_id FROM daily_posts WHERE {where} AND cycle = ?
            AND state IN ('intent', 'sent', 'late') AND passage_id IS NOT NULL""",
            (*key, cycle),
        )
        last = await self._one(
            f"""SELECT passage_id FROM daily_posts WHERE {where} AND passage_id IS NOT NULL
            AND state IN ('intent', 'sent', 'late') ORDER BY local_date DESC LIMIT 1""",
            key,
        )
        return cycle, {r[0] for r in rows}, (last[0] if last else None)

    async def history(self, key: tuple[int, str], since: str, limit: int = 60) -> list[Post]:
        """Posts (and misses) of a schedule from local date ``since`` on, newest first."""
        rows = await self._all(
            f"""SELECT {_POST_COLUMNS} FROM daily_posts WHERE guild_id = ? AND schedule = ?
            AND local_date >= ? ORDER BY local_date DESC LIMIT ?""",
            (*key, since, limit),
        )
        return [_post(r) for r in rows]

    async def guild_history(self, guild_id: int, since: str, limit: int = 240) -> list[Post]:
        """Posts of every schedule of a server (past ones too) from ``since`` on, newest first."""
        rows = await self._all(
            f"""SELECT {_POST_COLUMNS} FROM daily_posts WHERE guild_id = ? AND local_date >= ?
            ORDER BY local_date DESC, schedule LIMIT ?""",
            (guild_id, since, limit),
        )
        return [_post(r) for r in rows]

    async def last_post(self, key: tuple[int, str]) -> Post | None:
        row = await self._one(
            f"""SELECT {_POST_COLUMNS} FROM daily_posts WHERE guild_id = ? AND schedule = ?
            AND state IN ('sent', 'late') ORDER BY local_date DESC LIMIT 1""",
            key,
        )
        return _post(row) if row else None
