-- The corpus: documents, their passages, the authors that filter them, and the search index.
-- Passages are stored in (kind, document, position) order with dense rowids 1..N, so a random
-- passage, or a random passage of one kind or document, is a single indexed lookup.

CREATE TABLE documents (
    id            INTEGER PRIMARY KEY,
    slug          TEXT    NOT NULL UNIQUE,
    title         TEXT    NOT NULL,
    author        TEXT,                       -- NULL: the document names no author
    kind          TEXT    NOT NULL,
    source        TEXT    NOT NULL,
    note          TEXT,
    path          TEXT    NOT NULL,
    content_hash  TEXT    NOT NULL,
    first_rowid   INTEGER NOT NULL,
    passage_count INTEGER NOT NULL
);

CREATE TABLE kinds (
    kind          TEXT    PRIMARY KEY,
    first_rowid   INTEGER NOT NULL,
    passage_count INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE authors (
    id            INTEGER PRIMARY KEY,
    name          TEXT    NOT NULL,
    key           TEXT    NOT NULL UNIQUE,    -- case-folded name, what filters match
    passage_count INTEGER NOT NULL
);

CREATE TABLE passages (
    rowid       INTEGER PRIMARY KEY,
    id          TEXT    NOT NULL UNIQUE,      -- e.g. shape-of-attention-7
    document_id INTEGER NOT NULL REFERENCES documents (id),
    seq         INTEGER NOT NULL,             -- 1-based order in the document
    unit        TEXT    NOT NULL,             -- stanza, paragraph, entry, comment, afterword
    number      INTEGER NOT NULL,
    unit_total  INTEGER NOT NULL,
    author_id   INTEGER REFERENCES authors (id),
    author_ord  INTEGER,                      -- 0-based index among this author's passages
    text        TEXT    NOT NULL
);
CREATE UNIQUE INDEX passages_by_document ON passages (document_id, seq);
CREATE UNIQUE INDEX passages_by_author ON passages (author_id, author_ord);

CREATE VIEW passage_search AS
    SELECT p.rowid AS rowid, p.text AS text, d.title AS title, a.name AS author
    FROM passages AS p
    JOIN documents AS d ON d.id = p.document_id
    LEFT JOIN authors AS a ON a.id = p.author_id;

CREATE VIRTUAL TABLE passages_fts USING fts5 (
    text, title, author,
    content = 'passage_search', content_rowid = 'rowid',
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '2 3'
);

-- Small facts about the stored corpus (fingerprints, signature of the folder).
CREATE TABLE corpus_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
