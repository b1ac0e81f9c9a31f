-- Who did what to the running bot, and how it went: admin commands and shell operations.
CREATE TABLE audit (
    id        INTEGER PRIMARY KEY,
    at        TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    actor_id  INTEGER,                 -- Discord user id; NULL for the shell or a signal
    actor     TEXT    NOT NULL,        -- display name, "shell" or "SIGHUP"
    guild_id  INTEGER,
    action    TEXT    NOT NULL,        -- e.g. "reload", "reload --dry-run", "sync global"
    result    TEXT    NOT NULL,        -- "ok", "refused", "failed"
    detail    TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX audit_by_time ON audit (at);
