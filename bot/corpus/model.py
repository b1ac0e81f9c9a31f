"""The corpus as values: documents, passages, problems, and the rules every file obeys.

The format is documented for hosts in ``passages/README.md``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

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

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a corpus file, reported as ``file:line: message``."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"


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
    skipped: tuple[Problem, ...] = ()  # things in the folder that are not documents

    @property
    def passage_count(self) -> int:
        return sum(len(d.passages) for d in self.documents)


def passage_id(slug: str, unit: str, number: int) -> str:
    """The stable, typable id of a passage: ``shape-of-attention-7``, ``…-afterword``."""
    return f"{slug}-{AFTERWORD}" if unit == AFTERWORD else f"{slug}-{number}"


def corpus_fingerprint(documents: Iterable[tuple[str, str, str]]) -> str:
    """The fingerprint of a corpus from its documents' ``(kind, slug, content_hash)``."""
    digest = hashlib.sha256(f"parser {PARSER_VERSION}\n".encode())
    for _, slug, content_hash in sorted(documents):
        digest.update(f"{slug}\0{content_hash}\n".encode())
    return digest.hexdigest()
