"""A lone vote on an idle SQLite writer commits in its caller's own step (GroupCommitWriter.run_bulk).

What must hold: the vote is committed (another connection sees it) before its future is handed back; a
burst still shares commits, only its first vote committing alone; nothing is overtaken; a held lock
sends the vote to the writer, which waits for it on aiosqlite's thread; a vote that fails fails alone
and leaves the inline connection usable; with synchronous=FULL (no inline connection) nothing commits
this way. IDLE_S is pinned per test, so no outcome depends on the machine's speed.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiosqlite
import pytest

from core.models import VoteKind
from core.store import group_commit
from core.store.base import StoreError
from core.store.sqlite import SqliteStore
from core.store.sqlite_votes import apply_votes
from core.store.vote_plan import VoteRequest

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
OPTIONS = ["-2", "-1", "0", "1", "2"]


@pytest.fixture
async def store(tmp_path: Path, monkeypatch: Any) -> AsyncIterator[SqliteStore]:
    monkeypatch.setattr(group_commit, "IDLE_S", 60.0)  # only a writer idle "for a minute" commits at once
    store = SqliteStore(tmp_path / "votes.db", busy_timeout=0.05, lock_timeout=2.0)
    await store.open()
    try:
        yield store
    finally:
        await store.close()


async def _idle_poll(store: SqliteStore) -> int:
    """A poll, and a writer that has been idle for longer than IDLE_S, with the WAL already started."""
    poll = (await store.create_poll("S1", "C1", "p", T0, T0 + timedelta(days=1))).id
    await store.record_vote(poll, "warm-up", "0", T0)  # the write that starts the WAL runs on the thread
    await _go_idle(store)
    return poll


async def _go_idle(store: SqliteStore) -> None:
    """Let the loop turn, and the last commit be "a minute" old."""
    await asyncio.sleep(0)
    _pretend_idle(store)


def _pretend_idle(store: SqliteStore) -> None:
    store.writer._idle_since = time.perf_counter() - 3600
    store.writer._turned = True


def _vote(store: SqliteStore, poll: int, voter: str, option: str | None) -> asyncio.Future[Any]:
    return store.writer.run_bulk(apply_votes, VoteRequest(poll, voter, option, T0))


def _committed(store: SqliteStore, poll: int, voter: str) -> str | None:
    """The member's current option as another connection sees it: only committed rows."""
    with sqlite3.connect(store.path) as conn:
        row = conn.execute("SELECT option_id FROM votes WHERE poll_id = ? AND voter_key = ?", (poll, voter)).fetchone()
    return row[0] if row else None


async def test_a_lone_vote_on_an_idle_writer_is_committed_before_its_future_is_handed_back(
        store: SqliteStore) -> None:
    poll = await _idle_poll(store)
    stats = store.writer.stats
    immediate = stats.immediate
    future = _vote(store, poll, "alone", "1")
    assert future.done() and future.result().kind is VoteKind.CAST
    assert _committed(store, poll, "alone") == "1" and stats.immediate == immediate + 1
    # The writer has just committed: the next vote joins the queue and is committed by the writer.
    queued = _vote(store, poll, "next", "2")
    assert not queued.done()
    assert (await queued).kind is VoteKind.CAST and stats.immediate == immediate + 1
    assert _committed(store, poll, "next") == "2"


async def test_a_burst_on_an_idle_writer_commits_its_first_vote_alone_and_shares_the_rest(
        store: SqliteStore) -> None:
    poll = await _idle_poll(store)
    stats = store.writer.stats
    batches, immediate = stats.batches, stats.immediate
    n = 40
    outcomes = await asyncio.gather(*(store.record_vote(poll, f"m{i}", OPTIONS[i % 5], T0) for i in range(n)))
    assert [o.kind for o in outcomes] == [VoteKind.CAST] * n
    assert stats.immediate - immediate == 1 and stats.batches - batches == 2  # one alone, one for the rest
    assert (await store.tally(poll)).total == n + 1


async def test_nothing_queued_is_overtaken(store: SqliteStore) -> None:
    """A member's two votes in a row, the first queued behind the writer: the second must not commit first."""
    poll = await _idle_poll(store)
    first = _vote(store, poll, "m", "1")  # commits at once
    second = _vote(store, poll, "m", "2")  # queued: the writer just committed
    _pretend_idle(store)  # idle again by the clock and the loop, but the queue is not empty
    third = _vote(store, poll, "m", "0")
    assert first.done() and not second.done() and not third.done()
    kinds = [(await f).kind for f in (first, second, third)]
    assert kinds == [VoteKind.CAST, VoteKind.CHANGED, VoteKind.CHANGED]
    assert _committed(store, poll, "m") == "0"
    assert [e.option_id for e in await store.history(poll, "m")] == ["1", "2", "0"]


async def test_a_held_write_lock_sends_the_lone_vote_to_the_writer_which_waits_for_it(store: SqliteStore) -> None:
    poll = await _idle_poll(store)
    stats = store.writer.stats
    immediate, on_thread = stats.immediate, stats.single_calls
    other = sqlite3.connect(store.path, isolation_level=None, check_same_thread=False)
    try:
        await asyncio.to_thread(other.execute, "BEGIN IMMEDIATE")
        future = _vote(store, poll, "held", "1")
        assert not future.done()  # the loop did not wait for the lock
        await asyncio.sleep(0.2)
        assert not future.done()
        other.execute("ROLLBACK")
        assert (await future).kind is VoteKind.CAST
    finally:
        other.close()
    assert stats.immediate == immediate and stats.single_calls == on_thread + 1
    assert _committed(store, poll, "held") == "1"


async def test_a_lone_vote_that_fails_fails_alone_and_the_inline_connection_goes_on(store: SqliteStore) -> None:
    poll = await _idle_poll(store)

    async def poison(conn: aiosqlite.Connection) -> None:
        await conn.execute("CREATE TRIGGER poison BEFORE INSERT ON votes WHEN NEW.voter_key = 'poison' "
                           "BEGIN SELECT RAISE(ABORT, 'poisoned vote'); END")

    await store.writer.run(poison)
    await _go_idle(store)
    immediate = store.writer.stats.immediate
    future = _vote(store, poll, "poison", "1")
    assert future.done() and store.writer.stats.immediate == immediate + 1
    with pytest.raises(StoreError, match="poisoned vote"):
        future.result()
    inline = store.writer._inline
    assert inline is not None and not inline.in_transaction
    assert _committed(store, poll, "poison") is None and await store.history(poll, "poison") == []
    await _go_idle(store)
    after = _vote(store, poll, "after", "2")
    assert after.done() and after.result().kind is VoteKind.CAST
    assert (await store.tally(poll)).total == 2  # warm-up and after


async def test_a_lone_vote_whose_transaction_is_lost_fails_with_store_error_and_nothing_applied(
        store: SqliteStore) -> None:
    poll = await _idle_poll(store)

    class _CommitFails:
        def __init__(self, conn: sqlite3.Connection) -> None:
            self.conn = conn

        def execute(self, sql: str, *args: Any) -> Any:
            if sql == "COMMIT":
                raise sqlite3.OperationalError("database or disk is full")
            return self.conn.execute(sql, *args)

        def __getattr__(self, name: str) -> Any:
            return getattr(self.conn, name)

    real = store.writer._inline
    assert real is not None
    store.writer._inline = _CommitFails(real)  # type: ignore[assignment]
    future = _vote(store, poll, "lost", "1")
    assert future.done()
    with pytest.raises(StoreError, match="full"):
        future.result()
    assert not real.in_transaction and _committed(store, poll, "lost") is None
    store.writer._inline = real
    assert (await store.record_vote(poll, "lost", "1", T0)).kind is VoteKind.CAST  # and not UNCHANGED


async def test_with_synchronous_full_no_vote_commits_in_its_callers_step(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr(group_commit, "IDLE_S", 0.0)
    store = SqliteStore(tmp_path / "full.db", synchronous="FULL")
    await store.open()
    try:
        poll = await _idle_poll(store)
        future = _vote(store, poll, "m", "1")
        assert not future.done()  # FULL syncs each commit: never on the loop's thread
        assert (await future).kind is VoteKind.CAST and store.writer.stats.immediate == 0
    finally:
        await store.close()


async def test_callers_ready_in_one_turn_share_a_commit_however_long_each_works(store: SqliteStore,
                                                                                monkeypatch: Any) -> None:
    """Each caller works longer than IDLE_S before it votes: by the clock alone every vote would find the
    writer idle and commit alone, one after another. Ready in the same turn of the loop, they share."""
    monkeypatch.setattr(group_commit, "IDLE_S", 0.0002)
    poll = await _idle_poll(store)
    stats = store.writer.stats
    batches, immediate = stats.batches, stats.immediate

    async def voter(i: int) -> VoteKind:
        until = time.perf_counter() + 2 * group_commit.IDLE_S
        while time.perf_counter() < until:  # a handler's own work before it reaches the store
            pass
        return (await store.record_vote(poll, f"busy{i}", OPTIONS[i % 5], T0)).kind

    kinds = await asyncio.gather(*(voter(i) for i in range(30)))
    assert kinds == [VoteKind.CAST] * 30
    assert stats.immediate - immediate <= 1 and stats.batches - batches <= 2, stats
