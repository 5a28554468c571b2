"""The SQLite side of shared refresh turns (see core/store/refresh.py).

One process owns a SQLite file, so the turn is only ever contested inside it; the table and the
answers are the same as on PostgreSQL all the same, so adapters need one code path. Each claim is one
write in the group-commit writer (BEGIN IMMEDIATE): read, decide, write back, atomically. Instants
are the caller's `now` (one host, one clock).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import aiosqlite

from core.store.refresh import RefreshClaim, RefreshRow, decide, finished
from core.store.sqlite_rows import dt, ts

if TYPE_CHECKING:
    from core.store.group_commit import GroupCommitWriter

DEFAULT_REFRESH_LEASE = timedelta(seconds=30)
_COLUMNS = "version, claimed, done, holder, lease_until, last_at"


async def _read(conn: aiosqlite.Connection, poll_id: int) -> RefreshRow:
    cur = await conn.execute(f"SELECT {_COLUMNS} FROM poll_refresh WHERE poll_id = ?", (poll_id,))
    row = await cur.fetchone()
    if row is None:
        return RefreshRow()
    return RefreshRow(int(row[0]), int(row[1]), int(row[2]), row[3], dt(row[4]), dt(row[5]))


async def _write(conn: aiosqlite.Connection, poll_id: int, row: RefreshRow) -> None:
    await conn.execute(
        f"INSERT INTO poll_refresh (poll_id, {_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (poll_id) DO UPDATE "
        "SET version = excluded.version, claimed = excluded.claimed, done = excluded.done, "
        "holder = excluded.holder, lease_until = excluded.lease_until, last_at = excluded.last_at",
        (poll_id, row.version, row.claimed, row.done, row.holder,
         ts(row.lease_until) if row.lease_until else None, ts(row.last_at) if row.last_at else None),
    )


class SqliteRefreshQueries:
    @property
    def writer(self) -> GroupCommitWriter:
        raise NotImplementedError

    async def claim_refresh(
        self, poll_id: int, holder: str, now: datetime, gap: timedelta,
        lease: timedelta = DEFAULT_REFRESH_LEASE, mark: bool = True,
    ) -> RefreshClaim:
        async def op(conn: aiosqlite.Connection) -> RefreshClaim:
            before = await _read(conn, poll_id)
            claim, after = decide(before, holder, now, gap, lease, mark)
            if after != before:
                await _write(conn, poll_id, after)
            return claim

        ts(now)  # a naive datetime is refused before anything is queued
        return await self.writer.run(op)  # type: ignore[no-any-return]

    async def finish_refresh(self, poll_id: int, holder: str, now: datetime) -> bool:
        async def op(conn: aiosqlite.Connection) -> bool:
            after = finished(await _read(conn, poll_id), holder, now)
            if after is not None:
                await _write(conn, poll_id, after)
            return after is not None

        ts(now)
        return await self.writer.run(op)  # type: ignore[no-any-return]
