"""The best few of a stream: the same as sorting everything, ties to the lower rowid."""

from __future__ import annotations

import array
import random

import pytest

from bot.corpus.best import Best


@pytest.mark.parametrize("seed", range(20))
def test_the_best_are_the_highest_impacts_of_everything_offered(seed: int) -> None:
    rng = random.Random(seed)
    size = rng.randint(1, 30)
    offered = [(rng.choice([0.1, 0.2, 0.3, rng.random()]), rowid) for rowid in range(500)]
    rng.shuffle(offered)  # ties, in any order
    kept = Best(size)
    for value, rowid in offered:
        kept.offer(value, rowid)
    blob = kept.packed()
    rowids, impacts = array.array("q"), array.array("d")
    rowids.frombytes(blob[: len(blob) // 2])
    impacts.frombytes(blob[len(blob) // 2 :])
    expected = sorted(offered, key=lambda e: (-e[0], e[1]))[:size]
    assert list(zip(impacts, rowids, strict=True)) == expected


def test_fewer_than_its_size_are_all_kept_best_first() -> None:
    kept = Best(10)
    for value, rowid in ((0.5, 3), (0.9, 7), (0.5, 1)):
        kept.offer(value, rowid)
    assert len(kept) == 3
    blob = kept.packed()
    rowids = array.array("q")
    rowids.frombytes(blob[: len(blob) // 2])
    assert rowids.tolist() == [7, 1, 3]
