"""The SQL of the daily post log: one row per schedule and local date, posted, being posted,
missed or failed. :class:`~bot.daily.store.DailyStore` adds the schedules."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from typing import Any

from ..core.db import Database, Params
from .model import FAILED, LATE, MISSED, SENT, Post

_POST_COLUMNS = ", ".join(f.name for f in fields(Post))
_POST_KEY = "guild_id = ? AND schedule = ? AND local_date = ?"


def _post(row: Sequence[Any]) -> Post:
    return Post(*row)


class PostLog:
    """Posts in the ``daily_posts`` table of a :class:`~bot.core.db.Database`."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def _one(self, sql: str, params: Params = ()) -> Any:
        return await self._db.one(sql, params)

    async def _all(self, sql: str, params: Params = ()) -> list[Any]:
        return await self._db.all(sql, params)

    async def _run(self, sql: str, params: Params = ()) -> int:
        return await self._db.run(sql, params)

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
        thread_id: int | None = None,
    ) -> None:
        """The message went out (``thread_id``: a forum post, which is its own thread)."""
        await self._run(
            f"""UPDATE daily_posts SET state = ?, channel_id = ?, message_id = ?, sent_at = ?,
            thread_id = coalesce(?, thread_id), error = NULL WHERE {_POST_KEY}""",
            (LATE if late else SENT, channel_id, message_id, sent_at, thread_id, *key, local_date),
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

    async def messages_of_others(self, key: tuple[int, str], local_date: str) -> frozenset[int]:
        """Messages the server's other schedules recorded for that date: a post found in a
        channel after a crash is never one of theirs (they may show the same passage)."""
        rows = await self._all(
            """SELECT message_id FROM daily_posts WHERE guild_id = ? AND local_date = ?
            AND schedule != ? AND message_id IS NOT NULL""",
            (key[0], local_date, key[1]),
        )
        return frozenset(int(r[0]) for r in rows)

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
            f"""SELECT {_POST_COLUMNS} FROM daily_posts WHERE guild_id = ?
            AND schedule = ? COLLATE NOCASE AND local_date >= ? ORDER BY local_date DESC
            LIMIT ?""",
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
