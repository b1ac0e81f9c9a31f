"""Step one of a reload: check every changed file and stage it, writing nothing to the corpus.

Files whose size and modification time match what is stored are not read. Every other file is
read, parsed and validated, and its passages go into ``TEMP`` tables of the reload's own
connection (SQLite spills them to a temporary file): one batch of files in memory at a time,
however large the corpus, and all of it checked before step two (``apply.py``) changes
anything. A problem anywhere raises :class:`~bot.corpus.model.CorpusError`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.db import Database
from .files import Listing, display_root, no_documents, parse_file
from .model import CorpusError, Document, Problem, corpus_fingerprint
from .random import author_key

#: Source bytes parsed per trip to the worker thread (and held in memory at once).
BATCH_BYTES = 4 * 1024 * 1024

_SCHEMA = """
DROP TABLE IF EXISTS temp.staged_documents;
DROP TABLE IF EXISTS temp.staged_passages;
CREATE TEMP TABLE staged_documents (
    slug TEXT PRIMARY KEY, title TEXT, author TEXT, kind TEXT, source TEXT, note TEXT,
    path TEXT, file TEXT, file_size INTEGER, file_mtime_ns INTEGER, content_hash TEXT,
    passage_count INTEGER);
CREATE TEMP TABLE staged_passages (
    slug TEXT, seq INTEGER, id TEXT, unit TEXT, number INTEGER, unit_total INTEGER,
    author TEXT, author_key TEXT, author_seq INTEGER, text TEXT);
CREATE INDEX temp.staged_passages_by_slug ON staged_passages (slug);
CREATE INDEX temp.staged_passages_by_id ON staged_passages (id);
"""


@dataclass(frozen=True, slots=True)
class StoredFile:
    """What the corpus remembers of one document's file."""

    slug: str
    kind: str
    file: str
    size: int
    mtime_ns: int
    content_hash: str
    passage_count: int


@dataclass(slots=True)
class Plan:
    """What a reload will change. Staged documents are in the session's TEMP tables."""

    documents: int = 0
    passages_before: int = 0
    passages_after: int = 0
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    #: Same content under a new file name or modification time: ``(slug, file, size, mtime,
    #: path)``, only the documents row is updated.
    moved: list[tuple[str, str, int, int, str]] = field(default_factory=list)
    stored: dict[str, StoredFile] = field(default_factory=dict)  # by slug
    staged_counts: dict[str, int] = field(default_factory=dict)  # by slug
    fingerprint: str = ""
    not_documents: tuple[str, ...] = ()

    @property
    def changes_passages(self) -> bool:
        return bool(self.added or self.removed or self.changed)


async def stored_files(db: Database) -> dict[str, StoredFile]:
    rows = await db.all(
        """SELECT slug, kind, file, file_size, file_mtime_ns, content_hash, passage_count
        FROM documents"""
    )
    return {r[0]: StoredFile(*r) for r in rows}


async def stage(
    session: Database,
    folder: Path,
    listing: Listing,
    *,
    force: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> Plan:
    """Stage the files of ``listing`` that changed; raise CorpusError if any file is invalid."""
    await session.connection.executescript(_SCHEMA)
    plan = Plan(stored=await stored_files(session))
    by_file: dict[str, list[StoredFile]] = {}
    for entry in plan.stored.values():
        by_file.setdefault(entry.file, []).append(entry)
    problems: list[Problem] = list(listing.problems)
    final: dict[str, tuple[str, str, str]] = {}  # slug -> (kind, content hash, file)
    unread: list[tuple[str, Path, int, int]] = []
    for relative, path, st in listing.files:
        same = [
            k
            for k in by_file.get(relative, ())
            if (k.size, k.mtime_ns) == (st.st_size, st.st_mtime_ns)
        ]
        if same and not force:
            kept = same[0]
            final[kept.slug] = (kept.kind, kept.content_hash, relative)
            plan.passages_after += kept.passage_count
        else:
            unread.append((relative, path, st.st_size, st.st_mtime_ns))
    root = display_root(folder)
    done = len(listing.files) - len(unread)
    for batch in _batches(unread):
        parsed = await asyncio.to_thread(_parse_batch, batch, root)
        for (relative, _, size, mtime), result in zip(batch, parsed, strict=True):
            if isinstance(result, CorpusError):
                problems.extend(result.problems)
                continue
            if result.slug in final:
                other = final[result.slug][2]
                problems.append(
                    Problem(
                        result.path,
                        1,
                        f"duplicate slug {result.slug!r}: {root}/{other} already uses it",
                    )
                )
                continue
            final[result.slug] = (result.kind, result.content_hash, relative)
            plan.passages_after += len(result.passages)
            known = plan.stored.get(result.slug)
            if known and known.content_hash == result.content_hash and not force:
                plan.moved.append((result.slug, relative, size, mtime, result.path))
            else:
                await _stage_document(session, result, relative, size, mtime)
                plan.staged_counts[result.slug] = len(result.passages)
                (plan.changed if known else plan.added).append(result.slug)
        done += len(batch)
        if progress:
            progress(done, len(listing.files))
    if not listing.files and not problems:
        problems.append(no_documents(folder))
    if problems:
        raise CorpusError(problems)
    plan.removed = sorted(set(plan.stored) - set(final))
    plan.added.sort()
    plan.changed.sort()
    plan.documents = len(final)
    plan.passages_before = sum(k.passage_count for k in plan.stored.values())
    plan.fingerprint = corpus_fingerprint((kind, slug, h) for slug, (kind, h, _) in final.items())
    plan.not_documents = tuple(str(p) for p in listing.skipped)
    return plan


def _batches(files: list[tuple[str, Path, int, int]]) -> list[list[tuple[str, Path, int, int]]]:
    batches: list[list[tuple[str, Path, int, int]]] = [[]]
    size = 0
    for entry in files:
        if batches[-1] and size + entry[2] > BATCH_BYTES:
            batches.append([])
            size = 0
        batches[-1].append(entry)
        size += entry[2]
    return [b for b in batches if b]


def _parse_batch(
    batch: list[tuple[str, Path, int, int]], root: str
) -> list[Document | CorpusError]:
    results: list[Document | CorpusError] = []
    for relative, path, _, _ in batch:
        try:
            results.append(parse_file(path, display=f"{root}/{relative}"))
        except CorpusError as error:
            results.append(error)
    return results


async def _stage_document(
    session: Database, doc: Document, file: str, size: int, mtime_ns: int
) -> None:
    await session.run(
        "INSERT INTO staged_documents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (doc.slug, doc.title, doc.author, doc.kind, doc.source, doc.note, doc.path, file, size,
         mtime_ns, doc.content_hash, len(doc.passages)),
    )  # fmt: skip
    await session.run_many(
        "INSERT INTO staged_passages VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        _passage_rows(doc),
    )


def _passage_rows(doc: Document) -> list[tuple[Any, ...]]:
    seen: dict[str, int] = {}
    rows = []
    for p in doc.passages:
        key = author_seq = None
        if p.author:
            key = author_key(p.author)
            author_seq = seen.get(key, 0)
            seen[key] = author_seq + 1
        rows.append(
            (doc.slug, p.seq, p.id, p.unit, p.number, p.unit_total, p.author, key, author_seq,
             p.text)
        )  # fmt: skip
    return rows
