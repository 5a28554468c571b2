-- A member's first vote on a poll writes no history event: its vote row records it. cast_at is set when the
-- row is created and never changed; history reads it as the first "cast" (docs/scaling.md). Rows from before
-- this migration have NULL here and keep their "cast" event in vote_events, so history reads them as before.
ALTER TABLE votes ADD COLUMN cast_at TEXT;
