-- Scheduler failure handling: refused posts back off and are given up after a bound, outcomes too,
-- and admins learn about a given-up occurrence from a notice instead of a log they never read.

-- Posts the platform refused for this occurrence; while it backs off, lease_until is the next try.
ALTER TABLE occurrences ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;

-- Outcome attempts so far (each claim counts one); given up after a bound, never retried after that.
ALTER TABLE polls ADD COLUMN outcome_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE polls ADD COLUMN outcome_given_up_at TEXT;

DROP INDEX polls_awaiting_outcome;
CREATE INDEX polls_awaiting_outcome ON polls (closed_at)
    WHERE outcome_posted_at IS NULL AND outcome_given_up_at IS NULL;

-- Things the admins of a space should know about (shown in App Home and `schedule show`).
-- Never holds member ids.
CREATE TABLE notices (
    id         INTEGER PRIMARY KEY,
    space_id   TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    text       TEXT NOT NULL,
    at         TEXT NOT NULL
);
CREATE INDEX notices_by_space ON notices (space_id, id);
