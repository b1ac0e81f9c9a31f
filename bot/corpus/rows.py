"""A passage row as every corpus query selects it, and the value it becomes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .model import position_label

PASSAGE_COLUMNS = """p.id, d.slug, d.title, a.name, d.kind, d.source, p.seq, p.unit, p.number,
    p.unit_total, d.passage_count, p.text"""
PASSAGE_JOINS = """JOIN documents AS d ON d.id = p.document_id
    LEFT JOIN authors AS a ON a.id = p.author_id"""
SELECT_PASSAGE = f"SELECT {PASSAGE_COLUMNS} FROM passages AS p {PASSAGE_JOINS}"


@dataclass(frozen=True, slots=True)
class StoredPassage:
    """A passage as the commands show it, with its document's details."""

    id: str
    document: str  # the document's slug
    title: str
    author: str | None
    kind: str
    source: str
    seq: int
    unit: str
    number: int
    unit_total: int
    document_total: int
    text: str

    @property
    def label(self) -> str:
        return position_label(self.unit, self.number, self.unit_total)


def passage_from_row(row: Sequence[Any]) -> StoredPassage:
    return StoredPassage(*row[:12])
