"""Parse one document's text: Markdown with a TOML front matter block, into passages.

Pure (reading the file is ``files.py``'s job): it returns a
:class:`~bot.corpus.model.Document` or raises :class:`~bot.corpus.model.CorpusError` listing
*every* problem found in the text.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from .model import (
    AFTERWORD,
    MAX_AUTHOR_CHARS,
    MAX_PASSAGE_CHARS,
    MAX_SLUG_CHARS,
    MAX_TITLE_CHARS,
    SLUG_RE,
    UNITS,
    CorpusError,
    Document,
    Passage,
    Problem,
    passage_id,
)

FRONT_MATTER_FENCE = "+++"
AFTERWORD_RULE = "---"
_ALLOWED_KEYS = {"title", "author", "kind", "source", "note", "slug"}
_REQUIRED_KEYS = ("title", "kind", "source")
# "## Name" opens a comment; "##" alone (or with only spaces, which are trimmed) names no one.
_COMMENT_HEADING = re.compile(r"^##(?:\s+(.*?))?\s*$")
#: Discord refuses longer URLs in embeds and link buttons.
MAX_URL_CHARS = 2048
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://|^www\.", re.ASCII)
_TOML_LINE = re.compile(r"at line (\d+)")


def parse_document(
    text: str, *, path: str, default_slug: str, raw: bytes | None = None
) -> Document:
    """Parse a document's text (front matter + body) into passages."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    problems: list[Problem] = []

    def fail(line: int, message: str) -> None:
        problems.append(Problem(path, line, message))

    meta, body_start = _front_matter(lines, fail)
    slug = default_slug
    title = author = source = note = kind = None
    if meta is not None:
        for key in sorted(set(meta) - _ALLOWED_KEYS):
            fail(
                1, f"unknown front matter key {key!r} (allowed: {', '.join(sorted(_ALLOWED_KEYS))})"
            )
        for key in _REQUIRED_KEYS:
            if key not in meta:
                fail(1, f"front matter is missing {key!r}")
        for key, value in meta.items():
            if key in _ALLOWED_KEYS and (not isinstance(value, str) or not value.strip()):
                fail(1, f"front matter {key!r} must be a non-empty string")
        title = _text(meta, "title")
        author = _text(meta, "author")
        source = _text(meta, "source")
        note = _text(meta, "note")
        kind = _text(meta, "kind")
        slug = _text(meta, "slug") or default_slug
        if kind is not None and kind not in UNITS:
            fail(1, f"unknown kind {kind!r} (use one of: {', '.join(UNITS)})")
        if title and len(title) > MAX_TITLE_CHARS:
            fail(1, f"title is {len(title)} characters; the limit is {MAX_TITLE_CHARS}")
        if author and len(author) > MAX_AUTHOR_CHARS:
            fail(1, f"author is {len(author)} characters; the limit is {MAX_AUTHOR_CHARS}")
        if source:
            problem = source_problem(source)
            if problem:
                fail(1, problem)
    if not SLUG_RE.match(slug):
        fail(1, f"slug {slug!r} must be lowercase letters, digits and single hyphens")
    elif len(slug) > MAX_SLUG_CHARS:
        fail(1, f"slug {slug!r} is over {MAX_SLUG_CHARS} characters: set a shorter slug")

    passages: list[Passage] = []
    if meta is not None and kind in UNITS:
        passages = _passages(lines, body_start, kind, slug, author, fail)
        if not passages and not problems:
            fail(body_start + 1, "the document has no text after its front matter")
        for p in passages:
            if len(p.text) > MAX_PASSAGE_CHARS:
                fail(
                    p.line,
                    f"{p.unit} {p.number} is {len(p.text):,} characters; the limit is "
                    f"{MAX_PASSAGE_CHARS:,}: split it with blank lines",
                )
    if problems:
        raise CorpusError(problems)
    if not (title and kind and source):  # the checks above report these; never reached
        raise CorpusError([Problem(path, 1, "front matter is incomplete")])
    digest = hashlib.sha256(raw if raw is not None else text.encode()).hexdigest()
    return Document(slug, title, author, kind, source, note, path, digest, tuple(passages))


def source_problem(source: str) -> str | None:
    """What is wrong with a ``source``: a URL must be a well-formed http(s) URL of at most
    2,048 characters; anything else is a description and must not look like a URL."""
    if not _SCHEME.match(source):
        return None
    if len(source) > MAX_URL_CHARS:
        return f"source URL is {len(source):,} characters; Discord's limit is {MAX_URL_CHARS:,}"
    if any(c.isspace() for c in source):
        return "source URL has spaces in it: encode them as %20, or write a description instead"
    try:
        parts = urlsplit(source)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError as error:  # e.g. an unclosed [ipv6 host, a port that is not a number
        return f"source URL is malformed ({error})"
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.netloc.startswith("."):
        return "source must be an http:// or https:// URL, or a description that is not a URL"
    return None


def _text(meta: dict[str, object], key: str) -> str | None:
    value = meta.get(key)
    return value.strip() if isinstance(value, str) and value.strip() else None


def _front_matter(
    lines: list[str], fail: Callable[[int, str], None]
) -> tuple[dict[str, object] | None, int]:
    """Return the parsed TOML block and the index of the first body line."""
    if not lines or lines[0].strip() != FRONT_MATTER_FENCE:
        fail(1, f"missing front matter: the file must start with a line {FRONT_MATTER_FENCE}")
        return None, 0
    for end in range(1, len(lines)):
        if lines[end].strip() == FRONT_MATTER_FENCE:
            break
    else:
        fail(1, f"front matter is not closed: add a line {FRONT_MATTER_FENCE} after it")
        return None, 0
    try:
        meta = tomllib.loads("\n".join(lines[1:end]))
    except tomllib.TOMLDecodeError as error:
        match = _TOML_LINE.search(str(error))
        line = int(match.group(1)) + 1 if match else 1
        fail(line, f"front matter is not valid TOML: {error}")
        return None, end + 1
    return meta, end + 1


@dataclass
class _Block:
    line: int  # 1-based line number of its first line
    lines: list[str]
    author: str | None = None


def _passages(
    lines: list[str],
    start: int,
    kind: str,
    slug: str,
    doc_author: str | None,
    fail: Callable[[int, str], None],
) -> list[Passage]:
    body = [line.rstrip() for line in lines[start:]]
    main_lines, after_lines, after_start = body, [], None
    rules = [i for i, line in enumerate(body) if line == AFTERWORD_RULE]
    if rules:
        cut = rules[0]
        main_lines, after_lines, after_start = body[:cut], body[cut + 1 :], start + cut + 1
        for extra in rules[1:]:
            fail(
                start + extra + 1,
                f"only one {AFTERWORD_RULE} rule (before the afterword) is allowed",
            )

    is_thread = kind == "thread"
    blocks = _comments(main_lines, start, fail) if is_thread else _blocks(main_lines, start)
    unit = UNITS[kind]
    out: list[Passage] = []
    for number, block in enumerate(blocks, 1):
        text = _join(block.lines, poem=kind == "poem", thread=kind == "thread")
        author = block.author if kind == "thread" else doc_author
        out.append(
            Passage(
                passage_id(slug, unit, number),
                number,
                unit,
                number,
                len(blocks),
                author,
                text,
                block.line,
            )
        )
    if after_start is not None:
        after_blocks = _blocks(after_lines, after_start)
        if not after_blocks:
            fail(
                after_start,
                f"nothing after the {AFTERWORD_RULE} rule: remove it or add an afterword",
            )
        else:
            text = "\n\n".join(
                _join(b.lines, poem=kind == "poem", thread=False) for b in after_blocks
            )
            out.append(
                Passage(
                    passage_id(slug, AFTERWORD, 1),
                    len(out) + 1,
                    AFTERWORD,
                    1,
                    1,
                    doc_author,
                    text,
                    after_blocks[0].line,
                )
            )
    return out


def _blocks(lines: list[str], start: int) -> list[_Block]:
    """Split lines into blank-line separated blocks."""
    blocks: list[_Block] = []
    current: _Block | None = None
    for offset, line in enumerate(lines):
        if not line.strip():
            current = None
            continue
        if current is None:
            current = _Block(start + offset + 1, [])
            blocks.append(current)
        current.lines.append(line)
    return blocks


def _comments(lines: list[str], start: int, fail: Callable[[int, str], None]) -> list[_Block]:
    """Split a thread into comments, each opened by a ``## Author`` heading."""
    comments: list[_Block] = []
    for offset, line in enumerate(lines):
        heading = _COMMENT_HEADING.match(line)
        if heading:
            name = heading.group(1)
            if not name:
                fail(start + offset + 1, "comment heading names no author: write ## Name")
            elif len(name) > MAX_AUTHOR_CHARS:
                fail(start + offset + 1, f"comment author is over {MAX_AUTHOR_CHARS} characters")
            comments.append(_Block(start + offset + 1, [], name or None))
        elif comments:
            comments[-1].lines.append(line)
        elif line.strip():
            fail(
                start + offset + 1,
                "text before the first comment: open each comment with ## Author",
            )
    for comment in comments:
        if not any(line.strip() for line in comment.lines):
            fail(comment.line, f"comment by {comment.author!r} has no text")
    return [c for c in comments if any(line.strip() for line in c.lines)]


def _join(lines: list[str], *, poem: bool, thread: bool) -> str:
    """Turn a block's lines into passage text.

    Poems keep every line break. Prose joins soft-wrapped lines with a space, as Markdown does;
    a thread comment keeps its paragraphs, separated by a blank line.
    """
    if poem:
        return "\n".join(lines).strip("\n")
    if thread:
        return "\n\n".join(" ".join(b.lines) for b in _blocks(lines, 0))
    return " ".join(line.strip() for line in lines)
