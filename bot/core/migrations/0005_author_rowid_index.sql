-- A random passage by an author within a kind or a document seeks the author's first and last
-- rowid inside that range: this index (author_id, then the rowid SQLite appends) serves it.
CREATE INDEX passages_by_author_rowid ON passages (author_id);
