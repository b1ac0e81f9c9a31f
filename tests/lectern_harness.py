"""Start the production LecternBot against the fake Discord, with a temporary database."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.config import BUNDLED_PASSAGES, Settings
from bot.core.db import Database
from bot.discord.bot import LecternBot
from tests.fakediscord import FakeDiscord

FIXED_NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


def component_ids(message: dict[str, Any]) -> list[str]:
    """Every button custom_id on a message (or callback data), row by row."""
    return [c["custom_id"] for row in message.get("components") or [] for c in row["components"]]


def button(message: dict[str, Any], label: str) -> str:
    """The custom_id of the button labelled ``label``."""
    for row in message.get("components") or []:
        for c in row["components"]:
            if c.get("label") == label:
                return str(c["custom_id"])
    raise AssertionError(f"no button {label!r} in {component_ids(message)}")


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
