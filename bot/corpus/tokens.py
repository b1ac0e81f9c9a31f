"""Words as the search index sees them, and word forms.

``tokens`` splits text exactly as FTS5's ``unicode61 remove_diacritics 2`` tokenizer does (lower
case, accents removed), so Python can score and highlight the few passages a search ranks
without asking FTS5 for them one by one. ``stem`` is
the Snowball English stemmer (Porter 2), used to find the other forms of a word in the corpus's
vocabulary.
"""

from __future__ import annotations

import re
import sqlite3
import string
import threading
from functools import lru_cache

import snowballstemmer  # type: ignore[import-untyped]

_STEMMER = snowballstemmer.stemmer("english")
_RUN = re.compile(r"\S+")
_GONE = "\x00"  # an accent FTS5 drops inside a word: kept in place so offsets stay true


class _Folding:
    """What FTS5 makes of each character: part of a word (folded) or a separator.

    ASCII is fixed; any other character is asked of FTS5 itself once (its Unicode tables are
    its own: it keeps combining marks and characters newer than them, like most emoji, as
    parts of words), so Python splits text exactly as the index did.
    """

    def __init__(self) -> None:
        self.table: dict[int, str] = {}
        for code in range(128):
            c = chr(code)
            self.table[code] = c.lower() if c in string.ascii_letters + string.digits else " "
        self._lock = threading.Lock()
        self._probe: sqlite3.Connection | None = None

    def learn(self, text: str) -> None:
        unknown = {c for c in text if ord(c) not in self.table}
        if not unknown:
            return
        with self._lock:
            if self._probe is None:
                self._probe = sqlite3.connect(":memory:", check_same_thread=False)
                self._probe.execute(
                    "CREATE VIRTUAL TABLE p USING fts5(x, tokenize='unicode61 remove_diacritics 2')"
                )
                self._probe.execute("CREATE VIRTUAL TABLE i USING fts5vocab(p, instance)")
            self._probe.execute("DELETE FROM p")
            ordered = sorted(unknown)
            self._probe.executemany(
                "INSERT INTO p (rowid, x) VALUES (?, ?)",
                [(n, f"a{c}a") for n, c in enumerate(ordered, 1)],
            )
            found: dict[int, list[str]] = {}
            for doc, term in self._probe.execute("SELECT doc, term FROM i ORDER BY doc, offset"):
                found.setdefault(int(doc), []).append(str(term))
            for n, c in enumerate(ordered, 1):
                words = found.get(n, [])
                if len(words) == 1:  # one word: c is part of words, and folds to this
                    self.table[ord(c)] = words[0][1:-1] or _GONE
                else:
                    self.table[ord(c)] = " "

    def fold(self, text: str) -> str:
        """``text`` with each character as the index sees it; same length when nothing folds
        to more than one character (FTS5 folds one to one)."""
        if not text.isascii():
            self.learn(text)
        return text.translate(self.table)


_FOLDING = _Folding()


def without_surrogates(text: str) -> str:
    """``text`` without lone surrogates (a broken emoji pasted from somewhere), which no
    UTF-8 text, and so no SQLite query, can hold."""
    if text.isascii():
        return text
    return text.encode("utf-8", "ignore").decode("utf-8")


def fold(word: str) -> str:
    """``word`` as indexed: lower case, without accents ("Café" -> "cafe")."""
    return _FOLDING.fold(word).replace(_GONE, "").replace(" ", "")


def tokens(text: str) -> list[str]:
    """The indexed words of ``text``, in order."""
    folded = _FOLDING.fold(text)
    if _GONE in folded:
        return [w for w in (w.replace(_GONE, "") for w in folded.split()) if w]
    return folded.split()


def spans(text: str) -> list[tuple[int, int]]:
    """Where each of ``tokens(text)`` is in ``text`` (start, end)."""
    folded = _FOLDING.fold(text)
    return [m.span() for m in _RUN.finditer(folded) if m.group().strip(_GONE)]


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The stem shared by a word's forms: "weights", "weighted" -> "weight"."""
    return str(_STEMMER.stemWord(fold(word)))


def snippet(text: str, hits: set[int], *, start: str, end: str, size: int = 24) -> str:
    """About ``size`` words of ``text`` around the most word positions in ``hits``, each hit
    wrapped in ``start``/``end``, with "…" where the text was cut (FTS5's snippet, in Python)."""
    where = spans(text)
    if not where:
        return text[:200]
    first = 0
    if len(where) > size and hits:
        ordered = sorted(hits)
        best = -1
        for i, position in enumerate(ordered):
            covered = sum(1 for p in ordered[i:] if p < position + size)
            if covered > best:
                best, first = covered, position
        first = max(0, min(first - 2, len(where) - size))  # a little context before
    last = min(len(where), first + size)
    out = ["…" if first else ""]
    cursor = where[first][0] if first else 0
    for i in range(first, last):
        s, e = where[i]
        out.append(text[cursor:s])
        out.append(f"{start}{text[s:e]}{end}" if i in hits else text[s:e])
        cursor = e
    out.append("…" if last < len(where) else text[cursor:])
    return "".join(out)
