-- Every vote paid for two indexes that only rare commands read; dropping them takes two of the six pages a
-- first vote writes in its commit (docs/scaling.md).
-- votes_by_voter served a member's stance and erasure. Both now go through the polls of the member's space
-- and the votes primary key (poll_id, voter_key): one lookup per poll of that space.
-- vote_events_by_poll served abandoning a poll and the retention purge. Both now read the events table
-- through: abandoning is rare (a post Discord or Slack refused), and the daily purge scans it only on a day
-- when some poll passed the retention cutoff.
DROP INDEX votes_by_voter;
DROP INDEX vote_events_by_poll;
