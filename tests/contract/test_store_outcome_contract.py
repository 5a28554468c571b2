"""Contract suite, part 4: posting outcomes, admin notices, opening a store again (every backend).

What core/scheduler/outcomes.py relies on:

- polls_awaiting_outcome lists closed polls that reached the platform (platform set, message_ref set)
  whose outcome is neither posted nor given up, and that were not abandoned, oldest closing first.
  Given `now`, polls whose outcome claim or backoff runs past `now` are left out.
- claim_outcome is a lease like an occurrence claim: one winner, `attempt` counting from 1, and no
  claim at all once the outcome is posted or given up.
- fail_outcome(retry_at) holds the poll back until retry_at; fail_outcome(None) gives it up for good.
- Notices are an append-only list per space, read newest first (by insertion), `limit` at a time,
  each text cut to 500 characters.

As in part 3, lease expiry is measured by SQLite against the caller's `now` and by PostgreSQL against
the database clock, so the lease tests pass the real time with a zero lease or an hour.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from core.models import Notice
from core.store.base import Store
from core.store.occurrence import OutcomeClaim
from tests.contract.backends import Target, make_store

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
NO_LEASE = timedelta(0)


def real_now() -> datetime:
    return datetime.now(UTC)


async def posted_poll(store: Store, channel: str = "C1", closed: datetime | None = T0 + HOUR,
                      platform: str = "slack", ref: str | None = "C1:1.2") -> int:
    poll = await store.create_poll("S1", channel, "p", T0, T0 + 24 * HOUR, platform)
    if ref is not None:
        await store.set_poll_message(poll.id, ref)
    if closed is not None:
        await store.close_poll(poll.id, closed)
    return poll.id


async def awaiting(store: Store, now: datetime | None = None) -> list[int]:
    return [p.id for p in await store.polls_awaiting_outcome(now)]


# -- which polls wait for their outcome ----------------------------------------------------------------


async def test_polls_awaiting_outcome_are_closed_posted_polls_oldest_closing_first(backend: Store) -> None:
    late = await posted_poll(backend, "C1", closed=T0 + 3 * HOUR)
    early = await posted_poll(backend, "C2", closed=T0 + HOUR)
    await posted_poll(backend, "C3", closed=None)  # still open
    await posted_poll(backend, "C4", ref=None)  # never reached the platform
    await posted_poll(backend, "C5", platform="")  # the console's polls have no platform to post to
    abandoned = await posted_poll(backend, "C6")
    await backend.abandon_poll(abandoned, T0)
    assert await awaiting(backend) == [early, late]
    assert await awaiting(backend, real_now()) == [early, late]


async def test_a_posted_outcome_is_no_longer_awaited_or_claimable(backend: Store) -> None:
    poll = await posted_poll(backend)
    assert await backend.claim_outcome(poll, real_now(), HOUR) == OutcomeClaim(poll, 1)
    await backend.mark_outcome_posted(poll, T0 + 2 * HOUR)
    assert await awaiting(backend) == [] and await awaiting(backend, real_now()) == []
    assert await backend.claim_outcome(poll, real_now() + 2 * HOUR, NO_LEASE) is None


# -- claiming an outcome ------------------------------------------------------------------------------


async def test_an_outcome_claim_is_held_then_taken_over_when_it_lapses(backend: Store) -> None:
    held = await posted_poll(backend, "C1")
    assert await backend.claim_outcome(held, real_now(), HOUR) == OutcomeClaim(held, 1)
    assert await backend.claim_outcome(held, real_now(), HOUR) is None
    assert await awaiting(backend, real_now()) == []  # claimed until later: left out with `now`
    assert await awaiting(backend) == [held]  # without `now`, every unfinished outcome
    lapsing = await posted_poll(backend, "C2")
    assert await backend.claim_outcome(lapsing, real_now(), NO_LEASE) == OutcomeClaim(lapsing, 1)
    assert await awaiting(backend, real_now()) == [lapsing]
    assert await backend.claim_outcome(lapsing, real_now(), HOUR) == OutcomeClaim(lapsing, 2)
    assert await backend.claim_outcome(424242, real_now(), HOUR) is None  # no such poll


async def test_concurrent_outcome_claims_have_exactly_one_winner(backend: Store) -> None:
    poll = await posted_poll(backend)
    now = real_now()
    claims = await asyncio.gather(*(backend.claim_outcome(poll, now, HOUR) for _ in range(16)))
    assert [c for c in claims if c is not None] == [OutcomeClaim(poll, 1)]


async def test_fail_outcome_backs_off_until_retry_at(backend: Store) -> None:
    poll = await posted_poll(backend)
    await backend.claim_outcome(poll, real_now(), HOUR)
    await backend.fail_outcome(poll, real_now(), real_now() + 2 * HOUR)
    assert await backend.claim_outcome(poll, real_now(), NO_LEASE) is None
    assert await awaiting(backend, real_now()) == [] and await awaiting(backend) == [poll]
    await backend.fail_outcome(poll, real_now(), real_now() - timedelta(seconds=1))  # the backoff is over
    assert await awaiting(backend, real_now()) == [poll]
    assert await backend.claim_outcome(poll, real_now(), HOUR) == OutcomeClaim(poll, 2)


async def test_fail_outcome_without_retry_gives_up_for_good(backend: Store) -> None:
    poll = await posted_poll(backend)
    await backend.claim_outcome(poll, real_now(), NO_LEASE)
    await backend.fail_outcome(poll, real_now(), None)
    assert await awaiting(backend) == [] and await awaiting(backend, real_now()) == []
    assert await backend.claim_outcome(poll, real_now() + 24 * HOUR, NO_LEASE) is None
    await backend.fail_outcome(poll, real_now(), real_now() - HOUR)  # a late retry does not revive it
    assert await backend.claim_outcome(poll, real_now(), HOUR) is None


async def test_fail_outcome_after_posting_changes_nothing(backend: Store) -> None:
    poll = await posted_poll(backend)
    await backend.claim_outcome(poll, real_now(), NO_LEASE)
    await backend.mark_outcome_posted(poll, T0 + 2 * HOUR)
    await backend.fail_outcome(poll, real_now(), None)
    await backend.fail_outcome(poll, real_now(), real_now() - HOUR)
    assert await awaiting(backend) == []
    assert await backend.claim_outcome(poll, real_now(), HOUR) is None


# -- notices ------------------------------------------------------------------------------------------


async def test_notices_newest_first_per_space_with_a_limit(backend: Store) -> None:
    for i in range(12):
        await backend.add_notice("S1", f"C{i % 2}", f"notice {i}", T0 + timedelta(minutes=i))
    await backend.add_notice("S2", "C1", "elsewhere", T0)
    latest = await backend.notices("S1")
    assert [n.text for n in latest] == [f"notice {i}" for i in range(11, 1, -1)]  # 10 by default
    assert latest[0] == Notice("S1", "C1", "notice 11", T0 + timedelta(minutes=11))
    assert [n.text for n in await backend.notices("S1", limit=3)] == ["notice 11", "notice 10", "notice 9"]
    assert len(await backend.notices("S1", limit=50)) == 12
    assert await backend.notices("S2") == [Notice("S2", "C1", "elsewhere", T0)]
    assert await backend.notices("S3") == []


async def test_notices_are_ordered_by_when_they_were_added_not_by_their_time(backend: Store) -> None:
    await backend.add_notice("S1", "C1", "written first, dated later", T0 + HOUR)
    await backend.add_notice("S1", "C1", "written second, dated earlier", T0)
    assert [n.text for n in await backend.notices("S1")] == ["written second, dated earlier",
                                                            "written first, dated later"]


async def test_notice_text_is_kept_whole_up_to_500_characters(backend: Store) -> None:
    odd = "Ünïcödé 👩‍⚖️ 'quotes' \"double\" \\ back\nslash"
    await backend.add_notice("S1", "C1", odd, T0)
    await backend.add_notice("S1", "C1", "x" * 499 + "yz", T0)
    long, kept = await backend.notices("S1")
    assert kept.text == odd
    assert long.text == "x" * 499 + "y"


# -- opening a store again ----------------------------------------------------------------------------


async def test_a_store_opened_again_sees_what_was_written(backend: Store, backend_target: Target) -> None:
    """open() on a database that is already migrated applies nothing and keeps every row."""
    poll = await posted_poll(backend, closed=None)
    await backend.record_vote(poll, "v1", "1", T0)
    await backend.close_poll(poll, T0 + HOUR)
    await backend.set_meta("k", "v")
    version = await backend.schema_version()
    await backend.close()
    again = make_store(backend_target)
    await again.open()
    try:
        assert await again.schema_version() == version
        assert await again.get_meta("k") == "v"
        assert (await again.tally(poll)).current_counts() == {"1": 1}
        assert await awaiting(again) == [poll]
    finally:
        await again.close()
