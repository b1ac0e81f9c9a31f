"""Daily posts by outcome since start, and schedules by state now, for /admin stats."""

from __future__ import annotations

from collections import Counter

from .state import DailyState


class DailyStats:
    def __init__(self, store: DailyState, outcomes: Counter[str]) -> None:
        self.store = store
        self.outcomes = outcomes

    async def counts(self) -> dict[str, int]:
        active, paused = await self.store.schedule_counts()
        return {**self.outcomes, "schedules active": active, "schedules paused": paused}
