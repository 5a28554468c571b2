"""vote_plan's rules for what a batch writes: the rows, the history events and the tally cells."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.models import VoteKind
from core.store.vote_plan import PollWindow, VoteRequest, VoteRow, plan_votes

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
OPEN = {1: PollWindow(T0 + timedelta(days=1), None)}


def _at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_a_first_vote_is_kept_in_its_row_and_writes_no_event() -> None:
    plan = plan_votes([VoteRequest(1, "a", "x", _at(0))], OPEN, {})
    assert [o.kind for o in plan.outcomes] == [VoteKind.CAST]
    assert plan.rows[(1, "a")] == VoteRow("x", "x", _at(0), _at(0))
    assert plan.events == []
    assert dict(plan.tally_deltas) == {(1, "x", "x"): 1}


def test_a_row_made_in_the_batch_keeps_its_first_vote_time_through_later_steps() -> None:
    steps = [VoteRequest(1, "a", "x", _at(0)), VoteRequest(1, "a", "y", _at(1)), VoteRequest(1, "a", None, _at(2)),
             VoteRequest(1, "a", "z", _at(3))]
    plan = plan_votes(steps, OPEN, {})
    assert [o.kind for o in plan.outcomes] == [VoteKind.CAST, VoteKind.CHANGED, VoteKind.RETRACTED, VoteKind.CAST]
    assert plan.rows[(1, "a")] == VoteRow("z", "x", _at(3), _at(0))
    assert [(kind, option, at) for _p, _v, kind, option, at in plan.events] == [
        ("change", "y", _at(1)), ("retract", None, _at(2)), ("cast", "z", _at(3))]
    assert {k: n for k, n in plan.tally_deltas.items() if n} == {(1, "x", "z"): 1}


def test_a_stored_row_is_never_given_a_first_vote_time() -> None:
    """Its stored cast_at (or, before migration 011, its "cast" event) already says when it was cast."""
    stored = {(1, "a"): VoteRow("x", "x", T0, None)}
    plan = plan_votes([VoteRequest(1, "a", "y", _at(1)), VoteRequest(1, "a", None, _at(2)),
                       VoteRequest(1, "a", "x", _at(3))], OPEN, stored)
    assert plan.rows[(1, "a")].cast_at is None
    assert [kind for _p, _v, kind, _o, _at in plan.events] == ["change", "retract", "cast"]
