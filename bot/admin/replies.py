"""Replies of the owner operations: what a reload changed or why it was refused, the status."""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import __version__
from ..core.reply import ERROR_COLOR, OK_COLOR, Card, Field, Reply, text_files
from ..core.text import clip, escape_markdown
from ..corpus.ingest import IngestReport
from ..corpus.model import CorpusError
from ..corpus.store import CorpusStats
from .audit import AuditEntry


@dataclass(frozen=True, slots=True)
class RuntimeStats:
    """What only the running bot knows, handed to the status reply."""

    uptime_seconds: float
    guilds: int
    latency_ms: float | None
    answered: int
    failed: int
    daily: dict[str, int] = field(default_factory=dict)
    #: This process's shards: (shard id, latency in ms or None, guilds), and the total count.
    shards: tuple[tuple[int, float | None, int], ...] = ()
    shard_count: int = 1


def _changes(report: IngestReport) -> list[tuple[str, tuple[str, ...]]]:
    return [(k, v) for k, v in (("added", report.added), ("removed", report.removed),
            ("changed", report.changed)) if v]  # fmt: skip


def summary(report: IngestReport) -> str:
    """One line: what a reload changed."""
    if report.skipped:
        return f"unchanged ({report.passages_after} passages)"
    parts = [f"{report.passages_before} → {report.passages_after} passages"]
    parts += [f"{label} {', '.join(slugs)}" for label, slugs in _changes(report)]
    return "; ".join(parts)


def _not_documents(report: IngestReport) -> list[Field]:
    if not report.not_documents:
        return []
    text = clip(escape_markdown("\n".join(report.not_documents)), 1000)
    return [Field(f"Skipped: not documents ({len(report.not_documents)})", text)]


def reload_reply(report: IngestReport, *, dry_run: bool) -> Reply:
    if report.skipped:
        title = "Nothing to reload" if not dry_run else "Dry run: nothing would change"
        text = f"The passages folder matches the corpus ({report.passages_after} passages)."
        notes = tuple(_not_documents(report))
        card = Card(title=title, description=text, fields=notes, color=OK_COLOR)
        return Reply(cards=(card,), ephemeral=True)
    title = "Dry run: this is what would change" if dry_run else "Corpus reloaded"
    fields = [Field("Passages", f"{report.passages_before} → {report.passages_after}", True)]
    for label, slugs in _changes(report):
        fields.append(Field(label.title(), clip(", ".join(f"`{s}`" for s in slugs), 1000), True))
    if report.vanished_ids:
        ids = ", ".join(f"`{i}`" for i in report.vanished_ids)
        fields.append(Field(f"Ids that no longer exist ({report.vanished_count})", clip(ids, 1000)))
    fields += _not_documents(report)
    text = (
        "Nothing was changed."
        if dry_run
        else f"Done in {report.seconds:.2f} s, each changed document swapped whole. Buttons on "
        "old messages keep working; those pointing at vanished passages say so."
    )
    card = Card(title=title, description=text, fields=tuple(fields), color=OK_COLOR)
    return Reply(cards=(card,), ephemeral=True)


def busy_reply(busy: Exception) -> Reply:
    """/admin reload while another process of the cluster reloads: nothing was changed."""
    card = Card(
        title="Reload not started",
        description=f"The corpus is being reloaded already: {busy}. Nothing was changed here; "
        "every process sees the new corpus on its next command once that reload is done.",
        color=ERROR_COLOR,
    )
    return Reply(cards=(card,), ephemeral=True)


def problems_reply(error: CorpusError) -> Reply:
    """Every problem, ``file:line: message``; the full list as a file when it is long."""
    lines = [str(p) for p in error.problems]
    text = "\n".join(lines)
    head = (
        f"**{len(lines)} problem{'s' if len(lines) != 1 else ''} in the passages folder. "
        "Nothing was changed: the bot keeps serving the current corpus.**\n"
    )
    body = clip(escape_markdown(text), 3500)
    long = len(body) < len(escape_markdown(text))
    files = text_files("problems", ".txt", text + "\n") if long else ()
    if sum(len(f.data) for f in files) < len((text + "\n").encode()) and files:
        head += "(The attached list stops at 25 MiB; `lectern ingest --check` prints it all.)\n"
    card = Card(title="Reload refused", description=head + body, color=ERROR_COLOR)
    return Reply(cards=(card,), ephemeral=True, attachments=files)


def shard_lines(shards: tuple[tuple[int, float | None, int], ...]) -> str:
    """One line per shard: its id, gateway latency and guilds (the busiest 20; a field holds
    1,024 characters)."""
    if not shards:
        return "n/a"
    shown = sorted(shards, key=lambda s: -s[2])[:20]
    lines = [
        f"#{sid}: {f'{ms:.0f} ms' if ms is not None else 'connecting'}, {guilds} servers"
        for sid, ms, guilds in sorted(shown)
    ]
    if len(shards) > len(shown):
        lines.append(f"… and {len(shards) - len(shown)} more")
    return clip("\n".join(lines), 1024)


def stats_reply(stats: CorpusStats, runtime: RuntimeStats, recent: list[AuditEntry]) -> Reply:
    """/admin stats: version, uptime, servers, latency, corpus, database, what the bot did."""
    minutes, seconds = divmod(int(runtime.uptime_seconds), 60)
    hours, minutes = divmod(minutes, 60)
    latency = f"{runtime.latency_ms:.0f} ms" if runtime.latency_ms is not None else "n/a"
    daily = ", ".join(f"{k} {v}" for k, v in runtime.daily.items()) or "no schedules"
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
        Field(f"Shards here (of {runtime.shard_count})", shard_lines(runtime.shards)),
        Field("Recent admin actions", clip(audit or "none yet", 1024)),
    )
    return Reply(
        cards=(Card(title="Lectern status", description="", fields=fields),), ephemeral=True
    )
