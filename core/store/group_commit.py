"""One writer task that drains queued writes into shared transactions (group commit).

aiosqlite runs one thread per connection: coroutines that shared a connection would interleave inside
each other's transactions. Here every write is queued; the writer takes whatever is waiting (up to
`batch_max`), runs it in one BEGIN IMMEDIATE ... COMMIT, and only then resolves each caller's future,
so an acknowledged write is a committed write. One failing operation is rolled back to its own
savepoint and fails alone.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiosqlite

log = logging.getLogger(__name__)

Operation = Callable[[aiosqlite.Connection], Awaitable[Any]]
BulkOperation = Callable[[aiosqlite.Connection, list[Any]], Awaitable[list[Any]]]


@dataclass
class _Job:
    future: asyncio.Future[Any]
    op: Operation | None = None
    bulk: BulkOperation | None = None
    item: Any = None


@dataclass
class WriterStats:
    batches: int = 0
    jobs: int = 0
    largest_batch: int = 0


class GroupCommitWriter:
    def __init__(self, conn: aiosqlite.Connection, batch_max: int = 200) -> None:
        self._conn = conn
        self._batch_max = batch_max
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
        await self._queue.put(None)
        await self._task
        self._task = None
        while not self._queue.empty():  # nothing can be queued after the marker, but be certain
            job = self._queue.get_nowait()
            if job is not None and not job.future.done():
                job.future.set_exception(RuntimeError("the store closed before this write ran"))

    async def run(self, op: Operation) -> Any:
        """Run `op(conn)` inside the next transaction; returns its result after the commit."""
        return await self._submit(_Job(asyncio.get_running_loop().create_future(), op=op))

    async def run_bulk(self, bulk: BulkOperation, item: Any) -> Any:
        """Queue `item`; consecutive items for the same `bulk` are applied by one call."""
        return await self._submit(_Job(asyncio.get_running_loop().create_future(), bulk=bulk, item=item))

    async def _submit(self, job: _Job) -> Any:
        if self._closing or self._task is None or self._task.done():
            raise RuntimeError("the store is closing or not open; the write was not applied")
        await self._queue.put(job)
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
        results: list[tuple[_Job, Any, BaseException | None]] = []
        try:
            await self._conn.execute("BEGIN IMMEDIATE")
            for group in _groups(batch):
                results.extend(await self._apply(group))
            await self._conn.execute("COMMIT")
        except BaseException as exc:  # the whole batch is lost: every caller must hear it
            log.exception("write batch of %d failed", len(batch))
            try:
                await self._conn.execute("ROLLBACK")
            except Exception:
                pass
            for job in batch:
                if not job.future.done():
                    job.future.set_exception(exc if isinstance(exc, Exception) else RuntimeError(str(exc)))
            if not isinstance(exc, Exception):
                raise
            return
        self.stats.batches += 1
        self.stats.jobs += len(batch)
        self.stats.largest_batch = max(self.stats.largest_batch, len(batch))
        for job, value, error in results:
            if job.future.done():
                continue
            if error is not None:
                job.future.set_exception(error)
            else:
                job.future.set_result(value)

    async def _apply(self, group: list[_Job]) -> list[tuple[_Job, Any, BaseException | None]]:
        head = group[0]
        if head.bulk is not None:
            try:
                values = await self._in_savepoint(lambda conn: head.bulk(conn, [j.item for j in group]))
                return [(job, value, None) for job, value in zip(group, values, strict=True)]
            except Exception as exc:
                if len(group) == 1:
                    return [(head, None, exc)]
                log.warning("bulk write of %d failed; applying one by one", len(group), exc_info=True)
            return [r for job in group for r in await self._apply([job])]
        try:
            return [(head, await self._in_savepoint(head.op), None)]  # type: ignore[arg-type]
        except Exception as exc:
            return [(head, None, exc)]

    async def _in_savepoint(self, op: Operation) -> Any:
        await self._conn.execute("SAVEPOINT op")
        try:
            value = await op(self._conn)
        except BaseException:
            await self._conn.execute("ROLLBACK TO op")
            await self._conn.execute("RELEASE op")
            raise
        await self._conn.execute("RELEASE op")
        return value


def _groups(batch: list[_Job]) -> list[list[_Job]]:
    groups: list[list[_Job]] = []
    for job in batch:
        if groups and job.bulk is not None and groups[-1][0].bulk == job.bulk:
            groups[-1].append(job)
        else:
            groups.append([job])
    return groups
