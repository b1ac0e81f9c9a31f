"""The lectern command line, run as a real subprocess the way a host runs it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.conftest import document_text, lectern_cli, require_reader, run_as_reader

lectern = lectern_cli


def test_run_without_token_shows_the_corpus_offline(tmp_path: Path) -> None:
    result = lectern(tmp_path, "run")  # no standard input: the console greets and ends
    assert result.returncode == 0, result.stderr
    assert "4 documents, 62 passages" in result.stdout and "Reflection for" in result.stdout
    assert "DISCORD_TOKEN" in result.stderr and "Traceback" not in result.stderr


def test_passages_json_has_every_passage(tmp_path: Path) -> None:
    result = lectern(tmp_path, "passages", "--json")
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 62
    assert {"id", "document", "title", "author", "kind", "position", "text"} <= set(records[0])
    poem = [r for r in records if r["document"] == "shape-of-attention"]
    assert [r["position"] for r in poem] == list(range(1, 26))
    assert poem[6]["id"] == "shape-of-attention-7" and "\n" in poem[6]["text"]


def test_stats_lists_documents(tmp_path: Path) -> None:
    result = lectern(tmp_path, "stats")
    assert result.returncode == 0
    assert "4 documents, 62 passages" in result.stdout
    assert "shape-of-attention" in result.stdout and "9 authors" in result.stdout
    assert "The Shape of Attention (Kenneth Reitz)" in result.stdout


def test_ingest_check_reports_every_problem_and_writes_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "good.md").write_text(document_text("Fine."), encoding="utf-8")
    (folder / "bad.md").write_text(document_text("Text.", kind="novel"), encoding="utf-8")
    result = lectern(tmp_path, "ingest", "--check", str(folder))
    assert result.returncode == 1
    assert "mine/bad.md:1: unknown kind 'novel'" in result.stderr
    assert "nothing was changed" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "db.sqlite3").exists()


def test_ingest_then_unchanged(tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "one.md").write_text(document_text("A.\n\nB."), encoding="utf-8")
    first = lectern(tmp_path, "ingest", str(folder))
    second = lectern(tmp_path, "ingest", str(folder))
    assert "Ingested 1 documents, 2 passages" in first.stdout
    assert "Corpus unchanged" in second.stdout


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"LECTERN_OWNER_IDS": "me"}, "LECTERN_OWNER_IDS must be a Discord id"),
        ({"LECTERN_OWNER_IDS": "١٢٣٤٥٦٧٨٩٠١٢٣٤٥٦"}, "LECTERN_OWNER_IDS must be a Discord id"),
        ({"LECTERN_DEV_GUILD_ID": "①②③④⑤⑥⑦⑧⑨①②③④⑤⑥"}, "LECTERN_DEV_GUILD_ID must be"),
        ({"LECTERN_COOLDOWN_SECONDS": "²"}, "LECTERN_COOLDOWN_SECONDS must be a number"),
        ({"LECTERN_DB": "/dev/full"}, "LECTERN_DB: /dev/full is not a regular file"),
        ({"LECTERN_DB": "/etc/hostname/lectern.sqlite3"}, "/etc/hostname is a file"),
        ({"LECTERN_DB": "/"}, "LECTERN_DB: / is a folder"),
        ({"LECTERN_LOG_FILE": "/dev/full"}, "LECTERN_LOG_FILE: /dev/full is not a regular"),
        ({"LECTERN_LOG_FILE": "/tmp"}, "LECTERN_LOG_FILE: /tmp is a folder"),
        ({"LECTERN_DB": "/proc/lectern/db.sqlite3"}, "LECTERN_DB (/proc/lectern/db.sqlite3)"),
        ({"LECTERN_DB": "x" * 5000}, "LECTERN_DB"),
    ],
)
def test_bad_settings_are_one_line_not_a_traceback(
    tmp_path: Path, env: dict[str, str], message: str
) -> None:
    result = lectern(tmp_path, "stats", **env)
    assert result.returncode == 78, result.stderr  # EX_CONFIG: systemd does not retry
    assert message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_unusable_database_is_one_clear_sentence(tmp_path: Path) -> None:
    (tmp_path / "db.sqlite3").write_text("garbage " * 1000)
    result = lectern(tmp_path, "stats")
    assert result.returncode == 78
    assert "LECTERN_DB" in result.stderr and "not a usable SQLite database" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("kind", ["folder", "not utf-8", "unreadable", "pipe", "nul"])
def test_a_bad_env_file_is_one_line_naming_it(shared_dir: Path, kind: str) -> None:
    env = shared_dir / ".env"
    if kind == "folder":
        env.mkdir()
    elif kind == "not utf-8":
        env.write_bytes(b"LECTERN_LOG_LEVEL=INFO\nDISCORD_TOKEN=\xff\xfe\n")
    elif kind == "pipe":  # reading it would wait for a writer forever
        os.mkfifo(env)
    elif kind == "nul":
        env.write_bytes(b"LECTERN_LOG_FILE=data/\x00lectern.log\n")
    else:
        require_reader()
        env.write_text("LECTERN_LOG_LEVEL=INFO\n")
        env.chmod(0)
    result = run_as_reader(shared_dir, "stats")
    assert result.returncode == 78, result.stderr
    named = ".env" if kind != "nul" else "LECTERN_LOG_FILE contains a NUL byte"
    assert named in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_broken_passages_folder_is_one_line_for_the_shell(tmp_path: Path) -> None:
    result = lectern(tmp_path, "stats", LECTERN_PASSAGES_DIR="/nope")
    assert result.returncode == 78
    assert "lectern: LECTERN_PASSAGES_DIR: /nope: there is no such folder" in result.stderr
    assert "Traceback" not in result.stderr
    lectern(tmp_path, "stats")  # with a corpus stored, a broken folder is only a warning
    kept = lectern(tmp_path, "stats", LECTERN_PASSAGES_DIR="/nope")
    assert kept.returncode == 0 and "4 documents, 62 passages" in kept.stdout
    assert "warning: LECTERN_PASSAGES_DIR: /nope: there is no such folder; using" in kept.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_invite_link_has_exactly_the_needed_permissions(tmp_path: Path) -> None:
    import discord

    from bot.admin.invite import PERMISSION_NAMES, PERMISSIONS, SCOPES, client_id_from_token

    result = lectern(tmp_path, "invite", "--client-id", "123456789012345678")
    assert result.returncode == 0
    # the hand-written bits and link are exactly what discord.py would build
    required = discord.Permissions(PERMISSIONS)
    expected = discord.utils.oauth_url(123456789012345678, permissions=required, scopes=SCOPES)
    server, user = result.stdout.strip().splitlines()
    assert server == expected
    assert user == (
        "https://discord.com/oauth2/authorize?client_id=123456789012345678"
        "&integration_type=1&scope=applications.commands"
    )
    assert "scope=bot+applications.commands" in result.stdout
    granted = {name for name, on in required if on}
    assert granted == {
        "read_messages",
        "send_messages",
        "embed_links",
        "attach_files",
        "read_message_history",
        "create_public_threads",
        "send_messages_in_threads",
    }
    assert len(PERMISSION_NAMES) == len(granted)
    assert not required.administrator and not required.mention_everyone
    assert client_id_from_token("MTIzNDU2Nzg5MDEyMzQ1Njc4.Gx.secret") == 123456789012345678
    assert client_id_from_token("not base64!.x") is None


def test_invite_without_id_or_token_says_what_to_do(tmp_path: Path) -> None:
    result = lectern(tmp_path, "invite")
    assert result.returncode == 2 and "--client-id" in result.stderr
