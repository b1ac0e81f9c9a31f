"""The corpus as Lectern stored it before migration 0011 (dense rowids in corpus order), for
tests that start from an old database and migrate it."""

from __future__ import annotations

from bot.core.db import Database
from bot.corpus.model import Corpus
from bot.corpus.random import author_key


async def write_old_layout(db: Database, corpus: Corpus) -> None:
    """Store ``corpus`` in the tables of migrations 0001-0010."""
    authors: dict[str, int] = {}
    counts: dict[str, int] = {}
    documents, passages = [], []
    rowid = 1
    for doc_id, doc in enumerate(corpus.documents, 1):
        documents.append((doc_id, doc.slug, doc.title, doc.author, doc.kind, doc.source,
                          doc.note, doc.path, doc.content_hash, rowid, len(doc.passages)))  # fmt: skip
        for p in doc.passages:
            author_id = author_ord = None
            if p.author:
                key = author_key(p.author)
                author_id = authors.setdefault(key, len(authors) + 1)
                author_ord = counts.get(key, 0)
                counts[key] = author_ord + 1
            passages.append((rowid, p.id, doc_id, p.seq, p.unit, p.number, p.unit_total,
                             author_id, author_ord, p.text))  # fmt: skip
            rowid += 1
    async with db.transaction() as writer:
        await writer.run_many(
            "INSERT INTO authors VALUES (?, ?, ?, ?)",
            [(i, key, key, counts[key]) for key, i in authors.items()],
        )
        await writer.run_many(
            "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", documents
        )
        await writer.run_many(
            "INSERT INTO passages VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", passages
        )
        await writer.run("INSERT INTO passages_fts (passages_fts) VALUES ('rebuild')")
        await writer.run(
            "INSERT INTO corpus_meta VALUES ('fingerprint', ?), ('signature', 'old')",
            (corpus.fingerprint,),
        )
