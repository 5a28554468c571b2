"""Finding 6: outcomes are retried with backoff, given up after a bound, and never posted twice.

Real store and service; the platform is fake and a 'crash' is an exception no handler survives,
after which a new Scheduler (a restarted process) carries on against the same database.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from core.scheduler.engine import Scheduler
from core.service import DebateService
from core.store.sqlite import SqliteStore
from tests.conftest import FakeClock
from tests.scheduler_fakes import Crash, FakePort, posted_poll


async def test_outcome_refused_backs_off_then_is_given_up_with_one_log_line(
    service: DebateService, store: SqliteStore, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    start = clock.now
    gone = await posted_poll(store, "gone", start - timedelta(hours=21), start - timedelta(minutes=1))
    fine = await posted_poll(store, "fine", start - timedelta(hours=21), start - timedelta(minutes=1))
    port = FakePort(clock, refusing={"gone"})
    scheduler = Scheduler(service, {"fake": port}, "p1", clock)
    with caplog.at_level(logging.INFO, logger="core.scheduler"):
        for _ in range(24 * 60 // 5):  # every 5 minutes for a day, with a look every minute at first
            for _ in range(5):
                await scheduler.tick()
                clock.advance(minutes=1)
    minutes = [int((at - start).total_seconds() // 60) for poll_id, at in port.outcome_attempts if poll_id == gone.id]
    assert minutes == [0, 2, 6, 14, 30, 62], "2, 4, 8, 16, 32 minutes apart, then never again"
    assert port.outcomes == {fine.id: 1}
    gave_up = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(gave_up) == 1 and "gave up" in gave_up[0].getMessage(), "one warning, when it is given up"
    assert f"poll #{gone.id}" in gave_up[0].getMessage() and "S1/gone" in gave_up[0].getMessage()
    assert await store.polls_awaiting_outcome() == []


@pytest.mark.parametrize("where", ["after the platform accepted it", "before the store recorded it"])
async def test_outcome_posted_just_before_a_crash_is_not_posted_again(
    service: DebateService, store: SqliteStore, clock: FakeClock, where: str
) -> None:
    poll = await posted_poll(store, "C1", clock.now - timedelta(hours=21), clock.now - timedelta(minutes=1))
    port = FakePort(clock)
    if where.startswith("after"):
        port.crash_after_outcome = 1
    else:
        real_mark = store.mark_outcome_posted

        async def crash_once(*args, **kwargs) -> None:
            store.mark_outcome_posted = real_mark  # type: ignore[method-assign]
            raise Crash(where)

        store.mark_outcome_posted = crash_once  # type: ignore[method-assign]
    with pytest.raises(Crash):
        await Scheduler(service, {"fake": port}, "p1", clock).tick()
    assert port.outcomes[poll.id] == 1
    clock.advance(minutes=1)
    assert (await Scheduler(service, {"fake": port}, "p2", clock).tick()).outcomes == [], "the claim still holds"
    clock.advance(minutes=2)
    report = await Scheduler(service, {"fake": port}, "p2", clock).tick()
    assert port.outcomes[poll.id] == 1, "the retry found the outcome instead of posting it again"
    assert report.outcomes_adopted == [poll.id] and report.outcomes == []
    clock.advance(hours=1)
    await Scheduler(service, {"fake": port}, "p2", clock).tick()
    assert port.outcomes[poll.id] == 1, "posted exactly once"
    assert await store.polls_awaiting_outcome() == []


async def test_crash_before_the_platform_accepted_posts_on_retry(
    service: DebateService, store: SqliteStore, clock: FakeClock
) -> None:
    poll = await posted_poll(store, "C1", clock.now - timedelta(hours=21), clock.now - timedelta(minutes=1))
    port = FakePort(clock)
    real_post = port.post_outcome

    async def crash_once(*args, **kwargs) -> None:
        port.post_outcome = real_post  # type: ignore[method-assign]
        raise Crash("before the platform accepted the outcome")

    port.post_outcome = crash_once  # type: ignore[method-assign]
    with pytest.raises(Crash):
        await Scheduler(service, {"fake": port}, "p1", clock).tick()
    clock.advance(minutes=3)
    report = await Scheduler(service, {"fake": port}, "p2", clock).tick()
    assert report.outcomes == [poll.id] and port.outcomes[poll.id] == 1


async def test_abandoned_poll_gets_no_outcome(service: DebateService, store: SqliteStore, clock: FakeClock) -> None:
    poll = await posted_poll(store, "C1", clock.now - timedelta(hours=21), clock.now + timedelta(hours=1))
    await store.abandon_poll(poll.id, clock.now)
    port = FakePort(clock)
    clock.advance(hours=2)
    report = await Scheduler(service, {"fake": port}, "p1", clock).tick()
    assert report.outcomes == [] and port.outcome_attempts == []
    assert await store.polls_awaiting_outcome() == []
