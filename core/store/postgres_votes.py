"""Tally writes shared by PostgreSQL's erasure path (votes themselves: postgres_batch.py)."""

from __future__ import annotations

from collections import Counter

import asyncpg


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
