"""Turn a batch of vote requests into row changes, in memory, so a backend applies them in bulk.

Planning is pure: the backend reads the polls and current rows the batch touches, this module works
out each request's outcome in arrival order (`step`, the rules of one request), and the backend writes
the net result in a few statements inside one transaction; a lone vote may write its one step directly.
Keeping the rules here means every backend, and every path, counts votes alike.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from core.models import VoteKind, VoteOutcome

Key = tuple[int, str]


@dataclass(frozen=True)
class VoteRequest:
    poll_id: int
    voter_key: str
    option_id: str | None  # None retracts
    at: datetime


@dataclass(frozen=True)
class PollWindow:
    closes_at: datetime | None
    closed_at: datetime | None

    def accepts(self, at: datetime) -> bool:
        if self.closed_at is not None:
            return False
        return self.closes_at is None or at < self.closes_at


@dataclass
class VoteRow:
    option_id: str | None
    first_option_id: str
    updated_at: datetime
    # When the member first voted on the poll, for a row this batch creates; a row already stored keeps
    # its own (writes never change it), so a row read back carries None.
    cast_at: datetime | None = None


class Step(NamedTuple):
    """What one request does to its member's row: the outcome, and unless `row` is None (nothing written),
    the row afterwards, the history event's kind and the tally cells it leaves and enters.

    A member's first vote on a poll has no event: the row it creates records it (first_option_id at
    cast_at), and history reads it from there. Most votes are first votes, and an event row cost each
    of them a second table, an index entry and two more pages in its commit (docs/scaling.md)."""

    outcome: VoteOutcome
    row: VoteRow | None = None
    event: str = ""
    down: tuple[str, str] | None = None  # (first option, option) counted one less
    up: tuple[str, str] | None = None  # and one more


def step(req: VoteRequest, window: PollWindow | None, row: VoteRow | None, hint: str | None) -> Step:
    """The rules of one vote or retract, given the poll (None: no such poll) and the member's row as it
    stands (None: never voted). `hint`: the option their reason is on, passed on if the poll accepts."""
    if window is None:
        return Step(VoteOutcome(VoteKind.UNKNOWN_POLL, req.poll_id, req.option_id))
    if not window.accepts(req.at):
        return Step(VoteOutcome(VoteKind.POLL_CLOSED, req.poll_id, req.option_id))
    current = row.option_id if row else None
    if req.option_id is None:
        if row is None or current is None:
            return Step(VoteOutcome(VoteKind.NOTHING_TO_RETRACT, req.poll_id, reason_option_id=hint))
        return Step(VoteOutcome(VoteKind.RETRACTED, req.poll_id, None, current, hint),
                    VoteRow(None, row.first_option_id, req.at, row.cast_at), "retract",
                    down=(row.first_option_id, current))
    if current == req.option_id:
        return Step(VoteOutcome(VoteKind.UNCHANGED, req.poll_id, current, current, hint))
    if row is None:
        return Step(VoteOutcome(VoteKind.CAST, req.poll_id, req.option_id, reason_option_id=hint),
                    VoteRow(req.option_id, req.option_id, req.at, req.at), up=(req.option_id, req.option_id))
    first = row.first_option_id
    if current is None:  # voting again after a retract
        return Step(VoteOutcome(VoteKind.CAST, req.poll_id, req.option_id, None, hint),
                    VoteRow(req.option_id, first, req.at, row.cast_at), "cast", up=(first, req.option_id))
    return Step(VoteOutcome(VoteKind.CHANGED, req.poll_id, req.option_id, current, hint),
                VoteRow(req.option_id, first, req.at, row.cast_at), "change", down=(first, current),
                up=(first, req.option_id))


@dataclass
class VotePlan:
    outcomes: list[VoteOutcome] = field(default_factory=list)
    rows: dict[Key, VoteRow] = field(default_factory=dict)
    events: list[tuple[int, str, str, str | None, datetime]] = field(default_factory=list)
    tally_deltas: Counter[tuple[int, str, str]] = field(default_factory=Counter)


def plan_votes(
    requests: list[VoteRequest],
    polls: dict[int, PollWindow],
    existing: dict[Key, VoteRow],
    reasons: Mapping[Key, str] | None = None,
) -> VotePlan:
    """Each request's step in arrival order, each seeing the rows the ones before it left; the rows, events
    and tally deltas add up to what the backend writes. `reasons`: the option each member's reason is on
    (read with `existing`); a vote never moves a reason, so it holds for the whole batch."""
    plan = VotePlan()
    state: dict[Key, VoteRow | None] = {}
    reasons = reasons or {}
    for req in requests:
        key = (req.poll_id, req.voter_key)
        found = step(req, polls.get(req.poll_id), state[key] if key in state else existing.get(key), reasons.get(key))
        plan.outcomes.append(found.outcome)
        if found.row is None:
            continue
        state[key] = plan.rows[key] = found.row
        if found.event:
            plan.events.append((req.poll_id, req.voter_key, found.event, req.option_id, req.at))
        if found.down is not None:
            plan.tally_deltas[(req.poll_id, *found.down)] -= 1
        if found.up is not None:
            plan.tally_deltas[(req.poll_id, *found.up)] += 1
    return plan
