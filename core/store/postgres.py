"""The PostgreSQL Store: asyncpg with a connection pool, for several bot processes on one database.

Every write returns only after its COMMIT, with synchronous_commit on: an acknowledged vote is on the
server's disk. Votes go through one group-commit writer per store (postgres_batch.py), which applies a
process's queued votes in one transaction and answers them after it; every other write is its own.
Concurrency comes from the pool; correctness between processes comes from the database itself (row
locks, ON CONFLICT, the one-open-poll unique index, advisory locks), never from this process's memory.
"""

from __future__ import annotations

import inspect
import logging
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import asyncpg

from core.models import Poll, Tally, VoteOutcome
from core.store.base import HistoryEntry, PollAlreadyOpen, StoreError
from core.store.postgres_batch import PgVoteWriter
from core.store.postgres_open import (
    cannot_open,
    current_version,
    keep_session,
    migrate,
    parse_url,
    reason_for,
    surfacing_store_errors,
)
from core.store.postgres_reasons import CLOSED_BEFORE, PgReasonQueries, forget_reasons, purge_reasons
from core.store.postgres_refresh import PgRefreshQueries
from core.store.postgres_rows import POLL_COLUMNS, LeaseClock, affected, aware, poll_from_row
from core.store.postgres_schedules import PgScheduleQueries
from core.store.postgres_spaces import PgSpaceQueries
from core.store.postgres_votes import apply_tally_deltas
from core.store.vote_plan import VoteRequest

__all__ = ["PostgresStore"]

log = logging.getLogger(__name__)

_VISIBLE = "abandoned_at IS NULL"  # abandoned polls (post refused) appear in no listing


class PostgresStore(PgScheduleQueries, PgSpaceQueries, PgRefreshQueries, PgReasonQueries):
    """PostgreSQL behind the Store contract.

    `connect_timeout` bounds each connection attempt (so a wrong host fails in seconds); `lock_timeout`
    bounds how long one statement waits for a row lock another process holds before it fails with
    StoreError. `lease_clock` is what claim leases are compared with: see postgres_rows.lease_sql.
    """

    def __init__(
        self,
        dsn: str,
        *,
        pool_min: int = 1,
        pool_max: int = 10,
        connect_timeout: float = 5.0,
        lock_timeout: float = 10.0,
        lease_clock: LeaseClock = "database",
    ) -> None:
        if lease_clock not in ("database", "caller"):
            raise ValueError("lease_clock must be 'database' or 'caller'")
        self.target = parse_url(dsn)
        self.pool_min = pool_min
        self.pool_max = max(pool_max, pool_min)
        self.connect_timeout = connect_timeout
        self.lock_timeout = lock_timeout
        self.lease_clock: LeaseClock = lease_clock
        self._pool: asyncpg.Pool | None = None
        self._writer: PgVoteWriter | None = None

    # -- lifecycle ------------------------------------------------------------------------------

    async def open(self) -> None:
        if self._pool is not None:
            raise StoreError("the store is already open")
        t = self.target
        try:
            pool = await asyncpg.create_pool(
                host=t.host, port=t.port, user=t.user, password=t.password, database=t.database,
                min_size=self.pool_min, max_size=self.pool_max, timeout=self.connect_timeout, reset=keep_session,
                server_settings={
                    "application_name": "counterpoint",
                    # an acknowledged write is on disk, whatever the server's default says
                    "synchronous_commit": "on",
                    "lock_timeout": f"{int(self.lock_timeout * 1000)}ms",
                },
            )
        except Exception as exc:
            raise cannot_open(t, reason_for(exc, t)) from None
        try:
            async with pool.acquire(timeout=self.connect_timeout) as conn:
                await migrate(conn, t)
        except BaseException as exc:
            await pool.close()
            if isinstance(exc, StoreError) or not isinstance(exc, Exception):
                raise
            raise cannot_open(t, reason_for(exc, t)) from exc
        self._pool = pool
        self._writer = PgVoteWriter(pool.acquire)
        self._writer.start()

    async def close(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            await writer.stop()  # the votes queued so far are applied and answered first
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()  # waits for the connections in use to be released: running writes finish

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise StoreError("the store is not open")
        return self._pool

    @asynccontextmanager
    async def _tx(self) -> AsyncIterator[asyncpg.Connection]:
        async with self.pool.acquire() as conn, conn.transaction():
            yield conn

    async def schema_version(self) -> int:
        async with self.pool.acquire() as conn:
            return await current_version(conn)

    # -- meta -----------------------------------------------------------------------------------

    async def get_or_create_meta(self, key: str, value: str) -> str:
        async with self._tx() as conn:
            await conn.execute("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT DO NOTHING", key, value)
            return str(await conn.fetchval("SELECT value FROM meta WHERE key = $1", key))

    async def get_meta(self, key: str) -> str | None:
        value = await self.pool.fetchval("SELECT value FROM meta WHERE key = $1", key)
        return None if value is None else str(value)

    async def set_meta(self, key: str, value: str) -> None:
        await self.pool.execute(
            "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            key, value,
        )

    # -- polls ----------------------------------------------------------------------------------

    async def create_poll(
        self,
        space_id: str,
        channel_id: str,
        prompt_id: str,
        opened_at: datetime,
        closes_at: datetime | None,
        platform: str = "",
        min_votes: int | None = None,
        results_live: bool | None = None,
    ) -> Poll:
        open_here = "space_id = $1 AND channel_id = $2 AND closed_at IS NULL"
        async with self._tx() as conn:
            # A poll whose time is up is closed now, so it does not hold the channel's one open slot.
            await conn.execute(f"UPDATE polls SET closed_at = closes_at WHERE {open_here} AND closes_at <= $3",
                               space_id, channel_id, aware(opened_at))
            try:
                async with conn.transaction():  # a savepoint: the unique violation must not end the transaction
                    row = await conn.fetchrow(
                        "INSERT INTO polls (space_id, channel_id, prompt_id, opened_at, closes_at, platform, "
                        f"min_votes, results_live) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {POLL_COLUMNS}",
                        space_id, channel_id, prompt_id, aware(opened_at),
                        None if closes_at is None else aware(closes_at), platform, min_votes, results_live,
                    )
            except asyncpg.UniqueViolationError:
                # polls_one_open_per_channel decided (a concurrent open waited for the other to commit).
                held = await conn.fetchrow(f"SELECT {POLL_COLUMNS} FROM polls WHERE {open_here}", space_id, channel_id)
                if held is None:
                    raise
                raise PollAlreadyOpen(poll_from_row(held)) from None
            return poll_from_row(row)

    async def abandon_poll(self, poll_id: int, at: datetime) -> None:
        async with self._tx() as conn:
            await conn.execute(
                "UPDATE polls SET closed_at = COALESCE(closed_at, $1), abandoned_at = COALESCE(abandoned_at, $1) "
                "WHERE id = $2",
                aware(at), poll_id,
            )
            for table in ("reasons", "reason_counts", "votes", "vote_events", "tallies"):  # reasons: marks too
                await conn.execute(f"DELETE FROM {table} WHERE poll_id = $1", poll_id)

    async def get_poll(self, poll_id: int) -> Poll | None:
        row = await self.pool.fetchrow(f"SELECT {POLL_COLUMNS} FROM polls WHERE id = $1", poll_id)
        return poll_from_row(row) if row else None

    async def set_poll_message(self, poll_id: int, message_ref: str) -> None:
        await self.pool.execute("UPDATE polls SET message_ref = $1 WHERE id = $2", message_ref, poll_id)

    async def close_poll(self, poll_id: int, at: datetime) -> bool:
        # Waits for votes in flight on the poll (they hold it FOR SHARE): a vote is wholly before the close.
        row = await self.pool.fetchval(
            "UPDATE polls SET closed_at = $1 WHERE id = $2 AND closed_at IS NULL RETURNING id", aware(at), poll_id
        )
        return row is not None

    async def _polls(self, where: str, params: tuple, suffix: str = "") -> list[Poll]:
        rows = await self.pool.fetch(f"SELECT {POLL_COLUMNS} FROM polls WHERE {_VISIBLE} AND {where} {suffix}", *params)
        return [poll_from_row(r) for r in rows]

    async def open_polls(self, space_id: str, channel_id: str | None = None) -> list[Poll]:
        if channel_id is None:
            return await self._polls("space_id = $1 AND closed_at IS NULL", (space_id,), "ORDER BY id DESC")
        return await self._polls(
            "space_id = $1 AND channel_id = $2 AND closed_at IS NULL", (space_id, channel_id), "ORDER BY id DESC"
        )

    async def recent_polls(self, space_id: str, channel_id: str | None = None, limit: int = 25) -> list[Poll]:
        if channel_id is None:
            return await self._polls("space_id = $1", (space_id,), f"ORDER BY id DESC LIMIT {int(limit)}")
        return await self._polls(
            "space_id = $1 AND channel_id = $2", (space_id, channel_id), f"ORDER BY id DESC LIMIT {int(limit)}"
        )

    async def polls_due_to_close(self, now: datetime) -> list[Poll]:
        return await self._polls("closed_at IS NULL AND closes_at <= $1", (aware(now),), "ORDER BY closes_at")

    async def used_prompt_ids(self, space_id: str, channel_id: str) -> list[str]:
        rows = await self.pool.fetch(
            f"SELECT prompt_id FROM polls WHERE {_VISIBLE} AND space_id = $1 AND channel_id = $2 ORDER BY id",
            space_id, channel_id,
        )
        return [r[0] for r in rows]

    # -- votes ----------------------------------------------------------------------------------

    async def record_vote(self, poll_id: int, voter_key: str, option_id: str, at: datetime) -> VoteOutcome:
        return await self._vote(VoteRequest(poll_id, voter_key, option_id, aware(at)))

    async def retract_vote(self, poll_id: int, voter_key: str, at: datetime) -> VoteOutcome:
        return await self._vote(VoteRequest(poll_id, voter_key, None, aware(at)))

    async def _vote(self, req: VoteRequest) -> VoteOutcome:
        """Queued for the store's group-commit writer (core/store/postgres_batch.py); answered after COMMIT.
        One writer per process keeps a member's votes from this process in the order they were asked for;
        across processes the database orders them (row and advisory locks)."""
        if self._writer is None:
            raise StoreError("the store is not open")
        return await self._writer.vote(req)

    async def current_vote(self, poll_id: int, voter_key: str) -> str | None:
        return await self.pool.fetchval(
            "SELECT option_id FROM votes WHERE poll_id = $1 AND voter_key = $2", poll_id, voter_key
        )

    async def tally(self, poll_id: int) -> Tally:
        rows = await self.pool.fetch(
            "SELECT first_option_id, option_id, n FROM tallies WHERE poll_id = $1 AND n > 0", poll_id
        )
        return Tally(poll_id, {(r[0], r[1]): r[2] for r in rows})

    async def history(self, poll_id: int, voter_key: str) -> list[HistoryEntry]:
        # The first vote from the row (cast_at, migration 009), ahead of the events (ids start at 1).
        rows = await self.pool.fetch(
            "SELECT kind, option_id, at FROM (SELECT 0 AS seq, 'cast' AS kind, first_option_id AS option_id, "
            "cast_at AS at FROM votes WHERE poll_id = $1 AND voter_key = $2 AND cast_at IS NOT NULL UNION ALL "
            "SELECT id, kind, option_id, at FROM vote_events WHERE poll_id = $1 AND voter_key = $2) AS h "
            "ORDER BY seq",
            poll_id, voter_key,
        )
        return [HistoryEntry(r[0], r[1], r[2]) for r in rows]

    async def stance(self, space_id: str, voter_key: str) -> list[tuple[Poll, str]]:
        cols = ", ".join(f"p.{c.strip()}" for c in POLL_COLUMNS.split(","))
        rows = await self.pool.fetch(
            f"SELECT {cols}, v.option_id FROM votes v JOIN polls p ON p.id = v.poll_id "
            "WHERE v.voter_key = $1 AND p.space_id = $2 AND p.abandoned_at IS NULL AND v.option_id IS NOT NULL "
            "ORDER BY p.id DESC",
            voter_key, space_id,
        )
        return [(poll_from_row(r), r[-1]) for r in rows]

    async def forget_member(self, space_id: str, voter_key: str) -> int:
        async with self._tx() as conn:
            # Open polls held FOR SHARE: none closes half-way through, so each vote is counted out or kept.
            open_ids = {r[0] for r in await conn.fetch(
                "SELECT id FROM polls WHERE space_id = $1 AND closed_at IS NULL ORDER BY id FOR SHARE", space_id
            )}
            rows = await conn.fetch(
                "SELECT v.poll_id, v.first_option_id, v.option_id FROM votes v JOIN polls p ON p.id = v.poll_id "
                "WHERE v.voter_key = $1 AND p.space_id = $2 ORDER BY v.poll_id FOR UPDATE OF v",
                voter_key, space_id,
            )
            # Only open polls drop the vote (as a retract would). A closed poll's final counts stay:
            # changing them would tell anyone comparing results before and after how this member voted.
            held = Counter((r[0], r[1], r[2]) for r in rows if r[2] is not None and r[0] in open_ids)
            await apply_tally_deltas(conn, Counter({key: -n for key, n in held.items()}))
            in_space, reasons = "poll_id IN (SELECT id FROM polls WHERE space_id = $2)", await forget_reasons(
                conn, space_id, voter_key)  # before the votes it reads
            votes = await conn.execute(f"DELETE FROM votes WHERE voter_key = $1 AND {in_space}", voter_key, space_id)
            events = await conn.execute(
                f"DELETE FROM vote_events WHERE voter_key = $1 AND {in_space}", voter_key, space_id
            )
            return affected(votes) + affected(events) + reasons

    async def purge_votes_closed_before(self, cutoff: datetime) -> int:
        async with self._tx() as conn:
            reasons, closed = await purge_reasons(conn, cutoff), CLOSED_BEFORE  # reasons first: they read the votes
            votes = await conn.execute(f"DELETE FROM votes WHERE {closed}", aware(cutoff))
            events = await conn.execute(f"DELETE FROM vote_events WHERE {closed}", aware(cutoff))
            await conn.execute(
                "UPDATE polls SET purged_at = $1 WHERE closed_at < $2 AND purged_at IS NULL",
                datetime.now(UTC), aware(cutoff),
            )
            return affected(votes) + affected(events) + reasons

    # -- export ---------------------------------------------------------------------------------

    async def polls_with_tallies(self, space_id: str) -> list[tuple[Poll, Tally]]:
        async with self.pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
            # One snapshot for both reads, so the counts belong to exactly the polls listed.
            rows = await conn.fetch(f"SELECT {POLL_COLUMNS} FROM polls WHERE {_VISIBLE} AND space_id = $1 "
                                    "ORDER BY id", space_id)
            counts = await conn.fetch(
                "SELECT t.poll_id, t.first_option_id, t.option_id, t.n FROM tallies t "
                "JOIN polls p ON p.id = t.poll_id WHERE p.space_id = $1 AND p.abandoned_at IS NULL AND t.n > 0",
                space_id,
            )
        pairs: dict[int, dict[tuple[str, str], int]] = {}
        for poll_id, first, current, n in counts:
            pairs.setdefault(poll_id, {})[(first, current)] = n
        polls = [poll_from_row(r) for r in rows]
        return [(p, Tally(p.id, pairs.get(p.id, {}))) for p in polls]


# Every public coroutine, the scheduler's and spaces' queries included, reports driver failures
# (asyncpg errors, a lost connection, OSError, time-outs) as StoreError; open() words its own.
for _name, _method in inspect.getmembers(PostgresStore, inspect.iscoroutinefunction):
    if not _name.startswith("_") and _name != "open":
        setattr(PostgresStore, _name, surfacing_store_errors(_name, _method))
