"""Bring the stored corpus up to date with the passages folder, doing no work when unchanged."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

from .corpus import folder_signature, load_corpus
from .store import IngestReport, Store

log = logging.getLogger(__name__)


async def sync_corpus(
    store: Store,
    folder: Path,
    *,
    force: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> IngestReport:
    """Ingest ``folder`` into ``store`` if it changed; raise CorpusError (writing nothing) if bad.

    A restart with an untouched folder compares only a signature of file names, sizes and
    modification times. When that differs, files are read and their content hashes decide.
    """
    signature = await asyncio.to_thread(folder_signature, folder)
    if not force and signature == await store.meta("signature"):
        return await _unchanged(store)
    corpus = await asyncio.to_thread(load_corpus, folder, progress)
    if not force and corpus.fingerprint == await store.meta("fingerprint"):
        await store.remember_signature(signature)
        return await _unchanged(store)
    return await store.replace_corpus(corpus, signature=signature)


async def _unchanged(store: Store) -> IngestReport:
    stats = await store.stats()
    log.info("Corpus unchanged: %d documents, %d passages", stats.documents, stats.passages)
    return IngestReport(True, stats.documents, stats.passages, stats.passages)
