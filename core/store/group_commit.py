"""One writer task that drains queued writes into shared transactions (group commit).

aiosqlite runs one thread per connection: coroutines that shared a connection would interleave inside
each other's transactions. Here every write is queued; the writer takes whatever is waiting (up to
`batch_max`), runs it in one BEGIN IMMEDIATE ... COMMIT, and only then resolves each caller's future,
so an acknowledged write is a committed write. One failing operation is rolled back to its own
savepoint and fails alone. A failure of the transaction itself (a write lock another process will not
release, a full disk, an error after which SQLite rolled the whole transaction back) fails every write
of the batch with StoreError: none of them was applied.

Votes are bulk writes: plain functions of a sqlite3 connection. A batch made only of those runs as ONE
call on the connection's thread (BEGIN, every savepoint and statement, COMMIT), because each await on
that thread is a round trip that waits behind everything else the event loop has to do; under load the
batch used to spend most of its life in those queues, not in SQLite. Batches holding other writes
(coroutine operations) keep the statement-by-statement path, with each bulk group still one call.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import aiosqlite

from core.store.base import StoreError
from core.store.sqlite_errors import begin_immediate, is_busy, is_driver_error, store_error

log = logging.getLogger(__name__)

Operation = Callable[[aiosqlite.Connection], Awaitable[Any]]
# Runs on the connection's thread with the plain sqlite3 connection, inside the batch's transaction.
BulkOperation = Callable[[sqlite3.Connection, list[Any]], list[Any]]
WIPE_RETRY_S = 30.0
_T = TypeVar("_T")

if not callable(getattr(aiosqlite.Connection, "_execute", None)):  # pragma: no cover - guards an upgrade
    raise ImportError("this aiosqlite has no Connection._execute; core/store/group_commit.py needs updating")


async def on_connection_thread(conn: aiosqlite.Connection, fn: Callable[[sqlite3.Connection], _T]) -> _T:
    """Run `fn(sqlite3_connection)` on aiosqlite's own thread for `conn`, in the order of its queue.

    aiosqlite has no public way to do this; `_execute` (stable from 0.17 to 0.22) is what its own
    execute() uses. Its sqlite3 connection may only be used on that thread.
    """
    return await conn._execute(lambda: fn(conn._conn))  # type: ignore[no-any-return]


@dataclass
class _Job:
    future: asyncio.Future[Any]
    op: Operation | None = None
    bulk: BulkOperation | None = None
    item: Any = None
    wipe: bool = False  # after the commit, truncate the WAL so erased rows leave no old page copies


class _TransactionLost(Exception):
    """SQLite rolled the whole transaction back on an error: no savepoint of the batch survives."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


@dataclass
class WriterStats:
    batches: int = 0
    jobs: int = 0
    largest_batch: int = 0
    single_calls: int = 0  # batches that ran as one call on the database thread


Result = tuple[_Job, Any, BaseException | None]


class GroupCommitWriter:
    def __init__(self, conn: aiosqlite.Connection, batch_max: int = 200, lock_timeout: float = 10.0) -> None:
        self._conn = conn
        self._batch_max = batch_max
        self._lock_timeout = lock_timeout
        self._wipe_retry_at: float | None = None  # monotonic time to retry an unfinished WAL truncate
        self._queue: asyncio.Queue[_Job | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.stats = WriterStats()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="counterpoint-writer")

    async def stop(self) -> None:
        """Finish every write queued so far; writes submitted from now on are refused."""
        if self._task is None:
            return
        self._closing = True
        self._queue.put_nowait(None)
        await self._task
        self._task = None
        while not self._queue.empty():  # nothing can be queued after the marker, but be certain
            job = self._queue.get_nowait()
            if job is not None and not job.future.done():
                job.future.set_exception(StoreError("the store closed before this write ran; it was not applied"))

    async def run(self, op: Operation, wipe: bool = False) -> Any:
        """Run `op(conn)` inside the next transaction; returns its result after the commit.

        wipe=True (erasures): once committed, checkpoint and truncate the WAL before returning, so the
        deleted rows survive in no old page image (secure_delete zeroes them in the database file).
        """
        return await self._submit(_Job(asyncio.get_running_loop().create_future(), op=op, wipe=wipe))

    async def run_bulk(self, bulk: BulkOperation, item: Any) -> Any:
        """Queue `item`; consecutive items for the same `bulk` are applied by one call of
        `bulk(sqlite3_connection, items)`, which returns one result per item, on the database thread."""
        return await self._submit(_Job(asyncio.get_running_loop().create_future(), bulk=bulk, item=item))

    async def _submit(self, job: _Job) -> Any:
        if self._closing or self._task is None or self._task.done():
            raise StoreError("the store is closing or not open; the write was not applied")
        self._queue.put_nowait(job)  # unbounded: put() would only add a suspension point
        return await job.future

    async def _run(self) -> None:
        stopping = False
        while not stopping:
            first = await self._queue.get()
            if first is None:
                break
            batch = [first]
            while len(batch) < self._batch_max and not self._queue.empty():
                nxt = self._queue.get_nowait()
                if nxt is None:
                    stopping = True
                    break
                batch.append(nxt)
            await self._commit(batch)

    async def _commit(self, batch: list[_Job]) -> None:
        results: list[Result] = []
        single = all(job.bulk is not None for job in batch)
        try:
            if single:
                results = await self._commit_on_thread(batch)
            else:
                await begin_immediate(self._conn, self._lock_timeout)
                for group in _groups(batch):
                    results.extend(await self._apply(group))
                await self._conn.execute("COMMIT")
        except BaseException as exc:  # the whole batch is lost: every caller must hear it
            cause = exc.cause if isinstance(exc, _TransactionLost) else exc
            error = store_error(cause, f"a write batch of {len(batch)}")
            log.error("%s", error)
            if not single and self._conn.in_transaction:
                try:
                    await self._conn.execute("ROLLBACK")
                except Exception:
                    log.warning("rollback after a failed batch failed too", exc_info=True)
            for job in batch:
                if not job.future.done():
                    job.future.set_exception(error)
            if not isinstance(exc, Exception):
                raise
            return
        self.stats.batches += 1
        self.stats.jobs += len(batch)
        self.stats.single_calls += single
        self.stats.largest_batch = max(self.stats.largest_batch, len(batch))
        retry_due = self._wipe_retry_at is not None and time.monotonic() >= self._wipe_retry_at
        if retry_due or any(job.wipe for job, _, error in results if error is None):
            await self._truncate_wal()
        for job, value, failure in results:
            if job.future.done():
                continue
            if failure is not None:
                job.future.set_exception(store_error(failure, "a write") if is_driver_error(failure) else failure)
            else:
                job.future.set_result(value)

    async def _commit_on_thread(self, batch: list[_Job]) -> list[Result]:
        groups = _groups(batch)
        lock_timeout = self._lock_timeout

        def unit(conn: sqlite3.Connection) -> list[Result]:
            _begin_immediate_sync(conn, lock_timeout)
            try:
                results = _apply_groups_sync(conn, groups, lock_timeout)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    try:
                        conn.execute("ROLLBACK")
                    except Exception:
                        log.warning("rollback after a failed batch failed too", exc_info=True)
                raise
            return results

        # Awaited directly, not wrapped in a task: the batch reaches the thread's queue before this
        # coroutine first yields, instead of after every voter the loop has just woken has run.
        finished: list[list[Result]] = []

        def recorded(conn: sqlite3.Connection) -> list[Result]:
            finished.append(unit(conn))
            return finished[0]

        try:
            return await on_connection_thread(self._conn, recorded)
        except asyncio.CancelledError:
            # The unit runs to its end on the thread whatever happens here. If it committed, its
            # callers hear so (an acknowledged write must be a committed one, and a committed write
            # reported failed would be retried twice); then the cancellation goes on.
            self._settle(await _outcome_of(self._conn, finished))
            raise

    def _settle(self, results: list[Result]) -> None:
        for job, value, failure in results:
            if not job.future.done():
                if failure is not None:
                    job.future.set_exception(store_error(failure, "a write") if is_driver_error(failure) else failure)
                else:
                    job.future.set_result(value)

    async def _truncate_wal(self) -> None:
        # Runs outside any transaction, after the erasure committed. If a reader (another process)
        # still holds an old snapshot the checkpoint cannot finish; it is retried after a later batch,
        # spaced out because each attempt may wait busy_timeout for that reader.
        try:
            cur = await self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            row = await cur.fetchone()
            await cur.close()
            finished = not (row and row[0])
            problem = "a reader held an old snapshot"
        except Exception as exc:
            finished, problem = False, str(exc)
        if finished:
            self._wipe_retry_at = None
            return
        if self._wipe_retry_at is None:
            log.warning("WAL checkpoint after an erasure did not finish (%s); retrying after later writes", problem)
        self._wipe_retry_at = time.monotonic() + WIPE_RETRY_S

    async def _apply(self, group: list[_Job]) -> list[Result]:
        if group[0].bulk is not None:
            return await on_connection_thread(self._conn, lambda conn: _apply_bulk_sync(conn, group))
        head = group[0]
        try:
            return [(head, await self._in_savepoint(head.op), None)]  # type: ignore[arg-type]
        except _TransactionLost:
            raise
        except Exception as exc:
            return [(head, None, exc)]

    async def _in_savepoint(self, op: Operation) -> Any:
        await self._conn.execute("SAVEPOINT op")
        try:
            value = await op(self._conn)
        except BaseException as exc:
            if not self._conn.in_transaction:
                # SQLite already rolled back the whole transaction (SQLITE_FULL, IOERR, ...): going on
                # would run the rest of the batch in autocommit, committing writes we then report failed.
                raise _TransactionLost(exc) from exc
            try:
                await self._conn.execute("ROLLBACK TO op")
                await self._conn.execute("RELEASE op")
            except Exception as undo:
                raise _TransactionLost(undo) from exc
            raise
        await self._conn.execute("RELEASE op")
        return value


# -- on the database thread ------------------------------------------------------------------------


def _begin_immediate_sync(conn: sqlite3.Connection, lock_timeout: float) -> None:
    """begin_immediate's loop on the database thread: each attempt waits busy_timeout inside SQLite,
    the loop bounds the whole wait. Sleeping here holds up only this connection, which waits anyway."""
    deadline = time.monotonic() + lock_timeout
    while True:
        try:
            conn.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.Error as exc:
            if not is_busy(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))


def _apply_groups_sync(conn: sqlite3.Connection, groups: list[list[_Job]], lock_timeout: float) -> list[Result]:
    """The usual batch is one group (votes only) and runs with no savepoint: each savepoint is two more
    statements, and each statement one more wait for the GIL while the event loop answers voters. If
    that group fails, the transaction starts again and takes the savepoint path, so a bad item fails alone."""
    if len(groups) != 1:
        return [r for group in groups for r in _apply_bulk_sync(conn, group)]
    group = groups[0]
    bulk = group[0].bulk
    assert bulk is not None
    try:
        values = bulk(conn, [j.item for j in group])
    except Exception as exc:
        if not conn.in_transaction:  # SQLite rolled the whole transaction back: see _in_savepoint
            raise _TransactionLost(exc) from exc
        conn.execute("ROLLBACK")
        _begin_immediate_sync(conn, lock_timeout)
        return _apply_bulk_sync(conn, group)
    return [(job, value, None) for job, value in zip(group, values, strict=True)]


def _apply_bulk_sync(conn: sqlite3.Connection, group: list[_Job]) -> list[Result]:
    """One bulk call for the group in a savepoint; if it fails, each item alone, so one bad item fails alone."""
    bulk = group[0].bulk
    assert bulk is not None
    try:
        values = _in_savepoint_sync(conn, lambda c: bulk(c, [j.item for j in group]))
        return [(job, value, None) for job, value in zip(group, values, strict=True)]
    except _TransactionLost:
        raise
    except Exception as exc:
        if len(group) == 1:
            return [(group[0], None, exc)]
        log.warning("bulk write of %d failed; applying one by one", len(group), exc_info=True)
    return [r for job in group for r in _apply_bulk_sync(conn, [job])]


def _in_savepoint_sync(conn: sqlite3.Connection, op: Callable[[sqlite3.Connection], _T]) -> _T:
    conn.execute("SAVEPOINT op")
    try:
        value = op(conn)
    except BaseException as exc:
        if not conn.in_transaction:  # SQLite rolled the whole transaction back: see _in_savepoint
            raise _TransactionLost(exc) from exc
        try:
            conn.execute("ROLLBACK TO op")
            conn.execute("RELEASE op")
        except Exception as undo:
            raise _TransactionLost(undo) from exc
        raise
    conn.execute("RELEASE op")
    return value


async def _outcome_of(conn: aiosqlite.Connection, finished: list[list[Result]]) -> list[Result]:
    """What a unit whose waiter was cancelled did: it ran before anything queued after it on the thread."""
    try:
        await on_connection_thread(conn, lambda _conn: None)
    except BaseException:  # cancelled again, or closed: report what is known
        pass
    return finished[0] if finished else []


def _groups(batch: list[_Job]) -> list[list[_Job]]:
    groups: list[list[_Job]] = []
    for job in batch:
        if groups and job.bulk is not None and groups[-1][0].bulk == job.bulk:
            groups[-1].append(job)
        else:
            groups.append([job])
    return groups
