"""Where passages live in the ``passages`` table: rowid arithmetic, no I/O.

A passage's rowid is ``(kind number << 50) | (document id << 24) | seq``. A document is
therefore a rowid range of its own, a kind is one too, and rewriting one document moves no
other passage: what a reload of one changed document needs. Corpus order (kind, slug,
position) is kept by ordinals instead (``documents.ord_start``; see migration 0011).
"""

from __future__ import annotations

from .model import UNITS

SEQ_BITS = 24  # 16.7M passages per document; an 8 MiB file holds at most ~2.8M
DOCUMENT_BITS = 26  # 67M document ids before the kind bits
KIND_SHIFT = SEQ_BITS + DOCUMENT_BITS

#: Kinds in corpus order, numbered from 1. New kinds go at the end (numbers are stored).
KIND_ORDER: tuple[str, ...] = tuple(sorted(UNITS))


def kind_number(kind: str) -> int:
    return KIND_ORDER.index(kind) + 1


def first_rowid(kind: str, document_id: int) -> int:
    """The rowid of passage 1 of a document."""
    if not 0 < document_id < 1 << DOCUMENT_BITS:
        raise ValueError(f"document id {document_id} out of range")
    return (kind_number(kind) << KIND_SHIFT) | (document_id << SEQ_BITS) | 1


def kind_span(kind: str) -> tuple[int, int]:
    """The lowest and highest rowid a passage of ``kind`` can have."""
    number = kind_number(kind)
    return number << KIND_SHIFT, ((number + 1) << KIND_SHIFT) - 1


#: Every rowid any passage can have.
ALL_ROWIDS = (1, (len(KIND_ORDER) + 1) << KIND_SHIFT)
