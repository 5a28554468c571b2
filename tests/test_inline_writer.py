"""Failure paths of SQLite's inline writer (core/store/group_commit.py): what must never stop the event loop
or the store.

- the write that starts the WAL over (and syncs its header) never runs on the loop's thread;
- a failed unit whose ROLLBACK fails too does not leave the inline connection holding the write lock;
- closing after the writer task was cancelled fails the votes still queued and leaves no thread behind;
- opening while another process holds the database does not wait on the loop for its lock.
"""

from __future__ import annotations

import asyncio
import sqlite3
import struct
import threading
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiosqlite
import pytest

from core.models import VoteKind
from core.store import group_commit, wal_checkpoints
from core.store.base import StoreError
from core.store.sqlite import SqliteStore
from core.store.sqlite_open import connect_inline
from core.store.sqlite_votes import apply_votes
from core.store.vote_plan import VoteRequest

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
OPTIONS = ["-2", "-1", "0", "1", "2"]


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    store = SqliteStore(tmp_path / "votes.db", busy_timeout=0.05, lock_timeout=1.0)
    await store.open()
    try:
        yield store
    finally:
        await store.close()


async def _poll(store: SqliteStore) -> int:
    return (await store.create_poll("S1", "C1", "p", T0, T0 + timedelta(days=1))).id


def _wal_generation(path: str) -> int | None:
    """The WAL header's checkpoint sequence: it changes each time the log starts over."""
    try:
        with open(f"{path}-wal", "rb") as wal:
            header = wal.read(32)
    except FileNotFoundError:
        return None
    return struct.unpack(">I", header[12:16])[0] if len(header) == 32 else None


async def test_the_write_that_starts_the_wal_over_never_runs_on_the_loops_thread(
        store: SqliteStore, monkeypatch: Any) -> None:
    monkeypatch.setattr(wal_checkpoints, "CHECKPOINT_ROWS", 30)
    monkeypatch.setattr(group_commit, "IDLE_S", 0.0)  # one vote at a time: each may commit in its own step
    loop_thread = threading.get_ident()
    starts: list[tuple[bool, str]] = []  # (on the loop's thread?, which unit) for each that started the log over
    units_on_loop = 0

    # Every vote batch is a unit, wherever it runs: the writer's batches, inline or on the thread (run_unit),
    # and the lone votes committed in their caller's step (run_one).
    def watching(real: Any) -> Any:
        def watched(conn: sqlite3.Connection, *args: Any) -> Any:
            nonlocal units_on_loop
            before = _wal_generation(store.path)
            try:
                return real(conn, *args)
            finally:
                on_loop = threading.get_ident() == loop_thread
                units_on_loop += on_loop
                if _wal_generation(store.path) != before:
                    starts.append((on_loop, real.__name__))

        return watched

    monkeypatch.setattr(group_commit, "run_unit", watching(group_commit.run_unit))
    monkeypatch.setattr(group_commit, "run_one", watching(group_commit.run_one))
    poll = await _poll(store)
    for i in range(400):
        await store.record_vote(poll, f"m{i % 60}", OPTIONS[(i // 60 + i) % 5], T0)  # always a change
        if i % 10 == 9:
            await asyncio.sleep(0.01)  # a quiet moment: the background checkpoint copies everything
        if i == 200:
            await store.forget_member("S1", "m3")  # an erasure truncates the log
    assert len(starts) >= 3, starts
    assert not [s for s in starts if s[0]], starts  # each one ran on aiosqlite's thread
    assert units_on_loop > 300 and store.writer.stats.immediate > 0  # the rest stayed on the loop's thread


async def test_after_an_erasure_a_reader_kept_from_finishing_the_write_that_restarts_the_wal_is_on_the_thread(
        store: SqliteStore, monkeypatch: Any) -> None:
    """An erasure's truncate copies every frame back but cannot finish while a reader (a backup, say) holds
    the latest snapshot. Once that reader ends, the next write starts the log over: it must not be inline."""
    monkeypatch.setattr(group_commit, "IDLE_S", float("inf"))  # every vote through the writer's batches
    loop_thread = threading.get_ident()
    poll = await _poll(store)
    for i in range(20):
        await store.record_vote(poll, f"m{i}", OPTIONS[i % 5], T0)
    reader = sqlite3.connect(store.path, isolation_level=None, check_same_thread=False)
    checkpoints = store.writer.checkpoints
    real_truncate = checkpoints.truncate

    async def truncate_while_read() -> None:  # the reader's snapshot begins just after the erasure commits
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM votes").fetchone()
        await real_truncate()

    monkeypatch.setattr(checkpoints, "truncate", truncate_while_read)
    await store.forget_member("S1", "m3")
    monkeypatch.setattr(checkpoints, "truncate", real_truncate)
    reader.execute("COMMIT")
    reader.close()
    restarted_on_loop: list[bool] = []
    real_unit = group_commit.run_unit

    def watched(conn: sqlite3.Connection, *args: Any) -> Any:
        before = _wal_generation(store.path)
        try:
            return real_unit(conn, *args)
        finally:
            if _wal_generation(store.path) != before:
                restarted_on_loop.append(threading.get_ident() == loop_thread)

    monkeypatch.setattr(group_commit, "run_unit", watched)
    assert (await store.record_vote(poll, "after", "1", T0)).kind is VoteKind.CAST
    assert restarted_on_loop == [False]  # the log started over, on aiosqlite's thread


class _RollbackFails:
    """The inline connection, except that ROLLBACK fails (as on an I/O error)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def execute(self, sql: str, *args: Any) -> Any:
        if sql == "ROLLBACK":
            raise sqlite3.OperationalError("disk I/O error")
        return self.conn.execute(sql, *args)

    def executemany(self, sql: str, rows: Any) -> Any:
        return self.conn.executemany(sql, rows)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.conn, name)


async def test_an_inline_connection_that_cannot_roll_back_is_dropped_and_writes_go_on(
        store: SqliteStore, monkeypatch: Any) -> None:
    monkeypatch.setattr(group_commit, "IDLE_S", float("inf"))  # the three votes below are one batch
    poll = await _poll(store)
    assert (await store.record_vote(poll, "first", "1", T0)).kind is VoteKind.CAST  # starts the log
    assert (await store.record_vote(poll, "second", "1", T0)).kind is VoteKind.CAST
    assert store.writer.stats.inline >= 1

    async def poison(conn: aiosqlite.Connection) -> None:
        await conn.execute("CREATE TRIGGER poison BEFORE INSERT ON votes WHEN NEW.voter_key = 'poison' "
                           "BEGIN SELECT RAISE(ABORT, 'poisoned vote'); END")

    await store.writer.run(poison)
    store.writer._inline = _RollbackFails(store.writer._inline)  # type: ignore[arg-type, assignment]
    results = await asyncio.gather(*(store.record_vote(poll, n, "2", T0) for n in ("a", "poison", "b")),
                                   return_exceptions=True)
    assert all(isinstance(r, StoreError) for r in results), results  # the batch's transaction was lost
    assert store.writer._inline is None  # closed, which rolled it back
    for name in ("a", "poison", "b"):
        assert await store.current_vote(poll, name) is None
    # Nothing holds the write lock: votes and other writes go on, on aiosqlite's thread.
    assert (await store.record_vote(poll, "after", "0", T0)).kind is VoteKind.CAST
    await store.set_meta("still", "writable")
    assert (await store.tally(poll)).current_counts() == {"1": 2, "0": 1}


async def test_closing_after_the_writer_was_cancelled_fails_queued_votes_and_leaves_no_thread(
        tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr(group_commit, "IDLE_S", float("inf"))  # every vote is queued for the writer
    store = SqliteStore(tmp_path / "votes.db")
    await store.open()
    poll = await _poll(store)
    assert store._write is not None and store._read is not None
    threads: list[threading.Thread] = [store._write._thread, store._read._thread]  # type: ignore[attr-defined]
    task = store.writer._task
    assert task is not None
    queued = store.writer.run_bulk(apply_votes, VoteRequest(poll, "late", "1", T0))  # queued at once
    task.cancel()  # before the writer takes it
    await asyncio.sleep(0)
    assert task.done() and not queued.done()
    await store.close()  # neither raises nor leaves the vote waiting
    with pytest.raises(StoreError):
        await queued
    for thread in threads:  # each finishes its last turn just after close() returns; a leaked one never does
        await asyncio.to_thread(thread.join, 5)
    assert not [t for t in threads if t.is_alive()]


async def test_opening_the_inline_connection_while_the_database_is_held_does_not_wait(tmp_path: Path) -> None:
    path = str(tmp_path / "held.db")
    store = SqliteStore(path)
    await store.open()
    await store.close()
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("PRAGMA locking_mode=EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        holder.execute("INSERT INTO meta (key, value) VALUES ('held', '1')")
        # busy_timeout=5000 as the store passes it: the inline connection must not wait that long on the loop.
        pragmas = ["PRAGMA busy_timeout=5000", "PRAGMA foreign_keys=ON", "PRAGMA synchronous=NORMAL"]
        assert connect_inline(path, pragmas) is None  # votes then commit on the thread
    finally:
        holder.execute("ROLLBACK")
        holder.close()
