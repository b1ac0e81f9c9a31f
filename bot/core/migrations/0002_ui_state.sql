-- State that does not fit in a button's 100-character custom_id (a search query, the filters
-- of "Another"), stored under a short content hash that the custom_id carries instead.
CREATE TABLE ui_state (
    key        TEXT PRIMARY KEY,
    payload    TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
) WITHOUT ROWID;
