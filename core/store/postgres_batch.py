"""Group commit for PostgresStore's votes: one writer task per store applies queued votes in one transaction.

A vote per transaction costs about nine round trips; a batch costs about seven in all. The writer takes
everything queued when it is free (so a vote waits behind at most the one batch already running) and,
in one transaction, takes the locks of the whole batch in one global order (polls FOR SHARE by id, the
(poll, voter) advisory locks sorted, the vote rows FOR UPDATE by key): two processes' batches may wait
for each other but never deadlock, and a close still waits for every vote in flight on its poll. It
then plans the outcomes in arrival order with vote_plan (the same rules as SQLite; a closed or unknown
poll is an outcome there, not an error) and writes rows, events and tallies with one executemany each.
Only after COMMIT (synchronous_commit on) is any caller answered: an acknowledged vote is durable.

A batch that fails on the data of a vote (a constraint, a byte PostgreSQL refuses) is replayed one
vote per transaction, so that vote fails alone. Any other failure (a lost connection, a lock wait
over lock_timeout, a failed COMMIT) fails every vote of the batch and acknowledges none. A caller
cancelled while the batch still waits for its locks is left out of it; one cancelled later may be
applied, as a vote whose answer was lost would be.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

import asyncpg

from core.models import VoteOutcome
from core.store.base import StoreError
from core.store.postgres_rows import vote_lock_keys
from core.store.vote_plan import PollWindow, VoteRequest, VoteRow, plan_votes

log = logging.getLogger(__name__)

_POLLS = "SELECT id, closes_at, closed_at FROM polls WHERE id = ANY($1::bigint[]) ORDER BY id FOR SHARE"
_LOCK_KEYS = ("SELECT pg_advisory_xact_lock(a, b) FROM "
              "(SELECT a, b FROM unnest($1::int[], $2::int[]) AS k(a, b) ORDER BY a, b) AS s")
# The reason's option rides along for the receipt: a reason exists only beside its author's vote row.
_READ_ROWS = ("SELECT v.poll_id, v.voter_key, v.option_id, v.first_option_id, v.updated_at, "
              "(SELECT r.option_id FROM reasons r WHERE r.poll_id = v.poll_id AND r.voter_key = v.voter_key) "
              "FROM votes v JOIN unnest($1::bigint[], $2::text[]) AS k(p, voter) "
              "ON v.poll_id = k.p AND v.voter_key = k.voter ORDER BY v.poll_id, v.voter_key FOR UPDATE OF v")
# cast_at is written when the row is created and never after (a member's first vote: vote_plan.Step).
_UPSERT = ("INSERT INTO votes (poll_id, voter_key, option_id, first_option_id, updated_at, cast_at) "
           "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (poll_id, voter_key) DO UPDATE SET "
           "option_id = excluded.option_id, first_option_id = excluded.first_option_id, "
           "updated_at = excluded.updated_at")
_EVENT = "INSERT INTO vote_events (poll_id, voter_key, kind, option_id, at) VALUES ($1, $2, $3, $4, $5)"
# Both signs in one statement, so every delta goes in one executemany in key order: the proposed row
# (never negative) passes CHECK (n >= 0); a decrement always meets its existing row and takes the UPDATE.
_TALLY = ("INSERT INTO tallies (poll_id, first_option_id, option_id, n) VALUES ($1, $2, $3, GREATEST($4::int, 0)) "
          "ON CONFLICT (poll_id, first_option_id, option_id) DO UPDATE SET n = tallies.n + $4::int")

# Errors caused by one vote's own data: replaying the batch vote by vote isolates the culprit.
_VOTE_ERRORS = (asyncpg.IntegrityConstraintViolationError, asyncpg.DataError)


@dataclass
class _Job:
    req: VoteRequest
    future: asyncio.Future[VoteOutcome]


@dataclass
class PgWriterStats:
    batches: int = 0  # committed transactions (a replay vote by vote counts each)
    votes: int = 0
    largest_batch: int = 0
    replays: int = 0


class PgVoteWriter:
    def __init__(self, acquire: Callable[[], asyncpg.pool.PoolAcquireContext]) -> None:
        self._acquire = acquire
        self._queue: list[_Job] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.stats = PgWriterStats()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="counterpoint-pg-votes")

    async def stop(self) -> None:
        """Finish every vote queued so far; votes submitted from now on are refused."""
        task, self._task = self._task, None
        if task is None:
            return
        self._closing = True
        self._wake.set()
        await task

    async def vote(self, req: VoteRequest) -> VoteOutcome:
        if self._closing or self._task is None or self._task.done():
            raise StoreError("the store is closing or not open; the vote was not applied")
        job = _Job(req, asyncio.get_running_loop().create_future())
        self._queue.append(job)
        self._wake.set()
        return await job.future

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                batch, self._queue = self._queue, []  # all of it: no vote waits more than one batch behind
                live = [job for job in batch if not job.future.done()]
                if live:
                    # Shielded: a cancelled writer (a cancelled close) still answers every vote it applied.
                    await asyncio.shield(self._commit(live))
            if self._closing:
                return

    async def _commit(self, batch: list[_Job]) -> None:
        try:
            results = await self._apply(batch)
        except _VOTE_ERRORS as exc:
            if len(batch) == 1:
                _fail(batch, exc)
                return
            log.warning("a vote batch of %d failed on a vote's data (%s); replaying one vote per transaction",
                        len(batch), type(exc).__name__)
            self.stats.replays += 1
            for job in batch:
                await self._commit([job])
            return
        except Exception as exc:  # the batch is lost as a whole: every caller hears it, none is acknowledged
            if isinstance(exc, asyncpg.InternalClientError):
                # A pooled connection the server ended while it sat idle is found in this state (the
                # error arrived with no query to answer): it is a lost connection, so say so.
                lost = asyncpg.InterfaceError(f"the connection was lost: {exc}")
                lost.__cause__ = exc
                exc = lost
            log.error("a vote batch of %d failed, none applied: %s", len(batch), type(exc).__name__)
            _fail(batch, exc)
            return
        self.stats.batches += 1
        self.stats.votes += len(results)
        self.stats.largest_batch = max(self.stats.largest_batch, len(results))
        for job, outcome in results:
            if not job.future.done():
                job.future.set_result(outcome)

    async def _apply(self, batch: list[_Job]) -> list[tuple[_Job, VoteOutcome]]:
        async with self._acquire() as conn, conn.transaction():
            reqs = [job.req for job in batch]
            polls = await conn.fetch(_POLLS, sorted({r.poll_id for r in reqs}))
            windows = {int(r[0]): PollWindow(r[1], r[2]) for r in polls}
            keys = sorted({(r.poll_id, r.voter_key) for r in reqs
                           if r.poll_id in windows and windows[r.poll_id].accepts(r.at)})
            existing: dict[tuple[int, str], VoteRow] = {}
            reasons: dict[tuple[int, str], str] = {}
            if keys:
                locks = sorted({vote_lock_keys(p, v) for p, v in keys})
                await conn.execute(_LOCK_KEYS, [a for a, _ in locks], [b for _, b in locks])
                for r in await conn.fetch(_READ_ROWS, [p for p, _ in keys], [v for _, v in keys]):
                    existing[(int(r[0]), r[1])] = VoteRow(r[2], r[3], r[4])
                    if r[5] is not None:
                        reasons[(int(r[0]), r[1])] = r[5]
            # Callers that gave up while the locks were awaited are left out (nothing of theirs is written).
            batch = [job for job in batch if not job.future.done()]
            plan = plan_votes([job.req for job in batch], windows, existing, reasons)
            if plan.rows:
                await conn.executemany(_UPSERT, [(p, v, row.option_id, row.first_option_id, row.updated_at,
                                                  row.cast_at) for (p, v), row in sorted(plan.rows.items())])
            if plan.events:
                await conn.executemany(_EVENT, plan.events)
            deltas = [(*key, n) for key, n in sorted(plan.tally_deltas.items()) if n]
            if deltas:
                await conn.executemany(_TALLY, deltas)
        return list(zip(batch, plan.outcomes, strict=True))


def _fail(batch: list[_Job], exc: Exception) -> None:
    # The store's wrapper turns a driver error into StoreError, in the words of the call that was made.
    for job in batch:
        if not job.future.done():
            job.future.set_exception(exc)
