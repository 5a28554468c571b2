-- Reasons behind votes (issue 13): one short reason per member per poll, marks "convincing" and reports.
-- Keyed by the voter key like votes; no platform id anywhere. A reason counts (is shown) only while its
-- option is its author's current choice and it is not hidden.
ALTER TABLE channel_settings ADD COLUMN reasons TEXT NOT NULL DEFAULT 'optional'
    CHECK (reasons IN ('off', 'optional', 'ask'));
ALTER TABLE channel_settings ADD COLUMN report_limit INTEGER NOT NULL DEFAULT 3 CHECK (report_limit >= 1);

CREATE TABLE reasons (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    poll_id         INTEGER NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    voter_key       TEXT NOT NULL,
    option_id       TEXT NOT NULL,  -- the choice it was written for (or kept with)
    text            TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    views           INTEGER NOT NULL DEFAULT 0 CHECK (views >= 0),  -- per reason, never per member
    hidden          TEXT CHECK (hidden IN ('reports', 'facilitator')),  -- NULL: shown
    reports_cleared INTEGER NOT NULL DEFAULT 0,  -- reports a facilitator's restore has answered
    UNIQUE (poll_id, voter_key)
);
CREATE INDEX reasons_by_voter ON reasons (voter_key);

CREATE TABLE reason_marks (
    reason_id INTEGER NOT NULL REFERENCES reasons (id) ON DELETE CASCADE,
    voter_key TEXT NOT NULL,
    at        TEXT NOT NULL,
    PRIMARY KEY (reason_id, voter_key)
);
CREATE INDEX reason_marks_by_voter ON reason_marks (voter_key);

CREATE TABLE reason_reports (
    reason_id INTEGER NOT NULL REFERENCES reasons (id) ON DELETE CASCADE,
    voter_key TEXT NOT NULL,
    at        TEXT NOT NULL,
    PRIMARY KEY (reason_id, voter_key)
);
CREATE INDEX reason_reports_by_voter ON reason_reports (voter_key);

-- Counted reasons no longer stored (purged with the per-vote rows, or erased from a closed poll), per
-- option, so a closed poll's reason counts never change.
CREATE TABLE reason_counts (
    poll_id   INTEGER NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    option_id TEXT NOT NULL,
    n         INTEGER NOT NULL CHECK (n >= 0),
    PRIMARY KEY (poll_id, option_id)
);
