-- Locks several Lectern processes on one database take: e.g. "corpus", held while one of them
-- ingests or reloads the passages folder, so the others wait for it instead of doing it again.
CREATE TABLE locks (
    name        TEXT    PRIMARY KEY,
    holder      TEXT    NOT NULL,              -- host:pid:token of the holder
    acquired_at INTEGER NOT NULL,              -- unix seconds
    expires_at  INTEGER NOT NULL               -- a holder that died is overtaken after this
) WITHOUT ROWID;
