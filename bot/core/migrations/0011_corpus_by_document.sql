-- The corpus, stored document by document, so a reload rewrites only the documents that
-- changed and never shifts the others.
--
-- A passage's rowid is (kind number << 50) | (document id << 24) | seq (bot/corpus/layout.py):
-- a document, and a kind, is a rowid range, and editing one document moves no other passage.
-- Corpus order (kind, slug, seq) is kept by ordinals instead of rowids: documents.ord_start is
-- the number of passages before the document in that order, so the n-th passage is one
-- indexed lookup (the last document starting at or before n), and a random passage of the
-- corpus, a kind or a document is a random ordinal. An author's passages are numbered the same
-- way through author_documents.a_ord. Only ordinals are recomputed on a reload, not rows.
--
-- The corpus is derived from the passages folder: it is dropped here and ingested again at the
-- next start (the signature and fingerprint are cleared).

DROP TABLE passages_vocab;
DROP TABLE passages_fts;
DROP VIEW passage_search;
DROP TABLE passages;
DROP TABLE documents;
DROP TABLE kinds;
DROP TABLE authors;

CREATE TABLE documents (
    id            INTEGER PRIMARY KEY,
    slug          TEXT    NOT NULL UNIQUE,
    title         TEXT    NOT NULL,
    author        TEXT,                       -- NULL: the document names no author
    kind          TEXT    NOT NULL,
    source        TEXT    NOT NULL,
    note          TEXT,
    path          TEXT    NOT NULL,           -- as shown in messages: folder/relative path
    file          TEXT    NOT NULL,           -- the path relative to the passages folder
    file_size     INTEGER NOT NULL,
    file_mtime_ns INTEGER NOT NULL,           -- -1: too recent to trust, read it next time
    file_ctime_ns INTEGER NOT NULL,           -- which utime cannot set back
    file_ino      INTEGER NOT NULL,
    content_hash  TEXT    NOT NULL,
    first_rowid   INTEGER NOT NULL,           -- the rowid of its passage 1
    passage_count INTEGER NOT NULL,
    ord_start     INTEGER NOT NULL DEFAULT 0  -- passages before it in corpus order
);
CREATE INDEX documents_by_ord ON documents (ord_start);
CREATE INDEX documents_by_file ON documents (file);

CREATE TABLE kinds (
    kind          TEXT    PRIMARY KEY,
    ord_start     INTEGER NOT NULL,
    passage_count INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE authors (
    id            INTEGER PRIMARY KEY,
    name          TEXT    NOT NULL,
    key           TEXT    NOT NULL UNIQUE,    -- case-folded name, what filters match
    passage_count INTEGER NOT NULL
);

-- How many passages each author has in each document, and how many before it (a_ord), in
-- corpus order.
CREATE TABLE author_documents (
    author_id     INTEGER NOT NULL,
    document_id   INTEGER NOT NULL,
    passage_count INTEGER NOT NULL,
    a_ord         INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (author_id, document_id)
) WITHOUT ROWID;
CREATE INDEX author_documents_by_ord ON author_documents (author_id, a_ord);
CREATE INDEX author_documents_by_document ON author_documents (document_id);

CREATE TABLE passages (
    rowid       INTEGER PRIMARY KEY,
    id          TEXT    NOT NULL UNIQUE,      -- e.g. shape-of-attention-7
    document_id INTEGER NOT NULL,
    seq         INTEGER NOT NULL,             -- 1-based order in the document
    unit        TEXT    NOT NULL,             -- stanza, paragraph, entry, comment, afterword
    number      INTEGER NOT NULL,
    unit_total  INTEGER NOT NULL,
    author_id   INTEGER,
    author_seq  INTEGER,                      -- 0-based index among the author's passages here
    author_name TEXT,                         -- as this passage spells it (what FTS5 indexed)
    text        TEXT    NOT NULL
);
CREATE UNIQUE INDEX passages_by_author ON passages (author_id, document_id, author_seq);

CREATE VIEW passage_search AS
    SELECT p.rowid AS rowid, p.text AS text, d.title AS title, p.author_name AS author
    FROM passages AS p
    JOIN documents AS d ON d.id = p.document_id;

CREATE VIRTUAL TABLE passages_fts USING fts5 (
    text, title, author,
    content = 'passage_search', content_rowid = 'rowid',
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '2 3'
);
-- Reloads commit a few thousand passages at a time: merging the index's segments less eagerly
-- than the default (4) makes those commits ~40% cheaper, and searches stay as fast.
INSERT INTO passages_fts (passages_fts, rank) VALUES ('automerge', 16);
CREATE VIRTUAL TABLE passages_vocab USING fts5vocab(passages_fts, 'row');

DELETE FROM corpus_meta WHERE key IN ('signature', 'fingerprint');
INSERT INTO corpus_meta (key, value) VALUES ('generation', '1') ON CONFLICT (key)
    DO UPDATE SET value = CAST(value AS INTEGER) + 1;
