"""The values of daily reflections: schedules, posts, and the shards a process serves."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from ..core.errors import UserError
from .days import EVERY_DAY

#: Post states. ``intent`` is written before sending; the others are outcomes.
INTENT, SENT, LATE, MISSED, FAILED = "intent", "sent", "late", "missed", "failed"
#: States whose passage counts as shown in its cycle.
SHOWN = (INTENT, SENT, LATE)
#: The name of a server's first schedule (and of the one it had before schedules had names).
DEFAULT_NAME = "daily"
NAME_MAX = 32
KINDS = ("poem", "essay", "journal", "thread")
#: Discord channel types a schedule can post into: text, announcement, forum, media.
TEXT, ANNOUNCEMENT, FORUM, MEDIA = 0, 5, 15, 16


@dataclass(frozen=True, slots=True)
class Schedule:
    """One named schedule of a server. Field names are the ``daily_schedules`` columns."""

    guild_id: int
    channel_id: int
    local_time: str  # HH:MM
    zone: str
    role_id: int | None
    thread: bool
    next_date: str
    next_due: int
    attempts: int = 0
    paused_reason: str | None = None
    last_error: str | None = None
    last_error_at: int | None = None
    created_by: int | None = None
    created_at: int = 0
    updated_at: int = 0
    card: bool = False  # attach the day's quote card
    name: str = DEFAULT_NAME
    days: int = EVERY_DAY  # bit mask, Monday bit 0 (see bot.daily.days)
    document: str | None = None  # only this document's passages (slug)
    kind: str | None = None  # only passages of this kind
    revision: int = 0  # bumped by every save: guards the runner's writes (see store.advance)

    @property
    def active(self) -> bool:
        return self.paused_reason is None

    @property
    def key(self) -> tuple[int, str]:
        """(guild id, name): what identifies a schedule, and its posts."""
        return self.guild_id, self.name


@dataclass(frozen=True, slots=True)
class Post:
    """One (schedule, local date): posted, being posted, missed or failed. Field names are the
    ``daily_posts`` columns."""

    guild_id: int
    schedule: str
    local_date: str
    passage_id: str | None
    cycle: int
    state: str
    nonce: str | None
    channel_id: int | None
    message_id: int | None
    thread_id: int | None
    due_at: int
    attempted_at: int | None
    sent_at: int | None
    error: str | None


@dataclass(frozen=True, slots=True)
class ShardFilter:
    """The shards this process serves: a guild is ours if ``(id >> 22) % count`` is in ids."""

    count: int
    ids: frozenset[int]

    @property
    def everything(self) -> bool:
        return self.count <= 1 or len(self.ids) >= self.count


@dataclass(frozen=True, slots=True)
class Placement:
    """Where /daily set posts, as the Discord side found it."""

    channel_id: int
    forum: bool = False  # a forum or media channel: each post is a forum post
    media: bool = False
    missing: tuple[str, ...] = ()  # permissions Lectern lacks there
    tag: str | None = None  # the tag each forum post gets, when the forum requires one


def schedule_name(typed: str | None) -> str:
    """A schedule name as stored: spaces collapsed, 1-32 printable characters."""
    if typed is None or not typed.strip():
        return DEFAULT_NAME
    name = " ".join(typed.split())
    if len(name) > NAME_MAX:
        raise UserError(f"A schedule name is at most {NAME_MAX} characters, e.g. `poems`.")
    if any(unicodedata.category(c)[0] == "C" for c in name):
        raise UserError("A schedule name is plain text, e.g. `poems` or `weekday mornings`.")
    return name
