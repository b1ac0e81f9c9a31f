"""End-to-end latency of Lectern's commands through the real discord.py client and the fake Discord.

The metric is the fake's ``Interaction.elapsed``: seconds from sending INTERACTION_CREATE on the
gateway to receiving the bot's callback POST. Everything between is measured: the fake's JSON +
zlib-stream encoding, discord.py's gateway parsing and dispatch, the command tree, Lectern's
service and SQLite store, embed/view building, the HTTP request and the fake's validation.

A *floor bot* (a bare ``commands.Bot`` with Lectern's intents and one slash command answering
``"ok"``) runs through the same fake in the same process and the same run. Blocks alternate
(floor, Lectern 10k, floor, Lectern 100k, repeated ``--rounds`` times) so machine noise lands
on both; inside a Lectern block the commands are interleaved round-robin.

    python bench/bench_e2e.py                          # 10k and 100k passages, 300 iterations
    python bench/bench_e2e.py --sizes 10000 --iterations 100

Corpora come from ``bench/corpus_gen.py`` (written under ``bench/.cache/e2e/``), each ingested
once into ``bench/.cache/e2e/db-N/lectern.sqlite3`` and reused while the corpus is unchanged.
Targets (from the issue): p50 <= 1.5x the floor's p50 for every command; p99 < 25 ms at 100k.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import platform
import random
import sqlite3
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
for _p in (str(ROOT), str(BENCH)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import discord  # noqa: E402
from discord.ext import commands  # noqa: E402

from bot.core.db import Database  # noqa: E402
from bot.core.reply import ERROR_COLOR, Button, Card, Reply  # noqa: E402
from bot.corpus.ingest import sync_corpus  # noqa: E402
from bot.discord import answer as discord_ui  # noqa: E402
from tests.fakediscord import FakeDiscord, Guild, Interaction, Member  # noqa: E402
from tests.lectern_harness import run_lectern  # noqa: E402

CACHE = BENCH / ".cache" / "e2e"
P50_RATIO_TARGET = 1.5
P99_TARGET_MS = 25.0
P99_TARGET_SIZE = 100_000
WARMUP = 10  # unmeasured runs of every command at the start of each block
SETTLE_EVERY = 20  # iterations between two settle() calls (collect + freeze) inside a block


# ------------------------------------------------------------------------------ corpora


def corpus_folder(size: int) -> Path:
    """A Lectern Markdown corpus of ``size`` passages (bench/corpus_gen.py if present)."""
    try:
        from corpus_gen import generate  # type: ignore[import-not-found]
    except ImportError:  # pragma: no cover - corpus_gen.py ships beside this file
        return _small_generator(size)
    return generate(size, cache=CACHE)


def _small_generator(size: int) -> Path:
    """A fallback generator: Zipf-ish common words, four kinds, a few authors."""
    folder = CACHE / f"mini-corpus-{size}"
    marker = folder / ".complete"
    if marker.exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(size)
    words = (
        "the of and to a in is that it was light stone river water heart word voice "
        "silence morning hand house window road earth fire story storm star street stand "
        "strange stream step stair steady stay stir strong"
    ).split()
    weights = [1 / (i + 1) for i in range(len(words))]
    authors = ["Ada Birch", "Otto Frost", "Iris Hale", "Theo Marsh", "Rosa Quill"]
    kinds = ("poem", "essay", "journal", "thread")
    left, index = size, 0
    while left:
        index += 1
        count = min(left, rng.randint(100, 900))
        left -= count
        kind = kinds[index % 4]
        head = [
            "+++",
            f'title = "Doc {index}"',
            f'kind = "{kind}"',
            'source = "bench"',
            *([] if kind == "thread" else [f'author = "{rng.choice(authors)}"']),
            "+++",
        ]
        blocks = []
        for _ in range(count):
            text = " ".join(rng.choices(words, weights, k=rng.randint(20, 80))).capitalize() + "."
            blocks.append(f"## {rng.choice(authors)}\n\n{text}" if kind == "thread" else text)
        body = "\n".join(head) + "\n\n" + "\n\n".join(blocks) + "\n"
        (folder / f"{kind}-{index:05d}.md").write_text(body, encoding="utf-8")
    marker.write_text("ok")
    return folder


async def ingest(size: int, folder: Path) -> Path:
    """Ingest ``folder`` once into its own database folder (skipped when unchanged)."""
    db_dir = CACHE / f"db-{size}"
    db_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    async with await Database.open(db_dir / "lectern.sqlite3") as db:
        report = await sync_corpus(db, folder)
    what = "unchanged" if report.skipped else f"ingested in {time.perf_counter() - started:.1f}s"
    print(f"corpus {size:,}: {folder} -> {db_dir} ({report.passages_after:,} passages, {what})")
    return db_dir


@dataclass
class Workload:
    """Values the commands cycle through, read from the ingested database."""

    ids: list[str]
    docs: list[str]
    authors: list[str]
    common: list[str]
    rare: list[str]
    prefixes: list[str]
    id_prefixes: list[str]
    words_typed: list[str]
    doc_typed: list[str]


def workload(db_path: Path, seed: int) -> Workload:
    rng = random.Random(seed)
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        every = [r[0] for r in db.execute("SELECT rowid FROM passages")]  # sparse rowids
        rowids = rng.sample(every, min(len(every), 500))
        marks = ",".join("?" * len(rowids))
        # not the last passage of its document, so "Next ▶" is enabled
        ids = [
            r[0]
            for r in db.execute(
                f"""SELECT p.id FROM passages AS p JOIN documents AS d ON d.id = p.document_id
                WHERE p.rowid IN ({marks}) AND p.seq < d.passage_count""",
                rowids,
            )
        ]
        rng.shuffle(ids)
        titled = db.execute("SELECT slug, title FROM documents").fetchall()
        rng.shuffle(titled)
        docs = [slug for slug, _ in titled]
        # what a user types to find a document: "", a kind, parts of titles and slugs
        doc_typed = ["", "poem", "essay-0"] + [
            rng.choice(title.split())[:3].lower() for _, title in titled[:5]
        ]
        authors = [r[0] for r in db.execute("SELECT name FROM authors")]
        rng.shuffle(authors)

        def matches(term: str) -> int:
            sql = "SELECT count(*) FROM (SELECT 1 FROM passages_fts WHERE passages_fts MATCH ? "
            return int(db.execute(sql + "LIMIT 100)", (f'"{term}"',)).fetchone()[0])

        try:
            from corpus_gen import VOCAB  # type: ignore[import-not-found]
        except ImportError:  # pragma: no cover
            VOCAB = []
        # rare: a word of the long tail that matches 1-99 passages
        rare: list[str] = []
        for word in rng.sample(VOCAB[3000:], min(len(VOCAB) - 3000, 400)) if VOCAB else []:
            if 1 <= matches(word) < 100:
                rare.append(word)
            if len(rare) == 20:
                break
        common = [
            "light",
            "stone river",
            "heart",
            "water",
            "silence",
            "morning voice",
            "night",
            "world",
        ]
        common = [w for w in common if all(matches(x) for x in w.split())] or ["light"]
        tail = [w for w in (VOCAB[400:] or ["stone"]) if len(w) >= 5]
        words_typed = [w for w in rng.sample(tail, min(len(tail), 200)) if matches(w)][:20]
    finally:
        db.close()
    return Workload(
        ids=ids,
        docs=docs,
        authors=authors[:50],
        common=common,
        rare=rare or ["stone"],
        prefixes=["st*", "str*", "sh*", "br*", "gr*", "wh*"],
        id_prefixes=[i.rsplit("-", 1)[0][: rng.randint(4, 12)] for i in ids[:40]],
        words_typed=words_typed or ["light"],
        doc_typed=doc_typed,
    )


# ------------------------------------------------------------------------------ the floor bot


#: A constant passage-sized reply (embed + the two button rows of /passage), for /ping_rich.
RICH = Reply(
    cards=(
        Card(
            title="A Constant Title",
            author="Ada Birch",
            description=("Light on the stone river, and the morning voice of water. " * 8).strip(),
            footer="paragraph 3 of 120 · essay-00001-light-3",
        ),
    ),
    rows=(
        (
            Button("◀ Previous", "lx:prev:essay-00001-light-3"),
            Button("Next ▶", "lx:next:essay-00001-light-3"),
            Button("Whole document", "lx:whole:essay-00001-light-3"),
            Button("More like this", "lx:more:essay-00001-light-3"),
        ),
        (Button("Share", "lx:share:essay-00001-light-3", "success"),),
    ),
)


class FloorBot(commands.Bot):
    """Lectern's intents and mention policy, one slash command answering a constant string.

    ``/ping`` is the floor. ``/ping_rich`` (a reference, not the floor) answers a constant
    passage-sized embed with buttons through Lectern's own ``discord_ui.send``: the cost of the
    payload alone, without Lectern's service or store.
    """

    def __init__(self) -> None:
        intents = discord.Intents.none()
        intents.guilds = True
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            allowed_mentions=discord.AllowedMentions.none(),
            help_command=None,
        )

        @self.tree.command(name="ping", description="Answers ok")
        async def ping(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("ok")

        @self.tree.command(name="ping_rich", description="Answers a constant embed")
        async def ping_rich(interaction: discord.Interaction) -> None:
            await discord_ui.send(interaction, RICH)


# ------------------------------------------------------------------------------ measuring


@dataclass
class Case:
    """One benchmarked interaction kind: ``run(i)`` sends the i-th variant and returns it."""

    name: str
    run: Callable[[int], Awaitable[Interaction]]
    samples: list[float] = field(default_factory=list)
    errors: int = 0
    empty: int = 0


def _is_error(inter: Interaction) -> bool:
    embeds = inter.data.get("embeds") or []
    return bool(embeds) and embeds[0].get("color") == ERROR_COLOR


def lectern_cases(
    fake: FakeDiscord, guild: Guild, member: Member, w: Workload
) -> tuple[list[Case], Callable[[], None]]:
    """The Lectern cases. Button clicks reuse the message of the latest /passage reply."""
    last_passage: dict[str, Any] = {}

    def slash(name: str, options: dict[str, Any] | None = None) -> Awaitable[Interaction]:
        return fake.slash(name, guild=guild, user=member, options=options)

    def auto(name: str, focused: str, value: str) -> Awaitable[Interaction]:
        return fake.autocomplete(name, focused=focused, value=value, guild=guild, user=member)

    def pick(values: list[str], i: int) -> str:
        return values[i % len(values)]

    async def passage(i: int) -> Interaction:
        reply = await slash("passage", {"id": pick(w.ids, i)})
        last_passage["message"] = reply.original
        last_passage["id"] = pick(w.ids, i)
        return reply

    def click(action: str) -> Callable[[int], Awaitable[Interaction]]:
        def run(i: int) -> Awaitable[Interaction]:
            custom_id = f"lx:{action}:{last_passage['id']}"
            return fake.click(custom_id, message=last_passage["message"], user=member)

        return run

    cases = [
        Case("/quote", lambda i: slash("quote")),
        Case("/quote author:", lambda i: slash("quote", {"author": pick(w.authors, i)})),
        Case("/quote document:", lambda i: slash("quote", {"document": pick(w.docs, i)})),
        Case("/search common", lambda i: slash("search", {"query": pick(w.common, i)})),
        Case("/search rare", lambda i: slash("search", {"query": pick(w.rare, i)})),
        Case("/search the (stopword)", lambda i: slash("search", {"query": "the"})),
        Case("/search prefix*", lambda i: slash("search", {"query": pick(w.prefixes, i)})),
        Case("/passage id:", passage),
        Case("click lx:next:<id>", click("next")),
        Case("click lx:more:<id>", click("more")),
        Case("/poem", lambda i: slash("poem")),
        Case("/read document:", lambda i: slash("read", {"document": pick(w.docs, i)})),
        Case("/reflection", lambda i: slash("reflection")),
        Case("/sources", lambda i: slash("sources")),
        Case("/about", lambda i: slash("about")),
        Case("ac /passage id (prefix)", lambda i: auto("passage", "id", pick(w.id_prefixes, i))),
        Case("ac /passage id (words)", lambda i: auto("passage", "id", pick(w.words_typed, i))),
        Case("ac /quote document", lambda i: auto("quote", "document", pick(w.doc_typed, i))),
    ]
    return cases, last_passage.clear


async def measure(case: Case, i: int, *, record: bool) -> None:
    inter = await case.run(i)
    elapsed = inter.elapsed
    if elapsed is None:
        raise AssertionError(f"{case.name}: no callback")
    if record:
        case.samples.append(elapsed)
        if inter.type == 4 and not inter.choices:
            case.empty += 1
        elif inter.type != 4 and _is_error(inter):
            case.errors += 1


class GcPauses:
    """Garbage-collector pauses while measuring (a long gen-2 pass shows up as a p99 outlier)."""

    def __init__(self) -> None:
        self.pauses: dict[int, list[float]] = {0: [], 1: [], 2: []}
        self._started = 0.0
        self.ignore = False

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if self.ignore:
            return
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.pauses[info["generation"]].append(time.perf_counter() - self._started)

    def summary(self) -> str:
        parts = []
        for generation, pauses in self.pauses.items():
            if pauses:
                parts.append(
                    f"gen{generation}: {len(pauses)} passes, max {max(pauses) * 1000:.1f} ms"
                )
        return "GC during the run: " + ("; ".join(parts) or "none")


GC_PAUSES = GcPauses()


def settle() -> None:
    """Every SETTLE_EVERY iterations: a full collection, then ``gc.freeze()``.

    The fake Discord keeps every payload, message and request it saw, so the heap grows by
    millions of objects over a run, and each gen-2 pass over them paused the loop for up to
    ~380 ms (54 ms with one freeze per block): an artifact of the harness, not of the bot.
    Freezing moves what exists now out of the collector's reach; garbage made between two
    settles is still collected by the normal gen-0/1/2 passes, and those pauses are counted.
    """
    GC_PAUSES.ignore = True
    gc.collect()
    gc.freeze()
    GC_PAUSES.ignore = False


def pct(samples: list[float], q: float) -> float:
    """Nearest-rank percentile, in ms."""
    ordered = sorted(samples)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1] * 1000


async def floor_block(fake: FakeDiscord, n: int, cases: list[Case]) -> None:
    settle()
    bot = FloorBot()
    async with fake.running(bot):
        await bot.tree.sync()
        for i in range(WARMUP + n):
            if i % SETTLE_EVERY == 0:
                settle()
            for case in cases:
                await measure(case, i, record=i >= WARMUP)


async def lectern_block(
    fake: FakeDiscord,
    guild: Guild,
    member: Member,
    db_dir: Path,
    passages: Path,
    cases: list[Case],
    reset: Callable[[], None],
    start: int,
    n: int,
) -> None:
    settle()
    reset()
    async with run_lectern(fake, db_dir, passages=passages, cooldown=0.0):
        for i in range(start, start + WARMUP + n):
            if (i - start) % SETTLE_EVERY == 0:
                settle()
            for case in cases:
                await measure(case, i, record=i >= start + WARMUP)


# ------------------------------------------------------------------------------ report


def machine_info() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"Machine: {os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}; SQLite {sqlite3.sqlite_version}; "
        f"discord.py {discord.__version__}"
    )


def report(
    sizes: list[int], floors: dict[int, list[Case]], results: dict[int, list[Case]]
) -> tuple[str, bool]:
    lines = [
        "| size | command | n | p50 ms | p99 ms | max ms | floor p50 ms | p50/floor "
        "| p50 ≤ 1.5× floor | p99 < 25 ms | notes |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---|---|---|",
    ]
    all_pass = True
    for size in sizes:
        floor, rich = floors[size]
        f50 = pct(floor.samples, 50)
        lines.append(
            f"| {size:,} | floor bot /ping | {len(floor.samples)} | {f50:.2f} "
            f"| {pct(floor.samples, 99):.2f} | {max(floor.samples) * 1000:.2f} | {f50:.2f} "
            "| 1.00 | – | – | the floor |"
        )
        lines.append(
            f"| {size:,} | ref: floor bot /ping_rich | {len(rich.samples)} "
            f"| {pct(rich.samples, 50):.2f} | {pct(rich.samples, 99):.2f} "
            f"| {max(rich.samples) * 1000:.2f} | {f50:.2f} | {pct(rich.samples, 50) / f50:.2f} "
            "| – | – | constant embed + 5 buttons, no Lectern logic (not a target) |"
        )
        for case in results[size]:
            p50, p99 = pct(case.samples, 50), pct(case.samples, 99)
            ratio = p50 / f50
            ok50 = ratio <= P50_RATIO_TARGET
            ok99: bool | None = p99 < P99_TARGET_MS if size >= P99_TARGET_SIZE else None
            all_pass &= ok50 and ok99 is not False
            notes = []
            if case.errors:
                notes.append(f"{case.errors} error replies")
            if case.empty:
                notes.append(f"{case.empty} empty choices")
            lines.append(
                f"| {size:,} | {case.name} | {len(case.samples)} | {p50:.2f} | {p99:.2f} "
                f"| {max(case.samples) * 1000:.2f} | {f50:.2f} | {ratio:.2f} "
                f"| {'PASS' if ok50 else 'FAIL'} "
                f"| {'–' if ok99 is None else ('PASS' if ok99 else 'FAIL')} | {'; '.join(notes)} |"
            )
    return "\n".join(lines), all_pass


# ------------------------------------------------------------------------------ main


async def run(args: argparse.Namespace) -> int:
    print(machine_info())
    sizes: list[int] = args.sizes
    prepared: dict[int, tuple[Path, Path, Workload]] = {}
    for size in sizes:
        folder = corpus_folder(size)
        db_dir = await ingest(size, folder)
        prepared[size] = (folder, db_dir, workload(db_dir / "lectern.sqlite3", args.seed))

    fake = FakeDiscord()
    await fake.start()
    guild = fake.add_guild("Bench", channels=["general"])
    member = guild.add_member("reader")
    floors = {
        size: [
            Case("floor bot /ping", lambda i: fake.slash("ping", guild=guild, user=member)),
            Case(
                "ref: floor bot /ping_rich",
                lambda i: fake.slash("ping_rich", guild=guild, user=member),
            ),
        ]
        for size in sizes
    }
    results: dict[int, list[Case]] = {}
    resets: dict[int, Callable[[], None]] = {}
    for size in sizes:
        results[size], resets[size] = lectern_cases(fake, guild, member, prepared[size][2])
    per_round = [
        args.iterations // args.rounds + (1 if r < args.iterations % args.rounds else 0)
        for r in range(args.rounds)
    ]
    started = time.perf_counter()
    gc_pauses = GC_PAUSES
    gc.callbacks.append(gc_pauses)
    try:
        done = 0
        for r, n in enumerate(per_round):
            for size in sizes:
                folder, db_dir, _ = prepared[size]
                await floor_block(fake, n, floors[size])
                await lectern_block(
                    fake, guild, member, db_dir, folder, results[size], resets[size], done, n
                )
                print(
                    f"  round {r + 1}/{args.rounds}, {size:,}: {n} iterations "
                    f"({time.perf_counter() - started:.0f}s)",
                    flush=True,
                )
            done += n + WARMUP
    finally:
        gc.callbacks.remove(gc_pauses)
        problems = fake.problems()
        await fake.stop()

    table, all_pass = report(sizes, floors, results)
    print()
    print(machine_info())
    print(
        f"Iterations per command: {args.iterations} (in {args.rounds} rounds, {WARMUP} warm-up "
        f"runs per block); cooldown 0; percentiles are nearest-rank."
    )
    print()
    print(table)
    print()
    print(f"Overall: {'PASS' if all_pass else 'FAIL'}")
    print(gc_pauses.summary() + " (the collect + freeze between iterations is not counted).")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"Load average at the end (1, 5, 15 min): {load}; {time.perf_counter() - started:.0f}s")
    if problems:
        print(f"\nWARNING: the fake Discord recorded {len(problems)} problem(s):")
        for p in problems[:50]:
            print(f"  {p}")
    else:
        print(
            "The fake Discord recorded no breaches, unexpected routes or unanswered interactions."
        )
    return 0 if all_pass and not problems else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--iterations", type=int, default=300, help="measured runs per command")
    parser.add_argument("--rounds", type=int, default=3, help="alternating floor/Lectern blocks")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
