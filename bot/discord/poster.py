"""The daily :class:`~bot.daily.posting.Poster` through discord.py, and the permissions a
daily post needs. Discord's objects and errors become the daily feature's terms here."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import aiohttp
import discord

from ..core.pacing import Pacer
from ..daily.model import Post, Schedule
from ..daily.posting import (
    DailyMessage,
    PostBlocked,
    PostRejected,
    PostTransient,
    Sent,
    footer_passage_id,
)
from .convert import component_texts, to_files, to_layout

SEND_TIMEOUT = 30.0
#: Requests a second the daily poster makes at most: under Discord's global 50 a second, with
#: room left for everything else the bot does meanwhile (interaction answers are exempt).
DAILY_REQUESTS_PER_SECOND = 45.0
#: How far back a crashed post is looked for in its channel.
HISTORY_LIMIT = 50

#: What a daily post needs in its channel, and what a discussion thread needs as well.
POST_PERMISSIONS = (
    ("view_channel", "View Channel"),
    ("send_messages", "Send Messages"),
    ("embed_links", "Embed Links"),
    # After a crash past Discord's nonce window, reading the channel back is how Lectern knows
    # whether the post went out (without it Discord answers an empty history).
    ("read_message_history", "Read Message History"),
)
CARD_PERMISSIONS = (("attach_files", "Attach Files"),)
THREAD_PERMISSIONS = (
    ("create_public_threads", "Create Public Threads"),
    ("send_messages_in_threads", "Send Messages in Threads"),
)
#: In a forum or media channel each post is a new forum post (a thread with its message).
#: Discord's "Create Posts" is the Send Messages flag there.
FORUM_PERMISSIONS = (
    ("view_channel", "View Channel"),
    ("send_messages", "Create Posts"),
    ("send_messages_in_threads", "Send Messages in Threads"),
    # A forum post takes no nonce: after a crash the only way to know it went out is to read
    # its first message back, which needs this.
    ("read_message_history", "Read Message History"),
)
#: Discord JSON error codes (discord.com/developers/docs/topics/opcodes-and-status-codes).
MISSING_ACCESS, MISSING_PERMISSIONS, UNKNOWN_CHANNEL = 50001, 50013, 10003

Postable = discord.TextChannel | discord.ForumChannel


def missing_permissions(
    channel: discord.abc.GuildChannel, me: discord.Member, *, thread: bool, card: bool = False
) -> list[str]:
    """Names of the permissions Lectern lacks in ``channel`` for a daily post (in a forum or
    media channel: for a forum post; ``thread`` is ignored there, each post is one)."""
    have = channel.permissions_for(me)
    needed: tuple[tuple[str, str], ...]
    if isinstance(channel, discord.ForumChannel):
        needed = FORUM_PERMISSIONS
    else:
        needed = POST_PERMISSIONS + (THREAD_PERMISSIONS if thread else ())
    needed += CARD_PERMISSIONS if card else ()
    return [name for flag, name in needed if not getattr(have, flag)]


def post_tag(forum: discord.ForumChannel) -> discord.ForumTag | None:
    """The tag a forum post gets: none unless the forum requires one; then a tag named like
    a reflection or a daily post, else the first one anyone may apply (not moderated)."""
    if not forum.flags.require_tag:
        return None
    usable = [t for t in forum.available_tags if not t.moderated]
    named = [t for t in usable if any(w in t.name.casefold() for w in ("reflection", "daily"))]
    candidates = named or usable
    return candidates[0] if candidates else None


def untaggable(forum: discord.ForumChannel) -> bool:
    """True when the forum requires a tag on each post and has none Lectern may apply."""
    return forum.flags.require_tag and post_tag(forum) is None


def _blocked_reason(error: discord.HTTPException, where: str) -> str:
    if error.code == MISSING_ACCESS:
        return f"Lectern cannot see {where} any more (Missing Access, 50001)."
    if error.code == MISSING_PERMISSIONS:
        return f"Lectern lacks a permission in {where} (Missing Permissions, 50013)."
    if error.code == UNKNOWN_CHANNEL:
        return f"{where} was deleted (Unknown Channel, 10003)."
    return f"Discord refused to post in {where} ({error.status}, code {error.code})."


def _translate(error: BaseException, where: str) -> Exception:
    """A Discord or network error as PostBlocked, PostTransient or PostRejected."""
    if isinstance(error, discord.Forbidden):
        return PostBlocked(_blocked_reason(error, where))
    if isinstance(error, discord.NotFound):
        if error.code == UNKNOWN_CHANNEL:
            return PostBlocked(_blocked_reason(error, where))
        return PostRejected(f"Discord: {error.status} {error.code} {error.text}".strip())
    if isinstance(error, discord.RateLimited):
        return PostTransient(f"rate limited for {error.retry_after:.0f} s")
    if isinstance(error, discord.HTTPException):
        if error.status >= 500 or error.status == 429:
            return PostTransient(f"Discord error {error.status}")
        return PostRejected(f"Discord refused the post: {error.status} {error.code} {error.text}")
    if isinstance(error, TimeoutError | aiohttp.ClientError | OSError):
        return PostTransient(f"network: {type(error).__name__}")
    raise error


class DiscordPoster:
    """The :class:`~bot.daily.posting.Poster` that posts through discord.py."""

    def __init__(self, client: discord.Client, pacer: Pacer | None = None) -> None:
        self.client = client
        #: Every request below waits its turn here (see bot/core/pacing.py).
        self.pacer = pacer or Pacer(DAILY_REQUESTS_PER_SECOND)

    def _channel(self, schedule: Schedule) -> Postable:
        guild = self.client.get_guild(schedule.guild_id)
        if guild is None:
            raise PostBlocked("Lectern is no longer in this server.")
        if guild.unavailable:
            raise PostTransient("the server is unavailable (a Discord outage)")
        channel = guild.get_channel(schedule.channel_id)
        if channel is None:
            raise PostBlocked("The daily channel was deleted, or Lectern can no longer see it.")
        if not isinstance(channel, discord.TextChannel | discord.ForumChannel):
            raise PostBlocked(f"#{channel.name} is not a text, announcement or forum channel.")
        return channel

    def deduplicates(self, schedule: Schedule) -> bool:
        guild = self.client.get_guild(schedule.guild_id)
        channel = guild.get_channel(schedule.channel_id) if guild else None
        return not isinstance(channel, discord.ForumChannel)

    async def check(self, schedule: Schedule) -> None:
        channel = self._channel(schedule)
        missing = missing_permissions(channel, channel.guild.me, thread=False, card=schedule.card)
        if missing:
            names = ", ".join(missing)
            raise PostBlocked(f"Lectern is missing {names} in #{channel.name}.")
        if isinstance(channel, discord.ForumChannel) and untaggable(channel):
            raise PostBlocked(f"#{channel.name} requires a tag on each post and has none to use.")

    async def send(self, schedule: Schedule, message: DailyMessage, nonce: str) -> Sent:
        channel = self._channel(schedule)
        reply = message.reply
        if message.role_id:
            mentions = discord.AllowedMentions(
                everyone=False,
                users=False,
                roles=[discord.Object(message.role_id)],
                replied_user=False,
            )
        else:
            mentions = discord.AllowedMentions.none()
        # Components V2: the role ping is a text display above the passage, not content.
        layout = to_layout(dataclasses.replace(reply, content=message.content))
        kwargs: dict[str, Any] = {"view": layout, "allowed_mentions": mentions}
        if reply.attachments:  # the day's card
            kwargs["files"] = to_files(reply)
        try:
            await self.pacer.wait()
            async with asyncio.timeout(SEND_TIMEOUT):
                if isinstance(channel, discord.ForumChannel):
                    tag = post_tag(channel)
                    if tag is not None:
                        kwargs["applied_tags"] = [tag]
                    post = await channel.create_thread(
                        name=message.title, auto_archive_duration=1440, **kwargs
                    )
                    return Sent(post.thread.id, post.message.id, thread_id=post.thread.id)
                sent = await channel.send(nonce=nonce, **kwargs)
        except (discord.HTTPException, TimeoutError, aiohttp.ClientError, OSError) as error:
            raise _translate(error, f"#{channel.name}") from error
        return Sent(channel.id, sent.id)

    async def find_sent(
        self, schedule: Schedule, post: Post, title: str, taken: frozenset[int]
    ) -> Sent | None:
        channel = self._channel(schedule)
        me = self.client.user
        try:
            if isinstance(channel, discord.ForumChannel):
                return await self._find_forum_post(channel, post, title, taken)
            await self.pacer.wait()
            async for message in channel.history(limit=HISTORY_LIMIT):
                if me is None or message.author.id != me.id or message.id in taken:
                    continue
                if _is_post(message, post, title):
                    return Sent(channel.id, message.id)
        except (discord.HTTPException, TimeoutError, aiohttp.ClientError, OSError) as error:
            raise _translate(error, f"#{channel.name}") from error
        return None

    async def _find_forum_post(
        self, forum: discord.ForumChannel, post: Post, title: str, taken: frozenset[int]
    ) -> Sent | None:
        """Lectern's active post of that title in ``forum`` whose starter message is ``post``'s
        (a forum post has no nonce to match, so its passage id decides)."""
        me = self.client.user
        await self.pacer.wait()
        for thread in await forum.guild.active_threads():
            if thread.parent_id != forum.id or thread.name != title or thread.id in taken:
                continue
            if me is None or thread.owner_id != me.id:
                continue
            try:
                await self.pacer.wait()
                starter = await thread.fetch_message(thread.id)
            except discord.NotFound:  # its first message was deleted: not this post
                continue
            if _is_post(starter, post, title):
                return Sent(thread.id, starter.id, thread_id=thread.id)
        return None

    async def open_thread(self, schedule: Schedule, sent: Sent, name: str) -> int:
        channel = self._channel(schedule)
        if isinstance(channel, discord.ForumChannel):  # the post is its own thread
            return sent.thread_id or sent.channel_id
        missing = missing_permissions(channel, channel.guild.me, thread=True)
        if missing:
            raise PostBlocked(f"Lectern is missing {', '.join(missing)} in #{channel.name}.")
        try:
            await self.pacer.wait()
            thread = await channel.get_partial_message(sent.message_id).create_thread(
                name=name, auto_archive_duration=1440
            )
        except (discord.HTTPException, TimeoutError, aiohttp.ClientError, OSError) as error:
            raise _translate(error, f"#{channel.name}") from error
        return thread.id


def _is_post(message: discord.Message, post: Post, title: str) -> bool:
    """Exactly ``post``'s message: its nonce, or the day's title and exactly its passage id
    (never a part of one: ``metaphor-1`` is inside ``metaphor-12``). Posts are Components V2;
    posts from before it carried an embed, which is read the same way."""
    if post.nonce is not None and message.nonce is not None and str(message.nonce) == post.nonce:
        return True
    if not post.passage_id:
        return False
    if message.embeds:
        embed = message.embeds[0]
        footer = embed.footer.text or ""
        return embed.title == title and footer_passage_id(footer) == post.passage_id
    texts = component_texts(message.components)
    headings = [t.removeprefix("### ") for t in texts if t.startswith("### ")]
    subtexts = [t.removeprefix("-# ") for t in texts if t.startswith("-# ")]
    return title in headings and any(footer_passage_id(t) == post.passage_id for t in subtexts)
