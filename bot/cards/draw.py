"""Drawing a card with Pillow: fonts shipped in ``bot/cards/fonts`` (EB Garamond, with DejaVu
for what it lacks), themes, and the PNG. Typesetting itself is ``typeset.py``."""

from __future__ import annotations

import functools
import io
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from ..core.reply import ACCENT, KIND_ACCENTS
from .typeset import Layout, Line, Setter, fit

#: Bumped whenever the drawing changes, so cached cards are drawn anew.
RENDERER_VERSION = 1
WIDTH = 1080
MARGIN = 96
MIN_HEIGHT, MAX_HEIGHT = WIDTH // 2, WIDTH * 3 // 2
HEADER, FOOTER = 150, 130  # heights of the title block and the footer, at scale 1

FONTS = resources.files("bot.cards") / "fonts"
_GARAMOND = {
    frozenset(): "EBGaramond12-Regular.otf",
    frozenset({"italic"}): "EBGaramond12-Italic.otf",
    frozenset({"bold"}): "EBGaramond12-Bold.otf",
}
_FALLBACKS = ("DejaVuSerif.ttf", "DejaVuSans.ttf")
#: Joiners and variation selectors: nothing to draw on their own.
_INVISIBLE = {"\u200d", "\ufe0e", "\ufe0f", "\u200b"}


@dataclass(frozen=True, slots=True)
class Theme:
    name: str
    background: str
    text: str
    muted: str


THEMES = {
    "light": Theme("light", "#FBF8F1", "#1F1A17", "#62584F"),
    "dark": Theme("dark", "#16181D", "#EEE8DE", "#A8A096"),
    "paper": Theme("paper", "#F1E6D0", "#2A2016", "#66553F"),
    "night": Theme("night", "#0F1B2D", "#E7EEF7", "#9DB0C8"),
}


@dataclass(frozen=True, slots=True)
class CardText:
    """What a card prints: the passage and its attribution, nothing else."""

    text: str
    title: str
    author: str | None
    label: str  # "stanza 7 of 24"
    kind: str


def _font_file(name: str) -> Path:
    return Path(str(FONTS / name))


@functools.cache
def font(name: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(
        _font_file(name),
        size,
        layout_engine=ImageFont.Layout.RAQM,  # kerning, ligatures
    )


@functools.cache
def _has_glyph(name: str, char: str) -> bool:
    probe = font(name, 40)
    return bytes(probe.getmask(char)) != bytes(probe.getmask("\U0010ffff"))


def _style_file(styles: frozenset[str]) -> str:
    if "bold" in styles:
        return _GARAMOND[frozenset({"bold"})]
    if "italic" in styles:
        return _GARAMOND[frozenset({"italic"})]
    return _GARAMOND[frozenset()]


def segments(text: str, styles: frozenset[str]) -> list[tuple[str, str]]:
    """``text`` cut into runs of one font each: the style's Garamond, else a fallback that has
    the glyph; characters no font has (emoji, say) are dropped rather than drawn as boxes."""
    main = _style_file(styles)
    out: list[tuple[str, str]] = []
    for char in text:
        if char in _INVISIBLE:
            continue
        chosen = next(
            (f for f in (main, *_FALLBACKS) if char.isspace() or _has_glyph(f, char)), None
        )
        if chosen is None:
            continue
        if out and out[-1][1] == chosen:
            out[-1] = (out[-1][0] + char, chosen)
        else:
            out.append((char, chosen))
    return out


def measure(text: str, styles: frozenset[str]) -> float:
    """Width of ``text`` at size 100, as drawn."""
    return sum(font(name, 100).getlength(run) for run, name in segments(text, styles))


@functools.cache
def setter() -> Setter:
    return Setter(measure)


def line_runs(line: Line) -> list[tuple[str, frozenset[str]]]:
    """A line as runs of one style each, words joined by spaces."""
    runs: list[tuple[str, frozenset[str]]] = []
    for index, word in enumerate(line.words):
        pieces = list(word.fragments)
        if index:
            pieces.insert(0, (" ", runs[-1][1] if runs else frozenset()))
        for piece, styles in pieces:
            if runs and runs[-1][1] == styles:
                runs[-1] = (runs[-1][0] + piece, styles)
            else:
                runs.append((piece, styles))
    return runs


def fitted(value: str, styles: frozenset[str], size: int, width: float) -> str:
    """``value`` cut at a word (with an ellipsis) so that it is at most ``width`` wide."""
    if measure(value, styles) * size / 100 <= width:
        return value
    words = value.split()
    while words:
        words.pop()
        candidate = " ".join(words) + "…"
        if measure(candidate, styles) * size / 100 <= width:
            return candidate
    return "…"


def accent(kind: str) -> str:
    return f"#{KIND_ACCENTS.get(kind, ACCENT):06x}"


def typographic(text: str) -> str:
    """Straight apostrophes and quotes as a typesetter would set them."""
    text = re.sub(r"(?<=\w)'(?=\w)", "\u2019", text)
    text = re.sub(r"(^|[\s(\[])'", "\\1\u2018", text)
    text = re.sub(r"'", "\u2019", text)
    text = re.sub(r'(^|[\s(\[])"', "\\1\u201c", text)
    return text.replace('"', "\u201d")


def layout_for(card: CardText) -> Layout:
    width = WIDTH - 2 * MARGIN
    room = MAX_HEIGHT - HEADER - FOOTER - MARGIN
    text = typographic(card.text)
    return fit(text, setter(), width=width * 0.98, max_height=room, poem=card.kind == "poem")


def render(card: CardText, theme: Theme, scale: int = 1) -> bytes:
    """The card as PNG bytes: 1080 px wide (times ``scale``), 540-1620 px high."""
    layout = layout_for(card)
    body = layout.height
    height = max(MIN_HEIGHT, min(MAX_HEIGHT, int(HEADER + body + FOOTER + MARGIN)))
    image = Image.new("RGB", (WIDTH * scale, height * scale), theme.background)
    draw = ImageDraw.Draw(image)

    def text(x: float, y: float, value: str, styles: frozenset[str], size: int, fill: str) -> float:
        for run, name in segments(value, styles):
            face = font(name, size * scale)
            draw.text((x * scale, y * scale), run, font=face, fill=fill)
            x += face.getlength(run) / scale
        return x

    colour = accent(card.kind)
    draw.rectangle((0, 0, 10 * scale, height * scale), fill=colour)  # the kind's colour
    title_y = MARGIN * 0.7
    room = WIDTH - 2 * MARGIN
    author = fitted(card.author, frozenset({"italic"}), 32, room * 0.4) if card.author else ""
    author_width = measure(author, frozenset({"italic"})) * 32 / 100 if author else 0.0
    title = fitted(card.title, frozenset({"bold"}), 34, room - author_width - 18)
    end = text(MARGIN, title_y, title, frozenset({"bold"}), 34, theme.text)
    if author:
        text(end + 18, title_y + 2, author, frozenset({"italic"}), 32, theme.muted)
    top = HEADER + max(0.0, (height - HEADER - FOOTER - MARGIN - body) / 2)
    y = top
    for line in layout.lines:
        if line.gap_before:
            y += layout.line_height * 0.6
        x = float(MARGIN)
        for run, styles in line_runs(line):  # one draw per run of a style: fast, and kerned
            x = text(x, y, run, styles, layout.size, theme.text)
        y += layout.line_height
    footer_y = height - MARGIN * 0.55 - 40
    label = card.label + (" · continues in Lectern" if layout.excerpt else "")
    text(MARGIN, footer_y, label, frozenset({"italic"}), 28, theme.muted)
    mark = "Lectern"
    mark_width = measure(mark, frozenset({"bold"})) * 28 / 100
    dot = 14
    x = WIDTH - MARGIN - mark_width
    draw.ellipse(
        ((x - dot - 14) * scale, (footer_y + 14) * scale, (x - 14) * scale,
         (footer_y + 14 + dot) * scale),
        fill=colour,
    )  # fmt: skip
    text(x, footer_y, mark, frozenset({"bold"}), 28, theme.text)
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=3)  # flat colours: small files, quickly
    return out.getvalue()
