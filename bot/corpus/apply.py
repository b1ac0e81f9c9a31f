"""Step two of a reload: swap the staged documents in, a few thousand passages per commit.

Each commit replaces whole documents (a changed document's old passages go in the same commit
as its new ones arrive), recomputes the ordinals that keep corpus order (``documents.ord_start``,
``kinds``, ``author_documents.a_ord``: small tables) and bumps the corpus generation. So the
write lock is never held for long (other processes' writes wait at most one commit, well
inside their busy timeout), readers always see whole documents, and a crash half way leaves a
corpus of valid documents that the next reload finishes, since every document row records the
file and content it came from.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from ..core.db import Database
from .layout import DOCUMENT_BITS, first_rowid
from .model import PARSER_VERSION
from .staging import Plan
from .store import GENERATION_KEY

#: Passages written or deleted per commit: about a quarter of a second of the write lock
#: (measured at 1M: median 0.22 s, at most ~1 s), well inside other writers' busy timeout.
COMMIT_PASSAGES = 10_000
#: What a document costs a commit beyond its passages, in passages (its dozen statements).
DOCUMENT_COST = 25

_BUMP_GENERATION = """INSERT INTO corpus_meta (key, value) VALUES (?, '1') ON CONFLICT (key)
    DO UPDATE SET value = CAST(value AS INTEGER) + 1"""

_FTS_DELETE = """INSERT INTO passages_fts (passages_fts, rowid, text, title, author)
    SELECT 'delete', rowid, text, title, author FROM passage_search
    WHERE rowid BETWEEN ? AND ?"""
_FTS_INSERT = """INSERT INTO passages_fts (rowid, text, title, author)
    SELECT rowid, text, title, author FROM passage_search WHERE rowid BETWEEN ? AND ?"""

_NEW_AUTHORS = """INSERT INTO authors (name, key, passage_count)
    SELECT author, author_key, 0 FROM (
        SELECT author, author_key, min(rowid) FROM staged_passages
        WHERE rowid BETWEEN :staged AND :staged + :count - 1 AND author_key IS NOT NULL
        GROUP BY author_key)
    WHERE true ON CONFLICT (key) DO NOTHING"""
_INSERT_PASSAGES = """INSERT INTO passages
    SELECT :first + s.seq - 1, s.id, :doc, s.seq, s.unit, s.number, s.unit_total, a.id,
        s.author_seq, s.author, s.text
    FROM staged_passages AS s LEFT JOIN authors AS a ON a.key = s.author_key
    WHERE s.rowid BETWEEN :staged AND :staged + :count - 1 ORDER BY s.rowid"""
_COUNT_AUTHORS = """INSERT INTO author_documents (author_id, document_id, passage_count)
    SELECT author_id, :doc, count(*) FROM passages
    WHERE rowid BETWEEN :first AND :last AND author_id IS NOT NULL GROUP BY author_id"""

_ORDINALS = """UPDATE documents SET ord_start = o.s FROM (
        SELECT id, sum(passage_count) OVER (ORDER BY kind, slug) - passage_count AS s
        FROM documents) AS o
    WHERE documents.id = o.id AND documents.ord_start IS NOT o.s"""
_KINDS = """INSERT INTO kinds (kind, ord_start, passage_count)
    SELECT kind, min(ord_start), sum(passage_count) FROM documents GROUP BY kind"""
_AUTHOR_ORDINALS = """UPDATE author_documents SET a_ord = o.s FROM (
        SELECT ad.author_id, ad.document_id, sum(ad.passage_count) OVER (
            PARTITION BY ad.author_id ORDER BY d.ord_start) - ad.passage_count AS s
        FROM author_documents AS ad JOIN documents AS d ON d.id = ad.document_id
        WHERE ad.author_id IN (SELECT value FROM json_each(:authors))) AS o
    WHERE author_documents.author_id = o.author_id
        AND author_documents.document_id = o.document_id AND author_documents.a_ord IS NOT o.s"""
_AUTHOR_COUNTS = """UPDATE authors SET passage_count = (
        SELECT coalesce(sum(passage_count), 0) FROM author_documents WHERE author_id = authors.id)
    WHERE id IN (SELECT value FROM json_each(:authors))"""
# An author is named as their first passage in corpus order spells it (as a fresh ingest of
# the folder would name them), whatever the history of reloads.
_AUTHOR_NAMES = """UPDATE authors SET name = coalesce((
        SELECT p.author_name FROM author_documents AS ad
        JOIN passages AS p ON p.author_id = ad.author_id AND p.document_id = ad.document_id
            AND p.author_seq = 0
        WHERE ad.author_id = authors.id AND ad.a_ord = 0), name)
    WHERE id IN (SELECT value FROM json_each(:authors))"""


async def apply_plan(
    session: Database,
    plan: Plan,
    *,
    signature: str,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """Write ``plan`` to the corpus, one commit per chunk of documents (see the module)."""
    chunks = list(_chunks(plan))
    for number, slugs in enumerate(chunks, 1):
        async with session.immediate():
            if number == 1:  # until the last commit, a restart must look at the files again
                await session.run("DELETE FROM corpus_meta WHERE key = 'signature'")
            await _replace(session, plan, slugs)
            await session.run(_BUMP_GENERATION, (GENERATION_KEY,))
        if progress:
            progress(number, len(chunks))
    async with session.immediate():
        await session.run_many(
            """UPDATE documents SET file = ?, file_size = ?, file_mtime_ns = ?,
            file_ctime_ns = ?, file_ino = ?, path = ? WHERE slug = ?""",
            [(file, *stat, path, slug) for slug, file, stat, path in plan.moved],
        )
        await session.run_many(
            "INSERT OR REPLACE INTO corpus_meta (key, value) VALUES (?, ?)",
            [("fingerprint", plan.fingerprint), ("signature", signature),
             ("parser", str(PARSER_VERSION))],
        )  # fmt: skip
        if plan.changes_passages or plan.moved:
            await session.run(_BUMP_GENERATION, (GENERATION_KEY,))


def _chunks(plan: Plan) -> Iterator[list[str]]:
    """Slugs to replace or remove, in corpus order (so a commit's new ordinals are mostly
    the later documents'), grouped so a commit costs about COMMIT_PASSAGES."""

    def order(slug: str) -> tuple[str, str]:
        known = plan.stored.get(slug)
        return (plan.staged_kinds.get(slug) or (known.kind if known else ""), slug)

    chunk: list[str] = []
    weight = 0
    for slug in sorted({*plan.added, *plan.changed, *plan.removed}, key=order):
        old = plan.stored[slug].passage_count if slug in plan.stored else 0
        cost = old + plan.staged_counts.get(slug, 0) + DOCUMENT_COST
        if chunk and weight + cost > COMMIT_PASSAGES:
            yield chunk
            chunk, weight = [], 0
        chunk.append(slug)
        weight += cost
    if chunk:
        yield chunk


async def _replace(session: Database, plan: Plan, slugs: list[str]) -> None:
    touched: set[int] = set()
    freed: dict[str, int] = {}  # slug -> its old document id, which its new version reuses
    for slug in slugs:
        if slug in plan.stored:
            doc_id, authors = await _delete_document(session, slug)
            freed[slug] = doc_id
            touched.update(authors)
    taken = set(freed.values())  # kept for their documents' new versions
    for slug in slugs:
        if slug in plan.staged_counts:
            doc_id = freed.get(slug) or await _free_document_id(session, taken)
            taken.add(doc_id)
            touched.update(await _insert_document(session, slug, doc_id))
    await session.run(_ORDINALS)
    await session.run("DELETE FROM kinds")
    await session.run(_KINDS)
    ids = {"authors": "[" + ",".join(str(a) for a in sorted(touched)) + "]"}
    await session.run(_AUTHOR_COUNTS, ids)
    await session.run(_AUTHOR_ORDINALS, ids)
    await session.run(_AUTHOR_NAMES, ids)
    await session.run("DELETE FROM authors WHERE passage_count = 0")


async def _free_document_id(session: Database, taken: set[int]) -> int:
    """The next document id not stored nor ``taken``; past the rowid layout's last one, the
    first unused one."""
    row = await session.one("SELECT coalesce(max(id), 0) FROM documents")
    candidate = max(int(row[0]), *taken, 0) + 1
    if candidate < 1 << DOCUMENT_BITS:
        return candidate
    rows = await session.all("SELECT id FROM documents ORDER BY id")
    used = {int(r[0]) for r in rows} | taken
    return next(i for i in range(1, 1 << DOCUMENT_BITS) if i not in used)


async def _delete_document(session: Database, slug: str) -> tuple[int, list[int]]:
    row = await session.one(
        "SELECT id, first_rowid, passage_count FROM documents WHERE slug = ?", (slug,)
    )
    doc_id, first, count = row
    authors = [r[0] for r in await session.all(
        "SELECT author_id FROM author_documents WHERE document_id = ?", (doc_id,))]  # fmt: skip
    last = first + count - 1
    await session.run(_FTS_DELETE, (first, last))
    await session.run("DELETE FROM passages WHERE rowid BETWEEN ? AND ?", (first, last))
    await session.run("DELETE FROM author_documents WHERE document_id = ?", (doc_id,))
    await session.run("DELETE FROM documents WHERE id = ?", (doc_id,))
    return int(doc_id), authors


async def _insert_document(session: Database, slug: str, doc_id: int) -> list[int]:
    kind, count, staged = await session.one(
        "SELECT kind, passage_count, first_staged FROM staged_documents WHERE slug = ?", (slug,)
    )
    rows = {"staged": staged, "count": count}
    first = first_rowid(kind, doc_id)
    await session.run(
        """INSERT INTO documents (id, slug, title, author, kind, source, note, path, file,
            file_size, file_mtime_ns, file_ctime_ns, file_ino, content_hash, first_rowid,
            passage_count)
        SELECT ?, slug, title, author, kind, source, note, path, file, file_size,
            file_mtime_ns, file_ctime_ns, file_ino, content_hash, ?, passage_count
        FROM staged_documents WHERE slug = ?""",
        (doc_id, first, slug),
    )
    await session.run(_NEW_AUTHORS, rows)
    await session.run(_INSERT_PASSAGES, {"first": first, "doc": doc_id, **rows})
    last = first + count - 1
    await session.run(_COUNT_AUTHORS, {"doc": doc_id, "first": first, "last": last})
    await session.run(_FTS_INSERT, (first, last))
    return [r[0] for r in await session.all(
        "SELECT author_id FROM author_documents WHERE document_id = ?", (doc_id,))]  # fmt: skip
