-- Polls keep the threshold and results mode they opened with, record when their post was refused
-- (abandoned: closed, shown nowhere, prompt not used up), and a channel has at most one open poll.

ALTER TABLE polls ADD COLUMN min_votes INTEGER;
ALTER TABLE polls ADD COLUMN results_live INTEGER;
ALTER TABLE polls ADD COLUMN abandoned_at TEXT;

-- Older databases may hold several open polls in one channel: keep the newest open, close the
-- others when the newest opened (or at their own closing time if that came first).
UPDATE polls SET closed_at = (
    SELECT CASE WHEN polls.closes_at IS NOT NULL AND polls.closes_at < n.opened_at
                THEN polls.closes_at ELSE n.opened_at END
    FROM polls AS n
    WHERE n.space_id = polls.space_id AND n.channel_id = polls.channel_id AND n.closed_at IS NULL
      AND n.id > polls.id
    ORDER BY n.id DESC LIMIT 1
)
WHERE closed_at IS NULL AND EXISTS (
    SELECT 1 FROM polls AS n
    WHERE n.space_id = polls.space_id AND n.channel_id = polls.channel_id AND n.closed_at IS NULL
      AND n.id > polls.id
);

-- The constraint, not a check in code, is what keeps two concurrent opens from both succeeding.
CREATE UNIQUE INDEX polls_one_open_per_channel ON polls (space_id, channel_id) WHERE closed_at IS NULL;
