"""Applying a batch of vote requests in SQLite: read what the batch touches, plan, write the net result.

Runs on the writer connection's thread inside the group commit's transaction (see group_commit.py),
so it is plain sqlite3 with no await between a batch's reads and writes.

Each statement is written for many rows at once (multi-row VALUES) rather than with executemany:
the sqlite3 module lets go of the GIL around every step, and each time it must win the GIL back
from the event loop's thread, which is busy answering the previous batch's voters. A batch of 200
votes is a handful of steps this way instead of several hundred, each a possible wait.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime

from core.models import VoteOutcome
from core.store.sqlite_rows import dt as _dt
from core.store.sqlite_rows import ts as _ts
from core.store.vote_plan import Key, PollWindow, VoteRequest, VoteRow, plan_votes

_UPSERT_VOTES = (
    "INSERT INTO votes (poll_id, voter_key, option_id, first_option_id, updated_at) VALUES {values} "
    "ON CONFLICT (poll_id, voter_key) DO UPDATE SET option_id = excluded.option_id, "
    "first_option_id = excluded.first_option_id, updated_at = excluded.updated_at"
)
_INSERT_EVENTS = "INSERT INTO vote_events (poll_id, voter_key, kind, option_id, at) VALUES {values}"
_TALLY_DOWN = "UPDATE tallies SET n = n + ? WHERE poll_id = ? AND first_option_id = ? AND option_id = ?"
_TALLY_UP = (
    "INSERT INTO tallies (poll_id, first_option_id, option_id, n) VALUES {values} "
    "ON CONFLICT (poll_id, first_option_id, option_id) DO UPDATE SET n = n + excluded.n"
)
# A row-value IN (VALUES ...) is planned as a full scan of votes; joining a CTE of the keys makes
# SQLite look each one up by primary key, so a batch costs the same at any table size.
# The rows come back as one JSON text: fetching 200 rows one by one is 200 GIL hand-overs.
_CURRENT_VOTES = (
    "WITH k (p, v) AS (VALUES {values}) SELECT json_group_array(json_array(t.poll_id, t.voter_key, "
    "t.option_id, t.first_option_id, t.updated_at)) FROM k CROSS JOIN votes t ON t.poll_id = k.p AND t.voter_key = k.v"
)


def _chunks(conn: sqlite3.Connection, width: int, rows: Sequence[tuple]) -> list[Sequence[tuple]]:
    """Rows split so no statement binds more parameters than this SQLite allows (999 before 3.32)."""
    per = max(1, conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // width)
    return [rows[i:i + per] for i in range(0, len(rows), per)]


def _values(width: int, count: int) -> str:
    one = "(" + ",".join("?" * width) + ")"
    return ",".join([one] * count)


def _write(conn: sqlite3.Connection, template: str, width: int, rows: Sequence[tuple]) -> None:
    for chunk in _chunks(conn, width, rows):
        conn.execute(template.format(values=_values(width, len(chunk))), [v for row in chunk for v in row])


def apply_votes(conn: sqlite3.Connection, requests: list[VoteRequest]) -> list[VoteOutcome]:
    poll_ids = sorted({r.poll_id for r in requests})
    windows: dict[int, PollWindow] = {}
    for chunk in _chunks(conn, 1, [(p,) for p in poll_ids]):
        marks = ",".join("?" * len(chunk))
        for row in conn.execute(f"SELECT id, closes_at, closed_at FROM polls WHERE id IN ({marks})",
                                [p for (p,) in chunk]):
            windows[row[0]] = PollWindow(_dt(row[1]), _dt(row[2]))
    keys = sorted({(r.poll_id, r.voter_key) for r in requests if r.poll_id in windows})
    existing: dict[Key, VoteRow] = {}
    for chunk in _chunks(conn, 2, keys):
        found = conn.execute(_CURRENT_VOTES.format(values=_values(2, len(chunk))), [v for key in chunk for v in key])
        for r in json.loads(found.fetchone()[0]):
            existing[(r[0], r[1])] = VoteRow(r[2], r[3], datetime.fromisoformat(r[4]))
    plan = plan_votes(requests, windows, existing)
    stamps: dict[datetime, str] = {}  # a batch's requests share few distinct times: format each once

    def stamp(at: datetime) -> str:
        text = stamps.get(at)
        if text is None:
            text = stamps[at] = _ts(at)
        return text

    _write(conn, _UPSERT_VOTES, 5, [(k[0], k[1], row.option_id, row.first_option_id, stamp(row.updated_at))
                                    for k, row in plan.rows.items()])
    # In arrival order: a member's history is read back ordered by the events' ids.
    _write(conn, _INSERT_EVENTS, 5, [(p, v, kind, o, stamp(at)) for p, v, kind, o, at in plan.events])
    # SQLite checks CHECK (n >= 0) on the proposed row before resolving the conflict, so
    # decrements (always of an existing row) go through UPDATE and increments through UPSERT.
    downs = [(n, p, first, now) for (p, first, now), n in plan.tally_deltas.items() if n < 0]
    if downs:
        conn.executemany(_TALLY_DOWN, downs)
    _write(conn, _TALLY_UP, 4, [(p, first, now, n) for (p, first, now), n in plan.tally_deltas.items() if n > 0])
    return plan.outcomes
