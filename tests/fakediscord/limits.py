"""Discord's REST rate limits, for the fake: a global limit per bot and per-route buckets.

From Discord's documentation (topics/rate-limits): every bot may make 50 requests per second
across all routes ("global"); interaction endpoints (``/interactions/...`` and the webhooks of
interaction tokens) are not bound by it. Each route also has buckets, keyed by its top-level
resource (the ``channel_id``); their sizes are not contractual and are told to the client in
``X-RateLimit-*`` headers, which discord.py reads to wait before it is refused. Over a limit
Discord answers 429 with ``retry_after`` (seconds), ``global`` and ``X-RateLimit-Scope``, and
counts the 429 towards its ban of 10,000 invalid requests in 10 minutes.

Off unless a test or bench turns it on (:meth:`FakeDiscord.enforce_rate_limits`): most tests
are not about rate limits, and sliding windows in real time would only make them slower.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Refusal:
    """One request answered 429."""

    at: float  # monotonic seconds
    route: str  # "POST /channels/{channel_id}/messages"
    is_global: bool
    retry_after: float


@dataclass
class RateLimiter:
    """Sliding windows: ``per_second`` requests a second for the bot, and ``bucket_size``
    requests per ``bucket_seconds`` for each (method, route, channel) bucket."""

    per_second: int = 50
    bucket_size: int = 5
    bucket_seconds: float = 5.0
    clock: Callable[[], float] = time.monotonic
    refusals: list[Refusal] = field(default_factory=list)
    allowed: int = 0
    _global: deque[float] = field(default_factory=deque)
    _buckets: dict[tuple[str, str, str], deque[float]] = field(default_factory=dict)

    @staticmethod
    def exempt(template: str) -> bool:
        return template.startswith(("/interactions/", "/webhooks/"))

    def check(
        self, method: str, template: str, channel_id: str | None
    ) -> tuple[Refusal | None, dict[str, str]]:
        """Count one request: a refusal if it is over a limit (not counted in the windows),
        else the bucket headers to send with the answer (empty when it has no bucket)."""
        now = self.clock()
        route = f"{method} {template}"
        if not self.exempt(template):
            _expire(self._global, now - 1.0)
            if len(self._global) >= self.per_second:
                return self._refuse(now, route, True, self._global[0] + 1.0 - now), {}
        bucket = None
        if channel_id is not None and method != "GET":
            key = (method, template, channel_id)
            bucket = self._buckets.setdefault(key, deque())
            _expire(bucket, now - self.bucket_seconds)
            if len(bucket) >= self.bucket_size:
                wait = bucket[0] + self.bucket_seconds - now
                return self._refuse(now, route, False, wait), {}
            bucket.append(now)
        if not self.exempt(template):
            self._global.append(now)
        self.allowed += 1
        if bucket is None:
            return None, {}
        reset_after = bucket[0] + self.bucket_seconds - now
        headers = {
            "X-RateLimit-Limit": str(self.bucket_size),
            "X-RateLimit-Remaining": str(self.bucket_size - len(bucket)),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": f"{method}:{template}",
        }
        return None, headers

    def _refuse(self, now: float, route: str, is_global: bool, wait: float) -> Refusal:
        refusal = Refusal(now, route, is_global, max(wait, 0.001))
        self.refusals.append(refusal)
        return refusal

    def most_refused_in_a_second(self) -> int:
        """The most 429s answered within any one second (a retry storm shows here)."""
        times = sorted(r.at for r in self.refusals)
        best, start = 0, 0
        for end, at in enumerate(times):
            while at - times[start] > 1.0:
                start += 1
            best = max(best, end - start + 1)
        return best


def _expire(window: deque[float], before: float) -> None:
    while window and window[0] <= before:
        window.popleft()
