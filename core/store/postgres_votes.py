"""The vote path's statements on PostgreSQL (postgres.py's _vote_tx runs them in its transaction)."""

from __future__ import annotations

from collections import Counter

import asyncpg

from core.store.vote_plan import VoteRequest, VoteRow

# The member's vote row, locked, with the option their reason on the poll is on (for the receipt's
# offer) in the same round trip. A reason exists only beside its author's vote row (saved with a vote,
# deleted before the votes), so reading it through the vote row misses none.
_VOTE_ROW = (
    "SELECT v.option_id, v.first_option_id, v.updated_at, "
    "(SELECT r.option_id FROM reasons r WHERE r.poll_id = v.poll_id AND r.voter_key = v.voter_key) "
    "FROM votes v WHERE v.poll_id = $1 AND v.voter_key = $2 FOR UPDATE OF v"
)


async def read_vote_row(conn: asyncpg.Connection, req: VoteRequest) -> tuple[VoteRow | None, str | None]:
    """(the member's vote row, the option of their reason) - each None when there is none."""
    row = await conn.fetchrow(_VOTE_ROW, req.poll_id, req.voter_key)
    if row is None:
        return None, None
    return VoteRow(row[0], row[1], row[2]), row[3]


async def apply_tally_deltas(conn: asyncpg.Connection, deltas: Counter[tuple[int, str, str]]) -> None:
    """Write tally changes in key order (concurrent writers then lock rows in one order, never a cycle).

    Decrements go through UPDATE (the row exists); increments through an upsert, whose proposed row
    must itself pass CHECK (n >= 0).
    """
    for (poll_id, first, current), n in sorted(deltas.items()):
        if n < 0:
            await conn.execute(
                "UPDATE tallies SET n = n + $1 WHERE poll_id = $2 AND first_option_id = $3 AND option_id = $4",
                n, poll_id, first, current,
            )
        elif n > 0:
            await conn.execute(
                "INSERT INTO tallies (poll_id, first_option_id, option_id, n) VALUES ($1, $2, $3, $4) "
                "ON CONFLICT (poll_id, first_option_id, option_id) DO UPDATE SET n = tallies.n + excluded.n",
                poll_id, first, current, n,
            )
