"""Which passage a server's daily post shows: each server walks the whole corpus in its own
shuffled order before any passage repeats.

The order is a per-server, per-cycle hash of each passage id (:func:`order_key`), so reloading
the corpus keeps it: removed passages drop out, new ones join at their own place.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from ..corpus.rows import StoredPassage
from ..corpus.store import CorpusStore
from .model import SHOWN
from .store import DailyStore


def order_key(guild_id: int, cycle: int, passage_id: str) -> bytes:
    """Where ``passage_id`` falls in ``guild_id``'s shuffled order for ``cycle``.

    Sorting the corpus by this key is a per-server, per-cycle shuffle that is stable across
    Python versions and corpus reloads: a passage's place does not depend on the others, so
    passages that vanish simply drop out and new ones join at their own place.
    """
    data = f"{guild_id}:{cycle}:{passage_id}".encode()
    return hashlib.blake2b(data, digest_size=8).digest()


def pick_next(
    passage_ids: Iterable[str],
    *,
    guild_id: int,
    cycle: int,
    seen: set[str],
    last: str | None = None,
) -> tuple[str, int] | None:
    """The next passage for a server: the first of its order for ``cycle`` not yet ``seen``.

    When every current passage has been seen, a new cycle starts (the cycle number is returned
    with the id), avoiding ``last`` as its first passage so no passage shows twice in a row.
    None when there are no passages at all.
    """
    ids = list(passage_ids)
    if not ids:
        return None
    unseen = [p for p in ids if p not in seen]
    if unseen:
        return min(unseen, key=lambda p: order_key(guild_id, cycle, p)), cycle
    cycle += 1
    ordered = sorted(ids, key=lambda p: order_key(guild_id, cycle, p))
    if ordered[0] == last and len(ordered) > 1:
        return ordered[1], cycle
    return ordered[0], cycle


class DailyPicker:
    """Chooses each server's passage for a local date, from the stored history."""

    def __init__(
        self, corpus: CorpusStore, store: DailyStore, clock: Callable[[], datetime]
    ) -> None:
        self.corpus = corpus
        self.store = store
        self.clock = clock
        self._ids: tuple[int, list[str]] | None = None  # (corpus generation, ids)

    async def _passage_ids(self) -> list[str]:
        generation = await self.corpus.generation()
        if self._ids is None or self._ids[0] != generation:
            self._ids = (generation, await self.corpus.passage_ids())
        return self._ids[1]

    async def choose(self, guild_id: int, day: date) -> tuple[StoredPassage, int] | None:
        """The passage for ``guild_id`` on local date ``day`` and its cycle: the one already
        chosen for that date, else the next of the server's order."""
        post = await self.store.post(guild_id, day.isoformat())
        if post is not None and post.passage_id and post.state in SHOWN:
            passage = await self.corpus.passage(post.passage_id)
            if passage is not None:
                return passage, post.cycle
        return await self.next_unseen(guild_id)

    async def next_unseen(self, guild_id: int) -> tuple[StoredPassage, int] | None:
        """The next passage of the server's order and its cycle (None: empty corpus)."""
        cycle, seen, last = await self.store.current_cycle(guild_id)
        picked = pick_next(
            await self._passage_ids(), guild_id=guild_id, cycle=cycle, seen=seen, last=last
        )
        if picked is None:
            return None
        passage = await self.corpus.passage(picked[0])
        return (passage, picked[1]) if passage is not None else None

    async def todays_passage(self, guild_id: int) -> tuple[StoredPassage, date] | None:
        """For /reflection: a scheduled server's passage for its local date (None: no schedule)."""
        schedule = await self.store.schedule(guild_id)
        if schedule is None:
            return None
        day = self.clock().astimezone(ZoneInfo(schedule.zone)).date()
        chosen = await self.choose(guild_id, day)
        return (chosen[0], day) if chosen else None
