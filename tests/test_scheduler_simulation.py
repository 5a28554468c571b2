"""1,000+ simulated days: two schedulers on one database, random crashes, outages and DST.

Nothing sleeps: the clock is fake and jumps forward; the platform is a recorder that can crash
just before or just after accepting a post.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from core.content import load_pack
from core.models import Poll, Schedule
from core.render import Card
from core.scheduler.engine import Scheduler
from core.scheduler.timing import DailyRule, local_occurrence
from core.service import DebateService
from core.store.sqlite import SqliteStore
from tests.conftest import FakeClock

GRACE = timedelta(hours=2)
LEASE = timedelta(minutes=2)
START = datetime(2024, 1, 1, tzinfo=UTC)
DAYS = 1000


class Crash(Exception):
    """The process died here."""


@dataclass
class Recorder:
    """A fake platform shared by both processes: it sees every post, duplicates included."""

    crash: random.Random
    p_crash: float
    clock: FakeClock
    posts: list[tuple[str, int, datetime]] = field(default_factory=list)
    outcomes: Counter[int] = field(default_factory=Counter)
    platform: str = "sim"

    async def post_poll(self, poll: Poll, card: Card) -> str:
        assert card.marker and str(poll.id) in card.marker
        if self.crash.random() < self.p_crash:
            raise Crash("before the platform accepted the post")
        self.posts.append((poll.channel_id, poll.id, self.clock()))
        if self.crash.random() < self.p_crash:
            raise Crash("after the platform accepted the post, before the store recorded it")
        return f"{poll.channel_id}:{poll.id}"

    async def find_poll_message(self, poll: Poll) -> str | None:
        found = [p for p in self.posts if p[0] == poll.channel_id and p[1] == poll.id]
        return f"{poll.channel_id}:{poll.id}" if found else None

    async def update_poll(self, poll: Poll, card: Card) -> None:
        assert not any(b.payload.startswith("cp1:vote") for b in card.buttons), "closed polls keep no vote buttons"

    async def post_outcome(self, poll: Poll, card: Card) -> None:
        self.outcomes[poll.id] += 1


SCHEDULES = [
    # channel, time, zone, weekdays: a gap time in New York, a folded time in Berlin, Lord Howe's 30-min DST
    ("ny", time(2, 30), "America/New_York", frozenset(range(7))),
    ("berlin", time(2, 30), "Europe/Berlin", frozenset({0, 1, 2, 3, 4})),
    ("lordhowe", time(1, 45), "Australia/Lord_Howe", frozenset({0, 2, 4, 6})),
]


async def open_process(path: Path, clock: FakeClock) -> tuple[SqliteStore, DebateService]:
    store = SqliteStore(path)
    await store.open()
    return store, DebateService(load_pack(), store, "sim-secret-0123456789", clock=clock)


def crashing(rng: random.Random, p: float, method):
    async def wrapper(*args, **kwargs):
        if rng.random() < p:
            raise Crash(f"before {method.__name__}")
        result = await method(*args, **kwargs)
        if rng.random() < p:
            raise Crash(f"after {method.__name__}")
        return result

    return wrapper


async def test_thousand_days_two_processes_random_crashes(tmp_path: Path) -> None:
    rng = random.Random(20261126)
    clock = FakeClock(START)
    db = tmp_path / "sim.db"
    platform = Recorder(random.Random(7), 0.04, clock)
    processes = [await open_process(db, clock) for _ in range(2)]
    for store, service in processes:
        for name in ("bind_occurrence_poll", "finish_occurrence", "claim_occurrence"):
            setattr(store, name, crashing(rng, 0.02, getattr(store, name)))
        service.attach_message = crashing(rng, 0.02, service.attach_message)  # type: ignore[method-assign]
    store0, _ = processes[0]
    for channel, at, zone, days in SCHEDULES:
        await store0.save_schedule(Schedule("space", channel, "sim", at, zone, days, timedelta(hours=20),
                                            "shuffle", "seed", since=START))
    generation = [0, 0]

    def scheduler(i: int) -> Scheduler:
        return Scheduler(processes[i][1], {"sim": platform}, f"p{i}-gen{generation[i]}", clock, GRACE, LEASE)

    schedulers = [scheduler(0), scheduler(1)]
    clean_ticks: list[datetime] = []
    crash_times: list[datetime] = []
    end = START + timedelta(days=DAYS)
    while clock.now < end:
        # Mostly short steps; now and then an outage long enough to miss a post entirely.
        step = timedelta(minutes=rng.randint(10, 100)) if rng.random() > 0.01 else timedelta(hours=rng.randint(3, 30))
        clock.advance(seconds=step.total_seconds())
        for i in rng.sample([0, 1], 2):
            if rng.random() < 0.1:
                continue  # this process is down for this tick
            try:
                await schedulers[i].tick()
                clean_ticks.append(clock.now)
            except Crash:
                crash_times.append(clock.now)
                generation[i] += 1
                schedulers[i] = scheduler(i)  # a restarted process: new holder, same database
    # Judge every occurrence the rule implies, computed independently of the scheduler's bookkeeping.
    posts_per_poll = Counter(poll_id for _, poll_id, _ in platform.posts)
    assert max(posts_per_poll.values()) == 1, "a poll was posted twice"
    poll_of: dict[tuple[str, date], int] = {}
    for channel, _, _, _ in SCHEDULES:
        for day, (state, poll_id) in (await store0.occurrence_states("space", channel)).items():
            if state == "posted":
                poll_of[(channel, day)] = poll_id  # type: ignore[assignment]
    posted_ids = set(posts_per_poll)
    assert set(poll_of.values()) <= posted_ids
    checked = missed = 0
    for channel, at, zone, days in SCHEDULES:
        rule = DailyRule(at, ZoneInfo(zone), days)
        day = START.date()
        while day < end.date() - timedelta(days=1):
            due = rule.occurrence(day)
            day += timedelta(days=1)
            if due is None or due <= START:
                continue
            window_ok = any(due <= t <= due + GRACE and all(not (t - LEASE < c <= t) for c in crash_times)
                            for t in clean_ticks)
            posted = poll_of.get((channel, day - timedelta(days=1)))
            if window_ok:
                checked += 1
                if posted is None:
                    missed += 1
            if posted is not None:
                when_posted = next(t for _, pid, t in platform.posts if pid == posted)
                assert due <= when_posted <= due + GRACE, "posted outside the grace window"
    assert missed == 0
    assert checked > 1500
    # Each local date posts once per channel even across DST: the gap time posts at the jump.
    gap_day = local_occurrence(date(2024, 3, 10), time(2, 30), ZoneInfo("America/New_York"))
    assert gap_day == datetime(2024, 3, 10, 7, 0, tzinfo=UTC)
    # Outcomes: every poll that closed while a clean tick followed got exactly one outcome.
    assert platform.outcomes and max(platform.outcomes.values()) == 1
    assert len(crash_times) > 50, "the simulation must actually crash"
    for store, _ in processes:
        await store.close()
