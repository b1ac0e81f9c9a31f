"""Shell verbs and the console survive whatever is typed: one clear line, nothing lost."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.console import Console
from bot.services import Services
from tests.conftest import lectern_cli, require_reader, run_as_reader


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("db.sqlite3", "is the live database"),
        ("db.sqlite3-wal", "is the live database"),
        ("./sub/../db.sqlite3-shm", "is the live database"),
        ("missing/copy.sqlite3", "does not exist; create it first"),
        ("a-file/copy.sqlite3", "is a file, not a folder"),
        ("exists.sqlite3", "exists; choose a new file name"),
    ],
)
def test_backup_refuses_targets_that_would_lose_something(
    tmp_path: Path, target: str, message: str
) -> None:
    lectern_cli(tmp_path, "stats")  # a live database with a corpus
    (tmp_path / "a-file").write_text("x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "exists.sqlite3").write_text("keep me")
    before = (tmp_path / "db.sqlite3").read_bytes()
    result = lectern_cli(tmp_path, "backup", target)
    assert result.returncode == 2 and message in one_line(result)
    assert (tmp_path / "db.sqlite3").read_bytes() == before
    assert (tmp_path / "exists.sqlite3").read_text() == "keep me"


def test_a_backup_that_cannot_be_written_is_audited_as_failed(shared_dir: Path) -> None:
    require_reader()
    (shared_dir / "locked").mkdir()
    (shared_dir / "locked").chmod(0o555)
    assert run_as_reader(shared_dir, "stats").returncode == 0
    result = run_as_reader(shared_dir, "backup", "locked/copy.sqlite3")
    assert result.returncode == 2 and "cannot write in" in one_line(result)
    assert not (shared_dir / "locked" / "copy.sqlite3").exists()


async def test_a_backup_failing_as_it_writes_is_audited_as_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import argparse

    from bot import admin_verbs as verbs
    from bot.config import Settings
    from bot.core.db import Database

    settings = Settings(db_path=tmp_path / "db.sqlite3")
    lectern_cli(tmp_path, "stats")

    async def disk_full(self: Database, target: Path) -> None:  # a full disk cannot run here
        target.write_bytes(b"half a copy")  # noqa: ASYNC240
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Database, "backup", disk_full)
    code = await verbs.backup(argparse.Namespace(path=tmp_path / "copy.sqlite3"), settings)
    assert code == verbs.EXIT_INVALID
    assert not (tmp_path / "copy.sqlite3").exists()  # no half copy left to be trusted
    trail = lectern_cli(tmp_path, "audit").stdout
    assert "backup" in trail and "failed" in trail and "No space left" in trail


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ingest", "no/such/folder"], "no/such/folder: there is no such folder"),
        (["ingest", "--check", "no/such/folder"], "there is no such folder"),
        (["ingest", "plain.txt"], "plain.txt: not a folder"),
    ],
)
def test_ingest_of_a_missing_path_or_a_file_is_one_line(
    tmp_path: Path, args: list[str], message: str
) -> None:
    (tmp_path / "plain.txt").write_text("x")
    result = lectern_cli(tmp_path, *args)
    assert result.returncode == 1 and message in one_line(result)


@pytest.mark.parametrize("limit", ["-5", "0", "99999999999999999999999999"])
def test_audit_takes_any_limit(tmp_path: Path, limit: str) -> None:
    lectern_cli(tmp_path, "backup", "copy.sqlite3")
    result = lectern_cli(tmp_path, "audit", "--limit", limit)
    assert result.returncode == 0, result.stderr
    assert "backup" in result.stdout


def test_the_console_survives_bytes_that_are_not_text(tmp_path: Path) -> None:
    lines = [
        b"/search query:\xff\xfe broken \xc3",  # not UTF-8
        b"/passage id:a\x00b",  # a NUL byte
        b"/" + b"q" * 7000,  # a 7,000-character command name
        b"/search query:" + b"attention " * 10_000,  # a 100 KB line
        b"\x00\x00\x00",
        b"/about",
    ]
    result = subprocess.run(
        [sys.executable, "-m", "bot", "console"],
        input=b"\n".join(lines) + b"\n",
        cwd=tmp_path,
        env={**os.environ, "LECTERN_DB": str(tmp_path / "db.sqlite3")},
        capture_output=True,
        timeout=60,
        check=False,
    )
    out = result.stdout.decode("utf-8")
    assert result.returncode == 0, result.stderr
    assert b"Traceback" not in result.stderr and "Sorry, something went wrong" not in out
    assert "No passage has the id" in out and "There is no command" in out
    assert "About Lectern" in out  # still answering after all of it


def test_ask_takes_an_argument_that_is_not_utf8(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot",
            "ask",
            b"/search query:\xff\xfeweights".decode(errors="surrogateescape"),
        ],
        cwd=tmp_path,
        env={**os.environ, "LECTERN_DB": str(tmp_path / "db.sqlite3")},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert "passages match" in result.stdout or "Nothing matches" in result.stdout


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.text(
        alphabet=st.sampled_from(list("/:\"'*-` @#<>\\\x00\u200d🙂")) | st.characters(),
        max_size=300,
    ).map(lambda s: s if s.startswith("/") else "/" + s)
    | st.sampled_from(["next", "1", ">", "<", "more", "share", "whole", "another"])
)
async def test_any_console_line_gets_a_friendly_answer(store: Services, line: str) -> None:
    out = io.StringIO()
    console = Console(store.reading, out=out)
    await console.execute("/quote")  # buttons to press
    assert await console.execute(line) in (True, False)
    assert "Sorry, something went wrong" not in out.getvalue()
