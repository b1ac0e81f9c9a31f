"""The SQLite store: migrations, ingest and every query, against real database files."""

from __future__ import annotations

import sqlite3
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.db import Database, Migration, StoreError, bundled_migrations
from bot.corpus.files import load_corpus
from bot.corpus.fts_order import COUNT_CAP
from bot.corpus.ingest import sync_corpus
from bot.corpus.model import CorpusError
from bot.corpus.random import PassageFilter
from bot.corpus.search import HIGHLIGHT_END, HIGHLIGHT_START, RANK_CAP
from bot.services import Services
from tests.conftest import document_text, services_for
from tests.old_layout import write_old_layout

# ----------------------------------------------------------------- migrations


async def test_new_database_gets_every_migration_wal_and_foreign_keys(tmp_path: Path) -> None:
    async with await Database.open(tmp_path / "new.sqlite3") as db:
        assert (await db.one("PRAGMA user_version"))[0] == len(bundled_migrations())
        assert (await db.one("PRAGMA journal_mode"))[0] == "wal"
        assert (await db.one("PRAGMA foreign_keys"))[0] == 1


async def test_old_database_is_upgraded_keeping_its_data(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    first = bundled_migrations()[:1]
    async with await Database.open(path, migrations=first) as db:
        await write_old_layout(db, load_corpus(Path("passages")))
    later = Migration(
        len(first) + 1, "notes", "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);"
    )
    async with await Database.open(path, migrations=[*first, later]) as db:
        assert (await db.one("SELECT count(*) FROM passages"))[0] == 62
        assert (await db.one("PRAGMA user_version"))[0] == 2
        await db.run("INSERT INTO notes (body) VALUES ('kept')")


async def test_failed_migration_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    first = bundled_migrations()[:1]
    async with await Database.open(path, migrations=first):
        pass
    broken = Migration(2, "broken", "CREATE TABLE half (x INTEGER); THIS IS NOT SQL;")
    with pytest.raises(StoreError, match="migration 0002_broken failed"):
        await Database.open(path, migrations=[*first, broken])
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 1
        assert (
            db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'half'").fetchone()[0] == 0
        )


async def test_database_from_a_newer_lectern_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 999")
    with pytest.raises(StoreError, match="newer than this Lectern knows"):
        await Database.open(path)


async def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "text.sqlite3"
    path.write_text("this is not SQLite " * 100)
    with pytest.raises(StoreError, match="not a usable SQLite database"):
        await Database.open(path)


# ----------------------------------------------------------------- reading


async def test_passage_by_id_is_case_and_space_insensitive(store: Services) -> None:
    passage = await store.corpus.passage("  Shape-Of-Attention-7 ")
    assert passage is not None
    assert (passage.id, passage.label, passage.title) == (
        "shape-of-attention-7",
        "stanza 7 of 24",
        "The Shape of Attention",
    )
    assert await store.corpus.passage("shape-of-attention-99") is None
    assert await store.corpus.passage("'; DROP TABLE passages; --") is None


async def test_random_passage_reaches_every_passage(store: Services) -> None:
    seen = Counter([(await store.corpus.random_passage()).id for _ in range(3000)])  # type: ignore[union-attr]
    assert len(seen) == 62  # a passage is missed with probability < 1e-19


@pytest.mark.parametrize(
    ("where", "check"),
    [
        (
            PassageFilter(document="shape-of-attention"),
            lambda p: p.document == "shape-of-attention",
        ),
        (PassageFilter(document="METAPHOR"), lambda p: p.document == "metaphor"),
        (PassageFilter(kind="essay"), lambda p: p.kind == "essay"),
        (PassageFilter(author="jinx"), lambda p: p.author == "Jinx"),
        (
            PassageFilter(author="  nihal |  deeptech decoded "),
            lambda p: p.author == "nihal | deeptech decoded",
        ),
        (PassageFilter(about="weights"), lambda p: "weight" in p.text.lower()),
        (
            PassageFilter(document="essay-comments", author="Paul LaPosta"),
            lambda p: p.author == "Paul LaPosta",
        ),
        (
            PassageFilter(kind="poem", about="space"),
            lambda p: p.kind == "poem" and "space" in p.text.lower(),
        ),
    ],
)
async def test_filtered_random_passages_match_their_filter(
    store: Services, where: PassageFilter, check: object
) -> None:
    picks = [await store.corpus.random_passage(where) for _ in range(40)]
    assert all(p is not None and check(p) for p in picks)  # type: ignore[operator]


async def test_filtered_random_covers_every_match(store: Services) -> None:
    seen = {
        (await store.corpus.random_passage(PassageFilter(author="Jinx"))).id for _ in range(300)
    }  # type: ignore[union-attr]
    assert seen == {f"essay-comments-{n}" for n in (2, 5, 8, 11, 15)}


@pytest.mark.parametrize(
    "where",
    [
        PassageFilter(document="no-such-document"),
        PassageFilter(author="Nobody"),
        PassageFilter(kind="novel"),
        PassageFilter(about="zzzzqqq"),
        PassageFilter(about="🙂 *** "),
        PassageFilter(document="metaphor", author="Jinx"),
    ],
)
async def test_filters_matching_nothing_give_none(store: Services, where: PassageFilter) -> None:
    assert await store.corpus.random_passage(where) is None


async def test_neighbours_at_the_ends_and_the_middle(store: Services) -> None:
    before, after = await store.corpus.neighbours("shape-of-attention-1")
    assert before is None and after is not None and after.id == "shape-of-attention-2"
    before, after = await store.corpus.neighbours("shape-of-attention-24")
    assert (before.id, after.id) == ("shape-of-attention-23", "shape-of-attention-afterword")  # type: ignore[union-attr]
    before, after = await store.corpus.neighbours("shape-of-attention-afterword")
    assert before.id == "shape-of-attention-24" and after is None  # type: ignore[union-attr]
    assert await store.corpus.neighbours("missing") == (None, None)


async def test_whole_document_in_order(store: Services) -> None:
    found = await store.corpus.document("shape-of-attention")
    assert found is not None
    info, passages = found
    assert info.passage_count == 25 and info.kind == "poem"
    assert [p.seq for p in passages] == list(range(1, 26))
    assert await store.corpus.document("nope") is None


async def test_documents_and_authors_with_counts(store: Services) -> None:
    docs = {d.slug: d.passage_count for d in await store.corpus.documents()}
    assert docs == {
        "shape-of-attention": 25,
        "metaphor": 15,
        "permanent-thing": 6,
        "essay-comments": 16,
    }
    authors = {a.name: a.passage_count for a in await store.corpus.authors()}
    assert authors["Jinx"] == 5 and authors["Kenneth Reitz"] == 25  # every stanza and the afterword
    assert sum(authors.values()) == 16 + 25


# ----------------------------------------------------------------- search


async def test_search_ranks_and_highlights(store: Services) -> None:
    results = await store.search.search("convergence")
    exact, other_form = results.hits  # "Convergence" as typed, then "converges"
    assert results.total == 2
    assert exact.passage.document == "shape-of-attention"
    assert f"{HIGHLIGHT_START}Convergence{HIGHLIGHT_END}" in exact.snippet
    assert f"{HIGHLIGHT_START}converges{HIGHLIGHT_END}" in other_form.snippet


async def test_search_exact_phrase_versus_words(store: Services) -> None:
    phrase = await store.search.search('"love and loss"')
    words = await store.search.search("love loss")
    assert phrase.total == 1 and phrase.hits[0].passage.id == "shape-of-attention-5"
    assert words.total >= phrase.total


async def test_search_prefix_and_exclusion(store: Services) -> None:
    prefix = await store.search.search("gradien*", limit=50)
    assert prefix.total >= 2
    assert all("gradien" in h.passage.text.lower() for h in prefix.hits)
    without = await store.search.search("weights -rock", limit=50)
    assert without.total > 0
    assert all("rock" not in h.passage.text.lower() for h in without.hits)


async def test_search_finds_authors_and_titles(store: Services) -> None:
    results = await store.search.search("lombardo")
    assert [h.passage.author for h in results.hits] == ["James Lombardo"]


async def test_search_pages_do_not_overlap(store: Services) -> None:
    first = await store.search.search("the", limit=5)
    second = await store.search.search("the", limit=5, offset=5)
    assert first.total == second.total > 10
    assert not {h.passage.id for h in first.hits} & {h.passage.id for h in second.hits}


async def test_matches_are_counted_up_to_a_thousand(tmp_path: Path) -> None:
    folder = tmp_path / "big"
    folder.mkdir()
    body = "\n\n".join(f"common word number {i}" for i in range(RANK_CAP + 200))
    (folder / "big.md").write_text(document_text(body), encoding="utf-8")
    async with await Database.open(tmp_path / "db.sqlite3") as db:
        store = services_for(db)
        await sync_corpus(store.db, folder)
        results = await store.search.search("common word", limit=3)
        assert results.capped and results.total == COUNT_CAP
        one = await store.search.search("common", limit=3)  # a word: the vocabulary counts it
        assert not one.capped and one.total == RANK_CAP + 200
        rare = await store.search.search("number 7", limit=3)
        assert not rare.capped


@pytest.mark.parametrize(
    "hostile",
    [
        '"',
        '""',
        "AND(",
        "NEAR(a b, 3)",
        "* - +",
        "title:shape",
        "^attention",
        "{text}: x",
        "a OR",
        "NOT",
        "(((",
        "🙂🔥",
        "\u200b\u200bshape\u200d",
        "@everyone",
        "-",
        "--drop",
        "x" * 5000,
        "'; DROP TABLE passages; --",
        "\x00",
        "shape*" * 50,
        "\ud83d broken emoji",  # a lone surrogate
        "th**",
        "é" * 300,
    ],
)
async def test_hostile_searches_never_raise(store: Services, hostile: str) -> None:
    # Reaching FTS5 with a syntax error would raise sqlite3.OperationalError here.
    results = await store.search.search(hostile)
    assert len(results.hits) == min(results.total, 5)
    await store.corpus.random_passage(PassageFilter(about=hostile))


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(max_size=200))
async def test_any_text_is_a_valid_search(store: Services, text: str) -> None:
    results = await store.search.search(text, limit=3)
    assert len(results.hits) <= 3


async def test_related_passages_exclude_the_passage_itself(store: Services) -> None:
    source = await store.corpus.passage("shape-of-attention-3")
    assert source is not None
    related = await store.search.related(source, limit=4)
    assert 0 < len(related) <= 4
    assert "shape-of-attention-3" not in {p.id for p in related}


# ----------------------------------------------------------------- ingest


async def test_unchanged_folder_is_skipped(tmp_path: Path, passages_dir: Path) -> None:
    async with await Database.open(tmp_path / "db.sqlite3") as db:
        store = services_for(db)
        first = await sync_corpus(store.db, passages_dir)
        again = await sync_corpus(store.db, passages_dir)
        (passages_dir / "metaphor.md").touch()  # new mtime, same content: read, found unchanged
        touched = await sync_corpus(store.db, passages_dir)
        forced = await sync_corpus(store.db, passages_dir, force=True)
    assert not first.skipped and first.passages_after == 62
    assert again.skipped and touched.skipped
    assert not forced.skipped


async def test_changes_are_reported(tmp_path: Path, passages_dir: Path) -> None:
    async with await Database.open(tmp_path / "db.sqlite3") as db:
        store = services_for(db)
        await sync_corpus(store.db, passages_dir)
        essay = passages_dir / "permanent-thing.md"
        text = essay.read_text(encoding="utf-8")
        essay.write_text(text.rsplit("\n\n", 1)[0] + "\n", encoding="utf-8")  # drop paragraph 6
        (passages_dir / "metaphor.md").unlink()
        (passages_dir / "new-one.md").write_text(document_text("New text."), encoding="utf-8")
        report = await sync_corpus(store.db, passages_dir)
        assert await store.corpus.passage("metaphor-1") is None
        assert (await store.corpus.passage("new-one-1")).text == "New text."  # type: ignore[union-attr]
        assert (await store.corpus.passage("shape-of-attention-7")).label == "stanza 7 of 24"  # type: ignore[union-attr]
    assert report.added == ("new-one",)
    assert report.removed == ("metaphor",)
    assert report.changed == ("permanent-thing",)
    assert (report.passages_before, report.passages_after) == (62, 62 - 15 - 1 + 1)
    assert set(report.vanished_ids) == {f"metaphor-{n}" for n in range(1, 16)} | {
        "permanent-thing-6"
    }


async def test_bad_folder_writes_nothing_and_old_corpus_keeps_serving(
    tmp_path: Path, passages_dir: Path
) -> None:
    async with await Database.open(tmp_path / "db.sqlite3") as db:
        store = services_for(db)
        await sync_corpus(store.db, passages_dir)
        (passages_dir / "broken.md").write_text("no front matter", encoding="utf-8")
        (passages_dir / "metaphor.md").unlink()
        with pytest.raises(CorpusError):
            await sync_corpus(store.db, passages_dir)
        assert (await store.corpus.stats()).passages == 62
        assert await store.corpus.passage("metaphor-1") is not None


async def test_a_commit_that_fails_half_way_rolls_back_and_the_next_reload_finishes(
    tmp_path: Path, passages_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.corpus.apply as apply_module

    async with await Database.open(tmp_path / "db.sqlite3") as db:
        store = services_for(db)
        await sync_corpus(store.db, passages_dir)
        real = apply_module.first_rowid

        def explode(*args: object) -> object:
            raise RuntimeError("disk on fire")

        monkeypatch.setattr(apply_module, "first_rowid", explode)
        poem = passages_dir / "shape-of-attention.md"
        poem.write_text(poem.read_text(encoding="utf-8") + "\n\nOne more stanza.\n")
        with pytest.raises(RuntimeError):  # after deleting the old poem, in the same commit
            await sync_corpus(store.db, passages_dir)
        assert (await store.corpus.stats()).passages == 62
        assert await store.corpus.passage("shape-of-attention-1") is not None
        assert (await store.search.search("hum")).total > 0  # the index was rolled back too
        monkeypatch.setattr(apply_module, "first_rowid", real)
        report = await sync_corpus(store.db, passages_dir)
        assert report.changed == ("shape-of-attention",)
        assert (await store.search.search('"one more stanza"')).total == 1


async def test_readers_keep_the_old_corpus_until_the_swap_commits(
    tmp_path: Path, passages_dir: Path
) -> None:
    async with await Database.open(tmp_path / "db.sqlite3") as db:
        store = services_for(db)
        await sync_corpus(store.db, passages_dir)
        await store.db.run("BEGIN")  # a long read holding its snapshot
        assert (await store.corpus.stats()).passages == 62
        (passages_dir / "metaphor.md").unlink()
        await sync_corpus(store.db, passages_dir)  # commits on its own connection
        assert (await store.corpus.stats()).passages == 62  # still the snapshot
        await store.db.run("COMMIT")
        assert (await store.corpus.stats()).passages == 47


async def test_random_with_words_reaches_every_kind_in_a_large_corpus(tmp_path: Path) -> None:
    folder = tmp_path / "big"
    folder.mkdir()
    for kind in ("essay", "journal", "poem"):
        body = "\n\n".join(f"common {kind} passage {i}" for i in range(700))
        (folder / f"{kind}.md").write_text(
            document_text(body, kind=kind, title=kind), encoding="utf-8"
        )
    async with await Database.open(tmp_path / "db.sqlite3") as db:
        store = services_for(db)
        await sync_corpus(store.db, folder)
        kinds = {
            (await store.corpus.random_passage(PassageFilter(about="common"))).kind
            for _ in range(200)
        }  # type: ignore[union-attr]
        poems = {
            (await store.corpus.random_passage(PassageFilter(about="common", kind="poem"))).kind
            for _ in range(50)
        }  # type: ignore[union-attr]
        rare = {
            (await store.corpus.random_passage(PassageFilter(about="passage 7"))).text
            for _ in range(300)
        }  # type: ignore[union-attr]
    assert kinds == {"essay", "journal", "poem"}  # more than RANK_CAP matches: all reachable
    assert poems == {"poem"}
    assert rare == {f"common {k} passage 7" for k in ("essay", "journal", "poem")}


async def test_random_author_within_a_kind_or_document_is_exact(tmp_path: Path) -> None:
    folder = tmp_path / "threads"
    folder.mkdir()
    for name in ("a", "b", "c"):
        body = "\n\n".join(
            f"## {'Ann' if i % 3 == 0 else 'Bob'}\n\n{name} comment {i}" for i in range(30)
        )
        (folder / f"{name}.md").write_text(
            document_text(body, kind="thread", title=name), encoding="utf-8"
        )
    (folder / "poem.md").write_text(
        document_text("Verse.", kind="poem", author="Ann"), encoding="utf-8"
    )
    async with await Database.open(tmp_path / "db.sqlite3") as db:
        store = services_for(db)
        await sync_corpus(store.db, folder)
        in_b = {
            (await store.corpus.random_passage(PassageFilter(author="ann", document="b"))).text
            for _ in range(300)
        }  # type: ignore[union-attr]
        threads = {
            (await store.corpus.random_passage(PassageFilter(author="Ann", kind="thread"))).document
            for _ in range(200)
        }  # type: ignore[union-attr]
        poem = await store.corpus.random_passage(PassageFilter(author="Ann", kind="poem"))
        none = await store.corpus.random_passage(PassageFilter(author="Bob", kind="poem"))
        mismatch = await store.corpus.random_passage(PassageFilter(document="b", kind="poem"))
    assert in_b == {f"b comment {i}" for i in range(0, 30, 3)}
    assert threads == {"a", "b", "c"}
    assert poem is not None and poem.text == "Verse."
    assert none is None and mismatch is None


async def test_a_read_given_a_time_limit_ends_or_says_it_did_not(tmp_path: Path) -> None:
    slow = """WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
        SELECT max(i) FROM n"""
    async with await Database.open(tmp_path / "db.sqlite3") as db:
        assert await db.all_within(slow, (10,), seconds=1.0) == [(10,)]
        assert await db.all_within(slow, (10**9,), seconds=0.01) is None  # minutes, untimed
        assert await db.first_rows("SELECT 1 UNION ALL SELECT 2", (), limit=1, seconds=1) == [(1,)]
        assert await db.one("SELECT 1") == (1,)  # the bot's own connection was never stopped


async def test_a_scan_cut_short_keeps_the_rows_it_read(tmp_path: Path) -> None:
    # 20 rows at once, then a search for more that would take minutes: the deadline ends it.
    stalls = """WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10e8)
        SELECT i FROM n WHERE i % 20000 = 0 AND i <= 400000"""
    async with await Database.open(tmp_path / "db.sqlite3") as db:
        rows = await db.first_rows(stalls, (), limit=1000, seconds=0.5)
    # All 20 but perhaps the last (the cursor steps to the next row before it returns one).
    assert rows[:19] == [(20000 * (i + 1),) for i in range(19)] and len(rows) <= 20
