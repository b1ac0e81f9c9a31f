"""Owner operations without discord.py: reload the corpus, report on the running bot.

The Discord cog, the shell (``lectern``) and the SIGHUP handler all call :class:`AdminService`,
so a reload behaves the same way whoever asks for it, and every one is audited.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from ..core.db import Database
from ..core.locks import LockHeld
from ..core.reply import Reply
from ..corpus.ingest import sync_corpus
from ..corpus.model import CorpusError
from ..corpus.store import CorpusStore
from .audit import Actor, AuditStore
from .replies import (
    RuntimeStats,
    busy_reply,
    problems_reply,
    reload_reply,
    stats_reply,
    summary,
)


class AdminService:
    def __init__(
        self, db: Database, corpus: CorpusStore, audit: AuditStore, passages_dir: Path
    ) -> None:
        self.db = db
        self.corpus = corpus
        self.audit = audit
        self.passages_dir = passages_dir
        self._lock = asyncio.Lock()  # one reload at a time in this process, whoever asks

    async def reload(self, actor: Actor, *, dry_run: bool = False) -> Reply:
        """Re-read the passages folder; swap it in only if every file is valid."""
        action = "reload --dry-run" if dry_run else "reload"
        async with self._lock:
            folder = self.passages_dir
            try:
                report = await sync_corpus(self.db, folder, dry_run=dry_run)
            except CorpusError as error:
                await self.audit.record(actor, action, "refused", f"{len(error.problems)} problems")
                return problems_reply(error)
            except LockHeld as busy:  # another process of the cluster is reloading
                await self.audit.record(actor, action, "refused", str(busy))
                return busy_reply(busy)
        await self.audit.record(actor, action, "ok", summary(report))
        return reload_reply(report, dry_run=dry_run)

    async def stats(self, runtime: RuntimeStats) -> Reply:
        """/admin stats: the corpus and database from here, the rest from the running bot."""
        return stats_reply(await self.corpus.stats(), runtime, await self.audit.trail(5))
