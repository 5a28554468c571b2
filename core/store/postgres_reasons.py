"""The reasons' part of the PostgreSQL store (the operations themselves are in reason_ops.py)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

import asyncpg

from core.store import reason_ops as ops
from core.store.postgres_rows import affected, aware
from core.store.postgres_schedules import PgBase
from core.store.reason_ops import Db
from core.store.reason_queries import ReasonQueries

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


class PgReasonQueries(PgBase, ReasonQueries):
    async def _reason_write(self, op: Callable[[Db], Awaitable[R]]) -> R:
        async with self._tx() as conn:
            return await op(PgDb(conn))

    async def _reason_read(self, op: Callable[[Db], Awaitable[R]]) -> R:
        async with self.pool.acquire() as conn:
            return await op(PgDb(conn))
