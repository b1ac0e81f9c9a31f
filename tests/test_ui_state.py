"""Button state lives while buttons use it: saving or reading marks the day, and only state
unused for the retention period is pruned. A button whose state was pruned says so kindly."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest

from bot.config import Settings
from bot.core.db import Database
from bot.core.errors import UserError
from bot.core.ui_state import RETENTION_DAYS, UiStateStore
from bot.corpus.ingest import sync_corpus
from bot.reading.service import Clicker
from bot.services import build_services

DAY0 = date(2026, 1, 1)


async def test_used_state_is_kept_and_unused_state_is_pruned(tmp_path: Path) -> None:
    today = {"d": DAY0}
    async with await Database.open(tmp_path / "db.sqlite3") as db:
        state = UiStateStore(db, today=lambda: today["d"])
        used = await state.save("a search people keep paging through")
        idle = await state.save("a search nobody came back to")
        today["d"] = DAY0 + timedelta(days=RETENTION_DAYS - 10)
        assert await state.load(used) == "a search people keep paging through"  # refreshed
        await state.settled()
        today["d"] = DAY0 + timedelta(days=RETENTION_DAYS + 5)
        assert await state.prune() == 1
        assert await state.load(used) is not None
        assert await state.load(idle) is None
        assert await state.save("a search nobody came back to") == idle  # same key, back again


async def test_an_expired_search_button_answers_kindly(tmp_path: Path) -> None:
    today = {"d": DAY0}
    async with await Database.open(tmp_path / "db.sqlite3") as db:
        await sync_corpus(db, Path("passages"))
        clock = lambda: datetime.combine(today["d"], time(12), tzinfo=UTC)  # noqa: E731
        services = build_services(db, Settings(search_meaning=False), clock=clock)
        reply = await services.reading.search("attention", user_id=5)
        next_page = next(b.custom_id for b in reply.buttons if b.label == "▶")
        clicker = Clicker(5, private_message=True)
        assert (await services.reading.press(next_page, clicker)).cards  # works while kept
        await services.ui_state.settled()
        today["d"] = DAY0 + timedelta(days=RETENTION_DAYS + 1)
        assert await services.ui_state.prune() == 1
        with pytest.raises(UserError, match="This search has expired"):
            await services.reading.press(next_page, clicker)


async def test_a_button_does_not_wait_for_a_reload_holding_the_write_lock(tmp_path: Path) -> None:
    today = {"d": DAY0}
    async with await Database.open(tmp_path / "db.sqlite3") as db:
        state = UiStateStore(db, today=lambda: today["d"])
        key = await state.save("a query")
        today["d"] = DAY0 + timedelta(days=1)
        async with db.transaction() as reload:  # a corpus swap holds the write lock
            await reload.run("INSERT INTO corpus_meta (key, value) VALUES ('x', 'y')")
            async with asyncio.timeout(2):  # the busy timeout is 10 s: a write would wait
                assert await state.load(key) == "a query"
        await state.settled()  # the mark went in once the lock was free
        row = await db.one("SELECT used_on FROM ui_state WHERE key = ?", (key,))
        assert row[0] == (DAY0 + timedelta(days=1)).isoformat()
