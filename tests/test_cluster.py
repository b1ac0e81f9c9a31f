"""Several Lectern processes on one database: real OS processes writing at once, and the
corpus lock that lets only one of them ingest or reload at a time."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bot.admin.audit import Actor
from bot.config import BUNDLED_PASSAGES
from bot.core.db import Database
from bot.core.locks import DatabaseLock, LockHeld, held
from bot.corpus.ingest import sync_corpus
from tests.conftest import lectern_cli
from tests.test_store import services_for

ROOT = Path(__file__).resolve().parent.parent

WRITER = textwrap.dedent(
    """
    import asyncio, sys
    sys.path.insert(0, sys.argv[1])
    from datetime import date
    from pathlib import Path
    from bot.core.db import Database
    from bot.core.ui_state import UiStateStore
    from bot.daily.model import Schedule
    from bot.daily.store import DailyStore

    async def main(path, first):
        async with await Database.open(Path(path)) as db:
            daily, state = DailyStore(db), UiStateStore(db, today=lambda: date(2026, 1, 1))
            for n in range(first, first + 150):
                schedule = Schedule(n << 22, 1, "09:00", "UTC", None, False, "2026-01-01", n)
                await daily.save_schedule(schedule, 0)  # one statement
                await daily.forget_guild(n << 22 | 1)  # a write transaction
                await state.save(f"query {n}")
            print("done")

    asyncio.run(main(sys.argv[2], int(sys.argv[3])))
    """
)


def test_two_processes_writing_at_once_never_see_database_is_locked(tmp_path: Path) -> None:
    path = tmp_path / "lectern.sqlite3"
    subprocess.run([sys.executable, "-c", WRITER, str(ROOT), str(path), "0"], check=True)
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(ROOT), str(path), str(first)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for first in (1000, 2000)
    ]
    results = [w.communicate(timeout=120) for w in writers]
    assert [w.returncode for w in writers] == [0, 0], [err for _, err in results]
    assert all("database is locked" not in err for _, err in results)
    raw = sqlite3.connect(path)
    assert raw.execute("SELECT count(*) FROM daily_schedules").fetchone()[0] == 450
    raw.close()


async def test_one_ingest_at_a_time_and_the_others_find_it_done(tmp_path: Path) -> None:
    async with await Database.open(tmp_path / "lectern.sqlite3") as db:
        other = DatabaseLock(db, "corpus")  # another process, busy ingesting
        assert await other.try_acquire() is None
        with pytest.raises(LockHeld) as busy:
            await sync_corpus(db, BUNDLED_PASSAGES)
        service = services_for(db)
        refused = await service.admin.reload(Actor("owner"))
        await other.release()
        first = await sync_corpus(db, BUNDLED_PASSAGES, wait=5)
        again = await sync_corpus(db, BUNDLED_PASSAGES, wait=5)
        trail = await service.audit.trail(1)
    assert f"pid {os.getpid()} on " in str(busy.value)
    assert refused.cards[0].title == "Reload not started"
    assert "being reloaded already" in refused.cards[0].description
    assert (trail[0].action, trail[0].result) == ("reload", "refused")
    assert not first.skipped and again.skipped


async def test_a_lock_whose_holder_died_is_taken_over(tmp_path: Path) -> None:
    finished = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead_pid = int(finished.stdout)
    async with await Database.open(tmp_path / "lectern.sqlite3") as db:
        ghost = DatabaseLock(db, "corpus")
        ghost.holder = ghost.holder.replace(f":{os.getpid()}:", f":{dead_pid}:")
        assert await ghost.try_acquire() is None
        async with held(db, "corpus"):  # no wait needed: its holder is gone
            row = await db.one("SELECT holder FROM locks WHERE name = 'corpus'")
    assert row is not None and f":{dead_pid}:" not in row[0]


def test_the_shell_says_when_another_process_is_ingesting(tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "one.md").write_text(
        '+++\ntitle = "One"\nkind = "journal"\nsource = "a test"\n+++\n\nA.\n', encoding="utf-8"
    )
    assert lectern_cli(tmp_path, "ingest", str(folder)).returncode == 0
    raw = sqlite3.connect(tmp_path / "db.sqlite3")  # a live process of another machine
    raw.execute("INSERT INTO locks VALUES ('corpus', 'elsewhere:4242:abcd', 1, 4102444800)")
    raw.commit()
    raw.close()
    result = lectern_cli(tmp_path, "ingest", str(folder))
    assert result.returncode == 69
    assert "not ingesting: another Lectern process (pid 4242 on elsewhere)" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) == 1


async def test_a_lock_held_during_a_long_write_is_reported_at_once(tmp_path: Path) -> None:
    """The holder is in the middle of a long write (a large corpus being replaced): another
    process learns who holds the lock without waiting for SQLite's write lock."""
    async with await Database.open(tmp_path / "lectern.sqlite3") as db:
        holder = DatabaseLock(db, "corpus")
        assert await holder.try_acquire() is None
        async with db.transaction() as writing:  # holds SQLite's write lock meanwhile
            await writing.run("INSERT INTO corpus_meta VALUES ('busy', '1')")
            busy = await DatabaseLock(db, "corpus").try_acquire()
        await holder.release()
        async with held(db, "corpus", wait=5):
            pass
    assert isinstance(busy, LockHeld) and busy.holder == holder.holder
