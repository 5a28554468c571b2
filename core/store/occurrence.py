"""What the store knows about one scheduled occurrence, as the scheduler reads it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class OccurrenceState(StrEnum):
    """Where one (schedule, local date) stands; the values are what both engines store."""

    CLAIMED = "claimed"  # a process holds (or held, if its lease ran out) the right to post it
    POSTED = "posted"
    SKIPPED = "skipped"  # missed, or given up after refused posts


@dataclass(frozen=True)
class OccurrenceInfo:
    state: OccurrenceState
    poll_id: int | None
    lease_until: datetime | None  # the claim's lease, or while backing off, the next try
    failures: int  # posts the platform refused


@dataclass(frozen=True)
class OutcomeClaim:
    """The right to post one poll's outcome until the lease runs out; `attempt` counts from 1."""

    poll_id: int
    attempt: int
