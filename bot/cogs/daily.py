"""Daily reflections on Discord: the /daily commands and the scheduler that posts them.

The scheduler sleeps until the earliest due schedule of this process's shards (an indexed
query), is woken early when a schedule changes, and hands each due schedule to
:class:`~bot.daily.DailyService`, which records every step in SQLite. This module only turns
Discord's objects and errors into the service's terms.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import discord
from discord import app_commands
from discord.ext import commands

from ..client import LecternBot, no_daily_counts
from ..daily import (
    DailyMessage,
    DailyService,
    PostBlocked,
    PostRejected,
    PostTransient,
    Sent,
)
from ..daily_store import Post, Schedule, ShardFilter
from ..discord_ui import answer, to_embed, to_view
from ..render import Reply
from ..service import UserError

log = logging.getLogger(__name__)

Interaction = discord.Interaction[LecternBot]

#: Schedules handled per query, and at once.
BATCH = 100
CONCURRENCY = 8
#: Longest sleep between checks (covers clock changes); shortest, so errors cannot spin.
MAX_SLEEP = 300.0
MIN_SLEEP = 1.0
SEND_TIMEOUT = 30.0

#: What a daily post needs in its channel, and what a discussion thread needs as well.
POST_PERMISSIONS = (
    ("view_channel", "View Channel"),
    ("send_messages", "Send Messages"),
    ("embed_links", "Embed Links"),
)
THREAD_PERMISSIONS = (
    ("create_public_threads", "Create Public Threads"),
    ("send_messages_in_threads", "Send Messages in Threads"),
)
#: Discord error codes (see the platform facts sheet).
MISSING_ACCESS, MISSING_PERMISSIONS, UNKNOWN_CHANNEL = 50001, 50013, 10003

Postable = discord.TextChannel


def missing_permissions(
    channel: discord.abc.GuildChannel, me: discord.Member, *, thread: bool
) -> list[str]:
    """Names of the permissions Lectern lacks in ``channel`` for a daily post."""
    have = channel.permissions_for(me)
    needed = POST_PERMISSIONS + (THREAD_PERMISSIONS if thread else ())
    return [name for flag, name in needed if not getattr(have, flag)]


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
    """The :class:`~bot.daily.Poster` that posts through discord.py."""

    def __init__(self, bot: LecternBot) -> None:
        self.bot = bot

    def _channel(self, schedule: Schedule) -> Postable:
        guild = self.bot.get_guild(schedule.guild_id)
        if guild is None:
            raise PostBlocked("Lectern is no longer in this server.")
        if guild.unavailable:
            raise PostTransient("the server is unavailable (a Discord outage)")
        channel = guild.get_channel(schedule.channel_id)
        if channel is None:
            raise PostBlocked("The daily channel was deleted, or Lectern can no longer see it.")
        if not isinstance(channel, discord.TextChannel):
            raise PostBlocked(f"#{channel.name} is not a text or announcement channel.")
        return channel

    async def check(self, schedule: Schedule) -> None:
        channel = self._channel(schedule)
        missing = missing_permissions(channel, channel.guild.me, thread=False)
        if missing:
            names = ", ".join(missing)
            raise PostBlocked(f"Lectern is missing {names} in #{channel.name}.")

    async def send(self, schedule: Schedule, message: DailyMessage, nonce: str) -> Sent:
        channel = self._channel(schedule)
        reply: Reply = message.reply
        if message.role_id:
            mentions = discord.AllowedMentions(
                everyone=False,
                users=False,
                roles=[discord.Object(message.role_id)],
                replied_user=False,
            )
        else:
            mentions = discord.AllowedMentions.none()
        kwargs: dict[str, Any] = {
            "embeds": [to_embed(card) for card in reply.cards],
            "nonce": nonce,
            "allowed_mentions": mentions,
        }
        if message.content:
            kwargs["content"] = message.content
        view = to_view(reply)
        if view is not None:
            kwargs["view"] = view
        try:
            async with asyncio.timeout(SEND_TIMEOUT):
                sent = await channel.send(**kwargs)
        except (discord.HTTPException, TimeoutError, aiohttp.ClientError, OSError) as error:
            raise _translate(error, f"#{channel.name}") from error
        return Sent(channel.id, sent.id)

    async def find_sent(self, schedule: Schedule, post: Post, title: str) -> Sent | None:
        channel = self._channel(schedule)
        me = self.bot.user
        try:
            async for message in channel.history(limit=50):
                if me is None or message.author.id != me.id or not message.embeds:
                    continue
                embed = message.embeds[0]
                footer = embed.footer.text or ""
                if embed.title == title and post.passage_id and post.passage_id in footer:
                    return Sent(channel.id, message.id)
        except (discord.HTTPException, TimeoutError, aiohttp.ClientError, OSError) as error:
            raise _translate(error, f"#{channel.name}") from error
        return None

    async def open_thread(self, schedule: Schedule, sent: Sent, name: str) -> int:
        channel = self._channel(schedule)
        missing = missing_permissions(channel, channel.guild.me, thread=True)
        if missing:
            raise PostBlocked(f"Lectern is missing {', '.join(missing)} in #{channel.name}.")
        try:
            thread = await channel.get_partial_message(sent.message_id).create_thread(
                name=name, auto_archive_duration=1440
            )
        except (discord.HTTPException, TimeoutError, aiohttp.ClientError, OSError) as error:
            raise _translate(error, f"#{channel.name}") from error
        return thread.id


class Scheduler:
    """Posts due reflections. ``run_due(now)`` is one wake-up; ``run_forever`` the loop."""

    def __init__(
        self,
        service: DailyService,
        poster: DiscordPoster,
        clock: Callable[[], datetime],
        shards: Callable[[], ShardFilter | None],
    ) -> None:
        self.service = service
        self.poster = poster
        self.clock = clock
        self.shards = shards
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()

    def wake(self) -> None:
        """A schedule changed: recompute the next wake-up now."""
        self._wake.set()

    async def run_due(self, now: datetime | None = None) -> list[str]:
        """Handle every schedule due at ``now`` (default: the clock); the outcomes."""
        async with self._lock:
            now = now or self.clock()
            shards = self.shards()
            outcomes: list[str] = []
            handled: set[tuple[int, str, int]] = set()
            limit = asyncio.Semaphore(CONCURRENCY)

            async def one(schedule: Schedule) -> str:
                async with limit:
                    try:
                        return await self.service.run_one(schedule, now, self.poster)
                    except Exception:
                        log.exception("Daily post for guild %s failed", schedule.guild_id)
                        retry = int((now + timedelta(minutes=1)).timestamp())
                        await self.service.daily.retry_later(
                            schedule.guild_id,
                            retry,
                            schedule.attempts + 1,
                            "internal error",
                            int(now.timestamp()),
                        )
                        return "error"

            while True:
                batch = await self.service.daily.due(int(now.timestamp()), shards, BATCH)
                fresh = [s for s in batch if (s.guild_id, s.next_date, s.next_due) not in handled]
                if not fresh:
                    return outcomes
                handled.update((s.guild_id, s.next_date, s.next_due) for s in fresh)
                outcomes.extend(await asyncio.gather(*(one(s) for s in fresh)))

    async def run_forever(self, ready: Callable[[], Awaitable[None]]) -> None:
        await ready()
        while True:
            self._wake.clear()
            try:
                await self.run_due()
                earliest = await self.service.daily.earliest_due(self.shards())
            except Exception:
                log.exception("The daily scheduler failed; trying again shortly")
                earliest = None
            delay = MAX_SLEEP
            if earliest is not None:
                delay = min(max(earliest - self.clock().timestamp(), MIN_SLEEP), MAX_SLEEP)
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation that
            # arrives as the wake-up event fires, and the loop would then outlive cog_unload.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._wake.wait()


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class Daily(commands.GroupCog, group_name="daily", group_description="Daily reflections"):
    """/daily: a reflection posted in a channel every day at a local time."""

    def __init__(self, bot: LecternBot) -> None:
        self.bot = bot
        self.service = DailyService(
            bot.store,
            clock=lambda: bot.clock(),
            grace=timedelta(hours=bot.settings.daily_grace_hours),
        )
        poster = DiscordPoster(bot)
        self.scheduler = Scheduler(self.service, poster, self.service.clock, self._shards)
        self.service.on_change = self.scheduler.wake
        self._task: asyncio.Task[None] | None = None

    def _shards(self) -> ShardFilter | None:
        count = self.bot.shard_count
        if not count or count <= 1:
            return None
        ids = getattr(self.bot, "shard_ids", None)
        if ids is None:
            ids = [self.bot.shard_id or 0]
        return ShardFilter(count, frozenset(ids))

    async def cog_load(self) -> None:
        self.bot.lectern.daily_reflection = self.service.todays_passage
        self.bot.daily_counts = self.service.stats_counts
        self._task = self.bot.spawn(
            self.scheduler.run_forever(self.bot.wait_until_ready), "daily-scheduler"
        )

    async def cog_unload(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self.bot.lectern.daily_reflection = None
        self.bot.daily_counts = no_daily_counts

    async def interaction_check(self, interaction: Interaction) -> bool:  # type: ignore[override]
        """The real check: Discord's default permission is only a hint admins can loosen."""
        if interaction.guild is None:
            raise app_commands.NoPrivateMessage()
        if not interaction.permissions.manage_guild:
            raise app_commands.CheckFailure(
                "You need the **Manage Server** permission to manage daily reflections."
            )
        return True

    async def _answer(self, interaction: Interaction, work: Awaitable[Reply]) -> None:
        await answer(interaction, work, bot=self.bot, ephemeral_hint=True)

    # ------------------------------------------------------------------ events

    @commands.Cog.listener()
    async def on_guild_remove(self, guild: discord.Guild) -> None:
        await self.service.daily.forget_guild(guild.id)
        log.info("Left guild %s: its daily schedule is removed", guild.id)
        self.scheduler.wake()

    @commands.Cog.listener()
    async def on_guild_channel_delete(self, channel: discord.abc.GuildChannel) -> None:
        now = int(self.bot.clock().timestamp())
        reason = f"The daily channel #{channel.name} was deleted."
        if await self.service.daily.pause_channel(channel.id, reason, now):
            log.info("Channel %s deleted: daily schedule paused", channel.id)
            self.scheduler.wake()

    # ------------------------------------------------------------------ commands

    @app_commands.command(name="set")
    @app_commands.describe(
        channel="Where to post (a text or announcement channel)",
        time="Local time, 24-hour clock HH:MM (e.g. 09:00)",
        timezone="Time zone: start typing a city, e.g. Berlin or New York",
        role="A role to ping with each post (only this role is mentioned)",
        thread="Open a discussion thread on each post",
    )
    async def set_(
        self,
        interaction: Interaction,
        channel: discord.TextChannel,
        time: app_commands.Range[str, 1, 8],
        timezone: app_commands.Range[str, 1, 64],
        role: discord.Role | None = None,
        thread: bool = False,
    ) -> None:
        """Post a reflection in a channel every day at a local time."""
        work = self._set(interaction, channel, time, timezone, role, thread)
        await self._answer(interaction, work)

    async def _set(
        self,
        interaction: Interaction,
        channel: discord.TextChannel,
        time: str,
        timezone: str,
        role: discord.Role | None,
        thread: bool,
    ) -> Reply:
        guild = channel.guild
        missing = missing_permissions(channel, guild.me, thread=thread)
        note = None
        if role is not None:
            if role.is_default():
                raise UserError("Pick a role to ping, not @everyone.")
            if not role.mentionable and not channel.permissions_for(guild.me).mention_everyone:
                note = (
                    f"Note: {role.mention} is not mentionable, so the mention will show but not "
                    "notify. Make it mentionable under Server Settings → Roles."
                )
        return await self.service.set(
            guild_id=guild.id,
            user_id=interaction.user.id,
            channel_id=channel.id,
            time_text=time,
            zone_text=timezone,
            role_id=role.id if role else None,
            role_note=note,
            thread=thread,
            missing=missing,
        )

    @set_.autocomplete("timezone")
    async def _zones(
        self, interaction: Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        try:
            zones = await self.service.complete_zones(current)
        except Exception:
            log.exception("Time zone autocomplete failed")
            return []
        return [app_commands.Choice(name=z, value=z) for z in zones]

    @app_commands.command()
    async def status(self, interaction: Interaction) -> None:
        """Where and when reflections are posted, the next and last post, and any error."""
        assert interaction.guild_id is not None
        await self._answer(interaction, self.service.status(interaction.guild_id))

    @app_commands.command()
    async def preview(self, interaction: Interaction) -> None:
        """Show the next reflection as it will look (only to you; nothing is posted)."""
        assert interaction.guild_id is not None
        await self._answer(interaction, self.service.preview(interaction.guild_id))

    @app_commands.command()
    async def off(self, interaction: Interaction) -> None:
        """Stop posting daily reflections here."""
        assert interaction.guild_id is not None
        await self._answer(interaction, self.service.off(interaction.guild_id))

    @app_commands.command()
    @app_commands.describe(days="How many days back (default 14)")
    async def history(
        self, interaction: Interaction, days: app_commands.Range[int, 1, 60] = 14
    ) -> None:
        """What was posted (or missed) recently."""
        assert interaction.guild_id is not None
        await self._answer(interaction, self.service.history(interaction.guild_id, days))


async def setup(bot: LecternBot) -> None:
    await bot.add_cog(Daily(bot))
