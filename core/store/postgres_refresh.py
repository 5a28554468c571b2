"""The PostgreSQL side of shared refresh turns (see core/store/refresh.py).

One transaction per claim: the poll's row is created if missing, then read FOR UPDATE, so processes
asking at once take turns and each decides from the newest row. Instants come from the database's
clock (clock_timestamp()) like the other leases, so hosts whose clocks disagree still keep the gap;
with lease_clock="caller" the caller's `now` is used instead (fake-clock tests).
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from datetime import datetime, timedelta

import asyncpg

from core.store.postgres_rows import LeaseClock, aware
from core.store.refresh import RefreshClaim, RefreshRow, decide, finished

DEFAULT_REFRESH_LEASE = timedelta(seconds=30)
_COLUMNS = "version, claimed, done, holder, lease_until, last_at"


async def _locked(
    conn: asyncpg.Connection, poll_id: int, clock: LeaseClock, now: datetime
) -> tuple[RefreshRow, datetime]:
    await conn.execute("INSERT INTO poll_refresh (poll_id) VALUES ($1) ON CONFLICT DO NOTHING", poll_id)
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS}, clock_timestamp() FROM poll_refresh WHERE poll_id = $1 FOR UPDATE", poll_id
    )
    at = row[6] if clock == "database" else aware(now)  # read after the lock: waiting for it counts
    return RefreshRow(row[0], row[1], row[2], row[3], row[4], row[5]), at


async def _write(conn: asyncpg.Connection, poll_id: int, row: RefreshRow) -> None:
    await conn.execute(
        "UPDATE poll_refresh SET version = $2, claimed = $3, done = $4, holder = $5, lease_until = $6, "
        "last_at = $7 WHERE poll_id = $1",
        poll_id, row.version, row.claimed, row.done, row.holder, row.lease_until, row.last_at,
    )


class PgRefreshQueries:
    lease_clock: LeaseClock

    def _tx(self) -> AbstractAsyncContextManager[asyncpg.Connection]:
        raise NotImplementedError

    async def claim_refresh(
        self, poll_id: int, holder: str, now: datetime, gap: timedelta,
        lease: timedelta = DEFAULT_REFRESH_LEASE, mark: bool = True,
    ) -> RefreshClaim:
        aware(now)
        async with self._tx() as conn:
            before, at = await _locked(conn, poll_id, self.lease_clock, now)
            claim, after = decide(before, holder, at, gap, lease, mark)
            if after != before:
                await _write(conn, poll_id, after)
            return claim

    async def finish_refresh(self, poll_id: int, holder: str, now: datetime) -> bool:
        aware(now)
        async with self._tx() as conn:
            before, at = await _locked(conn, poll_id, self.lease_clock, now)
            after = finished(before, holder, at)
            if after is not None:
                await _write(conn, poll_id, after)
            return after is not None
