"""PostgresStore's vote group commit (core/store/postgres_batch.py), on a real server.

Votes queued together are applied in one transaction; a vote whose own data PostgreSQL refuses fails
alone; a batch that fails as a whole (here: its poll's row lock is held past lock_timeout) fails every
vote with StoreError and leaves nothing behind.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest

from core.models import VoteKind
from core.store.base import StoreError
from core.store.postgres import PostgresStore

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
async def store(pg_dsn: str) -> AsyncIterator[PostgresStore]:
    s = PostgresStore(pg_dsn, lock_timeout=0.5)
    await s.open()
    try:
        yield s
    finally:
        await s.close()


async def test_votes_queued_together_commit_in_one_transaction(store: PostgresStore) -> None:
    poll = (await store.create_poll("S1", "C1", "p", T0, None)).id
    voters = [f"v{i}" for i in range(40)]
    outcomes = await asyncio.gather(*(store.record_vote(poll, v, "a", T0) for v in voters))
    assert [o.kind for o in outcomes] == [VoteKind.CAST] * len(voters)
    changes = await asyncio.gather(*(store.record_vote(poll, v, "b", T0) for v in voters))
    assert [o.kind for o in changes] == [VoteKind.CHANGED] * len(voters)
    # Rows written by one transaction share its id (xmin): one id for all 40 changes and their events (a
    # first vote writes no event: its row records it).
    async with store.pool.acquire() as conn:
        vote_tx = await conn.fetch("SELECT DISTINCT xmin::text FROM votes WHERE poll_id = $1", poll)
        event_tx = await conn.fetch("SELECT DISTINCT xmin::text FROM vote_events WHERE poll_id = $1", poll)
    assert len(vote_tx) == 1 and vote_tx == event_tx
    assert (await store.tally(poll)).total == len(voters)


async def test_a_vote_refused_by_the_server_fails_alone(store: PostgresStore) -> None:
    poll = (await store.create_poll("S1", "C1", "p", T0, None)).id
    # A NUL byte is refused by PostgreSQL's text type: that vote's data fails, the others' must not.
    keys = ["good-1", "bad\x00key", "good-2", "good-3"]
    results = await asyncio.gather(*(store.record_vote(poll, k, "a", T0) for k in keys), return_exceptions=True)
    assert isinstance(results[1], StoreError)
    assert [r.kind for i, r in enumerate(results) if i != 1] == [VoteKind.CAST] * 3  # type: ignore[union-attr]
    assert (await store.tally(poll)).total == 3
    for k in ("good-1", "good-2", "good-3"):
        assert await store.current_vote(poll, k) == "a"
        assert [h.kind for h in await store.history(poll, k)] == ["cast"]


async def test_a_failing_batch_acknowledges_none_of_its_votes(store: PostgresStore, pg_dsn: str) -> None:
    poll = (await store.create_poll("S1", "C1", "p", T0, None)).id
    await store.record_vote(poll, "before", "a", T0)
    blocker = await asyncpg.connect(pg_dsn)
    try:
        tx = blocker.transaction()
        await tx.start()
        # The poll row locked for update: the batch's FOR SHARE waits past lock_timeout and fails.
        await blocker.execute("SELECT id FROM polls WHERE id = $1 FOR UPDATE", poll)
        results = await asyncio.gather(
            *(store.record_vote(poll, f"v{i}", "b", T0) for i in range(10)),
            store.record_vote(poll, "before", "b", T0),
            return_exceptions=True,
        )
        await tx.rollback()
    finally:
        await blocker.close()
    assert all(isinstance(r, StoreError) for r in results), results
    assert (await store.tally(poll)).transitions == {("a", "a"): 1}
    assert await store.current_vote(poll, "before") == "a"
    assert [h.kind for h in await store.history(poll, "before")] == ["cast"]
    # The writer goes on: the next batch is applied.
    assert (await store.record_vote(poll, "v0", "b", T0)).kind is VoteKind.CAST


async def test_one_members_votes_in_one_batch_apply_in_the_order_asked(store: PostgresStore) -> None:
    poll = (await store.create_poll("S1", "C1", "p", T0, None)).id
    outcomes = await asyncio.gather(
        store.record_vote(poll, "m", "a", T0), store.record_vote(poll, "m", "b", T0),
        store.retract_vote(poll, "m", T0), store.record_vote(poll, "m", "c", T0),
    )
    assert [o.kind for o in outcomes] == [VoteKind.CAST, VoteKind.CHANGED, VoteKind.RETRACTED, VoteKind.CAST]
    assert await store.current_vote(poll, "m") == "c"
    assert (await store.tally(poll)).transitions == {("a", "c"): 1}


async def test_votes_queued_before_close_are_answered_and_later_ones_refused(pg_dsn: str) -> None:
    s = PostgresStore(pg_dsn)
    await s.open()
    poll = (await s.create_poll("S1", "C1", "p", T0, None)).id
    pending = [asyncio.create_task(s.record_vote(poll, f"v{i}", "a", T0)) for i in range(5)]
    await asyncio.sleep(0)  # queued
    await s.close()
    assert [(await p).kind for p in pending] == [VoteKind.CAST] * 5
    with pytest.raises(StoreError):
        await s.record_vote(poll, "late", "a", T0)
