"""A member's own data in the SQLite store: their history, their stance, erasure, and the retention purge.

Votes have no index by member and events none by poll (migration 010: every vote paid for those two, and
only these rare reads used them). A member's votes are found through the polls of their space and the
votes primary key, their events through the index on their key's first 8 characters (MEMBER_EVENTS).
"""

from __future__ import annotations

from datetime import UTC, datetime

import aiosqlite

from core.models import Poll
from core.store.base import HistoryEntry
from core.store.sqlite_notices import NoticeQueries
from core.store.sqlite_reasons import forget_reasons, purge_reasons
from core.store.sqlite_rows import POLL_COLUMNS, read_all
from core.store.sqlite_rows import poll_from_row as _poll
from core.store.sqlite_rows import ts as _ts
from core.store.sqlite_votes import MEMBER_EVENTS


class MemberQueries(NoticeQueries):  # NoticeQueries: the connections SqliteStore provides
    async def history(self, poll_id: int, voter_key: str) -> list[HistoryEntry]:
        # The first vote from the row (cast_at, migration 011), ahead of the events (ids start at 1).
        rows = await read_all(
            self.reader,
            "SELECT kind, option_id, at FROM (SELECT 0 AS seq, 'cast' AS kind, first_option_id AS option_id, "
            "cast_at AS at FROM votes WHERE poll_id = ? AND voter_key = ? AND cast_at IS NOT NULL UNION ALL "
            f"SELECT id, kind, option_id, at FROM {MEMBER_EVENTS} AND poll_id = ?) ORDER BY seq",
            (poll_id, voter_key, voter_key, voter_key, poll_id),
        )
        return [HistoryEntry(r[0], r[1], datetime.fromisoformat(r[2])) for r in rows]

    async def stance(self, space_id: str, voter_key: str) -> list[tuple[Poll, str]]:
        cols = ", ".join(f"p.{c.strip()}" for c in POLL_COLUMNS.split(","))
        # Through the space's polls and the votes primary key: votes have no index by member (migration 010).
        rows = await read_all(
            self.reader,
            f"SELECT {cols}, v.option_id FROM polls p CROSS JOIN votes v ON v.poll_id = p.id AND v.voter_key = ? "
            "WHERE p.space_id = ? AND p.abandoned_at IS NULL AND v.option_id IS NOT NULL "
            "ORDER BY p.id DESC",
            (voter_key, space_id),
        )
        return [(_poll(r), r[-1]) for r in rows]

    async def forget_member(self, space_id: str, voter_key: str) -> int:
        async def op(conn: aiosqlite.Connection) -> int:
            # One primary-key lookup per poll of the space: votes have no index by member (migration 010).
            in_space = "poll_id IN (SELECT id FROM polls WHERE space_id = ?)"
            cur = await conn.execute(
                f"SELECT poll_id, first_option_id, option_id FROM votes WHERE {in_space} AND voter_key = ?",
                (space_id, voter_key),
            )
            rows = await cur.fetchall()
            # Only open polls drop the vote (as a retract would). A closed poll's final counts stay:
            # changing them would tell anyone comparing results before and after how this member voted.
            cur = await conn.execute("SELECT id FROM polls WHERE space_id = ? AND closed_at IS NULL", (space_id,))
            open_ids = {row[0] for row in await cur.fetchall()}
            held = [r for r in rows if r[2] is not None and r[0] in open_ids]
            await conn.executemany(
                "UPDATE tallies SET n = n - 1 WHERE poll_id = ? AND first_option_id = ? AND option_id = ?", held
            )
            reasons = await forget_reasons(conn, space_id, voter_key)  # before the votes it reads
            votes = await conn.execute(f"DELETE FROM votes WHERE {in_space} AND voter_key = ?", (space_id, voter_key))
            events = await conn.execute(
                f"DELETE FROM {MEMBER_EVENTS} AND {in_space}", (voter_key, voter_key, space_id)
            )
            return votes.rowcount + events.rowcount + reasons

        return await self.writer.run(op, wipe=True)

    async def purge_votes_closed_before(self, cutoff: datetime) -> int:
        async def op(conn: aiosqlite.Connection) -> int:
            closed = "poll_id IN (SELECT id FROM polls WHERE closed_at IS NOT NULL AND closed_at < ?)"
            reasons = await purge_reasons(conn, cutoff)  # before the votes it reads; counts are kept
            deleted = await delete_votes_and_events(conn, closed, (_ts(cutoff),))
            await conn.execute(
                "UPDATE polls SET purged_at = ? WHERE closed_at < ? AND purged_at IS NULL",
                (_ts(datetime.now(UTC)), _ts(cutoff)),
            )
            return deleted + reasons

        return await self.writer.run(op, wipe=True)


async def delete_votes_and_events(conn: aiosqlite.Connection, where: str, params: tuple[object, ...]) -> int:
    """Delete the vote rows matching `where` (on poll_id), then their events; the count of both.

    Events have no index by poll (migration 010), so deleting them reads the whole events table. Every
    event is written beside its member's vote row, and every path that deletes vote rows deletes their
    events with them (here, and forget_member): when no vote row matched there is no event to look for,
    so the usual abandoned poll (never posted, so never voted on) and a quiet day's purge read no events."""
    votes = await conn.execute(f"DELETE FROM votes WHERE {where}", params)
    if not votes.rowcount:
        return 0
    events = await conn.execute(f"DELETE FROM vote_events WHERE {where}", params)
    return votes.rowcount + events.rowcount
