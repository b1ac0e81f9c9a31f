"""Pacing requests under a rate: evenly spaced, shared by every task that asks.

Discord allows a bot 50 REST requests a second across all routes and answers 429 past that.
discord.py does not pace: on a global 429 it waits and retries, so a burst of due posts turns
into a storm of refused requests, each counted toward Discord's ban of 10,000 invalid requests
in 10 minutes. A :class:`Pacer` hands out start times ``1 / rate`` seconds apart instead, so
the requests never pile up past the limit in the first place.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable


class Pacer:
    """At most ``rate`` starts a second, ``1 / rate`` apart, in the order they were asked for."""

    def __init__(
        self,
        rate: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.interval = 1.0 / rate
        self._clock = clock
        self._sleep = sleep
        self._next = 0.0  # when the next start may happen (clock seconds)
        self.waited = 0.0  # total seconds callers were held back, for stats
        self._per_second = max(1, math.ceil(rate))  # shares of the bot's rate are fractional
        self._started: deque[float] = deque()  # start times within the last second

    def reserve(self) -> float:
        """Take the next start time; the seconds to wait for it (0 if it is now)."""
        now = self._clock()
        start = max(self._next, now)
        self._next = start + self.interval
        return start - now

    async def wait(self) -> None:
        """Wait for this caller's turn. The slot is taken before sleeping (no lock needed: a
        caller cancelled while waiting only leaves a gap)."""
        delay = self.reserve()
        if delay > 0:
            self.waited += delay
            await self._sleep(delay)
        # A stalled event loop wakes several sleepers at once: also count the starts that
        # really happened in the last second, so no second ever holds more than ``rate``.
        while True:
            now = self._clock()
            while self._started and self._started[0] <= now - 1.0:
                self._started.popleft()
            if len(self._started) < self._per_second:
                break
            late = self._started[0] + 1.0 - now
            self.waited += late
            await self._sleep(late)
        self._started.append(now)
