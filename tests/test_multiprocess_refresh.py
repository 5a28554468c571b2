"""Refresh coalescers of several processes on one database take turns at a poll's message.

Finding: each process coalesced its own edits (one per 2 s), so N replicas behind a balancer edited one
poll message up to N times per 2 s, and a slow edit of one could land after a newer edit of another.
Here each "process" is a Coalescer with its own store connection (PostgreSQL: its own pool) and its
own holder; the flush stands for a platform edit and records what it rendered and when.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.store.postgres import PostgresStore
from core.store.sqlite import SqliteStore
from core.throttle import Coalescer, StoreTurns

GAP = 0.3
PROCESSES = 3


@dataclass
class Platform:
    """The chat platform's side: the message's state and when each edit arrived and ended."""

    state: int = 0
    edits: list[tuple[float, float, int]] = field(default_factory=list)  # (start, end, state shown)
    running: int = 0
    overlapped: bool = False

    started: asyncio.Event = field(default_factory=asyncio.Event)

    def flusher(self, slow: float = 0.0) -> Callable[[int], Awaitable[None]]:
        async def flush(_poll: int) -> None:
            self.running += 1
            self.started.set()
            self.overlapped |= self.running > 1
            start = time.time()
            shown = self.state  # read when the edit runs, as the adapters do
            await asyncio.sleep(slow)
            self.edits.append((start, time.time(), shown))
            self.running -= 1

        return flush


@pytest.fixture(params=["sqlite", "postgres"])
async def stores(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[list]:
    if request.param == "sqlite":
        one = SqliteStore(str(tmp_path / "r.db"))
        await one.open()
        opened = [one] * PROCESSES  # one process per SQLite file: the "processes" share its store
    else:
        dsn = request.getfixturevalue("pg_dsn")
        opened = [PostgresStore(dsn, pool_max=3) for _ in range(PROCESSES)]
        for store in opened:
            await store.open()
    try:
        yield opened
    finally:
        for store in set(opened):
            await store.close()


def coalescers(stores: list, platform: Platform, slow: float = 0.0) -> list[Coalescer[int]]:
    return [Coalescer(platform.flusher(slow), interval=GAP, turns=StoreTurns(store, f"proc-{i}", GAP))
            for i, store in enumerate(stores)]


async def test_votes_through_every_process_give_spaced_edits_and_the_last_shows_the_end(stores: list) -> None:
    poll = (await stores[0].create_poll("S1", "C1", "p", datetime.now(UTC), None)).id
    platform = Platform()
    procs = coalescers(stores, platform, slow=0.02)
    for vote in range(1, 61):  # ~1.2 s of votes spread over the processes
        platform.state = vote
        procs[vote % PROCESSES].request(poll)
        await asyncio.sleep(0.02)
    await asyncio.gather(*(p.drain() for p in procs))

    assert platform.edits[-1][2] == 60  # the final edit shows the final state
    assert not platform.overlapped
    for (_, end, _), (start, _, _) in zip(platform.edits, platform.edits[1:], strict=False):
        assert start - end >= GAP, platform.edits  # spaced from the end of the previous edit
    # One edit per gap overall, not one per gap per process.
    assert len(platform.edits) <= 1.2 / GAP + 2, platform.edits


async def test_a_change_seen_by_one_process_while_another_edits_is_rendered(stores: list) -> None:
    poll = (await stores[0].create_poll("S1", "C1", "p", datetime.now(UTC), None)).id
    platform = Platform()
    first, second, _ = coalescers(stores, platform, slow=0.2)
    first.request(poll)
    await platform.started.wait()  # first is editing now, showing state 0
    platform.state = 1
    second.request(poll)  # not its turn: it must come back after first's edit and the gap
    await asyncio.gather(first.drain(), second.drain())
    assert [shown for _, _, shown in platform.edits] == [0, 1]
    assert platform.edits[1][0] - platform.edits[0][1] >= GAP


async def test_settle_returns_after_an_edit_made_after_it_was_called(stores: list) -> None:
    poll = (await stores[0].create_poll("S1", "C1", "p", datetime.now(UTC), None)).id
    platform = Platform()
    first, second, _ = coalescers(stores, platform, slow=0.05)
    first.request(poll)
    await first.drain()
    platform.state = 7  # say, the poll closed
    await second.settle(poll)
    assert platform.edits[-1][2] == 7 and len(platform.edits) == 2
