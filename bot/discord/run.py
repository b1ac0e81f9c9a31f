"""Running the bot for real: start-up, signals, and publishing commands from the shell."""

from __future__ import annotations

import asyncio
import signal
import socket
from collections.abc import Callable

import aiohttp
import discord

from ..admin.audit import Actor
from ..config import Settings
from ..core.db import Database
from .bot import DiscordUnreachable, LecternBot, StartupError
from .logs import configure_logging


def install_signal_handlers(bot: LecternBot) -> Callable[[], None]:
    """SIGHUP reloads the corpus; SIGINT and SIGTERM shut down cleanly. Returns an undo."""
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGHUP, lambda: bot.spawn(bot.reload_on_signal(), "sighup"))

    def stop(sig: signal.Signals) -> None:
        bot.spawn(bot.shutdown(sig.name), "shutdown")

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop, sig)

    def undo() -> None:
        for sig in (signal.SIGHUP, signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)

    return undo


#: What "Discord cannot be reached" looks like: the network, DNS, or Discord's own outage.
NETWORK_ERRORS = (
    aiohttp.ClientError,
    ConnectionError,
    socket.gaierror,
    TimeoutError,
    discord.DiscordServerError,
)


def unreachable(error: BaseException) -> DiscordUnreachable:
    reason = str(error) or type(error).__name__
    return DiscordUnreachable(f"could not reach Discord: {reason}")


def _token(settings: Settings) -> str:
    if not settings.token:
        raise StartupError("DISCORD_TOKEN is not set")
    return settings.token


async def run_bot(settings: Settings) -> None:
    """Open the database and run the bot until it is stopped."""
    token = _token(settings)
    configure_logging(settings)
    async with await Database.open(settings.db_path) as db:
        bot = LecternBot(settings, db)
        try:
            async with bot:
                undo = install_signal_handlers(bot)
                try:
                    await bot.start(token)
                finally:
                    undo()
        except discord.LoginFailure:
            raise StartupError(
                "Discord refused the token: copy it again from the Developer Portal "
                "(Bot → Reset Token) into DISCORD_TOKEN"
            ) from None
        except (aiohttp.ClientError, OSError, TimeoutError) as error:
            raise DiscordUnreachable(
                f"could not reach Discord: {error or type(error).__name__}"
            ) from None
        except discord.PrivilegedIntentsRequired:  # pragma: no cover - Lectern asks for none
            raise StartupError("Discord requires privileged intents Lectern does not use") from None


async def sync_commands(settings: Settings, guild_id: int | None = None) -> int:
    """``lectern sync``: log in over HTTP only and publish the commands (global or one guild)."""
    token = _token(settings)
    async with await Database.open(settings.db_path) as db:
        bot = LecternBot(settings, db)
        async with bot:
            try:
                await bot.login(token)  # runs setup_hook: corpus, extensions
            except discord.LoginFailure:
                raise StartupError("Discord refused the token in DISCORD_TOKEN") from None
            except NETWORK_ERRORS as error:
                raise unreachable(error) from None
            guild = discord.Object(guild_id) if guild_id else None
            if guild is not None:
                bot.tree.copy_global_to(guild=guild)
            try:
                synced = await bot.tree.sync(guild=guild)
            except NETWORK_ERRORS as error:
                raise unreachable(error) from None
            where = f"guild {guild_id}" if guild_id else "global"
            await bot.services.audit.record(
                Actor("shell"), f"sync {where}", "ok", f"{len(synced)} commands"
            )
            return len(synced)
