"""A fake Discord (REST v10 + gateway) on 127.0.0.1 that the real discord.py client talks to.

One :class:`FakeDiscord` holds the whole world (guilds, channels, users, registered commands,
messages, interactions) and serves it with aiohttp on an OS-chosen port. Every request body is
checked against :mod:`tests.fakediscord.rules`; problems land in :attr:`FakeDiscord.breaches`,
calls to routes the fake does not know land in :attr:`FakeDiscord.unexpected`.
"""

# The ``timeout`` parameters below are deliberate: they bound how long a test waits for the bot
# before failing loudly (ASYNC109 prefers asyncio.timeout() at the call site).
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
import uuid
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import discord
from aiohttp import WSMsgType, web

from . import rules
from .limits import RateLimiter
from .models import (
    ALL_PERMISSIONS,
    DEFAULT_BOT_PERMISSIONS,
    DEFAULT_EVERYONE_PERMISSIONS,
    USER_INSTALL_PERMISSIONS,
    Channel,
    Guild,
    Member,
    Overwrite,
    Role,
    Snowflakes,
    User,
    as_permissions,
    iso,
)
from .patch import patched

try:  # discord.py asks for zstd-stream when zstandard imports
    import zstandard
except ImportError:  # pragma: no cover - depends on the environment
    zstandard = None

API_PREFIX = "/api/v10"
NOT_FOUND = {"message": "404: Not Found", "code": 0}

Handler = Callable[["Call"], Awaitable[web.StreamResponse]]


class DiscordError(Exception):
    """Raised by a route handler to answer with a Discord-style JSON error."""

    def __init__(self, status: int, code: int, message: str, errors: Any = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.errors = status, code, message, errors

    def response(self) -> web.Response:
        body: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors is not None:
            body["errors"] = self.errors
        return _json(body, status=self.status)


#: Follow-ups Discord allows per interaction of a user-installed app where its bot is absent.
USER_INSTALL_FOLLOWUPS = 5


def _unknown(what: str, code: int) -> DiscordError:
    return DiscordError(404, code, f"Unknown {what}")


@dataclass
class Request:
    """One REST call the bot made (what a test can assert on)."""

    method: str
    path: str
    route: str | None
    query: dict[str, str]
    body: Any
    files: list[dict[str, Any]]
    status: int = 0

    def __str__(self) -> str:
        return f"{self.method} {self.path} -> {self.status}"


@dataclass
class Call:
    """A matched request as handed to a route handler."""

    request: Request
    params: dict[str, str]
    raw: web.Request

    @property
    def body(self) -> Any:
        return self.request.body

    @property
    def route(self) -> str:
        return f"{self.request.method} {self.request.route}"


@dataclass
class RateLimitRule:
    method: str | None
    pattern: re.Pattern[str]
    retry_after: float
    remaining: int
    is_global: bool


@dataclass
class _Session:
    id: str
    seq: int = 0
    events: list[dict[str, Any]] = field(default_factory=list)
    conn: _Conn | None = None
    shard: list[int] | None = None
    intents: int = 0


# Events Discord only sends with an intent: (guild intent, DM intent).
_INTENT_EVENTS = {
    "MESSAGE_CREATE": (1 << 9, 1 << 12),
    "MESSAGE_UPDATE": (1 << 9, 1 << 12),
    "MESSAGE_DELETE": (1 << 9, 1 << 12),
    "THREAD_CREATE": (1 << 0, 1 << 0),
    "THREAD_UPDATE": (1 << 0, 1 << 0),
    "GUILD_MEMBERS_CHUNK": (0, 0),
}


class _Conn:
    """One gateway websocket, with its negotiated compression."""

    def __init__(self, ws: web.WebSocketResponse, compress: str | None) -> None:
        self.ws = ws
        self.compress = compress
        self.session: _Session | None = None
        self._zlib = zlib.compressobj() if compress == "zlib-stream" else None
        self._zstd = (
            zstandard.ZstdCompressor().compressobj()
            if compress == "zstd-stream" and zstandard is not None
            else None
        )

    async def send(self, payload: dict[str, Any]) -> None:
        data = json.dumps(payload, separators=(",", ":")).encode()
        if self._zlib is not None:
            await self.ws.send_bytes(
                self._zlib.compress(data) + self._zlib.flush(zlib.Z_SYNC_FLUSH)
            )
        elif self._zstd is not None:
            flush = zstandard.COMPRESSOBJ_FLUSH_BLOCK  # type: ignore[union-attr]
            await self.ws.send_bytes(self._zstd.compress(data) + self._zstd.flush(flush))
        else:
            await self.ws.send_str(data.decode())


@dataclass
class Interaction:
    """An interaction the fake sent, and everything the bot did with it.

    Returned by :meth:`FakeDiscord.slash`, :meth:`~FakeDiscord.autocomplete` and
    :meth:`~FakeDiscord.click`.
    """

    fake: FakeDiscord = field(repr=False)
    id: int
    token: str
    type: int
    payload: dict[str, Any] = field(repr=False)
    channel_id: int | None
    sent_at: float = 0.0
    #: every callback POST: ``{"body", "elapsed", "status"}`` (rejected ones included)
    attempts: list[dict[str, Any]] = field(default_factory=list)
    #: the accepted callback body (``{"type": 4, "data": {...}}``), None until it arrives
    accepted: dict[str, Any] | None = None
    original_id: int | None = None
    original_deleted: bool = False
    followup_ids: list[int] = field(default_factory=list)
    #: bodies of every PATCH to the original response (``/messages/@original``)
    edits: list[dict[str, Any]] = field(default_factory=list)

    # -- waiting ---------------------------------------------------------------------------
    async def wait_callback(self, timeout: float | None = None) -> dict[str, Any]:
        """Wait for the first callback POST (accepted or not) and return its body."""
        await self.fake.wait_for(
            lambda: self.attempts or None, timeout, f"a callback for interaction {self.id}"
        )
        return self.attempts[0]["body"]

    async def followup(self, n: int = 0, timeout: float | None = None) -> dict[str, Any]:
        """Wait for the ``n``-th follow-up message (0-based) and return its latest version."""
        await self.fake.wait_for(
            lambda: True if len(self.followup_ids) > n else None,
            timeout,
            f"follow-up #{n} of interaction {self.id}",
        )
        return self.fake.message(self.followup_ids[n])

    async def wait_edit(self, n: int = 1, timeout: float | None = None) -> dict[str, Any]:
        """Wait until the original response was edited ``n`` times; return its latest version."""
        await self.fake.wait_for(
            lambda: True if len(self.edits) >= n else None,
            timeout,
            f"{n} edit(s) of interaction {self.id}'s original response",
        )
        return self.fake.message(self.original_id)  # type: ignore[arg-type]

    # -- inspecting ------------------------------------------------------------------------
    @property
    def callback(self) -> dict[str, Any]:
        """The accepted callback body; fails the test if there is none."""
        if self.accepted is None:
            raise AssertionError(f"interaction {self.id} has no accepted callback: {self.attempts}")
        return self.accepted

    @property
    def data(self) -> dict[str, Any]:
        """``callback["data"]`` (``{}`` if the callback had no data)."""
        return self.callback.get("data") or {}

    @property
    def choices(self) -> list[dict[str, Any]]:
        """Autocomplete choices from a type-8 callback."""
        return list(self.data.get("choices") or [])

    @property
    def elapsed(self) -> float | None:
        """Seconds from INTERACTION_CREATE to the first callback."""
        return self.attempts[0]["elapsed"] if self.attempts else None

    @property
    def original(self) -> dict[str, Any] | None:
        """The original response message as it is now (after edits), None if none/deleted."""
        if self.original_id is None or self.original_deleted:
            return None
        return self.fake.message(self.original_id)

    @property
    def followups(self) -> list[dict[str, Any]]:
        return [self.fake.message(i) for i in self.followup_ids]

    @property
    def replies(self) -> list[dict[str, Any]]:
        """Original response (if any) then follow-ups, latest versions."""
        out = [self.original] if self.original else []
        return out + [m for m in self.followups if m is not self.original]

    def embeds(self) -> list[dict[str, Any]]:
        """All embeds of the original response and follow-ups."""
        return [e for m in self.replies for e in m.get("embeds") or []]


class FakeDiscord:
    """The fake Discord. Use via the ``fake_discord`` fixture, or::

    async with FakeDiscord() as fake:
        guild = fake.add_guild("Test")
        async with fake.running(MyBot()) as bot:
            ...
    """

    def __init__(
        self,
        *,
        token: str = "fake-bot-token",
        bot_name: str = "Lectern",
        deadline: float = 3.0,
        wait_timeout: float = 5.0,
        heartbeat_interval_ms: int = 41250,
    ) -> None:
        #: the 3-second rule: seconds allowed between INTERACTION_CREATE and the first callback
        self.deadline = deadline
        #: how long ``wait_*`` helpers wait before failing the test
        self.wait_timeout = wait_timeout
        #: Discord de-duplicates a repeated ``nonce`` (with ``enforce_nonce``) only "in the past
        #: few minutes"; the fake does so for this many seconds of its own clock
        self.nonce_window = 300.0
        #: seconds added to the wall clock by :meth:`advance_clock` (the fake's notion of now)
        self.clock_offset = 0.0
        self.token = token
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.ids = Snowflakes()
        self.application_id = self.ids.next()
        self.bot_user = User(self.application_id, bot_name, bot=True)
        self.owner = User(self.ids.next(), "owner", global_name="Owner")
        self.application_flags = 1 << 19  # GATEWAY_MESSAGE_CONTENT_LIMITED
        self.guilds: dict[int, Guild] = {}
        self.users: dict[int, User] = {self.bot_user.id: self.bot_user, self.owner.id: self.owner}
        self.dm_channels: dict[int, Channel] = {}
        self.global_commands: list[dict[str, Any]] = []
        self.guild_commands: dict[int, list[dict[str, Any]]] = {}
        self._messages: dict[int, dict[str, Any]] = {}
        self._channel_messages: dict[int, list[int]] = {}
        self.interactions: dict[int, Interaction] = {}
        self._by_token: dict[str, Interaction] = {}
        #: every REST call, in order
        self.requests: list[Request] = []
        #: rule violations (:class:`rules.Breach`); the fixture fails the test if any are left
        self.breaches: list[rules.Breach] = []
        #: calls to routes the fake does not serve (answered 404); the fixture fails on these too
        self.unexpected: list[Request] = []
        #: files uploaded: ``{"name", "size", "content_type", "route"}``
        self.files: list[dict[str, Any]] = []
        #: gateway connections: ``{"query": {...}, "identified": bool, "resumed": bool}``
        self.gateway_log: list[dict[str, Any]] = []
        self.identify_count = 0
        self.heartbeat_count = 0
        #: the application's team (see :meth:`set_team`); None = owned by :attr:`owner`
        self.team: dict[str, Any] | None = None
        self.resume_count = 0
        self._failing_channels: dict[int, DiscordError] = {}
        self._rate_limits: list[RateLimitRule] = []
        #: Discord's global and per-route limits, once enforce_rate_limits() turns them on
        self.limiter: RateLimiter | None = None
        self._session: _Session | None = None  # the last session identified
        #: every identified session by shard id (0 when the bot is not sharded)
        self._sessions: dict[int, _Session] = {}
        #: what GET /gateway/bot recommends; past 2,500 guilds on one shard IDENTIFY is refused
        self.recommended_shards = 1
        self.max_guilds_per_shard = 2500
        self._hold: asyncio.Event | None = None
        self._conns: list[_Conn] = []
        self._event: asyncio.Event | None = None
        self._runner: web.AppRunner | None = None
        self.port = 0
        self._routes: list[tuple[str, re.Pattern[str], str, Handler]] = []
        self._install_routes()

    # =========================================================================================
    # Lifecycle
    # =========================================================================================
    async def start(self) -> FakeDiscord:
        """Serve on 127.0.0.1 on a port chosen by the OS."""
        self._event = asyncio.Event()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        for path in ("/gateway", "/gateway/", "/resume-gateway", "/resume-gateway/"):
            app.router.add_get(path, self._gateway)
        app.router.add_route("*", "/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        for conn in list(self._conns):
            with contextlib.suppress(Exception):
                await conn.ws.close(code=1001)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeDiscord:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base(self) -> str:
        """What ``discord.http.Route.BASE`` must be set to."""
        return self.url + API_PREFIX

    @property
    def gateway_url(self) -> str:
        """What ``DiscordWebSocket.DEFAULT_GATEWAY`` must be set to."""
        return f"ws://127.0.0.1:{self.port}/gateway/"

    @contextlib.asynccontextmanager
    async def running(
        self, bot: discord.Client, *, timeout: float | None = None
    ) -> AsyncIterator[discord.Client]:
        """Start ``bot`` against the fake (``bot.start(token)``), wait until it is ready.

        discord.py's URLs are patched for the duration. Two private knobs of this ``bot``
        instance are turned down so tests do not wait for wall-clock time:
        ``guild_ready_timeout`` (2 s → 0.05 s, the wait after the last GUILD_CREATE) and the
        5-second sleep before a re-IDENTIFY. On exit the bot is closed and its task awaited.
        """
        bot._connection.guild_ready_timeout = 0.05

        async def no_identify_delay(shard_id: int | None, *, initial: bool) -> None:
            return None

        bot.before_identify_hook = no_identify_delay  # type: ignore[method-assign]
        with patched(self.api_base, self.gateway_url):
            task = asyncio.create_task(bot.start(self.token), name="fakediscord-bot")
            try:
                ready = asyncio.ensure_future(self.wait_for(bot.is_ready, timeout, "bot ready"))
                done, _ = await asyncio.wait({task, ready}, return_when=asyncio.FIRST_COMPLETED)
                if task in done:
                    ready.cancel()
                    task.result()  # re-raise the start-up error
                    raise AssertionError("bot.start() returned before the bot became ready")
                ready.result()
                yield bot
            finally:
                await self._stop_bot(bot, task)
            if task.done() and not task.cancelled() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]

    async def _stop_bot(self, bot: discord.Client, task: asyncio.Task[None]) -> None:
        if not bot.is_closed():
            await bot.close()
        try:
            await asyncio.wait_for(asyncio.shield(task), 5)
        except TimeoutError:
            task.cancel()
            raise AssertionError(
                "fakediscord: the bot did not stop within 5 s of close()"
            ) from None
        except BaseException:  # the task's own error is re-raised by running()
            pass

    # =========================================================================================
    # World building
    # =========================================================================================
    def add_guild(
        self,
        name: str = "Test Guild",
        *,
        channels: list[str] | None = None,
        bot_permissions: int | discord.Permissions | None = None,
        everyone_permissions: int | discord.Permissions | None = None,
        announcement_channels: list[str] | None = None,
        bot_member: bool = True,
        shard: tuple[int, int] | None = None,
    ) -> Guild:
        """Create a guild the bot is in: an @everyone role, a managed bot role carrying
        ``bot_permissions``, the bot's member, text channels ``channels`` (default
        ``["general"]``) and announcement channels (type 5). ``guild.owner`` is a human owner.
        With ``bot_member=False`` the bot is not in it (``guild.me`` is None): the gateway never
        mentions it, its channels answer the bot 403 50001, and only a user install reaches it.
        ``shard=(id, count)`` gives the guild an id Discord routes to that shard.
        """
        gid = self.ids.next_on_shard(*shard) if shard else self.ids.next()
        guild = Guild(gid, name, owner_id=self.owner.id, _ids=self.ids)
        guild.roles.append(
            Role(
                gid, "@everyone", as_permissions(everyone_permissions, DEFAULT_EVERYONE_PERMISSIONS)
            )
        )
        bot_role = Role(
            self.ids.next(),
            self.bot_user.username,
            as_permissions(bot_permissions, DEFAULT_BOT_PERMISSIONS),
            position=1,
            managed=True,
            bot_id=self.bot_user.id,
        )
        guild.members.append(Member(self.owner, guild))
        if bot_member:
            guild.roles.append(bot_role)
            guild.me = Member(self.bot_user, guild, roles=[bot_role.id])
            guild.members.append(guild.me)
        for ch in channels if channels is not None else ["general"]:
            guild.add_channel(ch)
        for ch in announcement_channels or []:
            guild.add_channel(ch, type=5)
        self.guilds[gid] = guild
        return guild

    def set_team(self, *members: User, name: str = "Lectern Team") -> dict[str, Any]:
        """Make the application team-owned (``Bot.is_owner`` then accepts every member);
        the first member is the team owner."""
        team_id = str(self.ids.next())
        self.team = {
            "id": team_id,
            "name": name,
            "icon": None,
            "owner_user_id": str(members[0].id),
            "members": [
                {
                    "user": m.to_dict(),
                    "team_id": team_id,
                    "membership_state": 2,
                    "permissions": ["*"],
                    "role": "admin",
                }
                for m in members
            ],
        }
        return self.team

    def add_user(self, name: str) -> User:
        """A user outside any guild (for DM interactions)."""
        user = User(self.ids.next(), name, global_name=name.title())
        self.users[user.id] = user
        return user

    def dm_channel(self, user: User) -> Channel:
        """The DM channel between the bot and ``user``."""
        for ch in self.dm_channels.values():
            if ch.type == 1 and ch.recipient is user:
                return ch
        ch = Channel(self.ids.next(), "", type=1, recipient=user)
        self.dm_channels[ch.id] = ch
        return ch

    def group_dm(self, *users: User) -> Channel:
        """A group DM (type 3) between ``users``: the bot is not in it; a user install is."""
        ch = Channel(self.ids.next(), "", type=3, recipient=users[0] if users else None)
        self.dm_channels[ch.id] = ch
        return ch

    def user_message(
        self,
        channel: Channel,
        author: Member | User,
        content: str = "",
        *,
        attachments: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """A message a person wrote in ``channel`` (a target for message commands)."""
        user = author.user if isinstance(author, Member) else author
        msg = self._new_message(channel.id, {"content": content}, [])
        msg["author"] = user.to_dict()
        if attachments:
            msg["attachments"] = attachments
        return self._public(msg)

    def channel(self, channel_id: int) -> Channel | None:
        """Any channel, thread or DM the fake knows, by id."""
        if channel_id in self.dm_channels:
            return self.dm_channels[channel_id]
        for g in self.guilds.values():
            for ch in [*g.channels, *g.threads]:
                if ch.id == channel_id:
                    return ch
        return None

    def deny(self, channel: Channel, target: Role | Member, permissions: int | discord.Permissions):
        """Add a channel overwrite denying ``permissions`` to a role or member."""
        kind = 0 if isinstance(target, Role) else 1
        channel.overwrites.append(Overwrite(target.id, kind, deny=as_permissions(permissions, 0)))

    def allow(
        self, channel: Channel, target: Role | Member, permissions: int | discord.Permissions
    ):
        """Add a channel overwrite allowing ``permissions`` to a role or member."""
        kind = 0 if isinstance(target, Role) else 1
        channel.overwrites.append(Overwrite(target.id, kind, allow=as_permissions(permissions, 0)))

    # =========================================================================================
    # Fault injection
    # =========================================================================================
    def fail_channel(self, channel: Channel | int, *, status: int = 403, code: int | None = None):
        """Make every call on ``channel`` fail: 403/50013 Missing Permissions (default),
        403/50001 Missing Access, or 404/10003 Unknown Channel."""
        cid = channel.id if isinstance(channel, Channel) else int(channel)
        code = code if code is not None else (50013 if status == 403 else 10003)
        message = {
            50013: "Missing Permissions",
            50001: "Missing Access",
            10003: "Unknown Channel",
        }.get(code, "Error")
        self._failing_channels[cid] = DiscordError(status, code, message)

    def enforce_rate_limits(
        self, *, per_second: int = 50, bucket_size: int = 5, bucket_seconds: float = 5.0
    ) -> RateLimiter:
        """From now on, answer like Discord over its rate limits (see ``limits.py``): 429 past
        ``per_second`` requests a second (interaction endpoints exempt) or past a channel
        route's bucket. The limiter counts what was allowed and refused."""
        self.limiter = RateLimiter(per_second, bucket_size, bucket_seconds)
        return self.limiter

    def heal_channel(self, channel: Channel | int) -> None:
        """Undo :meth:`fail_channel`."""
        self._failing_channels.pop(
            channel.id if isinstance(channel, Channel) else int(channel), None
        )

    def rate_limit(
        self,
        route: str,
        *,
        retry_after: float = 0.01,
        times: int = 1,
        method: str | None = None,
        is_global: bool = False,
    ) -> None:
        """Answer the next ``times`` calls matching ``route`` with 429 and ``retry_after``.

        ``route`` is a route template (``"/channels/{channel_id}/messages"``) or a concrete path
        (``f"/channels/{ch.id}/messages"``); ``{param}`` matches any single path segment.
        """
        regex = re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(route))
        self._rate_limits.append(
            RateLimitRule(method, re.compile(f"^{regex}$"), retry_after, times, is_global)
        )

    # =========================================================================================
    # Inspection and waiting
    # =========================================================================================
    def messages(self, channel: Channel | int) -> list[dict[str, Any]]:
        """Every message the bot posted in ``channel`` (latest versions, deleted excluded),
        including interaction responses and follow-ups (ephemeral ones have flag 64)."""
        cid = channel.id if isinstance(channel, Channel) else int(channel)
        return [
            self._messages[m]
            for m in self._channel_messages.get(cid, [])
            if not self._messages[m].get("_deleted")
        ]

    def message(self, message_id: int | str) -> dict[str, Any]:
        return self._messages[int(message_id)]

    def commands(self, guild: Guild | int | None = None) -> list[dict[str, Any]]:
        """The registered commands: global ones, or a guild's."""
        if guild is None:
            return list(self.global_commands)
        gid = guild.id if isinstance(guild, Guild) else int(guild)
        return list(self.guild_commands.get(gid, []))

    def calls(self, method: str | None = None, route: str | None = None) -> list[Request]:
        """REST calls made so far, filtered by method and/or route template."""
        return [
            r
            for r in self.requests
            if (method is None or r.method == method) and (route is None or r.route == route)
        ]

    def take_breaches(self, rule: str | None = None, contains: str = "") -> list[rules.Breach]:
        """Remove and return the breaches matching ``rule`` and ``contains`` (a test that
        provokes a breach on purpose consumes it this way, so teardown does not fail)."""
        taken = [
            b for b in self.breaches if (rule is None or b.rule == rule) and contains in b.message
        ]
        self.breaches = [b for b in self.breaches if b not in taken]
        return taken

    def take_unexpected(self) -> list[Request]:
        """Remove and return the recorded calls to unknown routes."""
        taken, self.unexpected = self.unexpected, []
        return taken

    async def wait_for(
        self, predicate: Callable[[], Any], timeout: float | None = None, what: str = "condition"
    ) -> Any:
        """Wait until ``predicate()`` is truthy (re-checked on every change the fake sees) and
        return its value; fail with AssertionError after ``timeout`` (default ``wait_timeout``)."""
        timeout = self.wait_timeout if timeout is None else timeout
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while True:
            value = predicate()
            if value:
                return value
            remaining = end - loop.time()
            if remaining <= 0:
                raise AssertionError(f"fakediscord: timed out after {timeout}s waiting for {what}")
            assert self._event is not None, "FakeDiscord.start() was not called"
            event = self._event
            with contextlib.suppress(TimeoutError):
                # woken by every change the fake sees; the short cap covers predicates on
                # the bot's own state (e.g. is_ready) that the fake cannot observe
                await asyncio.wait_for(event.wait(), min(remaining, 0.01))

    async def wait_for_message(
        self, channel: Channel | int, count: int = 1, timeout: float | None = None
    ) -> dict[str, Any]:
        """Wait until ``channel`` has at least ``count`` messages; return the newest."""
        await self.wait_for(
            lambda: len(self.messages(channel)) >= count, timeout, f"{count} message(s)"
        )
        return self.messages(channel)[-1]

    def _changed(self) -> None:
        if self._event is not None:
            self._event.set()
            self._event = asyncio.Event()

    def _breach(self, rule: str, route: str, message: str) -> None:
        self.breaches.append(rules.Breach(rule, route, message))
        self._changed()

    def _check(self, rule: str, call: Call, problems: list[str]) -> None:
        for p in problems:
            self._breach(rule, call.route, p)

    # =========================================================================================
    # Gateway
    # =========================================================================================
    @property
    def connected(self) -> bool:
        return bool(self._session and self._session.conn)

    def gateway_identities(self) -> list[dict[str, Any]]:
        """The gateway connections that IDENTIFYed (each with its ``shard``), by shard id."""
        found = [e for e in self.gateway_log if e["identified"]]
        return sorted(found, key=lambda e: (e.get("shard") or [0, 1])[0])

    def connected_shards(self) -> dict[int, int]:
        """Shard id -> shard count of every session with a live connection."""
        return {
            shard: (session.shard or [0, 1])[1]
            for shard, session in self._sessions.items()
            if session.conn is not None
        }

    def _session_for(self, guild_id: int | None) -> _Session | None:
        """The session a guild's events go to: its shard's; DMs go to shard 0. None when no
        process runs that shard (Discord then delivers nothing)."""
        if guild_id is None:
            return self._sessions.get(0)
        for session in self._sessions.values():
            shard_id, count = session.shard or [0, 1]
            if (guild_id >> 22) % count == shard_id:
                return session
        return None

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0, autoping=True)
        await ws.prepare(request)
        compress = request.query.get("compress")
        entry = {"query": dict(request.query), "identified": False, "resumed": False}
        self.gateway_log.append(entry)
        if request.query.get("v") != "10" or request.query.get("encoding", "json") != "json":
            self._breach("gateway", "GATEWAY", f"unsupported query {dict(request.query)}")
        if compress not in (None, "zlib-stream", "zstd-stream") or (
            compress == "zstd-stream" and zstandard is None
        ):
            self._breach("gateway", "GATEWAY", f"fake cannot serve compress={compress}")
            await ws.close(code=4000)
            return ws
        conn = _Conn(ws, compress)
        self._conns.append(conn)
        try:
            if self._hold is not None:  # see disconnected(): the bot waits for HELLO
                await self._hold.wait()
            await conn.send(
                {
                    "op": 10,
                    "d": {"heartbeat_interval": self.heartbeat_interval_ms},
                    "s": None,
                    "t": None,
                }
            )
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    continue
                await self._gateway_op(conn, json.loads(msg.data), entry)
        finally:
            self._conns.remove(conn)
            if conn.session is not None and conn.session.conn is conn:
                conn.session.conn = None
            self._changed()
        return ws

    async def _gateway_op(self, conn: _Conn, msg: dict[str, Any], entry: dict[str, Any]) -> None:
        op, d = msg.get("op"), msg.get("d")
        if op == 1:  # HEARTBEAT
            self.heartbeat_count += 1
            await conn.send({"op": 11, "d": None, "s": None, "t": None})
        elif op == 2:  # IDENTIFY
            if d.get("token") != self.token:
                await conn.ws.close(code=4004, message=b"Authentication failed.")
                return
            shard_id, count = d.get("shard") or [0, 1]
            on_shard = [
                g
                for g, guild in self.guilds.items()
                if guild.me is not None and (g >> 22) % count == shard_id
            ]
            if len(on_shard) > self.max_guilds_per_shard:
                await conn.ws.close(code=4011, message=b"Sharding required.")
                return
            self.identify_count += 1
            entry["identified"] = True
            entry["shard"] = d.get("shard")
            session = _Session(
                uuid.uuid4().hex, shard=d.get("shard"), intents=d.get("intents") or 0
            )
            session.conn, conn.session, self._session = conn, session, session
            # A bot with another shard count replaces every earlier session (a new deployment).
            self._sessions = {
                k: v for k, v in self._sessions.items() if (v.shard or [0, 1])[1] == count
            }
            self._sessions[shard_id] = session
            ready = {
                "v": 10,
                "user": {**self.bot_user.to_dict(), "verified": True, "mfa_enabled": False},
                "guilds": [{"id": str(g), "unavailable": True} for g in on_shard],
                "session_id": session.id,
                "session_type": "normal",
                "resume_gateway_url": f"ws://127.0.0.1:{self.port}/resume-gateway/",
                "private_channels": [],
                "relationships": [],
                "presences": [],
                "guild_join_requests": [],
                "geo_ordered_rtc_regions": [],
                "application": {"id": str(self.application_id), "flags": self.application_flags},
                "_trace": ["fakediscord"],
            }
            if session.shard is not None:
                ready["shard"] = session.shard
            await self._send_event(session, "READY", ready)
            for g in on_shard:
                await self._send_event(session, "GUILD_CREATE", self.guilds[g].to_dict())
        elif op == 6:  # RESUME
            session = next(
                (s for s in self._sessions.values() if s.id == d.get("session_id")), None
            )
            if session is None or d.get("token") != self.token:
                await conn.send({"op": 9, "d": False, "s": None, "t": None})
                return
            self.resume_count += 1
            entry["resumed"] = True
            session.conn, conn.session = conn, session
            for event in session.events:
                if event["s"] > (d.get("seq") or 0):
                    await conn.send(event)
            await self._send_event(session, "RESUMED", {"_trace": ["fakediscord"]})
        elif op == 8:  # REQUEST_GUILD_MEMBERS
            guild = self.guilds.get(int(d["guild_id"]))
            members = [m.to_dict() for m in guild.members] if guild else []
            chunk = {
                "guild_id": d["guild_id"],
                "members": members,
                "chunk_index": 0,
                "chunk_count": 1,
                "not_found": [],
            }
            if d.get("nonce"):
                chunk["nonce"] = d["nonce"]
            if conn.session is not None:
                await self._send_event(conn.session, "GUILD_MEMBERS_CHUNK", chunk)
        # op 3 (presence) and op 4 (voice) are accepted and ignored

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send a gateway DISPATCH (op 0) to the bot, on the shard of the event's guild (DMs:
        shard 0). While the bot is disconnected the event is kept and replayed on RESUME, like
        Discord does. Message and thread events are only sent if the bot IDENTIFYed with the
        matching intent."""
        guild_id = data.get("guild_id") or (data.get("id") if event.startswith("GUILD_") else None)
        if not self._sessions:
            raise AssertionError("fakediscord: no gateway session (is the bot running?)")
        session = self._session_for(int(guild_id) if guild_id else None)
        if session is not None:  # else no process runs that shard: Discord delivers nothing
            await self._send_event(session, event, data)

    async def _send_event(self, session: _Session, event: str, data: dict[str, Any]) -> None:
        needed = _INTENT_EVENTS.get(event)
        if needed is not None:
            intent = needed[0] if data.get("guild_id") else needed[1]
            if intent and not session.intents & intent:
                return  # Discord does not send it without the intent
        session.seq += 1
        payload = {"op": 0, "t": event, "s": session.seq, "d": data}
        session.events.append(payload)
        if session.conn is not None:
            await session.conn.send(payload)
        self._changed()

    async def drop_connection(self, *, code: int = 4000, wait: bool = True) -> None:
        """Close the bot's websocket as a network failure would (close code ``code``,
        default 4000 = resumable). With ``wait``, return once the bot has RESUMEd."""
        session = self._session
        if session is None or session.conn is None:
            raise AssertionError("fakediscord: the bot is not connected")
        before = self.resume_count
        await session.conn.ws.close(code=code)
        if wait:
            await self.wait_resumed(before + 1)

    @contextlib.asynccontextmanager
    async def disconnected(self, *, code: int = 4000) -> AsyncIterator[None]:
        """Drop the bot's websocket and keep it down for the block: the bot's reconnect is
        accepted but gets no HELLO until the block exits. Events dispatched inside the block
        (e.g. ``slash(..., wait=False)``) are replayed on RESUME. Waits for RESUME on exit."""
        session = self._session
        if session is None or session.conn is None:
            raise AssertionError("fakediscord: the bot is not connected")
        before = self.resume_count
        self._hold = asyncio.Event()
        try:
            await session.conn.ws.close(code=code)
            await self.wait_for(lambda: not self.connected, None, "the bot to disconnect")
            yield
        finally:
            self._hold.set()
            self._hold = None
        await self.wait_resumed(before + 1)

    async def wait_resumed(self, count: int | None = None, timeout: float | None = None) -> None:
        """Wait until the bot has RESUMEd ``count`` times in total (default: once more)."""
        target = self.resume_count + 1 if count is None else count
        await self.wait_for(
            lambda: self.resume_count >= target and self.connected, timeout, "RESUME"
        )

    async def invalidate_session(self, *, wait: bool = True) -> None:
        """Send op 9 (invalid session, not resumable): the bot must IDENTIFY again, and gets
        READY + GUILD_CREATE again (``on_ready`` runs a second time)."""
        session = self._session
        if session is None or session.conn is None:
            raise AssertionError("fakediscord: the bot is not connected")
        before = self.identify_count
        self._session = None
        self._sessions = {k: v for k, v in self._sessions.items() if v is not session}
        await session.conn.send({"op": 9, "d": False, "s": None, "t": None})
        if wait:
            await self.wait_for(
                lambda: self.identify_count > before and self.connected, None, "re-IDENTIFY"
            )

    # =========================================================================================
    # Interactions (test → bot)
    # =========================================================================================
    def _find_command(self, name: str, guild: Guild | None, cmd_type: int = 1) -> dict[str, Any]:
        pools = [self.guild_commands.get(guild.id, [])] if guild else []
        pools.append(self.global_commands)
        for pool in pools:
            for cmd in pool:
                if cmd["name"] == name and cmd.get("type", 1) == cmd_type:
                    return cmd
        where = f"guild {guild.name!r} or globally" if guild else "globally"
        raise AssertionError(
            f"fakediscord: command {name!r} is not registered {where}; sync the tree "
            f"(bot.tree.sync) or call fake_discord.register_commands(bot.tree, ...) first"
        )

    def register_commands(self, tree: discord.app_commands.CommandTree, guild: Guild | None = None):
        """Register ``tree``'s commands directly, as if synced in an earlier deployment."""
        gobj = discord.Object(guild.id) if guild else None
        payload = [c.to_dict(tree) for c in tree.get_commands(guild=gobj)]
        return self._store_commands(payload, guild.id if guild else None)

    def _resolve_options(
        self,
        cmd: dict[str, Any],
        path: list[str],
        options: dict[str, Any],
        focused: str | None,
        guild: Guild | None,
        resolved: dict[str, dict[str, Any]],
    ) -> list[dict[str, Any]]:
        schema = cmd.get("options") or []
        if path:
            sub = next((o for o in schema if o["name"] == path[0] and o["type"] in (1, 2)), None)
            if sub is None:
                raise AssertionError(f"fakediscord: {cmd['name']!r} has no subcommand {path[0]!r}")
            inner = self._resolve_options(sub, path[1:], options, focused, guild, resolved)
            return [{"type": sub["type"], "name": sub["name"], "options": inner}]
        out = []
        for key, value in options.items():
            spec = next((o for o in schema if o["name"] == key), None)
            if spec is None:
                raise AssertionError(f"fakediscord: {cmd['name']!r} has no option {key!r}")
            out.append(self._option_value(spec, value, key == focused, guild, resolved))
        if focused is not None and focused not in options:
            raise AssertionError(f"fakediscord: focused option {focused!r} has no value")
        return out

    def _option_value(self, spec, value, focused, guild, resolved) -> dict[str, Any]:
        otype = spec["type"]
        opt: dict[str, Any] = {"type": otype, "name": spec["name"]}
        if focused:
            opt["focused"] = True
            opt["value"] = value if isinstance(value, str) else str(value)
            return opt
        if otype in (6, 9) and isinstance(value, Member | User):
            member = value if isinstance(value, Member) else None
            user = value.user if isinstance(value, Member) else value
            resolved.setdefault("users", {})[str(user.id)] = user.to_dict()
            if member is not None:
                m = member.to_dict(with_permissions=True)
                m.pop("user")
                resolved.setdefault("members", {})[str(user.id)] = m
            value = str(user.id)
        elif otype in (7,) and isinstance(value, Channel):
            allowed = spec.get("channel_types")
            if allowed and value.type not in allowed:
                # Discord's client offers only channels of the option's channel_types.
                raise AssertionError(
                    f"fakediscord: #{value.name} (type {value.type}) is not offered for "
                    f"option {spec['name']!r}, whose channel_types are {allowed}"
                )
            ch = value.to_dict()
            resolved.setdefault("channels", {})[str(value.id)] = {
                "id": ch["id"],
                "type": ch["type"],
                "name": ch.get("name"),
                "permissions": str(ALL_PERMISSIONS),
                "parent_id": ch.get("parent_id"),
                **({"thread_metadata": ch["thread_metadata"]} if "thread_metadata" in ch else {}),
            }
            value = str(value.id)
        elif otype in (8, 9) and isinstance(value, Role):
            resolved.setdefault("roles", {})[str(value.id)] = value.to_dict()
            value = str(value.id)
        opt["value"] = value
        return opt

    def _base_interaction(
        self,
        itype: int,
        data: dict[str, Any],
        guild: Guild | None,
        channel: Channel | None,
        user: Member | User | None,
        locale: str,
        message: dict[str, Any] | None = None,
        install: str = "guild",
    ) -> tuple[dict[str, Any], Channel]:
        if install not in ("guild", "user"):
            raise AssertionError("fakediscord: install is 'guild' or 'user'")
        iid = self.ids.next()
        token = f"aW50ZXJhY3Rpb246{iid}:{uuid.uuid4().hex}"
        payload: dict[str, Any] = {
            "id": str(iid),
            "application_id": str(self.application_id),
            "type": itype,
            "data": data,
            "token": token,
            "version": 1,
            "locale": locale,
            "entitlements": [],
            "entitlement_sku_ids": [],
            "attachment_size_limit": rules.FILE_SIZE_MAX,
        }
        if guild is not None:
            channel = channel or guild.channels[0]
            member = user if isinstance(user, Member) else None
            if member is None:
                name = user.username if isinstance(user, User) else "member"
                member = next((m for m in guild.members if m.user is user), None)
                member = member or guild.add_member(name)
            if guild.me is None and install != "user":
                raise AssertionError(
                    f"fakediscord: the bot is not in {guild.name!r}; only a user install "
                    "(install='user') can be invoked there"
                )
            owners = {"1": str(member.user.id)} if install == "user" else {}
            if guild.me is not None:
                owners["0"] = str(guild.id)  # the guild installed the bot too
                app_permissions = guild.me.permissions_in(channel)
            else:  # what a user-installed app may do where the bot is absent
                app_permissions = USER_INSTALL_PERMISSIONS
            payload.update(
                guild_id=str(guild.id),
                guild={"id": str(guild.id), "locale": guild.preferred_locale, "features": []},
                guild_locale=guild.preferred_locale,
                member=member.to_dict(channel, with_permissions=True),
                app_permissions=str(app_permissions),
                authorizing_integration_owners=dict(sorted(owners.items())),
                context=0,
            )
            chd = channel.to_dict()
            chd["permissions"] = str(member.permissions_in(channel))
            payload["channel"] = chd
        else:
            if isinstance(user, Member):
                raise AssertionError("fakediscord: a DM interaction takes a User, not a Member")
            user = user or self.add_user("someone")
            channel = channel or self.dm_channel(user)
            private = channel.type == 3 or channel.recipient is not user  # not the bot's DM
            if private and install != "user":
                raise AssertionError(
                    "fakediscord: a group DM or another DM is reached only by a user install"
                )
            owners = {"1": str(user.id)} if install == "user" else {"0": "0"}
            payload.update(
                user=user.to_dict(),
                app_permissions=str(
                    USER_INSTALL_PERMISSIONS
                    if private
                    else discord.Permissions(
                        send_messages=True, embed_links=True, attach_files=True, view_channel=True
                    ).value
                ),
                authorizing_integration_owners=owners,
                context=2 if private else 1,
            )
            chd = channel.to_dict()
            payload["channel"] = chd
        payload["channel_id"] = str(channel.id)
        if message is not None:
            payload["message"] = message
        return payload, channel

    async def _send_interaction(
        self, payload: dict[str, Any], channel: Channel, wait: bool, timeout: float | None
    ) -> Interaction:
        inter = Interaction(
            fake=self,
            id=int(payload["id"]),
            token=payload["token"],
            type=payload["type"],
            payload=payload,
            channel_id=channel.id,
        )
        if payload["type"] == 3:
            inter.original_id = int(payload["message"]["id"])
        self.interactions[inter.id] = inter
        self._by_token[inter.token] = inter
        inter.sent_at = time.monotonic()
        await self.dispatch("INTERACTION_CREATE", payload)
        if wait:
            await inter.wait_callback(timeout)
        return inter

    async def slash(
        self,
        name: str,
        *,
        guild: Guild | None = None,
        channel: Channel | None = None,
        user: Member | User | None = None,
        options: dict[str, Any] | None = None,
        locale: str = "en-US",
        wait: bool = True,
        timeout: float | None = None,
        install: str = "guild",
    ) -> Interaction:
        """Invoke slash command ``name`` (``"daily set"`` for a subcommand, ``"admin x y"`` for a
        group) as ``user`` in ``guild``/``channel`` (defaults: the guild's first channel, a plain
        member). Without ``guild`` it is a DM interaction from a :class:`User`. Options are
        typed from the registered command; Member/User/Channel/Role values are resolved.
        With ``wait`` (default), returns once the bot's callback arrived."""
        payload, channel = self._command_payload(
            name, 2, guild, channel, user, options, None, locale, install
        )
        return await self._send_interaction(payload, channel, wait, timeout)

    async def autocomplete(
        self,
        name: str,
        *,
        focused: str,
        value: str = "",
        guild: Guild | None = None,
        channel: Channel | None = None,
        user: Member | User | None = None,
        options: dict[str, Any] | None = None,
        locale: str = "en-US",
        wait: bool = True,
        timeout: float | None = None,
        install: str = "guild",
    ) -> Interaction:
        """Send an autocomplete interaction (type 4) for option ``focused`` typed as ``value``;
        the result's :attr:`Interaction.choices` holds the bot's answer."""
        opts = {**(options or {}), focused: value}
        payload, channel = self._command_payload(
            name, 4, guild, channel, user, opts, focused, locale, install
        )
        return await self._send_interaction(payload, channel, wait, timeout)

    def _command_payload(
        self, name, itype, guild, channel, user, options, focused, locale, install="guild"
    ):
        if guild is None and channel is not None and channel.guild_id is not None:
            guild = self.guilds[channel.guild_id]
        root, *path = name.split()
        cmd = self._find_command(root, guild if guild is not None and guild.me else None)
        resolved: dict[str, dict[str, Any]] = {}
        data: dict[str, Any] = {
            "id": cmd["id"],
            "name": root,
            "type": 1,
            "options": self._resolve_options(cmd, path, options or {}, focused, guild, resolved),
        }
        if cmd.get("guild_id"):
            data["guild_id"] = cmd["guild_id"]
        if resolved:
            data["resolved"] = resolved
        payload, channel = self._base_interaction(
            itype, data, guild, channel, user, locale, install=install
        )
        self._check_reachable(cmd, payload)
        return payload, channel

    def _check_reachable(self, cmd: dict[str, Any], payload: dict[str, Any]) -> None:
        """Discord shows a command only where its ``integration_types`` and ``contexts`` allow
        (for global commands; a guild command lives in its guild). ``null`` means every
        install kind the app has enabled (both here) and every context."""
        owners = payload.get("authorizing_integration_owners") or {}
        kinds = {int(k) for k in owners}
        if cmd.get("guild_id") is None:
            allowed = cmd.get("integration_types")
            if allowed is not None and not kinds & set(allowed):
                raise AssertionError(
                    f"fakediscord: /{cmd['name']} is not installed that way "
                    f"(integration_types {allowed}, invoked as {sorted(kinds)})"
                )
        contexts = cmd.get("contexts")
        if contexts is not None and payload["context"] not in contexts:
            raise AssertionError(
                f"fakediscord: /{cmd['name']} is not offered in context {payload['context']} "
                f"(contexts {contexts})"
            )

    async def message_command(
        self,
        name: str,
        message: dict[str, Any],
        *,
        guild: Guild | None = None,
        channel: Channel | None = None,
        user: Member | User | None = None,
        locale: str = "en-US",
        install: str = "guild",
        wait: bool = True,
        timeout: float | None = None,
    ) -> Interaction:
        """Right-click ``message`` and run the message command ``name`` (type 3): the target
        arrives in ``data.resolved.messages``, content included, with no intent needed."""
        if channel is None:
            channel = self.channel(int(message["channel_id"]))
        if guild is None and channel is not None and channel.guild_id is not None:
            guild = self.guilds[channel.guild_id]
        cmd = self._find_command(name, guild if guild is not None and guild.me else None, 3)
        data: dict[str, Any] = {
            "id": cmd["id"],
            "name": name,
            "type": 3,
            "target_id": message["id"],
            "resolved": {"messages": {message["id"]: message}},
        }
        if cmd.get("guild_id"):
            data["guild_id"] = cmd["guild_id"]
        payload, channel = self._base_interaction(
            2, data, guild, channel, user, locale, install=install
        )
        self._check_reachable(cmd, payload)
        return await self._send_interaction(payload, channel, wait, timeout)

    async def click(
        self,
        custom_id: str,
        *,
        message: dict[str, Any] | None = None,
        user: Member | User | None = None,
        values: list[str] | None = None,
        locale: str = "en-US",
        wait: bool = True,
        timeout: float | None = None,
    ) -> Interaction:
        """Click the button (or pick ``values`` in the select) ``custom_id`` on ``message``
        (default: the newest bot message carrying that custom_id)."""
        if message is None:
            message = self._find_component_message(custom_id)
        else:
            message = self.message(message["id"])
        component = _find_component(message.get("components") or [], custom_id)
        if component is None:
            raise AssertionError(f"fakediscord: message {message['id']} has no {custom_id!r}")
        if component.get("disabled"):
            raise AssertionError(f"fakediscord: component {custom_id!r} is disabled")
        channel = self.channel(int(message["channel_id"]))
        assert channel is not None
        guild = self.guilds.get(channel.guild_id or 0)
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": component["type"]}
        if component["type"] != 2:
            data["values"] = list(values or [])
        public = {k: v for k, v in message.items() if not k.startswith("_")}
        # A button on a message a user install sent is pressed through that install.
        owners = (message.get("interaction_metadata") or {}).get(
            "authorizing_integration_owners"
        ) or {}
        install = "user" if "1" in owners and "0" not in owners else "guild"
        payload, channel = self._base_interaction(
            3, data, guild, channel, user, locale, public, install=install
        )
        return await self._send_interaction(payload, channel, wait, timeout)

    def _find_component_message(self, custom_id: str) -> dict[str, Any]:
        for mid in sorted(self._messages, reverse=True):
            msg = self._messages[mid]
            if not msg.get("_deleted") and _find_component(msg.get("components") or [], custom_id):
                return msg
        raise AssertionError(f"fakediscord: no message has a component {custom_id!r}")

    # =========================================================================================
    # REST plumbing
    # =========================================================================================
    def route(self, method: str, template: str) -> Callable[[Handler], Handler]:
        """Register a handler for ``method`` + ``template`` (``{name}`` = one path segment)."""

        def deco(fn: Handler) -> Handler:
            regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
            self._routes.append((method, re.compile(f"^{regex}$"), template, fn))
            return fn

        return deco

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        rel = path[len(API_PREFIX) :] if path.startswith(API_PREFIX + "/") else None
        match = None
        if rel is not None:
            for method, regex, template, fn in self._routes:
                if method == request.method and (m := regex.match(rel)):
                    match = (template, fn, m.groupdict())
                    break
        body, files = await _read_body(request)
        req = Request(
            request.method,
            rel or path,
            match[0] if match else None,
            dict(request.query),
            body,
            files,
        )
        self.requests.append(req)
        try:
            response = await self._handle(request, req, match)
        except DiscordError as e:
            response = e.response()
        except Exception as e:  # a bug in the fake must fail the test, not hang it
            self._breach("fake-internal-error", f"{req.method} {req.path}", repr(e))
            response = _json({"message": "500: Internal Server Error", "code": 0}, status=500)
        req.status = response.status
        self._changed()
        return response

    async def _handle(self, request: web.Request, req: Request, match) -> web.StreamResponse:
        if match is None:
            self.unexpected.append(req)
            return _json(NOT_FOUND, status=404)
        template, fn, params = match
        public = template.startswith(("/interactions/", "/webhooks/"))
        if not public and request.headers.get("Authorization") != f"Bot {self.token}":
            return _json({"message": "401: Unauthorized", "code": 0}, status=401)
        for rule in self._rate_limits:
            if (
                rule.remaining > 0
                and (rule.method in (None, req.method))
                and (rule.pattern.match(req.path) or rule.pattern.match(template))
            ):
                rule.remaining -= 1
                headers = {
                    "Via": "1.1 google",
                    "Retry-After": str(max(1, int(rule.retry_after))),
                    "X-RateLimit-Scope": "global" if rule.is_global else "user",
                }
                if rule.is_global:
                    headers["X-RateLimit-Global"] = "true"
                body = {
                    "message": "You are being rate limited.",
                    "retry_after": rule.retry_after,
                    "global": rule.is_global,
                }
                return _json(body, status=429, headers=headers)
        bucket: dict[str, str] = {}
        if self.limiter is not None:
            refusal, bucket = self.limiter.check(req.method, template, params.get("channel_id"))
            if refusal is not None:
                scope = "global" if refusal.is_global else "user"
                # "Via": Discord's 429s come through Google's front; discord.py takes a 429
                # without it for a Cloudflare ban and gives up.
                headers = {"Via": "1.1 google", "X-RateLimit-Scope": scope,
                           "Retry-After": str(max(1, round(refusal.retry_after)))}  # fmt: skip
                if refusal.is_global:
                    headers["X-RateLimit-Global"] = "true"
                body = {
                    "message": "You are being rate limited.",
                    "retry_after": round(refusal.retry_after, 3),
                    "global": refusal.is_global,
                }
                return _json(body, status=429, headers=headers)
        if "channel_id" in params and (
            err := self._failing_channels.get(int(params["channel_id"]))
        ):
            raise err
        for f in req.files:
            self.files.append({**f, "route": f"{req.method} {template}"})
        call = Call(req, params, request)
        if req.files:
            sizes = [(f["name"], f["size"]) for f in req.files]
            self._check("files", call, rules.check_files(sizes))
        response = await fn(call)
        for name, value in bucket.items():
            response.headers[name] = value
        return response

    def _install_routes(self) -> None:
        r = self.route
        r("GET", "/users/@me")(self._get_me)
        r("GET", "/oauth2/applications/@me")(self._get_app)
        r("GET", "/applications/@me")(self._get_app)
        r("GET", "/gateway")(self._get_gateway)
        r("GET", "/gateway/bot")(self._get_gateway_bot)
        r("PUT", "/applications/{app}/commands")(self._put_commands)
        r("GET", "/applications/{app}/commands")(self._get_commands)
        r("PUT", "/applications/{app}/guilds/{guild_id}/commands")(self._put_commands)
        r("GET", "/applications/{app}/guilds/{guild_id}/commands")(self._get_commands)
        r("POST", "/interactions/{interaction_id}/{token}/callback")(self._callback)
        r("POST", "/webhooks/{app}/{token}")(self._followup)
        for target in ("@original", "{message_id}"):
            base = "/webhooks/{app}/{token}/messages/" + target
            r("GET", base)(self._webhook_get)
            r("PATCH", base)(self._webhook_edit)
            r("DELETE", base)(self._webhook_delete)
        r("GET", "/channels/{channel_id}")(self._get_channel)
        r("POST", "/channels/{channel_id}/messages")(self._create_message)
        r("GET", "/channels/{channel_id}/messages")(self._history)
        r("GET", "/channels/{channel_id}/messages/{message_id}")(self._get_message)
        r("PATCH", "/channels/{channel_id}/messages/{message_id}")(self._edit_message)
        r("DELETE", "/channels/{channel_id}/messages/{message_id}")(self._delete_message)
        r("POST", "/channels/{channel_id}/messages/{message_id}/threads")(self._thread_from_message)
        r("POST", "/channels/{channel_id}/threads")(self._thread)
        r("GET", "/guilds/{guild_id}/threads/active")(self._active_threads)
        r("POST", "/users/@me/channels")(self._open_dm)

    # =========================================================================================
    # REST handlers
    # =========================================================================================
    async def _get_me(self, call: Call) -> web.Response:
        return _json(
            {**self.bot_user.to_dict(), "verified": True, "mfa_enabled": False, "locale": "en-US"}
        )

    async def _get_app(self, call: Call) -> web.Response:
        return _json(
            {
                "id": str(self.application_id),
                "name": self.bot_user.username,
                "icon": None,
                "description": "",
                "summary": "",
                "type": None,
                "hook": True,
                "bot_public": True,
                "bot_require_code_grant": False,
                "verify_key": "0" * 64,
                "owner": self.owner.to_dict(),
                "team": self.team,
                "flags": self.application_flags,
                "rpc_origins": [],
                "redirect_uris": [],
                "interactions_endpoint_url": None,
                "role_connections_verification_url": None,
                "tags": [],
                "approximate_guild_count": len(self.guilds),
                "bot": self.bot_user.to_dict(),
                "integration_types_config": {"0": {}},
            }
        )

    async def _get_gateway(self, call: Call) -> web.Response:
        return _json(
            {
                "url": f"ws://127.0.0.1:{self.port}/gateway",
                "shards": 1,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 1000,
                    "reset_after": 0,
                    "max_concurrency": 1,
                },
            }
        )

    async def _get_gateway_bot(self, call: Call) -> web.Response:
        """GET /gateway/bot: the URL, the recommended shard count and the start limits."""
        response = await self._get_gateway(call)
        body = json.loads(response.body)  # type: ignore[arg-type]
        body["shards"] = self.recommended_shards
        body["session_start_limit"]["max_concurrency"] = 1
        return _json(body)

    def _check_app(self, call: Call) -> None:
        if call.params.get("app") != str(self.application_id):
            raise DiscordError(404, 10002, "Unknown Application")

    def _guild_param(self, call: Call) -> int | None:
        if "guild_id" not in call.params:
            return None
        gid = int(call.params["guild_id"])
        if gid not in self.guilds:
            raise DiscordError(403, 50001, "Missing Access")
        return gid

    async def _put_commands(self, call: Call) -> web.Response:
        self._check_app(call)
        gid = self._guild_param(call)
        problems = rules.check_commands(call.body)
        self._check("commands", call, problems)
        if problems:
            raise DiscordError(400, 50035, "Invalid Form Body", {"_errors": problems})
        return _json(self._store_commands(call.body, gid))

    def _store_commands(self, payload: list[dict[str, Any]], gid: int | None) -> list[dict]:
        old = self.guild_commands.get(gid, []) if gid else self.global_commands
        old_ids = {(c["name"], c.get("type", 1)): c["id"] for c in old}
        stored = []
        for cmd in payload:
            ctype = cmd.get("type") or 1
            out = {
                "id": old_ids.get((cmd["name"], ctype)) or str(self.ids.next()),
                "application_id": str(self.application_id),
                "version": str(self.ids.next()),
                "type": ctype,
                "name": cmd["name"],
                "name_localizations": cmd.get("name_localizations"),
                "description": cmd.get("description") or "",
                "description_localizations": cmd.get("description_localizations"),
                "options": cmd.get("options") or [],
                "default_member_permissions": (
                    None
                    if cmd.get("default_member_permissions") is None
                    else str(cmd["default_member_permissions"])
                ),
                "dm_permission": cmd.get("dm_permission", True),
                "contexts": cmd.get("contexts"),
                "integration_types": cmd.get("integration_types") or [0],
                "nsfw": bool(cmd.get("nsfw")),
            }
            if gid:
                out["guild_id"] = str(gid)
            stored.append(out)
        if gid:
            self.guild_commands[gid] = stored
        else:
            self.global_commands = stored
        return stored

    async def _get_commands(self, call: Call) -> web.Response:
        self._check_app(call)
        gid = self._guild_param(call)
        return _json(self.commands(gid))

    # -- messages -----------------------------------------------------------------------------
    def _attachments(self, body: dict[str, Any], files: list[dict[str, Any]]) -> list[dict]:
        out = []
        meta = {str(a.get("id")): a for a in body.get("attachments") or [] if isinstance(a, dict)}
        for index, f in enumerate(files):
            aid = self.ids.next()
            m = meta.get(str(f.get("index", index)), {})
            out.append(
                {
                    "id": str(aid),
                    "filename": f["filename"],
                    "size": f["size"],
                    "url": f"{self.url}/attachments/{aid}/{f['filename']}",
                    "proxy_url": f"{self.url}/attachments/{aid}/{f['filename']}",
                    "content_type": f.get("content_type"),
                    "description": m.get("description"),
                }
            )
        return out

    def now(self) -> float:
        """The fake's clock: the wall clock, moved on by :meth:`advance_clock`."""
        return time.time() + self.clock_offset

    def post_as_bot(self, channel: Channel, body: dict[str, Any]) -> dict[str, Any]:
        """Put a message from the bot in ``channel`` without the bot sending it (e.g. one an
        earlier run of the bot posted)."""
        return self._public(self._new_message(channel.id, body, []))

    def advance_clock(self, seconds: float) -> None:
        """Let ``seconds`` pass for Discord (nonce windows), without waiting for them."""
        self.clock_offset += seconds

    def _new_message(
        self,
        channel_id: int,
        body: dict[str, Any],
        files: list[dict[str, Any]],
        *,
        mtype: int = 0,
        webhook: bool = False,
        interaction: Interaction | None = None,
        flags: int = 0,
        mid: int | None = None,
    ) -> dict[str, Any]:
        mid = mid or self.ids.next()
        channel = self.channel(channel_id)
        msg: dict[str, Any] = {
            "id": str(mid),
            "channel_id": str(channel_id),
            "type": mtype,
            "author": self.bot_user.to_dict(),
            "content": body.get("content") or "",
            "timestamp": iso(),
            "edited_timestamp": None,
            "tts": bool(body.get("tts")),
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "mention_channels": [],
            "attachments": self._attachments(body, files),
            "embeds": [_embed_out(e) for e in body.get("embeds") or []],
            "components": body.get("components") or [],
            "pinned": False,
            "flags": (body.get("flags") or 0) | flags,
            "_created": self.now(),
        }
        if channel is not None and channel.guild_id:
            msg["guild_id"] = str(channel.guild_id)
        if body.get("nonce") is not None:
            msg["nonce"] = body["nonce"]
        if body.get("message_reference"):
            msg["message_reference"] = body["message_reference"]
        if webhook:
            msg["webhook_id"] = str(self.application_id)
            msg["application_id"] = str(self.application_id)
        if interaction is not None:
            p = interaction.payload
            user = p["member"]["user"] if "member" in p else p["user"]
            msg["interaction_metadata"] = {
                "id": str(interaction.id),
                "type": interaction.type,
                "user": user,
                "authorizing_integration_owners": p.get("authorizing_integration_owners", {}),
            }
            if interaction.type == 2:
                msg["interaction_metadata"]["name"] = p["data"]["name"]
        self._check_file_references(msg)
        self._messages[mid] = msg
        self._channel_messages.setdefault(channel_id, []).append(mid)
        self._changed()
        return msg

    def _edit(self, msg: dict[str, Any], body: dict[str, Any], files: list[dict[str, Any]]):
        for key in ("content", "embeds", "components", "flags"):
            if key in body:
                value = body[key]
                if key == "embeds":
                    value = [_embed_out(e) for e in value or []]
                elif key == "flags":
                    value = (value or 0) | (msg.get("flags", 0) & rules.EPHEMERAL)
                msg[key] = value if value is not None else ([] if key != "content" else "")
        if "attachments" in body or files:
            keep = {str(a.get("id")) for a in body.get("attachments") or [] if isinstance(a, dict)}
            kept = (
                [a for a in msg["attachments"] if a["id"] in keep]
                if "attachments" in body
                else msg["attachments"]
            )
            msg["attachments"] = kept + self._attachments(body, files)
        msg["edited_timestamp"] = iso()
        self._check_file_references(msg)
        self._changed()
        return msg

    def _check_file_references(self, msg: dict[str, Any]) -> None:
        """A V2 File, Thumbnail or gallery item must point at an attachment of the message."""
        have = {a.get("filename") for a in msg.get("attachments") or []}
        for url in _attachment_urls(msg.get("components") or []):
            if url.removeprefix("attachment://") not in have:
                self._breach("message", "components", f"{url} is not attached to the message")

    def _public(self, msg: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in msg.items() if not k.startswith("_")}

    def _channel_or_404(self, call: Call) -> Channel:
        channel = self.channel(int(call.params["channel_id"]))
        if channel is None:
            raise _unknown("Channel", 10003)
        return channel

    def _message_or_404(self, call: Call, channel: Channel) -> dict[str, Any]:
        msg = self._messages.get(int(call.params["message_id"]))
        if msg is None or msg.get("_deleted") or msg["channel_id"] != str(channel.id):
            raise _unknown("Message", 10008)
        return msg

    def _require(self, call: Call, channel: Channel, *perms: str) -> None:
        """403 50013 when the bot lacks a permission Discord would demand."""
        if channel.guild_id is None:
            return
        guild = self.guilds[channel.guild_id]
        if guild.me is None:  # the bot is not in this guild (a user install brought it here)
            raise DiscordError(403, 50001, "Missing Access")
        have = discord.Permissions(guild.me.permissions_in(channel))
        if not have.view_channel:
            raise DiscordError(403, 50001, "Missing Access")
        missing = [p for p in perms if not getattr(have, p)]
        if missing:
            raise DiscordError(403, 50013, "Missing Permissions")

    async def _get_channel(self, call: Call) -> web.Response:
        channel = self._channel_or_404(call)
        if channel.guild_id is not None:
            self._require(call, channel)
        return _json(channel.to_dict())

    async def _create_message(self, call: Call) -> web.Response:
        channel = self._channel_or_404(call)
        if channel.type in (15, 16):  # a forum holds posts (threads), not messages
            self._breach("message", call.route, "a message sent into a forum or media channel")
            raise DiscordError(400, 50024, "Cannot execute action on this channel type")
        problems = rules.check_message(rules.MESSAGE_CREATE, call.body)
        self._check("message", call, problems)
        body = call.body if isinstance(call.body, dict) else {}
        if not (
            body.get("content")
            or body.get("embeds")
            or body.get("components")
            or call.request.files
            or body.get("sticker_ids")
            or body.get("poll")
        ):
            self._breach("message", call.route, "cannot send an empty message (50006)")
            raise DiscordError(400, 50006, "Cannot send an empty message")
        if problems:
            raise DiscordError(400, 50035, "Invalid Form Body", {"_errors": problems})
        perms = ["send_messages_in_threads" if channel.is_thread else "send_messages"]
        if body.get("embeds"):
            perms.append("embed_links")
        if call.request.files:
            perms.append("attach_files")
        self._require(call, channel, *perms)
        nonce = body.get("nonce")
        if nonce is not None and body.get("enforce_nonce"):
            for m in self.messages(channel):
                recent = self.now() - m["_created"] <= self.nonce_window
                if m.get("nonce") == nonce and not m.get("webhook_id") and recent:
                    return _json(self._public(m))
        mtype = 19 if body.get("message_reference") else 0
        msg = self._new_message(channel.id, body, call.request.files, mtype=mtype)
        await self._gateway_message("MESSAGE_CREATE", msg)
        return _json(self._public(msg))

    async def _gateway_message(self, event: str, msg: dict[str, Any]) -> None:
        guild = self.guilds.get(int(msg.get("guild_id") or 0))
        if guild is not None and guild.me is None:
            return  # the bot hears nothing from a guild it is not in
        if self._session is not None and not msg.get("flags", 0) & rules.EPHEMERAL:
            await self.dispatch(event, self._public(msg))

    async def _history(self, call: Call) -> web.Response:
        """Get Channel Messages: newest first, ``limit`` 1-100 (default 50), ``before`` /
        ``after`` / ``around`` a message id. Needs View Channel; without Read Message History
        Discord answers an empty list. Ephemeral messages are not in a channel's history, and
        a message read back carries no ``nonce`` (only the create response and event do)."""
        channel = self._channel_or_404(call)
        query = call.request.query
        problems = rules.check_history_query(dict(query))
        self._check("history", call, problems)
        if problems:
            raise DiscordError(400, 50035, "Invalid Form Body", {"_errors": problems})
        if channel.guild_id is not None:
            self._require(call, channel)
            guild = self.guilds[channel.guild_id]
            if (
                guild.me is not None
                and not discord.Permissions(guild.me.permissions_in(channel)).read_message_history
            ):
                return _json([])
        found = [
            m for m in reversed(self.messages(channel)) if not m.get("flags", 0) & rules.EPHEMERAL
        ]
        limit = int(query.get("limit", 50))
        if "before" in query:
            found = [m for m in found if int(m["id"]) < int(query["before"])]
        elif "after" in query:
            found = [m for m in found if int(m["id"]) > int(query["after"])][-limit:]
        elif "around" in query:
            pivot = int(query["around"])
            older = [m for m in found if int(m["id"]) <= pivot][: (limit + 1) // 2]
            newer = [m for m in found if int(m["id"]) > pivot][-(limit // 2) :] if limit > 1 else []
            found = newer + older
        public = [{k: v for k, v in self._public(m).items() if k != "nonce"} for m in found]
        return _json(public[:limit])

    async def _get_message(self, call: Call) -> web.Response:
        """Get Channel Message: needs View Channel and Read Message History (403 50013)."""
        channel = self._channel_or_404(call)
        self._require(call, channel, "read_message_history")
        return _json(self._public(self._message_or_404(call, channel)))

    async def _edit_message(self, call: Call) -> web.Response:
        channel = self._channel_or_404(call)
        msg = self._message_or_404(call, channel)
        problems = rules.check_message(rules.MESSAGE_EDIT, call.body)
        self._check("message", call, problems)
        if problems:
            raise DiscordError(400, 50035, "Invalid Form Body", {"_errors": problems})
        self._edit(msg, call.body or {}, call.request.files)
        return _json(self._public(msg))

    async def _delete_message(self, call: Call) -> web.Response:
        channel = self._channel_or_404(call)
        msg = self._message_or_404(call, channel)
        msg["_deleted"] = True
        self._changed()
        return web.Response(status=204)

    def _new_thread(self, parent: Channel, body: dict[str, Any], tid: int | None, ttype: int):
        guild = self.guilds[parent.guild_id or 0]
        thread = Channel(
            tid or self.ids.next(),
            body.get("name") or "thread",
            type=ttype,
            guild_id=parent.guild_id,
            parent_id=parent.id,
            owner_id=self.bot_user.id,
            auto_archive_duration=body.get("auto_archive_duration") or 1440,
        )
        guild.threads.append(thread)
        return thread

    async def _thread_from_message(self, call: Call) -> web.Response:
        channel = self._channel_or_404(call)
        msg = self._message_or_404(call, channel)
        problems = rules.validate(rules.THREAD_FROM_MESSAGE, call.body)
        self._check("thread", call, problems)
        if problems:
            raise DiscordError(400, 50035, "Invalid Form Body", {"_errors": problems})
        if channel.type not in (0, 5):
            raise DiscordError(400, 50024, "Cannot execute action on this channel type")
        self._require(call, channel, "create_public_threads")
        if self.channel(int(msg["id"])) is not None:
            raise DiscordError(400, 160004, "A thread has already been created for this message")
        thread = self._new_thread(
            channel, call.body, int(msg["id"]), 10 if channel.type == 5 else 11
        )
        msg["thread"] = thread.to_dict()
        data = {**thread.to_dict(), "newly_created": True}
        if self._sessions:
            await self.dispatch("THREAD_CREATE", data)
        return _json(thread.to_dict(), status=201)

    async def _thread(self, call: Call) -> web.Response:
        channel = self._channel_or_404(call)
        if channel.type in (15, 16):
            return await self._forum_post(call, channel)
        problems = rules.validate(rules.THREAD_WITHOUT_MESSAGE, call.body)
        self._check("thread", call, problems)
        if problems:
            raise DiscordError(400, 50035, "Invalid Form Body", {"_errors": problems})
        ttype = (call.body or {}).get("type") or 12
        self._require(
            call, channel, "create_private_threads" if ttype == 12 else "create_public_threads"
        )
        thread = self._new_thread(channel, call.body, None, ttype)
        if self._sessions:
            await self.dispatch("THREAD_CREATE", {**thread.to_dict(), "newly_created": True})
        return _json(thread.to_dict(), status=201)

    async def _forum_post(self, call: Call, forum: Channel) -> web.Response:
        """Start Thread in Forum or Media Channel: a public thread (type 11) whose starter
        message has the thread's id. Needs Send Messages ("Create Posts"), and Attach Files for
        files; answers the thread with the message nested, and fires THREAD_CREATE then
        MESSAGE_CREATE. A forum post takes no nonce, so a repeated request posts twice."""
        body = call.body if isinstance(call.body, dict) else {}
        problems = rules.validate(rules.FORUM_THREAD, body)
        message = body.get("message") if isinstance(body.get("message"), dict) else {}
        problems += rules.check_message_limits(message)
        self._check("thread", call, problems)
        if problems:
            raise DiscordError(400, 50035, "Invalid Form Body", {"_errors": problems})
        if not (message.get("content") or message.get("embeds") or message.get("components")) and (
            not call.request.files
        ):
            raise DiscordError(400, 50006, "Cannot send an empty message")
        self._require(call, forum, "send_messages", *(["attach_files"] * bool(call.request.files)))
        tags = [int(t) for t in body.get("applied_tags") or []]
        if any(t not in forum.tags.values() for t in tags):
            raise DiscordError(400, 50035, "Invalid Form Body", {"applied_tags": "unknown tag"})
        if forum.require_tag and not tags:
            raise DiscordError(
                400, 40067, "A tag is required to create a forum post in this channel"
            )
        thread = self._new_thread(forum, body, None, 11)
        thread.applied_tags = tags
        # The starter message of a forum post has the thread's id.
        msg = self._new_message(thread.id, message, call.request.files, mid=thread.id)
        if self._sessions:
            await self.dispatch("THREAD_CREATE", {**thread.to_dict(), "newly_created": True})
        await self._gateway_message("MESSAGE_CREATE", msg)
        return _json({**thread.to_dict(), "message": self._public(msg)}, status=201)

    async def _active_threads(self, call: Call) -> web.Response:
        """List Active Guild Threads: every unarchived thread the bot can see, and its own
        thread memberships."""
        gid = self._guild_param(call)
        guild = self.guilds[gid or 0]
        if guild.me is None:
            raise DiscordError(403, 50001, "Missing Access")
        visible = [
            t for t in guild.threads if discord.Permissions(guild.me.permissions_in(t)).view_channel
        ]
        members = [
            {
                "id": str(t.id),
                "user_id": str(self.bot_user.id),
                "join_timestamp": t.to_dict()["thread_metadata"]["create_timestamp"],
                "flags": 0,
            }
            for t in visible
            if t.owner_id == self.bot_user.id
        ]
        body = {"threads": [t.to_dict() for t in visible], "members": members, "has_more": False}
        return _json(body)

    async def _open_dm(self, call: Call) -> web.Response:
        rid = int((call.body or {}).get("recipient_id") or 0)
        user = self.users.get(rid)
        if user is None:
            raise _unknown("User", 10013)
        return _json(self.dm_channel(user).to_dict())

    # -- interactions ---------------------------------------------------------------------------
    def _interaction_by_token(self, call: Call) -> Interaction:
        inter = self._by_token.get(call.params["token"])
        if inter is None or call.params.get("app", str(self.application_id)) != str(
            self.application_id
        ):
            raise _unknown("Webhook", 10015)
        return inter

    async def _callback(self, call: Call) -> web.StreamResponse:
        inter = self._by_token.get(call.params["token"])
        if inter is None or str(inter.id) != call.params["interaction_id"]:
            self._breach("interaction", call.route, "callback for an unknown interaction")
            raise _unknown("interaction", 10062)
        elapsed = time.monotonic() - inter.sent_at
        attempt = {"body": call.body, "elapsed": elapsed, "status": 0}
        inter.attempts.append(attempt)
        try:
            return await self._accept_callback(call, inter, elapsed)
        except DiscordError as e:
            attempt["status"] = e.status
            raise
        finally:
            if not attempt["status"]:
                attempt["status"] = 200
            self._changed()

    async def _accept_callback(self, call: Call, inter: Interaction, elapsed: float):
        if inter.accepted is not None:
            self._breach("interaction", call.route, "interaction already acknowledged (40060)")
            raise DiscordError(400, 40060, "Interaction has already been acknowledged.")
        if elapsed > self.deadline:
            self._breach(
                "deadline",
                call.route,
                f"first response after {elapsed:.3f}s (deadline {self.deadline}s): "
                f"Discord answers 10062 Unknown interaction",
            )
            raise _unknown("interaction", 10062)
        body = call.body if isinstance(call.body, dict) else {}
        problems = rules.check_callback(call.body, inter.type)
        self._check("callback", call, problems)
        if problems:
            raise DiscordError(400, 50035, "Invalid Form Body", {"_errors": problems})
        inter.accepted = body
        cb_type = body["type"]
        data = body.get("data") or {}
        resource: dict[str, Any] = {"type": cb_type}
        msg = None
        if cb_type == 4:
            mtype = 20 if inter.type == 2 else 0
            msg = self._new_message(
                inter.channel_id or 0,
                data,
                call.request.files,
                mtype=mtype,
                webhook=True,
                interaction=inter,
            )
            inter.original_id = int(msg["id"])
            await self._gateway_message("MESSAGE_CREATE", msg)
        elif cb_type == 5:
            flags = (data.get("flags") or 0) | (1 << 7)  # LOADING
            msg = self._new_message(
                inter.channel_id or 0,
                {},
                [],
                mtype=20 if inter.type == 2 else 0,
                webhook=True,
                interaction=inter,
                flags=flags,
            )
            inter.original_id = int(msg["id"])
        elif cb_type == 7:
            msg = self._edit(self.message(inter.original_id), data, call.request.files)  # type: ignore[arg-type]
            await self._gateway_message("MESSAGE_UPDATE", msg)
        if msg is not None:
            resource["message"] = self._public(msg)
        if call.request.query.get("with_response") not in ("1", "true", "True"):
            return web.Response(status=204)
        info: dict[str, Any] = {
            "id": str(inter.id),
            "type": inter.type,
            "response_message_loading": cb_type == 5,
            "response_message_ephemeral": bool((data.get("flags") or 0) & rules.EPHEMERAL),
        }
        if msg is not None:
            info["response_message_id"] = msg["id"]
        out: dict[str, Any] = {"interaction": info}
        if cb_type in (4, 5, 7):
            out["resource"] = resource
        return _json(out)

    def _webhook_target(self, call: Call, inter: Interaction) -> dict[str, Any]:
        mid = call.params.get("message_id")
        if mid is None:  # @original
            if inter.original_id is None or inter.original_deleted:
                raise _unknown("Message", 10008)
            return self.message(inter.original_id)
        if int(mid) not in inter.followup_ids and int(mid) != inter.original_id:
            raise _unknown("Message", 10008)
        msg = self.message(mid)
        if msg.get("_deleted"):
            raise _unknown("Message", 10008)
        return msg

    async def _followup(self, call: Call) -> web.Response:
        inter = self._interaction_by_token(call)
        if inter.accepted is None:
            self._breach("interaction", call.route, "follow-up before the interaction was answered")
            raise _unknown("Webhook", 10015)
        problems = rules.check_message(rules.WEBHOOK_EXECUTE, call.body)
        self._check("webhook", call, problems)
        if problems:
            raise DiscordError(400, 50035, "Invalid Form Body", {"_errors": problems})
        body = call.body or {}
        owners = inter.payload.get("authorizing_integration_owners") or {}
        botless_guild = "guild_id" in inter.payload and "0" not in owners
        if botless_guild and len(inter.followup_ids) >= USER_INSTALL_FOLLOWUPS:
            self._breach("interaction", call.route, "more than 5 follow-ups through a user install")
            raise DiscordError(400, 50035, "Invalid Form Body")
        original = self.message(inter.original_id) if inter.original_id else None
        if original is not None and original.get("flags", 0) & (1 << 7):
            # the first follow-up after a "thinking" defer replaces the placeholder
            msg = self._edit(original, body, call.request.files)
            msg["flags"] = (msg.get("flags") or 0) & ~(1 << 7)
            msg["edited_timestamp"] = None
            await self._gateway_message("MESSAGE_CREATE", msg)
        else:
            msg = self._new_message(
                inter.channel_id or 0, body, call.request.files, webhook=True, interaction=inter
            )
            await self._gateway_message("MESSAGE_CREATE", msg)
        inter.followup_ids.append(int(msg["id"]))
        self._changed()
        if call.request.query.get("wait") in ("true", "True", "1"):
            return _json(self._public(msg))
        return web.Response(status=204)

    async def _webhook_get(self, call: Call) -> web.Response:
        inter = self._interaction_by_token(call)
        return _json(self._public(self._webhook_target(call, inter)))

    async def _webhook_edit(self, call: Call) -> web.Response:
        inter = self._interaction_by_token(call)
        problems = rules.check_message(rules.WEBHOOK_EDIT, call.body)
        self._check("webhook", call, problems)
        if problems:
            raise DiscordError(400, 50035, "Invalid Form Body", {"_errors": problems})
        msg = self._webhook_target(call, inter)
        body = call.body or {}
        loading = msg.get("flags", 0) & (1 << 7)
        self._edit(msg, body, call.request.files)
        if loading:
            msg["flags"] &= ~(1 << 7)
        if "message_id" not in call.params:
            inter.edits.append(body)
        await self._gateway_message("MESSAGE_UPDATE", msg)
        return _json(self._public(msg))

    async def _webhook_delete(self, call: Call) -> web.Response:
        inter = self._interaction_by_token(call)
        msg = self._webhook_target(call, inter)
        msg["_deleted"] = True
        if "message_id" not in call.params:
            inter.original_deleted = True
        self._changed()
        return web.Response(status=204)

    # =========================================================================================
    # Teardown checks
    # =========================================================================================
    def unanswered(self) -> list[Interaction]:
        """Interactions that never got a callback (Discord shows "This interaction failed")."""
        return [i for i in self.interactions.values() if not i.attempts]

    def problems(self) -> list[str]:
        """Everything that should fail a test: breaches, unexpected routes, unanswered
        interactions. Empty when all is well."""
        out = [str(b) for b in self.breaches]
        out += [f"[unexpected-route] {r.method} {r.path}" for r in self.unexpected]
        out += [
            f"[unanswered] interaction {i.id} (type {i.type}) never got a callback"
            for i in self.unanswered()
        ]
        return out


# =============================================================================================
# Helpers
# =============================================================================================


async def _read_body(request: web.Request) -> tuple[Any, list[dict[str, Any]]]:
    """JSON body, or multipart ``payload_json`` + ``files[n]`` (with name, size, content)."""
    ctype = request.content_type
    if ctype.startswith("multipart/"):
        payload: Any = None
        files = []
        reader = await request.multipart()
        async for part in reader:
            name = part.name or ""
            raw = await part.read()  # type: ignore[union-attr]
            if name == "payload_json":
                payload = json.loads(raw.decode())
            else:
                m = re.match(r"files\[(\d+)\]", name)
                files.append(
                    {
                        "name": name,
                        "index": int(m.group(1)) if m else len(files),
                        "filename": part.filename or name,  # type: ignore[union-attr]
                        "size": len(raw),
                        "content_type": part.headers.get("Content-Type"),
                        "content": bytes(raw),
                    }
                )
        return payload, files
    raw = await request.read()
    if not raw:
        return None, []
    try:
        return json.loads(raw), []
    except ValueError:
        return raw.decode(errors="replace"), []


def _attachment_urls(components: list[Any]) -> list[str]:
    urls: list[str] = []
    for c in components:
        if not isinstance(c, dict):
            continue
        media = (c.get("file") or c.get("media") or {}).get("url")
        if isinstance(media, str) and media.startswith("attachment://"):
            urls.append(media)
        for item in c.get("items") or []:
            url = (item.get("media") or {}).get("url") if isinstance(item, dict) else None
            if isinstance(url, str) and url.startswith("attachment://"):
                urls.append(url)
        urls += _attachment_urls(c.get("components") or [])
        if isinstance(c.get("accessory"), dict):
            urls += _attachment_urls([c["accessory"]])
    return urls


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON response whose Content-Type is exactly ``application/json``: discord.py's
    ``json_or_text`` compares the header verbatim (no ``; charset=utf-8``)."""
    return web.Response(
        body=json.dumps(body).encode(),
        status=status,
        headers={**(headers or {}), "Content-Type": "application/json"},
    )


def _embed_out(embed: dict[str, Any]) -> dict[str, Any]:
    out = {"type": "rich", **embed}
    for field_ in out.get("fields") or []:
        field_.setdefault("inline", False)
    return out


def _find_component(components: list[Any], custom_id: str) -> dict[str, Any] | None:
    for c in components:
        if not isinstance(c, dict):
            continue
        if c.get("custom_id") == custom_id:
            return c
        found = _find_component(c.get("components") or [], custom_id)
        if found is None and isinstance(c.get("accessory"), dict):
            found = _find_component([c["accessory"]], custom_id)
        if found is not None:
            return found
    return None
