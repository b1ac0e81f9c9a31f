"""Cards on request: rendered off the event loop, cached by what they show."""

from __future__ import annotations

import asyncio
import hashlib
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor

from ..core.errors import UserError
from ..core.text import clip, escape_markdown
from ..corpus.rows import StoredPassage
from .draw import RENDERER_VERSION, THEMES, CardText, render

DEFAULT_THEME = "light"
SCALES = (1, 2)
CACHED_CARDS = 128


def card_text(passage: StoredPassage) -> CardText:
    return CardText(passage.text, passage.title, passage.author, passage.label, passage.kind)


def cache_key(card: CardText, theme: str, scale: int) -> str:
    """What a card depends on: its text and attribution, theme, scale and renderer."""
    parts = [card.text, card.title, card.author or "", card.label, card.kind, theme]
    parts += [str(scale), str(RENDERER_VERSION)]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


class CardService:
    """PNG cards of passages: a worker thread draws them, an LRU cache repeats them.

    One thread, not more: the cached FreeType faces are not safe to use from two threads at
    once, and a card takes 10-55 ms, so a queue of them still answers within Discord's 3 s
    (and a slow one is deferred).
    """

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="card")
        self._cache: OrderedDict[str, bytes] = OrderedDict()

    async def png(
        self, passage: StoredPassage, theme: str = DEFAULT_THEME, scale: int = 1
    ) -> bytes:
        """The card of ``passage`` as PNG bytes (from the cache when it was drawn before)."""
        if theme not in THEMES:
            shown = escape_markdown(clip(theme.strip(), 40))
            raise UserError(f"There is no theme “{shown}”: use {', '.join(THEMES)}.")
        if scale not in SCALES:
            raise UserError("The scale is 1 or 2.")
        card = card_text(passage)
        key = cache_key(card, theme, scale)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        loop = asyncio.get_running_loop()
        data = await loop.run_in_executor(self._pool, render, card, THEMES[theme], scale)
        self._cache[key] = data
        while len(self._cache) > CACHED_CARDS:
            self._cache.popitem(last=False)
        return data

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
