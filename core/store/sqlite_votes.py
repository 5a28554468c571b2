"""Applying a batch of vote requests in SQLite: read what the batch touches, plan, write the net result."""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from core.models import VoteOutcome
from core.store.sqlite_rows import dt as _dt
from core.store.sqlite_rows import ts as _ts
from core.store.vote_plan import Key, PollWindow, VoteRequest, VoteRow, plan_votes


async def apply_votes(conn: aiosqlite.Connection, requests: list[VoteRequest]) -> list[VoteOutcome]:
    poll_ids = sorted({r.poll_id for r in requests})
    marks = ",".join("?" * len(poll_ids))
    cur = await conn.execute(f"SELECT id, closes_at, closed_at FROM polls WHERE id IN ({marks})", poll_ids)
    windows = {row[0]: PollWindow(_dt(row[1]), _dt(row[2])) for row in await cur.fetchall()}
    keys = sorted({(r.poll_id, r.voter_key) for r in requests})
    pairs = ",".join("(?, ?)" for _ in keys)
    # A row-value IN (VALUES ...) is planned as a full scan of votes; joining a CTE of the keys
    # makes SQLite look each one up by primary key, so a batch costs the same at any table size.
    cur = await conn.execute(
        f"WITH k (p, v) AS (VALUES {pairs}) "
        "SELECT t.poll_id, t.voter_key, t.option_id, t.first_option_id, t.updated_at "
        "FROM k CROSS JOIN votes t ON t.poll_id = k.p AND t.voter_key = k.v",
        [v for key in keys for v in key],
    )
    existing: dict[Key, VoteRow] = {
        (r[0], r[1]): VoteRow(r[2], r[3], datetime.fromisoformat(r[4])) for r in await cur.fetchall()
    }
    plan = plan_votes(requests, windows, existing)
    if plan.rows:
        await conn.executemany(
            "INSERT INTO votes (poll_id, voter_key, option_id, first_option_id, updated_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (poll_id, voter_key) DO UPDATE SET "
            "option_id = excluded.option_id, first_option_id = excluded.first_option_id, "
            "updated_at = excluded.updated_at",
            [(k[0], k[1], row.option_id, row.first_option_id, _ts(row.updated_at)) for k, row in plan.rows.items()],
        )
    if plan.events:
        await conn.executemany(
            "INSERT INTO vote_events (poll_id, voter_key, kind, option_id, at) VALUES (?, ?, ?, ?, ?)",
            [(p, v, kind, o, _ts(at)) for p, v, kind, o, at in plan.events],
        )
    # SQLite checks CHECK (n >= 0) on the proposed row before resolving the conflict, so
    # decrements (always of an existing row) go through UPDATE and increments through UPSERT.
    ups = [(p, first, now, n) for (p, first, now), n in plan.tally_deltas.items() if n > 0]
    downs = [(n, p, first, now) for (p, first, now), n in plan.tally_deltas.items() if n < 0]
    if downs:
        await conn.executemany(
            "UPDATE tallies SET n = n + ? WHERE poll_id = ? AND first_option_id = ? AND option_id = ?", downs
        )
    if ups:
        await conn.executemany(
            "INSERT INTO tallies (poll_id, first_option_id, option_id, n) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (poll_id, first_option_id, option_id) DO UPDATE SET n = n + excluded.n",
            ups,
        )
    return plan.outcomes
