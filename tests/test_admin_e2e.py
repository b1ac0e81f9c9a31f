"""Owner operations end to end: who may do what, reloads, signals, shutdown, secrets."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from pathlib import Path

import discord
import pytest

from bot.config import Settings
from bot.discord.bot import StartupError
from bot.discord.logs import REDACTED, RedactSecrets
from bot.discord.run import install_signal_handlers, sync_commands
from tests.conftest import document_text
from tests.fakediscord import FakeDiscord
from tests.fakediscord.patch import patched
from tests.lectern_harness import run_lectern

EPHEMERAL = 64


@pytest.fixture
def owners(fake_discord: FakeDiscord):
    return fake_discord.add_guild("Owners", channels=["ops"])


@pytest.fixture
def boss(fake_discord: FakeDiscord, owners):
    """The application's owner, as a member of the owners' server."""
    return next(m for m in owners.members if m.user.id == fake_discord.owner.id)


def description(reply) -> str:  # type: ignore[no-untyped-def]
    return str(reply.data["embeds"][0]["description"])


async def test_admin_is_registered_only_in_the_owners_guild(fake_discord, tmp_path, owners) -> None:
    elsewhere = fake_discord.add_guild("Readers")
    async with run_lectern(fake_discord, tmp_path, dev_guild_id=owners.id):
        guild_commands = {c["name"]: c for c in fake_discord.commands(owners)}
        assert "admin" in guild_commands and "admin" not in {
            c["name"] for c in fake_discord.commands()
        }
        assert not fake_discord.commands(elsewhere)
    admin = guild_commands["admin"]
    assert admin["default_member_permissions"] == "0"
    assert {o["name"] for o in admin["options"]} == {"reload", "stats", "sync"}


async def test_without_a_dev_guild_admin_is_not_registered(fake_discord, tmp_path) -> None:
    async with run_lectern(fake_discord, tmp_path) as bot:
        assert "admin" not in {c.name for c in bot.tree.walk_commands()}


@pytest.mark.parametrize("who", ["manager", "member", "loosened"])
async def test_only_owners_may_use_admin(fake_discord, tmp_path, owners, who) -> None:
    members = {
        "manager": owners.add_member("manager", permissions=discord.Permissions(manage_guild=True)),
        "member": owners.add_member("member"),
        # A server admin loosened the hint: a member with no permissions at all reaches the bot.
        "loosened": owners.add_member("loosened", permissions=discord.Permissions.none()),
    }
    async with run_lectern(fake_discord, tmp_path, dev_guild_id=owners.id) as bot:
        for command in ("admin stats", "admin reload", "admin sync"):
            reply = await fake_discord.slash(command, guild=owners, user=members[who])
            assert reply.data["flags"] & EPHEMERAL
            assert description(reply) == "Only Lectern's owners can use /admin."
        trail = await bot.services.audit.trail()
    assert [e.result for e in trail] == ["refused"] * 3


async def test_application_owner_and_configured_owners_may(
    fake_discord, tmp_path, owners, boss
) -> None:
    chosen = owners.add_member("chosen")
    async with run_lectern(fake_discord, tmp_path, dev_guild_id=owners.id):
        app_owner = await fake_discord.slash("admin stats", guild=owners, user=boss)
    async with run_lectern(
        fake_discord, tmp_path, dev_guild_id=owners.id, owner_ids=frozenset({chosen.id})
    ):
        configured = await fake_discord.slash("admin stats", guild=owners, user=chosen)
        not_any_more = await fake_discord.slash("admin stats", guild=owners, user=boss)
    for reply in (app_owner, configured):
        names = [f["name"] for f in reply.data["embeds"][0]["fields"]]
        assert names[:4] == ["Version", "Uptime", "Servers", "Gateway latency"]
        assert "Interactions" in names and "Recent admin actions" in names
    assert description(not_any_more) == "Only Lectern's owners can use /admin."


async def test_team_members_are_owners(fake_discord, tmp_path, owners) -> None:
    teammate = owners.add_member("teammate")
    fake_discord.set_team(fake_discord.owner, teammate.user)
    async with run_lectern(fake_discord, tmp_path, dev_guild_id=owners.id):
        reply = await fake_discord.slash("admin stats", guild=owners, user=teammate)
    assert reply.data["embeds"][0]["title"] == "Lectern status"


async def test_reload_good_change_then_bad_change(
    fake_discord, tmp_path, owners, boss, passages_dir
) -> None:
    async with run_lectern(
        fake_discord, tmp_path, passages=passages_dir, dev_guild_id=owners.id
    ) as bot:
        (passages_dir / "new-essay.md").write_text(
            document_text("First.\n\nSecond."), encoding="utf-8"
        )
        dry = await fake_discord.slash(
            "admin reload", guild=owners, user=boss, options={"dry_run": True}
        )
        assert dry.data["embeds"][0]["title"] == "Dry run: this is what would change"
        assert await bot.services.corpus.passage("new-essay-1") is None
        good = await fake_discord.slash("admin reload", guild=owners, user=boss)
        fields = {f["name"]: f["value"] for f in good.data["embeds"][0]["fields"]}
        assert good.data["embeds"][0]["title"] == "Corpus reloaded"
        assert fields["Passages"] == "62 → 64" and fields["Added"] == "`new-essay`"
        assert await bot.services.corpus.passage("new-essay-2") is not None

        (passages_dir / "broken.md").write_text("+++\ntitle = 'x'\n", encoding="utf-8")
        (passages_dir / "metaphor.md").unlink()
        bad = await fake_discord.slash("admin reload", guild=owners, user=boss)
        assert bad.data["embeds"][0]["title"] == "Reload refused"
        assert "broken.md:1: front matter is not closed" in description(bad)
        assert "Nothing was changed" in description(bad)
        assert (await bot.services.corpus.stats()).passages == 64
        trail = [(e.action, e.result) for e in await bot.services.audit.trail()]
    assert trail[:3] == [("reload", "refused"), ("reload", "ok"), ("reload --dry-run", "ok")]


async def test_reload_removing_a_document_explains_old_buttons(
    fake_discord, tmp_path, owners, boss, passages_dir
) -> None:
    reader = owners.add_member("reader")
    async with run_lectern(fake_discord, tmp_path, passages=passages_dir, dev_guild_id=owners.id):
        shown = await fake_discord.slash(
            "passage", guild=owners, user=reader, options={"id": "metaphor-3"}
        )
        (passages_dir / "metaphor.md").unlink()
        reloaded = await fake_discord.slash("admin reload", guild=owners, user=boss)
        fields = {f["name"]: f["value"] for f in reloaded.data["embeds"][0]["fields"]}
        assert "`metaphor-3`" in fields["Ids that no longer exist (15)"]
        old = await fake_discord.click("lx:next:metaphor-3", user=reader, message=shown.original)
        still = await fake_discord.click("lx:share:metaphor-3", user=reader, message=shown.original)
    for reply in (old, still):
        assert reply.data["flags"] & EPHEMERAL
        assert "no longer in the corpus" in description(reply)


async def test_many_problems_come_as_a_file(
    fake_discord, tmp_path, owners, boss, passages_dir
) -> None:
    async with run_lectern(
        fake_discord, tmp_path, passages=passages_dir, dev_guild_id=owners.id
    ) as bot:
        for i in range(120):
            (passages_dir / f"bad-{i:03d}.md").write_text("no front matter", encoding="utf-8")
        reply = await fake_discord.slash("admin reload", guild=owners, user=boss)
        assert (await bot.services.corpus.stats()).passages == 62
    assert len(description(reply)) <= 4096
    (attachment,) = reply.data["attachments"]
    assert attachment["filename"] == "problems.txt"


async def test_sync_warns_before_spending_the_budget(fake_discord, tmp_path, owners, boss) -> None:
    async with run_lectern(fake_discord, tmp_path, dev_guild_id=owners.id, sync=False):
        warn = await fake_discord.slash("admin sync", guild=owners, user=boss)
        assert warn.data["embeds"][0]["title"] == "Confirm the sync"
        assert "creates 11 new command(s): Passages like this, about, card, daily" in description(
            warn
        )
        assert not fake_discord.commands()
        done = await fake_discord.slash(
            "admin sync", guild=owners, user=boss, options={"confirm": True}
        )
        assert description(done) == "Synced 11 commands globally (11 new)."
        again = await fake_discord.slash("admin sync", guild=owners, user=boss)
        assert description(again) == "Synced 11 commands globally."
    published = {c["name"]: c for c in fake_discord.commands()}
    assert {"quote", "search", "Passages like this"} <= set(published)
    assert "admin" not in published  # /admin stays in the owners' server
    assert published["Passages like this"]["type"] == 3


async def test_lectern_sync_from_the_shell(fake_discord, tmp_path) -> None:
    settings = Settings(token=fake_discord.token, db_path=tmp_path / "db.sqlite3")
    with patched(fake_discord.api_base, fake_discord.gateway_url):
        count = await sync_commands(settings)
        bad = Settings(token="not-the-right-token-at-all", db_path=tmp_path / "db.sqlite3")
        with pytest.raises(StartupError, match="refused the token"):
            await sync_commands(bad)
    assert (
        count == 11 and len(fake_discord.commands()) == 11
    )  # 8 reading, /daily, a message command


async def test_sighup_reloads_the_corpus(fake_discord, tmp_path, passages_dir) -> None:
    async with run_lectern(fake_discord, tmp_path, passages=passages_dir) as bot:
        undo = install_signal_handlers(bot)
        try:
            (passages_dir / "late.md").write_text(document_text("Arrived late."), encoding="utf-8")
            os.kill(os.getpid(), signal.SIGHUP)
            for _ in range(500):  # the reload runs in the background; poll, do not sleep long
                trail = await bot.services.audit.trail(1)
                if trail:
                    break
                await asyncio.sleep(0.01)
            assert (await bot.services.corpus.passage("late-1")) is not None
        finally:
            undo()
    assert (trail[0].actor, trail[0].action, trail[0].result) == ("SIGHUP", "reload", "ok")


async def test_sigterm_during_a_command_answers_it_then_stops(
    fake_discord, tmp_path, owners
) -> None:
    reader = owners.add_member("reader")
    async with run_lectern(fake_discord, tmp_path) as bot:
        original = bot.services.reading.sources
        started = asyncio.Event()

        async def slow(**kwargs):  # type: ignore[no-untyped-def]
            started.set()
            await asyncio.sleep(0.2)
            return await original(**kwargs)

        bot.services.reading.sources = slow  # type: ignore[method-assign]
        undo = install_signal_handlers(bot)
        try:
            pending = asyncio.ensure_future(
                fake_discord.slash("sources", guild=owners, user=reader)
            )
            await started.wait()
            os.kill(os.getpid(), signal.SIGTERM)
            reply = await pending
            await fake_discord.wait_for(lambda: bot.is_closed() or None, 5, "bot closed")
        finally:
            undo()
    assert reply.data["embeds"][0]["title"] == "Sources"
    assert bot.is_closed()


async def test_a_full_run_never_logs_the_token(
    fake_discord, tmp_path, owners, boss, caplog
) -> None:
    reader = owners.add_member("reader")
    with caplog.at_level(logging.DEBUG):
        async with run_lectern(fake_discord, tmp_path, dev_guild_id=owners.id):
            await fake_discord.slash("quote", guild=owners, user=reader)
            await fake_discord.slash("admin reload", guild=owners, user=boss)
            await fake_discord.drop_connection()
    assert "IDENTIFY" in caplog.text or len(caplog.records) > 20
    assert fake_discord.token not in caplog.text


def test_configured_logging_redacts_the_token_everywhere_it_writes(tmp_path: Path) -> None:
    import io

    from bot.discord.logs import configure_logging

    token = "MTAxMjM0.the-real-token-value-xyz"
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    try:
        configure_logging(Settings(token=token, log_file=tmp_path / "lectern.log"))
        installed = [h for h in root.handlers if h not in before]
        assert installed, "configure_logging adds the terminal and file handlers"
        terminal = io.StringIO()
        for handler in installed:
            if isinstance(handler, logging.StreamHandler) and not isinstance(
                handler, logging.FileHandler
            ):
                handler.setStream(terminal)
        try:
            raise RuntimeError(f"request failed: Authorization: Bot {token}")
        except RuntimeError:
            logging.getLogger("discord.http").exception("sending with %s", token)
        for handler in installed:
            handler.flush()
    finally:
        for handler in root.handlers[:]:
            if handler not in before:
                root.removeHandler(handler)
                handler.close()
        root.setLevel(level)
    written = (tmp_path / "lectern.log").read_text()
    for output in (written, terminal.getvalue()):
        assert "sending with" in output and "request failed" in output
        assert token not in output and output.count(REDACTED) >= 2


def test_redaction_filter_covers_messages_arguments_and_tracebacks() -> None:
    token = "MTAxMjM0.secret-token-value-xyz"
    try:
        raise RuntimeError(f"failed with {token}")
    except RuntimeError:
        import sys

        record = logging.LogRecord(
            "x", logging.ERROR, __file__, 1, "token %s", (token,), sys.exc_info()
        )
    assert RedactSecrets(token).filter(record)
    formatted = logging.Formatter().format(record)
    assert token not in formatted and REDACTED in formatted


async def test_a_bad_token_stops_with_one_sentence(fake_discord, tmp_path) -> None:
    from bot.discord.run import run_bot

    settings = Settings(
        token="a-wrong-token-for-this-fake",
        db_path=tmp_path / "db.sqlite3",
        log_file=tmp_path / "lectern.log",
    )
    root = logging.getLogger()
    handlers = list(root.handlers)
    try:
        with (
            patched(fake_discord.api_base, fake_discord.gateway_url),
            pytest.raises(StartupError, match="Discord refused the token"),
        ):
            await run_bot(settings)
    finally:
        for handler in root.handlers[:]:
            if handler not in handlers:
                root.removeHandler(handler)
                handler.close()
    log_text = (tmp_path / "lectern.log").read_text()
    assert "a-wrong-token-for-this-fake" not in log_text


async def test_invalid_corpus_on_first_start_is_fatal(fake_discord, tmp_path) -> None:
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "x.md").write_text("nothing", encoding="utf-8")
    with pytest.raises(StartupError, match="no earlier corpus"):
        async with run_lectern(fake_discord, tmp_path, passages=folder):
            pass


async def test_backup_while_the_bot_runs(fake_discord, tmp_path) -> None:
    import sqlite3

    async with run_lectern(fake_discord, tmp_path) as bot:
        await bot.services.db.backup(tmp_path / "copy.sqlite3")
    with sqlite3.connect(tmp_path / "copy.sqlite3") as copy:
        assert copy.execute("SELECT count(*) FROM passages").fetchone()[0] == 62
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


async def test_an_unreachable_discord_is_one_sentence_to_retry_later(tmp_path) -> None:
    import socket

    from bot.discord.bot import DiscordUnreachable
    from bot.discord.run import run_bot

    with socket.socket() as probe:  # a port on 127.0.0.1 that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = Settings(token="a" * 30 + ".fake", db_path=tmp_path / "db.sqlite3")
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        with (
            patched(f"http://127.0.0.1:{port}/api/v10", f"ws://127.0.0.1:{port}/"),
            pytest.raises(DiscordUnreachable, match="could not reach Discord"),
        ):
            await run_bot(settings)
    finally:
        for handler in root.handlers[:]:
            if handler not in handlers:
                root.removeHandler(handler)
        for handler in handlers:
            if handler not in root.handlers:
                root.addHandler(handler)
        root.setLevel(level)


async def test_lectern_sync_with_discord_unreachable_is_one_sentence(tmp_path) -> None:
    import socket

    from bot.discord.bot import DiscordUnreachable

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = Settings(token="a" * 30 + ".fake", db_path=tmp_path / "db.sqlite3")
    with (
        patched(f"http://127.0.0.1:{port}/api/v10", f"ws://127.0.0.1:{port}/"),
        pytest.raises(DiscordUnreachable, match="could not reach Discord"),
    ):
        await sync_commands(settings)


def test_logging_prints_each_line_once_and_names_an_unwritable_log_file(tmp_path) -> None:
    from bot.config import ConfigError
    from bot.discord.logs import configure_logging

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        logging.basicConfig(force=True)  # what the command line set up before the bot starts
        configure_logging(Settings(token="t" * 30))
        terminal = [h for h in root.handlers if isinstance(h, logging.StreamHandler)]
        assert len(terminal) == 1
        with pytest.raises(ConfigError, match="LECTERN_LOG_FILE: cannot write /proc/"):
            configure_logging(Settings(log_file=Path("/proc/lectern/lectern.log")))
    finally:
        for handler in root.handlers[:]:
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)
