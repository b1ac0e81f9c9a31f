"""Answering interactions, in one place, so every command and button gets the same guarantees:
an answer within Discord's 3 seconds (deferring if the work is slow), friendly errors, and an
apology rather than silence when something unexpected breaks."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

import discord

from ..core.errors import APOLOGY, UserError
from ..core.reply import Reply, error_reply
from .convert import to_embed, to_files, to_layout, to_view

if TYPE_CHECKING:
    from .bot import LecternBot

log = logging.getLogger(__name__)

#: Answer by then, or defer: Discord invalidates an interaction not answered within 3 s.
DEFER_AFTER = 2.0


async def send(interaction: discord.Interaction[Any], reply: Reply) -> None:
    """Send ``reply`` as this interaction's answer: a response, an edit, or a follow-up.

    A passage goes out as a Components V2 layout (an edit clears what an older, embed-style
    message had); anything else as embeds with a view of buttons.
    """
    files = to_files(reply)
    message: dict[str, Any]
    if reply.panel is not None:
        message = {"view": to_layout(reply), "embeds": [], "content": None}
    else:
        message = {"embeds": [to_embed(c) for c in reply.cards], "view": to_view(reply)}
        message["content"] = reply.content
    if reply.edit and interaction.type == discord.InteractionType.component:
        # Without a new file, leave the message's attachments as they are (a document's file
        # stays while its pages turn).
        if files:
            message["attachments"] = files
        if not interaction.response.is_done():
            await interaction.response.edit_message(**message)
        else:
            await interaction.edit_original_response(**message)
        return
    new = {k: v for k, v in message.items() if v is not None and v != []}  # only what is set
    new.update(ephemeral=reply.ephemeral, files=files)
    if reply.panel is None:
        new.setdefault("embeds", [])
    if not interaction.response.is_done():
        await interaction.response.send_message(**new)
    else:
        await interaction.followup.send(**new)


async def answer(
    interaction: discord.Interaction[Any],
    work: Awaitable[Reply],
    *,
    bot: LecternBot,
    ephemeral_hint: bool = False,
) -> None:
    """Run ``work`` and send its reply; defer if it is slow; turn errors into kind messages."""
    current = asyncio.current_task()
    if current is not None:
        bot.inflight.add(current)  # a clean shutdown waits for it
    try:
        await _answer(interaction, work, bot, ephemeral_hint)
    finally:
        if current is not None:
            bot.inflight.discard(current)


async def _answer(
    interaction: discord.Interaction[Any],
    work: Awaitable[Reply],
    bot: LecternBot,
    ephemeral_hint: bool,
) -> None:
    # A timer, not a second task: most answers take a millisecond and never need it.
    deferring: asyncio.Task[None] | None = None

    def defer_now() -> None:
        nonlocal deferring
        if not interaction.response.is_done():
            deferring = asyncio.ensure_future(_defer(interaction, ephemeral_hint))

    timer = asyncio.get_running_loop().call_later(DEFER_AFTER, defer_now)
    try:
        reply = await work
    except UserError as error:
        bot.counters["answered"] += 1
        reply = error_reply(str(error))
    except Exception:
        bot.counters["failed"] += 1
        log.exception("Error while answering %s", describe(interaction))
        reply = error_reply(APOLOGY)
    else:
        bot.counters["answered"] += 1
    finally:
        timer.cancel()
        if deferring is not None:
            await deferring  # the answer must follow the defer, not race it
    try:
        await send(interaction, reply)
    except discord.HTTPException:
        log.exception("Could not answer %s", describe(interaction))


async def _defer(interaction: discord.Interaction[Any], ephemeral: bool) -> None:
    if interaction.type == discord.InteractionType.component:
        await interaction.response.defer()
    else:
        await interaction.response.defer(thinking=True, ephemeral=ephemeral)


async def send_apology(interaction: discord.Interaction[Any]) -> None:
    """The last resort: tell the user something broke (never leave an interaction unanswered)."""
    try:
        await send(interaction, error_reply(APOLOGY))
    except discord.HTTPException:
        log.exception("Could not even apologise for %s", describe(interaction))


def describe(interaction: discord.Interaction[Any]) -> str:
    if interaction.command is not None:
        name = f"/{interaction.command.qualified_name}"
    else:
        data: dict[str, Any] = dict(interaction.data or {})
        name = str(data.get("custom_id", interaction.type.name))
    return f"{name} from user {interaction.user.id} in guild {interaction.guild_id}"
