"""The best few of a long stream of scored passages, kept in compact arrays (pure).

A champion list build offers every passage to the lists of its words and pairs: at 1M passages
some 13M entries are kept at once. As ``(impact, rowid)`` tuples in heaps that took 3.9 GB; two
arrays per list (16 bytes an entry), pruned to the best when twice full, take a tenth.
"""

from __future__ import annotations

import array


class Best:
    """The ``size`` highest impacts offered, ties to the lower rowid."""

    __slots__ = ("impacts", "low", "rowids", "size")

    def __init__(self, size: int) -> None:
        self.size = size
        self.impacts = array.array("d")
        self.rowids = array.array("q")
        self.low = float("-inf")  # once pruned: no lower impact can be among the best

    def offer(self, value: float, rowid: int) -> None:
        if value < self.low:
            return
        self.impacts.append(value)
        self.rowids.append(rowid)
        if len(self.impacts) >= 2 * self.size:
            self._prune()

    def _prune(self) -> None:
        impacts, rowids = self.impacts, self.rowids
        order = sorted(range(len(impacts)), key=lambda i: (-impacts[i], rowids[i]))[: self.size]
        self.impacts = array.array("d", [impacts[i] for i in order])
        self.rowids = array.array("q", [rowids[i] for i in order])
        if order and len(order) == self.size:
            self.low = self.impacts[-1]

    def packed(self) -> bytes:
        """The best, best first, as stored: the rowids (int64), then the impacts (float64)."""
        self._prune()
        return self.rowids.tobytes() + self.impacts.tobytes()

    def __len__(self) -> int:
        return len(self.impacts)
