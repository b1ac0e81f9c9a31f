"""Owner operations without discord.py: reload the corpus, report on the running bot, audit.

The Discord cog, the shell (``lectern``) and the SIGHUP handler all call :class:`AdminService`,
so a reload behaves the same way whoever asks for it, and every one is audited.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from . import __version__
from .config import Settings
from .corpus import CorpusError, load_corpus
from .ingest import sync_corpus
from .render import Attachment, Card, Field, Reply, clip, escape_markdown
from .service import ERROR_COLOR, Lectern
from .store import IngestReport, Store

OK_COLOR = 0x30A46C


@dataclass(frozen=True, slots=True)
class Actor:
    """Who asked: a Discord user, the shell, or a signal."""

    name: str
    user_id: int | None = None
    guild_id: int | None = None


@dataclass(frozen=True, slots=True)
class RuntimeStats:
    """What only the running bot knows, handed to :meth:`AdminService.stats`."""

    uptime_seconds: float
    guilds: int
    latency_ms: float | None
    answered: int
    failed: int
    daily: dict[str, int] = field(default_factory=dict)


class AdminService:
    def __init__(self, store: Store, settings: Settings, lectern: Lectern) -> None:
        self.store = store
        self.settings = settings
        self.lectern = lectern
        self._lock = asyncio.Lock()  # one reload at a time, whoever asks

    async def reload(self, actor: Actor, *, dry_run: bool = False) -> Reply:
        """Re-read the passages folder; swap it in only if every file is valid."""
        action = "reload --dry-run" if dry_run else "reload"
        async with self._lock:
            folder = self.settings.passages_dir
            try:
                if dry_run:
                    corpus = await asyncio.to_thread(load_corpus, folder)
                    report = await self.store.preview_replace(corpus)
                    if corpus.fingerprint == await self.store.meta("fingerprint"):
                        report = IngestReport(
                            True, report.documents, report.passages_before, report.passages_before
                        )
                else:
                    report = await sync_corpus(self.store, folder)
            except CorpusError as error:
                await self._audit(actor, action, "refused", f"{len(error.problems)} problems")
                return problems_reply(error)
            if not dry_run:
                self.lectern.forget_cached_documents()
        detail = summary(report)
        await self._audit(actor, action, "ok", detail)
        return reload_reply(report, dry_run=dry_run)

    async def stats(self, runtime: RuntimeStats) -> Reply:
        stats = await self.store.stats()
        minutes, seconds = divmod(int(runtime.uptime_seconds), 60)
        hours, minutes = divmod(minutes, 60)
        latency = f"{runtime.latency_ms:.0f} ms" if runtime.latency_ms is not None else "n/a"
        daily = ", ".join(f"{k} {v}" for k, v in runtime.daily.items()) or "no schedules"
        recent = await self.store.audit_trail(5)
        audit = "\n".join(
            f"`{e.at}` {escape_markdown(e.actor)}: {escape_markdown(e.action)} → {e.result}"
            for e in recent
        )
        fields = (
            Field("Version", __version__, True),
            Field("Uptime", f"{hours}h {minutes:02d}m {seconds:02d}s", True),
            Field("Servers", str(runtime.guilds), True),
            Field("Gateway latency", latency, True),
            Field("Corpus", f"{stats.documents} documents, {stats.passages} passages", True),
            Field("Database", f"{stats.database_bytes / 1_048_576:.1f} MiB", True),
            Field("Interactions", f"{runtime.answered} answered, {runtime.failed} failed", True),
            Field("Daily posts", daily, True),
            Field("Recent admin actions", clip(audit or "none yet", 1024)),
        )
        return Reply(
            cards=(Card(title="Lectern status", description="", fields=fields),), ephemeral=True
        )

    async def record(self, actor: Actor, action: str, result: str, detail: str = "") -> None:
        await self._audit(actor, action, result, detail)

    async def _audit(self, actor: Actor, action: str, result: str, detail: str) -> None:
        await self.store.record_audit(
            actor=actor.name,
            actor_id=actor.user_id,
            guild_id=actor.guild_id,
            action=action,
            result=result,
            detail=detail,
        )


def summary(report: IngestReport) -> str:
    """One line: what a reload changed."""
    if report.skipped:
        return f"unchanged ({report.passages_after} passages)"
    parts = [f"{report.passages_before} → {report.passages_after} passages"]
    for label, slugs in (
        ("added", report.added),
        ("removed", report.removed),
        ("changed", report.changed),
    ):
        if slugs:
            parts.append(f"{label} {', '.join(slugs)}")
    return "; ".join(parts)


def reload_reply(report: IngestReport, *, dry_run: bool) -> Reply:
    if report.skipped:
        title = "Nothing to reload" if not dry_run else "Dry run: nothing would change"
        text = f"The passages folder matches the corpus ({report.passages_after} passages)."
        return Reply(cards=(Card(title=title, description=text, color=OK_COLOR),), ephemeral=True)
    title = "Dry run: this is what would change" if dry_run else "Corpus reloaded"
    fields = [Field("Passages", f"{report.passages_before} → {report.passages_after}", True)]
    for label, slugs in (
        ("Added", report.added),
        ("Removed", report.removed),
        ("Changed", report.changed),
    ):
        if slugs:
            fields.append(Field(label, clip(", ".join(f"`{s}`" for s in slugs), 1000), True))
    if report.vanished_ids:
        ids = ", ".join(f"`{i}`" for i in report.vanished_ids)
        fields.append(
            Field(f"Ids that no longer exist ({len(report.vanished_ids)})", clip(ids, 1000))
        )
    text = (
        "Nothing was changed."
        if dry_run
        else f"Swapped in one transaction in {report.seconds:.2f} s. Buttons on old messages keep "
        "working; those pointing at vanished passages say so."
    )
    return Reply(
        cards=(Card(title=title, description=text, fields=tuple(fields), color=OK_COLOR),),
        ephemeral=True,
    )


def problems_reply(error: CorpusError) -> Reply:
    """Every problem, ``file:line: message``; the full list as a file when it is long."""
    lines = [str(p) for p in error.problems]
    text = "\n".join(lines)
    head = (
        f"**{len(lines)} problem{'s' if len(lines) != 1 else ''} in the passages folder. "
        "Nothing was changed: the bot keeps serving the current corpus.**\n"
    )
    body = clip(escape_markdown(text), 3500)
    attachment = (
        Attachment("problems.txt", (text + "\n").encode())
        if len(body) < len(escape_markdown(text))
        else None
    )
    card = Card(title="Reload refused", description=head + body, color=ERROR_COLOR)
    return Reply(cards=(card,), ephemeral=True, attachment=attachment)
