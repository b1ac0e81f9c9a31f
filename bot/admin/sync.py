"""Publishing application commands deliberately: what a sync would create, and its answers."""

from __future__ import annotations

from collections.abc import Iterable

from ..core.errors import UserError
from ..core.reply import Card, Reply

#: Discord allows this many command creations per day per server (and globally).
DAILY_CREATE_BUDGET = 200
SCOPES = ("global", "guild")


def check_scope(scope: str) -> None:
    if scope not in SCOPES:
        raise UserError("scope must be global or guild.")


def new_commands(local: Iterable[str], remote: Iterable[str]) -> list[str]:
    """Commands a sync would create (counted against the daily budget), sorted."""
    return sorted(set(local) - set(remote))


def confirm_reply(new: list[str]) -> Reply:
    text = (
        f"This sync creates {len(new)} new command(s): {', '.join(new)}. Discord allows "
        f"{DAILY_CREATE_BUDGET} command creations per day per server; run "
        "`/admin sync confirm:True` to go ahead."
    )
    return Reply(cards=(Card(title="Confirm the sync", description=text),), ephemeral=True)


def synced_reply(count: int, new: list[str], *, scope: str) -> Reply:
    where = "globally" if scope == "global" else "to this server"
    text = f"Synced {count} commands {where}" + (f" ({len(new)} new)." if new else ".")
    return Reply(cards=(Card(title="Commands synced", description=text),), ephemeral=True)
