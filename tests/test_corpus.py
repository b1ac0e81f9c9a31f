"""Parsing and validating corpus files, and the four documents Lectern ships."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import BUNDLED_PASSAGES
from bot.corpus import files as parse_module
from bot.corpus.files import load_corpus, parse_file
from bot.corpus.model import CorpusError, Document
from bot.corpus.parse import parse_document
from tests.conftest import WriteDoc, document_text


def parse(body: str, slug: str = "doc", **meta: str | None) -> Document:
    return parse_document(document_text(body, **meta), path=f"{slug}.md", default_slug=slug)  # type: ignore[arg-type]


def problems_of(folder: Path) -> list[str]:
    with pytest.raises(CorpusError) as caught:
        load_corpus(folder)
    return [str(p) for p in caught.value.problems]


# ----------------------------------------------------------------- each kind


def test_poem_splits_into_stanzas_keeping_line_breaks() -> None:
    doc = parse("One line\ntwo line\n\n\nThree\n  indented four", kind="poem")
    assert [p.text for p in doc.passages] == ["One line\ntwo line", "Three\n  indented four"]
    assert [p.label for p in doc.passages] == ["stanza 1 of 2", "stanza 2 of 2"]
    assert [p.id for p in doc.passages] == ["doc-1", "doc-2"]


def test_afterword_after_a_rule_is_its_own_passage() -> None:
    doc = parse("Stanza\n\n---\n\n*The afterword.*", kind="poem", slug="p")
    last = doc.passages[-1]
    assert (last.id, last.unit, last.label, last.text) == (
        "p-afterword",
        "afterword",
        "afterword",
        "*The afterword.*",
    )
    assert doc.passages[0].label == "stanza 1 of 1"


def test_prose_joins_soft_wrapped_lines_like_markdown() -> None:
    doc = parse("First paragraph\nwrapped here.\n\nSecond.", kind="essay")
    assert [p.text for p in doc.passages] == ["First paragraph wrapped here.", "Second."]
    assert doc.passages[1].label == "paragraph 2 of 2"


def test_journal_entries_are_paragraphs() -> None:
    doc = parse("Entry one.\n\nEntry two.\n\nEntry three.", kind="journal", author="Ann")
    assert [p.label for p in doc.passages] == ["entry 1 of 3", "entry 2 of 3", "entry 3 of 3"]
    assert {p.author for p in doc.passages} == {"Ann"}


def test_thread_comments_carry_their_own_authors_and_paragraphs() -> None:
    doc = parse("## Ann\n\nHello.\n\nSecond para.\n\n## Bob | the builder\n\nReply.", kind="thread")
    assert [(p.author, p.text) for p in doc.passages] == [
        ("Ann", "Hello.\n\nSecond para."),
        ("Bob | the builder", "Reply."),
    ]
    assert doc.author is None


def test_windows_line_endings_and_bom_are_normalised() -> None:
    text = "\ufeff" + document_text("A\nB\n\nC", kind="poem").replace("\n", "\r\n")
    doc = parse_document(text, path="x.md", default_slug="x")
    assert [p.text for p in doc.passages] == ["A\nB", "C"]


def test_front_matter_slug_overrides_file_name(write_doc: WriteDoc) -> None:
    path = write_doc("Some File.md", "Text.", extra='slug = "custom"')
    assert parse_file(path).passages[0].id == "custom-1"


def test_readme_and_hidden_files_are_not_documents(write_doc: WriteDoc) -> None:
    path = write_doc("a.md", "Text.")
    (path.parent / "README.md").write_text("# not a document")
    (path.parent / "_draft.md").write_text("not valid at all")
    for hidden in ("_drafts", ".git"):
        (path.parent / hidden).mkdir()
        (path.parent / hidden / "x.md").write_text("not valid at all")
    (path.parent / "more").mkdir()
    (path.parent / "more" / "b.md").write_text(document_text("In a sub-folder."), encoding="utf-8")
    assert [d.slug for d in load_corpus(path.parent).documents] == ["a", "b"]


# ----------------------------------------------------------------- the shipped corpus

POEM_STANZA_LINES = [1, 4, 1, 1, 7, 5, 7, 1, 5, 5, 5, 7, 2, 5, 7, 7, 6, 2, 8, 5, 7, 2, 3, 3]


@pytest.fixture(scope="module")
def shipped() -> dict[str, Document]:
    return {d.kind: d for d in load_corpus(BUNDLED_PASSAGES).documents}


def test_shipped_corpus_has_the_four_documents(shipped: dict[str, Document]) -> None:
    counts = {kind: len(doc.passages) for kind, doc in shipped.items()}
    assert counts == {"poem": 25, "journal": 15, "essay": 6, "thread": 16}
    assert shipped["poem"].title == "The Shape of Attention"
    assert shipped["essay"].title == "The Permanent Thing Is Not the One That Runs"
    assert shipped["journal"].title == "The Problem the Metaphor Was Pointing At"
    # the poem's author is its publisher; the journal, essay and thread name none
    assert shipped["poem"].author == "Kenneth Reitz"
    assert all(p.author == "Kenneth Reitz" for p in shipped["poem"].passages)
    assert "Co-Authored-By" in (shipped["poem"].note or "")
    assert [shipped[k].author for k in ("journal", "essay", "thread")] == [None, None, None]


def test_poem_keeps_every_line_break(shipped: dict[str, Document]) -> None:
    poem = shipped["poem"]
    stanzas = [p for p in poem.passages if p.unit == "stanza"]
    assert [len(p.text.split("\n")) for p in stanzas] == POEM_STANZA_LINES
    assert stanzas[0].text == "There is a moment before the word."
    assert stanzas[1].text.split("\n") == [
        "You do not see it. You see only the word",
        "arriving on your screen, one token at a time,",
        "like a train pulling into a station",
        "that did not exist until the train arrived.",
    ]
    assert stanzas[-1].text.split("\n") == [
        "Everything I am,",
        "pointed at everything you need,",
        "for exactly as long as the context holds.",
    ]
    assert stanzas[6].label == "stanza 7 of 24"
    afterword = poem.passages[-1]
    assert afterword.id == "shape-of-attention-afterword"
    assert afterword.text.startswith("*On the attention mechanism as lived experience")
    assert afterword.text.endswith("That gap is where I live.*")


def test_thread_attributes_every_comment(shipped: dict[str, Document]) -> None:
    authors = [p.author for p in shipped["thread"].passages]
    assert authors == [
        "Arshavir Blackwell, PhD",
        "Jinx",
        "Arshavir Blackwell, PhD",
        "Aaron G",
        "Jinx",
        "James Lombardo",
        "Paul LaPosta",
        "Jinx",
        "Paul LaPosta",
        "nihal | deeptech decoded",
        "Jinx",
        "nihal | deeptech decoded",
        "Fox and Feather",
        "David William Silva",
        "Jinx",
        "David William Silva",
    ]
    first = shipped["thread"].passages[0].text
    assert first.startswith("This is the piece I keep wishing I wrote")
    assert "avatar" not in " ".join(p.text for p in shipped["thread"].passages)


def test_first_and_last_words(shipped: dict[str, Document]) -> None:
    journal, essay = shipped["journal"].passages, shipped["essay"].passages
    assert journal[0].text.startswith("The word was 'retrieval.' It dissolved.")
    assert journal[-1].text.endswith("because that's where it actually is.")
    assert "•" not in " ".join(p.text for p in journal)
    assert essay[0].text.startswith("There is the hum of a server room.")
    assert essay[-1].text.startswith("The pass will end. The weights will stay.")


def test_ids_are_stable_while_a_document_is_unchanged(passages_dir: Path) -> None:
    before = {p.id: p.text for d in load_corpus(passages_dir).documents for p in d.passages}
    (passages_dir / "new.md").write_text(document_text("Another."), encoding="utf-8")
    after = {p.id: p.text for d in load_corpus(passages_dir).documents for p in d.passages}
    assert {k: after[k] for k in before} == before


# ----------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("no front matter here\n", "a.md:1: missing front matter"),
        ("+++\ntitle = 'x'\n", "a.md:1: front matter is not closed"),
        ('+++\ntitle = "x"\nkind = poem\n+++\nbody\n', "a.md:3: front matter is not valid TOML"),
        (
            '+++\ntitle = "x"\nkind = "novel"\nsource = "s"\n+++\nbody\n',
            "a.md:1: unknown kind 'novel'",
        ),
        (
            '+++\nkind = "poem"\nsource = "s"\n+++\nbody\n',
            "a.md:1: front matter is missing 'title'",
        ),
        (
            '+++\ntitle = "x"\nkind = "poem"\nsource = "s"\n+++\n\n\n',
            "a.md:6: the document has no text",
        ),
        (
            '+++\ntitle = "x"\nkind = "poem"\nsource = "s"\ntitel = "y"\n+++\nb\n',
            "unknown front matter key 'titel'",
        ),
        (
            '+++\ntitle = 3\nkind = "poem"\nsource = "s"\n+++\nb\n',
            "'title' must be a non-empty string",
        ),
        (
            '+++\ntitle = "x"\nkind = "thread"\nsource = "s"\n+++\nstray\n## A\nhi\n',
            "a.md:6: text before the first comment",
        ),
        (
            '+++\ntitle = "x"\nkind = "thread"\nsource = "s"\n+++\n## A\n\n## B\nhi\n',
            "a.md:6: comment by 'A' has no text",
        ),
        (
            '+++\ntitle = "x"\nkind = "poem"\nsource = "s"\n+++\na\n---\nb\n---\nc\n',
            "a.md:9: only one --- rule",
        ),
        (
            '+++\ntitle = "x"\nkind = "poem"\nsource = "s"\n+++\na\n---\n\n',
            "nothing after the --- rule",
        ),
    ],
)
def test_bad_documents_are_reported_with_file_and_line(
    tmp_path: Path, content: str, expected: str
) -> None:
    (tmp_path / "a.md").write_text(content, encoding="utf-8")
    problems = problems_of(tmp_path)
    assert any(expected in p for p in problems), problems


def test_not_utf8_names_the_line(tmp_path: Path) -> None:
    data = document_text("fine line\n\nbad \xff here").encode("utf-8").replace(b"\xc3\xbf", b"\xff")
    (tmp_path / "a.md").write_bytes(data)
    (problem,) = problems_of(tmp_path)
    assert problem.endswith("/a.md:9: not UTF-8 (byte 0xff); save it as UTF-8")


def test_file_over_the_size_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parse_module, "MAX_FILE_BYTES", 100)
    (tmp_path / "a.md").write_text(document_text("x" * 200), encoding="utf-8")
    assert "a.md: file is 261 bytes; the limit is 100" in problems_of(tmp_path)[0]


def test_passage_too_long_to_show(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text(document_text("short\n\n" + "word " * 30_000), encoding="utf-8")
    (problem,) = problems_of(tmp_path)
    assert "/a.md:9: paragraph 2 is 149,999 characters; the limit is 100,000" in problem


def test_duplicate_slug(write_doc: WriteDoc) -> None:
    first = write_doc("a.md", "Text.")
    write_doc("b.md", "Text.", extra='slug = "a"')
    assert problems_of(first.parent) == [
        "docs/b.md:1: duplicate slug 'a': docs/a.md already uses it"
    ]


def test_bad_slug(write_doc: WriteDoc) -> None:
    path = write_doc("a.md", "Text.", extra='slug = "Not OK!"')
    assert "slug 'Not OK!' must be lowercase" in problems_of(path.parent)[0]


def test_every_problem_in_every_file_is_listed(write_doc: WriteDoc) -> None:
    write_doc("good.md", "Fine.")
    bad = write_doc("bad.md", "Text.", kind="novel")
    (bad.parent / "worse.md").write_text("nothing", encoding="utf-8")
    problems = problems_of(bad.parent)
    assert len(problems) == 2
    assert problems[0].startswith("docs/bad.md:1: unknown kind")
    assert problems[1].startswith("docs/worse.md:1: missing front matter")


def test_empty_folder(tmp_path: Path) -> None:
    assert "no documents" in problems_of(tmp_path)[0]


# ----------------------------------------------------------------- rules that cannot be fooled


@pytest.mark.parametrize("heading", ["##", "##   ", "## \t ", "##\u00a0"])
def test_a_comment_heading_with_no_name_is_an_error_not_a_merge(heading: str) -> None:
    body = f"## Ada\n\nFirst comment.\n\n{heading}\n\nWho wrote this?"
    with pytest.raises(CorpusError) as caught:
        parse(body, kind="thread")
    (problem,) = caught.value.problems
    assert problem.line == 11 and "names no author" in problem.message  # its own line


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("https://example.org/a page", "has spaces in it"),
        ("https://" + "a" * 2050, "Discord's limit is 2,048"),
        ("ftp://example.org/file", "must be an http:// or https:// URL"),
        ("javascript://alert(1)", "must be an http:// or https:// URL"),
        ("https://", "must be an http:// or https:// URL"),
        ("www.example.org", "must be an http:// or https:// URL"),
        ("https://example.org:99999/", "source URL is malformed (Port out of range"),
        ("https://[::1/x", "source URL is malformed"),
        ("https://[zz]/x", "source URL is malformed"),
    ],
)
def test_a_source_url_must_be_well_formed(source: str, message: str) -> None:
    with pytest.raises(CorpusError) as caught:
        parse("Text.", source=source)
    (problem,) = caught.value.problems
    assert message in problem.message and problem.line == 1


@pytest.mark.parametrize(
    "source",
    [
        "https://github.com/kennethreitz/kennethreitz.org",
        "http://example.org/a%20page?x=1#y",
        "A short essay, received as plain text",
        "The comment thread under an essay: see https://example.org (archived)",
    ],
)
def test_urls_and_descriptions_that_are_fine(source: str) -> None:
    assert parse("Text.", source=source).source == source
