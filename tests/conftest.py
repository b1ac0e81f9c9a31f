"""Shared fixtures: real SQLite files in temporary folders, the bundled corpus, a document writer."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import BUNDLED_PASSAGES, Settings
from bot.core.db import Database
from bot.corpus import meaning
from bot.corpus.ingest import sync_corpus
from bot.services import Services, build_services

WriteDoc = Callable[..., Path]


def document_text(
    body: str,
    *,
    title: str = "A Title",
    kind: str = "essay",
    author: str | None = None,
    source: str = "a test",
    extra: str = "",
) -> str:
    """A corpus file's text: TOML front matter then ``body`` (dedented)."""
    lines = ["+++", f'title = "{title}"', f'kind = "{kind}"', f'source = "{source}"']
    if author is not None:
        lines.append(f'author = "{author}"')
    if extra:
        lines.append(extra)
    lines.append("+++")
    return "\n".join(lines) + "\n\n" + textwrap.dedent(body).strip("\n") + "\n"


def lectern_cli(
    tmp_path: Path, *args: str, stdin: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m bot ARGS`` as a host would, in ``tmp_path`` with its own database."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("LECTERN_", "DISCORD_"))}
    clean.update({"LECTERN_DB": str(tmp_path / "db.sqlite3"), **env})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        cwd=tmp_path,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _other_reader() -> tuple[int | None, str]:
    """As root (CI here), the user the permission tests run as, since root reads anything.

    That user must be able to reach this checkout and its virtualenv; a checkout in a
    private folder (``mktemp -d``) is out of its reach, and the tests say so and skip.
    """
    if os.geteuid() != 0:
        return None, ""
    nobody = 65534
    try:
        probe = subprocess.run(
            [sys.executable, "-c", "import bot"],
            cwd=tempfile.gettempdir(),
            user=nobody,
            group=nobody,
            extra_groups=[],
            capture_output=True,
            timeout=60,
            check=False,
        )
    except OSError:
        probe = None
    if probe is None or probe.returncode != 0:
        return (
            None,
            "running as root, and uid 65534 cannot reach this checkout: root reads anything",
        )
    return nobody, ""


#: Who runs the permission tests, and why they cannot run when nobody can.
READER_UID, NO_READER_REASON = _other_reader()


def require_reader() -> None:
    """Skip, saying why, when no user without root's reach can run the CLI here."""
    if READER_UID is None and os.geteuid() == 0:
        pytest.skip(NO_READER_REASON)


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A temporary folder the permission tests' other user can use too."""
    folder = Path(tempfile.mkdtemp(prefix="lectern-"))
    folder.chmod(0o777)
    try:
        yield folder
    finally:
        for path in [folder, *folder.rglob("*")]:
            with contextlib.suppress(OSError):
                path.chmod(0o777 if path.is_dir() else 0o666)
        shutil.rmtree(folder, ignore_errors=True)


def run_as_reader(folder: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``python -m bot ARGS`` in ``folder``, as a user without root's power to read anything."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("LECTERN_", "DISCORD_"))}
    clean.update({"LECTERN_DB": str(folder / "db.sqlite3"), **env})
    extra: dict[str, object] = {}
    if READER_UID is not None:
        extra = {"user": READER_UID, "group": READER_UID, "extra_groups": []}
    return subprocess.run(  # type: ignore[call-overload, no-any-return]
        [sys.executable, "-m", "bot", *args],
        stdin=subprocess.DEVNULL,
        cwd=folder,
        env={**clean, "HOME": str(folder)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        **extra,
    )


@pytest.fixture
def passages_dir(tmp_path: Path) -> Path:
    """A writable copy of the bundled corpus."""
    target = tmp_path / "passages"
    shutil.copytree(BUNDLED_PASSAGES, target)
    return target


@pytest.fixture
def write_doc(tmp_path: Path) -> WriteDoc:
    """Write a document into ``tmp_path/docs`` and return its path."""
    folder = tmp_path / "docs"
    folder.mkdir(exist_ok=True)

    def write(name: str, body: str, **meta: str | None) -> Path:
        path = folder / name
        path.write_text(document_text(body, **meta), encoding="utf-8")  # type: ignore[arg-type]
        return path

    return write


_BUILT: list[Services] = []


def services_for(db: Database, settings: Settings | None = None) -> Services:
    """Every service over ``db``, as the bot and the console build them. Search by meaning is
    off unless ``settings`` turn it on: its vectors arrive in the background, when they will,
    and the tests of word search want the same results every time (``test_meaning.py``)."""
    settings = settings or Settings(search_meaning=False)
    services = build_services(db, settings, clock=lambda: datetime.now(UTC))
    _BUILT.append(services)
    return services


@pytest.fixture(autouse=True)
async def _stop_background_builds() -> AsyncIterator[None]:
    """As the bot does on close: stop the background builds a test's search started."""
    yield
    while _BUILT:
        await _BUILT.pop().search.close()


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Services]:
    """The services over a real SQLite file holding the bundled corpus."""
    async with await Database.open(tmp_path / "lectern.sqlite3") as db:
        await sync_corpus(db, BUNDLED_PASSAGES)
        yield services_for(db)


@pytest.fixture
async def with_meaning(tmp_path: Path) -> AsyncIterator[Services]:
    """The services over the bundled corpus with search by meaning on and its vectors built."""
    pytest.importorskip("wordllama", reason="the meaning extra (pip install lectern[meaning])")
    async with await Database.open(tmp_path / "db.sqlite3") as db:
        await sync_corpus(db, BUNDLED_PASSAGES)
        services = services_for(db, Settings(search_meaning=True))
        await services.search.lexicon.current()
        await asyncio.to_thread(meaning.build, db.path)  # what the worker process runs
        index = services.search.meaning
        assert index is not None
        await index.keep_current()
        if index._loading is not None:
            await index._loading
        assert index.passages == await services.corpus.passage_count()
        yield services


pytest_plugins = ["tests.fakediscord.pytest_plugin"]
