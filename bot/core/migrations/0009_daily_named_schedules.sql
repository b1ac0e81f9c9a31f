-- Several named schedules per server, each on chosen days of the week and optionally limited
-- to one document or one kind. A server's existing schedule becomes the schedule "daily", and
-- its posts (and so its place in its shuffled order) move with it.

CREATE TABLE daily_schedules_new (
    guild_id      INTEGER NOT NULL,
    name          TEXT    NOT NULL,            -- 1-32 characters, unique per server
    channel_id    INTEGER NOT NULL,            -- text, announcement, forum or media channel
    local_time    TEXT    NOT NULL,            -- HH:MM, 24-hour clock
    zone          TEXT    NOT NULL,            -- IANA name, e.g. Europe/Berlin
    days          INTEGER NOT NULL DEFAULT 127, -- weekdays posted on: bit 0 Monday .. bit 6 Sunday
    document      TEXT,                        -- only this document's passages (its slug)
    kind          TEXT,                        -- only passages of this kind (poem, essay, ...)
    role_id       INTEGER,                     -- the one role a post may ping; NULL: none
    thread        INTEGER NOT NULL DEFAULT 0,  -- 1: open a discussion thread on each post
    card          INTEGER NOT NULL DEFAULT 0,  -- 1: attach the day's quote card
    next_date     TEXT    NOT NULL,            -- local date (YYYY-MM-DD) of the next post
    next_due      INTEGER NOT NULL,            -- when to act for it: unix seconds, UTC
    attempts      INTEGER NOT NULL DEFAULT 0,  -- transient failures for next_date so far
    paused_reason TEXT,                        -- NULL: active
    last_error    TEXT,
    last_error_at INTEGER,
    created_by    INTEGER,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    revision      INTEGER NOT NULL DEFAULT 0,  -- +1 on each /daily set: a running post's
                                               -- outcome never overwrites newer settings
    PRIMARY KEY (guild_id, name),
    CHECK (document IS NULL OR kind IS NULL)
);
INSERT INTO daily_schedules_new (guild_id, name, channel_id, local_time, zone, role_id, thread,
    card, next_date, next_due, attempts, paused_reason, last_error, last_error_at, created_by,
    created_at, updated_at)
SELECT guild_id, 'daily', channel_id, local_time, zone, role_id, thread, card, next_date,
    next_due, attempts, paused_reason, last_error, last_error_at, created_by, created_at,
    updated_at
FROM daily_schedules;
DROP TABLE daily_schedules;
ALTER TABLE daily_schedules_new RENAME TO daily_schedules;
CREATE INDEX daily_schedules_due ON daily_schedules (next_due) WHERE paused_reason IS NULL;
CREATE INDEX daily_schedules_by_channel ON daily_schedules (channel_id);

CREATE TABLE daily_posts_new (
    guild_id     INTEGER NOT NULL,
    schedule     TEXT    NOT NULL,             -- the schedule's name
    local_date   TEXT    NOT NULL,             -- YYYY-MM-DD in the schedule's zone
    passage_id   TEXT,                         -- NULL for a missed day
    cycle        INTEGER NOT NULL DEFAULT 0,   -- pass over the schedule's passages
    state        TEXT    NOT NULL CHECK (state IN ('intent', 'sent', 'late', 'missed', 'failed')),
    nonce        TEXT,
    channel_id   INTEGER,
    message_id   INTEGER,
    thread_id    INTEGER,
    due_at       INTEGER NOT NULL,             -- unix seconds, UTC
    attempted_at INTEGER,
    sent_at      INTEGER,
    error        TEXT,
    PRIMARY KEY (guild_id, schedule, local_date)
) WITHOUT ROWID;
INSERT INTO daily_posts_new (guild_id, schedule, local_date, passage_id, cycle, state, nonce,
    channel_id, message_id, thread_id, due_at, attempted_at, sent_at, error)
SELECT guild_id, 'daily', local_date, passage_id, cycle, state, nonce, channel_id, message_id,
    thread_id, due_at, attempted_at, sent_at, error
FROM daily_posts;
DROP TABLE daily_posts;
ALTER TABLE daily_posts_new RENAME TO daily_posts;
CREATE INDEX daily_posts_by_cycle ON daily_posts (guild_id, schedule, cycle);
