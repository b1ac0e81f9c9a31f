"""The Discord side of rendering: Reply → embeds, buttons and files, and answering interactions.

This is the one place that turns :mod:`bot.render` values into discord.py objects, and the one
place that answers an interaction, so every command and button gets the same guarantees: an
answer within Discord's 3 seconds (deferring if the work is slow), friendly errors, and an
apology rather than silence when something unexpected breaks.
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

import discord

from .render import Card, Reply
from .service import APOLOGY, Clicker, UserError, error_reply

if TYPE_CHECKING:
    from .client import LecternBot

log = logging.getLogger(__name__)

#: Answer by then, or defer: Discord invalidates an interaction not answered within 3 s.
DEFER_AFTER = 2.0

_STYLES = {
    "primary": discord.ButtonStyle.primary,
    "secondary": discord.ButtonStyle.secondary,
    "success": discord.ButtonStyle.success,
    "danger": discord.ButtonStyle.danger,
}


def to_embed(card: Card) -> discord.Embed:
    embed = discord.Embed(
        title=card.title, description=card.description, url=card.url, color=card.color
    )
    if card.author:
        embed.set_author(name=card.author)
    for field in card.fields:
        embed.add_field(name=field.name, value=field.value, inline=field.inline)
    if card.footer:
        embed.set_footer(text=card.footer)
    return embed


class LecternButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"lx:(?P<rest>.+)"):
    """Every Lectern button: its state is in its custom_id, so it survives restarts."""

    def __init__(self, button: discord.ui.Button[Any]) -> None:
        super().__init__(button)

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> LecternButton:
        assert isinstance(item, discord.ui.Button)
        return cls(item)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        bot: LecternBot = interaction.client
        message = interaction.message
        clicker = Clicker(
            user_id=interaction.user.id,
            private_message=bool(message is not None and message.flags.ephemeral),
        )
        custom_id = self.item.custom_id or ""
        await answer(interaction, bot.lectern.press(custom_id, clicker), bot=bot)


def to_view(reply: Reply) -> discord.ui.View | None:
    if not reply.rows:
        return None
    view = discord.ui.View(timeout=None)
    for row_index, row in enumerate(reply.rows):
        for button in row:
            item: discord.ui.Button[Any] = discord.ui.Button(
                label=button.label,
                custom_id=button.custom_id,
                style=_STYLES[button.style],
                disabled=button.disabled,
                row=row_index,
            )
            view.add_item(LecternButton(item))
    return view


async def send(interaction: discord.Interaction[Any], reply: Reply) -> None:
    """Send ``reply`` as this interaction's answer: a response, an edit, or a follow-up."""
    embeds = [to_embed(card) for card in reply.cards]
    view = to_view(reply)
    files = (
        [discord.File(io.BytesIO(reply.attachment.data), reply.attachment.filename)]
        if reply.attachment
        else []
    )
    is_component = interaction.type == discord.InteractionType.component
    content = reply.content
    if reply.edit and is_component:
        # Without a new file, leave the message's attachments as they are (a document's file
        # stays while its pages turn).
        changes: dict[str, Any] = {"content": content, "embeds": embeds, "view": view}
        if files:
            changes["attachments"] = files
        if not interaction.response.is_done():
            await interaction.response.edit_message(**changes)
        else:
            await interaction.edit_original_response(**changes)
        return
    kwargs: dict[str, Any] = {"embeds": embeds, "ephemeral": reply.ephemeral, "files": files}
    if content is not None:
        kwargs["content"] = content
    if view is not None:
        kwargs["view"] = view
    if not interaction.response.is_done():
        await interaction.response.send_message(**kwargs)
    else:
        await interaction.followup.send(**kwargs)


async def answer(
    interaction: discord.Interaction[Any],
    work: Awaitable[Reply],
    *,
    bot: LecternBot,
    ephemeral_hint: bool = False,
) -> None:
    """Run ``work`` and send its reply; defer if it is slow; turn errors into kind messages."""
    current = asyncio.current_task()
    if current is None:  # pragma: no cover - always called from a task
        await _answer(interaction, work, bot, ephemeral_hint)
        return
    bot.inflight.add(current)  # a clean shutdown waits for it
    try:
        await _answer(interaction, work, bot, ephemeral_hint)
    finally:
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
