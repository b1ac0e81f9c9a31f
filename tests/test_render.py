"""Rendering: pages that respect every limit and re-join to the original, safe Markdown."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.reply import PANEL_TEXT_LIMIT, Reply
from bot.core.text import PAGE_CHARS, clip, escape_markdown, highlight, page_view, shown, split_text
from bot.corpus.rows import StoredPassage
from bot.reading.replies import document_text, passage_panel, passage_reply
from bot.reading.results import snippet_value

texts = st.text(
    alphabet=st.sampled_from(list("ab cd\n\n\t*_`@🙂\u200d\ufe0f")) | st.characters(),
    max_size=20_000,
)


@settings(max_examples=300, deadline=None)
@given(text=texts, limit=st.integers(min_value=2, max_value=5000))
def test_pages_respect_the_limit_and_rejoin(text: str, limit: int) -> None:
    pages = split_text(text, limit)
    assert "".join(pages) == text
    assert all(len(p) <= limit for p in pages)
    assert all(pages) or text == ""


@settings(max_examples=100, deadline=None)
@given(
    words=st.lists(
        st.text(alphabet="abcdefghij", min_size=1, max_size=30), min_size=1, max_size=3000
    )
)
def test_pages_never_cut_a_word_when_a_space_is_near(words: list[str]) -> None:
    text = " ".join(words)
    pages = split_text(text, 200)
    for page in pages[:-1]:
        assert page.endswith(" ")


def test_cuts_prefer_stanza_then_line_boundaries() -> None:
    stanza = "line one\nline two\nline three"
    text = "\n\n".join([stanza] * 400)
    pages = split_text(text)
    assert all(p.endswith("\n\n") for p in pages[:-1])
    assert all(len(p) <= PAGE_CHARS for p in pages)
    one_stanza = "\n".join(["a line of verse"] * 600)
    assert all(p.endswith("\n") for p in split_text(one_stanza)[:-1])


def test_a_50000_character_run_without_spaces_is_hard_cut() -> None:
    pages = split_text("x" * 50_000)
    full, rest = divmod(50_000, PAGE_CHARS)
    assert [len(p) for p in pages] == [PAGE_CHARS] * full + [rest]


def test_emoji_sequences_are_not_split() -> None:
    family = "👩\u200d👩\u200d👧"
    pages = split_text(family * 100, 10)
    assert "".join(pages) == family * 100
    assert not any(p.startswith("\u200d") or p.endswith("\u200d") for p in pages)


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [("short", 10, "short"), ("one two three four", 12, "one two…"), ("abcdefghij", 5, "abcd…")],
)
def test_clip(text: str, limit: int, expected: str) -> None:
    assert clip(text, limit) == expected
    assert len(clip(text, limit)) <= limit


def test_escape_and_highlight() -> None:
    assert escape_markdown("*a* _b_ `c` [d](e) |f|") == "\\*a\\* \\_b\\_ \\`c\\` \\[d\\](e) \\|f\\|"
    assert highlight("the \x02word\x03 *is*", "\x02", "\x03") == "the **word** \\*is\\*"
    assert shown("\n\ntext\n\n") == "text" and shown("\n") == "\u200b"


@settings(max_examples=200, deadline=None)
@given(snippet=st.text(max_size=2000))
def test_search_field_values_always_fit(snippet: str) -> None:
    value = snippet_value(snippet, "some-document-12345")
    assert len(value) <= 1024


def passage(text: str, **overrides: object) -> StoredPassage:
    values: dict[str, object] = {
        "id": "d-1",
        "document": "d",
        "title": "T" * 200,
        "author": "A" * 100,
        "kind": "essay",
        "source": "https://x",
        "seq": 1,
        "unit": "paragraph",
        "number": 1,
        "unit_total": 1,
        "document_total": 1,
        "text": text,
    }
    values.update(overrides)
    return StoredPassage(**values)  # type: ignore[arg-type]


@settings(max_examples=100, deadline=None)
@given(text=st.text(min_size=1, max_size=12_000))
def test_passage_panels_fit_discords_v2_limits(text: str) -> None:
    pages = split_text(text)
    for index, page in enumerate(pages):
        panel = passage_panel(passage(text), page, index, len(pages))
        assert len(panel) <= PANEL_TEXT_LIMIT
        reply = passage_reply(passage(text), pages, index, user_id=1)  # validates itself
        assert isinstance(reply, Reply) and reply.panel is not None


def test_a_stanza_is_split_only_when_it_alone_is_too_long() -> None:
    stanza = "\n".join(["a line of verse, not short at all"] * 30)  # about 1,000 characters
    poem = "\n\n".join([stanza] * 12)
    for page in split_text(poem)[:-1]:
        assert page.endswith("\n\n")  # every page ends between stanzas
    long_one = "\n".join(["a line of verse, not short at all"] * 200)  # 6,800 characters
    pages = split_text(long_one + "\n\n" + stanza)
    assert pages[0].endswith("\n") and not pages[0].endswith("\n\n")  # cut inside: too long


def test_document_text_marks_commenters_and_afterword() -> None:
    text, starts = document_text(
        [
            passage("Hi.", unit="comment", author="Jinx"),
            passage("Yes.", unit="comment", author="A|B", seq=2),
            passage("After.", unit="afterword", seq=3),
        ]
    )
    assert text == "**Jinx**\nHi.\n\n**A\\|B**\nYes.\n\n⁂\n\nAfter."
    assert [text[s : s + 2] for s in starts] == ["**", "**", "⁂\n"]


def test_a_code_block_split_across_pages_is_closed_and_reopened() -> None:
    text = "Intro.\n\n```\n" + "\n".join(f"code line {i}" for i in range(600)) + "\n```\n\nAfter."
    pages = split_text(text)
    views = [page_view(pages, i) for i in range(len(pages))]
    assert len(pages) > 2
    assert all(v.count("```") % 2 == 0 for v in views)
    assert views[1].startswith("```\ncode line") and views[0].endswith("\n```")
    assert views[-1].endswith("After.")


@settings(max_examples=150, deadline=None)
@given(text=st.text(alphabet=st.sampled_from(list("ab `\n")), max_size=12_000))
def test_every_page_view_balances_fences_and_fits(text: str) -> None:
    pages = split_text(text)
    for index in range(len(pages)):
        view = page_view(pages, index)
        assert len(view) <= 4096
        assert view.count("```") % 2 == 0  # every code block opened on the page closes on it


def test_text_files_fit_discords_file_limits() -> None:
    from bot.core.reply import FILE_PART_BYTES, REQUEST_FILES_LIMIT, Reply, text_files

    assert [a.filename for a in text_files("doc", ".md", "short\n")] == ["doc.md"]
    line = "é" * 999 + "\n"  # two bytes a character, a line break every 2,000 bytes
    text = line * (12 * 1024 * 1024 // len(line.encode()))  # ~12 MiB
    parts = text_files("doc", ".md", text)
    assert [a.filename for a in parts] == ["doc.part1.md", "doc.part2.md"]
    assert all(len(a.data) <= FILE_PART_BYTES for a in parts)
    assert all(a.data.endswith(b"\n") for a in parts)  # cut between lines
    assert b"".join(a.data for a in parts) == text.encode()
    unbroken = "€" * (10 * 1024 * 1024)  # 30 MiB of three-byte characters, no line break
    cut = text_files("doc", ".md", unbroken)
    assert len(cut) == REQUEST_FILES_LIMIT // FILE_PART_BYTES
    assert (
        "".join(a.data.decode("utf-8") for a in cut)
        == unbroken[: sum(len(a.data) for a in cut) // 3]
    )
    Reply(attachments=cut)  # within 25 MiB per message
    with pytest.raises(ValueError, match="more or larger files"):
        Reply(attachments=text_files("x", ".md", "x") * 11)


def test_titles_and_authors_full_of_markdown_still_fit() -> None:
    from datetime import date

    from bot.reading.replies import reflection_reply

    noisy = StoredPassage(
        "x-1", "x", "_*" * 100, "*_" * 50, "poem", "s", 1, "stanza", 1, 1, 1, "word " * 2000
    )
    pages = split_text(noisy.text)
    for index in range(len(pages)):
        reply = passage_reply(noisy, pages, index, user_id=1)  # raises past 4,000
        assert reply.panel is not None and len(reply.panel) <= PANEL_TEXT_LIMIT
    assert reflection_reply(noisy, pages, date(2026, 12, 1)).panel is not None
