"""Row conversions and small SQL pieces shared by the PostgreSQL store's modules."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Literal

import asyncpg

from core.models import Poll

POLL_COLUMNS = (
    "id, space_id, channel_id, prompt_id, opened_at, closes_at, closed_at, message_ref, platform, "
    "min_votes, results_live, abandoned_at"
)
NOTICE_TEXT_MAX = 500

LeaseClock = Literal["database", "caller"]


def aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the store; use aware UTC")
    return value.astimezone(UTC)


def poll_from_row(row: asyncpg.Record | Sequence[Any]) -> Poll:
    return Poll(
        id=int(row[0]),
        space_id=row[1],
        channel_id=row[2],
        prompt_id=row[3],
        opened_at=row[4],
        closes_at=row[5],
        closed_at=row[6],
        message_ref=row[7],
        platform=row[8],
        min_votes=row[9],
        results_live=row[10],
        abandoned=row[11] is not None,
    )


def affected(status: str) -> int:
    """Rows an INSERT/UPDATE/DELETE touched, from asyncpg's command status ('UPDATE 3', 'INSERT 0 1')."""
    tail = status.rsplit(" ", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def vote_lock_keys(poll_id: int, voter_key: str) -> tuple[int, int]:
    """The two-int advisory lock key of one (poll, voter); a collision only makes two voters take turns.

    The two-int form lives apart from the one-bigint key the migrations lock, so they never meet.
    """
    digest = hashlib.blake2b(voter_key.encode("utf-8"), digest_size=4).digest()
    return (poll_id % 2**31, int.from_bytes(digest, "big", signed=True))


def lease_sql(clock: LeaseClock, at: int) -> str:
    """The instant leases are compared with: the database's clock, or the caller's `now` as parameter $at.

    "database" (the default) keeps processes whose clocks disagree from stealing each other's leases;
    "caller" exists for simulations that drive the scheduler with a fake clock.
    """
    return "clock_timestamp()" if clock == "database" else f"${at}::timestamptz"


def lease_params(clock: LeaseClock, now: datetime) -> list[Any]:
    return [] if clock == "database" else [aware(now)]
