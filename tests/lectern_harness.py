"""Start the production LecternBot against the fake Discord, with a temporary database."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.config import BUNDLED_PASSAGES, Settings
from bot.core.db import Database
from bot.daily.model import Schedule
from bot.discord.bot import LecternBot
from tests.fakediscord import FakeDiscord

FIXED_NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


def _walk(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for c in components:
        out.append(c)
        out += _walk(c.get("components") or [])
        if isinstance(c.get("accessory"), dict):
            out += _walk([c["accessory"]])
    return out


def component_ids(message: dict[str, Any]) -> list[str]:
    """Every button custom_id on a message (or callback data), in order, nested ones too."""
    return [c["custom_id"] for c in _walk(message.get("components") or []) if "custom_id" in c]


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    """Every button on a message, nested ones too."""
    return [c for c in _walk(message.get("components") or []) if c.get("type") == 2]


def button(message: dict[str, Any], label: str) -> str:
    """The custom_id of the button labelled ``label``."""
    for c in _walk(message.get("components") or []):
        if c.get("type") == 2 and c.get("label") == label and "custom_id" in c:
            return str(c["custom_id"])
    raise AssertionError(f"no button {label!r} in {component_ids(message)}")


@dataclass(frozen=True)
class Shown:
    """What a Components V2 passage message shows, read back from its components."""

    note: str | None  # a text display above the container (a preview note, a role ping)
    heading: str
    body: str
    subtext: str
    accent: int | None
    link: str | None
    files: list[str]

    @property
    def text(self) -> str:
        return "\n".join(t for t in (self.note, self.heading, self.body, self.subtext) if t)


def shown(message: dict[str, Any]) -> Shown:
    """Read a passage panel (flag IS_COMPONENTS_V2, one container) back from a message."""
    assert (message.get("flags") or 0) & (1 << 15), "not a Components V2 message"
    assert not message.get("embeds"), "a V2 message carries no embeds"
    top = message.get("components") or []
    notes = [c["content"] for c in top if c["type"] == 10]
    (container,) = [c for c in top if c["type"] == 17]
    texts = [c["content"] for c in container["components"] if c["type"] == 10]
    heading, body, subtext = texts[0].removeprefix("### "), texts[1], texts[-1].removeprefix("-# ")
    links = [c["url"] for c in _walk(container["components"]) if c.get("style") == 5]
    files = [c["file"]["url"] for c in container["components"] if c["type"] == 13]
    return Shown(
        notes[0] if notes else None,
        heading,
        body,
        subtext,
        container.get("accent_color"),
        links[0] if links else None,
        files,
    )


@contextlib.asynccontextmanager
async def run_lectern(
    fake: FakeDiscord,
    tmp_path: Path,
    *,
    passages: Path = BUNDLED_PASSAGES,
    cooldown: float = 0.0,
    now: datetime = FIXED_NOW,
    sync: bool = True,
    clock: Callable[[], datetime] | None = None,
    **overrides: Any,
) -> AsyncIterator[LecternBot]:
    """Run LecternBot (the production class and start-up path) until the block ends.

    ``overrides`` set other Settings fields, e.g. ``dev_guild_id`` or ``owner_ids``.
    ``clock`` replaces the fixed ``now`` with a callable the test can move (see ``TestClock``).
    """
    overrides.setdefault("search_meaning", False)  # as services_for: see conftest
    settings = Settings(
        token=fake.token,
        db_path=tmp_path / "lectern.sqlite3",
        passages_dir=passages,
        cooldown_seconds=cooldown,
        **overrides,
    )
    async with await Database.open(settings.db_path) as db:
        bot = LecternBot(settings, db, clock=clock or (lambda: now))
        async with fake.running(bot):
            if sync:
                await bot.tree.sync()
            yield bot


class TestClock:
    """A clock the test moves by hand: ``clock.now = ...`` or ``clock.advance(hours=1)``."""

    __test__ = False  # not a pytest test class

    def __init__(self, now: datetime = FIXED_NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def due_schedule(channel: Any, due: datetime) -> Schedule:
    """A ``daily`` schedule posting into the fake's ``channel`` at ``due`` (UTC), as /daily set
    would store it: for tests and benches that need hundreds without typing the command."""
    return Schedule(
        guild_id=channel.guild_id or 0,
        channel_id=channel.id,
        local_time=f"{due:%H:%M}",
        zone="UTC",
        role_id=None,
        thread=False,
        next_date=due.date().isoformat(),
        next_due=int(due.timestamp()),
    )
