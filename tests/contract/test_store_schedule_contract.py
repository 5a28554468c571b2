"""Contract suite, part 3: schedules and their occurrences (every backend).

What the scheduler (core/scheduler/engine.py) relies on:

- A schedule is one row per (space, channel). save_schedule creates or replaces every field except the
  done-through watermark, which it never moves: a changed schedule must not post a date again.
- due_schedules(now): enabled schedules whose next_due_at has come (<= now) or was never computed.
- set_next_due writes only onto the schedule the tick saw (same `since`): a schedule saved meanwhile
  keeps the value its save gave it.
- An occurrence (schedule, local date) is claimed -> posted, or claimed -> skipped (given up), or
  skipped outright when missed. A claim is a lease: exactly one holder wins a new or lapsed claim,
  and `attempts` counts the claims. finish, skip and give-up move the watermark forward only.
- fail_occurrence counts a refused post and holds the claim until `retry_at` (the backoff), but only
  for the holder of the claim. give_up_occurrence skips a claimed occurrence held by `holder` or by
  nobody live, writing its notice in the same write (so once).
- pause_schedule turns an enabled schedule off with a notice, in one write.

Leases and clocks: SQLite compares leases with the `now` the caller passes; PostgreSQL compares them
with the database's clock (so processes with skewed clocks agree). The tests that depend on a lease
running out therefore pass the real time as `now` and use a zero lease (run out at once on both) or an
hour (held on both); schedule fields and dates use the fixed T0.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

from core.models import Claim, Schedule
from core.store.base import Store

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DAY = date(2026, 3, 3)
HOUR = timedelta(hours=1)
NO_LEASE = timedelta(0)


def real_now() -> datetime:
    return datetime.now(UTC)


def schedule(space: str = "S1", channel: str = "C1", **changes: object) -> Schedule:
    base = Schedule("S1", "C1", "slack", time(9, 30), "Europe/Paris", frozenset({0, 2, 4}), timedelta(hours=20),
                    "section", "seed-1", T0)
    return replace(base, space_id=space, channel_id=channel, **changes)  # type: ignore[arg-type]


async def saved(store: Store, **changes: object) -> Schedule:
    s = schedule(**changes)  # type: ignore[arg-type]
    await store.save_schedule(s)
    return s


# -- schedules --------------------------------------------------------------------------------------


async def test_schedule_round_trip_and_replacement(backend: Store) -> None:
    """Every field comes back as saved; a second save replaces the row; other channels are separate."""
    assert await backend.get_schedule("S1", "C1") is None
    first = await saved(backend, next_due_at=T0 + HOUR)
    assert await backend.get_schedule("S1", "C1") == first
    other = await saved(backend, channel="C2", platform="discord", at=time(23, 59), timezone="America/New_York",
                        weekdays=frozenset(range(7)), duration=timedelta(minutes=90), deck_order="shuffle",
                        shuffle_seed="s'eed \"2\"", enabled=False)
    changed = await saved(backend, at=time(7, 5), weekdays=frozenset({6}), duration=timedelta(hours=3),
                          since=T0 + timedelta(days=1))
    assert await backend.get_schedule("S1", "C1") == changed  # next_due_at reset to None by the new save
    assert await backend.get_schedule("S1", "C2") == other
    assert await backend.get_schedule("S2", "C1") is None


async def test_saving_a_schedule_keeps_its_done_through_watermark(backend: Store) -> None:
    """The watermark is written by finish/skip/give-up only; a save (even one carrying another value)
    keeps it, so a date already posted is never posted again after an edit."""
    s = await saved(backend)
    await backend.claim_occurrence(s, DAY, T0, "h1", real_now(), HOUR)
    await backend.finish_occurrence(s, DAY)
    await backend.save_schedule(replace(s, at=time(10), done_through=None))
    got = await backend.get_schedule("S1", "C1")
    assert got is not None and got.at == time(10) and got.done_through == DAY
    await backend.save_schedule(replace(s, done_through=DAY + timedelta(days=5)))
    assert (await backend.get_schedule("S1", "C1")).done_through == DAY  # type: ignore[union-attr]
    fresh = await saved(backend, channel="C2", done_through=DAY)  # a new row takes the given watermark
    assert await backend.get_schedule("S1", "C2") == fresh


async def test_due_schedules(backend: Store) -> None:
    """Enabled schedules whose next_due_at is unset or has come; disabled ones never."""
    never = await saved(backend, channel="C1")
    later = await saved(backend, channel="C2", next_due_at=T0 + HOUR)
    await saved(backend, channel="C3", enabled=False)
    await saved(backend, channel="C4", enabled=False, next_due_at=T0)
    assert await backend.due_schedules(T0) == [never]
    due = await backend.due_schedules(T0 + HOUR)  # "has come" includes the instant itself
    assert sorted(due, key=lambda s: s.channel_id) == [never, later]


async def test_set_next_due_moves_only_the_schedule_the_tick_saw(backend: Store) -> None:
    s = await saved(backend)
    await backend.set_next_due(s, T0 + 2 * HOUR)
    assert (await backend.get_schedule("S1", "C1")).next_due_at == T0 + 2 * HOUR  # type: ignore[union-attr]
    assert await backend.due_schedules(T0 + HOUR) == []
    edited = await saved(backend, since=T0 + HOUR, at=time(12))  # saved meanwhile: next_due_at None again
    await backend.set_next_due(s, T0 + 5 * HOUR)  # the stale tick's write is dropped
    assert await backend.get_schedule("S1", "C1") == edited
    await backend.set_next_due(edited, T0 + 3 * HOUR)
    assert (await backend.get_schedule("S1", "C1")).next_due_at == T0 + 3 * HOUR  # type: ignore[union-attr]
    await backend.set_next_due(schedule(channel="nowhere"), T0)  # no such schedule: nothing happens
    assert await backend.get_schedule("S1", "nowhere") is None


async def test_pause_schedule_turns_it_off_with_one_notice(backend: Store) -> None:
    s = await saved(backend)
    assert await backend.pause_schedule("S1", "C1", "paused: refused 3 days", T0) is True
    got = await backend.get_schedule("S1", "C1")
    assert got == replace(s, enabled=False)
    assert await backend.due_schedules(T0 + timedelta(days=30)) == []
    assert await backend.pause_schedule("S1", "C1", "paused again", T0 + HOUR) is False
    assert await backend.pause_schedule("S1", "C9", "no schedule here", T0) is False
    assert [(n.channel_id, n.text, n.at) for n in await backend.notices("S1")] == [("C1", "paused: refused 3 days", T0)]


# -- claiming occurrences ---------------------------------------------------------------------------


async def test_a_new_occurrence_is_claimed_once(backend: Store) -> None:
    s = await saved(backend)
    assert await backend.occurrence_state(s, DAY) is None and await backend.occurrence_info(s, DAY) is None
    before = real_now()
    claim = await backend.claim_occurrence(s, DAY, T0, "h1", before, HOUR)
    after = real_now()
    assert claim == Claim(DAY, 1, None)
    assert await backend.claim_occurrence(s, DAY, T0, "h2", real_now(), HOUR) is None  # held by h1
    assert await backend.occurrence_state(s, DAY) == "claimed"
    info = await backend.occurrence_info(s, DAY)
    assert info is not None and (info.state, info.poll_id, info.failures) == ("claimed", None, 0)
    assert info.lease_until is not None
    assert before + HOUR - timedelta(seconds=1) <= info.lease_until <= after + HOUR + timedelta(seconds=1)
    # other dates and other channels are separate occurrences
    assert await backend.claim_occurrence(s, DAY + timedelta(days=1), T0, "h2", real_now(), HOUR) is not None
    other = await saved(backend, channel="C2")
    assert await backend.claim_occurrence(other, DAY, T0, "h2", real_now(), HOUR) is not None


async def test_a_lapsed_claim_is_taken_over_and_counts_the_attempt(backend: Store) -> None:
    s = await saved(backend)
    assert await backend.claim_occurrence(s, DAY, T0, "dead", real_now(), NO_LEASE) == Claim(DAY, 1, None)
    assert await backend.claim_occurrence(s, DAY, T0, "h2", real_now(), HOUR) == Claim(DAY, 2, None)
    assert await backend.claim_occurrence(s, DAY, T0, "h3", real_now(), HOUR) is None


async def test_concurrent_claims_have_exactly_one_winner(backend: Store) -> None:
    s = await saved(backend)
    now = real_now()
    claims = await asyncio.gather(*(backend.claim_occurrence(s, DAY, T0, f"h{i}", now, HOUR) for i in range(16)))
    assert [c for c in claims if c is not None] == [Claim(DAY, 1, None)]


async def test_settled_occurrences_cannot_be_claimed(backend: Store) -> None:
    s = await saved(backend)
    posted, given_up, missed = DAY, DAY + timedelta(days=1), DAY + timedelta(days=2)
    await backend.claim_occurrence(s, posted, T0, "h1", real_now(), NO_LEASE)
    await backend.finish_occurrence(s, posted)
    await backend.claim_occurrence(s, given_up, T0, "h1", real_now(), HOUR)
    assert await backend.give_up_occurrence(s, given_up, "h1", real_now(), None) is True
    assert await backend.skip_occurrence(s, missed, T0) is True
    for day in (posted, given_up, missed):
        assert await backend.claim_occurrence(s, day, T0, "h2", real_now(), HOUR) is None
    assert await backend.occurrence_states("S1", "C1") == {
        posted: ("posted", None), given_up: ("skipped", None), missed: ("skipped", None),
    }


# -- the occurrence's poll --------------------------------------------------------------------------


async def test_bind_occurrence_poll_creates_the_poll_once(backend: Store) -> None:
    """The poll is made with the occurrence (platform from the schedule, the channel's k and results mode
    as snapshots) and found again by a later call or claim, never made twice."""
    s = await saved(backend, platform="discord")
    await backend.claim_occurrence(s, DAY, T0, "h1", real_now(), NO_LEASE)
    poll, created = await backend.bind_occurrence_poll(s, DAY, "p-1", T0, T0 + 20 * HOUR, 4, False)
    assert created is True
    assert (poll.space_id, poll.channel_id, poll.prompt_id, poll.platform) == ("S1", "C1", "p-1", "discord")
    assert (poll.opened_at, poll.closes_at, poll.closed_at) == (T0, T0 + 20 * HOUR, None)
    assert (poll.min_votes, poll.results_live, poll.abandoned, poll.message_ref) == (4, False, False, None)
    again, created_again = await backend.bind_occurrence_poll(s, DAY, "p-2", T0 + HOUR, T0 + 30 * HOUR)
    assert (again, created_again) == (poll, False)
    info = await backend.occurrence_info(s, DAY)
    assert info is not None and info.poll_id == poll.id
    # a process taking over the lapsed claim learns the poll from its claim
    assert await backend.claim_occurrence(s, DAY, T0, "h2", real_now(), HOUR) == Claim(DAY, 2, poll.id)
    await backend.finish_occurrence(s, DAY)
    assert await backend.occurrence_states("S1", "C1") == {DAY: ("posted", poll.id)}
    assert await backend.get_poll(poll.id) == poll


async def test_bind_occurrence_poll_replaces_the_channels_open_poll(backend: Store) -> None:
    """A new scheduled question closes the channel's previous poll (at its own closing time if that came
    first), even though only one poll may be open per channel."""
    s = await saved(backend)
    running = await backend.create_poll("S1", "C1", "manual", T0 - HOUR, T0 + 10 * HOUR)
    expired = await backend.create_poll("S1", "C2", "old", T0 - 5 * HOUR, T0 - 2 * HOUR)
    elsewhere = await backend.create_poll("S1", "C3", "other", T0 - HOUR, None)
    await backend.claim_occurrence(s, DAY, T0, "h1", real_now(), HOUR)
    poll, created = await backend.bind_occurrence_poll(s, DAY, "p-1", T0, T0 + 20 * HOUR)
    assert created and poll.closed_at is None
    assert (await backend.get_poll(running.id)).closed_at == T0  # type: ignore[union-attr]
    assert [p.id for p in await backend.open_polls("S1", "C1")] == [poll.id]
    s2 = await saved(backend, channel="C2")
    await backend.claim_occurrence(s2, DAY, T0, "h1", real_now(), HOUR)
    await backend.bind_occurrence_poll(s2, DAY, "p-1", T0, T0 + 20 * HOUR)
    assert (await backend.get_poll(expired.id)).closed_at == T0 - 2 * HOUR  # type: ignore[union-attr]
    assert (await backend.get_poll(elsewhere.id)).closed_at is None  # type: ignore[union-attr]


# -- refused posts, giving up, skipping, finishing ----------------------------------------------------


async def test_fail_occurrence_counts_and_backs_off_for_the_holder_only(backend: Store) -> None:
    s = await saved(backend)
    await backend.claim_occurrence(s, DAY, T0, "h1", real_now(), HOUR)
    retry_at = real_now().replace(microsecond=0) + 2 * HOUR
    assert await backend.fail_occurrence(s, DAY, "h1", retry_at) is True
    info = await backend.occurrence_info(s, DAY)
    assert info is not None and (info.state, info.failures, info.lease_until) == ("claimed", 1, retry_at)
    assert await backend.claim_occurrence(s, DAY, T0, "h2", real_now(), HOUR) is None  # backing off
    assert await backend.fail_occurrence(s, DAY, "intruder", retry_at + HOUR) is False
    assert await backend.occurrence_info(s, DAY) == info
    assert await backend.fail_occurrence(s, DAY + timedelta(days=1), "h1", retry_at) is False  # never claimed
    # once the backoff is over, the next claim (by anyone) is the next attempt
    past = real_now().replace(microsecond=0) - timedelta(seconds=1)
    assert await backend.fail_occurrence(s, DAY, "h1", past) is True
    assert await backend.claim_occurrence(s, DAY, T0, "h2", real_now(), HOUR) == Claim(DAY, 2, None)
    assert (await backend.occurrence_info(s, DAY)).failures == 2  # type: ignore[union-attr]
    assert await backend.fail_occurrence(s, DAY, "h1", retry_at) is False  # h1 lost the claim to h2


async def test_give_up_occurrence_skips_with_one_notice(backend: Store) -> None:
    s = await saved(backend)
    await backend.claim_occurrence(s, DAY, T0, "h1", real_now(), HOUR)
    assert await backend.give_up_occurrence(s, DAY, "h2", real_now(), "not mine") is False  # h1 is live
    assert await backend.give_up_occurrence(s, DAY, "h1", T0, "refused 5 times") is True
    assert await backend.give_up_occurrence(s, DAY, "h1", T0 + HOUR, "refused 5 times") is False
    info = await backend.occurrence_info(s, DAY)
    assert info is not None and (info.state, info.lease_until) == ("skipped", None)
    assert await backend.occurrence_state(s, DAY) == "skipped"
    assert [(n.channel_id, n.text, n.at) for n in await backend.notices("S1")] == [("C1", "refused 5 times", T0)]
    assert (await backend.get_schedule("S1", "C1")).done_through == DAY  # type: ignore[union-attr]


async def test_give_up_occurrence_of_a_dead_holder_and_without_notice(backend: Store) -> None:
    s = await saved(backend)
    await backend.claim_occurrence(s, DAY, T0, "dead", real_now(), NO_LEASE)
    assert await backend.give_up_occurrence(s, DAY, None, real_now(), None) is True  # nobody live holds it
    assert await backend.notices("S1") == []
    assert await backend.give_up_occurrence(s, DAY + timedelta(days=1), None, real_now(), "x") is False  # no claim
    assert await backend.notices("S1") == []


async def test_finish_occurrence_posts_and_moves_the_watermark_forward_only(backend: Store) -> None:
    s = await saved(backend)
    later, earlier = DAY + timedelta(days=3), DAY
    await backend.claim_occurrence(s, later, T0, "h1", real_now(), HOUR)
    await backend.finish_occurrence(s, later)
    info = await backend.occurrence_info(s, later)
    assert info is not None and (info.state, info.lease_until, info.failures) == ("posted", None, 0)
    assert (await backend.get_schedule("S1", "C1")).done_through == later  # type: ignore[union-attr]
    await backend.claim_occurrence(s, earlier, T0, "h1", real_now(), HOUR)
    await backend.finish_occurrence(s, earlier)
    assert await backend.occurrence_state(s, earlier) == "posted"
    assert (await backend.get_schedule("S1", "C1")).done_through == later  # type: ignore[union-attr]


async def test_skip_occurrence_records_a_missed_date_once(backend: Store) -> None:
    s = await saved(backend)
    assert await backend.skip_occurrence(s, DAY, T0) is True
    assert await backend.skip_occurrence(s, DAY, T0) is False
    info = await backend.occurrence_info(s, DAY)
    assert info is not None and (info.state, info.poll_id, info.lease_until, info.failures) == ("skipped", None,
                                                                                                 None, 0)
    assert (await backend.get_schedule("S1", "C1")).done_through == DAY  # type: ignore[union-attr]
    claimed = DAY + timedelta(days=1)
    await backend.claim_occurrence(s, claimed, T0, "h1", real_now(), HOUR)
    assert await backend.skip_occurrence(s, claimed, T0) is False  # a claimed date is not skipped under its holder
    assert await backend.occurrence_state(s, claimed) == "claimed"
    assert await backend.notices("S1") == []


async def test_occurrence_states_of_one_channel(backend: Store) -> None:
    s1, s2 = await saved(backend), await saved(backend, channel="C2")
    await backend.skip_occurrence(s1, DAY, T0)
    await backend.claim_occurrence(s1, DAY + timedelta(days=1), T0, "h1", real_now(), HOUR)
    poll, _ = await backend.bind_occurrence_poll(s1, DAY + timedelta(days=1), "p", T0, T0 + HOUR)
    await backend.skip_occurrence(s2, DAY, T0)
    assert await backend.occurrence_states("S1", "C1") == {
        DAY: ("skipped", None), DAY + timedelta(days=1): ("claimed", poll.id),
    }
    assert await backend.occurrence_states("S1", "C2") == {DAY: ("skipped", None)}
    assert await backend.occurrence_states("S2", "C1") == {}
