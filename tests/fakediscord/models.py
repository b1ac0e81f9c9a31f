"""In-memory Discord objects held by the fake: users, guilds, roles, channels, members.

Every object renders itself as the JSON Discord would send (``to_dict``), with string
snowflakes and ISO 8601 timestamps, so discord.py parses it like the real thing.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Any

import discord

DISCORD_EPOCH_MS = 1420070400000

#: What the bot gets by default: enough to read, post, embed, attach and open threads.
DEFAULT_BOT_PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    create_public_threads=True,
    embed_links=True,
    attach_files=True,
    read_message_history=True,
    add_reactions=True,
    use_external_emojis=True,
    use_application_commands=True,
).value

#: What @everyone gets by default (a plain member).
DEFAULT_EVERYONE_PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    create_public_threads=True,
    embed_links=True,
    attach_files=True,
    read_message_history=True,
    add_reactions=True,
    use_application_commands=True,
).value

ALL_PERMISSIONS = discord.Permissions.all().value
#: ``app_permissions`` of a user-installed app where its bot is absent (group DMs, other DMs,
#: servers without the bot): what its interaction responses may use, per Discord's changelog.
USER_INSTALL_PERMISSIONS = discord.Permissions(
    embed_links=True, attach_files=True, mention_everyone=True, use_external_emojis=True
).value
ADMINISTRATOR = discord.Permissions(administrator=True).value


def iso(ts: dt.datetime | None = None) -> str:
    """Discord-style ISO 8601 timestamp (UTC, microseconds, +00:00)."""
    return (ts or dt.datetime.now(dt.UTC)).isoformat()


def as_permissions(value: int | discord.Permissions | None, default: int) -> int:
    if value is None:
        return default
    if isinstance(value, discord.Permissions):
        return value.value
    return int(value)


class Snowflakes:
    """Monotonic snowflake generator: current time in the high bits, a counter below."""

    def __init__(self) -> None:
        self._ms = 0
        self._inc = 0

    def next(self) -> int:
        now = int(time.time() * 1000)
        if now > self._ms:
            self._ms, self._inc = now, 0
        else:
            self._inc += 1
            if self._inc > 0xFFF:
                self._ms, self._inc = self._ms + 1, 0
        return ((self._ms - DISCORD_EPOCH_MS) << 22) | (1 << 17) | self._inc

    def next_on_shard(self, shard_id: int, shard_count: int) -> int:
        """The next snowflake of a guild that Discord puts on ``shard_id`` of ``shard_count``
        (``(id >> 22) % count``): the clock part is moved on until it lands there."""
        while True:
            snowflake = self.next()
            if (snowflake >> 22) % shard_count == shard_id:
                return snowflake
            self._ms, self._inc = self._ms + 1, 0


@dataclass
class User:
    id: int
    username: str
    bot: bool = False
    global_name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "username": self.username,
            "discriminator": "0",
            "global_name": self.global_name if not self.bot else None,
            "avatar": None,
            "bot": self.bot,
            "public_flags": 0,
            "flags": 0,
        }

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"


@dataclass
class Role:
    id: int
    name: str
    permissions: int
    position: int = 0
    managed: bool = False
    bot_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "name": self.name,
            "permissions": str(self.permissions),
            "position": self.position,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "managed": self.managed,
            "mentionable": False,
            "icon": None,
            "unicode_emoji": None,
            "flags": 0,
        }
        if self.bot_id is not None:
            data["tags"] = {"bot_id": str(self.bot_id)}
        return data


@dataclass
class Overwrite:
    """A channel permission overwrite; ``type`` 0 = role, 1 = member."""

    id: int
    type: int
    allow: int = 0
    deny: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "type": self.type,
            "allow": str(self.allow),
            "deny": str(self.deny),
        }


@dataclass
class Channel:
    """A guild text (0), announcement (5), forum (15) or media (16) channel, a thread
    (10/11/12), or a DM (1). Forum and media channels hold only threads (forum posts)."""

    id: int
    name: str
    type: int = 0
    guild_id: int | None = None
    position: int = 0
    overwrites: list[Overwrite] = field(default_factory=list)
    topic: str | None = None
    parent_id: int | None = None
    owner_id: int | None = None
    recipient: User | None = None
    auto_archive_duration: int = 1440
    #: Forum and media channels: their tags (name: id), and whether a post needs one.
    tags: dict[str, int] = field(default_factory=dict)
    require_tag: bool = False
    applied_tags: list[int] = field(default_factory=list)  # a forum post's tags

    @property
    def is_thread(self) -> bool:
        return self.type in (10, 11, 12)

    @property
    def mention(self) -> str:
        return f"<#{self.id}>"

    def to_dict(self) -> dict[str, Any]:
        if self.type in (1, 3):
            return {
                "id": str(self.id),
                "type": self.type,
                "last_message_id": None,
                "flags": 0,
                "recipients": [self.recipient.to_dict()] if self.recipient else [],
            }
        data: dict[str, Any] = {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(self.guild_id),
            "name": self.name,
            "position": self.position,
            "flags": 0,
            "parent_id": str(self.parent_id) if self.parent_id else None,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "nsfw": False,
        }
        if self.is_thread:
            data.update(
                applied_tags=[str(t) for t in self.applied_tags],
                owner_id=str(self.owner_id),
                member_count=1,
                message_count=0,
                total_message_sent=0,
                thread_metadata={
                    "archived": False,
                    "auto_archive_duration": self.auto_archive_duration,
                    "archive_timestamp": iso(),
                    "locked": False,
                    "create_timestamp": iso(),
                },
            )
        else:
            data.update(
                topic=self.topic,
                permission_overwrites=[o.to_dict() for o in self.overwrites],
                default_auto_archive_duration=1440,
            )
        if self.type in (15, 16):  # forum, media: no messages of their own, only posts
            data.update(
                flags=16 if self.require_tag else 0,  # REQUIRE_TAG
                available_tags=[
                    {
                        "id": str(tid),
                        "name": t,
                        "moderated": False,
                        "emoji_id": None,
                        "emoji_name": None,
                    }
                    for t, tid in self.tags.items()
                ],
                default_reaction_emoji=None,
                default_sort_order=None,
                default_forum_layout=0 if self.type == 16 else 1,
                default_thread_rate_limit_per_user=0,
            )
        return data


@dataclass
class Member:
    """A guild member. ``permissions``, when set, overrides the computed channel permissions."""

    user: User
    guild: Guild
    roles: list[int] = field(default_factory=list)
    permissions: int | None = None
    nick: str | None = None
    joined_at: str = field(default_factory=iso)

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def mention(self) -> str:
        return f"<@{self.user.id}>"

    def permissions_in(self, channel: Channel | None) -> int:
        if self.permissions is not None:
            return self.permissions
        return self.guild.compute_permissions(self, channel)

    def to_dict(self, channel: Channel | None = None, *, with_permissions: bool = False) -> dict:
        data: dict[str, Any] = {
            "user": self.user.to_dict(),
            "nick": self.nick,
            "avatar": None,
            "banner": None,
            "roles": [str(r) for r in self.roles],
            "joined_at": self.joined_at,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
            "communication_disabled_until": None,
        }
        if with_permissions:
            data["permissions"] = str(self.permissions_in(channel))
        return data


@dataclass
class Guild:
    """A fake guild. Build with :meth:`FakeDiscord.add_guild`; extend with the ``add_*`` helpers."""

    id: int
    name: str
    owner_id: int
    _ids: Snowflakes
    roles: list[Role] = field(default_factory=list)
    channels: list[Channel] = field(default_factory=list)
    members: list[Member] = field(default_factory=list)
    threads: list[Channel] = field(default_factory=list)
    me: Member | None = None
    preferred_locale: str = "en-US"

    @property
    def everyone(self) -> Role:
        return self.roles[0]

    def channel(self, name: str) -> Channel:
        """The channel (or thread) called ``name``."""
        for ch in [*self.channels, *self.threads]:
            if ch.name == name:
                return ch
        raise KeyError(f"no channel named {name!r} in guild {self.name!r}")

    def role(self, name: str) -> Role:
        for r in self.roles:
            if r.name == name:
                return r
        raise KeyError(f"no role named {name!r} in guild {self.name!r}")

    def add_role(self, name: str, permissions: int | discord.Permissions = 0) -> Role:
        role = Role(
            self._ids.next(), name, as_permissions(permissions, 0), position=len(self.roles)
        )
        self.roles.append(role)
        return role

    def add_channel(
        self,
        name: str,
        *,
        type: int = 0,
        topic: str | None = None,
        overwrites: list[Overwrite] | None = None,
        tags: list[str] | None = None,
        require_tag: bool = False,
    ) -> Channel:
        """Add a text (type 0), announcement (5), forum (15) or media (16) channel; a forum or
        media channel may have ``tags`` and require one on each post."""
        ch = Channel(
            self._ids.next(),
            name,
            type=type,
            guild_id=self.id,
            position=len(self.channels),
            overwrites=list(overwrites or []),
            topic=topic,
            tags={t: self._ids.next() for t in tags or []},
            require_tag=require_tag,
        )
        self.channels.append(ch)
        return ch

    def add_member(
        self,
        name: str,
        *,
        permissions: int | discord.Permissions | None = None,
        roles: list[Role] | None = None,
        admin: bool = False,
        owner: bool = False,
        user_id: int | None = None,
    ) -> Member:
        """Add a human member.

        ``permissions``: the exact permission bitfield interactions report for this member
        (``member.permissions``), whatever the channel. Leave it ``None`` to compute it from
        @everyone, ``roles`` and channel overwrites like Discord does. ``admin=True`` gives an
        Administrator role; ``owner=True`` makes them the guild owner (all permissions).
        """
        user = User(user_id or self._ids.next(), name, global_name=name.title())
        role_ids = [r.id for r in roles or []]
        if admin:
            role_ids.append(self.add_role(f"{name}-admin", ADMINISTRATOR).id)
        member = Member(
            user,
            self,
            roles=role_ids,
            permissions=None if permissions is None else as_permissions(permissions, 0),
        )
        if owner:
            self.owner_id = user.id
        self.members.append(member)
        return member

    def member(self, name: str) -> Member:
        for m in self.members:
            if m.user.username == name:
                return m
        raise KeyError(f"no member named {name!r} in guild {self.name!r}")

    def compute_permissions(self, member: Member, channel: Channel | None) -> int:
        """Discord's permission algorithm: base role permissions, then channel overwrites."""
        if member.user.id == self.owner_id:
            return ALL_PERMISSIONS
        perms = self.everyone.permissions
        for role in self.roles:
            if role.id in member.roles:
                perms |= role.permissions
        if perms & ADMINISTRATOR:
            return ALL_PERMISSIONS
        if channel is not None and channel.is_thread and channel.parent_id:
            channel = next((c for c in self.channels if c.id == channel.parent_id), channel)
        if channel is None:
            return perms
        ows = {(o.type, o.id): o for o in channel.overwrites}
        if (ev := ows.get((0, self.id))) is not None:
            perms = (perms & ~ev.deny) | ev.allow
        allow = deny = 0
        for rid in member.roles:
            if (o := ows.get((0, rid))) is not None:
                allow |= o.allow
                deny |= o.deny
        perms = (perms & ~deny) | allow
        if (mo := ows.get((1, member.user.id))) is not None:
            perms = (perms & ~mo.deny) | mo.allow
        return perms

    def to_dict(self) -> dict[str, Any]:
        """The GUILD_CREATE payload."""
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(self.owner_id),
            "region": None,
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "system_channel_id": str(self.channels[0].id) if self.channels else None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "vanity_url_code": None,
            "preferred_locale": self.preferred_locale,
            "max_members": 500000,
            "max_video_channel_users": 25,
            "features": [],
            "roles": [r.to_dict() for r in self.roles],
            "emojis": [],
            "stickers": [],
            "joined_at": self.me.joined_at if self.me else iso(),
            "large": False,
            "unavailable": False,
            "member_count": len(self.members),
            "voice_states": [],
            "members": [m.to_dict() for m in self.members if m is self.me],
            "channels": [c.to_dict() for c in self.channels],
            "threads": [t.to_dict() for t in self.threads],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "application_command_counts": {},
            "lazy": True,
            "nsfw": False,
            "premium_progress_bar_enabled": False,
            "incidents_data": None,
        }
