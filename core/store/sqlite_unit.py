"""One batch of bulk writes as a single synchronous unit on a plain sqlite3 connection.

BEGIN IMMEDIATE, every group, COMMIT, with no await in between. group_commit.py runs the unit either on
the event loop's own thread (its inline connection, which never waits for a lock) or on aiosqlite's
thread (which may wait). Either way one bad item fails alone, and an error after which SQLite rolled
the whole transaction back fails the whole batch, with nothing of it applied.
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

from core.store.sqlite_errors import is_busy

log = logging.getLogger(__name__)

Operation = Callable[[aiosqlite.Connection], Awaitable[Any]]
# Runs with the plain sqlite3 connection, inside the batch's transaction.
BulkOperation = Callable[[sqlite3.Connection, list[Any]], list[Any]]
Begin = Callable[[sqlite3.Connection], None]
_T = TypeVar("_T")


@dataclass
class Job:
    future: asyncio.Future[Any]
    op: Operation | None = None
    bulk: BulkOperation | None = None
    item: Any = None
    wipe: bool = False  # after the commit, truncate the WAL so erased rows leave no old page copies


Result = tuple[Job, Any, BaseException | None]


class TransactionLost(Exception):
    """SQLite rolled the whole transaction back on an error: no savepoint of the batch survives."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


class LockHeld(Exception):
    """Another connection holds the write lock, and this begin may not wait for it. Nothing was applied."""


def begin_now(conn: sqlite3.Connection) -> None:
    """BEGIN IMMEDIATE or LockHeld at once: for the inline connection, whose busy_timeout is 0, because a
    wait there would stop the whole event loop."""
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.Error as exc:
        if is_busy(exc):
            raise LockHeld(str(exc)) from exc
        raise


def begin_waiting(lock_timeout: float) -> Begin:
    """begin_immediate's loop for aiosqlite's thread: each attempt waits busy_timeout inside SQLite, the
    loop bounds the whole wait. Sleeping there holds up only that connection, which waits anyway."""

    def begin(conn: sqlite3.Connection) -> None:
        deadline = time.monotonic() + lock_timeout
        while True:
            try:
                conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.Error as exc:
                if not is_busy(exc) or time.monotonic() >= deadline:
                    raise
            time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))

    return begin


def run_unit(conn: sqlite3.Connection, groups: list[list[Job]], begin: Begin) -> list[Result]:
    """The batch from BEGIN to COMMIT; on any failure it is rolled back and the failure raised."""
    if len(groups) == 1 and len(groups[0]) == 1 and (bulk := groups[0][0].bulk) is not None:
        value, failure = run_one(conn, bulk, groups[0][0].item, begin)
        return [(groups[0][0], value, failure)]
    begin(conn)
    try:
        results = _apply_groups(conn, groups, begin)
        conn.execute("COMMIT")
    except BaseException:
        _roll_back(conn)
        raise
    return results


def run_one(conn: sqlite3.Connection, bulk: BulkOperation, item: Any, begin: Begin) -> tuple[Any, Exception | None]:
    """A batch of one item, without a batch's bookkeeping: (its value, None) once committed, or (None, its
    own failure) with nothing applied. A failure of the transaction itself is raised, as by run_unit."""
    begin(conn)
    try:
        try:
            value = bulk(conn, [item])[0]
        except Exception as exc:
            if not conn.in_transaction:  # SQLite rolled the whole transaction back
                raise TransactionLost(exc) from exc
            conn.execute("ROLLBACK")
            return None, exc
        conn.execute("COMMIT")
    except BaseException:
        _roll_back(conn)
        raise
    return value, None


def _roll_back(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        try:
            conn.execute("ROLLBACK")
        except Exception:
            log.warning("rollback after a failed batch failed too", exc_info=True)


def _apply_groups(conn: sqlite3.Connection, groups: list[list[Job]], begin: Begin) -> list[Result]:
    """The usual batch is one group (votes only) and runs with no savepoint, two statements fewer. If
    that group fails, the transaction starts again and takes the savepoint path, so a bad item fails alone."""
    if len(groups) != 1:
        return [r for group in groups for r in apply_bulk(conn, group)]
    group = groups[0]
    bulk = group[0].bulk
    assert bulk is not None
    try:
        values = bulk(conn, [j.item for j in group])
    except Exception as exc:
        if not conn.in_transaction:  # SQLite rolled the whole transaction back
            raise TransactionLost(exc) from exc
        conn.execute("ROLLBACK")
        begin(conn)
        return apply_bulk(conn, group)
    return [(job, value, None) for job, value in zip(group, values, strict=True)]


def apply_bulk(conn: sqlite3.Connection, group: list[Job]) -> list[Result]:
    """One bulk call for the group in a savepoint; if it fails, each item alone, so one bad item fails alone."""
    bulk = group[0].bulk
    assert bulk is not None
    try:
        values = _in_savepoint(conn, lambda c: bulk(c, [j.item for j in group]))
        return [(job, value, None) for job, value in zip(group, values, strict=True)]
    except TransactionLost:
        raise
    except Exception as exc:
        if len(group) == 1:
            return [(group[0], None, exc)]
        log.warning("bulk write of %d failed; applying one by one", len(group), exc_info=True)
    return [r for job in group for r in apply_bulk(conn, [job])]


def _in_savepoint(conn: sqlite3.Connection, op: Callable[[sqlite3.Connection], _T]) -> _T:
    conn.execute("SAVEPOINT op")
    try:
        value = op(conn)
    except BaseException as exc:
        if not conn.in_transaction:  # SQLite rolled the whole transaction back (SQLITE_FULL, IOERR, ...)
            raise TransactionLost(exc) from exc
        try:
            conn.execute("ROLLBACK TO op")
            conn.execute("RELEASE op")
        except Exception as undo:
            raise TransactionLost(undo) from exc
        raise
    conn.execute("RELEASE op")
    return value


def groups_of(batch: list[Job]) -> list[list[Job]]:
    """Consecutive jobs of the same bulk operation form one group; every other job is a group alone."""
    groups: list[list[Job]] = []
    for job in batch:
        if groups and job.bulk is not None and groups[-1][0].bulk == job.bulk:
            groups[-1].append(job)
        else:
            groups.append([job])
    return groups


def passive_checkpoint(conn: sqlite3.Connection) -> tuple[int, int]:
    """The frames in the WAL and how many of them are now in the database file. PASSIVE waits for no
    one: frames a reader still needs stay for the next one."""
    row = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    if not row or row[1] < 0:  # -1: not in WAL mode
        return 0, 0
    return int(row[1]), int(row[2])
