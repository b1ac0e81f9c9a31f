"""Bringing the stored corpus up to date with the passages folder.

A reload stages every changed file (``staging.py``: read, parsed and checked, nothing written)
and then swaps the changed documents in a few thousand passages per commit (``apply.py``),
bumping the corpus generation that every process's caches are keyed on. An invalid folder
raises :class:`~bot.corpus.model.CorpusError` before anything is written. Unchanged files are
not read, so editing one document of a large corpus costs that document.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..core.db import Database
from ..core.locks import held
from .apply import apply_plan
from .files import Listing, folder_signature, scan
from .model import PARSER_VERSION
from .staging import RACY_NS, Plan, stage

log = logging.getLogger(__name__)

#: Vanished ids a report lists (it counts them all).
VANISHED_SHOWN = 50
#: Page cache of a reload's connection: enough for the index pages it touches, bounded.
RELOAD_CACHE_MIB = 64


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
    vanished_ids: tuple[str, ...] = ()  # the first VANISHED_SHOWN of them
    seconds: float = 0.0
    not_documents: tuple[str, ...] = ()  # warnings: things in the folder skipped as no documents
    vanished_count: int = 0


async def sync_corpus(
    db: Database,
    folder: Path,
    *,
    force: bool = False,
    progress: Callable[[int, int], None] | None = None,
    wait: float = 0.0,
    dry_run: bool = False,
) -> IngestReport:
    """Ingest what changed in ``folder``; raise CorpusError (writing nothing) if it is invalid.

    A restart with an untouched folder compares only a signature of file names, sizes and
    modification times. When that differs, only files whose size or time changed are read,
    and their content hashes decide. ``force`` reads and rewrites every document. Only one
    process sharing the database does this at a time (the ``corpus`` lock): another one waits
    up to ``wait`` seconds, then raises :class:`~bot.core.locks.LockHeld`; once it has the lock
    it usually finds the folder already ingested, and does nothing. ``dry_run`` reports what
    would change and changes nothing.
    """
    async with held(db, "corpus", wait=wait):
        return await _sync(db, folder, force=force, progress=progress, dry_run=dry_run)


async def _sync(
    db: Database,
    folder: Path,
    *,
    force: bool,
    progress: Callable[[int, int], None] | None,
    dry_run: bool,
) -> IngestReport:
    started = time.perf_counter()
    listing = await asyncio.to_thread(scan, folder)
    # A file written a moment ago may change again unseen within its times' clock tick: the
    # signature is then stored as "" (it never matches) and the files are looked at again.
    signature = "" if _racy(listing) else folder_signature(listing)
    skipped = tuple(str(p) for p in listing.skipped)
    if await _meta(db, "parser") not in (None, str(PARSER_VERSION)):
        force = True  # the parser changed what files turn into: parse every one again
    if not force and signature and signature == await _meta(db, "signature"):
        return await _unchanged(db, skipped)
    async with db.session(cache_mib=RELOAD_CACHE_MIB) as session:
        # Checkpoint the write-ahead log every ~64 MB rather than every 4 MB: index pages
        # rewritten by several commits are then copied back once.
        await session.run("PRAGMA wal_autocheckpoint = 16000")
        plan = await stage(session, folder, listing, force=force, progress=progress)
        if not plan.changes_passages:
            if not dry_run:
                await apply_plan(session, plan, signature=signature)
            return await _unchanged(db, skipped)
        vanished, vanished_count = await _vanished(session, plan)
        if not dry_run:
            await apply_plan(session, plan, signature=signature)
    seconds = time.perf_counter() - started
    if not dry_run:
        log.info(
            "Corpus updated in %.2fs: %d documents, %d passages (%d added, %d changed, "
            "%d removed)",
            seconds, plan.documents, plan.passages_after, len(plan.added), len(plan.changed),
            len(plan.removed),
        )  # fmt: skip
    return IngestReport(
        False,
        plan.documents,
        plan.passages_before,
        plan.passages_after,
        tuple(plan.added),
        tuple(plan.removed),
        tuple(plan.changed),
        vanished,
        seconds,
        plan.not_documents,
        vanished_count,
    )


def _racy(listing: Listing) -> bool:
    recent = time.time_ns() - RACY_NS
    return any(max(st.st_mtime_ns, st.st_ctime_ns) >= recent for _, _, st in listing.files)


async def _vanished(session: Database, plan: Plan) -> tuple[tuple[str, ...], int]:
    """Passage ids of changed or removed documents that the new corpus no longer has."""
    if not (plan.changed or plan.removed):
        return (), 0
    await session.run("DROP TABLE IF EXISTS temp.staged_ids")
    await session.run("CREATE TEMP TABLE staged_ids (id TEXT PRIMARY KEY) WITHOUT ROWID")
    await session.run("INSERT OR IGNORE INTO staged_ids SELECT id FROM staged_passages")
    gone = json.dumps([*plan.changed, *plan.removed])
    # CROSS JOIN: the few documents first, then each one's rowid range (not a scan of all).
    where = """FROM documents AS d CROSS JOIN passages AS p
        ON p.rowid BETWEEN d.first_rowid AND d.first_rowid + d.passage_count - 1
        WHERE d.slug IN (SELECT value FROM json_each(?))
        AND NOT EXISTS (SELECT 1 FROM staged_ids AS s WHERE s.id = p.id)"""
    count = int((await session.one(f"SELECT count(*) {where}", (gone,)))[0])
    rows = await session.all(
        f"SELECT p.id {where} ORDER BY d.ord_start, p.rowid LIMIT ?", (gone, VANISHED_SHOWN)
    )
    return tuple(r[0] for r in rows), count


async def _meta(db: Database, key: str) -> str | None:
    row = await db.one("SELECT value FROM corpus_meta WHERE key = ?", (key,))
    return str(row[0]) if row else None


async def _unchanged(db: Database, skipped: tuple[str, ...]) -> IngestReport:
    row = await db.one("SELECT count(*), coalesce(sum(passage_count), 0) FROM documents")
    log.info("Corpus unchanged: %d documents, %d passages", row[0], row[1])
    return IngestReport(True, int(row[0]), int(row[1]), int(row[1]), not_documents=skipped)
