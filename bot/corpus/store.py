"""Reading the stored corpus: passages by id and position, documents, authors, statistics.

What changes only with the corpus (the document and author lists) is cached, keyed on the
corpus generation: a counter that every commit replacing the corpus bumps, whichever process
made it. A shell ``lectern ingest`` is therefore visible to a running bot on its next command.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from ..core.db import Database
from .random import PassageFilter, random_passage
from .rows import PASSAGE_COLUMNS, PASSAGE_JOINS, SELECT_PASSAGE, StoredPassage, passage_from_row

#: The row of corpus_meta every corpus commit increments.
GENERATION_KEY = "generation"


@dataclass(frozen=True, slots=True)
class DocumentInfo:
    slug: str
    title: str
    author: str | None
    kind: str
    source: str
    note: str | None
    passage_count: int


@dataclass(frozen=True, slots=True)
class AuthorInfo:
    name: str
    passage_count: int


@dataclass(frozen=True, slots=True)
class CorpusStats:
    documents: int
    passages: int
    authors: int
    kinds: dict[str, int] = field(default_factory=dict)
    database_bytes: int = 0
    fingerprint: str | None = None


@dataclass(frozen=True, slots=True)
class _Lists:
    generation: int
    documents: tuple[DocumentInfo, ...]
    authors: tuple[AuthorInfo, ...]


class CorpusStore:
    """Queries over the corpus tables of a :class:`~bot.core.db.Database`."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._lists: _Lists | None = None

    async def meta(self, key: str) -> str | None:
        row = await self.db.one("SELECT value FROM corpus_meta WHERE key = ?", (key,))
        return str(row[0]) if row else None

    async def generation(self) -> int:
        """The corpus generation: changes with every commit that replaces the corpus."""
        value = await self.meta(GENERATION_KEY)
        return int(value) if value else 0

    async def passage(self, passage_id: str) -> StoredPassage | None:
        """A passage by its id (case-insensitive, surrounding spaces ignored)."""
        row = await self.db.one(f"{SELECT_PASSAGE} WHERE p.id = ?", (passage_id.strip().lower(),))
        return passage_from_row(row) if row else None

    async def random_passage(self, where: PassageFilter | None = None) -> StoredPassage | None:
        """A random passage matching ``where``; None when nothing does (see ``random.py``)."""
        row = await random_passage(self.db, where or PassageFilter())
        return passage_from_row(row) if row else None

    async def neighbours(
        self, passage_id: str
    ) -> tuple[StoredPassage | None, StoredPassage | None]:
        """The passages just before and after ``passage_id`` in its document."""
        sql = f"""SELECT {PASSAGE_COLUMNS}, p.seq - me.seq FROM passages AS me
            JOIN passages AS p ON p.rowid IN (me.rowid - 1, me.rowid + 1)
                AND p.document_id = me.document_id
            {PASSAGE_JOINS}
            WHERE me.id = ?"""
        before = after = None
        for row in await self.db.all(sql, (passage_id.strip().lower(),)):
            if row[12] < 0:
                before = passage_from_row(row)
            else:
                after = passage_from_row(row)
        return before, after

    async def document(self, slug: str) -> tuple[DocumentInfo, list[StoredPassage]] | None:
        """A whole document and its passages, in order."""
        info = await self.document_info(slug)
        if info is None:
            return None
        rows = await self.db.all(
            f"""{SELECT_PASSAGE} WHERE p.rowid BETWEEN
                (SELECT first_rowid FROM documents WHERE slug = :slug) AND
                (SELECT first_rowid + passage_count - 1 FROM documents WHERE slug = :slug)
            ORDER BY p.rowid""",
            {"slug": info.slug},
        )
        return info, [passage_from_row(r) for r in rows]

    async def document_info(self, slug: str) -> DocumentInfo | None:
        row = await self.db.one(
            """SELECT slug, title, author, kind, source, note, passage_count FROM documents
            WHERE slug = ?""",
            (slug.strip().lower(),),
        )
        return DocumentInfo(*row) if row else None

    async def documents(self) -> list[DocumentInfo]:
        """Every document, ordered by title."""
        return list((await self._current_lists()).documents)

    async def authors(self) -> list[AuthorInfo]:
        """Every author named in the corpus, ordered by name."""
        return list((await self._current_lists()).authors)

    async def _current_lists(self) -> _Lists:
        generation = await self.generation()
        if self._lists is None or self._lists.generation != generation:
            documents = await self.db.all(
                """SELECT slug, title, author, kind, source, note, passage_count FROM documents
                ORDER BY title COLLATE NOCASE"""
            )
            authors = await self.db.all("SELECT name, passage_count FROM authors ORDER BY key")
            self._lists = _Lists(
                generation,
                tuple(DocumentInfo(*r) for r in documents),
                tuple(AuthorInfo(*r) for r in authors),
            )
        return self._lists

    async def stats(self) -> CorpusStats:
        kinds = dict(await self.db.all("SELECT kind, passage_count FROM kinds ORDER BY kind"))
        row = await self.db.one(
            """SELECT (SELECT count(*) FROM documents), (SELECT coalesce(sum(passage_count), 0)
            FROM kinds), (SELECT count(*) FROM authors), (SELECT value FROM corpus_meta
            WHERE key = 'fingerprint')"""
        )
        return CorpusStats(row[0], row[1], row[2], kinds, self.db.size_bytes(), row[3])

    async def passage_at(self, index: int) -> StoredPassage | None:
        """The passage at 0-based ``index`` in corpus order (for deterministic daily picks)."""
        if index < 0:
            return None
        row = await self.db.one(
            f"""{SELECT_PASSAGE} WHERE p.rowid = (SELECT first_rowid + :n - ord_start
                FROM documents WHERE ord_start <= :n ORDER BY ord_start DESC LIMIT 1)""",
            {"n": index},
        )
        return passage_from_row(row) if row else None

    async def passage_count(self) -> int:
        row = await self.db.one("SELECT coalesce(sum(passage_count), 0) FROM kinds")
        return int(row[0])

    async def ids_starting_with(self, prefix: str, *, limit: int = 25) -> list[tuple[str, str]]:
        """``(id, first words)`` of passages whose id starts with ``prefix``, in id order."""
        prefix = prefix.strip().lower()
        rows = await self.db.all(
            """SELECT id, substr(text, 1, 80) FROM passages WHERE id >= ? AND id < ?
            ORDER BY id LIMIT ?""",
            (prefix, prefix + "\U0010ffff", limit),
        )
        return [(r[0], r[1]) for r in rows]

    async def passage_ids(
        self, *, document: str | None = None, kind: str | None = None
    ) -> list[str]:
        """Every passage id in corpus order, or those of one document (slug) or one kind."""
        where = ""
        if document is not None or kind is not None:
            where = "WHERE d.slug = ?" if document is not None else "WHERE d.kind = ?"
        # CROSS JOIN: documents in corpus order, then each one's rowid range (never a scan of
        # every passage per document).
        rows = await self.db.all(
            f"""SELECT p.id FROM documents AS d CROSS JOIN passages AS p
                ON p.rowid BETWEEN d.first_rowid AND d.first_rowid + d.passage_count - 1
            {where} ORDER BY d.ord_start, p.rowid""",
            [v for v in (document, kind) if v is not None][:1],
        )
        return [r[0] for r in rows]

    async def kind_count(self, kind: str) -> int:
        """How many passages of ``kind`` the corpus holds."""
        row = await self.db.one("SELECT passage_count FROM kinds WHERE kind = ?", (kind,))
        return int(row[0]) if row else 0

    async def iter_passages(self, batch: int = 2000) -> AsyncIterator[StoredPassage]:
        """Every passage in corpus order, fetched in batches (for exports)."""
        spans = await self.db.all(
            """SELECT first_rowid, passage_count FROM documents INDEXED BY documents_by_ord
            ORDER BY ord_start"""
        )
        for first, count in spans:
            for start in range(first, first + count, batch):
                rows = await self.db.all(
                    f"{SELECT_PASSAGE} WHERE p.rowid BETWEEN ? AND ? ORDER BY p.rowid",
                    (start, min(start + batch, first + count) - 1),
                )
                for row in rows:
                    yield passage_from_row(row)
