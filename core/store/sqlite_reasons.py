"""The reasons' part of the SQLite store (the operations themselves are in reason_ops.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

import aiosqlite

from core.store import reason_ops as ops
from core.store.reason_ops import Db
from core.store.reason_queries import ReasonQueries
from core.store.sqlite_notices import NoticeQueries
from core.store.sqlite_rows import ts

R = TypeVar("R")


class SqliteDb:
    """reason_ops' face over one aiosqlite connection (the writer's, inside its transaction, or the reader)."""

    lock = ""  # the writer holds the whole database for the write
    share = ""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    def at(self, value: datetime) -> str:
        return ts(value)

    def when(self, value: Any) -> datetime:
        return datetime.fromisoformat(value)

    async def all(self, sql: str, *args: Any) -> list[Any]:
        async with self.conn.execute(sql, args) as cur:
            return [tuple(r) for r in await cur.fetchall()]

    async def run(self, sql: str, *args: Any) -> int:
        async with self.conn.execute(sql, args) as cur:
            return max(cur.rowcount, 0)


async def forget_reasons(conn: aiosqlite.Connection, space_id: str, voter_key: str) -> int:
    """For forget_member's transaction, before the votes go."""
    return await ops.forget(SqliteDb(conn), space_id, voter_key)


async def purge_reasons(conn: aiosqlite.Connection, cutoff: datetime) -> int:
    """For the retention purge's transaction, before the votes go."""
    return await ops.purge(SqliteDb(conn), cutoff)


class SqliteReasonQueries(NoticeQueries, ReasonQueries):
    async def _reason_write(self, op: Callable[[Db], Awaitable[R]]) -> R:
        async def run(conn: aiosqlite.Connection) -> R:
            return await op(SqliteDb(conn))

        return await self.writer.run(run)  # type: ignore[no-any-return]

    async def _reason_read(self, op: Callable[[Db], Awaitable[R]]) -> R:
        return await op(SqliteDb(self.reader))
