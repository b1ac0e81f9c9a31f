"""Incremental reloads: only changed files are read, only changed documents rewritten, corpus
order and random picks stay exact through any sequence of edits, and a reload that dies half
way leaves valid documents that the next one completes."""

from __future__ import annotations

import os
import random
import sqlite3
from pathlib import Path

import pytest

import bot.corpus.apply as apply_module
import bot.corpus.staging as staging_module
from bot.core.db import Database
from bot.corpus.files import load_corpus
from bot.corpus.ingest import sync_corpus
from bot.corpus.model import CorpusError
from bot.corpus.random import PassageFilter
from bot.corpus.store import CorpusStore
from tests.conftest import document_text

NAMES = ("Ann", "Bob", "Cy")


def _thread(rng: random.Random, n: int) -> str:
    return "\n\n".join(
        f"## {rng.choice(NAMES)}\n\nword{rng.randrange(9)} comment" for _ in range(n)
    )


def _write(folder: Path, slug: str, rng: random.Random) -> None:
    kind = rng.choice(("essay", "thread", "poem"))
    count = rng.randint(1, 12)
    if kind == "thread":
        body = _thread(rng, count)
        text = document_text(body, kind=kind, title=slug)
    else:
        body = "\n\n".join(f"{slug} line {i} word{rng.randrange(9)}" for i in range(count))
        text = document_text(body, kind=kind, title=slug, author=rng.choice(NAMES))
    (folder / f"{slug}.md").write_text(text, encoding="utf-8")


def parsed_files(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """From now on, the names of the files a reload parses (not those it only hashes)."""
    names: list[str] = []
    real_parse = staging_module.parse_file

    def spy(path: Path, display: str | None = None, raw: bytes | None = None) -> object:
        names.append(path.name)
        return real_parse(path, display, raw)

    monkeypatch.setattr(staging_module, "parse_file", spy)
    return names


async def _assert_matches_a_fresh_load(db: Database, folder: Path) -> None:
    """Everything that depends on corpus order is what a fresh load of ``folder`` gives."""
    corpus = load_corpus(folder)
    store = CorpusStore(db)
    expected = [p.id for d in corpus.documents for p in d.passages]
    assert await store.passage_ids() == expected
    assert [(await store.passage_at(i)).id for i in range(len(expected))] == expected  # type: ignore[union-attr]
    assert await store.passage_at(len(expected)) is None
    assert [p.id async for p in store.iter_passages(batch=5)] == expected
    for kind in {d.kind for d in corpus.documents}:
        assert await store.passage_ids(kind=kind) == [
            p.id for d in corpus.documents if d.kind == kind for p in d.passages
        ]
    by_author: dict[str, int] = {}
    for d in corpus.documents:
        for p in d.passages:
            if p.author:
                by_author[p.author] = by_author.get(p.author, 0) + 1
    assert {a.name: a.passage_count for a in await store.authors()} == by_author
    # a_ord numbers an author's passages 0..n-1 in corpus order, without gaps
    rows = await db.all(
        """SELECT ad.author_id, ad.a_ord, ad.passage_count FROM author_documents AS ad
        JOIN documents AS d ON d.id = ad.document_id ORDER BY ad.author_id, d.ord_start"""
    )
    running: dict[int, int] = {}
    for author_id, a_ord, count in rows:
        assert a_ord == running.get(author_id, 0)
        running[author_id] = a_ord + count
    assert (await db.one("SELECT count(*) FROM passages_fts"))[0] == len(expected)
    integrity = await db.one("INSERT INTO passages_fts (passages_fts) VALUES ('integrity-check')")
    assert integrity is None


async def test_any_sequence_of_edits_keeps_order_counts_and_index_exact(tmp_path: Path) -> None:
    rng = random.Random(7)
    folder = tmp_path / "docs"
    folder.mkdir()
    for n in range(8):
        _write(folder, f"doc-{n}", rng)
    async with await Database.open(tmp_path / "db.sqlite3") as db:
        await sync_corpus(db, folder)
        await _assert_matches_a_fresh_load(db, folder)
        for _ in range(12):
            present = sorted(folder.glob("*.md"))
            action = rng.choice(("edit", "add", "remove") if len(present) > 2 else ("add",))
            if action == "edit":
                _write(folder, rng.choice(present).stem, rng)
            elif action == "add":
                _write(folder, f"doc-{rng.randrange(100, 999)}", rng)
            else:
                rng.choice(present).unlink()
            await sync_corpus(db, folder)
            await _assert_matches_a_fresh_load(db, folder)


async def test_editing_one_document_reads_and_rewrites_only_that_one(
    tmp_path: Path, passages_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(staging_module, "RACY_NS", 0)  # the folder was copied an instant ago
    async with await Database.open(tmp_path / "db.sqlite3") as db:
        await sync_corpus(db, passages_dir)
        before = dict(await db.all("SELECT id, rowid FROM passages"))
        read = parsed_files(monkeypatch)
        essay = passages_dir / "metaphor.md"
        essay.write_text(essay.read_text(encoding="utf-8") + "\nA new last paragraph.\n")
        report = await sync_corpus(db, passages_dir)
        after = dict(await db.all("SELECT id, rowid FROM passages"))
    assert read == ["metaphor.md"]
    assert report.changed == ("metaphor",) and not report.added and not report.removed
    untouched = {i: r for i, r in before.items() if not i.startswith("metaphor-")}
    assert {i: after[i] for i in untouched} == untouched  # no other passage moved
    assert after["metaphor-1"] == before["metaphor-1"]  # the edited one keeps its place too


async def test_a_renamed_file_with_the_same_content_rewrites_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.md").write_text(document_text("One.\n\nTwo.", extra='slug = "kept"'))
    (folder / "other.md").write_text(document_text("Three."))
    async with await Database.open(tmp_path / "db.sqlite3") as db:
        await sync_corpus(db, folder)
        before = await db.all("SELECT rowid, id FROM passages ORDER BY rowid")
        generation = await CorpusStore(db).generation()
        (folder / "a.md").rename(folder / "b.md")
        report = await sync_corpus(db, folder)
        assert report.skipped
        assert await db.all("SELECT rowid, id FROM passages ORDER BY rowid") == before
        row = await db.one("SELECT file, path FROM documents WHERE slug = 'kept'")
        assert tuple(row) == ("b.md", "docs/b.md")
        assert await CorpusStore(db).generation() == generation + 1  # the row changed
        assert (await sync_corpus(db, folder)).skipped  # and the signature is stored


async def test_two_files_swapping_their_slugs_reload_cleanly(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    for name, slug in (("a", "first"), ("b", "second")):
        text = document_text(f"{name} one\n\n{name} two", extra=f'slug = "{slug}"')
        (folder / f"{name}.md").write_text(text, encoding="utf-8")
    async with await Database.open(tmp_path / "db.sqlite3") as db:
        await sync_corpus(db, folder)
        for name, slug in (("a", "second"), ("b", "first")):
            text = document_text(f"{name} one\n\n{name} two!", extra=f'slug = "{slug}"')
            (folder / f"{name}.md").write_text(text, encoding="utf-8")
        report = await sync_corpus(db, folder)
        assert report.changed == ("first", "second")
        passage = await CorpusStore(db).passage("first-2")
        assert passage is not None and passage.text == "b two!"
        await _assert_matches_a_fresh_load(db, folder)


async def test_a_reload_that_dies_between_commits_is_finished_by_the_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(3)
    folder = tmp_path / "docs"
    folder.mkdir()
    for n in range(10):
        _write(folder, f"doc-{n}", rng)
    monkeypatch.setattr(apply_module, "COMMIT_PASSAGES", 10)
    async with await Database.open(tmp_path / "db.sqlite3") as db:
        await sync_corpus(db, folder)
        old = load_corpus(folder)
        for n in range(10):
            _write(folder, f"doc-{n}", rng)
        new = load_corpus(folder)
        commits: list[int] = []
        real_replace = apply_module._replace

        async def dies_at_the_third(*args: object) -> None:
            commits.append(1)
            if len(commits) == 3:
                raise KeyboardInterrupt  # the process is killed
            await real_replace(*args)  # type: ignore[arg-type]

        monkeypatch.setattr(apply_module, "_replace", dies_at_the_third)
        with pytest.raises(KeyboardInterrupt):
            await sync_corpus(db, folder)
        stored = dict(await db.all("SELECT slug, content_hash FROM documents"))
        versions = {d.slug: (d.content_hash,) for d in old.documents}
        for d in new.documents:
            versions[d.slug] += (d.content_hash,)
        assert all(stored[s] in versions[s] for s in versions)  # each whole, old or new
        assert any(stored[s] == v[1] for s, v in versions.items())  # some already new
        assert any(stored[s] == v[0] for s, v in versions.items())  # some not yet
        monkeypatch.setattr(apply_module, "_replace", real_replace)
        report = await sync_corpus(db, folder)
        assert not report.skipped
        await _assert_matches_a_fresh_load(db, folder)
        assert (await db.one("SELECT value FROM corpus_meta WHERE key = 'fingerprint'"))[
            0
        ] == new.fingerprint


async def test_other_writers_get_the_lock_between_commits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reload never holds SQLite's write lock across commits: a writer that would not wait
    at all (busy timeout 0) gets in after each one."""
    rng = random.Random(5)
    folder = tmp_path / "docs"
    folder.mkdir()
    for n in range(6):
        _write(folder, f"doc-{n}", rng)
    monkeypatch.setattr(apply_module, "COMMIT_PASSAGES", 8)
    path = tmp_path / "db.sqlite3"
    async with await Database.open(path) as db:
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        other.execute("CREATE TABLE IF NOT EXISTS probe (n INTEGER)")
        writes: list[int] = []

        def between(done: int, total: int) -> None:
            if done <= total:  # called after each corpus commit
                other.execute("INSERT INTO probe VALUES (?)", (done,))
                writes.append(done)

        real_apply = apply_module.apply_plan

        async def with_probe(*args: object, **kwargs: object) -> None:
            kwargs["progress"] = between
            await real_apply(*args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr("bot.corpus.ingest.apply_plan", with_probe)
        await sync_corpus(db, folder)
        other.close()
    assert len(writes) >= 3  # several commits, each followed by another writer's write


async def test_a_changed_file_with_a_problem_changes_nothing(
    tmp_path: Path, passages_dir: Path
) -> None:
    async with await Database.open(tmp_path / "db.sqlite3") as db:
        await sync_corpus(db, passages_dir)
        before = await db.all("SELECT rowid, id, text FROM passages ORDER BY rowid")
        (passages_dir / "metaphor.md").write_text("no front matter\n", encoding="utf-8")
        (passages_dir / "new.md").write_text(document_text("Fine."), encoding="utf-8")
        with pytest.raises(Exception, match="problem"):
            await sync_corpus(db, passages_dir)
        assert await db.all("SELECT rowid, id, text FROM passages ORDER BY rowid") == before


async def test_random_picks_stay_uniform_after_edits(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    for name in ("b", "d"):
        text = document_text("\n\n".join(f"{name} {i}" for i in range(3)), kind="poem")
        (folder / f"{name}.md").write_text(text, encoding="utf-8")
    async with await Database.open(tmp_path / "db.sqlite3") as db:
        await sync_corpus(db, folder)
        (folder / "b.md").unlink()
        for name in ("a", "c"):  # before and between the documents in corpus order
            text = document_text("\n\n".join(f"{name} {i}" for i in range(3)), kind="poem")
            (folder / f"{name}.md").write_text(text, encoding="utf-8")
        os.utime(folder)
        await sync_corpus(db, folder)
        store = CorpusStore(db)
        seen = [(await store.random_passage(PassageFilter(kind="poem"))) for _ in range(900)]
    counts: dict[str, int] = {}
    for p in seen:
        assert p is not None
        counts[p.text] = counts.get(p.text, 0) + 1
    assert set(counts) == {f"{n} {i}" for n in "acd" for i in range(3)}
    assert min(counts.values()) > 50  # 100 expected each; a gap or overlap would skew it


def _age(path: Path, seconds: float = 3600) -> None:
    """Set a file's times an hour back, as if it had been written long ago."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns - int(seconds * 1e9)))


async def test_an_edit_that_keeps_size_and_mtime_is_still_seen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``touch -d``, ``cp -p`` or an unpacked archive can restore an old mtime on new bytes of
    the same size; the inode change time cannot be set back."""
    monkeypatch.setattr(staging_module, "RACY_NS", 0)
    folder = tmp_path / "docs"
    folder.mkdir()
    doc = folder / "a.md"
    doc.write_text(document_text("teh cat"), encoding="utf-8")
    _age(doc)
    async with await Database.open(tmp_path / "db.sqlite3") as db:
        await sync_corpus(db, folder)
        old = doc.stat()
        doc.write_text(document_text("the cat"), encoding="utf-8")  # same size
        os.utime(doc, ns=(old.st_atime_ns, old.st_mtime_ns))
        (folder / "b.md").write_text(document_text("Another."), encoding="utf-8")
        report = await sync_corpus(db, folder)
        passage = await CorpusStore(db).passage("a-1")
    assert report.changed == ("a",) and passage is not None and passage.text == "the cat"


async def test_a_file_changed_just_after_it_was_read_is_read_again(tmp_path: Path) -> None:
    """Within the racy window (a write in the same clock tick as the read leaves the same
    times) a file's stat is not trusted: the next reload reads it again."""
    folder = tmp_path / "docs"
    folder.mkdir()
    doc = folder / "a.md"
    doc.write_text(document_text("first"), encoding="utf-8")
    async with await Database.open(tmp_path / "db.sqlite3") as db:
        await sync_corpus(db, folder)
        row = await db.one("SELECT file_mtime_ns FROM documents")
        assert row[0] == -1  # written this instant: not trusted
        st = doc.stat()
        doc.write_text(document_text("later"), encoding="utf-8")  # same size, same tick
        os.utime(doc, ns=(st.st_atime_ns, st.st_mtime_ns))
        await sync_corpus(db, folder, force=False)
        passage = await CorpusStore(db).passage("a-1")
    assert passage is not None and passage.text == "later"


async def test_a_new_parser_version_parses_every_file_again(
    tmp_path: Path, passages_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.corpus.files as files_module
    import bot.corpus.ingest as ingest_module

    monkeypatch.setattr(staging_module, "RACY_NS", 0)
    async with await Database.open(tmp_path / "db.sqlite3") as db:
        await sync_corpus(db, passages_dir)
        read = parsed_files(monkeypatch)
        for module in (files_module, ingest_module, apply_module):
            monkeypatch.setattr(module, "PARSER_VERSION", 99)
        report = await sync_corpus(db, passages_dir)
        assert not report.skipped and len(read) == 4
        assert (await db.one("SELECT value FROM corpus_meta WHERE key = 'parser'"))[0] == "99"
        read.clear()
        assert (await sync_corpus(db, passages_dir)).skipped and not read


async def test_an_author_is_named_as_a_fresh_ingest_would_name_them(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "zeta.md").write_text(document_text("Z.", kind="essay", author="W. Blake"))
    (folder / "alpha.md").write_text(document_text("A.", kind="poem", author="w. blake"))
    async with await Database.open(tmp_path / "db.sqlite3") as db:
        await sync_corpus(db, folder)
        assert [a.name for a in await CorpusStore(db).authors()] == ["W. Blake"]  # essay first
        (folder / "zeta.md").write_text(document_text("Z!", kind="essay", author="W. BLAKE"))
        await sync_corpus(db, folder)
        assert [a.name for a in await CorpusStore(db).authors()] == ["W. BLAKE"]
        (folder / "zeta.md").unlink()
        await sync_corpus(db, folder)
        assert [a.name for a in await CorpusStore(db).authors()] == ["w. blake"]
        await _assert_matches_a_fresh_load(db, folder)


async def test_a_reload_that_died_is_finished_even_if_the_folder_looks_as_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The folder signature of the last complete reload is dropped by the first commit of the
    next one: restoring the old files after a crash must not leave half the new corpus."""
    monkeypatch.setattr(apply_module, "COMMIT_PASSAGES", 1)
    folder = tmp_path / "docs"
    folder.mkdir()
    for name in "abc":
        (folder / f"{name}.md").write_text(document_text(f"{name} old"), encoding="utf-8")
        _age(folder / f"{name}.md")
    saved = {p.name: (p.read_bytes(), p.stat()) for p in folder.iterdir()}
    async with await Database.open(tmp_path / "db.sqlite3") as db:
        await sync_corpus(db, folder)
        for name in "abc":
            (folder / f"{name}.md").write_text(document_text(f"{name} NEW"), encoding="utf-8")
        real_replace = apply_module._replace
        calls: list[int] = []

        async def dies_after_one(*args: object) -> None:
            calls.append(1)
            if len(calls) == 2:
                raise KeyboardInterrupt
            await real_replace(*args)  # type: ignore[arg-type]

        monkeypatch.setattr(apply_module, "_replace", dies_after_one)
        with pytest.raises(KeyboardInterrupt):
            await sync_corpus(db, folder)
        monkeypatch.setattr(apply_module, "_replace", real_replace)
        for name, (data, st) in saved.items():  # a backup restored, times and all
            (folder / name).write_bytes(data)
            os.utime(folder / name, ns=(st.st_atime_ns, st.st_mtime_ns))
        await sync_corpus(db, folder)
        texts = {p.text for p in [await CorpusStore(db).passage(f"{n}-1") for n in "abc"] if p}
    assert texts == {"a old", "b old", "c old"}


async def test_a_touched_file_is_hashed_not_parsed(
    tmp_path: Path, passages_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(staging_module, "RACY_NS", 0)
    async with await Database.open(tmp_path / "db.sqlite3") as db:
        await sync_corpus(db, passages_dir)
        generation = await CorpusStore(db).generation()
        parsed = parsed_files(monkeypatch)
        poem = passages_dir / "shape-of-attention.md"
        os.utime(poem)  # touch: new times, same bytes
        report = await sync_corpus(db, passages_dir)
        assert report.skipped and parsed == []
        assert await CorpusStore(db).generation() == generation + 1  # the new stat is kept
        assert (await sync_corpus(db, passages_dir)).skipped and parsed == []


async def test_a_new_document_never_takes_the_id_an_edited_one_keeps(tmp_path: Path) -> None:
    """The edited document had the highest id; a new one sorting before it in the same
    commit must not be given that id."""
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "b.md").write_text(document_text("B one."), encoding="utf-8")
    async with await Database.open(tmp_path / "db.sqlite3") as db:
        await sync_corpus(db, folder)
        (folder / "b.md").write_text(document_text("B two."), encoding="utf-8")
        (folder / "a.md").write_text(document_text("A one."), encoding="utf-8")
        report = await sync_corpus(db, folder)
        assert report.added == ("a",) and report.changed == ("b",)
        await _assert_matches_a_fresh_load(db, folder)


async def test_a_new_file_taking_the_slug_of_an_untouched_one_is_a_duplicate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """z.md keeps its bytes but is touched (so it is hashed, not parsed); a.md, read first,
    claims the same slug: the reload must refuse, not store a.md's text as z.md's."""
    monkeypatch.setattr(staging_module, "RACY_NS", 0)
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "z.md").write_text(document_text("Zed.", extra='slug = "x"'), encoding="utf-8")
    async with await Database.open(tmp_path / "db.sqlite3") as db:
        await sync_corpus(db, folder)
        (folder / "a.md").write_text(document_text("Other.", extra='slug = "x"'))
        os.utime(folder / "z.md")
        with pytest.raises(CorpusError) as refused:
            await sync_corpus(db, folder)
        assert "duplicate slug 'x'" in str(refused.value.problems[0])
        passage = await CorpusStore(db).passage("x-1")
    assert passage is not None and passage.text == "Zed."
