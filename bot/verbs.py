"""What each ``lectern`` verb does: the corpus, the console, the bot, the database.

Every verb runs on the same services as the bot (:func:`bot.services.build_services`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import textwrap
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from rich.console import Console as RichConsole
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)

from . import __version__
from .admin.audit import Actor
from .admin.replies import summary
from .config import ConfigError, Settings
from .console import Console
from .core.db import Database
from .core.locks import LockHeld
from .corpus.files import check_folder
from .corpus.ingest import sync_corpus
from .corpus.model import CorpusError
from .services import Services, build_services

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2
#: The bot cannot start as configured (sysexits' EX_CONFIG): systemd should not retry.
EXIT_STARTUP = 78
#: Discord could not be reached (EX_UNAVAILABLE): systemd's restart tries again later.
EXIT_UNAVAILABLE = 69


def _print_problems(error: CorpusError, out: TextIO = sys.stderr) -> None:
    if len(error.problems) == 1:
        print(f"lectern: {error.problems[0]} (nothing was changed)", file=out)
        return
    print(f"lectern: the corpus is invalid ({error}); nothing was changed:", file=out)
    for problem in error.problems:
        print(f"  {problem}", file=out)


def _print_not_documents(lines: tuple[str, ...] | list[str]) -> None:
    for line in lines:
        print(f"lectern: warning: {line}", file=sys.stderr)


class _ProgressBar:
    """rich's progress bar on stderr, shown only on a terminal and for large folders."""

    def __init__(self, label: str, stream: TextIO = sys.stderr) -> None:
        self.label = label
        self.stream = stream
        self.enabled = stream.isatty()
        self._bar: Progress | None = None
        self._task: TaskID | None = None

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or total < 20:
            return
        if self._bar is None:
            self._bar = Progress(
                TextColumn(self.label),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=RichConsole(file=self.stream),
            )
            self._task = self._bar.add_task(self.label, total=total)
            self._bar.start()
        if self._task is not None:
            self._bar.update(self._task, completed=done)
        if done >= total:
            self._bar.stop()


#: How long a shell command waits, on its way out, for the search builds it started (the
#: bundled corpus's vectors take about 2 s; a large corpus's go on at the bot's next start).
BUILD_GRACE = 10.0


def services_for(db: Database, settings: Settings) -> Services:
    return build_services(db, settings, clock=lambda: datetime.now(UTC))


async def _with_corpus(settings: Settings, use: Callable[[Services], Awaitable[int]]) -> int:
    """Open the database, bring the corpus up to date, and hand the services to ``use``."""
    async with await Database.open(settings.db_path) as db:
        services = services_for(db, settings)
        try:
            return await _use_corpus(db, settings, services, use)
        finally:  # a one-shot command started the builds: let a small corpus's finish
            await services.search.close(grace=BUILD_GRACE)


async def _use_corpus(
    db: Database, settings: Settings, services: Services, use: Callable[[Services], Awaitable[int]]
) -> int:
    """Bring the corpus up to date (or keep the stored one), then ``use`` the services."""
    try:
        await sync_corpus(db, settings.passages_dir, progress=_ProgressBar("Reading"))
    except CorpusError as error:
        if await services.corpus.passage_count() > 0:  # as the bot does: keep serving
            print(
                f"lectern: warning: LECTERN_PASSAGES_DIR: {error.problems[0]}"
                + (f" and {len(error.problems) - 1} more" if len(error.problems) > 1 else "")
                + "; using the corpus stored before",
                file=sys.stderr,
            )
            return await use(services)
        if _is_the_folder(error, settings.passages_dir):
            print(f"lectern: LECTERN_PASSAGES_DIR: {error.problems[0]}", file=sys.stderr)
            return EXIT_STARTUP
        _print_problems(error)
        return EXIT_INVALID
    except LockHeld as busy:  # another process of the cluster is ingesting: use the stored
        if await services.corpus.passage_count() == 0:
            print(f"lectern: the corpus is being ingested: {busy}; try again", file=sys.stderr)
            return EXIT_UNAVAILABLE
        print(f"lectern: note: not re-reading the passages folder: {busy}", file=sys.stderr)
    return await use(services)


def _is_the_folder(error: CorpusError, folder: Path) -> bool:
    """The problem is the folder itself (missing, not a folder), not a file in it."""
    return len(error.problems) == 1 and error.problems[0].path == str(folder)


async def ingest(args: argparse.Namespace, settings: Settings) -> int:
    folder: Path = args.folder or settings.passages_dir
    if args.check:
        try:
            checked = await asyncio.to_thread(check_folder, folder, _ProgressBar("Checking"))
        except CorpusError as error:
            _print_problems(error)
            return EXIT_INVALID
        _print_not_documents([str(p) for p in checked.skipped])
        print(f"{folder}: {checked.documents} documents, {checked.passages} passages, all valid.")
        return EXIT_OK
    async with await Database.open(settings.db_path) as db:
        try:
            report = await sync_corpus(
                db, folder, force=args.force, progress=_ProgressBar("Reading")
            )
        except CorpusError as error:
            _print_problems(error)
            return EXIT_INVALID
        except LockHeld as busy:
            print(f"lectern: not ingesting: {busy}; try again when it is done", file=sys.stderr)
            return EXIT_UNAVAILABLE
        await services_for(db, settings).audit.record(
            Actor("shell"), "ingest", "ok", summary(report)
        )
    _print_not_documents(report.not_documents)
    if report.skipped:
        print(f"Corpus unchanged: {report.documents} documents, {report.passages_after} passages.")
        return EXIT_OK
    print(
        f"Ingested {report.documents} documents, {report.passages_after} passages "
        f"(before: {report.passages_before}) in {report.seconds:.2f}s."
    )
    for label, slugs in (
        ("added", report.added),
        ("removed", report.removed),
        ("changed", report.changed),
    ):
        if slugs:
            print(f"  {label}: {', '.join(slugs)}")
    if report.vanished_ids:
        shown = ", ".join(report.vanished_ids[:20])
        more = report.vanished_count - min(20, len(report.vanished_ids))
        print(f"  ids that no longer exist: {shown}{f' and {more} more' if more > 0 else ''}")
    return EXIT_OK


async def stats(args: argparse.Namespace, settings: Settings) -> int:
    return await _with_corpus(settings, lambda services: _print_stats(services, settings))


async def _print_stats(services: Services, settings: Settings) -> int:
    stats = await services.corpus.stats()
    documents = await services.corpus.documents()
    print(f"Database: {settings.db_path} ({stats.database_bytes / 1024:,.0f} KiB)")
    print(f"Passages folder: {settings.passages_dir}")
    kinds = ", ".join(f"{count} {kind}" for kind, count in stats.kinds.items())
    print(
        f"{stats.documents} documents, {stats.passages} passages ({kinds}), {stats.authors} authors"
    )
    for doc in documents:
        by = doc.author or "no author named"
        print(f"  {doc.slug:<24} {doc.kind:<8} {doc.passage_count:>6}  {doc.title} ({by})")
    return EXIT_OK


async def passages(args: argparse.Namespace, settings: Settings) -> int:
    return await _with_corpus(settings, lambda s: _print_passages(s, as_json=args.json))


async def _print_passages(services: Services, *, as_json: bool) -> int:
    async for p in services.corpus.iter_passages():
        if as_json:
            record = {
                "id": p.id,
                "document": p.document,
                "title": p.title,
                "author": p.author,
                "kind": p.kind,
                "position": p.seq,
                "label": p.label,
                "text": p.text,
            }
            print(json.dumps(record, ensure_ascii=False))
        else:
            first = " ".join(p.text.split())
            print(f"{p.id:<32} {p.label:<22} {textwrap.shorten(first, 60)}")
    return EXIT_OK


async def card(args: argparse.Namespace, settings: Settings) -> int:
    """``lectern card ID [--theme T] [--scale N] [--out FILE]``: write a passage's card."""

    async def write(services: Services) -> int:
        passage = await services.corpus.passage(args.id)
        if passage is None:
            print(f"lectern: no passage has the id {args.id!r}", file=sys.stderr)
            return EXIT_INVALID
        png = await services.reading.cards.png(passage, args.theme, args.scale)
        target = Path(args.out or f"{passage.id}.png")
        try:
            target.write_bytes(png)
        except OSError as error:
            print(f"lectern: cannot write {target}: {error.strerror or error}", file=sys.stderr)
            return EXIT_INVALID
        print(f"Wrote {target} ({len(png):,} bytes, {args.theme}, scale {args.scale}).")
        return EXIT_OK

    return await _with_corpus(settings, write)


async def run(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.has_token:
        print(
            "No DISCORD_TOKEN is set, so Lectern runs offline in this terminal. To connect it "
            "to Discord, copy .env.example to .env, set DISCORD_TOKEN (see the README) and run "
            "again.\n",
            file=sys.stderr,
        )
        return await console(args, settings)
    from .discord.bot import DiscordUnreachable, StartupError  # discord.py only when needed
    from .discord.run import run_bot

    try:
        await run_bot(settings)
    except DiscordUnreachable as error:
        print(f"lectern: cannot start: {error}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    except StartupError as error:
        print(f"lectern: cannot start: {error}", file=sys.stderr)
        return EXIT_STARTUP
    except ConfigError as error:
        print(f"lectern: configuration error: {error}", file=sys.stderr)
        return EXIT_STARTUP
    return EXIT_OK


async def console(args: argparse.Namespace, settings: Settings) -> int:
    return await _with_corpus(settings, _console_session)


async def _console_session(services: Services) -> int:
    stats = await services.corpus.stats()
    console = Console(services.reading)
    print(
        f"Lectern {__version__}: {stats.documents} documents, {stats.passages} passages. "
        "Type help for the commands, quit to leave.\n"
    )
    await console.execute("/reflection")
    await console.repl()
    return EXIT_OK


async def ask(args: argparse.Namespace, settings: Settings) -> int:
    async def answer(services: Services) -> int:
        console = Console(services.reading)
        for line in [args.line, *args.then]:
            await console.execute(line)
        return EXIT_OK

    return await _with_corpus(settings, answer)
