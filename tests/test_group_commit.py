"""The group-commit writer's vote path: one synchronous unit per batch, with every guarantee kept.

Both places a unit runs are covered: the event loop's own thread (synchronous=NORMAL, the default) and
aiosqlite's thread (synchronous=FULL, or when another connection holds the write lock).

- a burst of concurrent votes is one unit per committed batch: one round trip to aiosqlite's thread for
  a full batch, and inline (no thread call) for a small one where the store allows it (issue 12 E);
- one vote that fails inside a batch fails alone (savepoint), the others commit;
- an error after which SQLite rolled the whole transaction back fails every vote of the batch, none applied;
- a batch mixing votes with other writes still commits all of them;
- cancelling the writer while its batch runs on the thread reports what the thread committed;
- a write lock held elsewhere sends the batch to the thread, and the event loop keeps running meanwhile;
- the inline connection's WAL is checkpointed on the thread, so it does not grow without bound.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiosqlite
import pytest

from core.models import VoteKind
from core.store import group_commit, wal_checkpoints
from core.store.base import StoreError
from core.store.sqlite import BATCH_MAX, SqliteStore

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
OPTIONS = ["-2", "-1", "0", "1", "2"]


@pytest.fixture(params=["NORMAL", "FULL"])
async def store(tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: Any) -> AsyncIterator[SqliteStore]:
    # These tests are about batches: no vote commits alone in its caller's step (test_immediate_commit.py).
    monkeypatch.setattr(group_commit, "IDLE_S", float("inf"))
    store = SqliteStore(tmp_path / "votes.db", synchronous=request.param)
    await store.open()
    assert (store._inline is not None) is (request.param == "NORMAL")
    try:
        yield store
    finally:
        await store.close()


async def _poll(store: SqliteStore, channel: str = "C1") -> int:
    return (await store.create_poll("S1", channel, "p", T0, T0 + timedelta(days=1))).id


async def _on_writer(store: SqliteStore, sql: str) -> None:
    async def op(conn: aiosqlite.Connection) -> None:
        await conn.execute(sql)

    await store.writer.run(op)


async def test_a_burst_of_votes_is_one_unit_per_batch(store: SqliteStore, monkeypatch: Any) -> None:
    poll = await _poll(store)
    writer_conn = store._write
    calls: Counter[str] = Counter()
    real = aiosqlite.Connection._execute

    async def counting(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        calls["writer" if self is writer_conn else "other"] += 1
        return await real(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counting)
    unit_threads: list[int] = []
    real_unit = group_commit.run_unit

    def unit(*args: Any) -> Any:
        unit_threads.append(threading.get_ident())
        return real_unit(*args)

    monkeypatch.setattr(group_commit, "run_unit", unit)
    stats = store.writer.stats
    before = stats.batches, stats.single_calls
    n = 3 * BATCH_MAX  # a rush: full batches, each one call on aiosqlite's thread whatever the mode
    outcomes = await asyncio.gather(*(store.record_vote(poll, f"m{i}", OPTIONS[i % 5], T0) for i in range(n)))
    batches = stats.batches - before[0]
    assert [o.kind for o in outcomes] == [VoteKind.CAST] * n
    assert batches >= 3 and len(unit_threads) == batches == stats.single_calls - before[1]
    assert calls["writer"] >= batches and threading.get_ident() not in unit_threads
    # A few votes at once: one small batch, on the loop's own thread when the store allows it. (The vote
    # before it takes the write that may start the WAL over after the rush's checkpoints: on the thread.)
    monkeypatch.setattr(wal_checkpoints, "CHECKPOINT_ROWS", 10**9)  # no new checkpoint from here on
    await store.writer.checkpoints.done()
    await store.record_vote(poll, "after-the-rush", "0", T0)
    unit_threads.clear()
    inline_before = stats.inline
    few = group_commit.INLINE_BATCH_MAX
    await asyncio.gather(*(store.record_vote(poll, f"f{i}", OPTIONS[i % 5], T0) for i in range(few)))
    assert len(unit_threads) == 1
    if store._inline is None:
        assert threading.get_ident() not in unit_threads
    else:
        assert unit_threads == [threading.get_ident()] and stats.inline == inline_before + 1
    assert (await store.tally(poll)).total == n + few + 1


async def test_one_failing_vote_fails_alone_and_the_rest_of_its_batch_commits(store: SqliteStore) -> None:
    poll = await _poll(store)
    await _on_writer(
        store,
        "CREATE TRIGGER poison BEFORE INSERT ON votes WHEN NEW.voter_key = 'poison' "
        "BEGIN SELECT RAISE(ABORT, 'poisoned vote'); END",
    )
    names = [f"m{i}" for i in range(30)]
    names[17] = "poison"
    results = await asyncio.gather(
        *(store.record_vote(poll, n, OPTIONS[i % 5], T0) for i, n in enumerate(names)), return_exceptions=True
    )
    for name, result in zip(names, results, strict=True):
        if name == "poison":
            assert isinstance(result, StoreError) and "poisoned vote" in str(result), result
        else:
            assert not isinstance(result, BaseException), result
            assert result.kind is VoteKind.CAST
    assert await store.current_vote(poll, "poison") is None
    assert await store.history(poll, "poison") == []
    assert (await store.tally(poll)).total == 29
    assert await store.current_vote(poll, "m18") == OPTIONS[18 % 5]


async def test_a_rolled_back_transaction_fails_every_vote_of_the_batch(store: SqliteStore) -> None:
    poll = await _poll(store)
    assert (await store.record_vote(poll, "before", "1", T0)).kind is VoteKind.CAST
    # RAISE(ROLLBACK) ends the whole transaction, as SQLITE_FULL or an I/O error would.
    await _on_writer(
        store,
        "CREATE TRIGGER doom BEFORE INSERT ON votes WHEN NEW.voter_key = 'doom' "
        "BEGIN SELECT RAISE(ROLLBACK, 'transaction lost'); END",
    )
    names = [f"m{i}" for i in range(10)] + ["doom"] + [f"n{i}" for i in range(10)]
    results = await asyncio.gather(*(store.record_vote(poll, n, "2", T0) for n in names), return_exceptions=True)
    assert all(isinstance(r, StoreError) for r in results), results
    for name in names:
        assert await store.current_vote(poll, name) is None
        assert await store.history(poll, name) == []
    assert (await store.tally(poll)).current_counts() == {"1": 1}
    assert (await store.record_vote(poll, "after", "0", T0)).kind is VoteKind.CAST  # the writer goes on


async def test_a_batch_mixing_votes_and_other_writes_commits_them_all(store: SqliteStore) -> None:
    poll = await _poll(store)
    other = await _poll(store, "C2")
    votes = [store.record_vote(poll, f"m{i}", OPTIONS[i % 5], T0) for i in range(20)]
    more = [store.record_vote(other, f"m{i}", "0", T0) for i in range(20)]
    results = await asyncio.gather(*votes[:10], store.set_meta("k", "v"), *votes[10:],
                                   store.set_poll_message(poll, "C1:1"), *more)
    assert sum(1 for r in results if r is not None and r.kind is VoteKind.CAST) == 40
    assert await store.get_meta("k") == "v"
    assert (await store.get_poll(poll)).message_ref == "C1:1"  # type: ignore[union-attr]
    assert (await store.tally(poll)).total == 20 and (await store.tally(other)).total == 20


async def test_cancelling_the_writer_mid_batch_reports_what_the_thread_committed(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "votes.db", synchronous="FULL")  # the unit on aiosqlite's thread
    await store.open()
    poll = await _poll(store)
    started, release = threading.Event(), threading.Event()

    def hold(_key: str) -> int:  # runs on the database thread, inside the batch
        started.set()
        release.wait(10)
        return 0

    async def register(conn: aiosqlite.Connection) -> None:
        await conn.create_function("hold", 1, hold)
        await conn.execute(
            "CREATE TRIGGER held BEFORE INSERT ON votes WHEN NEW.voter_key = 'held' "
            "BEGIN SELECT hold(NEW.voter_key); END"
        )

    await store.writer.run(register)
    votes = [asyncio.ensure_future(store.record_vote(poll, n, "1", T0)) for n in ("a", "held", "b")]
    assert await asyncio.to_thread(started.wait, 10)
    task = store.writer._task
    assert task is not None
    task.cancel()
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    outcomes = await asyncio.gather(*votes, return_exceptions=True)
    # The thread committed the batch: its callers hear so, not that it failed.
    assert [getattr(o, "kind", o) for o in outcomes] == [VoteKind.CAST] * 3
    raw = sqlite3.connect(store.path)
    try:
        assert raw.execute("SELECT count(*) FROM votes WHERE poll_id = ?", (poll,)).fetchone()[0] == 3
    finally:
        raw.close()
    store._writer = None  # its task is gone; close() has no queue left to finish
    await store.close()


async def test_a_lock_held_elsewhere_sends_the_batch_to_the_thread_and_the_loop_keeps_running(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "votes.db", busy_timeout=0.05, lock_timeout=5.0)
    await store.open()
    try:
        poll = await _poll(store)
        other = sqlite3.connect(store.path, isolation_level=None, timeout=0)
        other.execute("BEGIN IMMEDIATE")  # another process writing, for as long as it likes
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticking = asyncio.create_task(ticker())
        vote = asyncio.create_task(store.record_vote(poll, "waits", "1", T0))
        await asyncio.sleep(0.3)
        waited = ticks
        other.execute("COMMIT")
        other.close()
        outcome = await vote
        ticking.cancel()
        # A wait on the loop's thread would have frozen the ticker for the whole 0.3 s.
        assert waited >= 10, waited
        assert outcome.kind is VoteKind.CAST
        assert store.writer.stats.single_calls == 1  # the vote waited on aiosqlite's thread
        assert await store.current_vote(poll, "waits") == "1"
        assert (await store.record_vote(poll, "next", "2", T0)).kind is VoteKind.CAST
        assert store.writer.stats.inline >= 1  # and the next batch is inline again
    finally:
        await store.close()


@pytest.mark.parametrize("burst", [1, 200])  # lone votes one after another; a rush of concurrent ones
async def test_the_inline_connections_wal_is_checkpointed_on_the_thread_and_stays_bounded(
        tmp_path: Path, monkeypatch: Any, burst: int) -> None:
    kib = 1024
    monkeypatch.setattr(wal_checkpoints, "CHECKPOINT_ROWS", 60)
    monkeypatch.setattr(wal_checkpoints, "WAIT_BYTES", 256 * kib)
    store = SqliteStore(tmp_path / "votes.db")
    await store.open()
    try:
        poll = await _poll(store)
        largest = 0
        for round_ in range(2400 // burst):  # without checkpoints the WAL would pass 10 MB
            await asyncio.gather(*(store.record_vote(poll, f"m{round_}-{i}", OPTIONS[i % 5], T0) for i in range(burst)))
            largest = max(largest, await asyncio.to_thread(os.path.getsize, f"{store.path}-wal"))
        assert store.writer.checkpoints.count >= 2
        # Past WAIT_BYTES the writer waits for a checkpoint, so the WAL starts over and is cut back. It is
        # looked at every CHECKPOINT_ROWS rows (20 lone votes here), so it may pass the mark by that much.
        assert largest < 1024 * kib, largest
        assert (await store.tally(poll)).total == 2400
    finally:
        await store.close()
