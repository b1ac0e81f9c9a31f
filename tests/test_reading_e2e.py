"""The reading commands end to end: the real LecternBot, the real discord.py, a fake Discord."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import discord
import pytest

from bot.discord import answer as discord_ui
from tests.conftest import document_text
from tests.fakediscord import FakeDiscord
from tests.lectern_harness import (
    FIXED_NOW,
    button,
    buttons,
    component_ids,
    run_lectern,
    shown,
)

EPHEMERAL = 64
READING = {"quote", "search", "passage", "poem", "read", "card", "reflection", "sources", "about"}


@pytest.fixture
def guild(fake_discord: FakeDiscord):
    return fake_discord.add_guild("Readers", channels=["general"])


@pytest.fixture
def reader(guild):
    return guild.add_member("reader")


async def test_commands_are_registered_with_valid_payloads(fake_discord, tmp_path, guild) -> None:
    async with run_lectern(fake_discord, tmp_path):
        registered = {c["name"]: c for c in fake_discord.commands()}
    assert set(registered) == READING | {"daily", "Passages like this"}
    quote = {o["name"]: o for o in registered["quote"]["options"]}
    assert quote["document"]["autocomplete"] and quote["author"]["autocomplete"]
    assert not quote["document"]["required"]
    assert registered["search"]["options"][0]["max_length"] == 300
    for name in READING | {"Passages like this"}:  # a user install reaches them everywhere
        assert registered[name]["integration_types"] == [0, 1], name
        assert registered[name]["contexts"] == [0, 1, 2], name
    # configuring a server needs the bot in it: set explicitly, never null
    assert registered["daily"]["integration_types"] == [0]
    assert registered["daily"]["contexts"] == [0]
    assert registered["Passages like this"]["type"] == 3
    # fake_discord fails the test on any payload breach at teardown


async def test_quote_answers_with_a_passage_and_buttons(
    fake_discord, tmp_path, guild, reader
) -> None:
    async with run_lectern(fake_discord, tmp_path):
        reply = await fake_discord.slash("quote", guild=guild, user=reader)
    assert reply.callback["type"] == 4
    data = reply.data
    assert not data.get("flags", 0) & EPHEMERAL
    assert data["allowed_mentions"] == {"parse": []}
    passage_id = shown(data).subtext.split(" · ")[1]
    ids = component_ids(data)
    assert f"lx:next:{passage_id}" in ids and f"lx:share:{passage_id}" in ids
    assert any(i.startswith("lx:again:") for i in ids)
    assert reply.elapsed is not None and reply.elapsed < 3


async def test_quote_filters_and_autocomplete(fake_discord, tmp_path, guild, reader) -> None:
    async with run_lectern(fake_discord, tmp_path):
        authors = await fake_discord.autocomplete(
            "quote", focused="author", value="ji", guild=guild, user=reader
        )
        documents = await fake_discord.autocomplete(
            "quote", focused="document", value="SHAPE", guild=guild, user=reader
        )
        by_jinx = await fake_discord.slash(
            "quote", guild=guild, user=reader, options={"author": "Jinx"}
        )
        typed = await fake_discord.slash(
            "quote", guild=guild, user=reader, options={"document": "the shape"}
        )
        another = await fake_discord.click(button(by_jinx.data, "Another"), user=reader)
    assert [c["value"] for c in authors.choices] == ["Jinx"]
    assert [c["value"] for c in documents.choices] == ["shape-of-attention"]
    assert shown(by_jinx.data).heading.endswith(" · Jinx")
    assert shown(typed.data).heading.startswith("**The Shape of Attention**")
    assert shown(another.data).heading.endswith(" · Jinx")
    assert another.data["flags"] & EPHEMERAL  # browsing from a public message is private


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"document": "zzz"}, "No document called “zzz”"),
        ({"author": "Nobody"}, "No author called “Nobody”"),
        ({"about": "quasar"}, "No passage about “quasar”"),
        ({"document": "metaphor", "author": "Jinx"}, "No passage in `metaphor` by Jinx"),
    ],
)
async def test_quote_misses_are_friendly_and_private(
    fake_discord, tmp_path, guild, reader, options, expected
) -> None:
    async with run_lectern(fake_discord, tmp_path):
        reply = await fake_discord.slash("quote", guild=guild, user=reader, options=options)
    assert reply.data["flags"] & EPHEMERAL
    assert expected in reply.data["embeds"][0]["description"]


async def test_search_pages_and_opens_results(fake_discord, tmp_path, guild, reader) -> None:
    async with run_lectern(fake_discord, tmp_path):
        results = await fake_discord.slash(
            "search", guild=guild, user=reader, options={"query": "attention"}
        )
        embed = results.data["embeds"][0]
        assert results.data["flags"] & EPHEMERAL
        assert embed["description"].startswith("30 passages match. Showing 1–5.")
        assert "**attention**" in " ".join(f["value"] for f in embed["fields"]).lower()
        page2 = await fake_discord.click(
            button(results.data, "▶"), user=reader, message=results.original
        )
        assert page2.callback["type"] == 7  # the invoker turns pages in place
        assert page2.data["embeds"][0]["description"].startswith("30 passages match. Showing 6–10.")
        opened = await fake_discord.click(button(page2.data, "6"), user=reader)
        assert (
            shown(opened.data).subtext.split(" · ")[1]
            in page2.data["embeds"][0]["fields"][0]["value"]
        )


async def test_passage_by_id_with_autocomplete_and_neighbours(
    fake_discord, tmp_path, guild, reader
) -> None:
    other = guild.add_member("other")
    async with run_lectern(fake_discord, tmp_path):
        ac = await fake_discord.autocomplete(
            "passage", focused="id", value="shape-of-attention-2", guild=guild, user=reader
        )
        assert [c["value"] for c in ac.choices][:2] == [
            "shape-of-attention-2",
            "shape-of-attention-20",
        ]
        assert len(ac.choices) <= 25
        reply = await fake_discord.slash(
            "passage", guild=guild, user=reader, options={"id": "Shape-of-Attention-7"}
        )
        assert shown(reply.data).subtext == "stanza 7 of 24 · shape-of-attention-7"
        nxt = await fake_discord.click("lx:next:shape-of-attention-7", user=other)
        assert nxt.data["flags"] & EPHEMERAL
        assert shown(nxt.data).subtext.startswith("stanza 8 of 24")
        back = await fake_discord.click("lx:prev:shape-of-attention-8", user=other)
        assert back.callback["type"] == 7  # on a private message: moves in place
        assert shown(back.data).subtext.startswith("stanza 7 of 24")
        shared = await fake_discord.click(button(back.data, "Share"), user=other)
        assert not shared.data.get("flags", 0) & EPHEMERAL
        assert "Share" not in [c.get("label") for c in buttons(shared.data)]
        more = await fake_discord.click("lx:more:shape-of-attention-7", user=other)
        assert more.data["embeds"][0]["title"] == "More like this"
        missing = await fake_discord.slash(
            "passage", guild=guild, user=reader, options={"id": "shape-of-attention-99"}
        )
        assert "No passage has the id" in missing.data["embeds"][0]["description"]
        first = await fake_discord.slash(
            "passage", guild=guild, user=reader, options={"id": "metaphor-1"}
        )
        prev_button = next(c for c in buttons(first.data) if c.get("label") == "◀ Previous")
        assert prev_button["disabled"]


async def test_poem_keeps_every_line_break(fake_discord, tmp_path, guild, reader) -> None:
    async with run_lectern(fake_discord, tmp_path) as bot:
        reply = await fake_discord.slash("poem", guild=guild, user=reader)
        second = await fake_discord.click(button(reply.data, "▶"), user=reader)
        found = await bot.services.corpus.document("shape-of-attention")
    assert found is not None
    pages = [shown(reply.data), shown(second.data)]
    assert pages[0].heading == "**The Shape of Attention** · Kenneth Reitz"
    stanzas = [p.text for p in found[1] if p.unit == "stanza"]
    # every stanza whole, every line break kept, on one page or the other, in order
    assert "\n\n".join(stanzas) in "\n\n".join(p.body for p in pages)
    assert all(any(s in p.body for p in pages) for s in stanzas)


async def test_read_pages_only_the_invoker_turns(fake_discord, tmp_path, guild, reader) -> None:
    other = guild.add_member("other")
    async with run_lectern(fake_discord, tmp_path):
        reply = await fake_discord.slash(
            "read", guild=guild, user=reader, options={"document": "essay-comments"}
        )
        assert shown(reply.data).subtext.endswith("page 1 of 4")
        mine = await fake_discord.click(
            button(reply.data, "▶"), user=reader, message=reply.original
        )
        assert mine.callback["type"] == 7
        theirs = await fake_discord.click(
            button(reply.original, "▶"), user=other, message=reply.original
        )
        assert theirs.callback["type"] == 4 and theirs.data["flags"] & EPHEMERAL
        assert shown(theirs.data).subtext.endswith("page 3 of 4")
        pages = [shown(reply.data).body, shown(mine.data).body, shown(theirs.data).body]
    text = "\n".join(pages)
    assert "**Arshavir Blackwell, PhD**" in text and "**nihal \\| deeptech decoded**" in text


async def test_reflection_is_the_same_all_day(fake_discord, tmp_path, guild, reader) -> None:
    async with run_lectern(fake_discord, tmp_path):
        first = await fake_discord.slash("reflection", guild=guild, user=reader)
        second = await fake_discord.slash("reflection", guild=guild, user=guild.add_member("b"))
        context = await fake_discord.click(button(first.data, "Read in context"), user=reader)
    assert shown(first.data).heading == f"Reflection for {FIXED_NOW:%A}, 23 November 2026"
    assert first.data["components"] == second.data["components"]
    assert context.data["flags"] & EPHEMERAL


async def test_sources_and_about(fake_discord, tmp_path, guild, reader) -> None:
    async with run_lectern(fake_discord, tmp_path):
        sources = await fake_discord.slash("sources", guild=guild, user=reader)
        about = await fake_discord.slash("about", guild=guild, user=reader)
    fields = sources.data["embeds"][0]["fields"]
    assert (
        len(fields) == 4 and sources.data["embeds"][0]["description"] == "4 documents, 62 passages."
    )
    assert any(
        "[source](https://github.com/kennethreitz/kennethreitz.org)" in f["value"] for f in fields
    )
    assert "Lectern" in about.data["embeds"][0]["footer"]["text"]


async def test_reading_works_in_dms(fake_discord, tmp_path) -> None:
    user = fake_discord.add_user("dm-reader")
    async with run_lectern(fake_discord, tmp_path):
        reply = await fake_discord.slash("quote", user=user)
    assert shown(reply.data).body


HOSTILE = [
    "",
    " ",
    "x" * 6000,
    '"',
    "AND(",
    "NEAR(a b)",
    "🙂" * 50,
    "\u200b\u200d",
    "@everyone",
    "<@&123456789012345678>",
    "*",
    "-",
    "'; DROP TABLE passages; --",
]


@pytest.mark.parametrize("text", HOSTILE)
async def test_hostile_input_gets_an_answer_within_the_rules(
    fake_discord, tmp_path, guild, reader, text
) -> None:
    async with run_lectern(fake_discord, tmp_path):
        answers = [
            await fake_discord.slash("search", guild=guild, user=reader, options={"query": text}),
            await fake_discord.slash(
                "quote", guild=guild, user=reader, options={"about": text, "author": text}
            ),
            await fake_discord.slash("passage", guild=guild, user=reader, options={"id": text}),
            await fake_discord.slash("read", guild=guild, user=reader, options={"document": text}),
            await fake_discord.autocomplete(
                "passage", focused="id", value=text, guild=guild, user=reader
            ),
        ]
    for reply in answers[:4]:  # a passage (V2) or a kind note (an embed)
        assert reply.data.get("embeds") or reply.data.get("components"), reply.data
    assert len(answers[4].choices) <= 25


async def test_mentions_in_passages_never_ping(fake_discord, tmp_path, guild, reader) -> None:
    folder = tmp_path / "pings"
    folder.mkdir()
    (folder / "ping.md").write_text(
        document_text("Hello @everyone and <@&123456789012345678> and @here."), encoding="utf-8"
    )
    async with run_lectern(fake_discord, tmp_path, passages=folder):
        reply = await fake_discord.slash("quote", guild=guild, user=reader)
        shared = await fake_discord.click("lx:share:ping-1", user=reader)
    assert "@everyone" in shown(reply.data).body
    assert reply.data["allowed_mentions"] == {"parse": []}
    assert shared.data["allowed_mentions"] == {"parse": []}


async def test_a_50000_character_passage_pages_within_limits(
    fake_discord, tmp_path, guild, reader
) -> None:
    folder = tmp_path / "long"
    folder.mkdir()
    words = " ".join(f"word{i % 97}" for i in range(8000))[:50_000]
    text = (words * 2)[:50_000].strip()
    (folder / "long.md").write_text(document_text(text), encoding="utf-8")
    async with run_lectern(fake_discord, tmp_path, passages=folder):
        reply = await fake_discord.slash(
            "passage", guild=guild, user=reader, options={"id": "long-1"}
        )
        pages = [shown(reply.data)]
        current = reply
        while True:
            ids = [c for c in buttons(current.data) if c.get("label") == "Page ▶"]
            if not ids or ids[0].get("disabled"):
                break
            current = await fake_discord.click(
                ids[0]["custom_id"], user=reader, message=reply.original
            )
            pages.append(shown(current.data))
    # the fake checked every page against Discord's 4,000 characters per V2 message
    assert all(len(p.heading) + len(p.body) + len(p.subtext) <= 4000 for p in pages)
    assert pages[0].subtext.endswith(f"page 1 of {len(pages)}")
    assert len(pages) >= 50_000 // 4000
    assert " ".join(p.body for p in pages).split() == text.split()


async def test_buttons_work_after_a_restart_and_vanished_passages_are_explained(
    fake_discord, tmp_path, guild, reader, passages_dir
) -> None:
    async with run_lectern(fake_discord, tmp_path, passages=passages_dir):
        reply = await fake_discord.slash(
            "passage", guild=guild, user=reader, options={"id": "metaphor-3"}
        )
    old_message = reply.original
    async with run_lectern(fake_discord, tmp_path, passages=passages_dir, sync=False):
        nxt = await fake_discord.click("lx:next:metaphor-3", user=reader, message=old_message)
        assert shown(nxt.data).subtext.startswith("entry 4 of 15")
    (passages_dir / "metaphor.md").unlink()
    async with run_lectern(fake_discord, tmp_path, passages=passages_dir, sync=False):
        gone = await fake_discord.click("lx:next:metaphor-3", user=reader, message=old_message)
    assert gone.data["flags"] & EPHEMERAL
    assert "no longer in the corpus" in gone.data["embeds"][0]["description"]


async def test_unexpected_errors_get_an_apology_and_a_logged_traceback(
    fake_discord, tmp_path, guild, reader, caplog
) -> None:
    async with run_lectern(fake_discord, tmp_path) as bot:

        async def broken(**kwargs: object) -> None:
            raise RuntimeError("the index caught fire")

        bot.services.reading.quote = broken  # type: ignore[method-assign,assignment]
        with caplog.at_level(logging.ERROR):
            reply = await fake_discord.slash("quote", guild=guild, user=reader)
    assert reply.data["flags"] & EPHEMERAL
    assert reply.data["embeds"][0]["description"].startswith("Sorry, something went wrong")
    assert "the index caught fire" in caplog.text and "Traceback" in caplog.text
    assert bot.counters["failed"] == 1


async def test_slow_work_is_deferred_then_answered(
    fake_discord, tmp_path, guild, reader, monkeypatch
) -> None:
    monkeypatch.setattr(discord_ui, "DEFER_AFTER", 0.01)
    async with run_lectern(fake_discord, tmp_path) as bot:
        original = bot.services.reading.sources

        async def slow(**kwargs):  # type: ignore[no-untyped-def]
            await asyncio.sleep(0.1)
            return await original(**kwargs)

        bot.services.reading.sources = slow  # type: ignore[method-assign]
        reply = await fake_discord.slash("sources", guild=guild, user=reader)
        assert reply.callback["type"] == 5
        message = await reply.followup(0)
    assert message["embeds"][0]["title"] == "Sources"


def _text(reply) -> str:  # type: ignore[no-untyped-def]
    return reply.data["embeds"][0]["description"]


async def test_reading_commands_have_a_burst_then_a_friendly_wait(
    fake_discord, tmp_path, guild, reader
) -> None:
    now = int(FIXED_NOW.timestamp())
    async with run_lectern(fake_discord, tmp_path, cooldown=60):  # burst: the default 5
        burst = [await fake_discord.slash("about", guild=guild, user=reader) for _ in range(5)]
        refused = await fake_discord.slash("passage", guild=guild, user=reader,
                                           options={"id": "metaphor-1"})  # fmt: skip
        someone_else = await fake_discord.slash("about", guild=guild, user=guild.add_member("b"))
        # buttons and autocomplete are never throttled
        first = burst[0]
        ac = await fake_discord.autocomplete(
            "passage", focused="id", value="meta", guild=guild, user=reader
        )
        passage = await fake_discord.slash(
            "passage", guild=guild, user=guild.add_member("c"), options={"id": "metaphor-1"}
        )
        clicked = await fake_discord.click(button(passage.data, "Next ▶"), user=reader)
    assert all("Easy there" not in _text(r) for r in burst)
    assert refused.data["flags"] & EPHEMERAL and "Easy there" in _text(refused)
    retry_at = int(_text(refused).split("<t:")[1].split(":R>")[0])
    assert now + 59 <= retry_at <= now + 61  # a Discord relative timestamp, one refill away
    assert "Easy there" not in _text(someone_else) and "Easy there" not in _text(first)
    assert ac.choices and "metaphor-2" in shown(clicked.data).subtext


async def test_server_commands_are_never_throttled(fake_discord, tmp_path, guild) -> None:
    admin = guild.add_member("admin", permissions=discord.Permissions(manage_guild=True))
    options = {"channel": guild.channel("general"), "time": "09:00", "timezone": "Europe/Berlin"}
    async with run_lectern(fake_discord, tmp_path, cooldown=60, cooldown_burst=1):
        read = await fake_discord.slash("about", guild=guild, user=admin)
        again = await fake_discord.slash("about", guild=guild, user=admin)
        answers = [
            await fake_discord.slash("daily set", guild=guild, user=admin, options=options),
            await fake_discord.slash("daily status", guild=guild, user=admin),
            await fake_discord.slash("daily preview", guild=guild, user=admin),
            await fake_discord.slash("daily off", guild=guild, user=admin),
        ]
    assert "Easy there" not in _text(read) and "Easy there" in _text(again)
    texts = [str(a.data) for a in answers]
    assert not any("Easy there" in t for t in texts)
    assert "Daily reflections on" in texts[0] and "Europe/Berlin" in texts[1]


async def test_every_extension_loads_and_names_are_unique(fake_discord, tmp_path: Path) -> None:
    async with run_lectern(fake_discord, tmp_path, sync=False) as bot:
        names = [c.qualified_name for c in bot.tree.walk_commands()]
    assert len(names) == len(set(names))
    assert set(names) >= READING


async def test_a_document_too_long_for_pages_is_also_a_file(
    fake_discord, tmp_path, guild, reader
) -> None:
    folder = tmp_path / "huge"
    folder.mkdir()
    stanzas = "\n\n".join(
        f"stanza {i} line one\nline two of {i}\n" + "word " * 150 for i in range(600)
    )
    (folder / "huge.md").write_text(document_text(stanzas, kind="poem"), encoding="utf-8")
    async with run_lectern(fake_discord, tmp_path, passages=folder):
        reply = await fake_discord.slash(
            "read", guild=guild, user=reader, options={"document": "huge"}
        )
        last = await fake_discord.click(
            button(reply.data, "▶"), user=reader, message=reply.original
        )
    (attachment,) = reply.data["attachments"]
    assert attachment["filename"] == "huge.md"
    (upload,) = [f for f in fake_discord.files if f["filename"] == "huge.md"]
    assert upload["size"] > 400_000
    pages = int(shown(reply.data).subtext.rsplit(" of ", 1)[1])
    assert pages > 20  # past MAX_PAGES: offered as a file, and still paged
    assert shown(last.data).subtext.endswith(f"page 2 of {pages}")
    assert fake_discord.message(reply.original["id"])["attachments"]  # the file stays...
    # ...and stays in view: V2 shows only the files its components point at
    assert shown(reply.data).files == shown(last.data).files == ["attachment://huge.md"]


def _planted(fake: FakeDiscord, guild, *custom_ids: str) -> dict:  # type: ignore[no-untyped-def]
    """A message with embeds and loose buttons, as Lectern posted them before this release."""
    row = [
        {"type": 2, "style": 2, "label": str(i), "custom_id": c} for i, c in enumerate(custom_ids)
    ]
    body = {"embeds": [{"title": "old"}], "components": [{"type": 1, "components": row}]}
    return fake.post_as_bot(guild.channel("general"), body)


async def test_buttons_posted_before_typed_ids_still_work_and_forged_ones_are_out_of_date(
    fake_discord, tmp_path, guild, reader
) -> None:
    forged = ["lx:pp:metaphor-1:99999999999:1", "lx:dance:1", "lx:sp:nothex0000000000:0:1"]
    old = _planted(fake_discord, guild, "lx:next:metaphor-1", "lx:src:0:1", *forged)
    async with run_lectern(fake_discord, tmp_path):
        following = await fake_discord.click("lx:next:metaphor-1", message=old, user=reader)
        sources = await fake_discord.click("lx:src:0:1", message=old, user=reader)
        refused = [await fake_discord.click(c, message=old, user=reader) for c in forged]
    assert "entry 2 of 15 · metaphor-2" in shown(following.data).subtext
    assert sources.data["embeds"][0]["title"] == "Sources"
    for reply in refused:
        assert reply.data["flags"] & EPHEMERAL
        assert "out of date" in reply.data["embeds"][0]["description"]


async def test_the_poem_names_its_author_wherever_it_shows(
    fake_discord, tmp_path, guild, reader
) -> None:
    async with run_lectern(fake_discord, tmp_path):
        poem = await fake_discord.slash("poem", guild=guild, user=reader)
        stanza = await fake_discord.slash(
            "passage", guild=guild, user=reader, options={"id": "shape-of-attention-7"}
        )
        sources = await fake_discord.slash("sources", guild=guild, user=reader)
        authors = await fake_discord.autocomplete(
            "quote", focused="author", value="reitz", guild=guild, user=reader
        )
        documents = await fake_discord.autocomplete(
            "read", focused="document", value="reitz", guild=guild, user=reader
        )
        by_reitz = await fake_discord.slash(
            "quote", guild=guild, user=reader, options={"author": "reitz"}
        )
        reflection = await fake_discord.click(button(stanza.data, "Whole document"), user=reader)
    assert shown(poem.data).heading.endswith(" · Kenneth Reitz")
    assert "poem · Kenneth Reitz · 25 passages" in shown(poem.data).subtext
    assert shown(stanza.data).heading.endswith(" · Kenneth Reitz")
    poem_field = next(
        f for f in sources.data["embeds"][0]["fields"] if f["name"] == "The Shape of Attention"
    )
    assert "Kenneth Reitz" in poem_field["value"]
    assert [c["value"] for c in authors.choices] == ["Kenneth Reitz"]
    assert documents.choices[0]["name"].startswith("The Shape of Attention — Kenneth Reitz")
    assert shown(by_reitz.data).heading.startswith("**The Shape of Attention**")
    assert shown(reflection.data).heading.endswith(" · Kenneth Reitz")


async def test_registered_commands_match_the_command_table(fake_discord, tmp_path) -> None:
    from bot.reading.commands import READING_COMMANDS

    async with run_lectern(fake_discord, tmp_path):
        registered = {c["name"]: c for c in fake_discord.commands()}
    for spec in READING_COMMANDS:
        command = registered[spec.name]
        assert command["description"] == spec.description
        options = [
            (o["name"], o["description"], o.get("required", False))
            for o in command.get("options", [])
        ]
        assert options == [(o.name, o.description, o.required) for o in spec.options]
    assert {s.name for s in READING_COMMANDS} == READING


def test_the_readme_lists_exactly_the_reading_commands() -> None:
    from bot.reading.commands import READING_COMMANDS

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## In Discord", 1)[1].split("\n## ", 1)[0]
    listed = [line.split("`")[1] for line in section.splitlines() if line.startswith("| `/")]
    assert listed == [spec.usage for spec in READING_COMMANDS]


async def test_a_shell_ingest_is_seen_by_the_running_bot_without_a_reload(
    fake_discord, tmp_path, guild, reader, passages_dir
) -> None:
    from tests.conftest import lectern_cli

    db = tmp_path / "lectern.sqlite3"
    async with run_lectern(fake_discord, tmp_path, passages=passages_dir) as bot:
        before = await fake_discord.autocomplete(
            "read", focused="document", value="late", guild=guild, user=reader
        )
        (passages_dir / "late.md").write_text(
            document_text("A late arrival.\n\nAnd a second thought.", title="Late Thoughts"),
            encoding="utf-8",
        )
        result = await asyncio.to_thread(
            lectern_cli,
            tmp_path,
            "ingest",
            LECTERN_DB=str(db),
            LECTERN_PASSAGES_DIR=str(passages_dir),
        )
        assert result.returncode == 0, result.stderr
        after = await fake_discord.autocomplete(
            "read", focused="document", value="late", guild=guild, user=reader
        )
        read = await fake_discord.slash(
            "read", guild=guild, user=reader, options={"document": "late"}
        )
        sources = await fake_discord.slash("sources", guild=guild, user=reader)
        audit = [(e.actor, e.action) for e in await bot.services.audit.trail()]
    assert before.choices == []
    assert [c["value"] for c in after.choices] == ["late"]
    assert shown(read.data).heading.startswith("**Late Thoughts**")
    assert "5 documents, 64 passages." in sources.data["embeds"][0]["description"]
    assert ("shell", "ingest") in audit


async def test_the_readme_names_every_server_and_owner_command_as_registered(
    fake_discord, tmp_path
) -> None:
    owners = fake_discord.add_guild("Owners")
    async with run_lectern(fake_discord, tmp_path, dev_guild_id=owners.id):
        groups = [c for c in fake_discord.commands() if c["name"] == "daily"]
        groups += [c for c in fake_discord.commands(guild=owners) if c["name"] == "admin"]
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    usages = []
    for group in groups:
        for sub in group["options"]:
            options = [
                o["name"] if o.get("required") else f"[{o['name']}]" for o in sub.get("options", [])
            ]
            usages.append(" ".join([f"/{group['name']} {sub['name']}", *options]))
    assert len(usages) == 9  # six /daily, three /admin
    missing = [u for u in usages if f"`{u}`" not in readme]
    assert missing == []
