"""A per-member token bucket for the reading commands (pure: the clock is handed in)."""

from __future__ import annotations

import time
from collections.abc import Callable


class TokenBucket:
    """A burst of ``burst`` commands, refilled one every ``seconds`` (0 seconds: no limit)."""

    #: Members remembered before idle ones (full buckets) are forgotten.
    MAX_TRACKED = 10_000

    def __init__(
        self, burst: int, seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if burst < 1:
            raise ValueError("burst must be at least 1")
        self.burst = burst
        self.seconds = seconds
        self._clock = clock
        self._buckets: dict[int, tuple[float, float]] = {}  # member -> (tokens, at)

    def take(self, member_id: int) -> float:
        """0.0 if ``member_id`` may run a command now (a token is used), else seconds to wait."""
        if self.seconds <= 0:
            return 0.0
        now = self._clock()
        tokens, at = self._buckets.get(member_id, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - at) / self.seconds)
        if tokens < 1.0:
            self._buckets[member_id] = (tokens, now)
            return (1.0 - tokens) * self.seconds
        if len(self._buckets) >= self.MAX_TRACKED:
            self._forget_idle(now)
        self._buckets[member_id] = (tokens - 1.0, now)
        return 0.0

    def _forget_idle(self, now: float) -> None:
        full_after = self.burst * self.seconds
        self._buckets = {m: v for m, v in self._buckets.items() if now - v[1] < full_after}
