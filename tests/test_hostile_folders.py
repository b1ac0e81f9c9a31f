"""The passages folder is a filesystem, not a list of nice files: links that loop or dangle,
named pipes, folders nested absurdly deep or paths too long, unreadable files, files that
vanish. Each is skipped with a warning or reported as ``file: message``: never a traceback,
never a hang, never a good corpus replaced."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from bot.admin.audit import Actor
from bot.config import BUNDLED_PASSAGES
from bot.corpus import files
from bot.corpus.files import MAX_DEPTH, load_corpus, scan
from bot.corpus.model import CorpusError
from tests.conftest import document_text, lectern_cli, require_reader, run_as_reader
from tests.lectern_harness import run_lectern, shown


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    target = tmp_path / "passages"
    shutil.copytree(BUNDLED_PASSAGES, target)
    return target


def problems(folder: Path) -> list[str]:
    with pytest.raises(CorpusError) as caught:
        load_corpus(folder)
    return [str(p) for p in caught.value.problems]


def test_a_link_back_to_a_folder_is_skipped_not_followed_forever(folder: Path) -> None:
    (folder / "loop").symlink_to(folder)
    (folder / "sub").mkdir()
    (folder / "sub" / "up").symlink_to(folder / "sub")
    corpus = load_corpus(folder)
    assert len(corpus.documents) == 4
    assert {str(p) for p in corpus.skipped} == {
        "passages/loop: a link to a folder already read",
        "passages/sub/up: a link to a folder already read",
    }


def test_dangling_and_looping_links_are_problems(folder: Path) -> None:
    (folder / "gone.md").symlink_to(folder / "nowhere.md")
    (folder / "a.md").symlink_to(folder / "b.md")
    (folder / "b.md").symlink_to(folder / "a.md")
    assert sorted(problems(folder)) == [
        "passages/a.md: a link that loops back on itself",
        "passages/b.md: a link that loops back on itself",
        "passages/gone.md: a link that points at nothing",
    ]


def test_a_named_pipe_never_blocks_the_ingest(tmp_path: Path, folder: Path) -> None:
    os.mkfifo(folder / "x.md")
    (folder / "folder.md").mkdir()
    corpus = load_corpus(folder)  # would block forever opening the pipe for reading
    assert len(corpus.documents) == 4
    assert sorted(str(p) for p in corpus.skipped) == [
        "passages/folder.md: a folder, not a document: skipped",
        "passages/x.md: a named pipe, not a document: skipped",
    ]
    checked = lectern_cli(tmp_path, "ingest", "--check", str(folder))
    assert checked.returncode == 0, checked.stderr
    assert "lectern: warning: passages/x.md: a named pipe" in checked.stderr
    assert "4 documents, 62 passages, all valid." in checked.stdout


def test_folders_nested_too_deep_are_one_problem(folder: Path) -> None:
    deep = folder
    for level in range(MAX_DEPTH + 3):
        deep = deep / f"d{level}"
    deep.mkdir(parents=True)
    (deep / "lost.md").write_text(document_text("Too deep."), encoding="utf-8")
    (found,) = problems(folder)
    assert found.endswith(f"folders nested deeper than {MAX_DEPTH} levels")


def test_a_path_too_long_for_the_system_is_a_problem(folder: Path) -> None:
    parent = os.open(folder, os.O_RDONLY)
    try:
        for _ in range(22):  # 22 x 200 characters: past PATH_MAX, made one level at a time
            os.mkdir("n" * 200, dir_fd=parent)
            child = os.open("n" * 200, os.O_RDONLY, dir_fd=parent)
            os.close(parent)
            parent = child
        with os.fdopen(os.open("far.md", os.O_WRONLY | os.O_CREAT, dir_fd=parent), "w") as out:
            out.write(document_text("Far away."))
    finally:
        os.close(parent)
    (found,) = problems(folder)
    assert "the path is too long for this system" in found


def test_a_file_that_vanishes_while_the_folder_is_read(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = files.parse_file

    def vanishing(path: Path, display: str | None = None):  # type: ignore[no-untyped-def]
        if path.name == "metaphor.md":
            path.unlink()  # deleted between listing and reading
        return real(path, display)

    monkeypatch.setattr(files, "parse_file", vanishing)
    assert problems(folder) == ["passages/metaphor.md: it vanished while the folder was being read"]


def test_unreadable_files_and_folders_are_problems(shared_dir: Path) -> None:
    require_reader()
    folder = shared_dir / "passages"
    shutil.copytree(BUNDLED_PASSAGES, folder)
    (folder / "metaphor.md").chmod(0)
    (folder / "locked").mkdir()
    (folder / "locked").chmod(0)
    for path in (shared_dir, folder):
        path.chmod(0o777)
    result = run_as_reader(shared_dir, "ingest", "--check", str(folder))
    assert result.returncode == 1, result.stdout
    assert "passages/metaphor.md: cannot read it: permission denied" in result.stderr
    assert "passages/locked: cannot read it: permission denied" in result.stderr
    assert "Traceback" not in result.stderr


async def test_a_reload_from_a_broken_folder_is_refused_and_the_old_corpus_serves(
    fake_discord, tmp_path: Path, folder: Path
) -> None:
    guild = fake_discord.add_guild("Readers", channels=["general"])
    reader = guild.add_member("reader")
    async with run_lectern(fake_discord, tmp_path, passages=folder) as bot:
        (folder / "gone.md").symlink_to(folder / "nowhere.md")
        os.mkfifo(folder / "pipe.md")
        reply = await bot.services.admin.reload(Actor("SIGHUP"))  # as /admin reload does
        quote = await fake_discord.slash("quote", guild=guild, user=reader)
    card = reply.cards[0]
    assert card.title == "Reload refused" and "passages/gone.md" in card.description
    assert "points at nothing" in card.description
    assert "Nothing was changed" in card.description
    assert shown(quote.data).subtext  # still answering from the old corpus


async def test_a_missing_passages_folder_does_not_stop_a_bot_with_a_corpus(
    fake_discord, tmp_path: Path
) -> None:
    guild = fake_discord.add_guild("Readers", channels=["general"])
    reader = guild.add_member("reader")
    async with run_lectern(fake_discord, tmp_path):  # a first start stores the corpus
        pass
    async with run_lectern(fake_discord, tmp_path, passages=tmp_path / "unmounted", sync=False):
        quote = await fake_discord.slash("quote", guild=guild, user=reader)
    assert " · " in shown(quote.data).subtext  # "<label> · <id>[ · page …]": a passage
    assert not quote.data.get("flags", 0) & 64  # not a private error note


def test_scanning_reports_a_missing_or_non_folder_root(tmp_path: Path) -> None:
    assert [str(p) for p in scan(tmp_path / "none").problems] == [
        f"{tmp_path / 'none'}: there is no such folder"
    ]
    (tmp_path / "file").write_text("x")
    assert [str(p) for p in scan(tmp_path / "file").problems] == [
        f"{tmp_path / 'file'}: not a folder"
    ]


def test_names_that_are_not_utf8_never_crash(folder: Path, tmp_path: Path) -> None:
    os.mkfifo(os.path.join(os.fsencode(folder), b"\xff.md"))
    with open(os.path.join(os.fsencode(folder), b"caf\xe9.md"), "w", encoding="utf-8") as out:
        out.write(document_text("Une phrase.", extra='slug = "cafe"'))
    corpus = load_corpus(folder)
    assert "cafe" in {d.slug for d in corpus.documents}
    assert [str(p) for p in corpus.skipped] == [
        "passages/\ufffd.md: a named pipe, not a document: skipped"
    ]
    ingested = lectern_cli(tmp_path, "ingest", str(folder))
    again = lectern_cli(tmp_path, "ingest", str(folder))
    assert ingested.returncode == 0 and "Traceback" not in ingested.stderr, ingested.stderr
    assert "Ingested 5 documents" in ingested.stdout
    # the warning is repeated even when nothing changed
    assert "Corpus unchanged" in again.stdout and "a named pipe" in again.stderr


def test_a_real_folder_wins_over_a_link_to_it(tmp_path: Path) -> None:
    root = tmp_path / "q"
    (root / "zreal" / "sub").mkdir(parents=True)
    (root / "zreal" / "sub" / "one.md").write_text(document_text("One."), encoding="utf-8")
    (root / "a").mkdir()
    (root / "a" / "link").symlink_to(root / "zreal" / "sub")
    corpus = load_corpus(root)
    assert [d.path for d in corpus.documents] == ["q/zreal/sub/one.md"]
    assert [str(p) for p in corpus.skipped] == ["q/a/link: a link to a folder already read"]


def test_a_dangling_link_that_is_no_document_is_only_skipped(folder: Path) -> None:
    (folder / "images").symlink_to(folder / "gone-folder")
    corpus = load_corpus(folder)
    assert len(corpus.documents) == 4
    assert [str(p) for p in corpus.skipped] == ["passages/images: a link to nothing: skipped"]


def test_a_link_to_the_whole_disk_stops_with_one_problem(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(files, "MAX_ENTRIES", 50)
    (folder / "everything").symlink_to("/usr")
    (found,) = problems(folder)
    assert "more than 50 entries: does a link point at a whole disk?" in found
