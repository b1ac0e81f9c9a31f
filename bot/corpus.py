"""Parse and validate the corpus: one Markdown document per file, with a TOML front matter block.

The format is documented for hosts in ``passages/README.md``. Everything here is pure: it reads
files and returns values or raises :class:`CorpusError` listing *every* problem found, so a bad
folder is rejected before anything is written to the database.
"""

from __future__ import annotations

import hashlib
import os
import re
import tomllib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

#: Bumped whenever parsing changes what a file turns into, so stored corpora are re-ingested.
PARSER_VERSION = 1

#: The passage unit of each kind of document.
UNITS: dict[str, str] = {
    "poem": "stanza",
    "essay": "paragraph",
    "journal": "entry",
    "thread": "comment",
}
AFTERWORD = "afterword"

#: Below Discord's 10 MiB per file, so a whole document can always be sent as a file.
MAX_FILE_BYTES = 8 * 1024 * 1024
#: Short enough that a passage id fits in a button's custom_id with its state.
MAX_SLUG_CHARS = 48
#: Longest passage we accept: about 25 pages of a Discord embed description.
MAX_PASSAGE_CHARS = 100_000
MAX_TITLE_CHARS = 200
MAX_AUTHOR_CHARS = 100

FRONT_MATTER_FENCE = "+++"
AFTERWORD_RULE = "---"
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_ALLOWED_KEYS = {"title", "author", "kind", "source", "note", "slug"}
_REQUIRED_KEYS = ("title", "kind", "source")
_COMMENT_HEADING = re.compile(r"^##\s+(.*?)\s*$")
_TOML_LINE = re.compile(r"at line (\d+)")


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a corpus file, reported as ``file:line: message``."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class CorpusError(Exception):
    """The corpus folder is invalid; ``problems`` lists everything that is wrong."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        count = len(self.problems)
        super().__init__(f"{count} problem{'s' if count != 1 else ''} in the corpus")


@dataclass(frozen=True, slots=True)
class Passage:
    """One showable piece of a document: a stanza, paragraph, entry, comment or afterword."""

    id: str
    seq: int  # 1-based position in the document, afterword included
    unit: str  # "stanza", "paragraph", "entry", "comment" or "afterword"
    number: int  # 1-based position among passages of the same unit
    unit_total: int
    author: str | None
    text: str
    line: int  # where it starts in its file, for error messages

    @property
    def label(self) -> str:
        """Human position, e.g. ``stanza 7 of 24`` or ``afterword``."""
        return position_label(self.unit, self.number, self.unit_total)


def position_label(unit: str, number: int, total: int) -> str:
    """``stanza 7 of 24``; the afterword is just ``afterword``."""
    return unit if unit == AFTERWORD else f"{unit} {number} of {total}"


@dataclass(frozen=True, slots=True)
class Document:
    """A parsed document and its passages, in order."""

    slug: str
    title: str
    author: str | None
    kind: str
    source: str
    note: str | None
    path: str
    content_hash: str
    passages: tuple[Passage, ...]


@dataclass(frozen=True, slots=True)
class Corpus:
    """A whole validated folder."""

    documents: tuple[Document, ...]
    fingerprint: str  # changes whenever any document's content (or the parser) changes

    @property
    def passage_count(self) -> int:
        return sum(len(d.passages) for d in self.documents)


def passage_id(slug: str, unit: str, number: int) -> str:
    """The stable, typable id of a passage: ``shape-of-attention-7``, ``…-afterword``."""
    return f"{slug}-{AFTERWORD}" if unit == AFTERWORD else f"{slug}-{number}"


# --------------------------------------------------------------------------- files


def _walk(folder: Path, prefix: str = "") -> Iterator[tuple[str, os.DirEntry[str]]]:
    """``(relative path, entry)`` of every document file below ``folder``, unsorted.

    ``*.md`` files, except READMEs and anything whose name starts with ``.`` or ``_``. Uses
    ``os.scandir``: its entries carry what ``stat`` needs, which keeps a warm start over
    thousands of files to a few milliseconds.
    """
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.name.startswith((".", "_")):
                continue
            if entry.is_dir():
                yield from _walk(Path(entry.path), f"{prefix}{entry.name}/")
            elif entry.name.endswith(".md") and entry.name.lower() != "readme.md":
                yield f"{prefix}{entry.name}", entry


def corpus_files(folder: Path) -> list[Path]:
    """The document files of a folder, sorted."""
    return sorted(Path(entry.path) for _, entry in _walk(folder))


def folder_signature(folder: Path) -> str:
    """A cheap signature of the folder (names, sizes, mtimes): unchanged means nothing to read.

    It lets a restart skip reading and hashing the corpus; when it differs, the content hashes
    decide whether anything really changed.
    """
    lines = []
    for relative, entry in _walk(folder):
        st = entry.stat()
        lines.append(f"{relative}\0{st.st_size}\0{st.st_mtime_ns}\n")
    lines.sort()
    return hashlib.sha256(f"parser {PARSER_VERSION}\n{''.join(lines)}".encode()).hexdigest()


def load_corpus(folder: Path, progress: Callable[[int, int], None] | None = None) -> Corpus:
    """Read, parse and validate every document in ``folder``; raise CorpusError on any problem."""
    if not folder.is_dir():
        raise CorpusError([Problem(str(folder), 0, "not a folder")])
    files = corpus_files(folder)
    documents: list[Document] = []
    problems: list[Problem] = []
    for index, path in enumerate(files, 1):
        try:
            documents.append(parse_file(path, display=_display(path, folder)))
        except CorpusError as error:
            problems.extend(error.problems)
        if progress:
            progress(index, len(files))
    if not files:
        problems.append(Problem(str(folder), 0, "no documents (*.md files) in this folder"))
    problems.extend(_duplicate_slugs(documents))
    if problems:
        raise CorpusError(problems)
    documents.sort(key=lambda d: (d.kind, d.slug))
    digest = hashlib.sha256(f"parser {PARSER_VERSION}\n".encode())
    for doc in documents:
        digest.update(f"{doc.slug}\0{doc.content_hash}\n".encode())
    return Corpus(tuple(documents), digest.hexdigest())


def _display(path: Path, folder: Path) -> str:
    try:
        return str(path.relative_to(folder.parent))
    except ValueError:
        return str(path)


def _duplicate_slugs(documents: list[Document]) -> Iterator[Problem]:
    seen: dict[str, Document] = {}
    for doc in documents:
        if doc.slug in seen:
            first = seen[doc.slug].path
            yield Problem(doc.path, 1, f"duplicate slug {doc.slug!r}: {first} already uses it")
        else:
            seen[doc.slug] = doc


def parse_file(path: Path, display: str | None = None) -> Document:
    """Parse one document file; the slug defaults to the file name without ``.md``."""
    shown = display or str(path)
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise CorpusError(
            [Problem(shown, 1, f"file is {size:,} bytes; the limit is {MAX_FILE_BYTES:,}")]
        )
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise CorpusError(
            [Problem(shown, line, f"not UTF-8 (byte {raw[error.start]:#04x}); save it as UTF-8")]
        ) from None
    return parse_document(text, path=shown, default_slug=path.stem.lower(), raw=raw)


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
    assert title and kind and source  # guaranteed by the checks above
    digest = hashlib.sha256(raw if raw is not None else text.encode()).hexdigest()
    return Document(slug, title, author, kind, source, note, path, digest, tuple(passages))


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
