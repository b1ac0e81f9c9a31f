"""The ``lectern`` command line: run the bot, ingest and inspect the corpus.

Every verb builds the settings first; a bad setting or corpus is one clear message and a
non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

from . import __version__, admin_verbs, verbs
from .cards.draw import THEMES
from .config import ConfigError, Settings, load_settings
from .core.db import StoreError

log = logging.getLogger(__name__)

EXIT_OK = verbs.EXIT_OK


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
    card = verbs.add_parser("card", help="write a passage's quote card as a PNG")
    card.add_argument("id", help="the passage id, e.g. shape-of-attention-7")
    card.add_argument("--theme", choices=THEMES, default="light")
    card.add_argument("--scale", type=int, choices=(1, 2), default=1, help="2: high-DPI")
    card.add_argument("--out", type=Path, help="the file to write (default: ID.png)")
    passages = verbs.add_parser("passages", help="list every passage")
    passages.add_argument("--json", action="store_true", help="one JSON object per line")
    return parser


def _readable(text: str) -> str:
    """Text from the command line or a terminal with undecodable bytes (which Python keeps as
    lone surrogates) shown as U+FFFD, so it can be printed and stored."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _tolerant_streams() -> None:
    for stream in (sys.stdin, sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="replace")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``lectern`` console script and ``python -m bot``."""
    _tolerant_streams()
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    if args.verb == "ask":  # typed text, not paths: undecodable bytes become U+FFFD
        args.line, args.then = _readable(args.line), [_readable(t) for t in args.then]
    try:
        settings = load_settings()
    except ConfigError as error:
        print(f"lectern: configuration error: {error}", file=sys.stderr)
        return verbs.EXIT_STARTUP
    verb = args.verb or "run"
    # The verbs print their own summaries; below WARNING, logs would only repeat them.
    level = logging.getLevelName(settings.log_level)
    logging.basicConfig(
        level=level if verb == "run" and settings.has_token else max(level, logging.WARNING),
        format="%(asctime)s %(levelname)-8s %(name)s: %(message)s",
    )
    handlers: dict[str, Callable[[argparse.Namespace, Settings], Coroutine[Any, Any, int]]] = {
        "run": verbs.run,
        "console": verbs.console,
        "ask": verbs.ask,
        "ingest": verbs.ingest,
        "stats": verbs.stats,
        "sync": admin_verbs.sync,
        "audit": admin_verbs.audit,
        "invite": admin_verbs.invite,
        "backup": admin_verbs.backup,
        "passages": verbs.passages,
        "card": verbs.card,
    }
    try:
        return asyncio.run(handlers[verb](args, settings))
    except StoreError as error:
        print(f"lectern: LECTERN_DB ({settings.db_path}): {error}", file=sys.stderr)
        return verbs.EXIT_STARTUP
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `lectern passages | head`: the reader left; that is fine
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no error at exit
        return EXIT_OK
