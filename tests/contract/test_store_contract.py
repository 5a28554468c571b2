"""One behaviour suite for every Store backend (see backends.py; the `backend` fixture is in conftest.py)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from core.models import ChannelSettings, VoteKind
from core.store.base import PollAlreadyOpen, Store, StoreError

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def new_poll(store: Store, channel: str = "C1", hours: int = 24, space: str = "S1") -> int:
    poll = await store.create_poll(space, channel, "first-instinct", T0, T0 + timedelta(hours=hours))
    return poll.id


async def test_migrations_are_applied_once(backend: Store) -> None:
    assert await backend.schema_version() >= 1


async def test_meta_value_is_created_once(backend: Store) -> None:
    assert await backend.get_or_create_meta("k", "first") == "first"
    assert await backend.get_or_create_meta("k", "second") == "first"
    assert await backend.get_meta("missing") is None
    await backend.set_meta("k", "third")
    assert await backend.get_meta("k") == "third"


async def test_poll_lifecycle(backend: Store) -> None:
    poll = await backend.create_poll("S1", "C1", "first-instinct", T0, T0 + timedelta(hours=24))
    assert poll.opened_at == T0 and poll.closes_at == T0 + timedelta(hours=24)
    assert poll.closed_at is None and poll.message_ref is None
    await backend.set_poll_message(poll.id, "C1:123.456")
    assert (await backend.get_poll(poll.id)).message_ref == "C1:123.456"  # type: ignore[union-attr]
    assert [p.id for p in await backend.open_polls("S1", "C1")] == [poll.id]
    assert await backend.close_poll(poll.id, T0 + timedelta(hours=1)) is True
    assert await backend.close_poll(poll.id, T0 + timedelta(hours=2)) is False
    closed = await backend.get_poll(poll.id)
    assert closed is not None and closed.closed_at == T0 + timedelta(hours=1)
    assert await backend.open_polls("S1", "C1") == []
    assert await backend.get_poll(9999) is None


async def test_polls_are_scoped_to_space_and_channel(backend: Store) -> None:
    a = await new_poll(backend, "C1")
    b = await new_poll(backend, "C2")
    c = await new_poll(backend, "C1", space="S2")
    assert [p.id for p in await backend.open_polls("S1", "C1")] == [a]
    assert {p.id for p in await backend.open_polls("S1")} == {a, b}
    assert [p.id for p in await backend.recent_polls("S2")] == [c]
    assert await backend.used_prompt_ids("S1", "C2") == ["first-instinct"]


async def test_polls_due_to_close(backend: Store) -> None:
    short = await new_poll(backend, hours=1)
    await new_poll(backend, "C2", hours=48)
    due = await backend.polls_due_to_close(T0 + timedelta(hours=2))
    assert [p.id for p in due] == [short]


async def test_cast_change_unchanged_retract(backend: Store) -> None:
    poll = await new_poll(backend)
    cast = await backend.record_vote(poll, "v1", "1", T0)
    assert cast.kind is VoteKind.CAST
    same = await backend.record_vote(poll, "v1", "1", T0)
    assert same.kind is VoteKind.UNCHANGED
    changed = await backend.record_vote(poll, "v1", "-2", T0 + timedelta(minutes=1))
    assert changed.kind is VoteKind.CHANGED and changed.previous_option_id == "1"
    assert await backend.current_vote(poll, "v1") == "-2"
    retracted = await backend.retract_vote(poll, "v1", T0 + timedelta(minutes=2))
    assert retracted.kind is VoteKind.RETRACTED
    assert (await backend.retract_vote(poll, "v1", T0)).kind is VoteKind.NOTHING_TO_RETRACT
    assert (await backend.retract_vote(poll, "nobody", T0)).kind is VoteKind.NOTHING_TO_RETRACT
    assert await backend.current_vote(poll, "v1") is None
    history = await backend.history(poll, "v1")
    assert [(h.kind, h.option_id) for h in history] == [("cast", "1"), ("change", "-2"), ("retract", None)]
    assert (await backend.tally(poll)).total == 0


async def test_history_keeps_each_step_and_its_time(backend: Store) -> None:
    """A first vote is kept in its row, not the event log (vote_plan.Step): history reads both, in order."""
    poll = await new_poll(backend)
    at = [T0 + timedelta(minutes=m) for m in range(5)]
    await backend.record_vote(poll, "v1", "1", at[0])
    await backend.record_vote(poll, "v1", "1", at[1])  # unchanged: no step
    await backend.record_vote(poll, "v1", "2", at[2])
    await backend.retract_vote(poll, "v1", at[3])
    await backend.record_vote(poll, "v1", "0", at[4])
    history = [(h.kind, h.option_id, h.at) for h in await backend.history(poll, "v1")]
    assert history == [("cast", "1", at[0]), ("change", "2", at[2]), ("retract", None, at[3]), ("cast", "0", at[4])]
    assert await backend.history(poll, "nobody") == []


async def test_recast_after_retract_keeps_first_vote(backend: Store) -> None:
    poll = await new_poll(backend)
    await backend.record_vote(poll, "v1", "-1", T0)
    await backend.retract_vote(poll, "v1", T0)
    outcome = await backend.record_vote(poll, "v1", "2", T0)
    assert outcome.kind is VoteKind.CAST
    tally = await backend.tally(poll)
    assert tally.transitions == {("-1", "2"): 1}
    assert tally.changed() == 1


async def test_closed_and_unknown_polls_refuse_votes(backend: Store) -> None:
    poll = await new_poll(backend, hours=1)
    late = await backend.record_vote(poll, "v1", "1", T0 + timedelta(hours=1))
    assert late.kind is VoteKind.POLL_CLOSED
    other = await new_poll(backend, "C2")
    await backend.close_poll(other, T0)
    assert (await backend.record_vote(other, "v1", "1", T0)).kind is VoteKind.POLL_CLOSED
    assert (await backend.record_vote(424242, "v1", "1", T0)).kind is VoteKind.UNKNOWN_POLL
    assert (await backend.tally(poll)).total == 0 and (await backend.tally(other)).total == 0


async def test_tally_tracks_first_and_current(backend: Store) -> None:
    poll = await new_poll(backend)
    for voter, option in (("a", "-2"), ("b", "-1"), ("c", "1"), ("d", "1")):
        await backend.record_vote(poll, voter, option, T0)
    await backend.record_vote(poll, "b", "2", T0)
    tally = await backend.tally(poll)
    assert tally.current_counts() == {"-2": 1, "1": 2, "2": 1}
    assert tally.first_counts() == {"-2": 1, "-1": 1, "1": 2}
    assert tally.total == 4 and tally.changed() == 1


async def test_concurrent_votes_are_counted_once_each(backend: Store) -> None:
    poll = await new_poll(backend)
    options = ["-2", "-1", "0", "1", "2"]

    async def voter(i: int) -> None:
        for step in range(3):
            await backend.record_vote(poll, f"v{i}", options[(i + step) % 5], T0)

    await asyncio.gather(*(voter(i) for i in range(300)))
    tally = await backend.tally(poll)
    assert tally.total == 300
    expected: dict[str, int] = {}
    for i in range(300):
        final = options[(i + 2) % 5]
        expected[final] = expected.get(final, 0) + 1
    assert tally.current_counts() == expected
    assert tally.changed() == 300


async def test_same_voter_in_one_batch_is_applied_in_order(backend: Store) -> None:
    poll = await new_poll(backend)
    outcomes = await asyncio.gather(
        backend.record_vote(poll, "v", "1", T0),
        backend.record_vote(poll, "v", "1", T0),
        backend.record_vote(poll, "v", "2", T0),
        backend.retract_vote(poll, "v", T0),
        backend.record_vote(poll, "v", "0", T0),
    )
    assert [o.kind for o in outcomes] == [
        VoteKind.CAST, VoteKind.UNCHANGED, VoteKind.CHANGED, VoteKind.RETRACTED, VoteKind.CAST,
    ]
    assert (await backend.tally(poll)).transitions == {("1", "0"): 1}


async def test_stance_and_forget_member(backend: Store) -> None:
    p1 = await new_poll(backend)
    p2 = await new_poll(backend, "C2")
    elsewhere = await new_poll(backend, space="S2")
    await backend.record_vote(p1, "me", "2", T0)
    await backend.record_vote(p1, "me", "1", T0)
    await backend.record_vote(p2, "me", "-1", T0)
    await backend.record_vote(p1, "you", "0", T0)
    await backend.record_vote(elsewhere, "me", "0", T0)
    stance = await backend.stance("S1", "me")
    assert [(p.id, o) for p, o in stance] == [(p2, "-1"), (p1, "1")]
    deleted = await backend.forget_member("S1", "me")
    assert deleted == 2 + 1  # two vote rows (each holds its first vote) and the one change's history event
    assert await backend.stance("S1", "me") == []
    assert await backend.history(p1, "me") == []
    assert (await backend.tally(p1)).transitions == {("0", "0"): 1}
    assert (await backend.tally(p2)).total == 0
    assert await backend.current_vote(elsewhere, "me") == "0"
    assert await backend.forget_member("S1", "me") == 0


async def test_retention_purges_rows_but_keeps_tallies(backend: Store) -> None:
    old = await new_poll(backend)
    recent = await new_poll(backend, "C2")
    for poll in (old, recent):
        await backend.record_vote(poll, "a", "0", T0)
        await backend.record_vote(poll, "a", "1", T0)
        await backend.record_vote(poll, "b", "2", T0)
    await backend.close_poll(old, T0 + timedelta(days=1))
    await backend.close_poll(recent, T0 + timedelta(days=100))
    purged = await backend.purge_votes_closed_before(T0 + timedelta(days=50))
    assert purged == 2 + 1  # two vote rows and a's change
    assert await backend.history(old, "a") == [] and await backend.current_vote(old, "a") is None
    assert (await backend.tally(old)).current_counts() == {"1": 1, "2": 1}
    assert [h.kind for h in await backend.history(recent, "a")] == ["cast", "change"]
    assert await backend.current_vote(recent, "a") == "1"


async def test_channel_settings(backend: Store) -> None:
    assert await backend.channel_settings("S1", "C1") is None
    await backend.save_channel_settings(ChannelSettings("S1", "C1", 5))
    await backend.save_channel_settings(ChannelSettings("S1", "C1", 7))
    assert await backend.channel_settings("S1", "C1") == ChannelSettings("S1", "C1", 7)
    assert await backend.channel_settings("S1", "C2") is None


async def test_polls_with_tallies_for_export(backend: Store) -> None:
    p1 = await new_poll(backend)
    p2 = await new_poll(backend, "C2")
    await backend.record_vote(p1, "a", "1", T0)
    rows = await backend.polls_with_tallies("S1")
    assert [(p.id, t.total) for p, t in rows] == [(p1, 1), (p2, 0)]
    assert await backend.polls_with_tallies("nope") == []


# -- one open poll per channel, abandoned polls, errors ------------------------------------------


async def test_second_open_poll_in_a_channel_is_refused_with_the_open_one(backend: Store) -> None:
    first = await backend.create_poll("S1", "C1", "first-instinct", T0, T0 + timedelta(hours=24), "slack",
                                      min_votes=5, results_live=False)
    assert (first.min_votes, first.results_live, first.abandoned, first.platform) == (5, False, False, "slack")
    with pytest.raises(PollAlreadyOpen) as refused:
        await backend.create_poll("S1", "C1", "other", T0 + timedelta(hours=1), T0 + timedelta(hours=25))
    assert isinstance(refused.value, StoreError)
    assert refused.value.poll == first
    assert [p.id for p in await backend.recent_polls("S1", "C1")] == [first.id]
    # other channels and spaces are independent; a closed poll frees the channel
    assert (await backend.create_poll("S1", "C2", "p", T0, None)).closed_at is None
    assert (await backend.create_poll("S2", "C1", "p", T0, None)).closed_at is None
    await backend.close_poll(first.id, T0 + timedelta(hours=2))
    again = await backend.create_poll("S1", "C1", "other", T0 + timedelta(hours=3), None)
    assert again.min_votes is None and again.results_live is None
    assert await backend.get_poll(first.id) == replace(first, closed_at=T0 + timedelta(hours=2))


async def test_create_poll_closes_the_channels_expired_poll_at_its_closing_time(backend: Store) -> None:
    expired = await new_poll(backend, hours=1)
    fresh = await backend.create_poll("S1", "C1", "next", T0 + timedelta(hours=1), T0 + timedelta(hours=25))
    old = await backend.get_poll(expired)
    assert old is not None and old.closed_at == T0 + timedelta(hours=1)
    assert [p.id for p in await backend.open_polls("S1", "C1")] == [fresh.id]


async def test_concurrent_create_poll_in_one_channel_yields_one_poll(backend: Store) -> None:
    results = await asyncio.gather(
        *(backend.create_poll("S1", "C1", f"p{i}", T0, T0 + timedelta(hours=24)) for i in range(20)),
        return_exceptions=True,
    )
    created = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, PollAlreadyOpen)]
    assert len(created) == 1 and len(refused) == 19, results
    assert all(r.poll.id == created[0].id for r in refused)
    assert [p.id for p in await backend.recent_polls("S1", "C1")] == [created[0].id]


async def test_abandoned_poll_appears_nowhere_and_frees_its_prompt(backend: Store) -> None:
    kept = await backend.create_poll("S1", "C2", "kept-prompt", T0, T0 + timedelta(hours=1))
    poll = await backend.create_poll("S1", "C1", "refused-prompt", T0, T0 + timedelta(hours=1))
    await backend.record_vote(poll.id, "v1", "1", T0)
    await backend.record_vote(poll.id, "v1", "2", T0)
    await backend.abandon_poll(poll.id, T0 + timedelta(minutes=1))
    await backend.abandon_poll(poll.id, T0 + timedelta(minutes=5))  # idempotent: the first time stands

    got = await backend.get_poll(poll.id)
    assert got is not None and got.abandoned and got.closed_at == T0 + timedelta(minutes=1)
    assert await backend.open_polls("S1", "C1") == [] and [p.id for p in await backend.open_polls("S1")] == [kept.id]
    assert await backend.recent_polls("S1", "C1") == []
    assert [p.id for p in await backend.recent_polls("S1")] == [kept.id]
    assert await backend.used_prompt_ids("S1", "C1") == []
    assert [p.id for p, _ in await backend.polls_with_tallies("S1")] == [kept.id]
    assert await backend.stance("S1", "v1") == []
    assert [p.id for p in await backend.polls_due_to_close(T0 + timedelta(days=1))] == [kept.id]
    assert (await backend.tally(poll.id)).total == 0
    assert await backend.history(poll.id, "v1") == [] and await backend.current_vote(poll.id, "v1") is None
    assert (await backend.record_vote(poll.id, "v2", "1", T0)).kind is VoteKind.POLL_CLOSED
    assert (await backend.retract_vote(poll.id, "v1", T0)).kind is VoteKind.POLL_CLOSED
    # the channel is free for the next post
    assert (await backend.create_poll("S1", "C1", "refused-prompt", T0, None)).id != poll.id


async def test_abandoning_a_closed_poll_still_hides_it(backend: Store) -> None:
    poll = await new_poll(backend)
    await backend.close_poll(poll, T0 + timedelta(hours=1))
    await backend.abandon_poll(poll, T0 + timedelta(hours=2))
    got = await backend.get_poll(poll)
    assert got is not None and got.abandoned and got.closed_at == T0 + timedelta(hours=1)
    assert await backend.recent_polls("S1") == []
    await backend.abandon_poll(424242, T0)  # unknown poll: nothing to do


async def test_a_closed_store_raises_store_error(backend: Store) -> None:
    poll = await new_poll(backend)
    await backend.close()
    with pytest.raises(StoreError):
        await backend.record_vote(poll, "v1", "1", T0)
    with pytest.raises(StoreError):
        await backend.get_poll(poll)
    with pytest.raises(StoreError):
        await backend.create_poll("S1", "C9", "p", T0, None)
    await backend.close()  # closing twice is harmless
