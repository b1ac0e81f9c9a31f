"""The offline console: the same service as the cogs, typed Discord-style in a terminal."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest

from bot.console import Console, help_text, parse_command
from bot.console_view import discord_text, render_reply
from bot.core.errors import UserError
from bot.reading.commands import READING_COMMANDS
from bot.services import Services
from tests.conftest import lectern_cli


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("/quote", ("quote", {})),
        ("/search query:the weights", ("search", {"query": "the weights"})),
        ('/search query:"a: b" ', ("search", {"query": '"a: b"'})),  # a phrase, as in Discord
        ('/search query:"the of of"', ("search", {"query": '"the of of"'})),
        ('/quote author:"Kenneth Reitz"', ("quote", {"author": "Kenneth Reitz"})),
        ('/quote about:"the storm"', ("quote", {"about": '"the storm"'})),
        ('/search query:""', ("search", {"query": '""'})),
        (
            "/quote author:Jinx about:weights and rock",
            ("quote", {"author": "Jinx", "about": "weights and rock"}),
        ),
        ("/SEARCH query:url:http://x", ("search", {"query": "url:http://x"})),
        ("/passage id:shape-of-attention-7", ("passage", {"id": "shape-of-attention-7"})),
        ('/search query:"""', ("search", {"query": '"""'})),
        ("/search query:'it''s'", ("search", {"query": "'it''s'"})),
        ("/passage id:'shape-of-attention-7'", ("passage", {"id": "shape-of-attention-7"})),
    ],
)
def test_parse_command(line: str, expected: tuple[str, dict[str, str]]) -> None:
    assert parse_command(line) == expected


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("/nope", "There is no command /nope"),
        ("/search", "/search needs query:…"),
        ("/search weights", "Give options as name:value"),
        ("/about extra", "it takes none"),
    ],
)
def test_bad_commands_are_explained(line: str, message: str) -> None:
    with pytest.raises(UserError, match=message.replace("(", r"\(")):
        parse_command(line)


async def run(store: Services, *lines: str) -> str:
    out = io.StringIO()
    console = Console(store.reading, out=out, today=lambda: date(2026, 11, 23))
    for line in lines:
        assert await console.execute(line)
    return out.getvalue()


async def test_a_passage_then_its_buttons(store: Services) -> None:
    text = await run(store, "/passage id:shape-of-attention-7", "next", "previous", "whole")
    boxes = text.split("╭─ ")
    assert "stanza 7 of 24 · shape-of-attention-7" in boxes[1]
    assert "stanza 8 of 24" in boxes[2] and "stanza 7 of 24" in boxes[3]
    assert "poem · Kenneth Reitz · 25 passages" in boxes[4]
    assert "[Next ▶]" in boxes[1] and "[Share]" in boxes[1]


async def test_poem_prints_every_line(store: Services) -> None:
    text = await run(store, "/poem", ">")  # two pages: every line shows on one of them
    found = await store.corpus.document("shape-of-attention")
    assert found is not None
    for passage in found[1]:
        for line in passage.text.split("\n"):
            if len(line) < 70:
                assert line.strip() in text


async def test_search_results_open_by_number_and_page(store: Services) -> None:
    text = await run(store, "/search query:attention", ">", "6")
    assert "30 passages match. Showing 1–5." in text
    assert "Showing 6–10." in text
    assert text.count("(only you can see this)") == 3


async def test_one_match_is_counted_in_the_singular(store: Services) -> None:
    text = await run(store, '/search query:"to the"* "in a"*')
    assert "1 passage matches. Showing 1." in text and "passages match" not in text


async def test_errors_and_unknown_buttons_are_friendly(store: Services) -> None:
    text = await run(store, "/quote author:nobody", "dance", "/passage id:x", "next")
    assert "No author called “nobody”" in text
    assert "Type a command such as /quote" in text
    assert "No passage has the id" in text
    assert "Traceback" not in text


async def test_quoted_words_are_a_phrase_as_in_discord(store: Services) -> None:
    text = await run(store, '/search query:"shape of attention"', '/search query:"attention of"')
    phrase, loose = text.split("╭")[1:3]
    assert 'Search: "shape of attention"' in phrase and "25 passages match" in phrase
    assert "Nothing matches" in loose  # the words are there, never in that order
    text = await run(store, '/search query:""', '/quote about:"the shape"')
    assert 'Nothing matches “""”' in text  # a search for nothing, answered as one
    assert "The Shape of Attention" in text and "Traceback" not in text


async def test_render_reply_marks_disabled_buttons(store: Services) -> None:
    reply = await store.reading.passage("metaphor-1", user_id=1)
    text = render_reply(reply)
    assert "(◀ Previous)" in text and "[Next ▶]" in text


def test_ask_answers_one_command_and_presses_buttons(tmp_path: Path) -> None:
    result = lectern_cli(tmp_path, "ask", "/passage id:essay-comments-2", "next")
    assert result.returncode == 0, result.stderr
    assert "comment 2 of 16" in result.stdout and "comment 3 of 16" in result.stdout
    assert "Jinx" in result.stdout


def test_run_without_token_starts_the_console(tmp_path: Path) -> None:
    result = lectern_cli(tmp_path, "run", stdin="/sources\nquit\n")
    assert result.returncode == 0, result.stderr
    assert "No DISCORD_TOKEN is set" in result.stderr
    assert "INFO" not in result.stderr  # the offline console is not the bot: no log chatter
    assert "Reflection for" in result.stdout and "4 documents, 62 passages." in result.stdout


async def test_a_bug_prints_an_apology_not_a_traceback(
    store: Services, caplog: pytest.LogCaptureFixture
) -> None:
    lectern_service = store.reading

    async def broken(**kwargs: object) -> None:
        raise RuntimeError("boom")

    lectern_service.sources = broken  # type: ignore[assignment,method-assign]
    out = io.StringIO()
    console = Console(lectern_service, out=out)
    assert await console.execute("/sources")
    assert "Sorry, something went wrong" in out.getvalue()
    assert "boom" in caplog.text


async def test_help_and_every_command_come_from_the_command_table(store: Services) -> None:
    text = help_text()
    for spec in READING_COMMANDS:
        assert spec.typed_usage in text and spec.description in text
        required = {o.name: "shape-of-attention" for o in spec.options if o.required}
        line = " ".join([f"/{spec.name}", *(f"{k}:{v}" for k, v in required.items())])
        assert parse_command(line) == (spec.name, required)
        out = await run(store, line)  # every command in the table runs in the console
        assert "Sorry, something went wrong" not in out and "There is no command" not in out


def test_discord_markdown_is_rendered_not_shown_as_asterisks() -> None:
    text = discord_text("A **bold** word, an *italic* one,\nan \\*escaped star\\* and `code`.")
    assert text.plain == "A bold word, an italic one,\nan *escaped star* and code."
    styles = {text.plain[span.start : span.end]: str(span.style) for span in text.spans}
    assert styles["bold"] == "bold" and styles["italic"] == "italic"
    assert styles["code"] == "bold cyan"


async def test_a_terminal_gets_colour_and_a_pipe_plain_text(store: Services) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    console = Console(store.reading, out=screen)
    await console.execute("/passage id:shape-of-attention-7")
    assert "\x1b[" in screen.getvalue()  # styled: the accent colour, bold heading, dim subtext
    plain = await run(store, "/passage id:shape-of-attention-7")
    assert "\x1b[" not in plain and "stanza 7 of 24" in plain
