"""The scheduler's part of the SQLite store: schedules, occurrence claims and outcome claims.

Every claim is a single conditional write inside the group-commit writer's BEGIN IMMEDIATE
transaction, so two processes sharing one database can never both win the same occurrence.
A refused post keeps its claim row: `lease_until` becomes the next try and `failures` counts up
until the scheduler gives the occurrence up (skipped, with one admin notice).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

import aiosqlite

from core.models import Claim, Poll, Schedule
from core.store.base import StoreError
from core.store.occurrence import OccurrenceInfo, OccurrenceState, OutcomeClaim
from core.store.sqlite_notices import NoticeQueries, insert_notice
from core.store.sqlite_rows import POLL_COLUMNS, dt, insert_poll, poll_from_row, read_all, ts

if TYPE_CHECKING:
    pass

# The states as stored (constants, so interpolating them into SQL is safe).
_CLAIMED, _POSTED, _SKIPPED = (f"'{s.value}'" for s in OccurrenceState)

_SCHEDULE_COLUMNS = (
    "space_id, channel_id, platform, time_of_day, timezone, weekdays, duration_minutes, deck_order, "
    "shuffle_seed, enabled, since, done_through, next_due_at"
)


def _schedule(row: tuple) -> Schedule:
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
        since=datetime.fromisoformat(row[10]),
        done_through=date.fromisoformat(row[11]) if row[11] else None,
        next_due_at=datetime.fromisoformat(row[12]) if row[12] else None,
    )


async def _advance_done_through(conn: aiosqlite.Connection, space_id: str, channel_id: str, day: date) -> None:
    await conn.execute(
        "UPDATE schedules SET done_through = ? WHERE space_id = ? AND channel_id = ? "
        "AND (done_through IS NULL OR done_through < ?)",
        (day.isoformat(), space_id, channel_id, day.isoformat()),
    )


class ScheduleQueries(NoticeQueries):
    # `writer` and `reader` come from NoticeQueries' declarations, provided by SqliteStore.

    async def save_schedule(self, schedule: Schedule) -> None:
        async def op(conn: aiosqlite.Connection) -> None:
            await conn.execute(
                f"INSERT INTO schedules ({_SCHEDULE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (space_id, channel_id) DO UPDATE SET platform = excluded.platform, "
                "time_of_day = excluded.time_of_day, timezone = excluded.timezone, weekdays = excluded.weekdays, "
                "duration_minutes = excluded.duration_minutes, deck_order = excluded.deck_order, "
                "shuffle_seed = excluded.shuffle_seed, enabled = excluded.enabled, since = excluded.since, "
                "next_due_at = excluded.next_due_at, "
                # a changed schedule keeps its watermark, so a date already posted is never posted again
                "done_through = COALESCE(schedules.done_through, excluded.done_through)",
                (
                    schedule.space_id, schedule.channel_id, schedule.platform, schedule.at.strftime("%H:%M"),
                    schedule.timezone, ",".join(str(d) for d in sorted(schedule.weekdays)),
                    int(schedule.duration.total_seconds() // 60), schedule.deck_order, schedule.shuffle_seed,
                    int(schedule.enabled), ts(schedule.since),
                    schedule.done_through.isoformat() if schedule.done_through else None,
                    ts(schedule.next_due_at) if schedule.next_due_at else None,
                ),
            )

        await self.writer.run(op)

    async def get_schedule(self, space_id: str, channel_id: str) -> Schedule | None:
        rows = await read_all(
            self.reader,
            f"SELECT {_SCHEDULE_COLUMNS} FROM schedules WHERE space_id = ? AND channel_id = ?", (space_id, channel_id)
        )
        return _schedule(tuple(rows[0])) if rows else None

    async def due_schedules(self, now: datetime) -> list[Schedule]:
        """Enabled schedules whose next due instant has come (or was never computed)."""
        rows = await read_all(
            self.reader,
            f"SELECT {_SCHEDULE_COLUMNS} FROM schedules WHERE enabled = 1 "
            "AND (next_due_at IS NULL OR next_due_at <= ?)",
            (ts(now),),
        )
        return [_schedule(tuple(r)) for r in rows]

    async def set_next_due(self, schedule: Schedule, next_due_at: datetime) -> None:
        async def op(conn: aiosqlite.Connection) -> None:
            # Only move forward from what this tick saw: a schedule changed meanwhile keeps its own value.
            await conn.execute(
                "UPDATE schedules SET next_due_at = ? WHERE space_id = ? AND channel_id = ? AND since = ?",
                (ts(next_due_at), schedule.space_id, schedule.channel_id, ts(schedule.since)),
            )

        await self.writer.run(op)

    async def occurrence_state(self, schedule: Schedule, local_date: date) -> OccurrenceState | None:
        rows = await read_all(
            self.reader,
            "SELECT state FROM occurrences WHERE space_id = ? AND channel_id = ? AND local_date = ?",
            (schedule.space_id, schedule.channel_id, local_date.isoformat()),
        )
        return OccurrenceState(rows[0][0]) if rows else None

    async def claim_occurrence(
        self, schedule: Schedule, local_date: date, due_at: datetime, holder: str, now: datetime, lease: timedelta
    ) -> Claim | None:
        """Win the right to post (schedule, local_date), or None if it is posted, skipped or held."""

        async def op(conn: aiosqlite.Connection) -> Claim | None:
            key = (schedule.space_id, schedule.channel_id, local_date.isoformat())
            cur = await conn.execute(
                "INSERT INTO occurrences (space_id, channel_id, local_date, due_at, state, holder, lease_until, "
                f"attempts) VALUES (?, ?, ?, ?, {_CLAIMED}, ?, ?, 1) "
                "ON CONFLICT (space_id, channel_id, local_date) DO UPDATE SET holder = excluded.holder, "
                "lease_until = excluded.lease_until, attempts = occurrences.attempts + 1 "
                f"WHERE occurrences.state = {_CLAIMED} AND occurrences.lease_until <= ?",
                (*key, ts(due_at), holder, ts(now + lease), ts(now)),
            )
            if cur.rowcount != 1:
                return None
            cur = await conn.execute(
                "SELECT attempts, poll_id FROM occurrences WHERE space_id = ? AND channel_id = ? AND local_date = ?",
                key,
            )
            row = await cur.fetchone()
            return Claim(local_date, int(row[0]), row[1])  # type: ignore[index]

        return await self.writer.run(op)

    async def occurrence_info(self, schedule: Schedule, local_date: date) -> OccurrenceInfo | None:
        rows = await read_all(
            self.reader,
            "SELECT state, poll_id, lease_until, failures FROM occurrences "
            "WHERE space_id = ? AND channel_id = ? AND local_date = ?",
            (schedule.space_id, schedule.channel_id, local_date.isoformat()),
        )
        row = rows[0] if rows else None
        return OccurrenceInfo(OccurrenceState(row[0]), row[1], dt(row[2]), int(row[3])) if row else None

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
        """The occurrence's poll, created with it in one transaction; True when it was created now.

        Creating it closes the channel's previous poll (a new scheduled question replaces it), at its
        own closing time if that came first; `min_votes`/`results_live` snapshot the channel's settings.
        """

        async def op(conn: aiosqlite.Connection) -> tuple[Poll, bool]:
            key = (schedule.space_id, schedule.channel_id, local_date.isoformat())
            cur = await conn.execute(
                "SELECT poll_id FROM occurrences WHERE space_id = ? AND channel_id = ? AND local_date = ?", key
            )
            row = await cur.fetchone()
            if row is not None and row[0] is not None:
                return await poll_row(conn, int(row[0])), False
            opened = ts(opened_at)
            await conn.execute(
                "UPDATE polls SET closed_at = CASE WHEN closes_at IS NOT NULL AND closes_at < ? THEN closes_at "
                "ELSE ? END WHERE space_id = ? AND channel_id = ? AND closed_at IS NULL",
                (opened, opened, schedule.space_id, schedule.channel_id),
            )
            poll_id = await insert_poll(conn, schedule.space_id, schedule.channel_id, prompt_id, opened_at,
                                        closes_at, schedule.platform, min_votes=min_votes, results_live=results_live)
            await conn.execute(
                "UPDATE occurrences SET poll_id = ? WHERE space_id = ? AND channel_id = ? AND local_date = ?",
                (poll_id, *key),
            )
            return await poll_row(conn, poll_id), True

        # Read inside the write: the poll is the one this transaction bound, whatever the reader sees.
        result: tuple[Poll, bool] = await self.writer.run(op)
        return result

    async def fail_occurrence(self, schedule: Schedule, local_date: date, holder: str, retry_at: datetime) -> bool:
        """Count a refused post and hold the claim until `retry_at`; False if `holder` lost the claim."""

        async def op(conn: aiosqlite.Connection) -> bool:
            cur = await conn.execute(
                "UPDATE occurrences SET failures = failures + 1, lease_until = ? "
                f"WHERE space_id = ? AND channel_id = ? AND local_date = ? AND state = {_CLAIMED} AND holder = ?",
                (ts(retry_at), schedule.space_id, schedule.channel_id, local_date.isoformat(), holder),
            )
            return cur.rowcount == 1

        return await self.writer.run(op)

    async def give_up_occurrence(
        self, schedule: Schedule, local_date: date, holder: str | None, now: datetime, notice: str | None
    ) -> bool:
        """Mark a claimed occurrence skipped (held by `holder`, or by nobody live), adding `notice` once.

        False when it was not claimed that way: posted, skipped already, or held by a live process.
        """

        async def op(conn: aiosqlite.Connection) -> bool:
            cur = await conn.execute(
                f"UPDATE occurrences SET state = {_SKIPPED}, holder = NULL, lease_until = NULL "
                f"WHERE space_id = ? AND channel_id = ? AND local_date = ? AND state = {_CLAIMED} "
                "AND (holder = ? OR lease_until <= ?)",
                (schedule.space_id, schedule.channel_id, local_date.isoformat(), holder, ts(now)),
            )
            if cur.rowcount != 1:
                return False
            if notice:
                await insert_notice(conn, schedule.space_id, schedule.channel_id, notice, now)
            await _advance_done_through(conn, schedule.space_id, schedule.channel_id, local_date)
            return True

        return await self.writer.run(op)

    async def finish_occurrence(self, schedule: Schedule, local_date: date) -> None:
        async def op(conn: aiosqlite.Connection) -> None:
            await conn.execute(
                f"UPDATE occurrences SET state = {_POSTED}, lease_until = NULL "
                "WHERE space_id = ? AND channel_id = ? AND local_date = ?",
                (schedule.space_id, schedule.channel_id, local_date.isoformat()),
            )
            await _advance_done_through(conn, schedule.space_id, schedule.channel_id, local_date)

        await self.writer.run(op)

    async def skip_occurrence(self, schedule: Schedule, local_date: date, due_at: datetime) -> bool:
        """Record a missed occurrence as skipped; False if it had already been claimed or recorded."""

        async def op(conn: aiosqlite.Connection) -> bool:
            cur = await conn.execute(
                "INSERT INTO occurrences (space_id, channel_id, local_date, due_at, state) "
                f"VALUES (?, ?, ?, ?, {_SKIPPED}) ON CONFLICT DO NOTHING",
                (schedule.space_id, schedule.channel_id, local_date.isoformat(), ts(due_at)),
            )
            await _advance_done_through(conn, schedule.space_id, schedule.channel_id, local_date)
            return cur.rowcount == 1

        return await self.writer.run(op)

    async def pause_schedule(self, space_id: str, channel_id: str, notice: str, at: datetime) -> bool:
        """Turn a channel's schedule off with a notice, in one write; False if it was already off."""

        async def op(conn: aiosqlite.Connection) -> bool:
            cur = await conn.execute(
                "UPDATE schedules SET enabled = 0 WHERE space_id = ? AND channel_id = ? AND enabled = 1",
                (space_id, channel_id),
            )
            if cur.rowcount == 1:
                await insert_notice(conn, space_id, channel_id, notice, at)
            return cur.rowcount == 1

        return await self.writer.run(op)

    async def occurrence_states(
        self, space_id: str, channel_id: str
    ) -> dict[date, tuple[OccurrenceState, int | None]]:
        rows = await read_all(
            self.reader,
            "SELECT local_date, state, poll_id FROM occurrences WHERE space_id = ? AND channel_id = ?",
            (space_id, channel_id),
        )
        return {date.fromisoformat(r[0]): (OccurrenceState(r[1]), r[2]) for r in rows}

    async def polls_awaiting_outcome(self, now: datetime | None = None) -> list[Poll]:
        """Closed, posted polls whose outcome is still to post: never abandoned ones or given-up ones.

        With `now`, polls whose outcome is claimed or backing off until later are left out.
        """
        lease = "" if now is None else "AND (outcome_lease_until IS NULL OR outcome_lease_until <= ?) "
        rows = await read_all(
            self.reader,
            f"SELECT {POLL_COLUMNS} FROM polls WHERE closed_at IS NOT NULL AND outcome_posted_at IS NULL "
            "AND outcome_given_up_at IS NULL AND abandoned_at IS NULL "
            f"AND platform != '' AND message_ref IS NOT NULL {lease}ORDER BY closed_at",
            () if now is None else (ts(now),),
        )
        return [poll_from_row(tuple(r)) for r in rows]

    async def claim_outcome(self, poll_id: int, now: datetime, lease: timedelta) -> OutcomeClaim | None:
        """Win the right to post the outcome until `now + lease`; None if posted, given up or held."""

        async def op(conn: aiosqlite.Connection) -> OutcomeClaim | None:
            cur = await conn.execute(
                "UPDATE polls SET outcome_lease_until = ?, outcome_attempts = outcome_attempts + 1 "
                "WHERE id = ? AND outcome_posted_at IS NULL AND outcome_given_up_at IS NULL "
                "AND (outcome_lease_until IS NULL OR outcome_lease_until <= ?) RETURNING outcome_attempts",
                (ts(now + lease), poll_id, ts(now)),
            )
            row = await cur.fetchone()
            await cur.close()
            return OutcomeClaim(poll_id, int(row[0])) if row else None

        return await self.writer.run(op)

    async def fail_outcome(self, poll_id: int, now: datetime, retry_at: datetime | None) -> None:
        """A failed outcome attempt: try again from `retry_at`, or with None, never again."""

        async def op(conn: aiosqlite.Connection) -> None:
            if retry_at is None:
                await conn.execute(
                    "UPDATE polls SET outcome_given_up_at = ?, outcome_lease_until = NULL "
                    "WHERE id = ? AND outcome_posted_at IS NULL",
                    (ts(now), poll_id),
                )
            else:
                await conn.execute(
                    "UPDATE polls SET outcome_lease_until = ? WHERE id = ? AND outcome_posted_at IS NULL",
                    (ts(retry_at), poll_id),
                )

        await self.writer.run(op)

    async def mark_outcome_posted(self, poll_id: int, at: datetime) -> None:
        async def op(conn: aiosqlite.Connection) -> None:
            await conn.execute("UPDATE polls SET outcome_posted_at = ? WHERE id = ?", (ts(at), poll_id))

        await self.writer.run(op)


async def poll_row(conn: aiosqlite.Connection, poll_id: int) -> Poll:
    cur = await conn.execute(f"SELECT {POLL_COLUMNS} FROM polls WHERE id = ?", (poll_id,))
    row = await cur.fetchone()
    await cur.close()
    if row is None:
        raise StoreError(f"poll {poll_id} vanished inside its own transaction")
    return poll_from_row(tuple(row))
