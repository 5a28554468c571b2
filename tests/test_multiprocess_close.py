"""Two bot processes on one PostgreSQL database: a poll one closes takes no vote through the other.

Each process keeps a cache of the polls its members vote on (core/cases/base.py, `_poll_in_space`), so
the process that did not close the poll still holds it as open. The store decides inside the vote's
own transaction, so that cached copy must never let a vote in: not a new one, not a change, not a
retract, and the tally stays what it was at the close.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from core.models import ContentPack
from core.service import DebateService
from core.store.postgres import PostgresStore
from tests.conftest import FakeClock, member

SECRET = "test-secret-0123456789"


@pytest.fixture
async def two_processes(pg_dsn: str, pack: ContentPack) -> AsyncIterator[tuple[DebateService, DebateService]]:
    stores = [PostgresStore(pg_dsn, pool_max=2), PostgresStore(pg_dsn, pool_max=2)]
    for store in stores:
        await store.open()
    clock = FakeClock()
    try:
        yield DebateService(pack, stores[0], SECRET, clock=clock), DebateService(pack, stores[1], SECRET, clock=clock)
    finally:
        for store in stores:
            await store.close()


async def test_a_poll_closed_by_one_process_takes_no_vote_through_the_other(
    two_processes: tuple[DebateService, DebateService],
) -> None:
    a, b = two_processes
    admin = member("admin", admin=True)
    posted = await a.post(admin)
    assert posted.post is not None, posted.text
    poll_id = posted.post.poll_id
    await a.store.set_poll_message(poll_id, "C1:1")
    options = [o.id for o in (await a.prompt_of(await a.store.get_poll(poll_id))).options]  # type: ignore[arg-type]

    assert not (await a.vote(member("alice"), poll_id, options[0])).error  # a caches the poll as open
    assert not (await b.vote(member("bob"), poll_id, options[1])).error
    before = await b.store.tally(poll_id)

    closed = await b.close(admin, str(poll_id))
    assert not closed.error, closed.text

    late = [
        await a.vote(member("carol"), poll_id, options[2]),  # a new voter
        await a.vote(member("alice"), poll_id, options[3]),  # a change
        await a.retract(member("alice"), poll_id),  # a retract
    ]
    assert all(reply.error for reply in late), [r.text for r in late]
    assert not any(reply.refresh_polls for reply in late)
    assert await a.store.tally(poll_id) == before and before.total == 2
    assert await a.store.current_vote(poll_id, a._key(member("alice"))) == options[0]
    assert await a.store.current_vote(poll_id, a._key(member("carol"))) is None
