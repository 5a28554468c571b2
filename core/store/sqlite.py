"""The default Store: SQLite through aiosqlite, with one group-commit writer and one reader."""

from __future__ import annotations

import inspect
import logging
import os
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any

import aiosqlite

from core.models import Poll, Tally, VoteOutcome
from core.store.base import PollAlreadyOpen, StoreError
from core.store.group_commit import GroupCommitWriter
from core.store.sqlite_errors import store_error, surfacing_store_errors
from core.store.sqlite_members import MemberQueries, delete_votes_and_events
from core.store.sqlite_open import (
    INLINE_SYNCHRONOUS,
    check_location,
    check_version,
    connect,
    connect_inline,
    lock_single_writer,
    migrate,
    migrations,
    reason_for,
    require_json,
    split_sql,
    user_version,
)
from core.store.sqlite_open import cannot_open as _cannot_open
from core.store.sqlite_reasons import SqliteReasonQueries
from core.store.sqlite_refresh import SqliteRefreshQueries
from core.store.sqlite_rows import POLL_COLUMNS as _POLL_COLUMNS
from core.store.sqlite_rows import insert_poll, read_all
from core.store.sqlite_rows import poll_from_row as _poll
from core.store.sqlite_rows import ts as _ts
from core.store.sqlite_schedules import ScheduleQueries
from core.store.sqlite_spaces import SpaceQueries
from core.store.sqlite_votes import apply_votes
from core.store.vote_plan import VoteRequest

__all__ = ["BATCH_MAX", "SYNCHRONOUS_MODES", "SqliteStore", "migrations", "split_sql"]

log = logging.getLogger(__name__)

SYNCHRONOUS_MODES = ("OFF", "NORMAL", "FULL", "EXTRA")
_VISIBLE = "abandoned_at IS NULL"  # abandoned polls (post refused) appear in no listing


# Votes per group commit at most: with a thousand members pressing at once, 500 gave a fifth more
# votes per second than 200 on a 2-core machine and no worse p99 at 10,000 votes/s (make bench).
BATCH_MAX = 500


class SqliteStore(ScheduleQueries, SpaceQueries, SqliteRefreshQueries, SqliteReasonQueries, MemberQueries):
    """SQLite behind the Store contract.

    exclusive=True (run, console) holds a flock on `<db>.lock` while open, so a second process on the
    same file is refused instead of competing for the write lock. busy_timeout is how long SQLite
    waits for a lock per attempt; lock_timeout bounds the whole wait of one write batch (or of
    open's migration) before it fails with StoreError.
    """

    def __init__(
        self,
        path: str | Path,
        synchronous: str = "NORMAL",
        batch_max: int = BATCH_MAX,
        *,
        exclusive: bool = False,
        busy_timeout: float = 5.0,
        lock_timeout: float = 10.0,
    ) -> None:
        if synchronous.upper() not in SYNCHRONOUS_MODES:
            raise ValueError(f"synchronous must be one of {', '.join(SYNCHRONOUS_MODES)}")
        self.path = str(path)
        self.abs_path = os.path.abspath(self.path)
        self.synchronous = synchronous.upper()
        self.exclusive = exclusive
        self.busy_timeout = busy_timeout
        self.lock_timeout = lock_timeout
        self._batch_max = batch_max
        self._write: aiosqlite.Connection | None = None
        self._read: aiosqlite.Connection | None = None
        self._inline: sqlite3.Connection | None = None  # vote batches on the loop's thread (group_commit.py)
        self._writer: GroupCommitWriter | None = None
        self._lock_fd: int | None = None

    # -- lifecycle ------------------------------------------------------------------------------

    async def open(self) -> None:
        if self._write is not None:
            raise StoreError("the store is already open")
        try:
            await self._open()
            self._writer = GroupCommitWriter(self._write, self._batch_max, self.lock_timeout,  # type: ignore[arg-type]
                                             inline=self._inline)
            self._writer.start()
        except BaseException as exc:
            await self._release()
            if isinstance(exc, StoreError) or not isinstance(exc, Exception):
                raise
            raise _cannot_open(self.abs_path, reason_for(exc)) from exc

    async def _open(self) -> None:
        path = self.abs_path
        check_location(path)
        if self.exclusive:
            self._lock_fd = lock_single_writer(path)
        pragmas = [
            f"PRAGMA busy_timeout={int(min(self.busy_timeout, self.lock_timeout) * 1000)}",
            "PRAGMA foreign_keys=ON",
            f"PRAGMA synchronous={self.synchronous}",
            "PRAGMA secure_delete=ON",  # erased votes are overwritten with zeros, not just unlinked
        ]
        self._write = await connect(path, pragmas)
        await require_json(self._write, path)
        # Refuse a newer schema before anything writes to the file (even the WAL switch does).
        check_version(path, await user_version(self._write))
        await self._write.execute("PRAGMA journal_mode=WAL")
        await migrate(self._write, path, self.lock_timeout)
        self._read = await connect(path, pragmas)
        if self.synchronous in INLINE_SYNCHRONOUS:
            self._inline = connect_inline(path, pragmas)
        if self._inline is not None:  # the writer runs every checkpoint (group_commit.py)
            await self._write.execute("PRAGMA wal_autocheckpoint=0")

    async def close(self) -> None:
        await self._release()

    async def _release(self) -> None:
        """Stop the writer (finishing queued writes), close both connections, drop the lock: each step
        runs even if an earlier one failed, so no connection thread outlives the store."""
        failure: BaseException | None = None
        if self._writer is not None:
            try:
                await self._writer.stop()
            except BaseException as exc:  # even cancelled: the connections below must still close
                failure = exc
            self._writer = None
        if self._inline is not None:  # first: the last connection to close checkpoints, on its thread
            self._inline.close()
            self._inline = None
        for conn in (self._read, self._write):
            if conn is not None:
                try:
                    await conn.close()
                except Exception as exc:
                    failure = failure or exc
        self._read = self._write = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None
        if failure is not None:
            if not isinstance(failure, Exception):
                raise failure
            raise store_error(failure, f"closing the database at {self.abs_path}")

    @property
    def writer(self) -> GroupCommitWriter:
        if self._writer is None:
            raise StoreError("the store is not open")
        return self._writer

    @property
    def reader(self) -> aiosqlite.Connection:
        if self._read is None:
            raise StoreError("the store is not open")
        return self._read

    async def _rows(self, sql: str, params: tuple | list = ()) -> list[Any]:
        return await read_all(self.reader, sql, params)

    async def _row(self, sql: str, params: tuple | list = ()) -> Any:
        rows = await self._rows(sql, params)
        return rows[0] if rows else None

    async def schema_version(self) -> int:
        row = await self._row("PRAGMA user_version")
        return int(row[0]) if row else 0

    async def integrity_check(self) -> str:
        row = await self._row("PRAGMA integrity_check")
        return str(row[0]) if row else "no answer"

    # -- meta -----------------------------------------------------------------------------------

    async def get_or_create_meta(self, key: str, value: str) -> str:
        async def op(conn: aiosqlite.Connection) -> str:
            await conn.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT DO NOTHING", (key, value))
            cur = await conn.execute("SELECT value FROM meta WHERE key = ?", (key,))
            row = await cur.fetchone()
            return str(row[0])  # type: ignore[index]

        return await self.writer.run(op)

    async def get_meta(self, key: str) -> str | None:
        row = await self._row("SELECT value FROM meta WHERE key = ?", (key,))
        return str(row[0]) if row else None

    async def set_meta(self, key: str, value: str) -> None:
        async def op(conn: aiosqlite.Connection) -> None:
            await conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

        await self.writer.run(op)

    # -- polls ----------------------------------------------------------------------------------

    async def create_poll(
        self,
        space_id: str,
        channel_id: str,
        prompt_id: str,
        opened_at: datetime,
        closes_at: datetime | None,
        platform: str = "",
        min_votes: int | None = None,
        results_live: bool | None = None,
    ) -> Poll:
        async def op(conn: aiosqlite.Connection) -> Poll:
            open_here = "space_id = ? AND channel_id = ? AND closed_at IS NULL"
            # A poll whose time is up is closed now, so it does not hold the channel's one open slot.
            await conn.execute(
                f"UPDATE polls SET closed_at = closes_at WHERE {open_here} AND closes_at <= ?",
                (space_id, channel_id, _ts(opened_at)),
            )
            try:
                poll_id = await insert_poll(conn, space_id, channel_id, prompt_id, opened_at, closes_at, platform,
                                            min_votes=min_votes, results_live=results_live)
            except sqlite3.IntegrityError:
                # The unique index polls_one_open_per_channel decided: report the poll that holds the slot.
                cur = await conn.execute(f"SELECT {_POLL_COLUMNS} FROM polls WHERE {open_here}", (space_id, channel_id))
                row = await cur.fetchone()
                if row is None:
                    raise
                raise PollAlreadyOpen(_poll(tuple(row))) from None
            cur = await conn.execute(f"SELECT {_POLL_COLUMNS} FROM polls WHERE id = ?", (poll_id,))
            return _poll(tuple(await cur.fetchone()))  # type: ignore[arg-type]

        return await self.writer.run(op)

    async def abandon_poll(self, poll_id: int, at: datetime) -> None:
        async def op(conn: aiosqlite.Connection) -> None:
            await conn.execute(
                "UPDATE polls SET closed_at = COALESCE(closed_at, ?), abandoned_at = COALESCE(abandoned_at, ?) "
                "WHERE id = ?",
                (_ts(at), _ts(at), poll_id),
            )
            for table in ("reasons", "reason_counts", "tallies"):  # reasons: marks too
                await conn.execute(f"DELETE FROM {table} WHERE poll_id = ?", (poll_id,))
            await delete_votes_and_events(conn, "poll_id = ?", (poll_id,))

        await self.writer.run(op)

    async def get_poll(self, poll_id: int) -> Poll | None:
        row = await self._row(f"SELECT {_POLL_COLUMNS} FROM polls WHERE id = ?", (poll_id,))
        return _poll(row) if row else None

    async def set_poll_message(self, poll_id: int, message_ref: str) -> None:
        async def op(conn: aiosqlite.Connection) -> None:
            await conn.execute("UPDATE polls SET message_ref = ? WHERE id = ?", (message_ref, poll_id))

        await self.writer.run(op)

    async def close_poll(self, poll_id: int, at: datetime) -> bool:
        async def op(conn: aiosqlite.Connection) -> bool:
            cur = await conn.execute(
                "UPDATE polls SET closed_at = ? WHERE id = ? AND closed_at IS NULL", (_ts(at), poll_id)
            )
            return cur.rowcount == 1

        return await self.writer.run(op)

    async def _polls(self, where: str, params: tuple, suffix: str = "") -> list[Poll]:
        rows = await self._rows(f"SELECT {_POLL_COLUMNS} FROM polls WHERE {_VISIBLE} AND {where} {suffix}", params)
        return [_poll(r) for r in rows]

    async def open_polls(self, space_id: str, channel_id: str | None = None) -> list[Poll]:
        if channel_id is None:
            return await self._polls("space_id = ? AND closed_at IS NULL", (space_id,), "ORDER BY id DESC")
        return await self._polls(
            "space_id = ? AND channel_id = ? AND closed_at IS NULL", (space_id, channel_id), "ORDER BY id DESC"
        )

    async def recent_polls(self, space_id: str, channel_id: str | None = None, limit: int = 25) -> list[Poll]:
        if channel_id is None:
            return await self._polls("space_id = ?", (space_id,), f"ORDER BY id DESC LIMIT {int(limit)}")
        return await self._polls(
            "space_id = ? AND channel_id = ?", (space_id, channel_id), f"ORDER BY id DESC LIMIT {int(limit)}"
        )

    async def polls_due_to_close(self, now: datetime) -> list[Poll]:
        return await self._polls("closed_at IS NULL AND closes_at <= ?", (_ts(now),), "ORDER BY closes_at")

    async def used_prompt_ids(self, space_id: str, channel_id: str) -> list[str]:
        rows = await self._rows(
            f"SELECT prompt_id FROM polls WHERE {_VISIBLE} AND space_id = ? AND channel_id = ? ORDER BY id",
            (space_id, channel_id),
        )
        return [r[0] for r in rows]

    # -- votes ----------------------------------------------------------------------------------

    async def record_vote(self, poll_id: int, voter_key: str, option_id: str, at: datetime) -> VoteOutcome:
        return await self.writer.run_bulk(apply_votes, VoteRequest(poll_id, voter_key, option_id, at))

    async def retract_vote(self, poll_id: int, voter_key: str, at: datetime) -> VoteOutcome:
        return await self.writer.run_bulk(apply_votes, VoteRequest(poll_id, voter_key, None, at))

    async def current_vote(self, poll_id: int, voter_key: str) -> str | None:
        row = await self._row("SELECT option_id FROM votes WHERE poll_id = ? AND voter_key = ?", (poll_id, voter_key))
        return row[0] if row else None

    async def tally(self, poll_id: int) -> Tally:
        rows = await self._rows(
            "SELECT first_option_id, option_id, n FROM tallies WHERE poll_id = ? AND n > 0", (poll_id,)
        )
        return Tally(poll_id, {(r[0], r[1]): r[2] for r in rows})

    # -- export -------------------------------------------------------------------------------

    async def polls_with_tallies(self, space_id: str) -> list[tuple[Poll, Tally]]:
        polls = await self._polls("space_id = ?", (space_id,), "ORDER BY id")
        rows = await self._rows(
            "SELECT t.poll_id, t.first_option_id, t.option_id, t.n FROM tallies t "
            "JOIN polls p ON p.id = t.poll_id WHERE p.space_id = ? AND p.abandoned_at IS NULL AND t.n > 0",
            (space_id,),
        )
        pairs: dict[int, dict[tuple[str, str], int]] = {}
        for poll_id, first, current, n in rows:
            pairs.setdefault(poll_id, {})[(first, current)] = n
        return [(p, Tally(p.id, pairs.get(p.id, {}))) for p in polls]


# Every public coroutine, the scheduler's and notices' queries included, reports driver failures
# (sqlite3/aiosqlite errors, OSError) as StoreError; open() words its own.
for _name, _method in inspect.getmembers(SqliteStore, inspect.iscoroutinefunction):
    if not _name.startswith("_") and _name != "open":
        setattr(SqliteStore, _name, surfacing_store_errors(_name, _method))
