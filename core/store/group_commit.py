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
vote is then answered without two thread hand-overs, a third of its round trip. If another connection
holds the write lock, the batch goes to aiosqlite's thread and waits there. Nothing that syncs runs inline:
checkpoints (they write the database file and sync it) run on aiosqlite's thread every CHECKPOINT_ROWS
changed rows, and so does the first write after the WAL may start over, which syncs the log's new
header (see _after_commit). Batches holding other writes (coroutine operations) run statement by
statement on aiosqlite's thread, with each bulk group still one call.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

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
    passive_checkpoint,
    run_unit,
)

log = logging.getLogger(__name__)

WIPE_RETRY_S = 30.0
# Larger batches go to aiosqlite's thread even with an inline connection: in a rush the loop has the last
# batch's voters to answer meanwhile, and doing both at once beat doing them in turn (0.575x raw sqlite3
# against 0.53x, mean of four runs side by side). A small batch is over before a hand-over would be.
INLINE_BATCH_MAX = 32
# Rows changed by inline commits between two checkpoints: about the 1,000 pages of SQLite's own automatic
# checkpoint, as a lone vote changes three rows on about six pages. Past WAIT_BYTES of WAL the writer
# waits for a checkpoint (see _after_commit).
CHECKPOINT_ROWS = 1000
WAIT_BYTES = 64 * 1024 * 1024
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
class WriterStats:
    batches: int = 0
    jobs: int = 0
    largest_batch: int = 0
    single_calls: int = 0  # batches that ran as one call on aiosqlite's thread
    inline: int = 0  # batches that ran on the event loop's thread
    checkpoints: int = 0  # checkpoints run on aiosqlite's thread for the inline connection's commits


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
        self._wipe_retry_at: float | None = None  # monotonic time to retry an unfinished WAL truncate
        # A deque and one wake-up per batch: an asyncio.Queue's bookkeeping was paid by every vote.
        self._queue: deque[Job | None] = deque()
        self._wake: asyncio.Future[None] | None = None
        self._task: asyncio.Task[None] | None = None
        self._checkpoint: asyncio.Task[None] | None = None
        self._rows_at_checkpoint = 0
        self._owns_checkpoints = inline is not None  # kept if the inline connection is dropped later
        self._page_size = int(inline.execute("PRAGMA page_size").fetchone()[0]) if inline is not None else 0
        self._wal_bytes = 0  # the WAL's length at the last checkpoint
        # Whether the next write may start the WAL over: that write syncs the log's new header (and, for a
        # new file, its folder), so it goes to aiosqlite's thread rather than stop the loop on the disk.
        self._wal_starts_over = True
        self._closing = False
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
            await self._checkpoint_done()  # it must not outlive the connection

    async def run(self, op: Operation, wipe: bool = False) -> Any:
        """Run `op(conn)` inside the next transaction; returns its result after the commit.

        wipe=True (erasures): once committed, checkpoint and truncate the WAL before returning, so the
        deleted rows survive in no old page image (secure_delete zeroes them in the database file).
        """
        return await self._submit(Job(asyncio.get_running_loop().create_future(), op=op, wipe=wipe))

    def run_bulk(self, bulk: BulkOperation, item: Any) -> asyncio.Future[Any]:
        """Queue `item`; consecutive items for the same `bulk` are applied by one call of
        `bulk(sqlite3_connection, items)`, which returns one result per item, in one unit. Await the
        returned future for the item's result (a plain function: every vote comes through here)."""
        return self._submit(Job(asyncio.get_running_loop().create_future(), bulk=bulk, item=item))

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

    async def _commit(self, batch: list[Job]) -> None:
        results: list[Result] = []
        single = all(job.bulk is not None for job in batch)
        try:
            if single:
                results = await self._commit_bulk(batch)
            else:
                # A checkpoint queued on the thread between our statements would run inside our transaction.
                await self._checkpoint_done()
                changes = self._conn.total_changes
                await begin_immediate(self._conn, self._lock_timeout)
                for group in groups_of(batch):
                    results.extend(await self._apply(group))
                await self._conn.execute("COMMIT")
                self._wrote_on_thread(changes)
        except BaseException as exc:  # the whole batch is lost: every caller must hear it
            cause = exc.cause if isinstance(exc, TransactionLost) else exc
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
        self.stats.largest_batch = max(self.stats.largest_batch, len(batch))
        retry_due = self._wipe_retry_at is not None and time.monotonic() >= self._wipe_retry_at
        if retry_due or any(job.wipe for job, _, error in results if error is None):
            await self._truncate_wal()
        self._settle(results)
        if self._owns_checkpoints:
            await self._after_commit()

    async def _commit_bulk(self, batch: list[Job]) -> list[Result]:
        groups = groups_of(batch)
        if self._inline is not None and not self._wal_starts_over and len(batch) <= INLINE_BATCH_MAX:
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
        self._wrote_on_thread(changes)
        return results

    def _wrote_on_thread(self, changes_before: int) -> None:
        # A commit that wrote rows wrote pages: if the WAL was to start over, it did so there, on the
        # thread. One that wrote nothing (votes for what members had already chosen) left that to come.
        if self._conn.total_changes != changes_before:
            self._wal_starts_over = False

    def _drop_inline_if_stuck(self) -> None:
        """A failed unit whose ROLLBACK failed too leaves the inline connection in its transaction, holding
        the write lock: every later write would fail. Closing it rolls back; the thread takes all writes."""
        inline = self._inline
        if inline is None or not inline.in_transaction:
            return
        log.error("the inline database connection could not roll back; closing it, writes go to the thread")
        self._inline = None
        self._rows_at_checkpoint -= inline.total_changes  # its rows leave the count _after_commit keeps
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

    def _settle(self, results: list[Result]) -> None:
        for job, value, failure in results:
            if not job.future.done():
                if failure is not None:
                    job.future.set_exception(store_error(failure, "a write") if is_driver_error(failure) else failure)
                else:
                    job.future.set_result(value)

    # -- the inline connection's checkpoints -------------------------------------------------------

    async def _after_commit(self) -> None:
        """Every CHECKPOINT_ROWS changed rows, a checkpoint on aiosqlite's thread (with an inline connection
        the writer runs every checkpoint: neither connection checkpoints by itself).

        The first write after a checkpoint that copied every frame starts the WAL over and syncs its new
        header, so it must not run on the loop. When no vote is waiting, the writer waits for the
        checkpoint (it has nothing else to do) and sends the next batch to the thread. In a rush it lets
        the checkpoint run beside its inline commits: those add frames the checkpoint does not copy, so
        the WAL does not start over, and the file grows; past WAIT_BYTES the writer waits for one after
        all (short: the earlier ones copied nearly everything). Left open: if no commit lands while a
        background checkpoint runs, an inline commit between its end and the loop hearing of it may
        start the WAL over itself."""
        changed = (self._inline.total_changes if self._inline is not None else 0) + self._conn.total_changes
        if changed - self._rows_at_checkpoint < CHECKPOINT_ROWS:
            return
        self._rows_at_checkpoint = changed
        wait = self._wal_bytes >= WAIT_BYTES or not self._queue
        if self._checkpoint is not None:
            if not wait:
                return  # the one running will do
            await self._checkpoint_done()  # one that raced our commits cannot let the WAL start over
        self._checkpoint = asyncio.create_task(self._checkpoint_wal(), name="counterpoint-checkpoint")
        if wait:
            await self._checkpoint_done()

    async def _checkpoint_wal(self) -> None:
        try:
            frames, copied = await on_connection_thread(self._conn, passive_checkpoint)
            self._wal_bytes = frames * self._page_size
            if copied >= frames:
                self._wal_starts_over = True
            self.stats.checkpoints += 1
        except Exception as exc:  # the next one will try again; the WAL only grows meanwhile
            log.warning("WAL checkpoint failed: %s", store_error(exc, "a checkpoint"))
        finally:
            self._checkpoint = None

    async def _checkpoint_done(self) -> None:
        if self._checkpoint is not None:
            await asyncio.shield(self._checkpoint)

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
            self._wal_starts_over = True
            return
        if self._wipe_retry_at is None:
            log.warning("WAL checkpoint after an erasure did not finish (%s); retrying after later writes", problem)
        self._wipe_retry_at = time.monotonic() + WIPE_RETRY_S

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
