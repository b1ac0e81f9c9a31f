-- "Did you mean" draws on the corpus's vocabulary: reading it from FTS5 (fts5vocab) scans the
-- whole index (~7 s at 1M passages), so it is computed once per corpus generation, off the
-- bot's connection, and kept here for every process and every restart.
CREATE TABLE search_vocabulary (
    term     TEXT    PRIMARY KEY,
    passages INTEGER NOT NULL
) WITHOUT ROWID;
