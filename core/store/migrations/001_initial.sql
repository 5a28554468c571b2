-- Counterpoint schema v1. Times are ISO-8601 UTC text; member ids never appear, only keyed hashes.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE polls (
    id          INTEGER PRIMARY KEY,
    space_id    TEXT NOT NULL,
    channel_id  TEXT NOT NULL,
    prompt_id   TEXT NOT NULL,
    opened_at   TEXT NOT NULL,
    closes_at   TEXT,
    closed_at   TEXT,
    message_ref TEXT,
    purged_at   TEXT
);
CREATE INDEX polls_by_channel ON polls (space_id, channel_id, opened_at);
CREATE INDEX polls_open_by_close ON polls (closes_at) WHERE closed_at IS NULL;

-- One row per member per poll: the current choice (NULL once retracted) and their first choice,
-- which the opinion-shift figures compare against.
CREATE TABLE votes (
    poll_id         INTEGER NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    voter_key       TEXT NOT NULL,
    option_id       TEXT,
    first_option_id TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    PRIMARY KEY (poll_id, voter_key)
) WITHOUT ROWID;
CREATE INDEX votes_by_voter ON votes (voter_key);

CREATE TABLE vote_events (
    id        INTEGER PRIMARY KEY,
    poll_id   INTEGER NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    voter_key TEXT NOT NULL,
    kind      TEXT NOT NULL CHECK (kind IN ('cast', 'change', 'retract')),
    option_id TEXT,
    at        TEXT NOT NULL
);
CREATE INDEX vote_events_by_voter ON vote_events (voter_key, poll_id);
CREATE INDEX vote_events_by_poll ON vote_events (poll_id);

-- Aggregate kept in the same transaction as each vote: how many current voters went from a first
-- option to a current one. Results read only this, and it outlives the per-vote rows (retention).
CREATE TABLE tallies (
    poll_id         INTEGER NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    first_option_id TEXT NOT NULL,
    option_id       TEXT NOT NULL,
    n               INTEGER NOT NULL CHECK (n >= 0),
    PRIMARY KEY (poll_id, first_option_id, option_id)
) WITHOUT ROWID;

CREATE TABLE channel_settings (
    space_id   TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    min_votes  INTEGER NOT NULL CHECK (min_votes >= 1),
    PRIMARY KEY (space_id, channel_id)
);
