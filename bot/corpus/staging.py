"""Step one of a reload: check every changed file and stage it, writing nothing to the corpus.

Files whose size and modification time match what is stored are not read. Every other file is
read, parsed and validated, and its passages go into ``TEMP`` tables of the reload's own
connection (SQLite spills them to a temporary file): one batch of files in memory at a time,
however large the corpus, and all of it checked before step two (``apply.py``) changes
anything. A problem anywhere raises :class:`~bot.corpus.model.CorpusError`.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.db import Database
from .files import (
    Listing,
    display_root,
    duplicate_slug,
    parse_file,
    raise_problems,
    read_file,
)
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
    path TEXT, file TEXT, file_size INTEGER, file_mtime_ns INTEGER, file_ctime_ns INTEGER,
    file_ino INTEGER, content_hash TEXT, passage_count INTEGER, first_staged INTEGER);
CREATE TEMP TABLE staged_passages (
    rowid INTEGER PRIMARY KEY, seq INTEGER, id TEXT, unit TEXT, number INTEGER,
    unit_total INTEGER, author TEXT, author_key TEXT, author_seq INTEGER, text TEXT);
"""


#: What parsing one file gives: its documents row and passage rows, or what is wrong with it.
Parsed = tuple[tuple[Any, ...], list[tuple[Any, ...]]] | CorpusError | str
#: A file as last read: size, mtime, ctime (which ``touch -d`` cannot set back) and inode.
FileStat = tuple[int, int, int, int]
#: A file to read: its relative path, path, stat, and the content hash of the document stored
#: from it (None: none, or every file is to be parsed).
Unread = tuple[str, Path, FileStat, str | None]
#: What parsing gives for a file whose bytes hash to the stored document's: nothing to parse.
SAME = "same bytes"
#: A file modified this recently may change again within the same clock tick without its
#: times showing it: its stat is stored as "unknown", so the next reload reads it again.
RACY_NS = 2_000_000_000


def file_stat(st: os.stat_result, read_at_ns: int) -> FileStat:
    """What is stored of ``st``; the mtime is -1 (never matches) when it is too recent."""
    recent = max(st.st_mtime_ns, st.st_ctime_ns) >= read_at_ns - RACY_NS
    inode = st.st_ino & ((1 << 63) - 1)  # NFS and overlayfs inodes can pass SQLite's range
    return (st.st_size, -1 if recent else st.st_mtime_ns, st.st_ctime_ns, inode)


@dataclass(frozen=True, slots=True)
class StoredFile:
    """What the corpus remembers of one document's file."""

    slug: str
    kind: str
    file: str
    stat: FileStat
    content_hash: str
    passage_count: int
    path: str


@dataclass(slots=True)
class Plan:
    """What a reload will change. Staged documents are in the session's TEMP tables."""

    documents: int = 0
    passages_before: int = 0
    passages_after: int = 0
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    #: Same content under a new file name or stat: ``(slug, file, stat, path)``, only the
    #: documents row is updated.
    moved: list[tuple[str, str, FileStat, str]] = field(default_factory=list)
    stored: dict[str, StoredFile] = field(default_factory=dict)  # by slug
    staged_counts: dict[str, int] = field(default_factory=dict)  # by slug
    staged_kinds: dict[str, str] = field(default_factory=dict)  # by slug
    staged_rows: int = 0  # rows in staged_passages, a document's rows being consecutive
    fingerprint: str = ""
    not_documents: tuple[str, ...] = ()

    @property
    def changes_passages(self) -> bool:
        return bool(self.added or self.removed or self.changed)


async def stored_files(db: Database) -> dict[str, StoredFile]:
    rows = await db.all(
        """SELECT slug, kind, file, file_size, file_mtime_ns, file_ctime_ns, file_ino,
        content_hash, passage_count, path FROM documents"""
    )
    return {r[0]: StoredFile(r[0], r[1], r[2], tuple(r[3:7]), r[7], r[8], r[9]) for r in rows}


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
    unread: list[Unread] = []
    read_at = time.time_ns()
    for relative, path, st in listing.files:
        stat = file_stat(st, read_at)
        claims = by_file.get(relative, [])
        # Trusted only when one stored document claims the file (two can, after a reload
        # died half way) and nothing of its stat moved.
        if not force and len(claims) == 1 and claims[0].stat == stat and stat[1] != -1:
            final[claims[0].slug] = (claims[0].kind, claims[0].content_hash, relative)
            plan.passages_after += claims[0].passage_count
        else:
            same_as = claims[0].content_hash if len(claims) == 1 and not force else None
            unread.append((relative, path, stat, same_as))
    root = display_root(folder)
    done = len(listing.files) - len(unread)
    async for batch, parsed in _parsed(unread, root):
        for (relative, _, stat, _), result in zip(batch, parsed, strict=True):
            if isinstance(result, CorpusError):
                problems.extend(result.problems)
                continue
            if result == SAME:  # touched, copied or racy, not changed: remember its new stat
                claim = by_file[relative][0]
                if claim.slug in final:
                    first = f"{root}/{final[claim.slug][2]}"
                    problems.append(duplicate_slug(f"{root}/{relative}", claim.slug, first))
                    continue
                final[claim.slug] = (claim.kind, claim.content_hash, relative)
                plan.passages_after += claim.passage_count
                if claim.stat != stat:
                    plan.moved.append((claim.slug, relative, stat, claim.path))
                continue
            assert not isinstance(result, str)
            meta, rows = result
            slug, doc_path, kind, content_hash = meta[0], meta[6], meta[3], meta[7]
            if slug in final:
                problems.append(duplicate_slug(doc_path, slug, f"{root}/{final[slug][2]}"))
                continue
            final[slug] = (kind, content_hash, relative)
            plan.passages_after += len(rows)
            known = plan.stored.get(slug)
            if known and known.content_hash == content_hash and not force:
                if (known.file, known.stat, known.path) != (relative, stat, doc_path):
                    plan.moved.append((slug, relative, stat, doc_path))
            else:
                await session.run(
                    f"INSERT INTO staged_documents VALUES ({', '.join('?' * 15)})",
                    (*meta[:7], relative, *stat, content_hash, len(rows),
                     plan.staged_rows + 1),
                )  # fmt: skip
                await session.run_many(_STAGE_PASSAGE, rows)
                plan.staged_rows += len(rows)
                plan.staged_counts[slug] = len(rows)
                plan.staged_kinds[slug] = kind
                (plan.changed if known else plan.added).append(slug)
        done += len(batch)
        if progress:
            progress(done, len(listing.files))
    raise_problems(folder, listing, problems)
    plan.removed = sorted(set(plan.stored) - set(final))
    plan.added.sort()
    plan.changed.sort()
    plan.documents = len(final)
    plan.passages_before = sum(k.passage_count for k in plan.stored.values())
    plan.fingerprint = corpus_fingerprint((kind, slug, h) for slug, (kind, h, _) in final.items())
    plan.not_documents = tuple(str(p) for p in listing.skipped)
    return plan


def _batches(files: list[Unread]) -> list[list[Unread]]:
    batches: list[list[Unread]] = [[]]
    size = 0
    for entry in files:
        if batches[-1] and size + entry[2][0] > BATCH_BYTES:
            batches.append([])
            size = 0
        batches[-1].append(entry)
        size += entry[2][0]
    return [b for b in batches if b]


async def _parsed(
    files: list[Unread], root: str
) -> AsyncIterator[tuple[list[Unread], list[Parsed]]]:
    """Each batch of ``files`` with what parsing (in a worker thread) made of it."""
    for batch in _batches(files):
        yield batch, await asyncio.to_thread(parse_batch, batch, root)


def parse_batch(batch: list[Unread], root: str) -> list[Parsed]:
    """Parse each file of ``batch`` into its staged_documents values (less the file's) and
    staged_passages rows, or the CorpusError saying what is wrong with it."""
    results: list[Parsed] = []
    for relative, path, _, same_as in batch:
        try:
            raw = read_file(path, f"{root}/{relative}")
            if same_as is not None and hashlib.sha256(raw).hexdigest() == same_as:
                results.append(SAME)
                continue
            doc = parse_file(path, display=f"{root}/{relative}", raw=raw)
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
