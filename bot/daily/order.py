"""Which passage a schedule's daily post shows: each schedule walks its passages (the whole
corpus, one document or one kind) in its own shuffled order before any passage repeats.

The order is a per-schedule, per-cycle hash of each passage id (:func:`order_key`), so reloading
the corpus keeps it: removed passages drop out, new ones join at their own place.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from ..corpus.rows import StoredPassage
from ..corpus.store import CorpusStore
from .model import DEFAULT_NAME, SHOWN, Schedule
from .state import DailyState


def order_key(guild_id: int, cycle: int, passage_id: str, name: str = DEFAULT_NAME) -> bytes:
    """Where ``passage_id`` falls in the shuffled order of schedule ``name`` for ``cycle``.

    Sorting the passages by this key is a per-schedule, per-cycle shuffle that is stable across
    Python versions and corpus reloads: a passage's place does not depend on the others, so
    passages that vanish simply drop out and new ones join at their own place. The ``daily``
    schedule keeps the key of the time before names, so a server's order survives the upgrade.
    """
    seed = f"{guild_id}" if name == DEFAULT_NAME else f"{guild_id}/{name}"
    data = f"{seed}:{cycle}:{passage_id}".encode()
    return hashlib.blake2b(data, digest_size=8).digest()


def pick_next(
    passage_ids: Iterable[str],
    *,
    guild_id: int,
    cycle: int,
    seen: set[str],
    last: str | None = None,
    name: str = DEFAULT_NAME,
) -> tuple[str, int] | None:
    """The next passage for a schedule: the first of its order for ``cycle`` not yet ``seen``.

    When every current passage has been seen, a new cycle starts (the cycle number is returned
    with the id), avoiding ``last`` as its first passage so no passage shows twice in a row.
    None when there are no passages at all.
    """
    ids = list(passage_ids)
    if not ids:
        return None
    unseen = [p for p in ids if p not in seen]
    if unseen:
        return min(unseen, key=lambda p: order_key(guild_id, cycle, p, name)), cycle
    cycle += 1
    ordered = sorted(ids, key=lambda p: order_key(guild_id, cycle, p, name))
    if ordered[0] == last and len(ordered) > 1:
        return ordered[1], cycle
    return ordered[0], cycle


class DailyPicker:
    """Chooses each schedule's passage for a local date, from the stored history."""

    def __init__(
        self, corpus: CorpusStore, store: DailyState, clock: Callable[[], datetime]
    ) -> None:
        self.corpus = corpus
        self.store = store
        self.clock = clock
        #: (document, kind) -> (corpus generation, ids): each filter's pool, per corpus.
        self._pools: dict[tuple[str | None, str | None], tuple[int, list[str]]] = {}

    async def passage_ids(self, schedule: Schedule) -> list[str]:
        """The ids a schedule draws from (all, or its document's or kind's), in corpus order."""
        generation = await self.corpus.generation()
        pool = (schedule.document, schedule.kind)
        cached = self._pools.get(pool)
        if cached is None or cached[0] != generation:
            ids = await self.corpus.passage_ids(document=schedule.document, kind=schedule.kind)
            if len(self._pools) > 64:  # a few filters per server: keep the cache small
                self._pools.clear()
            cached = self._pools[pool] = (generation, ids)
        return cached[1]

    async def choose(self, schedule: Schedule, day: date) -> tuple[StoredPassage, int] | None:
        """The passage for ``schedule`` on local date ``day`` and its cycle: the one already
        chosen for that date, else the next of the schedule's order."""
        post = await self.store.post(schedule.key, day.isoformat())
        if post is not None and post.passage_id and post.state in SHOWN:
            passage = await self.corpus.passage(post.passage_id)
            if passage is not None:
                return passage, post.cycle
        return await self.next_unseen(schedule)

    async def next_unseen(self, schedule: Schedule) -> tuple[StoredPassage, int] | None:
        """The next passage of the schedule's order and its cycle (None: no passages)."""
        cycle, seen, last = await self.store.current_cycle(schedule.key)
        picked = pick_next(
            await self.passage_ids(schedule),
            guild_id=schedule.guild_id,
            cycle=cycle,
            seen=seen,
            last=last,
            name=schedule.name,
        )
        if picked is None:
            return None
        passage = await self.corpus.passage(picked[0])
        return (passage, picked[1]) if passage is not None else None

    async def todays_passage(self, guild_id: int) -> tuple[StoredPassage, date] | None:
        """For /reflection: the passage of the server's ``daily`` schedule (or its first by
        name) for its local date; None without a schedule."""
        schedule = await self.store.schedule(guild_id, DEFAULT_NAME)
        if schedule is None:
            schedules = await self.store.schedules(guild_id)
            if not schedules:
                return None
            schedule = schedules[0]
        day = self.clock().astimezone(ZoneInfo(schedule.zone)).date()
        chosen = await self.choose(schedule, day)
        return (chosen[0], day) if chosen else None
