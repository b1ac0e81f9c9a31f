"""The passages folder: which files are documents, a cheap signature of them, loading them all."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from .model import PARSER_VERSION, Corpus, CorpusError, Document, Problem
from .parse import parse_file


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
