"""Row conversions shared by the SQLite store's modules. Times are stored as ISO-8601 UTC text."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import aiosqlite

from core.models import Poll
from core.store.group_commit import on_connection_thread

POLL_COLUMNS = (
    "id, space_id, channel_id, prompt_id, opened_at, closes_at, closed_at, message_ref, platform, "
    "min_votes, results_live, abandoned_at"
)


def ts(value: datetime) -> str:
    if value.tzinfo is UTC:  # the service's clock: no conversion to make (every vote stamps its time)
        return value.isoformat(timespec="microseconds")
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the store; use aware UTC")
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value is not None else None


def poll_from_row(row: aiosqlite.Row | tuple) -> Poll:
    return Poll(
        id=row[0],
        space_id=row[1],
        channel_id=row[2],
        prompt_id=row[3],
        opened_at=datetime.fromisoformat(row[4]),
        closes_at=dt(row[5]),
        closed_at=dt(row[6]),
        message_ref=row[7],
        platform=row[8],
        min_votes=row[9],
        results_live=None if row[10] is None else bool(row[10]),
        abandoned=row[11] is not None,
    )


async def insert_poll(
    conn: aiosqlite.Connection,
    space_id: str,
    channel_id: str,
    prompt_id: str,
    opened_at: datetime,
    closes_at: datetime | None,
    platform: str,
    min_votes: int | None = None,
    results_live: bool | None = None,
) -> int:
    """Insert a poll; sqlite3.IntegrityError if the channel already has a not-closed poll."""
    cur = await conn.execute(
        "INSERT INTO polls (space_id, channel_id, prompt_id, opened_at, closes_at, platform, min_votes, results_live) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            space_id, channel_id, prompt_id, ts(opened_at), ts(closes_at) if closes_at else None, platform,
            min_votes, None if results_live is None else int(results_live),
        ),
    )
    return int(cur.lastrowid)  # type: ignore[arg-type]


async def read_all(reader: aiosqlite.Connection, sql: str, params: tuple | list = ()) -> list[Any]:
    """Every row of one query, run to its end in one call on the reader's thread.

    Never execute, then fetch in a later call: reads of other coroutines run on the same connection in
    between, inside this statement's still-open read transaction, and so miss writes that committed (and
    were acknowledged) before they started. It also kept an old snapshot that held back the WAL
    checkpoint after an erasure.
    """
    return await on_connection_thread(reader, lambda conn: conn.execute(sql, params).fetchall())
