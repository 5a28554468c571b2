"""The reasons' Store methods, written once for both engines over reason_ops.

Each engine mixes this in and supplies only how an operation runs: `_reason_write` inside one write
transaction, `_reason_read` on a reading connection.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TypeVar

from core.models import Reason, ReasonOutcome
from core.store import reason_ops as ops
from core.store.reason_ops import Db

R = TypeVar("R")


class ReasonQueries:
    async def _reason_write(self, op: Callable[[Db], Awaitable[R]]) -> R:
        raise NotImplementedError

    async def _reason_read(self, op: Callable[[Db], Awaitable[R]]) -> R:
        raise NotImplementedError

    async def save_reason(self, poll_id: int, voter_key: str, text: str, at: datetime) -> ReasonOutcome:
        return await self._reason_write(lambda db: ops.save(db, poll_id, voter_key, text, at))

    async def delete_reason(self, poll_id: int, voter_key: str, at: datetime) -> ReasonOutcome:
        return await self._reason_write(lambda db: ops.delete(db, poll_id, voter_key, at))

    async def keep_reason(self, poll_id: int, voter_key: str, at: datetime) -> ReasonOutcome:
        return await self._reason_write(lambda db: ops.keep(db, poll_id, voter_key, at))

    async def my_reason(self, poll_id: int, voter_key: str) -> Reason | None:
        async def op(db: Db) -> Reason | None:
            row = await ops.one(db, f"SELECT {ops._COLUMNS} FROM reasons r WHERE r.poll_id = ? AND r.voter_key = ?",
                                poll_id, voter_key)
            return None if row is None else ops.reason_from(db, row, mine=True)

        return await self._reason_read(op)

    async def get_reason(self, reason_id: int) -> Reason | None:
        async def op(db: Db) -> Reason | None:
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
