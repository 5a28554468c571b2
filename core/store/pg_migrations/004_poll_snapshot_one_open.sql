-- Polls keep the threshold and results mode they opened with, record when their post was refused
-- (abandoned), and a channel has at most one open poll. (A PostgreSQL database never held several
-- open polls per channel, so unlike SQLite's 004 there is nothing to tidy first.)

ALTER TABLE polls ADD COLUMN min_votes INTEGER;
ALTER TABLE polls ADD COLUMN results_live BOOLEAN;
ALTER TABLE polls ADD COLUMN abandoned_at TIMESTAMPTZ;

-- The constraint, not a check in code, is what keeps two concurrent opens from both succeeding.
CREATE UNIQUE INDEX polls_one_open_per_channel ON polls (space_id, channel_id) WHERE closed_at IS NULL;
