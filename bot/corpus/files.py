"""The passages folder: which files are documents, a cheap signature of them, loading them all.

The folder is a filesystem, not a list of nice files. Links are followed, but a link back to a
folder already read is skipped; things that cannot be documents (named pipes, sockets, devices,
a folder named ``x.md``) are skipped with a warning; what should be a document but cannot be
read (a dangling link, a loop, no permission, a file that vanished, folders nested absurdly
deep) is a problem, reported as ``file: message`` like any other. Nothing here blocks on a
named pipe or raises past :class:`~bot.corpus.model.CorpusError`.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .model import (
    MAX_FILE_BYTES,
    PARSER_VERSION,
    Corpus,
    CorpusError,
    Document,
    Problem,
    corpus_fingerprint,
)
from .parse import parse_document

#: Folders nested deeper than this are a problem, not a reason to recurse forever.
MAX_DEPTH = 32
#: Entries read before the walk stops: a link to / must not read the whole machine.
MAX_ENTRIES = 200_000


@dataclass
class Listing:
    """What :func:`scan` found: document files, things skipped, and problems."""

    files: list[tuple[str, Path, os.stat_result]] = field(default_factory=list)
    skipped: list[Problem] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "a folder" if stat.S_ISDIR(mode) else "not a regular file"


def _reason(error: OSError) -> str:
    if error.errno == errno.ELOOP:
        return "a link that loops back on itself"
    if error.errno == errno.ENAMETOOLONG:
        return "the path is too long for this system"
    if isinstance(error, PermissionError):
        return "cannot read it: permission denied"
    if isinstance(error, FileNotFoundError):
        return "it vanished while the folder was being read"
    return f"cannot read it: {error.strerror or error}"


def _is_folder(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir(follow_symlinks=False)  # from the listing, no further system call
    except OSError:
        return False


def _is_document(name: str) -> bool:
    return name.endswith(".md") and name.lower() != "readme.md"


def _printable(name: str) -> str:
    """A file name as text: bytes that are not UTF-8 (kept by Python as lone surrogates)
    shown as U+FFFD, so the name can be printed, stored and sent."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _is_link(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_symlink()
    except OSError:
        return False


def scan(folder: Path) -> Listing:
    """Every document file below ``folder`` (``*.md``, except READMEs and anything whose name
    starts with ``.`` or ``_``), iteratively, with what was skipped and what is wrong.

    Real folders are read before folders reached through links, so a link to a folder inside
    the tree is the one skipped. Uses ``os.scandir``: its entries carry what ``stat`` needs,
    which keeps a warm start over thousands of files to a few milliseconds.
    """
    found = Listing()
    root = _printable(folder.name or str(folder))
    try:
        top = folder.stat()
    except FileNotFoundError:
        found.problems.append(Problem(_printable(str(folder)), 0, "there is no such folder"))
        return found
    except (OSError, ValueError) as error:  # ValueError: a NUL byte in the path
        reason = _reason(error) if isinstance(error, OSError) else "not a usable path"
        found.problems.append(Problem(_printable(str(folder)), 0, reason))
        return found
    if not stat.S_ISDIR(top.st_mode):
        found.problems.append(Problem(_printable(str(folder)), 0, "not a folder"))
        return found
    seen = {(top.st_dev, top.st_ino)}
    stack: list[tuple[Path, str, int]] = [(folder, "", 0)]
    linked: list[tuple[Path, str, int, str, tuple[int, int]]] = []
    entries_read = 0
    while stack or linked:
        if not stack:  # every real folder is read: now the ones reached through links
            path, relative, depth, shown, key = linked.pop()
            if key in seen:
                found.skipped.append(Problem(shown, 0, "a link to a folder already read"))
                continue
            seen.add(key)
            stack.append((path, relative, depth))
        here, prefix, depth = stack.pop()
        try:
            with os.scandir(here) as listing:
                entries = list(listing)
        except OSError as error:
            found.problems.append(Problem(f"{root}/{prefix}".rstrip("/"), 0, _reason(error)))
            continue
        entries_read += len(entries)
        if entries_read > MAX_ENTRIES:
            message = f"more than {MAX_ENTRIES:,} entries: does a link point at a whole disk?"
            found.problems.append(Problem(root, 0, message))
            break
        for entry in entries:
            if entry.name.startswith((".", "_")):
                continue
            relative = f"{prefix}{_printable(entry.name)}"
            shown = f"{root}/{relative}"
            document = _is_document(entry.name)
            try:
                st = entry.stat()  # follows links
            except OSError as error:
                if isinstance(error, FileNotFoundError) and _is_link(entry):
                    if document:
                        found.problems.append(Problem(shown, 0, "a link that points at nothing"))
                    else:  # not a document: whatever it was meant to be, nothing is lost
                        found.skipped.append(Problem(shown, 0, "a link to nothing: skipped"))
                elif document or _is_link(entry) or _is_folder(entry):
                    found.problems.append(Problem(shown, 0, _reason(error)))
                continue
            if stat.S_ISDIR(st.st_mode) and not document:
                key = (st.st_dev, st.st_ino)
                if depth + 1 > MAX_DEPTH:
                    found.problems.append(
                        Problem(shown, 0, f"folders nested deeper than {MAX_DEPTH} levels")
                    )
                elif _is_link(entry):
                    linked.append((Path(entry.path), f"{relative}/", depth + 1, shown, key))
                elif key in seen:  # a bind mount or a hard-linked folder
                    found.skipped.append(Problem(shown, 0, "a link to a folder already read"))
                else:
                    seen.add(key)
                    stack.append((Path(entry.path), f"{relative}/", depth + 1))
            elif document:
                if stat.S_ISREG(st.st_mode):
                    found.files.append((relative, Path(entry.path), st))
                else:
                    skipped = f"{_kind(st.st_mode)}, not a document: skipped"
                    found.skipped.append(Problem(shown, 0, skipped))
    found.files.sort(key=lambda f: f[0])
    return found


def corpus_files(folder: Path) -> list[Path]:
    """The document files of a folder, sorted."""
    return [path for _, path, _ in scan(folder).files]


def folder_signature(folder: Path | Listing) -> str:
    """A cheap signature of the folder (names, sizes, times, inodes, and whatever is wrong):
    unchanged means nothing to read.

    It lets a restart skip reading and hashing the corpus; when it differs, the content hashes
    decide whether anything really changed.
    """
    found = folder if isinstance(folder, Listing) else scan(folder)
    lines = [
        f"{rel}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ctime_ns}\0{st.st_ino}\n"
        for rel, _, st in found.files
    ]
    lines += [f"! {p}\n" for p in found.problems + found.skipped]
    return hashlib.sha256(f"parser {PARSER_VERSION}\n{''.join(lines)}".encode()).hexdigest()


def load_corpus(
    folder: Path,
    progress: Callable[[int, int], None] | None = None,
    listing: Listing | None = None,
) -> Corpus:
    """Read, parse and validate every document in ``folder`` (as ``listing`` found it, when
    given) into memory; raise CorpusError on any problem. For small folders and tests: the
    bot stages large ones document by document (``staging.py``)."""
    found = listing or scan(folder)
    documents = sorted(_valid_documents(folder, found, progress), key=lambda d: (d.kind, d.slug))
    fingerprint = corpus_fingerprint((d.kind, d.slug, d.content_hash) for d in documents)
    return Corpus(tuple(documents), fingerprint, tuple(found.skipped))


@dataclass(frozen=True, slots=True)
class FolderCheck:
    """What :func:`check_folder` found in a valid folder."""

    documents: int
    passages: int
    skipped: tuple[Problem, ...]


def check_folder(folder: Path, progress: Callable[[int, int], None] | None = None) -> FolderCheck:
    """Validate ``folder`` as :func:`load_corpus` does, one document in memory at a time."""
    found = scan(folder)
    documents = passages = 0
    for doc in _valid_documents(folder, found, progress):
        documents += 1
        passages += len(doc.passages)
    return FolderCheck(documents, passages, tuple(found.skipped))


def _valid_documents(
    folder: Path, found: Listing, progress: Callable[[int, int], None] | None
) -> Iterator[Document]:
    """Each document of ``found`` as it is parsed; at the end, CorpusError if anything (a
    file, a duplicate slug, the folder) was wrong."""
    problems: list[Problem] = list(found.problems)
    slugs: dict[str, str] = {}
    root = display_root(folder)
    for index, (relative, path, _) in enumerate(found.files, 1):
        try:
            doc = parse_file(path, display=f"{root}/{relative}")
        except CorpusError as error:
            problems.extend(error.problems)
        else:
            if doc.slug in slugs:
                problems.append(duplicate_slug(doc.path, doc.slug, slugs[doc.slug]))
            else:
                slugs[doc.slug] = doc.path
                yield doc
        if progress:
            progress(index, len(found.files))
    raise_problems(folder, found, problems)


def display_root(folder: Path) -> str:
    """How a folder's files are named in messages: ``passages/poem.md``."""
    return _printable(folder.name or str(folder))


def duplicate_slug(path: str, slug: str, first: str) -> Problem:
    """The problem of a second file (``path``) using the slug of ``first``."""
    return Problem(path, 1, f"duplicate slug {slug!r}: {first} already uses it")


def raise_problems(folder: Path, found: Listing, problems: list[Problem]) -> None:
    """Raise CorpusError if anything was wrong, or if the folder holds no document at all."""
    if not found.files and not problems:
        problems.append(
            Problem(_printable(str(folder)), 0, "no documents (*.md files) in this folder")
        )
    if problems:
        raise CorpusError(problems)


def parse_file(path: Path, display: str | None = None, raw: bytes | None = None) -> Document:
    """Parse one document file (or ``raw``, its bytes already read); the slug defaults to the
    file name without ``.md``."""
    shown = display or str(path)
    raw = read_file(path, shown) if raw is None else raw
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise CorpusError(
            [Problem(shown, line, f"not UTF-8 (byte {raw[error.start]:#04x}); save it as UTF-8")]
        ) from None
    return parse_document(text, path=shown, default_slug=_printable(path.stem).lower(), raw=raw)


def read_file(path: Path, shown: str) -> bytes:
    """The file's bytes, never blocking (a named pipe swapped in is refused, not waited on)."""

    def fail(message: str) -> CorpusError:
        return CorpusError([Problem(shown, 0, message)])

    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise fail("it vanished while the folder was being read") from None
    except PermissionError:
        raise fail("cannot read it: permission denied") from None
    except OSError as error:
        raise fail(f"cannot read it: {error.strerror or error}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise fail("not a regular file")
        if st.st_size > MAX_FILE_BYTES:
            raise fail(f"file is {st.st_size:,} bytes; the limit is {MAX_FILE_BYTES:,}")
        with os.fdopen(fd, "rb", closefd=False) as stream:
            raw = stream.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise fail(f"cannot read it: {error.strerror or error}") from None
    finally:
        os.close(fd)
    if len(raw) > MAX_FILE_BYTES:  # it grew while being read
        raise fail(f"file is over {MAX_FILE_BYTES:,} bytes, the limit")
    return raw
