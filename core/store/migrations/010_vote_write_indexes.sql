-- Every vote paid for two indexes that only rare commands read; dropping them takes two of the six pages a
-- first vote writes in its commit (docs/scaling.md).
-- votes_by_voter served a member's stance and erasure. Both now go through the polls of the member's space
-- and the votes primary key (poll_id, voter_key): one lookup per poll of that space.
-- vote_events_by_poll served abandoning a poll and the retention purge. Both now read the events table
-- through, and only when they deleted vote rows (an event exists only beside its vote row): an abandoned poll
-- was never posted, so never voted on, and a purge finds votes only on a day a voted-on poll passes the cutoff.
DROP INDEX IF EXISTS votes_by_voter;
DROP INDEX IF EXISTS vote_events_by_poll;
