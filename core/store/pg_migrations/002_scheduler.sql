-- Daily scheduling: per-channel schedules, one row per (schedule, local date) claimed before posting,
-- and per-poll outcome bookkeeping so the close-time outcome is posted once.

ALTER TABLE polls ADD COLUMN platform TEXT NOT NULL DEFAULT '';
ALTER TABLE polls ADD COLUMN outcome_posted_at TIMESTAMPTZ;
ALTER TABLE polls ADD COLUMN outcome_lease_until TIMESTAMPTZ;

ALTER TABLE channel_settings ADD COLUMN results_live BOOLEAN NOT NULL DEFAULT TRUE;

CREATE TABLE schedules (
    space_id         TEXT NOT NULL,
    channel_id       TEXT NOT NULL,
    platform         TEXT NOT NULL,
    time_of_day      TEXT NOT NULL,
    timezone         TEXT NOT NULL,
    weekdays         TEXT NOT NULL,
    duration_minutes INTEGER NOT NULL CHECK (duration_minutes > 0),
    deck_order       TEXT NOT NULL CHECK (deck_order IN ('section', 'shuffle')),
    shuffle_seed     TEXT NOT NULL,
    enabled          BOOLEAN NOT NULL DEFAULT TRUE,
    since            TIMESTAMPTZ NOT NULL,
    done_through     DATE,
    PRIMARY KEY (space_id, channel_id)
);

CREATE TABLE occurrences (
    space_id    TEXT NOT NULL,
    channel_id  TEXT NOT NULL,
    local_date  DATE NOT NULL,
    due_at      TIMESTAMPTZ NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('claimed', 'posted', 'skipped')),
    holder      TEXT,
    lease_until TIMESTAMPTZ,
    attempts    INTEGER NOT NULL DEFAULT 0,
    poll_id     BIGINT REFERENCES polls (id),
    PRIMARY KEY (space_id, channel_id, local_date)
);
CREATE INDEX polls_awaiting_outcome ON polls (closed_at) WHERE outcome_posted_at IS NULL;
