"""The per-member token bucket, with a clock the test moves."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.ratelimit import TokenBucket


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_then_one_per_refill() -> None:
    clock = Clock()
    bucket = TokenBucket(5, 3.0, clock)
    assert [bucket.take(1) for _ in range(5)] == [0.0] * 5
    assert bucket.take(1) == pytest.approx(3.0)  # the sixth waits one refill
    assert bucket.take(2) == 0.0  # another member has their own bucket
    clock.now += 1.0
    assert bucket.take(1) == pytest.approx(2.0)  # a refused try costs nothing
    clock.now += 2.0
    assert bucket.take(1) == 0.0 and bucket.take(1) == pytest.approx(3.0)
    clock.now += 60.0  # idle: the bucket refills to the burst, no further
    assert [bucket.take(1) for _ in range(6)][-1] == pytest.approx(3.0)


def test_zero_seconds_turns_it_off() -> None:
    bucket = TokenBucket(1, 0.0, Clock())
    assert all(bucket.take(1) == 0.0 for _ in range(100))


@given(st.lists(st.floats(0, 10), max_size=60), st.integers(1, 6), st.floats(0.5, 5))
def test_never_more_than_burst_plus_refills(gaps: list[float], burst: int, seconds: float) -> None:
    clock = Clock()
    bucket = TokenBucket(burst, seconds, clock)
    start, allowed = clock.now, 0
    for gap in gaps:
        clock.now += gap
        allowed += bucket.take(7) == 0.0
    assert allowed <= burst + (clock.now - start) / seconds + 1e-9


def test_memory_stays_bounded() -> None:
    clock = Clock()
    bucket = TokenBucket(2, 1.0, clock)
    for member in range(TokenBucket.MAX_TRACKED + 500):
        bucket.take(member)
        clock.now += 0.01
    assert len(bucket._buckets) <= TokenBucket.MAX_TRACKED
