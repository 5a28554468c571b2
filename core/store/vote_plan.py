"""Turn a batch of vote requests into row changes, in memory, so a backend applies them in bulk.

Planning is pure: the backend reads the polls and current rows the batch touches, this module works
out each request's outcome in arrival order, and the backend writes the net result in a few
statements inside one transaction. Keeping the rules here means every backend counts votes alike.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

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
    """`reasons`: the option each member's reason is on (read with `existing`), passed on in the outcomes
    of requests the poll accepts; a vote never moves a reason, so it holds for the whole batch."""
    plan = VotePlan()
    state: dict[Key, VoteRow | None] = {}
    reasons = reasons or {}
    for req in requests:
        key = (req.poll_id, req.voter_key)
        hint = reasons.get(key)
        window = polls.get(req.poll_id)
        if window is None:
            plan.outcomes.append(VoteOutcome(VoteKind.UNKNOWN_POLL, req.poll_id, req.option_id))
            continue
        if not window.accepts(req.at):
            plan.outcomes.append(VoteOutcome(VoteKind.POLL_CLOSED, req.poll_id, req.option_id))
            continue
        row = state[key] if key in state else existing.get(key)
        current = row.option_id if row else None
        if req.option_id is None:
            if row is None or current is None:
                plan.outcomes.append(VoteOutcome(VoteKind.NOTHING_TO_RETRACT, req.poll_id, reason_option_id=hint))
                continue
            plan.tally_deltas[(req.poll_id, row.first_option_id, current)] -= 1
            row = VoteRow(None, row.first_option_id, req.at)
            plan.events.append((req.poll_id, req.voter_key, "retract", None, req.at))
            outcome = VoteOutcome(VoteKind.RETRACTED, req.poll_id, None, current, hint)
        elif current == req.option_id:
            plan.outcomes.append(VoteOutcome(VoteKind.UNCHANGED, req.poll_id, current, current, hint))
            continue
        elif row is None:
            row = VoteRow(req.option_id, req.option_id, req.at)
            plan.tally_deltas[(req.poll_id, req.option_id, req.option_id)] += 1
            plan.events.append((req.poll_id, req.voter_key, "cast", req.option_id, req.at))
            outcome = VoteOutcome(VoteKind.CAST, req.poll_id, req.option_id, reason_option_id=hint)
        else:
            if current is not None:
                plan.tally_deltas[(req.poll_id, row.first_option_id, current)] -= 1
            plan.tally_deltas[(req.poll_id, row.first_option_id, req.option_id)] += 1
            row = VoteRow(req.option_id, row.first_option_id, req.at)
            kind = "change" if current is not None else "cast"
            plan.events.append((req.poll_id, req.voter_key, kind, req.option_id, req.at))
            outcome = VoteOutcome(
                VoteKind.CHANGED if current is not None else VoteKind.CAST, req.poll_id, req.option_id, current, hint
            )
        state[key] = row
        plan.rows[key] = row
        plan.outcomes.append(outcome)
    return plan
