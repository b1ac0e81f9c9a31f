"""The ``lectern`` command line: run the bot, ingest and inspect the corpus.

Every verb builds the settings first; a bad setting or corpus is one clear message and a
non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import textwrap
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any, TextIO

from . import __version__
from .admin import summary
from .config import ConfigError, Settings, load_settings
from .console import Console
from .corpus import CorpusError, load_corpus
from .ingest import sync_corpus
from .service import Lectern
from .store import Store, StoreError

log = logging.getLogger(__name__)

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2
#: The bot cannot start as configured (sysexits' EX_CONFIG): systemd should not retry.
EXIT_STARTUP = 78


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lectern",
        description="Lectern: literary passages for Discord servers.",
    )
    parser.add_argument("--version", action="version", version=f"lectern {__version__}")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB")
    verbs.add_parser("run", help="run the bot (without DISCORD_TOKEN: the offline console)")
    verbs.add_parser("console", help="the offline console: type commands as in Discord")
    ask = verbs.add_parser("ask", help='answer one command and exit: lectern ask "/quote"')
    ask.add_argument("line", help='a command as typed in Discord, e.g. "/search query:weights"')
    ask.add_argument("then", nargs="*", help="buttons to press afterwards, e.g. next more")
    ingest = verbs.add_parser("ingest", help="validate the passages folder and load it")
    ingest.add_argument("folder", nargs="?", type=Path, help="default: LECTERN_PASSAGES_DIR")
    ingest.add_argument("--check", action="store_true", help="validate only; write nothing")
    ingest.add_argument("--force", action="store_true", help="reload even if unchanged")
    verbs.add_parser("stats", help="what the stored corpus holds")
    sync = verbs.add_parser("sync", help="publish the slash commands to Discord")
    sync.add_argument("--guild", type=int, help="only to this server (instant), not globally")
    audit = verbs.add_parser("audit", help="the trail of admin actions")
    audit.add_argument("--limit", type=int, default=20)
    invite = verbs.add_parser("invite", help="print the invite link with the needed permissions")
    invite.add_argument("--client-id", type=int, help="default: read from DISCORD_TOKEN")
    backup = verbs.add_parser("backup", help="copy the database safely, even while the bot runs")
    backup.add_argument("path", type=Path, help="the file to write (must not exist)")
    passages = verbs.add_parser("passages", help="list every passage")
    passages.add_argument("--json", action="store_true", help="one JSON object per line")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``lectern`` console script and ``python -m bot``."""
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as error:
        print(f"lectern: configuration error: {error}", file=sys.stderr)
        return EXIT_USAGE
    verb = args.verb or "run"
    # The verbs print their own summaries; below WARNING, logs would only repeat them.
    level = logging.getLevelName(settings.log_level)
    logging.basicConfig(
        level=level if verb == "run" and settings.has_token else max(level, logging.WARNING),
        format="%(asctime)s %(levelname)-8s %(name)s: %(message)s",
    )
    handlers: dict[str, Callable[[argparse.Namespace, Settings], Coroutine[Any, Any, int]]] = {
        "run": _run,
        "console": _console,
        "ask": _ask,
        "ingest": _ingest,
        "stats": _stats,
        "sync": _sync,
        "audit": _audit,
        "invite": _invite,
        "backup": _backup,
        "passages": _passages,
    }
    try:
        return asyncio.run(handlers[verb](args, settings))
    except StoreError as error:
        print(f"lectern: database error: {error}", file=sys.stderr)
        return EXIT_INVALID
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `lectern passages | head`: the reader left; that is fine
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no error at exit
        return EXIT_OK


def _print_problems(error: CorpusError, out: TextIO = sys.stderr) -> None:
    print(f"lectern: the corpus is invalid ({error}); nothing was changed:", file=out)
    for problem in error.problems:
        print(f"  {problem}", file=out)


class _ProgressBar:
    """A one-line progress bar on stderr, shown only on a terminal and for large folders."""

    def __init__(self, label: str, stream: TextIO = sys.stderr) -> None:
        self.label = label
        self.stream = stream
        self.enabled = stream.isatty()

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or total < 20:
            return
        width = 30
        filled = width * done // total
        self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        if done == total:
            self.stream.write("\n")
        self.stream.flush()


async def _open(settings: Settings) -> Store:
    return await Store.open(settings.db_path)


async def _with_corpus(settings: Settings, use: Callable[[Store], Awaitable[int]]) -> int:
    """Open the store, bring the corpus up to date, and hand it to ``use``."""
    async with await _open(settings) as store:
        if not await _ensure_corpus(store, settings):
            return EXIT_INVALID
        return await use(store)


async def _ensure_corpus(store: Store, settings: Settings) -> bool:
    try:
        await sync_corpus(store, settings.passages_dir, progress=_ProgressBar("Reading"))
    except CorpusError as error:
        _print_problems(error)
        return False
    return True


async def _ingest(args: argparse.Namespace, settings: Settings) -> int:
    folder: Path = args.folder or settings.passages_dir
    if args.check:
        try:
            corpus = await asyncio.to_thread(load_corpus, folder, _ProgressBar("Checking"))
        except CorpusError as error:
            _print_problems(error)
            return EXIT_INVALID
        print(
            f"{folder}: {len(corpus.documents)} documents, {corpus.passage_count} passages, "
            "all valid."
        )
        return EXIT_OK
    async with await _open(settings) as store:
        try:
            report = await sync_corpus(
                store, folder, force=args.force, progress=_ProgressBar("Reading")
            )
        except CorpusError as error:
            _print_problems(error)
            return EXIT_INVALID
        await store.record_audit(
            actor="shell", action="ingest", result="ok", detail=summary(report)
        )
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
        more = len(report.vanished_ids) - 20
        print(f"  ids that no longer exist: {shown}{f' and {more} more' if more > 0 else ''}")
    return EXIT_OK


async def _stats(args: argparse.Namespace, settings: Settings) -> int:
    return await _with_corpus(settings, lambda store: _print_stats(store, settings))


async def _print_stats(store: Store, settings: Settings) -> int:
    stats = await store.stats()
    documents = await store.documents()
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


async def _passages(args: argparse.Namespace, settings: Settings) -> int:
    return await _with_corpus(settings, lambda store: _print_passages(store, as_json=args.json))


async def _print_passages(store: Store, *, as_json: bool) -> int:
    async for p in store.iter_passages():
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


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.has_token:
        print(
            "No DISCORD_TOKEN is set, so Lectern runs offline in this terminal. To connect it "
            "to Discord, copy .env.example to .env, set DISCORD_TOKEN (see the README) and run "
            "again.\n",
            file=sys.stderr,
        )
        return await _console(args, settings)
    from .client import StartupError, run_bot  # imports discord.py only when needed

    try:
        await run_bot(settings)
    except StartupError as error:
        print(f"lectern: cannot start: {error}", file=sys.stderr)
        return EXIT_STARTUP
    return EXIT_OK


async def _console(args: argparse.Namespace, settings: Settings) -> int:
    return await _with_corpus(settings, _console_session)


async def _console_session(store: Store) -> int:
    stats = await store.stats()
    console = Console(Lectern(store))
    print(
        f"Lectern {__version__}: {stats.documents} documents, {stats.passages} passages. "
        "Type help for the commands, quit to leave.\n"
    )
    await console.execute("/reflection")
    await console.repl()
    return EXIT_OK


async def _ask(args: argparse.Namespace, settings: Settings) -> int:
    async def answer(store: Store) -> int:
        console = Console(Lectern(store))
        for line in [args.line, *args.then]:
            await console.execute(line)
        return EXIT_OK

    return await _with_corpus(settings, answer)


async def _sync(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.has_token:
        print("lectern: sync needs DISCORD_TOKEN (in the environment or .env)", file=sys.stderr)
        return EXIT_USAGE
    from .client import StartupError, sync_commands

    try:
        count = await sync_commands(settings, args.guild)
    except StartupError as error:
        print(f"lectern: {error}", file=sys.stderr)
        return EXIT_INVALID
    where = f"to server {args.guild}" if args.guild else "globally"
    print(f"Synced {count} commands {where}.")
    return EXIT_OK


async def _audit(args: argparse.Namespace, settings: Settings) -> int:
    async with await _open(settings) as store:
        entries = await store.audit_trail(max(1, args.limit))
    if not entries:
        print("No admin actions recorded yet.")
    for e in entries:
        who = e.actor + (f" ({e.actor_id})" if e.actor_id else "")
        print(f"{e.at}  {who:<30} {e.action:<20} {e.result:<8} {e.detail}")
    return EXIT_OK


async def _invite(args: argparse.Namespace, settings: Settings) -> int:
    from .invite import PERMISSION_NAMES, REQUIRED_PERMISSIONS, client_id_from_token, invite_url

    client_id = args.client_id or (client_id_from_token(settings.token) if settings.token else None)
    if client_id is None:
        print(
            "lectern: give --client-id (the Application ID from the Developer Portal) or set "
            "DISCORD_TOKEN",
            file=sys.stderr,
        )
        return EXIT_USAGE
    names = ", ".join(PERMISSION_NAMES)
    print(invite_url(client_id))
    print(f"Permissions ({REQUIRED_PERMISSIONS.value}): {names}", file=sys.stderr)
    return EXIT_OK


async def _backup(args: argparse.Namespace, settings: Settings) -> int:
    target: Path = args.path
    if target.exists():
        print(f"lectern: {target} exists; choose a new file name", file=sys.stderr)
        return EXIT_USAGE
    async with await _open(settings) as store:
        await store.backup(target)
        await store.record_audit(actor="shell", action="backup", result="ok", detail=str(target))
    print(f"Backed up {settings.db_path} to {target} ({target.stat().st_size:,} bytes).")
    return EXIT_OK
