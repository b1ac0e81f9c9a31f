"""The SQLite store: migrations, ingest and every query, against real database files."""

from __future__ import annotations

import sqlite3
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.corpus import CorpusError, load_corpus
from bot.ingest import sync_corpus
from bot.store import (
    HIGHLIGHT_END,
    HIGHLIGHT_START,
    RANK_CAP,
    Migration,
    PassageFilter,
    Store,
    StoreError,
    bundled_migrations,
)
from tests.conftest import document_text

# ----------------------------------------------------------------- migrations


async def test_new_database_gets_every_migration_wal_and_foreign_keys(tmp_path: Path) -> None:
    async with await Store.open(tmp_path / "new.sqlite3") as store:
        db = store.connection
        assert (await (await db.execute("PRAGMA user_version")).fetchone())[0] == len(
            bundled_migrations()
        )
        assert (await (await db.execute("PRAGMA journal_mode")).fetchone())[0] == "wal"
        assert (await (await db.execute("PRAGMA foreign_keys")).fetchone())[0] == 1


async def test_old_database_is_upgraded_keeping_its_data(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    first = bundled_migrations()[:1]
    async with await Store.open(path, migrations=first) as store:
        await store.replace_corpus(load_corpus(Path("passages")))
    later = Migration(
        len(first) + 1, "notes", "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);"
    )
    async with await Store.open(path, migrations=[*first, later]) as store:
        assert (await store.stats()).passages == 62
        version = await (await store.connection.execute("PRAGMA user_version")).fetchone()
        assert version[0] == 2
        await store.connection.execute("INSERT INTO notes (body) VALUES ('kept')")


async def test_failed_migration_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    first = bundled_migrations()[:1]
    async with await Store.open(path, migrations=first):
        pass
    broken = Migration(2, "broken", "CREATE TABLE half (x INTEGER); THIS IS NOT SQL;")
    with pytest.raises(StoreError, match="migration 0002_broken failed"):
        await Store.open(path, migrations=[*first, broken])
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
        await Store.open(path)


async def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "text.sqlite3"
    path.write_text("this is not SQLite " * 100)
    with pytest.raises(StoreError, match="not a usable SQLite database"):
        await Store.open(path)


# ----------------------------------------------------------------- reading


async def test_passage_by_id_is_case_and_space_insensitive(store: Store) -> None:
    passage = await store.passage("  Shape-Of-Attention-7 ")
    assert passage is not None
    assert (passage.id, passage.label, passage.title) == (
        "shape-of-attention-7",
        "stanza 7 of 24",
        "The Shape of Attention",
    )
    assert await store.passage("shape-of-attention-99") is None
    assert await store.passage("'; DROP TABLE passages; --") is None


async def test_random_passage_reaches_every_passage(store: Store) -> None:
    seen = Counter([(await store.random_passage()).id for _ in range(3000)])  # type: ignore[union-attr]
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
    store: Store, where: PassageFilter, check: object
) -> None:
    picks = [await store.random_passage(where) for _ in range(40)]
    assert all(p is not None and check(p) for p in picks)  # type: ignore[operator]


async def test_filtered_random_covers_every_match(store: Store) -> None:
    seen = {(await store.random_passage(PassageFilter(author="Jinx"))).id for _ in range(300)}  # type: ignore[union-attr]
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
async def test_filters_matching_nothing_give_none(store: Store, where: PassageFilter) -> None:
    assert await store.random_passage(where) is None


async def test_neighbours_at_the_ends_and_the_middle(store: Store) -> None:
    before, after = await store.neighbours("shape-of-attention-1")
    assert before is None and after is not None and after.id == "shape-of-attention-2"
    before, after = await store.neighbours("shape-of-attention-24")
    assert (before.id, after.id) == ("shape-of-attention-23", "shape-of-attention-afterword")  # type: ignore[union-attr]
    before, after = await store.neighbours("shape-of-attention-afterword")
    assert before.id == "shape-of-attention-24" and after is None  # type: ignore[union-attr]
    assert await store.neighbours("missing") == (None, None)


async def test_whole_document_in_order(store: Store) -> None:
    found = await store.document("shape-of-attention")
    assert found is not None
    info, passages = found
    assert info.passage_count == 25 and info.kind == "poem"
    assert [p.seq for p in passages] == list(range(1, 26))
    assert await store.document("nope") is None


async def test_documents_and_authors_with_counts(store: Store) -> None:
    docs = {d.slug: d.passage_count for d in await store.documents()}
    assert docs == {
        "shape-of-attention": 25,
        "metaphor": 15,
        "permanent-thing": 6,
        "essay-comments": 16,
    }
    authors = {a.name: a.passage_count for a in await store.authors()}
    assert authors["Jinx"] == 5 and sum(authors.values()) == 16


# ----------------------------------------------------------------- search


async def test_search_ranks_and_highlights(store: Store) -> None:
    results = await store.search("convergence")
    assert results.total == 1
    (hit,) = results.hits
    assert hit.passage.document == "shape-of-attention"
    assert f"{HIGHLIGHT_START}Convergence{HIGHLIGHT_END}" in hit.snippet


async def test_search_exact_phrase_versus_words(store: Store) -> None:
    phrase = await store.search('"love and loss"')
    words = await store.search("love loss")
    assert phrase.total == 1 and phrase.hits[0].passage.id == "shape-of-attention-5"
    assert words.total >= phrase.total


async def test_search_prefix_and_exclusion(store: Store) -> None:
    prefix = await store.search("gradien*", limit=50)
    assert prefix.total >= 2
    assert all("gradien" in h.passage.text.lower() for h in prefix.hits)
    without = await store.search("weights -rock", limit=50)
    assert without.total > 0
    assert all("rock" not in h.passage.text.lower() for h in without.hits)


async def test_search_finds_authors_and_titles(store: Store) -> None:
    results = await store.search("lombardo")
    assert [h.passage.author for h in results.hits] == ["James Lombardo"]


async def test_search_pages_do_not_overlap(store: Store) -> None:
    first = await store.search("the", limit=5)
    second = await store.search("the", limit=5, offset=5)
    assert first.total == second.total > 10
    assert not {h.passage.id for h in first.hits} & {h.passage.id for h in second.hits}


async def test_search_cap_limits_ranking_work(tmp_path: Path) -> None:
    folder = tmp_path / "big"
    folder.mkdir()
    body = "\n\n".join(f"common word number {i}" for i in range(RANK_CAP + 200))
    (folder / "big.md").write_text(document_text(body), encoding="utf-8")
    async with await Store.open(tmp_path / "db.sqlite3") as store:
        await store.replace_corpus(load_corpus(folder))
        results = await store.search("common", limit=3)
        assert results.capped and results.total == RANK_CAP
        rare = await store.search("number 7", limit=3)
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
    ],
)
async def test_hostile_searches_never_raise(store: Store, hostile: str) -> None:
    # Reaching FTS5 with a syntax error would raise sqlite3.OperationalError here.
    results = await store.search(hostile)
    assert len(results.hits) == min(results.total, 5)
    await store.random_passage(PassageFilter(about=hostile))


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(max_size=200))
async def test_any_text_is_a_valid_search(store: Store, text: str) -> None:
    results = await store.search(text, limit=3)
    assert len(results.hits) <= 3


async def test_related_passages_exclude_the_passage_itself(store: Store) -> None:
    related = await store.related("shape-of-attention-3", limit=4)
    assert 0 < len(related) <= 4
    assert "shape-of-attention-3" not in {p.id for p in related}
    assert await store.related("missing") == []


# ----------------------------------------------------------------- ingest


async def test_unchanged_folder_is_skipped(tmp_path: Path, passages_dir: Path) -> None:
    async with await Store.open(tmp_path / "db.sqlite3") as store:
        first = await sync_corpus(store, passages_dir)
        again = await sync_corpus(store, passages_dir)
        (passages_dir / "metaphor.md").touch()  # new mtime, same content: read, found unchanged
        touched = await sync_corpus(store, passages_dir)
        forced = await sync_corpus(store, passages_dir, force=True)
    assert not first.skipped and first.passages_after == 62
    assert again.skipped and touched.skipped
    assert not forced.skipped


async def test_changes_are_reported(tmp_path: Path, passages_dir: Path) -> None:
    async with await Store.open(tmp_path / "db.sqlite3") as store:
        await sync_corpus(store, passages_dir)
        essay = passages_dir / "permanent-thing.md"
        text = essay.read_text(encoding="utf-8")
        essay.write_text(text.rsplit("\n\n", 1)[0] + "\n", encoding="utf-8")  # drop paragraph 6
        (passages_dir / "metaphor.md").unlink()
        (passages_dir / "new-one.md").write_text(document_text("New text."), encoding="utf-8")
        report = await sync_corpus(store, passages_dir)
        assert await store.passage("metaphor-1") is None
        assert (await store.passage("new-one-1")).text == "New text."  # type: ignore[union-attr]
        assert (await store.passage("shape-of-attention-7")).label == "stanza 7 of 24"  # type: ignore[union-attr]
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
    async with await Store.open(tmp_path / "db.sqlite3") as store:
        await sync_corpus(store, passages_dir)
        (passages_dir / "broken.md").write_text("no front matter", encoding="utf-8")
        (passages_dir / "metaphor.md").unlink()
        with pytest.raises(CorpusError):
            await sync_corpus(store, passages_dir)
        assert (await store.stats()).passages == 62
        assert await store.passage("metaphor-1") is not None


async def test_failed_replace_rolls_back(
    tmp_path: Path, passages_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.store as store_module

    async with await Store.open(tmp_path / "db.sqlite3") as store:
        await sync_corpus(store, passages_dir)

        def explode(*args: object) -> object:
            raise RuntimeError("disk on fire")

        monkeypatch.setattr(store_module, "_passage_rows", explode)
        (passages_dir / "new-one.md").write_text(document_text("New."), encoding="utf-8")
        with pytest.raises(RuntimeError):
            await sync_corpus(store, passages_dir)
        assert (await store.stats()).passages == 62
        assert (await store.search("hum")).total > 0  # the index was rolled back too


async def test_readers_keep_the_old_corpus_until_the_swap_commits(
    tmp_path: Path, passages_dir: Path
) -> None:
    async with await Store.open(tmp_path / "db.sqlite3") as store:
        await sync_corpus(store, passages_dir)
        await store.connection.execute("BEGIN")  # a long read holding its snapshot
        assert (await store.stats()).passages == 62
        (passages_dir / "metaphor.md").unlink()
        await sync_corpus(store, passages_dir)  # commits on its own connection
        assert (await store.stats()).passages == 62  # still the snapshot
        await store.connection.execute("COMMIT")
        assert (await store.stats()).passages == 47


async def test_random_with_words_reaches_every_kind_in_a_large_corpus(tmp_path: Path) -> None:
    folder = tmp_path / "big"
    folder.mkdir()
    for kind in ("essay", "journal", "poem"):
        body = "\n\n".join(f"common {kind} passage {i}" for i in range(700))
        (folder / f"{kind}.md").write_text(
            document_text(body, kind=kind, title=kind), encoding="utf-8"
        )
    async with await Store.open(tmp_path / "db.sqlite3") as store:
        await store.replace_corpus(load_corpus(folder))
        kinds = {
            (await store.random_passage(PassageFilter(about="common"))).kind for _ in range(200)
        }  # type: ignore[union-attr]
        poems = {
            (await store.random_passage(PassageFilter(about="common", kind="poem"))).kind
            for _ in range(50)
        }  # type: ignore[union-attr]
        rare = {
            (await store.random_passage(PassageFilter(about="passage 7"))).text for _ in range(300)
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
    async with await Store.open(tmp_path / "db.sqlite3") as store:
        await store.replace_corpus(load_corpus(folder))
        in_b = {
            (await store.random_passage(PassageFilter(author="ann", document="b"))).text
            for _ in range(300)
        }  # type: ignore[union-attr]
        threads = {
            (await store.random_passage(PassageFilter(author="Ann", kind="thread"))).document
            for _ in range(200)
        }  # type: ignore[union-attr]
        poem = await store.random_passage(PassageFilter(author="Ann", kind="poem"))
        none = await store.random_passage(PassageFilter(author="Bob", kind="poem"))
        mismatch = await store.random_passage(PassageFilter(document="b", kind="poem"))
    assert in_b == {f"b comment {i}" for i in range(0, 30, 3)}
    assert threads == {"a", "b", "c"}
    assert poem is not None and poem.text == "Verse."
    assert none is None and mismatch is None


async def test_a_capped_phrase_search_lists_matches_in_corpus_order(tmp_path: Path) -> None:
    folder = tmp_path / "big"
    folder.mkdir()
    body = "\n\n".join(
        f"the old river number {i}" + " the old" * (i % 5) for i in range(RANK_CAP + 100)
    )
    (folder / "big.md").write_text(document_text(body), encoding="utf-8")
    async with await Store.open(tmp_path / "db.sqlite3") as store:
        await store.replace_corpus(load_corpus(folder))
        capped = await store.search('"the old"', limit=5)
        ranked = await store.search('"river number 7"', limit=5)
    assert capped.capped
    assert [h.passage.id for h in capped.hits] == [f"big-{n}" for n in range(1, 6)]
    assert not ranked.capped and ranked.hits[0].passage.text.startswith("the old river number 7")
