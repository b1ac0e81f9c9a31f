"""Reply values into discord.py objects: embeds, views of persistent buttons, files."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import discord

from ..core.markdown import inline_runs
from ..core.reply import Button, Card, Reply

if TYPE_CHECKING:
    from .bot import LecternBot

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
    """Every Lectern button: its state is in its custom_id (``bot.reading.buttons``), so it
    survives restarts; the reading service parses and answers it."""

    def __init__(self, button: discord.ui.Button[Any]) -> None:
        super().__init__(button)

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> LecternButton:
        if not isinstance(item, discord.ui.Button):  # the template only matches our buttons
            raise TypeError(f"not a button: {item!r}")
        return cls(item)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        bot: LecternBot = interaction.client
        await bot.answer_button(interaction, self.item.custom_id or "")


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


def _button(button: Button) -> LecternButton:
    return LecternButton(
        discord.ui.Button(
            label=button.label,
            custom_id=button.custom_id,
            style=_STYLES[button.style],
            disabled=button.disabled,
        )
    )


def to_layout(reply: Reply) -> discord.ui.LayoutView:
    """A reply with a panel as a Components V2 layout: ``content`` (a note, a role ping) on
    top, then one container in the passage's accent colour holding the heading, the text, a
    separator, the subtext, the buttons, the source link and any attached files."""
    panel = reply.panel
    if panel is None:
        raise ValueError("to_layout needs a reply with a panel")
    view = discord.ui.LayoutView(timeout=None)
    if reply.content:
        view.add_item(discord.ui.TextDisplay(reply.content))
    heading, subtext = panel.texts()
    container: discord.ui.Container[Any] = discord.ui.Container(accent_colour=panel.accent)
    container.add_item(discord.ui.TextDisplay(heading))
    if panel.image:
        gallery = discord.ui.MediaGallery[Any]()
        gallery.add_item(media=f"attachment://{panel.image}", description=_plain(panel.heading))
        container.add_item(gallery)
    if panel.body:
        container.add_item(discord.ui.TextDisplay(panel.body))
    container.add_item(discord.ui.Separator())
    container.add_item(discord.ui.TextDisplay(subtext))
    # V2 shows only the files its components point at: the ones sent now, or, when a page
    # turns in place, the ones the message already carries.
    sent = [a.filename for a in reply.attachments if a.filename != panel.image]
    names = sent or (list(panel.files) if reply.edit else [])
    for name in names:
        container.add_item(discord.ui.File(f"attachment://{name}"))
    for row in reply.rows:
        container.add_item(discord.ui.ActionRow(*(_button(b) for b in row)))
    if panel.link:
        link = discord.ui.Button[Any](
            style=discord.ButtonStyle.link, label="Source", url=panel.link
        )
        container.add_item(discord.ui.ActionRow(link))
    view.add_item(container)
    return view


def _plain(markdown: str) -> str:
    """Markdown as the words it shows (an image's description is not rendered)."""
    return "".join(text for text, _ in inline_runs(markdown))[:1024]


def shown_text(message: discord.Message) -> str:
    """Everything a message shows in words: its content, embeds and Components V2 texts."""
    parts = [message.content]
    for embed in message.embeds:
        parts += [embed.title or "", embed.description or ""]
        parts += [f"{f.name} {f.value}" for f in embed.fields]
    parts += component_texts(message.components)
    return "\n".join(p for p in parts if p)


def component_texts(components: Sequence[Any]) -> list[str]:
    """Every text display's content in a Components V2 message, in order."""
    found: list[str] = []
    for component in components:
        if isinstance(component, discord.TextDisplay):
            found.append(component.content)
        found += component_texts(getattr(component, "children", None) or [])
    return found


def to_files(reply: Reply) -> list[discord.File]:
    return [discord.File(io.BytesIO(a.data), a.filename) for a in reply.attachments]
