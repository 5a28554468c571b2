"""The scheduler's part of the PostgreSQL store: schedules, occurrence and outcome claims, notices.

A claim is one INSERT ... ON CONFLICT DO UPDATE ... WHERE (or one conditional UPDATE): PostgreSQL
locks the row and re-checks the condition on its newest version, so of several processes exactly one
wins. Leases are compared with the database's clock (clock_timestamp()), not the caller's: processes
on hosts whose clocks disagree still agree on whether a lease ran out. The `now` arguments keep their
other jobs (the instants recorded, when a poll or outcome is due), so tests can drive those with a fake
clock; a simulation whose fake clock must also expire leases opens the store with lease_clock="caller".
A back-off's next try (`retry_at`) is stored as given: it only delays one occurrence or outcome.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from datetime import date, datetime, time, timedelta
from typing import Any

import asyncpg

from core.models import Claim, Notice, Poll, Schedule
from core.store.occurrence import OccurrenceInfo, OccurrenceState, OutcomeClaim
from core.store.postgres_rows import (
    NOTICE_TEXT_MAX,
    POLL_COLUMNS,
    LeaseClock,
    affected,
    aware,
    lease_params,
    lease_sql,
    poll_from_row,
)

_SCHEDULE_COLUMNS = (
    "space_id, channel_id, platform, time_of_day, timezone, weekdays, duration_minutes, deck_order, "
    "shuffle_seed, enabled, since, done_through, next_due_at"
)
_CLAIMED, _POSTED, _SKIPPED = (f"'{s.value}'" for s in OccurrenceState)
_OCCURRENCE = "space_id = $1 AND channel_id = $2 AND local_date = $3"


def _schedule(row: asyncpg.Record) -> Schedule:
    return Schedule(
        space_id=row[0],
        channel_id=row[1],
        platform=row[2],
        at=time.fromisoformat(row[3]),
        timezone=row[4],
        weekdays=frozenset(int(d) for d in row[5].split(",") if d),
        duration=timedelta(minutes=row[6]),
        deck_order=row[7],
        shuffle_seed=row[8],
        enabled=bool(row[9]),
        since=row[10],
        done_through=row[11],
        next_due_at=row[12],
    )


async def insert_notice(conn: asyncpg.Connection, space_id: str, channel_id: str, text: str, at: datetime) -> None:
    """Add a notice inside the caller's transaction (so it is recorded exactly when its cause is)."""
    await conn.execute("INSERT INTO notices (space_id, channel_id, text, at) VALUES ($1, $2, $3, $4)",
                       space_id, channel_id, text[:NOTICE_TEXT_MAX], aware(at))


async def _advance_done_through(conn: asyncpg.Connection, space_id: str, channel_id: str, day: date) -> None:
    await conn.execute(
        "UPDATE schedules SET done_through = $3 WHERE space_id = $1 AND channel_id = $2 "
        "AND (done_through IS NULL OR done_through < $3)",
        space_id, channel_id, day,
    )


class PgBase:
    """What the query mixins need from PostgresStore."""

    lease_clock: LeaseClock

    @property
    def pool(self) -> asyncpg.Pool:
        raise NotImplementedError

    def _tx(self) -> AbstractAsyncContextManager[asyncpg.Connection]:
        raise NotImplementedError


class PgScheduleQueries(PgBase):
    async def save_schedule(self, schedule: Schedule) -> None:
        await self.pool.execute(
            f"INSERT INTO schedules ({_SCHEDULE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, "
            "$13) ON CONFLICT (space_id, channel_id) DO UPDATE SET platform = excluded.platform, "
            "time_of_day = excluded.time_of_day, timezone = excluded.timezone, weekdays = excluded.weekdays, "
            "duration_minutes = excluded.duration_minutes, deck_order = excluded.deck_order, "
            "shuffle_seed = excluded.shuffle_seed, enabled = excluded.enabled, since = excluded.since, "
            "next_due_at = excluded.next_due_at, "
            # a changed schedule keeps its watermark, so a date already posted is never posted again
            "done_through = COALESCE(schedules.done_through, excluded.done_through)",
            schedule.space_id, schedule.channel_id, schedule.platform, schedule.at.strftime("%H:%M"),
            schedule.timezone, ",".join(str(d) for d in sorted(schedule.weekdays)),
            int(schedule.duration.total_seconds() // 60), schedule.deck_order, schedule.shuffle_seed,
            bool(schedule.enabled), aware(schedule.since), schedule.done_through,
            aware(schedule.next_due_at) if schedule.next_due_at else None,
        )

    async def get_schedule(self, space_id: str, channel_id: str) -> Schedule | None:
        row = await self.pool.fetchrow(
            f"SELECT {_SCHEDULE_COLUMNS} FROM schedules WHERE space_id = $1 AND channel_id = $2", space_id, channel_id
        )
        return _schedule(row) if row else None

    async def due_schedules(self, now: datetime) -> list[Schedule]:
        rows = await self.pool.fetch(
            f"SELECT {_SCHEDULE_COLUMNS} FROM schedules WHERE enabled AND (next_due_at IS NULL OR next_due_at <= $1)",
            aware(now),
        )
        return [_schedule(r) for r in rows]

    async def set_next_due(self, schedule: Schedule, next_due_at: datetime) -> None:
        # Only move forward from what this tick saw: a schedule changed meanwhile keeps its own value.
        await self.pool.execute(
            "UPDATE schedules SET next_due_at = $1 WHERE space_id = $2 AND channel_id = $3 AND since = $4",
            aware(next_due_at), schedule.space_id, schedule.channel_id, aware(schedule.since),
        )

    async def occurrence_state(self, schedule: Schedule, local_date: date) -> OccurrenceState | None:
        value = await self.pool.fetchval(f"SELECT state FROM occurrences WHERE {_OCCURRENCE}",
                                         schedule.space_id, schedule.channel_id, local_date)
        return None if value is None else OccurrenceState(value)

    async def claim_occurrence(
        self, schedule: Schedule, local_date: date, due_at: datetime, holder: str, now: datetime, lease: timedelta
    ) -> Claim | None:
        clock = lease_sql(self.lease_clock, 7)
        row = await self.pool.fetchrow(
            "INSERT INTO occurrences (space_id, channel_id, local_date, due_at, state, holder, lease_until, attempts) "
            f"VALUES ($1, $2, $3, $4, {_CLAIMED}, $5, {clock} + $6::interval, 1) "
            "ON CONFLICT (space_id, channel_id, local_date) DO UPDATE SET holder = excluded.holder, "
            "lease_until = excluded.lease_until, attempts = occurrences.attempts + 1 "
            f"WHERE occurrences.state = {_CLAIMED} AND occurrences.lease_until <= {clock} "
            "RETURNING attempts, poll_id",
            schedule.space_id, schedule.channel_id, local_date, aware(due_at), holder, lease,
            *lease_params(self.lease_clock, now),
        )
        return None if row is None else Claim(local_date, int(row[0]), row[1])

    async def occurrence_info(self, schedule: Schedule, local_date: date) -> OccurrenceInfo | None:
        row = await self.pool.fetchrow(
            f"SELECT state, poll_id, lease_until, failures FROM occurrences WHERE {_OCCURRENCE}",
            schedule.space_id, schedule.channel_id, local_date,
        )
        return OccurrenceInfo(OccurrenceState(row[0]), row[1], row[2], int(row[3])) if row else None

    async def bind_occurrence_poll(
        self,
        schedule: Schedule,
        local_date: date,
        prompt_id: str,
        opened_at: datetime,
        closes_at: datetime,
        min_votes: int | None = None,
        results_live: bool | None = None,
    ) -> tuple[Poll, bool]:
        key = (schedule.space_id, schedule.channel_id, local_date)
        async with self._tx() as conn:
            # FOR UPDATE: two processes binding the same occurrence take turns, and the second finds the poll.
            bound = await conn.fetchval(f"SELECT poll_id FROM occurrences WHERE {_OCCURRENCE} FOR UPDATE", *key)
            if bound is not None:
                row = await conn.fetchrow(f"SELECT {POLL_COLUMNS} FROM polls WHERE id = $1", bound)
                return poll_from_row(row), False
            opened = aware(opened_at)
            # A new scheduled question replaces the channel's previous poll (at its own end if that came first).
            await conn.execute(
                "UPDATE polls SET closed_at = CASE WHEN closes_at IS NOT NULL AND closes_at < $1 THEN closes_at "
                "ELSE $1 END WHERE space_id = $2 AND channel_id = $3 AND closed_at IS NULL",
                opened, schedule.space_id, schedule.channel_id,
            )
            row = await conn.fetchrow(
                "INSERT INTO polls (space_id, channel_id, prompt_id, opened_at, closes_at, platform, min_votes, "
                f"results_live) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {POLL_COLUMNS}",
                schedule.space_id, schedule.channel_id, prompt_id, opened, aware(closes_at), schedule.platform,
                min_votes, results_live,
            )
            await conn.execute(f"UPDATE occurrences SET poll_id = $4 WHERE {_OCCURRENCE}", *key, row[0])
            return poll_from_row(row), True

    async def fail_occurrence(self, schedule: Schedule, local_date: date, holder: str, retry_at: datetime) -> bool:
        # The next try is stored as given: it only delays the same occurrence, so a skewed clock shifts a
        # back-off but never lets two processes hold a claim at once (claims still compare on the lease clock).
        status = await self.pool.execute(
            "UPDATE occurrences SET failures = failures + 1, lease_until = $5 "
            f"WHERE {_OCCURRENCE} AND state = {_CLAIMED} AND holder = $4",
            schedule.space_id, schedule.channel_id, local_date, holder, aware(retry_at),
        )
        return affected(status) == 1

    async def give_up_occurrence(
        self, schedule: Schedule, local_date: date, holder: str | None, now: datetime, notice: str | None
    ) -> bool:
        async with self._tx() as conn:
            status = await conn.execute(
                f"UPDATE occurrences SET state = {_SKIPPED}, holder = NULL, lease_until = NULL "
                f"WHERE {_OCCURRENCE} AND state = {_CLAIMED} "
                f"AND (holder = $4::text OR lease_until <= {lease_sql(self.lease_clock, 5)})",
                schedule.space_id, schedule.channel_id, local_date, holder, *lease_params(self.lease_clock, now),
            )
            if affected(status) != 1:
                return False
            if notice:
                await insert_notice(conn, schedule.space_id, schedule.channel_id, notice, now)
            await _advance_done_through(conn, schedule.space_id, schedule.channel_id, local_date)
            return True

    async def finish_occurrence(self, schedule: Schedule, local_date: date) -> None:
        async with self._tx() as conn:
            await conn.execute(f"UPDATE occurrences SET state = {_POSTED}, lease_until = NULL WHERE {_OCCURRENCE}",
                               schedule.space_id, schedule.channel_id, local_date)
            await _advance_done_through(conn, schedule.space_id, schedule.channel_id, local_date)

    async def skip_occurrence(self, schedule: Schedule, local_date: date, due_at: datetime) -> bool:
        async with self._tx() as conn:
            status = await conn.execute(
                "INSERT INTO occurrences (space_id, channel_id, local_date, due_at, state) "
                f"VALUES ($1, $2, $3, $4, {_SKIPPED}) ON CONFLICT DO NOTHING",
                schedule.space_id, schedule.channel_id, local_date, aware(due_at),
            )
            await _advance_done_through(conn, schedule.space_id, schedule.channel_id, local_date)
            return affected(status) == 1

    async def pause_schedule(self, space_id: str, channel_id: str, notice: str, at: datetime) -> bool:
        async with self._tx() as conn:
            status = await conn.execute(
                "UPDATE schedules SET enabled = FALSE WHERE space_id = $1 AND channel_id = $2 AND enabled",
                space_id, channel_id,
            )
            if affected(status) != 1:
                return False
            await insert_notice(conn, space_id, channel_id, notice, at)
            return True

    async def occurrence_states(
        self, space_id: str, channel_id: str
    ) -> dict[date, tuple[OccurrenceState, int | None]]:
        rows = await self.pool.fetch(
            "SELECT local_date, state, poll_id FROM occurrences WHERE space_id = $1 AND channel_id = $2",
            space_id, channel_id,
        )
        return {r[0]: (OccurrenceState(r[1]), r[2]) for r in rows}

    async def polls_awaiting_outcome(self, now: datetime | None = None) -> list[Poll]:
        params: list[Any] = []
        lease = ""
        if now is not None:
            params = lease_params(self.lease_clock, now)
            lease = f"AND (outcome_lease_until IS NULL OR outcome_lease_until <= {lease_sql(self.lease_clock, 1)}) "
        rows = await self.pool.fetch(
            f"SELECT {POLL_COLUMNS} FROM polls WHERE closed_at IS NOT NULL AND outcome_posted_at IS NULL "
            "AND outcome_given_up_at IS NULL AND abandoned_at IS NULL "
            f"AND platform != '' AND message_ref IS NOT NULL {lease}ORDER BY closed_at",
            *params,
        )
        return [poll_from_row(r) for r in rows]

    async def claim_outcome(self, poll_id: int, now: datetime, lease: timedelta) -> OutcomeClaim | None:
        clock = lease_sql(self.lease_clock, 3)
        attempts = await self.pool.fetchval(
            f"UPDATE polls SET outcome_lease_until = {clock} + $2::interval, outcome_attempts = outcome_attempts + 1 "
            "WHERE id = $1 AND outcome_posted_at IS NULL AND outcome_given_up_at IS NULL "
            f"AND (outcome_lease_until IS NULL OR outcome_lease_until <= {clock}) RETURNING outcome_attempts",
            poll_id, lease, *lease_params(self.lease_clock, now),
        )
        return None if attempts is None else OutcomeClaim(poll_id, int(attempts))

    async def fail_outcome(self, poll_id: int, now: datetime, retry_at: datetime | None) -> None:
        if retry_at is None:
            await self.pool.execute(
                "UPDATE polls SET outcome_given_up_at = $1, outcome_lease_until = NULL "
                "WHERE id = $2 AND outcome_posted_at IS NULL",
                aware(now), poll_id,
            )
            return
        # Stored as given, like an occurrence's next try (see fail_occurrence).
        await self.pool.execute(
            "UPDATE polls SET outcome_lease_until = $1 WHERE id = $2 AND outcome_posted_at IS NULL",
            aware(retry_at), poll_id,
        )

    async def mark_outcome_posted(self, poll_id: int, at: datetime) -> None:
        await self.pool.execute("UPDATE polls SET outcome_posted_at = $1 WHERE id = $2", aware(at), poll_id)

    # -- notices for admins ---------------------------------------------------------------------

    async def add_notice(self, space_id: str, channel_id: str, text: str, at: datetime) -> None:
        async with self._tx() as conn:
            await insert_notice(conn, space_id, channel_id, text, at)

    async def notices(self, space_id: str, limit: int = 10) -> list[Notice]:
        rows = await self.pool.fetch(
            "SELECT space_id, channel_id, text, at FROM notices WHERE space_id = $1 ORDER BY id DESC LIMIT $2",
            space_id, int(limit),
        )
        return [Notice(r[0], r[1], r[2], r[3]) for r in rows]

