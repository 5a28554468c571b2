"""PostgresStore's pool sends no reset query on release (core/store/postgres_open.keep_session).

asyncpg's default reset (advisory unlock all, CLOSE ALL, UNLISTEN, RESET ALL) used to clean up after any
store call; without it, a connection must come back from the pool clean by itself: no transaction still
open, no advisory lock still held, no setting changed, also when the call that used it was cancelled
half-way through a vote's transaction. These fail if a store call leaves session state behind (say a
session-level pg_advisory_lock where a transaction-scoped one was meant), which the old reset hid.
A pool of one connection makes the next call reuse exactly that connection.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest

from core.models import VoteKind
from core.store.postgres import PostgresStore
from core.store.postgres_rows import vote_lock_keys

ADVISORY_HELD = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"


@pytest.fixture
async def one_connection_store(pg_dsn: str) -> AsyncIterator[PostgresStore]:
    store = PostgresStore(pg_dsn, pool_min=1, pool_max=1)
    await store.open()
    try:
        yield store
    finally:
        await store.close()


async def _waiting_on_a_lock(observer: asyncpg.Connection, pid: int) -> None:
    for _ in range(500):
        if await observer.fetchval("SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $1", pid):
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the vote never waited on the advisory lock")


async def test_a_vote_cancelled_inside_its_transaction_leaves_the_connection_clean(
    one_connection_store: PostgresStore, pg_dsn: str
) -> None:
    store = one_connection_store
    now = datetime.now(UTC)
    poll = await store.create_poll("S1", "C1", "p1", now, None)
    async with store.pool.acquire() as conn:
        backend = await conn.fetchval("SELECT pg_backend_pid()")
    blocker = await asyncpg.connect(pg_dsn)
    try:
        # Another session holds the member's advisory lock, so the vote stops inside its transaction
        # (poll row held FOR SHARE, lock requested) and is cancelled right there.
        tx = blocker.transaction()
        await tx.start()
        await blocker.execute("SELECT pg_advisory_xact_lock($1, $2)", *vote_lock_keys(poll.id, "voter-1"))
        vote = asyncio.create_task(store.record_vote(poll.id, "voter-1", "a", now))
        await _waiting_on_a_lock(blocker, backend)
        vote.cancel()
        with pytest.raises(asyncio.CancelledError):
            await vote
        await tx.rollback()
    finally:
        await blocker.close()

    async with store.pool.acquire() as conn:
        assert not conn.is_in_transaction()
        assert await conn.fetchval(ADVISORY_HELD) == 0
        # the server agrees: this session is idle, not "idle in transaction"
        assert await conn.fetchval("SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid() "
                                   "AND locktype = 'transactionid'") == 0
    assert (await store.tally(poll.id)).total == 0  # the cancelled vote left nothing behind
    outcome = await store.record_vote(poll.id, "voter-1", "b", now)
    assert outcome.kind is VoteKind.CAST
    assert (await store.tally(poll.id)).total == 1


async def test_votes_leave_no_advisory_lock_or_transaction_on_the_pooled_connection(
    one_connection_store: PostgresStore,
) -> None:
    store = one_connection_store
    now = datetime.now(UTC)
    poll = await store.create_poll("S1", "C1", "p1", now, None)
    for option in ("a", "b", None):
        if option is None:
            await store.retract_vote(poll.id, "voter-1", now)
        else:
            await store.record_vote(poll.id, "voter-1", option, now)
        async with store.pool.acquire() as conn:
            assert not conn.is_in_transaction()
            assert await conn.fetchval(ADVISORY_HELD) == 0
            assert await conn.fetchval("SELECT current_setting('lock_timeout')") == "10s"
