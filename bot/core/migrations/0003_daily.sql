-- Daily reflections: one schedule per server, and one row per server and local date posted
-- (or missed).

CREATE TABLE daily_schedules (
    guild_id      INTEGER PRIMARY KEY,
    channel_id    INTEGER NOT NULL,
    local_time    TEXT    NOT NULL,            -- HH:MM, 24-hour clock
    zone          TEXT    NOT NULL,            -- IANA name, e.g. Europe/Berlin
    role_id       INTEGER,                     -- the one role a post may ping; NULL: none
    thread        INTEGER NOT NULL DEFAULT 0,  -- 1: open a discussion thread on each post
    next_date     TEXT    NOT NULL,            -- local date (YYYY-MM-DD) of the next post
    next_due      INTEGER NOT NULL,            -- when to act for it: unix seconds, UTC
    attempts      INTEGER NOT NULL DEFAULT 0,  -- transient failures for next_date so far
    paused_reason TEXT,                        -- NULL: active
    last_error    TEXT,
    last_error_at INTEGER,
    created_by    INTEGER,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
-- "What is due": one range scan over active schedules in due order.
CREATE INDEX daily_schedules_due ON daily_schedules (next_due)
    WHERE paused_reason IS NULL;

CREATE TABLE daily_posts (
    guild_id     INTEGER NOT NULL,
    local_date   TEXT    NOT NULL,             -- YYYY-MM-DD in the schedule's zone
    passage_id   TEXT,                         -- NULL for a missed day
    cycle        INTEGER NOT NULL DEFAULT 0,   -- pass over the corpus this passage belongs to
    state        TEXT    NOT NULL CHECK (state IN ('intent', 'sent', 'late', 'missed', 'failed')),
    nonce        TEXT,
    channel_id   INTEGER,
    message_id   INTEGER,
    thread_id    INTEGER,
    due_at       INTEGER NOT NULL,             -- unix seconds, UTC
    attempted_at INTEGER,
    sent_at      INTEGER,
    error        TEXT,
    PRIMARY KEY (guild_id, local_date)
) WITHOUT ROWID;
CREATE INDEX daily_posts_by_cycle ON daily_posts (guild_id, cycle);
