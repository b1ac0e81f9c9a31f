"""What posting a daily reflection needs from Discord, as a protocol, and the post itself.

The Discord side (``bot/discord/poster.py``) implements :class:`Poster` and turns Discord's
errors into :class:`PostBlocked` (403/404: pause the schedule, never retry in a loop),
:class:`PostTransient` (5xx, timeouts: retry with backoff) and :class:`PostRejected` (this post
only). Tests implement it too.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from ..core.reply import Attachment, Reply
from ..core.text import clip, split_text
from ..corpus.rows import StoredPassage
from ..reading.replies import reflection_reply, reflection_title
from .model import Post, Schedule


class PostError(Exception):
    """Posting failed; the subclass says what to do about it."""


class PostBlocked(PostError):
    """Posting cannot work until a human fixes something (permission, deleted channel)."""


class PostTransient(PostError):
    """Discord or the network failed in a way that may pass; try again later."""


class PostRejected(PostError):
    """Discord refused this one post; the schedule itself stays active."""


@dataclass(frozen=True, slots=True)
class Sent:
    channel_id: int
    message_id: int
    thread_id: int | None = None  # a forum post: the thread it is the starter message of


@dataclass(frozen=True, slots=True)
class DailyMessage:
    """A day's post: the reflection, the role it may ping, and the thread to open (or, in a
    forum or media channel, the name of the forum post it starts)."""

    reply: Reply
    content: str | None  # the role mention, if any
    role_id: int | None
    thread_name: str | None
    passage_id: str
    title: str  # the reflection's heading: a forum post's name


class Poster(Protocol):
    """What the scheduler needs from Discord."""

    async def check(self, schedule: Schedule) -> None:
        """Raise PostBlocked/PostTransient if posting cannot work now (no request made)."""

    def deduplicates(self, schedule: Schedule) -> bool:
        """True when sending again with the same nonce cannot post twice: Discord drops a
        repeated nonce in a text channel, but a forum post takes none."""

    async def send(self, schedule: Schedule, message: DailyMessage, nonce: str) -> Sent: ...

    async def find_sent(
        self, schedule: Schedule, post: Post, title: str, taken: frozenset[int]
    ) -> Sent | None:
        """The message of ``post`` if it reached the channel (looked up after a crash): a
        message of Lectern's, not one of ``taken`` (other schedules' posts), with ``post``'s
        nonce, or with the day's ``title`` and exactly ``post``'s passage id in its footer.
        Raises PostError when Discord cannot tell."""

    async def open_thread(self, schedule: Schedule, sent: Sent, name: str) -> int: ...


def _base36(number: int) -> str:
    digits, out = "0123456789abcdefghijklmnopqrstuvwxyz", ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if not number:
            return out


def schedule_tag(name: str) -> str:
    """Five base-36 characters that stand for a schedule's name inside a nonce."""
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return _base36(int.from_bytes(digest) % 36**5).rjust(5, "0")


def make_nonce(guild_id: int, name: str, day: date) -> str:
    """Deterministic per server, schedule and date, at most Discord's 25 characters:
    ``d<guild base36>.<date ordinal base36><schedule tag>`` (at most 1 + 13 + 1 + 4 + 5)."""
    return f"d{_base36(guild_id)}.{_base36(day.toordinal())}{schedule_tag(name)}"


def thread_name(day: date) -> str:
    return clip(f"Reflection · {day:%-d %B %Y}", 100)


def daily_message(
    schedule: Schedule, passage: StoredPassage, day: date, card: bytes | None = None
) -> DailyMessage:
    """The post for ``day``: the reflection, the schedule's role ping and thread, and the
    day's quote card (``card``, a PNG) when the schedule asks for one."""
    reply = reflection_reply(passage, split_text(passage.text), day)
    if card is not None and reply.panel is not None:
        name = f"{passage.id}.png"
        panel = dataclasses.replace(reply.panel, image=name)
        reply = dataclasses.replace(reply, panel=panel, attachments=(Attachment(name, card),))
    content = f"<@&{schedule.role_id}>" if schedule.role_id else None
    thread = thread_name(day) if schedule.thread else None
    title = clip(reflection_title(day), 100)
    return DailyMessage(reply, content, schedule.role_id, thread, passage.id, title)


def footer_passage_id(footer: str) -> str:
    """The passage id a reflection's footer ends with (``… · stanza 7 of 24 · <id>``)."""
    return footer.rsplit(" · ", 1)[-1].strip()
