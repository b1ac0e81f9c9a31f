"""Step one of a reload: check every changed file and stage it, writing nothing to the corpus.

Files whose size and modification time match what is stored are not read. Every other file is
read, parsed and validated, and its passages go into ``TEMP`` tables of the reload's own
connection (SQLite spills them to a temporary file): one batch of files in memory at a time,
however large the corpus, and all of it checked before step two (``apply.py``) changes
anything. A problem anywhere raises :class:`~bot.corpus.model.CorpusError`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.db import Database
from .files import Listing, display_root, no_documents, parse_file
from .model import CorpusError, Document, Problem, corpus_fingerprint
from .random import author_key

#: Source bytes parsed per trip to the worker thread (and held in memory at once).
BATCH_BYTES = 4 * 1024 * 1024

_STAGE_PASSAGE = """INSERT INTO staged_passages (seq, id, unit, number, unit_total, author,
    author_key, author_seq, text) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"""

_SCHEMA = """
DROP TABLE IF EXISTS temp.staged_documents;
DROP TABLE IF EXISTS temp.staged_passages;
CREATE TEMP TABLE staged_documents (
    slug TEXT PRIMARY KEY, title TEXT, author TEXT, kind TEXT, source TEXT, note TEXT,
    path TEXT, file TEXT, file_size INTEGER, file_mtime_ns INTEGER, content_hash TEXT,
    passage_count INTEGER, first_staged INTEGER);
CREATE TEMP TABLE staged_passages (
    rowid INTEGER PRIMARY KEY, seq INTEGER, id TEXT, unit TEXT, number INTEGER,
    unit_total INTEGER, author TEXT, author_key TEXT, author_seq INTEGER, text TEXT);
"""


#: What parsing one file gives: its documents row and passage rows, or what is wrong with it.
Parsed = tuple[tuple[Any, ...], list[tuple[Any, ...]]] | CorpusError


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
    staged_rows: int = 0  # rows in staged_passages, a document's rows being consecutive
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
    async for batch, parsed in _parsed(unread, root):
        for (relative, _, size, mtime), result in zip(batch, parsed, strict=True):
            if isinstance(result, CorpusError):
                problems.extend(result.problems)
                continue
            meta, rows = result
            slug, doc_path, kind, content_hash = meta[0], meta[6], meta[3], meta[7]
            if slug in final:
                message = f"duplicate slug {slug!r}: {root}/{final[slug][2]} already uses it"
                problems.append(Problem(doc_path, 1, message))
                continue
            final[slug] = (kind, content_hash, relative)
            plan.passages_after += len(rows)
            known = plan.stored.get(slug)
            if known and known.content_hash == content_hash and not force:
                plan.moved.append((slug, relative, size, mtime, doc_path))
            else:
                await session.run(
                    "INSERT INTO staged_documents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (*meta[:7], relative, size, mtime, content_hash, len(rows),
                     plan.staged_rows + 1),
                )  # fmt: skip
                await session.run_many(_STAGE_PASSAGE, rows)
                plan.staged_rows += len(rows)
                plan.staged_counts[slug] = len(rows)
                (plan.changed if known else plan.added).append(slug)
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


async def _parsed(
    files: list[tuple[str, Path, int, int]], root: str
) -> AsyncIterator[tuple[list[tuple[str, Path, int, int]], list[Parsed]]]:
    """Each batch of ``files`` with what parsing (in a worker thread) made of it."""
    for batch in _batches(files):
        yield batch, await asyncio.to_thread(parse_batch, batch, root)


def parse_batch(batch: list[tuple[str, Path, int, int]], root: str) -> list[Parsed]:
    """Parse each file of ``batch`` into its staged_documents values (less the file's) and
    staged_passages rows, or the CorpusError saying what is wrong with it."""
    results: list[Parsed] = []
    for relative, path, _, _ in batch:
        try:
            doc = parse_file(path, display=f"{root}/{relative}")
        except CorpusError as error:
            results.append(error)
        else:
            meta = (doc.slug, doc.title, doc.author, doc.kind, doc.source, doc.note, doc.path,
                    doc.content_hash)  # fmt: skip
            results.append((meta, _passage_rows(doc)))
    return results


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
            (p.seq, p.id, p.unit, p.number, p.unit_total, p.author, key, author_seq, p.text)
        )
    return rows
