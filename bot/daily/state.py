"""The daily feature's state, as an interface: what the scheduler, the runner, the picker and
the /daily commands need from storage, and nothing about SQL.

:class:`~bot.daily.store.DailyStore` (SQLite) is today's only implementation. Beyond one
machine, schedules, posts, button state and the audit move to a shared database (see
docs/scaling.md): a PostgreSQL ``DailyState`` then implements these methods with the same
guarantees, and nothing above it changes. The guarantees that matter for exactly-once:

- ``record_intent`` is an atomic claim: it succeeds for one caller per (schedule, date), and
  again only over a missed or failed day;
- ``record_outcome`` never overwrites a sent post;
- ``advance``, ``retry_later`` and ``pause`` with a ``revision`` change nothing once the
  schedule was saved again since (a post in flight never overwrites newer settings);
- ``due`` returns only active schedules of the given shards, earliest first, and within one
  instant in an order that changes every day.
"""

from __future__ import annotations

from typing import Protocol

from .model import Post, Schedule, ShardFilter

Key = tuple[int, str]  # (guild id, schedule name)


class DailyState(Protocol):
    # -- schedules
    async def save_schedule(self, schedule: Schedule, now: int) -> None: ...
    async def schedule(self, guild_id: int, name: str) -> Schedule | None: ...
    async def schedules(self, guild_id: int) -> list[Schedule]: ...
    async def delete_schedule(self, guild_id: int, name: str) -> bool: ...
    async def forget_guild(self, guild_id: int) -> None: ...
    async def pause(
        self, key: Key, reason: str, now: int, *, revision: int | None = None
    ) -> None: ...
    async def pause_channel(self, channel_id: int, reason: str, now: int) -> list[Key]: ...
    async def advance(
        self, key: Key, next_date: str, next_due: int, now: int, *, revision: int | None = None
    ) -> None: ...
    async def retry_later(
        self, key: Key, at: int, attempts: int, error: str, now: int, *, revision: int | None = None
    ) -> None: ...
    async def note_error(self, key: Key, error: str, now: int) -> None: ...
    async def due(
        self, now: int, shards: ShardFilter | None, limit: int = 100
    ) -> list[Schedule]: ...
    async def earliest_due(self, shards: ShardFilter | None) -> int | None: ...
    async def schedule_counts(self) -> tuple[int, int]: ...

    # -- posts
    async def post(self, key: Key, local_date: str) -> Post | None: ...
    async def record_intent(self, post: Post) -> bool: ...
    async def touch_intent(
        self, key: Key, local_date: str, attempted_at: int, passage_id: str
    ) -> None: ...
    async def record_sent(
        self,
        key: Key,
        local_date: str,
        *,
        channel_id: int,
        message_id: int,
        sent_at: int,
        late: bool,
        thread_id: int | None = None,
    ) -> None: ...
    async def record_thread(self, key: Key, local_date: str, thread_id: int) -> None: ...
    async def record_outcome(
        self,
        key: Key,
        local_date: str,
        state: str,
        *,
        due_at: int,
        error: str | None,
        channel_id: int | None = None,
    ) -> None: ...
    async def messages_of_others(self, key: Key, local_date: str) -> frozenset[int]: ...
    async def current_cycle(self, key: Key) -> tuple[int, set[str], str | None]: ...
    async def history(self, key: Key, since: str, limit: int = 60) -> list[Post]: ...
    async def guild_history(self, guild_id: int, since: str, limit: int = 240) -> list[Post]: ...
    async def last_post(self, key: Key) -> Post | None: ...
