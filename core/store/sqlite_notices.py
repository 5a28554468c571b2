"""Admin notices in the SQLite store: a short, append-only list per space, newest first when read."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import aiosqlite

from core.models import Notice
from core.store.sqlite_rows import read_all, ts

if TYPE_CHECKING:
    from core.store.group_commit import GroupCommitWriter

NOTICE_TEXT_MAX = 500


async def insert_notice(conn: aiosqlite.Connection, space_id: str, channel_id: str, text: str, at: datetime) -> None:
    """Add a notice inside the caller's transaction (so it is recorded exactly when its cause is)."""
    await conn.execute(
        "INSERT INTO notices (space_id, channel_id, text, at) VALUES (?, ?, ?, ?)",
        (space_id, channel_id, text[:NOTICE_TEXT_MAX], ts(at)),
    )


class NoticeQueries:
    # Provided by SqliteStore, which opens the connections this mixin's queries run on.
    @property
    def writer(self) -> GroupCommitWriter:
        raise NotImplementedError

    @property
    def reader(self) -> aiosqlite.Connection:
        raise NotImplementedError

    async def add_notice(self, space_id: str, channel_id: str, text: str, at: datetime) -> None:
        async def op(conn: aiosqlite.Connection) -> None:
            await insert_notice(conn, space_id, channel_id, text, at)

        await self.writer.run(op)

    async def notices(self, space_id: str, limit: int = 10) -> list[Notice]:
        """The space's latest notices, newest first."""
        rows = await read_all(
            self.reader,
            "SELECT space_id, channel_id, text, at FROM notices WHERE space_id = ? ORDER BY id DESC LIMIT ?",
            (space_id, int(limit)),
        )
        return [Notice(r[0], r[1], r[2], datetime.fromisoformat(r[3])) for r in rows]
