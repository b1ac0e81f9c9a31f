"""The SQL of daily reflections: schedules, and what was posted for each server and date.

Every write is one statement (or one transaction), and the posting state machine in
:mod:`bot.daily.runner` is built so that each step is safe to repeat after a crash.
Instants are unix seconds (UTC); dates are ``YYYY-MM-DD`` in the schedule's zone.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from ..core.db import Database
from .model import FAILED, LATE, MISSED, SENT, Post, Schedule, ShardFilter

log = logging.getLogger(__name__)

_SCHEDULE_COLUMNS = """guild_id, channel_id, local_time, zone, role_id, thread, next_date,
    next_due, attempts, paused_reason, last_error, last_error_at, created_by, created_at,
    updated_at, card"""
_POST_COLUMNS = """guild_id, local_date, passage_id, cycle, state, nonce, channel_id, message_id,
    thread_id, due_at, attempted_at, sent_at, error"""


def _schedule(row: Sequence[Any]) -> Schedule:
    values = list(row)
    values[5] = bool(values[5])
    values[15] = bool(values[15])
    return Schedule(*values)


def _post(row: Sequence[Any]) -> Post:
    return Post(*row)


class DailyStore:
    """Schedules and posts in the daily tables of a :class:`~bot.core.db.Database`."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return await self._db.one(sql, params)

    async def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return await self._db.all(sql, params)

    async def _run(self, sql: str, params: Sequence[Any] = ()) -> int:
        return await self._db.run(sql, params)

    # ------------------------------------------------------------------ schedules

    async def save_schedule(self, schedule: Schedule, now: int) -> None:
        """Create or replace a server's schedule (active again, errors cleared)."""
        await self._run(
            f"""INSERT INTO daily_schedules ({_SCHEDULE_COLUMNS})
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, NULL, NULL, NULL, ?, ?, ?, ?)
            ON CONFLICT (guild_id) DO UPDATE SET channel_id = excluded.channel_id,
                local_time = excluded.local_time, zone = excluded.zone,
                role_id = excluded.role_id, thread = excluded.thread, card = excluded.card,
                next_date = excluded.next_date, next_due = excluded.next_due, attempts = 0,
                paused_reason = NULL, last_error = NULL, last_error_at = NULL,
                created_by = excluded.created_by, updated_at = excluded.updated_at""",
            (
                schedule.guild_id,
                schedule.channel_id,
                schedule.local_time,
                schedule.zone,
                schedule.role_id,
                int(schedule.thread),
                schedule.next_date,
                schedule.next_due,
                schedule.created_by,
                now,
                now,
                int(schedule.card),
            ),
        )

    async def schedule(self, guild_id: int) -> Schedule | None:
        row = await self._one(
            f"SELECT {_SCHEDULE_COLUMNS} FROM daily_schedules WHERE guild_id = ?", (guild_id,)
        )
        return _schedule(row) if row else None

    async def delete_schedule(self, guild_id: int) -> bool:
        return await self._run("DELETE FROM daily_schedules WHERE guild_id = ?", (guild_id,)) > 0

    async def forget_guild(self, guild_id: int) -> None:
        """The bot left the server: remove its schedule and its post history, together."""
        async with self._db.transaction() as tx:
            await tx.run("DELETE FROM daily_schedules WHERE guild_id = ?", (guild_id,))
            await tx.run("DELETE FROM daily_posts WHERE guild_id = ?", (guild_id,))

    async def pause(self, guild_id: int, reason: str, now: int) -> None:
        await self._run(
            """UPDATE daily_schedules SET paused_reason = ?, last_error = ?, last_error_at = ?,
            updated_at = ? WHERE guild_id = ?""",
            (reason, reason, now, now, guild_id),
        )

    async def pause_channel(self, channel_id: int, reason: str, now: int) -> list[int]:
        """Pause every schedule posting into ``channel_id``; the guild ids paused."""
        rows = await self._all(
            """UPDATE daily_schedules SET paused_reason = ?, last_error = ?, last_error_at = ?,
            updated_at = ? WHERE channel_id = ? AND paused_reason IS NULL RETURNING guild_id""",
            (reason, reason, now, now, channel_id),
        )
        return [r[0] for r in rows]

    async def advance(self, guild_id: int, next_date: str, next_due: int, now: int) -> None:
        """Move a schedule on to its next post (after a post, a miss or a failure)."""
        await self._run(
            """UPDATE daily_schedules SET next_date = ?, next_due = ?, attempts = 0,
            updated_at = ? WHERE guild_id = ?""",
            (next_date, next_due, now, guild_id),
        )

    async def retry_later(
        self, guild_id: int, at: int, attempts: int, error: str, now: int
    ) -> None:
        """A transient failure: try the same date again at ``at``."""
        await self._run(
            """UPDATE daily_schedules SET next_due = ?, attempts = ?, last_error = ?,
            last_error_at = ?, updated_at = ? WHERE guild_id = ?""",
            (at, attempts, error, now, now, guild_id),
        )

    async def note_error(self, guild_id: int, error: str, now: int) -> None:
        await self._run(
            "UPDATE daily_schedules SET last_error = ?, last_error_at = ? WHERE guild_id = ?",
            (error, now, guild_id),
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

    async def post(self, guild_id: int, local_date: str) -> Post | None:
        row = await self._one(
            f"SELECT {_POST_COLUMNS} FROM daily_posts WHERE guild_id = ? AND local_date = ?",
            (guild_id, local_date),
        )
        return _post(row) if row else None

    async def record_intent(self, post: Post) -> bool:
        """Claim (guild, date) before sending. False if it is already claimed or done.

        A missed or failed day can be claimed again (e.g. after the server fixed a permission
        and moved its time later the same day).
        """
        changed = await self._run(
            f"""INSERT INTO daily_posts ({_POST_COLUMNS})
            VALUES (?, ?, ?, ?, 'intent', ?, ?, NULL, NULL, ?, ?, NULL, NULL)
            ON CONFLICT (guild_id, local_date) DO UPDATE SET passage_id = excluded.passage_id,
                cycle = excluded.cycle, state = 'intent', nonce = excluded.nonce,
                channel_id = excluded.channel_id, message_id = NULL, thread_id = NULL,
                due_at = excluded.due_at, attempted_at = excluded.attempted_at, sent_at = NULL,
                error = NULL
            WHERE daily_posts.state IN ('missed', 'failed')""",
            (
                post.guild_id,
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
        self, guild_id: int, local_date: str, attempted_at: int, passage_id: str
    ) -> None:
        """Record another attempt at an intent, with the passage it now sends (re-chosen when
        the corpus lost the first), so recovery looks for the message actually sent."""
        await self._run(
            """UPDATE daily_posts SET attempted_at = ?, passage_id = ? WHERE guild_id = ?
            AND local_date = ? AND state = 'intent'""",
            (attempted_at, passage_id, guild_id, local_date),
        )

    async def record_sent(
        self,
        guild_id: int,
        local_date: str,
        *,
        channel_id: int,
        message_id: int,
        sent_at: int,
        late: bool,
    ) -> None:
        await self._run(
            """UPDATE daily_posts SET state = ?, channel_id = ?, message_id = ?, sent_at = ?,
            error = NULL WHERE guild_id = ? AND local_date = ?""",
            (LATE if late else SENT, channel_id, message_id, sent_at, guild_id, local_date),
        )

    async def record_thread(self, guild_id: int, local_date: str, thread_id: int) -> None:
        await self._run(
            "UPDATE daily_posts SET thread_id = ? WHERE guild_id = ? AND local_date = ?",
            (thread_id, guild_id, local_date),
        )

    async def record_outcome(
        self,
        guild_id: int,
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
            VALUES (?, ?, NULL, 0, ?, NULL, ?, NULL, NULL, ?, NULL, NULL, ?)
            ON CONFLICT (guild_id, local_date) DO UPDATE SET state = excluded.state,
                error = excluded.error
            WHERE daily_posts.state NOT IN ('sent', 'late')""",
            (guild_id, local_date, state, channel_id, due_at, error),
        )

    async def current_cycle(self, guild_id: int) -> tuple[int, set[str], str | None]:
        """The server's cycle over the corpus, the passages shown in it, and the last shown."""
        row = await self._one(
            "SELECT coalesce(max(cycle), 0) FROM daily_posts WHERE guild_id = ?", (guild_id,)
        )
        cycle = int(row[0])
        rows = await self._all(
            """SELECT passage_id FROM daily_posts WHERE guild_id = ? AND cycle = ?
            AND state IN ('intent', 'sent', 'late') AND passage_id IS NOT NULL""",
            (guild_id, cycle),
        )
        last = await self._one(
            """SELECT passage_id FROM daily_posts WHERE guild_id = ? AND passage_id IS NOT NULL
            AND state IN ('intent', 'sent', 'late') ORDER BY local_date DESC LIMIT 1""",
            (guild_id,),
        )
        return cycle, {r[0] for r in rows}, (last[0] if last else None)

    async def history(self, guild_id: int, since: str, limit: int = 60) -> list[Post]:
        """Posts (and misses) from local date ``since`` on, newest first."""
        rows = await self._all(
            f"""SELECT {_POST_COLUMNS} FROM daily_posts WHERE guild_id = ? AND local_date >= ?
            ORDER BY local_date DESC LIMIT ?""",
            (guild_id, since, limit),
        )
        return [_post(r) for r in rows]

    async def last_post(self, guild_id: int) -> Post | None:
        row = await self._one(
            f"""SELECT {_POST_COLUMNS} FROM daily_posts WHERE guild_id = ?
            AND state IN ('sent', 'late') ORDER BY local_date DESC LIMIT 1""",
            (guild_id,),
        )
        return _post(row) if row else None
