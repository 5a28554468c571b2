"""Applying a batch of vote requests in SQLite: read what the batch touches, plan, write the net result.

Runs inside the group commit's transaction as one synchronous unit (sqlite_unit.py), usually on the
event loop's own thread (group_commit.py), so it is plain sqlite3 with no await between a batch's reads
and writes.

A batch reads in one statement whatever its size: the keys go in as one JSON array and the rows come
back as one (json_each / json_group_array). A lone vote, the usual case outside a rush, reads plain
columns and writes its one step directly (_apply_one). A batch's writes are one prepared statement each,
stepped once per row (executemany): plain parameters are cheaper for SQLite than extracting each
column from JSON.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime

from core.models import VoteOutcome
from core.store.sqlite_rows import dt as _dt
from core.store.sqlite_rows import ts as _ts
from core.store.vote_plan import Key, PollWindow, VoteRequest, VoteRow, plan_votes, step

# A member's events, through the index on their key's first 8 characters (migration 009); bind the key
# twice. Named, because the index is used only for the very expression it was built on (and, before
# migration 010, the planner would rather scan a whole poll's events by its poll index). The unary +
# keeps SELECT's constant propagation from turning that expression into a constant through the
# equality on the full key, which left a SCAN of the whole index.
MEMBER_EVENTS = (
    "vote_events INDEXED BY vote_events_by_voter_prefix "
    "WHERE substr(voter_key, 1, 8) = substr(?, 1, 8) AND +voter_key = ?"
)


def _col(i: int, source: str = "value") -> str:
    return f"json_extract({source}, '$[{i}]')"


# The polls and the current votes a batch touches, in one step. CROSS JOIN keeps json_each outside,
# so each key is a primary-key lookup in votes: a batch costs the same at any table size. Each vote
# brings the option its member's reason is on (a unique-key lookup), for the receipt's offer: a reason
# exists only beside its author's vote row (saved with a vote, deleted before the votes), so reading
# it through the vote row misses none.
_READ = (
    "SELECT (SELECT json_group_array(json_array(id, closes_at, closed_at)) FROM polls "
    "WHERE id IN (SELECT value FROM json_each(?1))), "
    "(SELECT json_group_array(json_array(t.poll_id, t.voter_key, t.option_id, t.first_option_id, "
    "(SELECT r.option_id FROM reasons r WHERE r.poll_id = t.poll_id AND r.voter_key = t.voter_key))) "
    f"FROM json_each(?2) k CROSS JOIN votes t "
    f"ON t.poll_id = {_col(0, 'k.value')} AND t.voter_key = {_col(1, 'k.value')})"
)
# The same for a lone vote; a first vote (no row) skips the reasons lookup, as it can have no reason.
_READ_ONE = (
    "SELECT p.closes_at, p.closed_at, v.option_id, v.first_option_id, CASE WHEN v.poll_id IS NULL THEN NULL "
    "ELSE (SELECT r.option_id FROM reasons r WHERE r.poll_id = ?1 AND r.voter_key = ?2) END "
    "FROM polls p LEFT JOIN votes v ON v.poll_id = p.id AND v.voter_key = ?2 WHERE p.id = ?1"
)
# cast_at is written when the row is created and never after (a member's first vote: vote_plan.Step).
_UPSERT_VOTES = (
    "INSERT INTO votes (poll_id, voter_key, option_id, first_option_id, updated_at, cast_at) "
    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (poll_id, voter_key) DO UPDATE SET option_id = excluded.option_id, "
    "first_option_id = excluded.first_option_id, updated_at = excluded.updated_at"
)
# In arrival order: a member's history is read back ordered by the events' ids.
_INSERT_EVENTS = "INSERT INTO vote_events (poll_id, voter_key, kind, option_id, at) VALUES (?, ?, ?, ?, ?)"
# SQLite checks CHECK (n >= 0) on the proposed row before resolving the conflict, so decrements
# (always of an existing row) go through UPDATE and increments through UPSERT.
_TALLY_DOWN = "UPDATE tallies SET n = n + ? WHERE poll_id = ? AND first_option_id = ? AND option_id = ?"
_TALLY_UP = (
    "INSERT INTO tallies (poll_id, first_option_id, option_id, n) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (poll_id, first_option_id, option_id) DO UPDATE SET n = n + excluded.n"
)


def apply_votes(conn: sqlite3.Connection, requests: list[VoteRequest]) -> list[VoteOutcome]:
    if len(requests) == 1:
        return [_apply_one(conn, requests[0])]
    windows, existing, reasons = _read(conn, requests)
    plan = plan_votes(requests, windows, existing, reasons)
    stamps: dict[datetime, str] = {}  # a batch's requests share few distinct times: format each once

    def stamp(at: datetime) -> str:
        text = stamps.get(at)
        if text is None:
            text = stamps[at] = _ts(at)
        return text

    if plan.rows:
        rows = [(k[0], k[1], row.option_id, row.first_option_id, stamp(row.updated_at),
                 None if row.cast_at is None else stamp(row.cast_at)) for k, row in plan.rows.items()]
        conn.executemany(_UPSERT_VOTES, rows)
    if plan.events:
        conn.executemany(_INSERT_EVENTS, [(p, v, kind, o, stamp(at)) for p, v, kind, o, at in plan.events])
    downs = [(n, p, first, now) for (p, first, now), n in plan.tally_deltas.items() if n < 0]
    if downs:
        conn.executemany(_TALLY_DOWN, downs)
    ups = [(p, first, now, n) for (p, first, now), n in plan.tally_deltas.items() if n > 0]
    if ups:
        conn.executemany(_TALLY_UP, ups)
    return plan.outcomes


def _apply_one(conn: sqlite3.Connection, req: VoteRequest) -> VoteOutcome:
    """A lone vote, the usual case outside a rush: its one step (the same rules as a batch's plan) read
    as plain columns and written directly. Building and parsing JSON was a third of its time in the
    database, and the batch's bookkeeping most of the rest of its Python."""
    cur = conn.cursor()  # one cursor for the vote's statements rather than one each
    found = cur.execute(_READ_ONE, (req.poll_id, req.voter_key)).fetchone()
    if found is None:
        return step(req, None, None, None).outcome
    closes, closed, option, first, hint = found
    current = VoteRow(option, first, datetime.min) if first is not None else None
    done = step(req, PollWindow(_dt(closes), _dt(closed)), current, hint)
    row = done.row
    if row is None:
        return done.outcome
    at = _ts(req.at)
    # A row created here is cast now; a stored row keeps its cast_at (the upsert never changes it).
    cast = at if row.cast_at is not None else None
    cur.execute(_UPSERT_VOTES, (req.poll_id, req.voter_key, row.option_id, row.first_option_id, at, cast))
    if done.event:
        cur.execute(_INSERT_EVENTS, (req.poll_id, req.voter_key, done.event, req.option_id, at))
    if done.down is not None:
        cur.execute(_TALLY_DOWN, (-1, req.poll_id, *done.down))
    if done.up is not None:
        cur.execute(_TALLY_UP, (req.poll_id, *done.up, 1))
    return done.outcome


Read = tuple[dict[int, PollWindow], dict[Key, VoteRow], dict[Key, str]]


def _read(conn: sqlite3.Connection, requests: list[VoteRequest]) -> Read:
    """The polls, current votes and reasons a batch touches, in one statement whatever its size."""
    poll_ids = sorted({r.poll_id for r in requests})
    keys = sorted({(r.poll_id, r.voter_key) for r in requests})
    polls_json, votes_json = conn.execute(_READ, (json.dumps(poll_ids), json.dumps(keys))).fetchone()
    windows = {p: PollWindow(_dt(closes), _dt(closed)) for p, closes, closed in json.loads(polls_json)}
    # updated_at is not read: the plan stamps every row it writes with its request's time.
    existing: dict[Key, VoteRow] = {}
    reasons: dict[Key, str] = {}
    for p, v, option, first, reason_option in json.loads(votes_json):
        existing[(p, v)] = VoteRow(option, first, datetime.min)
        if reason_option is not None:
            reasons[(p, v)] = reason_option
    return windows, existing, reasons
