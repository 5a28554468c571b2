"""The reasons' part of the PostgreSQL store (the operations themselves are in reason_ops.py)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

import asyncpg

from core.models import Reason, ReasonOutcome
from core.store import reason_ops as ops
from core.store.postgres_rows import affected, aware
from core.store.postgres_schedules import PgBase

R = TypeVar("R")
# The retention purge's rows ($1 the cutoff), here so postgres.py, at its size limit, spends no line on it.
CLOSED_BEFORE = "poll_id IN (SELECT id FROM polls WHERE closed_at IS NOT NULL AND closed_at < $1)"
_MARK = re.compile(r"\?")


def _numbered(sql: str) -> str:
    """reason_ops writes `?`; asyncpg wants $1, $2, ..."""
    counter = iter(range(1, 1000))
    return _MARK.sub(lambda _: f"${next(counter)}", sql)


class PgDb:
    """reason_ops' face over one asyncpg connection, inside the caller's transaction."""

    lock = " FOR UPDATE"
    share = " FOR SHARE"

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    def at(self, value: datetime) -> datetime:
        return aware(value)

    def when(self, value: Any) -> datetime:
        return value  # type: ignore[no-any-return]

    async def all(self, sql: str, *args: Any) -> list[Any]:
        return list(await self.conn.fetch(_numbered(sql), *args))

    async def run(self, sql: str, *args: Any) -> int:
        return affected(await self.conn.execute(_numbered(sql), *args))


async def forget_reasons(conn: asyncpg.Connection, space_id: str, voter_key: str) -> int:
    """For forget_member's transaction, before the votes go."""
    return await ops.forget(PgDb(conn), space_id, voter_key)


async def purge_reasons(conn: asyncpg.Connection, cutoff: datetime) -> int:
    """For the retention purge's transaction, before the votes go."""
    return await ops.purge(PgDb(conn), cutoff)


class PgReasonQueries(PgBase):
    async def _reason_write(self, op: Callable[[PgDb], Awaitable[R]]) -> R:
        async with self._tx() as conn:
            return await op(PgDb(conn))

    async def _reason_read(self, op: Callable[[PgDb], Awaitable[R]]) -> R:
        async with self.pool.acquire() as conn:
            return await op(PgDb(conn))

    async def save_reason(self, poll_id: int, voter_key: str, text: str, at: datetime) -> ReasonOutcome:
        return await self._reason_write(lambda db: ops.save(db, poll_id, voter_key, text, at))

    async def delete_reason(self, poll_id: int, voter_key: str, at: datetime) -> ReasonOutcome:
        return await self._reason_write(lambda db: ops.delete(db, poll_id, voter_key, at))

    async def keep_reason(self, poll_id: int, voter_key: str, at: datetime) -> ReasonOutcome:
        return await self._reason_write(lambda db: ops.keep(db, poll_id, voter_key, at))

    async def my_reason(self, poll_id: int, voter_key: str) -> Reason | None:
        async def op(db: PgDb) -> Reason | None:
            row = await ops.one(db, f"SELECT {ops._COLUMNS} FROM reasons r WHERE r.poll_id = ? AND r.voter_key = ?",
                                poll_id, voter_key)
            return None if row is None else ops.reason_from(db, row, mine=True)

        return await self._reason_read(op)

    async def get_reason(self, reason_id: int) -> Reason | None:
        async def op(db: PgDb) -> Reason | None:
            row = await ops.one(db, f"SELECT {ops._COLUMNS} FROM reasons r WHERE r.id = ?", reason_id)
            return None if row is None else ops.reason_from(db, row)

        return await self._reason_read(op)

    async def reasons(self, poll_id: int, viewer_key: str = "") -> list[Reason]:
        return await self._reason_read(lambda db: ops.listing(db, poll_id, viewer_key))

    async def reasons_for_review(self, poll_id: int) -> list[Reason]:
        return await self._reason_read(lambda db: ops.for_review(db, poll_id))

    async def reason_counts(self, poll_id: int) -> dict[str, int]:
        return await self._reason_read(lambda db: ops.counts(db, poll_id))

    async def mark_reason(self, reason_id: int, voter_key: str, at: datetime) -> ReasonOutcome:
        return await self._reason_write(lambda db: ops.mark(db, reason_id, voter_key, at))

    async def unmark_reason(self, reason_id: int, voter_key: str) -> ReasonOutcome:
        return await self._reason_write(lambda db: ops.unmark(db, reason_id, voter_key))

    async def report_reason(self, reason_id: int, voter_key: str, limit: int, at: datetime) -> ReasonOutcome:
        return await self._reason_write(lambda db: ops.report(db, reason_id, voter_key, limit, at))

    async def moderate_reason(self, reason_id: int, hide: bool) -> ReasonOutcome:
        return await self._reason_write(lambda db: ops.moderate(db, reason_id, hide))

    async def add_reason_views(self, reason_ids: list[int]) -> None:
        if reason_ids:
            await self._reason_write(lambda db: ops.add_views(db, reason_ids))
