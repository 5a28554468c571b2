"""Contract suite: a vote's outcome says which option the member's reason is on (every backend).

VoteOutcome.reason_option_id is read inside the vote's own write, so the receipt's offer ("add a
reason" / "keep or drop") costs no extra store call. Both engines must give the same answer in the same
situation: None without a reason (or when the poll refuses the vote), else the reason's option, wherever
the vote now is.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from core.models import VoteKind
from core.store.base import Store

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


async def _hint(store: Store, poll: int, key: str, option: str | None) -> tuple[VoteKind, str | None]:
    if option is None:
        outcome = await store.retract_vote(poll, key, T0)
    else:
        outcome = await store.record_vote(poll, key, option, T0)
    return outcome.kind, outcome.reason_option_id


async def test_no_reason_no_hint_and_a_reason_on_the_same_option(backend: Store) -> None:
    poll = (await backend.create_poll("S1", "C1", "p", T0, T0 + HOUR)).id
    assert await _hint(backend, poll, "a", "o1") == (VoteKind.CAST, None)
    assert await _hint(backend, poll, "a", "o2") == (VoteKind.CHANGED, None)
    await backend.save_reason(poll, "a", "why", T0)  # written for o2
    assert await _hint(backend, poll, "a", "o2") == (VoteKind.UNCHANGED, "o2")
    assert await _hint(backend, poll, "b", "o2") == (VoteKind.CAST, None)  # another member's reason is not theirs


async def test_a_reason_left_on_another_option_after_a_change_and_after_keeping_it(backend: Store) -> None:
    poll = (await backend.create_poll("S1", "C1", "p", T0, T0 + HOUR)).id
    await backend.record_vote(poll, "a", "o1", T0)
    await backend.save_reason(poll, "a", "why", T0)
    assert await _hint(backend, poll, "a", "o2") == (VoteKind.CHANGED, "o1")  # left behind: keep or drop
    assert await _hint(backend, poll, "a", "o3") == (VoteKind.CHANGED, "o1")
    assert await _hint(backend, poll, "a", "o1") == (VoteKind.CHANGED, "o1")  # back with it
    await backend.record_vote(poll, "a", "o2", T0)
    await backend.keep_reason(poll, "a", T0)
    assert await _hint(backend, poll, "a", "o3") == (VoteKind.CHANGED, "o2")  # it moved with the kept vote
    await backend.delete_reason(poll, "a", T0)
    assert await _hint(backend, poll, "a", "o1") == (VoteKind.CHANGED, None)


async def test_a_hidden_reason_is_still_the_members_own(backend: Store) -> None:
    poll = (await backend.create_poll("S1", "C1", "p", T0, T0 + HOUR)).id
    await backend.record_vote(poll, "a", "o1", T0)
    rid = (await backend.save_reason(poll, "a", "why", T0)).reason_id or 0
    await backend.moderate_reason(rid, True)
    assert await _hint(backend, poll, "a", "o2") == (VoteKind.CHANGED, "o1")  # as store.my_reason sees it


async def test_retract_then_recast_and_forget_me(backend: Store) -> None:
    poll = (await backend.create_poll("S1", "C1", "p", T0, T0 + HOUR)).id
    await backend.record_vote(poll, "a", "o1", T0)
    await backend.save_reason(poll, "a", "why", T0)
    assert await _hint(backend, poll, "a", None) == (VoteKind.RETRACTED, "o1")
    assert await _hint(backend, poll, "a", None) == (VoteKind.NOTHING_TO_RETRACT, "o1")
    assert await _hint(backend, poll, "a", "o2") == (VoteKind.CAST, "o1")  # recast elsewhere: keep or drop
    assert await _hint(backend, poll, "a", "o1") == (VoteKind.CHANGED, "o1")
    await backend.forget_member("S1", "a")
    assert await _hint(backend, poll, "a", "o2") == (VoteKind.CAST, None)  # erased with the member
    assert await _hint(backend, poll, "a", None) == (VoteKind.RETRACTED, None)


async def test_refused_votes_carry_no_hint(backend: Store) -> None:
    poll = (await backend.create_poll("S1", "C1", "p", T0, T0 + HOUR)).id
    await backend.record_vote(poll, "a", "o1", T0)
    await backend.save_reason(poll, "a", "why", T0)
    assert await _hint(backend, poll + 999, "a", "o2") == (VoteKind.UNKNOWN_POLL, None)
    late = await backend.record_vote(poll, "a", "o2", T0 + 2 * HOUR)
    assert (late.kind, late.reason_option_id) == (VoteKind.POLL_CLOSED, None)


async def test_votes_in_flight_together_each_get_their_own_members_hint(backend: Store) -> None:
    """Many votes at once (one SQLite batch, many PostgreSQL transactions): no member gets another's."""
    polls = [(await backend.create_poll(f"S{i}", "C1", "p", T0, T0 + HOUR)).id for i in range(2)]
    keys = [f"m{i}" for i in range(30)]
    for poll in polls:
        for key in keys:
            await backend.record_vote(poll, key, "o1", T0)
    for n, key in enumerate(keys):
        if n % 3 == 0:
            await backend.save_reason(polls[0], key, "why", T0)
        if n % 2 == 0:
            await backend.save_reason(polls[1], key, "why", T0)
    pairs = [(p, k) for k in keys for p in polls]
    outcomes = await asyncio.gather(*(backend.record_vote(p, k, "o2", T0) for p, k in pairs))
    got = {pair: o.reason_option_id for pair, o in zip(pairs, outcomes, strict=True)}
    expected = {(p, k): "o1" if (n % 3 == 0 if p == polls[0] else n % 2 == 0) else None
                for n, k in enumerate(keys) for p in polls}
    assert got == expected
    assert {o.kind for o in outcomes} == {VoteKind.CHANGED}
