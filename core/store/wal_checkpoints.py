"""The write-ahead log's checkpoints, for the group-commit writer (group_commit.py).

With an inline connection (commits on the event loop's own thread), neither connection checkpoints by
itself: the writer asks this class to run one on aiosqlite's thread every CHECKPOINT_ROWS changed rows,
so it always knows whether the next write may start the WAL over. That write syncs the log's new header
(and, for a new file, its folder), so it must not run on the loop: `starts_over` says when it may.

Erasures also end here: once committed, the WAL is checkpointed and truncated so the erased rows survive
in no old page image (`truncate`), and retried later if a reader held an old snapshot.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Callable
from typing import TypeVar

import aiosqlite

from core.store.sqlite_errors import store_error
from core.store.sqlite_unit import passive_checkpoint

log = logging.getLogger(__name__)

# Rows changed by inline commits between two checkpoints: about the 1,000 pages of SQLite's own automatic
# checkpoint, as a lone vote changes two to three rows on two to four pages. Past WAIT_BYTES of WAL the writer
# waits for a checkpoint (see after_commit).
CHECKPOINT_ROWS = 1000
WAIT_BYTES = 64 * 1024 * 1024
WIPE_RETRY_S = 30.0
_T = TypeVar("_T")

if not callable(getattr(aiosqlite.Connection, "_execute", None)):  # pragma: no cover - guards an upgrade
    raise ImportError("this aiosqlite has no Connection._execute; core/store/wal_checkpoints.py needs updating")


async def on_connection_thread(conn: aiosqlite.Connection, fn: Callable[[sqlite3.Connection], _T]) -> _T:
    """Run `fn(sqlite3_connection)` on aiosqlite's own thread for `conn`, in the order of its queue.

    aiosqlite has no public way to do this; `_execute` (stable from 0.17 to 0.22) is what its own
    execute() uses. Its sqlite3 connection may only be used on that thread.
    """
    return await conn._execute(lambda: fn(conn._conn))  # type: ignore[no-any-return]


class Checkpoints:
    def __init__(self, conn: aiosqlite.Connection, page_size: int, owned: bool) -> None:
        """`owned`: the writer runs every checkpoint (it has an inline connection); otherwise SQLite's own
        automatic checkpoints do, and only erasures' truncates come here."""
        self._conn = conn
        self.owned = owned
        self._page_size = page_size
        self._rows_at_last = 0
        self._wal_bytes = 0  # the WAL's length at the last checkpoint
        self._task: asyncio.Task[None] | None = None
        self._wipe_retry_at: float | None = None  # monotonic time to retry an unfinished truncate
        # Whether the next write may start the WAL over: until a write on the thread shows otherwise.
        self.starts_over = True
        self.count = 0

    @property
    def running(self) -> bool:
        return self._task is not None

    @property
    def wipe_pending(self) -> bool:
        return self._wipe_retry_at is not None

    def wipe_retry_due(self) -> bool:
        return self._wipe_retry_at is not None and time.monotonic() >= self._wipe_retry_at

    def due(self, changed_rows: int) -> bool:
        return changed_rows - self._rows_at_last >= CHECKPOINT_ROWS

    def forget_rows(self, rows: int) -> None:
        """A dropped connection's rows leave the count `after_commit` keeps, so checkpoints keep their pace."""
        self._rows_at_last -= rows

    def wrote_on_thread(self, changes_before: int) -> None:
        # A commit that wrote rows wrote pages: if the WAL was to start over, it did so there, on the
        # thread. One that wrote nothing (votes for what members had already chosen) left that to come.
        if self._conn.total_changes != changes_before:
            self.starts_over = False

    async def after_commit(self, changed_rows: int, waiting: bool) -> None:
        """Every CHECKPOINT_ROWS changed rows (of both connections), a checkpoint on aiosqlite's thread.

        The first write after a checkpoint that copied every frame starts the WAL over and syncs its new
        header, so it must not run on the loop. When no write is `waiting`, the writer waits for the
        checkpoint (it has nothing else to do) and sends the next batch to the thread. In a rush it lets
        the checkpoint run beside its inline commits: those add frames the checkpoint does not copy, so
        the WAL does not start over, and the file grows; past WAIT_BYTES the writer waits for one after
        all (short: the earlier ones copied nearly everything). Left open: if no commit lands while a
        background checkpoint runs, an inline commit between its end and the loop hearing of it may
        start the WAL over itself."""
        if not self.due(changed_rows):
            return
        self._rows_at_last = changed_rows
        wait = self._wal_bytes >= WAIT_BYTES or not waiting
        if self._task is not None:
            if not wait:
                return  # the one running will do
            await self.done()  # one that raced our commits cannot let the WAL start over
        self._task = asyncio.create_task(self._checkpoint(), name="counterpoint-checkpoint")
        if wait:
            await self.done()

    async def _checkpoint(self) -> None:
        try:
            frames, copied = await on_connection_thread(self._conn, passive_checkpoint)
            self._wal_bytes = frames * self._page_size
            if copied >= frames:
                self.starts_over = True
            self.count += 1
        except Exception as exc:  # the next one will try again; the WAL only grows meanwhile
            self.starts_over = True  # how far it got is unknown: the next write goes to the thread
            log.warning("WAL checkpoint failed: %s", store_error(exc, "a checkpoint"))
        finally:
            self._task = None

    async def done(self) -> None:
        """Wait for a running checkpoint; it must not outlive the connection, nor run inside a transaction."""
        if self._task is not None:
            await asyncio.shield(self._task)

    async def truncate(self) -> None:
        """After an erasure committed, outside any transaction. If a reader (another process) still holds an
        old snapshot the checkpoint cannot finish; it is retried after a later batch, spaced out because
        each attempt may wait busy_timeout for that reader."""
        try:
            cur = await self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            row = await cur.fetchone()
            await cur.close()
            finished = not (row and row[0])
            problem = "a reader held an old snapshot"
        except Exception as exc:
            finished, problem = False, str(exc)
        # Finished or not, the log may start over at the next write: an unfinished truncate may still have
        # copied every frame, waiting only for a reader, and once that reader ends the next write restarts it.
        self.starts_over = True
        if finished:
            self._wipe_retry_at = None
            return
        if self._wipe_retry_at is None:
            log.warning("WAL checkpoint after an erasure did not finish (%s); retrying after later writes", problem)
        self._wipe_retry_at = time.monotonic() + WIPE_RETRY_S
