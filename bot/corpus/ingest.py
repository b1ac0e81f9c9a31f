"""Bringing the stored corpus up to date with the passages folder.

The new corpus is swapped in by one transaction on a second connection (readers keep the old
one until the commit) and bumps the corpus generation, which every process's caches are keyed
on. An invalid folder raises :class:`~bot.corpus.model.CorpusError` before anything is written.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.db import Database
from ..core.locks import held
from .files import folder_signature, load_corpus, scan
from .model import Corpus
from .random import author_key
from .store import GENERATION_KEY

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class IngestReport:
    """What an ingest did. ``skipped`` means the stored corpus was already up to date."""

    skipped: bool
    documents: int
    passages_before: int
    passages_after: int
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    vanished_ids: tuple[str, ...] = ()
    seconds: float = 0.0
    not_documents: tuple[str, ...] = ()  # warnings: things in the folder skipped as no documents


async def sync_corpus(
    db: Database,
    folder: Path,
    *,
    force: bool = False,
    progress: Callable[[int, int], None] | None = None,
    wait: float = 0.0,
) -> IngestReport:
    """Ingest ``folder`` if it changed; raise CorpusError (writing nothing) if it is invalid.

    A restart with an untouched folder compares only a signature of file names, sizes and
    modification times. When that differs, files are read and their content hashes decide.
    Only one process sharing the database does this at a time (the ``corpus`` lock): another
    one waits up to ``wait`` seconds, then raises :class:`~bot.core.locks.LockHeld`; once it
    has the lock it usually finds the folder already ingested, and does nothing.
    """
    async with held(db, "corpus", wait=wait):
        return await _sync(db, folder, force=force, progress=progress)


async def _sync(
    db: Database,
    folder: Path,
    *,
    force: bool,
    progress: Callable[[int, int], None] | None,
) -> IngestReport:
    listing = await asyncio.to_thread(scan, folder)
    signature = folder_signature(listing)
    skipped = tuple(str(p) for p in listing.skipped)
    if not force and signature == await _meta(db, "signature"):
        return await _unchanged(db, skipped)
    corpus = await asyncio.to_thread(load_corpus, folder, progress, listing)
    if not force and corpus.fingerprint == await _meta(db, "fingerprint"):
        await db.run(
            "INSERT OR REPLACE INTO corpus_meta (key, value) VALUES ('signature', ?)", (signature,)
        )
        return await _unchanged(db, skipped)
    return await replace_corpus(db, corpus, signature=signature)


async def preview_replace(db: Database, corpus: Corpus) -> IngestReport:
    """What :func:`replace_corpus` would change, without changing anything."""
    report = await _diff(db, corpus)
    if corpus.fingerprint == await _meta(db, "fingerprint"):
        before = report.passages_before
        notes = report.not_documents
        return IngestReport(True, report.documents, before, before, not_documents=notes)
    return report


async def replace_corpus(
    db: Database, corpus: Corpus, *, signature: str | None = None
) -> IngestReport:
    """Swap in ``corpus`` in one transaction; on any error the previous corpus stays."""
    started = time.perf_counter()
    async with db.transaction(cache_mib=256) as writer:
        report = await _diff(writer, corpus)
        await _write(writer, corpus)
        await writer.run_many(
            "INSERT OR REPLACE INTO corpus_meta (key, value) VALUES (?, ?)",
            [("fingerprint", corpus.fingerprint), ("signature", signature or "")],
        )
        await writer.run(
            """INSERT INTO corpus_meta (key, value) VALUES (?, '1') ON CONFLICT (key)
            DO UPDATE SET value = CAST(value AS INTEGER) + 1""",
            (GENERATION_KEY,),
        )
    seconds = time.perf_counter() - started
    log.info(
        "Corpus replaced: %d documents, %d passages in %.2fs",
        report.documents,
        report.passages_after,
        seconds,
    )
    return IngestReport(
        False,
        report.documents,
        report.passages_before,
        report.passages_after,
        report.added,
        report.removed,
        report.changed,
        report.vanished_ids,
        seconds,
        report.not_documents,
    )


async def _meta(db: Database, key: str) -> str | None:
    row = await db.one("SELECT value FROM corpus_meta WHERE key = ?", (key,))
    return str(row[0]) if row else None


async def _unchanged(db: Database, skipped: tuple[str, ...]) -> IngestReport:
    row = await db.one(
        "SELECT (SELECT count(*) FROM documents), (SELECT coalesce(max(rowid), 0) FROM passages)"
    )
    log.info("Corpus unchanged: %d documents, %d passages", row[0], row[1])
    return IngestReport(True, int(row[0]), int(row[1]), int(row[1]), not_documents=skipped)


async def _diff(db: Database, corpus: Corpus) -> IngestReport:
    """What replacing the stored corpus with ``corpus`` would change (nothing is written)."""
    old: dict[str, str] = dict(await db.all("SELECT slug, content_hash FROM documents"))
    before = int((await db.one("SELECT coalesce(max(rowid), 0) FROM passages"))[0])
    new = {d.slug: d.content_hash for d in corpus.documents}
    added = tuple(sorted(set(new) - set(old)))
    removed = tuple(sorted(set(old) - set(new)))
    changed = tuple(sorted(s for s in set(old) & set(new) if old[s] != new[s]))
    vanished: list[str] = []
    if removed or changed:
        gone = list(removed) + list(changed)
        marks = ",".join("?" * len(gone))
        rows = await db.all(
            f"""SELECT p.id FROM passages AS p JOIN documents AS d ON d.id = p.document_id
            WHERE d.slug IN ({marks}) ORDER BY p.rowid""",
            gone,
        )
        new_ids = {p.id for d in corpus.documents if d.slug in changed for p in d.passages}
        vanished = [r[0] for r in rows if r[0] not in new_ids]
    return IngestReport(
        False,
        len(corpus.documents),
        before,
        corpus.passage_count,
        added,
        removed,
        changed,
        tuple(vanished),
        not_documents=tuple(str(p) for p in corpus.skipped),
    )


async def _write(db: Database, corpus: Corpus) -> None:
    await db.run("INSERT INTO passages_fts (passages_fts) VALUES ('delete-all')")
    for table in ("passages", "documents", "authors", "kinds"):
        await db.run(f"DELETE FROM {table}")

    authors: dict[str, list[int]] = {}  # key -> [id, count]
    names: dict[str, str] = {}
    for doc in corpus.documents:
        for p in doc.passages:
            if p.author:
                key = author_key(p.author)
                names.setdefault(key, p.author)
                entry = authors.setdefault(key, [len(authors) + 1, 0])
                entry[1] += 1
    await db.run_many(
        "INSERT INTO authors (id, name, key, passage_count) VALUES (?, ?, ?, ?)",
        [(ident, names[key], key, count) for key, (ident, count) in authors.items()],
    )

    kinds: dict[str, list[int]] = {}
    document_rows = []
    rowid = 1
    for doc_id, doc in enumerate(corpus.documents, 1):  # corpus is sorted by (kind, slug)
        document_rows.append(
            (
                doc_id,
                doc.slug,
                doc.title,
                doc.author,
                doc.kind,
                doc.source,
                doc.note,
                doc.path,
                doc.content_hash,
                rowid,
                len(doc.passages),
            )
        )
        kinds.setdefault(doc.kind, [rowid, 0])[1] += len(doc.passages)
        rowid += len(doc.passages)
    await db.run_many(
        "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", document_rows
    )
    await db.run_many(
        "INSERT INTO kinds (kind, first_rowid, passage_count) VALUES (?, ?, ?)",
        [(kind, first, count) for kind, (first, count) in kinds.items()],
    )
    await db.run_many(
        "INSERT INTO passages VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        passage_rows(corpus, authors),
    )
    await db.run("INSERT INTO passages_fts (passages_fts) VALUES ('rebuild')")


def passage_rows(corpus: Corpus, authors: dict[str, list[int]]) -> Iterable[tuple[Any, ...]]:
    """The ``passages`` table's rows, dense rowids in corpus order."""
    rowid = 0
    seen: dict[str, int] = {}
    for doc_id, doc in enumerate(corpus.documents, 1):
        for p in doc.passages:
            rowid += 1
            author_id = author_ord = None
            if p.author:
                key = author_key(p.author)
                author_id = authors[key][0]
                author_ord = seen.get(key, 0)
                seen[key] = author_ord + 1
            yield (
                rowid,
                p.id,
                doc_id,
                p.seq,
                p.unit,
                p.number,
                p.unit_total,
                author_id,
                author_ord,
                p.text,
            )
