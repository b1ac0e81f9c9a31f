"""How a reply looks in a terminal, through rich: a panel per container (or embed) in its
accent colour, Discord Markdown rendered (bold as bold, not asterisks), subtext dim, buttons
listed. Off a terminal, the same boxes print as plain text for scripts."""

from __future__ import annotations

import io
from typing import TextIO

from rich import box
from rich.console import Console, Group, RenderableType
from rich.panel import Panel as RichPanel
from rich.text import Text

from .core.markdown import inline_runs
from .core.reply import Card, Panel, Reply

WIDTH = 78
#: How each Markdown style shows in a terminal.
_STYLES = {
    "bold": "bold",
    "underline": "underline",
    "italic": "italic",
    "strike": "strike",
    "spoiler": "reverse",
    "code": "bold cyan",
}


def discord_text(markdown: str, style: str = "") -> Text:
    """Discord Markdown as rich Text: styles applied, markers and escapes gone, every line
    break kept (a poem's lines stay lines)."""
    out = Text(style=style)
    for text, styles in inline_runs(markdown):
        out.append(text, style=" ".join(_STYLES[s] for s in sorted(styles)) or None)
    return out


def _colour(value: int) -> str:
    return f"#{value:06x}"


def _buttons(reply: Reply) -> list[Text]:
    lines = []
    for row in reply.rows:
        line = Text()
        for button in row:
            if line:
                line.append(" ")
            if button.disabled:
                line.append(f"({button.label})", style="dim")
            else:
                line.append(f"[{button.label}]", style="bold")
        lines.append(line)
    return lines


def panel_renderable(panel: Panel) -> RenderableType:
    parts: list[RenderableType] = [discord_text(panel.body), Text("")]
    parts.append(discord_text(panel.subtext, "dim"))
    if panel.link:
        parts.append(Text(panel.link, style="dim underline"))
    return RichPanel(
        Group(*parts),
        title=discord_text(panel.heading, "bold"),
        title_align="left",
        border_style=_colour(panel.accent),
        box=box.ROUNDED,
    )


def card_renderable(card: Card) -> RenderableType:
    parts: list[RenderableType] = []
    if card.author:
        parts += [discord_text(card.author, "bold"), Text("")]
    if card.description:
        parts.append(discord_text(card.description))
    for field in card.fields:
        parts += [Text(""), discord_text(field.name, "bold"), discord_text(field.value)]
    if card.footer:
        parts += [Text(""), discord_text(card.footer, "dim")]
    if card.url:
        parts.append(Text(card.url, style="dim underline"))
    return RichPanel(
        Group(*parts),
        title=discord_text(card.title, "bold") if card.title else None,
        title_align="left",
        border_style=_colour(card.color),
        box=box.ROUNDED,
    )


def reply_renderables(reply: Reply) -> list[RenderableType]:
    """A reply as rich renderables, top to bottom."""
    parts: list[RenderableType] = []
    if reply.content:
        parts.append(discord_text(reply.content))
    parts += [card_renderable(card) for card in reply.cards]
    if reply.panel is not None:
        parts.append(panel_renderable(reply.panel))
    parts += _buttons(reply)
    for attachment in reply.attachments:
        parts.append(Text(f"📎 {attachment.filename} ({len(attachment.data):,} bytes)"))
    if reply.ephemeral:
        parts.append(Text("(only you can see this)", style="dim italic"))
    return parts


def terminal(out: TextIO, width: int = WIDTH) -> Console:
    """A rich console on ``out``: colours on a terminal, plain text (same boxes) elsewhere."""
    is_tty = out.isatty() if hasattr(out, "isatty") else False
    return Console(
        file=out,
        width=None if is_tty else width,
        force_terminal=is_tty,
        no_color=not is_tty,
        highlight=False,
        emoji=False,
        soft_wrap=False,
    )


def render_reply(reply: Reply, width: int = WIDTH) -> str:
    """A reply as plain text (what ``lectern ask`` prints into a pipe)."""
    console = Console(
        width=width, no_color=True, highlight=False, emoji=False, record=True, file=io.StringIO()
    )
    for part in reply_renderables(reply):
        console.print(part)
    return console.export_text().rstrip("\n")
