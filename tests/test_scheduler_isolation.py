"""Finding 5: one channel that refuses posts must not hold up any other channel, and is given up.

Real store (aiosqlite on a file), real service and scheduler; only the chat platform is fake and the
clock jumps. Every check is on what the platform saw and what the store recorded.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import date, time, timedelta

import pytest

from core.models import ChannelSettings
from core.scheduler.engine import Scheduler
from core.service import DebateService
from core.store.sqlite import SqliteStore
from tests.conftest import FakeClock
from tests.scheduler_fakes import Crash, FakePort, daily, posted_poll

NINE = time(9, 0)  # the conftest clock starts on Monday 2 March 2026, 09:00 UTC
TODAY = date(2026, 3, 2)


def _minutes(port: FakePort, channel: str, clock_start) -> list[int]:
    return [int((at - clock_start).total_seconds() // 60) for ch, at in port.post_attempts if ch == channel]


async def test_a_refusing_channel_does_not_delay_other_channels(
    service: DebateService, store: SqliteStore, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    since = clock.now - timedelta(minutes=1)
    for channel in ("broken", "fine"):
        await store.save_schedule(daily(channel, NINE, since))
    expired = await posted_poll(store, "other", clock.now - timedelta(hours=21), clock.now - timedelta(hours=1))
    port = FakePort(clock, refusing={"broken"})
    with caplog.at_level(logging.WARNING, logger="core.scheduler"):
        report = await Scheduler(service, {"fake": port}, "p1", clock).tick()
    assert [p[0] for p in port.posts] == ["fine"]
    assert report.closed == [expired.id] and report.outcomes == [expired.id] and port.outcomes[expired.id] == 1
    lines = [r.getMessage() for r in caplog.records if "broken" in r.getMessage()]
    assert len(lines) == 1 and "S1/broken" in lines[0] and "not_in_channel" in lines[0], lines


async def test_refused_posts_back_off_then_skip_once_with_one_notice(
    service: DebateService, store: SqliteStore, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    start = clock.now
    schedule = daily("broken", NINE, start - timedelta(minutes=1))
    await store.save_schedule(schedule)
    port = FakePort(clock, refusing={"broken"})
    scheduler = Scheduler(service, {"fake": port}, "p1", clock)
    with caplog.at_level(logging.WARNING, logger="core.scheduler"):
        for _ in range(41):  # every minute from 09:00 to 09:40, then until the grace window is long over
            await scheduler.tick()
            clock.advance(minutes=1)
        for _ in range(20):
            await scheduler.tick()
            clock.advance(minutes=10)
    assert _minutes(port, "broken", start) == [0, 2, 6, 14, 30], "2, 4, 8, 16 minutes apart, then given up"
    states = await store.occurrence_states("S1", "broken")
    state, poll_id = states[TODAY]
    assert state == "skipped" and poll_id is not None
    poll = await store.get_poll(poll_id)
    assert poll is not None and poll.abandoned and poll.closed_at is not None
    assert await store.used_prompt_ids("S1", "broken") == [], "an abandoned poll does not use up its prompt"
    notices = await store.notices("S1")
    assert len(notices) == 1 and notices[0].channel_id == "broken" and TODAY.isoformat() in notices[0].text
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert sum("failed" in m and "S1/broken" in m for m in messages) == 5, messages
    assert sum("gave up" in m for m in messages) == 1
    after = await store.get_schedule("S1", "broken")
    assert after is not None and after.done_through == TODAY and after.next_due_at == start + timedelta(days=1)


async def test_a_short_grace_window_ends_the_retries_early(
    service: DebateService, store: SqliteStore, clock: FakeClock
) -> None:
    start = clock.now
    await store.save_schedule(daily("broken", NINE, start - timedelta(minutes=1)))
    port = FakePort(clock, refusing={"broken"})
    scheduler = Scheduler(service, {"fake": port}, "p1", clock, grace=timedelta(minutes=10))
    for _ in range(30):
        await scheduler.tick()
        clock.advance(minutes=1)
    # The next try after 09:06 would be 09:14, past the 09:10 end of the window: given up at once.
    assert _minutes(port, "broken", start) == [0, 2, 6]
    assert (await store.occurrence_states("S1", "broken"))[TODAY][0] == "skipped"
    assert len(await store.notices("S1")) == 1


async def test_grace_ending_while_nobody_ticks_still_skips_and_tells(
    service: DebateService, store: SqliteStore, clock: FakeClock
) -> None:
    start = clock.now
    await store.save_schedule(daily("broken", NINE, start - timedelta(minutes=1)))
    port = FakePort(clock, refusing={"broken"})
    await Scheduler(service, {"fake": port}, "p1", clock).tick()  # refused once, then the process was down
    clock.advance(hours=3)
    report = await Scheduler(service, {"fake": port}, "p2", clock).tick()
    assert report.given_up == [("S1", "broken", TODAY)]
    state, poll_id = (await store.occurrence_states("S1", "broken"))[TODAY]
    poll = await store.get_poll(poll_id)  # type: ignore[arg-type]
    assert state == "skipped" and poll is not None and poll.abandoned
    assert len(await store.notices("S1")) == 1
    await Scheduler(service, {"fake": port}, "p3", clock).tick()
    assert len(await store.notices("S1")) == 1
    assert _minutes(port, "broken", start) == [0, 180], "one post, one look for it after the window; no more"


async def test_crash_between_abandoning_and_skipping_still_gives_one_notice(
    service: DebateService, store: SqliteStore, clock: FakeClock
) -> None:
    start = clock.now
    await store.save_schedule(daily("broken", NINE, start - timedelta(minutes=1)))
    port = FakePort(clock, refusing={"broken"})
    real_give_up = store.give_up_occurrence
    crashes = [1]

    async def crashing_give_up(*args, **kwargs):  # the process dies after abandoning the poll, before the skip
        if crashes:
            crashes.pop()
            raise Crash("before give_up_occurrence")
        return await real_give_up(*args, **kwargs)

    store.give_up_occurrence = crashing_give_up  # type: ignore[method-assign]
    holder = 0
    for _ in range(60):
        try:
            await Scheduler(service, {"fake": port}, f"p{holder}", clock).tick()
        except Crash:
            holder += 1
        clock.advance(minutes=1)
    assert holder == 1
    assert _minutes(port, "broken", start) == [0, 2, 6, 14, 30], "the abandoned poll is never posted again"
    assert (await store.occurrence_states("S1", "broken"))[TODAY][0] == "skipped"
    assert len(await store.notices("S1")) == 1


async def test_new_scheduled_question_closes_the_previous_poll_and_snapshots_settings(
    service: DebateService, store: SqliteStore, clock: FakeClock
) -> None:
    previous = await posted_poll(store, "C1", clock.now - timedelta(hours=2), clock.now + timedelta(days=3))
    await store.save_channel_settings(ChannelSettings("S1", "C1", min_votes=5, results_live=False))
    await store.save_schedule(daily("C1", NINE, clock.now - timedelta(minutes=1)))
    port = FakePort(clock)
    report = await Scheduler(service, {"fake": port}, "p1", clock).tick()
    (_, _, _, poll_id), = report.posted
    new = await store.get_poll(poll_id)
    old = await store.get_poll(previous.id)
    assert new is not None and new.min_votes == 5 and new.results_live is False and new.closed_at is None
    assert old is not None and old.closed_at == new.opened_at
    assert report.outcomes == [previous.id], "the replaced poll's outcome follows in the same tick"


async def test_run_forever_purges_daily_even_when_every_tick_fails(
    service: DebateService, store: SqliteStore, clock: FakeClock
) -> None:
    calls = 0

    async def broken_due_schedules(now):
        nonlocal calls
        calls += 1
        if calls == 3:
            raise asyncio.CancelledError  # stop the loop here
        clock.advance(days=1)  # each failing tick lands on a new day
        raise OSError("disk I/O error")

    purges: list[date] = []
    real_purge = service.purge_expired

    async def counting_purge() -> int:
        purges.append(clock.now.date())
        return await real_purge()

    store.due_schedules = broken_due_schedules  # type: ignore[method-assign]
    service.purge_expired = counting_purge  # type: ignore[method-assign]
    with pytest.raises(asyncio.CancelledError):
        await Scheduler(service, {"fake": FakePort(clock)}, "p1", clock).run_forever(interval=0)
    assert purges == [TODAY + timedelta(days=1), TODAY + timedelta(days=2)]


async def test_admins_see_the_notice_in_schedule_show_and_home(
    service: DebateService, store: SqliteStore, clock: FakeClock
) -> None:
    from dataclasses import replace

    from core.scheduler.commands import ScheduleCommands
    from tests.conftest import member

    await store.save_schedule(daily("broken", NINE, clock.now - timedelta(minutes=1)))
    scheduler = Scheduler(service, {"fake": FakePort(clock, refusing={"broken"})}, "p1", clock)
    for _ in range(40):
        await scheduler.tick()
        clock.advance(minutes=5)
    admin = member("admin", admin=True, channel="broken")
    shown = await ScheduleCommands(service).handle(admin, ["show"])
    assert "Last problem" in shown.text and TODAY.isoformat() in shown.text
    home = await service.home(replace(admin, channel_id=""))
    assert len(home.notices) == 1 and TODAY.isoformat() in home.notices[0]
    assert (await service.home(member("someone"))).notices == ()


async def test_a_channel_refusing_three_days_running_is_paused_once_and_resumes(
    service: DebateService, store: SqliteStore, clock: FakeClock
) -> None:
    """Review finding: a channel removed for good got five refused posts and a notice every day, forever."""
    from core.scheduler.commands import ScheduleCommands
    from tests.conftest import member

    start = clock.now
    for channel in ("broken", "fine"):
        await store.save_schedule(daily(channel, NINE, start - timedelta(minutes=1)))
    port = FakePort(clock, refusing={"broken"})
    scheduler = Scheduler(service, {"fake": port}, "p1", clock)
    for day in range(5):
        clock.now = start + timedelta(days=day)
        for _ in range(25):  # 09:00 to 10:12, past every retry
            await scheduler.tick()
            clock.advance(minutes=3)
    attempts_per_day = [sum(1 for ch, at in port.post_attempts if ch == "broken" and (at - start).days == d)
                        for d in range(5)]
    assert attempts_per_day == [5, 5, 5, 0, 0], attempts_per_day
    assert sum(1 for ch, _poll, _at in port.posts if ch == "fine") == 5, "the other channel posts every day"
    notices = [n.text for n in await store.notices("S1") if n.channel_id == "broken"]
    assert len(notices) == 4 and "paused" in notices[0]  # newest first: three days skipped, then the pause
    paused = await store.get_schedule("S1", "broken")
    assert paused is not None and not paused.enabled
    from dataclasses import replace

    admin = replace(member("admin", admin=True, channel="broken"), platform="fake")
    shown = await ScheduleCommands(service).handle(admin, ["show"])
    assert "paused" in shown.text
    port.refusing.clear()
    clock.now = start + timedelta(days=5, hours=-1)
    assert not (await ScheduleCommands(service).handle(admin, ["set"])).error
    clock.now = start + timedelta(days=5)
    for _ in range(3):
        await scheduler.tick()
        clock.advance(minutes=3)
    assert any(ch == "broken" for ch, _poll, _at in port.posts), "schedule set turned it back on"
