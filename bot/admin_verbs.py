"""The ``lectern`` verbs for running Lectern: ``sync``, ``audit``, ``invite`` and ``backup``."""

from __future__ import annotations

import argparse
import contextlib
import sqlite3
import sys
from pathlib import Path

from .admin.audit import Actor
from .admin.backup import backup_refusal
from .config import Settings
from .core.db import Database
from .verbs import EXIT_INVALID, EXIT_OK, EXIT_USAGE, services_for

#: ``lectern audit --limit`` is clamped to this many rows.
AUDIT_MAX = 10_000


async def sync(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.has_token:
        print("lectern: sync needs DISCORD_TOKEN (in the environment or .env)", file=sys.stderr)
        return EXIT_USAGE
    from .discord.bot import StartupError
    from .discord.run import sync_commands

    try:
        count = await sync_commands(settings, args.guild)
    except StartupError as error:
        print(f"lectern: {error}", file=sys.stderr)
        return EXIT_INVALID
    where = f"to server {args.guild}" if args.guild else "globally"
    print(f"Synced {count} commands {where}.")
    if args.guild:
        print(
            "User installs reach only global commands: run lectern sync without --guild to "
            "publish them for users who added Lectern to their account.",
            file=sys.stderr,
        )
    else:
        print(
            "Global commands also reach user installs (enable User Install in the Developer "
            "Portal); Discord clients can take a few minutes to show changes.",
            file=sys.stderr,
        )
    return EXIT_OK


async def audit(args: argparse.Namespace, settings: Settings) -> int:
    async with await Database.open(settings.db_path) as db:
        entries = await services_for(db, settings).audit.trail(min(max(1, args.limit), AUDIT_MAX))
    if not entries:
        print("No admin actions recorded yet.")
    for e in entries:
        who = e.actor + (f" ({e.actor_id})" if e.actor_id else "")
        print(f"{e.at}  {who:<30} {e.action:<20} {e.result:<8} {e.detail}")
    return EXIT_OK


async def invite(args: argparse.Namespace, settings: Settings) -> int:
    from .admin.invite import (
        PERMISSION_NAMES,
        PERMISSIONS,
        client_id_from_token,
        invite_url,
        user_install_url,
    )

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
    print(user_install_url(client_id))
    print(
        f"Line 1 adds Lectern to a server, with permissions ({PERMISSIONS}): {names}.\n"
        "Line 2 lets a person add Lectern's reading commands to their own account, for any "
        "server, group DM or DM (enable User Install in the Developer Portal first, and "
        "publish the commands globally: lectern sync).",
        file=sys.stderr,
    )
    return EXIT_OK


async def backup(args: argparse.Namespace, settings: Settings) -> int:
    target: Path = args.path
    refusal = backup_refusal(target, settings.db_path)
    if refusal:
        print(f"lectern: {refusal}", file=sys.stderr)
        return EXIT_USAGE
    async with await Database.open(settings.db_path) as db:
        audit = services_for(db, settings).audit
        try:
            await db.backup(target)
        except (OSError, sqlite3.Error) as error:
            with contextlib.suppress(OSError):  # a partial copy must not pass for a backup
                target.unlink(missing_ok=True)
            await audit.record(Actor("shell"), "backup", "failed", f"{target}: {error}")
            print(f"lectern: could not write the backup to {target}: {error}", file=sys.stderr)
            return EXIT_INVALID
        await audit.record(Actor("shell"), "backup", "ok", str(target))
    print(f"Backed up {settings.db_path} to {target} ({target.stat().st_size:,} bytes).")
    return EXIT_OK
