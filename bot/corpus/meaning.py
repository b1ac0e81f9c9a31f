"""Search by meaning: a passage is found when it says what the reader typed in other words.

The model is WordLlama 0.4 (``l2_supercat``), a static embedding model: a token table and mean
pooling, no network, weights shipped inside its wheel (``pip install lectern[meaning]``). Its
256 dimensions are trained to truncate ("matryoshka"): Lectern keeps the first DIMS, normalised
and quantised to int8, so 1M passages take 64 MB in memory.

Vectors are computed in the background, after the text is searchable, by a worker process
(``python -m bot.corpus.meaning DB``) and stored per document in ``document_vectors`` with the
content hash they were computed from: an edited document is embedded again, nothing else. The
bot holds them in one int8 matrix and scans it whole per query (17 ms at 1M passages, in a
thread). Without the extra, or before the vectors exist, search is lexical only.
"""

from __future__ import annotations

import logging
import sqlite3
import sys
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from .model import PARSER_VERSION

log = logging.getLogger(__name__)

#: What the stored vectors were made with; vectors of another model are made again. The
#: parser's version is part of it: a new parser may split a document differently.
MODEL = f"wordllama-0.4-l2_supercat-64-int8-parser{PARSER_VERSION}"
DIMS = 64
#: Unit vectors' components stay well inside ±0.5 at 64 dimensions: int8 keeps them at 1/254.
SCALE = 127 / 0.5
#: Passages embedded between two commits of the worker.
COMMIT_EVERY = 20_000


class MeaningUnavailable(Exception):
    """The ``meaning`` extra is not installed (or its model cannot be read)."""


class Embedder:
    """Texts to int8 vectors of DIMS, comparable by dot product (scaled cosine)."""

    def __init__(self) -> None:
        try:
            from safetensors import safe_open  # type: ignore[import-not-found,import-untyped,unused-ignore]
            from tokenizers import Tokenizer  # type: ignore[import-not-found,import-untyped,unused-ignore]
            from wordllama.inference import (  # type: ignore[import-not-found,import-untyped,unused-ignore]
                WordLlamaInference,
            )
        except ImportError as error:
            raise MeaningUnavailable(
                f"install lectern[meaning] ({error.name} is missing)"
            ) from None
        # Read the files inside the wheel directly: WordLlama.load() looks for its tokenizer
        # in the wrong folder and then tries to download it.
        root = resources.files("wordllama")
        weights = root / "weights" / "l2_supercat_256.safetensors"
        tokenizer = root / "tokenizers" / "l2_supercat_tokenizer_config.json"
        try:
            with safe_open(str(weights), framework="np", device="cpu") as f:
                table = f.get_tensor("embedding.weight")[:, :DIMS]
            self._model = WordLlamaInference(table, Tokenizer.from_file(str(tokenizer)))
        except (OSError, ValueError) as error:
            raise MeaningUnavailable(f"the WordLlama model cannot be read: {error}") from None

    def embed(self, texts: list[str]) -> Any:
        """An (n, DIMS) int8 array."""
        import numpy as np

        vectors = np.asarray(self._model.embed(texts, batch_size=256), dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        vectors /= np.maximum(norms, 1e-9)
        return np.clip(np.rint(vectors * SCALE), -127, 127).astype(np.int8)


@lru_cache(maxsize=1)
def embedder() -> Embedder | None:
    """The process's one embedder, or None without the ``meaning`` extra (logged once)."""
    try:
        return Embedder()
    except MeaningUnavailable as why:
        log.info("Search by meaning is off: %s", why)
        return None


def build(path: Path) -> int:
    """Embed every document whose stored vectors are missing or stale; how many passages.

    Passages are read and embedded outside any transaction; each batch is written in a short
    one, so readers and the bot's own writes never wait behind the embedding."""
    model = Embedder()
    connection = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        generation = connection.execute(
            "SELECT value FROM corpus_meta WHERE key = 'generation'"
        ).fetchone()
        stored = {
            int(d): (str(h), str(m))
            for d, h, m in connection.execute(
                "SELECT document_id, content_hash, model FROM document_vectors"
            )
        }
        todo = [
            (int(d), str(h), int(first), int(n))
            for d, h, first, n in connection.execute(
                "SELECT id, content_hash, first_rowid, passage_count FROM documents ORDER BY id"
            )
            if stored.get(int(d)) != (str(h), MODEL)
        ]
        done, batch = 0, []
        for document_id, content_hash, first, count in todo:
            texts = [  # a document is a rowid range (layout.py): no scan of the table
                str(t)
                for (t,) in connection.execute(
                    "SELECT text FROM passages WHERE rowid BETWEEN ? AND ? ORDER BY rowid",
                    (first, first + count - 1),
                )
            ]
            blob = model.embed(texts).tobytes() if texts else b""
            batch.append((document_id, content_hash, MODEL, blob))
            done += len(texts)
            if sum(len(b[3]) for b in batch) >= COMMIT_EVERY * DIMS:
                _write(connection, batch)
                batch = []
        _write(connection, batch)
        connection.execute("BEGIN IMMEDIATE")
        connection.execute(
            "DELETE FROM document_vectors WHERE document_id NOT IN (SELECT id FROM documents)"
        )
        _bump(connection)
        connection.execute(  # what the vectors cover: the index knows when to start again
            "INSERT OR REPLACE INTO corpus_meta VALUES ('vectors_for', ?)",
            (str(generation[0]) if generation else "0",),
        )
        connection.execute("COMMIT")
        return done
    finally:
        connection.close()


def _write(connection: sqlite3.Connection, batch: list[tuple[int, str, str, bytes]]) -> None:
    if not batch:
        return
    connection.execute("BEGIN IMMEDIATE")
    # Only over the same document as embedded: a reload may have moved it on meanwhile.
    connection.executemany(
        """INSERT OR REPLACE INTO document_vectors SELECT ?1, ?2, ?3, ?4
        WHERE EXISTS (SELECT 1 FROM documents WHERE id = ?1 AND content_hash = ?2)""",
        batch,
    )
    _bump(connection)  # readers see vectors arrive
    connection.execute("COMMIT")


def _bump(connection: sqlite3.Connection) -> None:
    connection.execute(
        """INSERT INTO corpus_meta VALUES ('vectors', '1') ON CONFLICT (key)
        DO UPDATE SET value = CAST(value AS INTEGER) + 1"""
    )


if __name__ == "__main__":  # the worker process: DB
    print(f"{build(Path(sys.argv[1]))} passages embedded")
