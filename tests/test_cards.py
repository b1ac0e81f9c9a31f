"""Quote cards: the typesetting rules (properties), the images (golden, with a tolerance), the
themes' contrast, bad input, the cache, the CLI, the console and Discord end to end."""

from __future__ import annotations

import io
import re
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from bot.cards import draw, typeset
from bot.cards.draw import MAX_HEIGHT, MIN_HEIGHT, THEMES, WIDTH, CardText, render
from bot.cards.service import CardService
from bot.services import Services
from tests.card_goldens import CASES, GOLDEN, difference
from tests.conftest import lectern_cli
from tests.lectern_harness import button, run_lectern, shown

TEXT_WIDTH = (WIDTH - 2 * draw.MARGIN) * 0.98
ROOM = MAX_HEIGHT - draw.HEADER - draw.FOOTER - draw.MARGIN

words = st.text(alphabet="abcdefghijklmnopqrstuvwxyzéß", min_size=1, max_size=14)
prose = st.lists(words, min_size=1, max_size=400).map(" ".join)
verse = st.lists(st.lists(words, min_size=1, max_size=12).map(" ".join), min_size=1, max_size=60)


def laid_words(layout: typeset.Layout) -> list[str]:
    return [w.text for line in layout.lines for w in line.words]


@settings(max_examples=60, deadline=None)
@given(text=prose)
def test_prose_never_leaves_the_card_nor_breaks_a_word(text: str) -> None:
    setter = draw.setter()
    layout = typeset.fit(text, setter, width=TEXT_WIDTH, max_height=ROOM, poem=False)
    assert layout.height <= ROOM
    for line in layout.lines:  # every line within the text width
        width = sum(setter.width(w, layout.size) for w in line.words)
        width += setter.space * layout.size / 100 * (len(line.words) - 1)
        assert width <= TEXT_WIDTH + 1
    laid = laid_words(layout)
    source = text.split()
    if layout.excerpt:  # a clean excerpt: whole words from the start, then the ellipsis
        assert laid[-1].endswith(typeset.ELLIPSIS)
        assert laid[:-1] == source[: len(laid) - 1]
        assert source[len(laid) - 1].startswith(laid[-1].removesuffix(typeset.ELLIPSIS))
    else:
        assert laid == source  # never cut mid-word, nothing lost
    assert typeset.MIN_SIZE <= layout.size <= typeset.MAX_SIZE


@settings(max_examples=40, deadline=None)
@given(lines=verse)
def test_a_poem_keeps_its_lines_when_any_size_allows(lines: list[str]) -> None:
    text = "\n".join(lines)
    layout = typeset.fit(text, draw.setter(), width=TEXT_WIDTH, max_height=ROOM, poem=True)
    if not layout.excerpt and len(layout.lines) == len(lines):
        assert [" ".join(w.text for w in line.words) for line in layout.lines] == lines


def test_balanced_prose_avoids_a_lone_last_word() -> None:
    text = " ".join(["attention converges where the weights stay"] * 6) + " shape"
    layout = typeset.fit(text, draw.setter(), width=TEXT_WIDTH, max_height=ROOM, poem=False)
    assert len(layout.lines[-1].words) > 1
    greedy = draw.setter().greedy(
        [w for line in layout.lines for w in line.words], TEXT_WIDTH, layout.size
    )
    assert len(greedy) == len(layout.lines)  # as few lines as greedy filling, just even


def test_a_long_passage_becomes_an_excerpt_at_a_sentence() -> None:
    sentence = "The weights remain while the running pass is transient and then it ends. "
    layout = typeset.fit(sentence * 400, draw.setter(), width=TEXT_WIDTH, max_height=ROOM,
                         poem=False)  # fmt: skip
    assert layout.excerpt and layout.size == typeset.MIN_SIZE
    assert laid_words(layout)[-1] == "ends." + typeset.ELLIPSIS


def test_markdown_is_set_as_styles_not_asterisks() -> None:
    (block,) = typeset.blocks("A *slanted* and **heavy** word.")
    fragments = [f for word in block[0] for f in word.fragments]
    assert ("slanted", frozenset({"italic"})) in fragments
    assert ("heavy", frozenset({"bold"})) in fragments
    assert not any("*" in text for text, _ in fragments)


def test_missing_glyphs_fall_back_or_are_dropped_never_boxes() -> None:
    runs = draw.segments("Ζωή — жизнь ★ 🙂 done", frozenset())
    fonts = {name for _, name in runs}
    assert "EBGaramond12-Regular.otf" in fonts and "DejaVuSans.ttf" in fonts  # ★ from DejaVu
    assert "🙂" not in "".join(text for text, _ in runs)


def _luminance(colour: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


@pytest.mark.parametrize("theme", list(THEMES.values()), ids=list(THEMES))
def test_every_theme_meets_wcag_aa(theme: draw.Theme) -> None:
    background = _luminance(theme.background)
    for colour in (theme.text, theme.muted):
        light, dark = sorted((background, _luminance(colour)), reverse=True)
        assert (light + 0.05) / (dark + 0.05) >= 4.5, (theme.name, colour)
    assert (background > 0.5) == (theme.name in ("light", "paper"))  # dark themes are dark


async def _png(store: Services, passage_id: str, theme: str, scale: int = 1) -> bytes:
    passage = await store.corpus.passage(passage_id)
    assert passage is not None, passage_id
    return await store.reading.cards.png(passage, theme, scale)


@pytest.mark.parametrize(("passage_id", "theme"), CASES)
async def test_cards_match_their_golden_images(
    store: Services, passage_id: str, theme: str
) -> None:
    png = await _png(store, passage_id, theme)
    assert difference(png, GOLDEN / f"{passage_id}-{theme}.png") < 2.0  # of 255, per pixel


async def test_size_weight_and_scale(store: Services) -> None:
    for passage_id in ("shape-of-attention-7", "metaphor-7", "essay-comments-1"):
        for scale in (1, 2):
            png = await _png(store, passage_id, "light", scale)
            image = Image.open(io.BytesIO(png))
            assert image.format == "PNG" and image.width == WIDTH * scale
            assert MIN_HEIGHT * scale <= image.height <= MAX_HEIGHT * scale
            assert len(png) < 1_000_000


def _card(text: str, kind: str = "essay") -> CardText:
    return CardText(text, "A Title", None, "paragraph 1 of 1", kind)


def test_bad_passages_still_make_a_card() -> None:
    only_emoji = render(_card("🙂🙃😀 🫠"), THEMES["light"])
    huge = draw.layout_for(_card("word " * 20_000))  # 100,000 characters
    assert Image.open(io.BytesIO(only_emoji)).height >= MIN_HEIGHT
    assert huge.excerpt and huge.lines  # cut to what fits, and says it continues
    assert render(_card("x" * 300), THEMES["dark"])  # one unbreakable word


async def test_a_repeat_is_a_lookup(store: Services) -> None:
    service = CardService()
    passage = await store.corpus.passage("metaphor-2")
    assert passage is not None
    first = await service.png(passage, "dark")
    started = time.perf_counter()
    again = await service.png(passage, "dark")
    assert again is first and time.perf_counter() - started < 0.05
    assert await service.png(passage, "light") is not first  # the theme is part of the key


def test_the_shell_writes_a_card_and_refuses_an_unknown_id(tmp_path: Path) -> None:
    made = lectern_cli(tmp_path, "card", "metaphor-3", "--theme", "night", "--out", "m.png")
    assert made.returncode == 0, made.stderr
    assert Image.open(tmp_path / "m.png").width == WIDTH
    default = lectern_cli(tmp_path, "card", "metaphor-4")
    assert default.returncode == 0 and (tmp_path / "metaphor-4.png").exists()
    missing = lectern_cli(tmp_path, "card", "no-such-1")
    assert missing.returncode == 1 and "no passage has the id" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1


async def test_the_console_card_button_writes_the_png(store: Services, tmp_path: Path) -> None:
    from bot.console import Console

    out = io.StringIO()
    console = Console(store.reading, out=out, files=tmp_path)
    await console.execute("/passage id:shape-of-attention-3")
    await console.execute("card")
    written = tmp_path / "shape-of-attention-3.png"
    assert written.exists() and f"Card written to {written}" in out.getvalue()


async def test_card_command_and_button_through_discord(fake_discord, tmp_path) -> None:
    guild = fake_discord.add_guild("Readers", channels=["general"])
    reader = guild.add_member("reader")
    async with run_lectern(fake_discord, tmp_path):
        public = await fake_discord.slash(
            "card", guild=guild, user=reader, options={"id": "shape-of-attention-7"}
        )
        themed = await fake_discord.slash(
            "card", guild=guild, user=reader,
            options={"id": "metaphor-1", "theme": "dark"},
        )  # fmt: skip
        search = await fake_discord.slash("search", guild=guild, user=reader,
                                          options={"query": "weights"})  # fmt: skip
        opened = await fake_discord.click(button(search.data, "1"), user=reader)  # private
        private = await fake_discord.click(button(opened.data, "Card"), user=reader)
        posted = await fake_discord.click(button(private.data, "Share"), user=reader)
        missing = await fake_discord.slash(
            "card", guild=guild, user=reader, options={"id": "nope-1"}
        )
    card = shown(public.data)
    assert not public.data.get("flags", 0) & 64  # for everyone
    assert card.heading == "**The Shape of Attention** · Kenneth Reitz"
    gallery = [c for c in public.data["components"][0]["components"] if c["type"] == 12]
    assert gallery[0]["items"][0]["media"]["url"] == "attachment://shape-of-attention-7.png"
    assert [a["filename"] for a in public.data["attachments"]] == ["shape-of-attention-7.png"]
    assert [a["filename"] for a in themed.data["attachments"]] == ["metaphor-1.png"]
    assert private.data["flags"] & 64 and button(private.data, "Share")
    assert not posted.data.get("flags", 0) & 64 and posted.data["attachments"]
    assert "No passage has the id" in missing.data["embeds"][0]["description"]
    uploads = [f for f in fake_discord.files if f["filename"].endswith(".png")]
    assert uploads and all(f["size"] < 1_000_000 for f in uploads)
    assert re.fullmatch(r"[a-z0-9-]+\.png", uploads[0]["filename"])


def test_nothing_is_drawn_past_the_edges() -> None:
    from PIL import ImageChops

    long_title = CardText("A" * 300 + " and then " + "https://example.org/" + "b" * 200,
                          "A Very Long Title " * 12, "An Author With A Long Name " * 4,
                          "paragraph 1 of 1", "essay")  # fmt: skip
    image = Image.open(io.BytesIO(render(long_title, THEMES["light"]))).convert("RGB")
    background = Image.new("RGB", image.size, THEMES["light"].background)
    right = (WIDTH - draw.MARGIN // 2, 0, WIDTH, image.height)  # the right margin stays empty
    assert ImageChops.difference(image.crop(right), background.crop(right)).getbbox() is None
    layout = draw.layout_for(long_title)
    setter = draw.setter()
    for line in layout.lines:
        assert sum(setter.width(w, layout.size) for w in line.words) <= TEXT_WIDTH + 1


def test_balancing_never_cuts_a_word_that_fits_and_long_sentences_still_excerpt() -> None:
    text = ("word " * 5 + "a" * 31 + " ") * 3 + "end"
    layout = typeset.fit(text, draw.setter(), width=TEXT_WIDTH, max_height=ROOM, poem=False)
    assert laid_words(layout) == text.split()  # the 31-letter word stays whole
    endless = typeset.fit("word " * 3000 + ". Next.", draw.setter(), width=TEXT_WIDTH,
                          max_height=ROOM, poem=False)  # fmt: skip
    assert endless.excerpt and endless.lines  # whole words from the start, not a blank card
