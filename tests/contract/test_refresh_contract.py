"""Turns at editing a poll message (claim_refresh / finish_refresh) on every backend.

The store is the only thing processes share, so it alone decides who edits: at most one edit runs per
poll, the next starts `gap` after the last one ended, a change marked while an edit runs gets an edit of
its own afterwards, and an edit whose holder died is taken over once its lease runs out. Instants are
real (PostgreSQL reads its own clock), so the gaps here are short.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from core.store.base import Store
from core.store.refresh import RefreshClaim, RefreshTurn
from tests.contract.child import T0

GAP = timedelta(seconds=0.3)
LEASE = timedelta(seconds=10)


def now() -> datetime:
    return datetime.now(UTC)


async def new_poll(store: Store) -> int:
    return (await store.create_poll("S1", "C1", "p", T0, None)).id


async def claim(store: Store, poll: int, holder: str, mark: bool = True,
                lease: timedelta = LEASE) -> RefreshClaim:
    return await store.claim_refresh(poll, holder, now(), GAP, lease, mark)


async def wait_for_turn(store: Store, poll: int, holder: str) -> RefreshClaim:
    """Ask again as told (mark=False) until the answer is not WAIT."""
    for _ in range(100):
        answer = await claim(store, poll, holder, mark=False)
        if answer.turn is not RefreshTurn.WAIT:
            return answer
        assert 0 < answer.wait <= GAP.total_seconds() + 0.05, answer
        await asyncio.sleep(answer.wait)
    raise AssertionError("never left WAIT")


async def test_nothing_marked_means_nothing_to_do(backend: Store) -> None:
    poll = await new_poll(backend)
    assert (await claim(backend, poll, "A", mark=False)).turn is RefreshTurn.DONE


async def test_one_edit_at_a_time_and_a_change_during_it_is_rendered_after_it(backend: Store) -> None:
    poll = await new_poll(backend)
    assert (await claim(backend, poll, "A")).turn is RefreshTurn.GO
    # B saw a change while A edits: not its turn, and not done either (A may have read before it).
    during = await claim(backend, poll, "B")
    assert during.turn is RefreshTurn.WAIT and 0 < during.wait <= GAP.total_seconds() + 0.05
    assert (await claim(backend, poll, "A", mark=False)).turn is RefreshTurn.WAIT  # A's own edit still runs
    assert await backend.finish_refresh(poll, "A", now()) is True
    right_after = await claim(backend, poll, "B", mark=False)
    assert right_after.turn is RefreshTurn.WAIT  # the gap counts from the end of A's edit
    assert (await wait_for_turn(backend, poll, "B")).turn is RefreshTurn.GO
    assert await backend.finish_refresh(poll, "B", now()) is True
    # B's edit rendered after every mark: nobody has anything left to do.
    assert (await claim(backend, poll, "A", mark=False)).turn is RefreshTurn.DONE
    assert (await claim(backend, poll, "B", mark=False)).turn is RefreshTurn.DONE


async def test_a_mark_after_an_edit_ended_waits_out_the_gap(backend: Store) -> None:
    poll = await new_poll(backend)
    assert (await claim(backend, poll, "A")).turn is RefreshTurn.GO
    assert await backend.finish_refresh(poll, "A", now()) is True
    assert (await claim(backend, poll, "A", mark=False)).turn is RefreshTurn.DONE
    again = await claim(backend, poll, "A")  # a new vote
    assert again.turn is RefreshTurn.WAIT
    assert (await wait_for_turn(backend, poll, "A")).turn is RefreshTurn.GO


async def test_marks_from_many_holders_at_once_grant_exactly_one_edit(backend: Store) -> None:
    poll = await new_poll(backend)
    answers = await asyncio.gather(*(claim(backend, poll, f"H{i}") for i in range(12)))
    turns = [a.turn for a in answers]
    assert turns.count(RefreshTurn.GO) == 1 and turns.count(RefreshTurn.WAIT) == 11, turns


async def test_an_edit_whose_holder_died_is_taken_over_after_its_lease(backend: Store) -> None:
    poll = await new_poll(backend)
    short = timedelta(seconds=0.4)
    assert (await claim(backend, poll, "dead", lease=short)).turn is RefreshTurn.GO
    # "dead" never finishes. B, which marked nothing itself, still sees the change unrendered.
    assert (await wait_for_turn(backend, poll, "B")).turn is RefreshTurn.GO
    assert await backend.finish_refresh(poll, "dead", now()) is False  # it lost the turn
    assert await backend.finish_refresh(poll, "B", now()) is True
    assert (await claim(backend, poll, "B", mark=False)).turn is RefreshTurn.DONE


async def test_a_failed_edit_is_finished_too_and_not_retried_without_a_new_change(backend: Store) -> None:
    poll = await new_poll(backend)
    assert (await claim(backend, poll, "A")).turn is RefreshTurn.GO
    assert await backend.finish_refresh(poll, "A", now()) is True  # called whether the edit worked or not
    await asyncio.sleep(GAP.total_seconds())
    assert (await claim(backend, poll, "B", mark=False)).turn is RefreshTurn.DONE


async def test_polls_take_turns_separately(backend: Store) -> None:
    first, second = await new_poll(backend), (await backend.create_poll("S1", "C2", "p", T0, None)).id
    assert (await claim(backend, first, "A")).turn is RefreshTurn.GO
    assert (await claim(backend, second, "A")).turn is RefreshTurn.GO
    assert await backend.finish_refresh(second, "A", now()) is True
    assert (await claim(backend, first, "B")).turn is RefreshTurn.WAIT
