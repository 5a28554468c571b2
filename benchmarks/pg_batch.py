"""A PROTOTYPE, for measurement only: PostgresStore's votes applied in batches (group commit), as SQLite's are.

Not product code. `python -m benchmarks.pg_votes --profile` installs it on a running store to measure
what a batched vote path would give before anyone writes it properly in core/store/postgres.py. It
keeps the store's locking protocol, per batch instead of per vote: polls FOR SHARE, the (poll, voter)
advisory locks, then the vote rows FOR UPDATE, each in key order in one statement (a batch's locks
are taken in one global order, so two processes' batches wait for each other but never deadlock), then
vote_plan works out the outcomes in arrival order and the rows, events and tally deltas are written
with one executemany each. One drainer per process keeps a member's votes in the order asked.

What it does not do (a real version must): fail one bad vote alone (here a failed batch fails all
its votes, with savepoints per vote it would not), and bound how long a vote waits behind a batch.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from core.models import VoteOutcome
from core.store.postgres import PostgresStore
from core.store.postgres_rows import vote_lock_keys
from core.store.vote_plan import PollWindow, VoteRequest, VoteRow, plan_votes

BATCH_MAX = 200

_LOCK_KEYS = ("SELECT pg_advisory_xact_lock(a, b) FROM "
              "(SELECT a, b FROM unnest($1::int[], $2::int[]) AS k(a, b) ORDER BY a, b) AS s")
_READ_ROWS = ("SELECT v.poll_id, v.voter_key, v.option_id, v.first_option_id, v.updated_at FROM votes v "
              "JOIN unnest($1::bigint[], $2::text[]) AS k(p, voter) ON v.poll_id = k.p AND v.voter_key = k.voter "
              "ORDER BY v.poll_id, v.voter_key FOR UPDATE OF v")
_UPSERT = ("INSERT INTO votes (poll_id, voter_key, option_id, first_option_id, updated_at) VALUES ($1, $2, $3, $4, $5) "
           "ON CONFLICT (poll_id, voter_key) DO UPDATE SET option_id = excluded.option_id, "
           "first_option_id = excluded.first_option_id, updated_at = excluded.updated_at")
_EVENT = "INSERT INTO vote_events (poll_id, voter_key, kind, option_id, at) VALUES ($1, $2, $3, $4, $5)"
# One statement for both signs, so all deltas go in one executemany in key order: the proposed row
# (never negative) passes CHECK (n >= 0); a decrement always meets its existing row and takes the UPDATE.
_TALLY = ("INSERT INTO tallies (poll_id, first_option_id, option_id, n) VALUES ($1, $2, $3, GREATEST($4::int, 0)) "
          "ON CONFLICT (poll_id, first_option_id, option_id) DO UPDATE SET n = tallies.n + $4::int")


class BatchedVotes:
    def __init__(self, store: PostgresStore, batch_max: int = BATCH_MAX) -> None:
        self.store = store
        self.batch_max = batch_max
        self.queue: list[tuple[VoteRequest, asyncio.Future[VoteOutcome]]] = []
        self.wake = asyncio.Event()
        self.batches = 0
        self.votes = 0

    async def vote(self, req: VoteRequest) -> VoteOutcome:
        future: asyncio.Future[VoteOutcome] = asyncio.get_running_loop().create_future()
        self.queue.append((req, future))
        self.wake.set()
        return await future

    async def drain(self) -> None:
        while True:
            await self.wake.wait()
            self.wake.clear()
            while self.queue:
                batch, self.queue = self.queue[: self.batch_max], self.queue[self.batch_max:]
                try:
                    outcomes = await self.apply([req for req, _ in batch])
                except Exception as exc:
                    for _, future in batch:
                        future.set_exception(exc)
                    continue
                self.batches += 1
                self.votes += len(batch)
                for (_, future), outcome in zip(batch, outcomes, strict=True):
                    future.set_result(outcome)

    async def apply(self, reqs: list[VoteRequest]) -> list[VoteOutcome]:
        async with self.store._tx() as conn:
            ids = sorted({r.poll_id for r in reqs})
            polls = await conn.fetch("SELECT id, closes_at, closed_at FROM polls WHERE id = ANY($1::bigint[]) "
                                     "ORDER BY id FOR SHARE", ids)
            windows = {int(r[0]): PollWindow(r[1], r[2]) for r in polls}
            keys = sorted({(r.poll_id, r.voter_key) for r in reqs
                           if r.poll_id in windows and windows[r.poll_id].accepts(r.at)})
            existing: dict[tuple[int, str], VoteRow] = {}
            if keys:
                locks = sorted({vote_lock_keys(p, v) for p, v in keys})
                await conn.execute(_LOCK_KEYS, [a for a, _ in locks], [b for _, b in locks])
                rows = await conn.fetch(_READ_ROWS, [p for p, _ in keys], [v for _, v in keys])
                existing = {(int(r[0]), r[1]): VoteRow(r[2], r[3], r[4]) for r in rows}
            plan = plan_votes(reqs, windows, existing)
            if plan.rows:
                await conn.executemany(_UPSERT, [(p, v, row.option_id, row.first_option_id, row.updated_at)
                                                 for (p, v), row in sorted(plan.rows.items())])
            if plan.events:
                await conn.executemany(_EVENT, plan.events)
            deltas = [(*key, n) for key, n in sorted(plan.tally_deltas.items()) if n]
            if deltas:
                await conn.executemany(_TALLY, deltas)
            return plan.outcomes


@asynccontextmanager
async def batched(store: PostgresStore) -> AsyncIterator[BatchedVotes]:
    """The store's votes go through a BatchedVotes until the block ends (an instance attribute, nothing global)."""
    votes = BatchedVotes(store)
    drainer = asyncio.create_task(votes.drain())
    store._vote = votes.vote  # type: ignore[method-assign]
    try:
        yield votes
    finally:
        del store._vote
        drainer.cancel()
        await asyncio.gather(drainer, return_exceptions=True)

