"""One writer task that drains queued writes into shared transactions (group commit).

aiosqlite runs one thread per connection: coroutines that shared a connection would interleave inside
each other's transactions. Here every write is queued; the writer takes whatever is waiting (up to
`batch_max`), runs it in one BEGIN IMMEDIATE ... COMMIT, and only then resolves each caller's future,
so an acknowledged write is a committed write. One failing operation is rolled back to its own
savepoint and fails alone. A failure of the transaction itself (a write lock another process will not
release, a full disk, an error after which SQLite rolled the whole transaction back) fails every write
of the batch with StoreError: none of them was applied.

Votes are bulk writes: plain functions of a sqlite3 connection, run as one synchronous unit per batch
(sqlite_unit.py). Where the store allows it (synchronous=NORMAL or OFF, where a commit writes to the
WAL and waits for no disk), a batch of up to INLINE_BATCH_MAX votes (every batch outside a rush) runs
on the event loop's own thread, through an `inline` connection that never waits for a lock: a lone
vote is then answered without two thread hand-overs, a third of its round trip, and one that finds the
writer idle commits in its caller's own step (run_bulk). If another connection holds the write lock, the
batch goes to aiosqlite's thread and waits there. Nothing that syncs runs inline: checkpoints (they write
the database file and sync it) run on aiosqlite's thread, and so does the first write after the WAL may
start over, which syncs the log's new header (wal_checkpoints.py). Batches holding other writes
(coroutine operations) run statement by statement on aiosqlite's thread, with each bulk group one call.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

import aiosqlite

from core.store.base import StoreError
from core.store.sqlite_errors import begin_immediate, is_driver_error, store_error
from core.store.sqlite_unit import (
    BulkOperation,
    Job,
    LockHeld,
    Operation,
    Result,
    TransactionLost,
    apply_bulk,
    begin_now,
    begin_waiting,
    groups_of,
    run_one,
    run_unit,
)
from core.store.wal_checkpoints import Checkpoints, on_connection_thread

__all__ = ["GroupCommitWriter", "WriterStats", "on_connection_thread"]

log = logging.getLogger(__name__)

# Larger batches go to aiosqlite's thread even with an inline connection: in a rush the loop has the last
# batch's voters to answer meanwhile, and doing both at once beat doing them in turn (0.575x raw sqlite3
# against 0.53x, mean of four runs side by side). A small batch is over before a hand-over would be.
INLINE_BATCH_MAX = 32
# A vote that finds the writer idle for this long commits at once, in its caller's own step (see run_bulk).
# Sooner, it joins the queue: in a burst only the first vote commits alone, and the rest share batches.
IDLE_S = 0.0002


@dataclass
class WriterStats:
    batches: int = 0
    jobs: int = 0
    largest_batch: int = 0
    single_calls: int = 0  # batches that ran as one call on aiosqlite's thread
    inline: int = 0  # batches that ran on the event loop's thread
    immediate: int = 0  # of which lone votes committed in their caller's step (run_bulk)

    def committed(self, size: int) -> None:
        self.batches += 1
        self.jobs += size
        self.largest_batch = max(self.largest_batch, size)


class GroupCommitWriter:
    def __init__(self, conn: aiosqlite.Connection, batch_max: int = 200, lock_timeout: float = 10.0,
                 inline: sqlite3.Connection | None = None) -> None:
        """`inline`: a connection of the event loop's thread with busy_timeout=0 and wal_autocheckpoint=0
        on the same file, for vote batches (see the module's docstring); None runs them all on the thread.
        With one, `conn` must not checkpoint by itself either (SqliteStore sets wal_autocheckpoint=0 on it):
        the writer then runs every checkpoint, so it knows when the WAL may start over."""
        self._conn = conn
        self._inline = inline
        self._batch_max = batch_max
        self._lock_timeout = lock_timeout
        # A deque and one wake-up per batch: an asyncio.Queue's bookkeeping was paid by every vote.
        self._queue: deque[Job | None] = deque()
        self._wake: asyncio.Future[None] | None = None
        self._task: asyncio.Task[None] | None = None
        page_size = int(inline.execute("PRAGMA page_size").fetchone()[0]) if inline is not None else 0
        # Owned for good: if the inline connection is dropped later, the thread's stays without its own.
        self.checkpoints = Checkpoints(conn, page_size, owned=inline is not None)
        self._closing = False
        self._idle_since = 0.0  # perf_counter when the writer last finished a commit
        self._turned = True  # whether the loop has turned since that commit (see _committed)
        self.stats = WriterStats()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="counterpoint-writer")

    async def stop(self) -> None:
        """Finish every write queued so far; writes submitted from now on are refused."""
        if self._task is None:
            return
        self._closing = True
        self._enqueue(None)
        task = self._task
        try:
            await task
        except asyncio.CancelledError:
            if not task.cancelled():  # we are being cancelled, not a writer cancelled before
                raise
        finally:
            self._task = None
            # Whatever the writer did not take is failed, not left waiting (a cancelled writer takes none).
            while self._queue:
                job = self._queue.popleft()
                if job is not None and not job.future.done():
                    job.future.set_exception(StoreError("the store closed before this write ran; it was not applied"))
            await self.checkpoints.done()

    async def run(self, op: Operation, wipe: bool = False) -> Any:
        """Run `op(conn)` inside the next transaction; returns its result after the commit.

        wipe=True (erasures): once committed, checkpoint and truncate the WAL before returning, so the
        deleted rows survive in no old page image (secure_delete zeroes them in the database file).
        """
        return await self._submit(Job(asyncio.get_running_loop().create_future(), op=op, wipe=wipe))

    def run_bulk(self, bulk: BulkOperation, item: Any) -> asyncio.Future[Any]:
        """Queue `item`; consecutive items for the same `bulk` are applied by one call of
        `bulk(sqlite3_connection, items)`, which returns one result per item, in one unit. Await the
        returned future for the item's result (a plain function: every vote comes through here).

        A lone item that finds the writer idle (parked, nothing queued, nothing committed for IDLE_S nor in
        this turn of the loop) commits here and now on the inline connection: its future is done on return,
        and awaiting it costs no turn of the loop, where the writer's wake-up and the hand-back cost two.
        Nothing is overtaken, since nothing is queued; if another connection holds the lock, it is queued."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if self._idle() and self._commit_now(future, bulk, item):
            return future
        return self._submit(Job(future, bulk=bulk, item=item))

    def _idle(self) -> bool:
        wake, inline, checkpoints = self._wake, self._inline, self.checkpoints
        return (self._turned and wake is not None and not wake.done() and not self._queue and inline is not None
                and not checkpoints.starts_over and not checkpoints.running and not checkpoints.wipe_pending
                and not checkpoints.due(self._changed_rows())
                and time.perf_counter() - self._idle_since >= IDLE_S)

    def _changed_rows(self) -> int:
        """Rows changed by both connections since they opened: the pace of the checkpoints."""
        return (self._inline.total_changes if self._inline is not None else 0) + self._conn.total_changes

    def _committed(self) -> None:
        """A commit just ended. Votes that were ready in the same turn of the loop queue behind it and share
        the writer's next commit, however long each took to reach the store: the clock alone (IDLE_S) would
        let callers that each work longer than IDLE_S commit alone, one after another."""
        self._idle_since = time.perf_counter()
        if self._turned:
            self._turned = False
            asyncio.get_running_loop().call_soon(self._loop_turned)

    def _loop_turned(self) -> None:
        self._turned = True

    def _commit_now(self, future: asyncio.Future[Any], bulk: BulkOperation, item: Any) -> bool:
        """The writer's inline commit of a batch of one, in the caller's step; False if the lock is held."""
        assert self._inline is not None
        try:
            value, failure = run_one(self._inline, bulk, item, begin_now)
        except LockHeld:
            return False
        except BaseException as exc:
            self._committed()
            self._drop_inline_if_stuck()
            self._fail([future], exc)
            if not isinstance(exc, Exception):
                raise
            return True
        self._committed()
        self.stats.committed(1)
        self.stats.inline += 1
        self.stats.immediate += 1
        _resolve(future, value, failure)
        return True

    def _submit(self, job: Job) -> asyncio.Future[Any]:
        if self._closing or self._task is None or self._task.done():
            raise StoreError("the store is closing or not open; the write was not applied")
        self._enqueue(job)
        return job.future

    def _enqueue(self, job: Job | None) -> None:
        self._queue.append(job)
        if self._wake is not None and not self._wake.done():
            self._wake.set_result(None)

    async def _run(self) -> None:
        stopping = False
        while not stopping:
            if not self._queue:
                self._wake = asyncio.get_running_loop().create_future()
                try:
                    await self._wake
                finally:
                    self._wake = None
            first = self._queue.popleft()
            if first is None:
                break
            batch = [first]
            while len(batch) < self._batch_max and self._queue:
                nxt = self._queue.popleft()
                if nxt is None:
                    stopping = True
                    break
                batch.append(nxt)
            await self._commit(batch)
            self._committed()

    async def _commit(self, batch: list[Job]) -> None:
        results: list[Result] = []
        single = all(job.bulk is not None for job in batch)
        try:
            if single:
                results = await self._commit_bulk(batch)
            else:
                # A checkpoint queued on the thread between our statements would run inside our transaction.
                await self.checkpoints.done()
                changes = self._conn.total_changes
                await begin_immediate(self._conn, self._lock_timeout)
                for group in groups_of(batch):
                    results.extend(await self._apply(group))
                await self._conn.execute("COMMIT")
                self.checkpoints.wrote_on_thread(changes)
        except BaseException as exc:  # the whole batch is lost: every caller must hear it
            if not single and self._conn.in_transaction:
                try:
                    await self._conn.execute("ROLLBACK")
                except Exception:
                    log.warning("rollback after a failed batch failed too", exc_info=True)
            self._fail([job.future for job in batch], exc)
            if not isinstance(exc, Exception):
                raise
            return
        self.stats.committed(len(batch))
        if self.checkpoints.wipe_retry_due() or any(job.wipe for job, _, error in results if error is None):
            await self.checkpoints.truncate()
        self._settle(results)
        if self.checkpoints.owned:
            await self.checkpoints.after_commit(self._changed_rows(), waiting=bool(self._queue))

    async def _commit_bulk(self, batch: list[Job]) -> list[Result]:
        groups = groups_of(batch)
        if self._inline is not None and not self.checkpoints.starts_over and len(batch) <= INLINE_BATCH_MAX:
            try:
                results = run_unit(self._inline, groups, begin_now)
            except LockHeld:
                pass  # another connection is writing: wait for it on the thread, never on the loop
            except BaseException:
                self._drop_inline_if_stuck()
                raise
            else:
                self.stats.inline += 1
                return results
        self.stats.single_calls += 1
        changes = self._conn.total_changes
        results = await self._commit_on_thread(groups)
        self.checkpoints.wrote_on_thread(changes)
        return results

    def _drop_inline_if_stuck(self) -> None:
        """A failed unit whose ROLLBACK failed too leaves the inline connection in its transaction, holding
        the write lock: every later write would fail. Closing it rolls back; the thread takes all writes."""
        inline = self._inline
        if inline is None or not inline.in_transaction:
            return
        log.error("the inline database connection could not roll back; closing it, writes go to the thread")
        self._inline = None
        self.checkpoints.forget_rows(inline.total_changes)
        try:
            inline.close()
        except Exception:
            log.warning("closing the inline connection failed", exc_info=True)

    async def _commit_on_thread(self, groups: list[list[Job]]) -> list[Result]:
        begin = begin_waiting(self._lock_timeout)
        # Awaited directly, not wrapped in a task: the batch reaches the thread's queue before this
        # coroutine first yields, instead of after every voter the loop has just woken has run.
        finished: list[list[Result]] = []

        def recorded(conn: sqlite3.Connection) -> list[Result]:
            finished.append(run_unit(conn, groups, begin))
            return finished[0]

        try:
            return await on_connection_thread(self._conn, recorded)
        except asyncio.CancelledError:
            # The unit runs to its end on the thread whatever happens here. If it committed, its
            # callers hear so (an acknowledged write must be a committed one, and a committed write
            # reported failed would be retried twice); then the cancellation goes on.
            self._settle(await _outcome_of(self._conn, finished))
            raise

    @staticmethod
    def _fail(futures: list[asyncio.Future[Any]], exc: BaseException) -> None:
        cause = exc.cause if isinstance(exc, TransactionLost) else exc
        error = store_error(cause, f"a write batch of {len(futures)}")
        log.error("%s", error)
        for future in futures:
            if not future.done():
                future.set_exception(error)

    @staticmethod
    def _settle(results: list[Result]) -> None:
        for job, value, failure in results:
            _resolve(job.future, value, failure)

    async def _apply(self, group: list[Job]) -> list[Result]:
        if group[0].bulk is not None:
            return await on_connection_thread(self._conn, lambda conn: apply_bulk(conn, group))
        head = group[0]
        try:
            return [(head, await self._in_savepoint(head.op), None)]  # type: ignore[arg-type]
        except TransactionLost:
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
                raise TransactionLost(exc) from exc
            try:
                await self._conn.execute("ROLLBACK TO op")
                await self._conn.execute("RELEASE op")
            except Exception as undo:
                raise TransactionLost(undo) from exc
            raise
        await self._conn.execute("RELEASE op")
        return value


async def _outcome_of(conn: aiosqlite.Connection, finished: list[list[Result]]) -> list[Result]:
    """What a unit whose waiter was cancelled did: it ran before anything queued after it on the thread."""
    try:
        await on_connection_thread(conn, lambda _conn: None)
    except BaseException:  # cancelled again, or closed: report what is known
        pass
    return finished[0] if finished else []


def _resolve(future: asyncio.Future[Any], value: Any, failure: BaseException | None) -> None:
    if future.done():  # its caller was cancelled
        return
    if failure is None:
        future.set_result(value)
    else:
        future.set_exception(store_error(failure, "a write") if is_driver_error(failure) else failure)
