"""The command tree: one handler for every command error, replying exactly once."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands

from ..core.reply import error_reply
from .answer import describe, send, send_apology

if TYPE_CHECKING:
    from .bot import LecternBot

log = logging.getLogger(__name__)


class LecternTree(app_commands.CommandTree["LecternBot"]):
    async def on_error(
        self, interaction: discord.Interaction[LecternBot], error: app_commands.AppCommandError
    ) -> None:
        bot = interaction.client
        if isinstance(error, app_commands.TransformerError | app_commands.CheckFailure):
            bot.counters["answered"] += 1
            if isinstance(error, app_commands.NoPrivateMessage):
                message = "This command only works in a server."
            elif isinstance(error, app_commands.CheckFailure):
                message = str(error)
            else:
                message = f"That value is not one I can use: {error.value!r}."
            await send(interaction, error_reply(message))
            return
        bot.counters["failed"] += 1
        log.error("Unexpected error in %s", describe(interaction), exc_info=error)
        if interaction.type != discord.InteractionType.autocomplete:
            await send_apology(interaction)
