"""1,000+ simulated days: two schedulers on one database, random crashes, outages and DST.

Nothing sleeps: the clock is fake and jumps forward; the platform is a recorder that can crash
just before or just after accepting a post or an outcome, and one channel refuses every post for
a few days (the bot was removed from it) while the others must go on as if nothing happened.

Runs on SQLite (1,000 days) and on PostgreSQL (400 days: every DST change of every zone still falls
inside, but each query is a round trip to a server, and the whole suite must stay within minutes).
The two schedulers are two stores, i.e. two connection pools on PostgreSQL, with leases on the fake
clock (lease_clock="caller").
"""

from __future__ import annotations

import random
from bisect import bisect_left, bisect_right
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from core.catalogue import t as say
from core.content import load_pack
from core.models import Poll, Schedule
from core.render import Card
from core.scheduler.engine import Scheduler
from core.scheduler.timing import DailyRule, local_occurrence
from core.service import DebateService
from core.store.base import Store
from core.store.sqlite import SqliteStore
from tests.conftest import FakeClock

GRACE = timedelta(hours=2)
LEASE = timedelta(minutes=2)
START = datetime(2024, 1, 1, tzinfo=UTC)
DAYS = {"sqlite": 1000, "postgres": 400}


class Crash(BaseException):
    """The process died here. Not an Exception: no handler in the code under test may survive it."""


class Refused(Exception):
    """The platform refused the request (the bot can no longer post in the channel)."""


@dataclass
class Recorder:
    """A fake platform shared by both processes: it sees every post, duplicates included."""

    crash: random.Random
    p_crash: float
    clock: FakeClock
    refusing: dict[str, list[tuple[datetime, datetime]]] = field(default_factory=dict)  # channel -> [from, to)
    posts: list[tuple[str, int, datetime]] = field(default_factory=list)
    outcomes: Counter[int] = field(default_factory=Counter)
    outcome_times: dict[int, datetime] = field(default_factory=dict)
    refused_outcomes: Counter[int] = field(default_factory=Counter)
    platform: str = "sim"

    def _refuse(self, poll: Poll) -> None:
        if any(start <= self.clock() < end for start, end in self.refusing.get(poll.channel_id, [])):
            raise Refused(f"not_in_channel: {poll.channel_id}")

    def _maybe_crash(self, where: str) -> None:
        if self.crash.random() < self.p_crash:
            raise Crash(where)

    async def post_poll(self, poll: Poll, card: Card) -> str:
        assert card.marker and str(poll.id) in card.marker
        self._refuse(poll)
        self._maybe_crash("before the platform accepted the post")
        self.posts.append((poll.channel_id, poll.id, self.clock()))
        self._maybe_crash("after the platform accepted the post, before the store recorded it")
        return f"{poll.channel_id}:{poll.id}"

    async def find_poll_message(self, poll: Poll) -> str | None:
        self._refuse(poll)
        found = [p for p in self.posts if p[0] == poll.channel_id and p[1] == poll.id]
        return f"{poll.channel_id}:{poll.id}" if found else None

    async def update_poll(self, poll: Poll, card: Card) -> None:
        assert not any(b.payload.startswith("cp1:vote") for b in card.buttons), "closed polls keep no vote buttons"
        self._refuse(poll)

    async def post_outcome(self, poll: Poll, card: Card) -> None:
        assert card.marker is None or str(poll.id) in card.marker
        try:
            self._refuse(poll)
        except Refused:
            self.refused_outcomes[poll.id] += 1
            raise
        self._maybe_crash("before the platform accepted the outcome")
        self.outcomes[poll.id] += 1
        self.outcome_times.setdefault(poll.id, self.clock())
        self._maybe_crash("after the platform accepted the outcome, before the store recorded it")

    async def find_outcome_message(self, poll: Poll) -> str | None:
        try:  # a retry first looks for an earlier outcome: the channel refusing that is refusing the outcome
            self._refuse(poll)
        except Refused:
            self.refused_outcomes[poll.id] += 1
            raise
        return f"{poll.channel_id}:{poll.id}:outcome" if self.outcomes[poll.id] else None


SCHEDULES = [
    # channel, time, zone, weekdays: a gap time in New York, a folded time in Berlin, Lord Howe's 30-min DST
    ("ny", time(2, 30), "America/New_York", frozenset(range(7))),
    ("berlin", time(2, 30), "Europe/Berlin", frozenset({0, 1, 2, 3, 4})),
    ("lordhowe", time(1, 45), "Australia/Lord_Howe", frozenset({0, 2, 4, 6})),
    ("refuser", time(12, 0), "UTC", frozenset(range(7))),
]
REFUSER = "refuser"


def refusing(days: int) -> list[tuple[datetime, datetime]]:
    """The bot is removed from the channel three times, at 30%, 60% and 90% of the run (days 300-301,
    600-601 and 900-901 of 1,000), from 06:00: yesterday's poll closes, and its outcome is refused, inside
    the window. Two days each: a third refused day in a row pauses the schedule
    (tests/test_scheduler_isolation.py covers that). Six refused days, so that the crashes and outages,
    random as they are, leave at least three of them with a healthy tick to judge."""
    return [(START + timedelta(days=d, hours=6), START + timedelta(days=d + 2))
            for d in (days * 3 // 10, days * 6 // 10, days * 9 // 10)]


async def open_process(location: str, clock: FakeClock) -> tuple[Store, DebateService]:
    store: Store
    if location.startswith("postgresql://"):
        from core.store.postgres import PostgresStore

        store = PostgresStore(location, pool_max=4, lease_clock="caller")  # leases on the fake clock
    else:
        store = SqliteStore(location)
    await store.open()
    return store, DebateService(load_pack(), store, "sim-secret-0123456789", clock=clock)


async def sql_rows(store: Store, sql: str) -> list[tuple[Any, ...]]:
    """A parameterless query on either engine."""
    if isinstance(store, SqliteStore):
        cur = await store.reader.execute(sql)
        return [tuple(r) for r in await cur.fetchall()]
    return [tuple(r) for r in await store.pool.fetch(sql)]  # type: ignore[attr-defined]


def instant(value: str | datetime) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def crashing(rng: random.Random, p: list[float], method):
    async def wrapper(*args, **kwargs):
        if rng.random() < p[0]:
            raise Crash(f"before {method.__name__}")
        result = await method(*args, **kwargs)
        if rng.random() < p[0]:
            raise Crash(f"after {method.__name__}")
        return result

    return wrapper


CRASHING_STORE_METHODS = (
    "bind_occurrence_poll", "finish_occurrence", "claim_occurrence", "fail_occurrence", "give_up_occurrence",
    "abandon_poll", "claim_outcome", "mark_outcome_posted", "fail_outcome",
)


def first_ok_tick(moment: datetime, clean_ticks: list[datetime], crash_times: list[datetime]) -> datetime | None:
    """The first clean tick from `moment` on that no crash's lease could still block (both lists sorted)."""
    for t in clean_ticks[bisect_left(clean_ticks, moment):]:
        recent = bisect_right(crash_times, t) - bisect_right(crash_times, t - LEASE)  # crashes in (t - LEASE, t]
        if not recent:
            return t
    return None


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgres":
        return str(request.getfixturevalue("pg_dsn"))
    return str(tmp_path / "sim.db")


async def test_thousand_days_two_processes_random_crashes(database: str) -> None:
    run_days = DAYS["postgres" if database.startswith("postgresql://") else "sqlite"]
    rng = random.Random(20261126)
    clock = FakeClock(START)
    platform = Recorder(random.Random(7), 0.04, clock, refusing={REFUSER: refusing(run_days)})
    p_store_crash = [0.02]
    processes = [await open_process(database, clock) for _ in range(2)]

    def scheduler(i: int, generation: int) -> Scheduler:
        return Scheduler(processes[i][1], {"sim": platform}, f"p{i}-gen{generation}", clock, GRACE, LEASE)

    try:
        for store, service in processes:
            for name in CRASHING_STORE_METHODS:
                setattr(store, name, crashing(rng, p_store_crash, getattr(store, name)))
            service.attach_message = crashing(rng, p_store_crash, service.attach_message)  # type: ignore[method-assign]
        for channel, at, zone, days in SCHEDULES:
            await processes[0][0].save_schedule(Schedule("space", channel, "sim", at, zone, days, timedelta(hours=20),
                                                         "shuffle", "seed", since=START))
        await run_and_judge(processes, platform, rng, clock, p_store_crash, scheduler, run_days)
    finally:  # an open store keeps its threads, and with them the test process, alive
        for store, _ in processes:
            await store.close()


async def run_and_judge(processes, platform: Recorder, rng: random.Random, clock: FakeClock,
                        p_store_crash: list[float], scheduler, run_days: int) -> None:
    store0, _ = processes[0]
    generation = [0, 0]
    schedulers = [scheduler(0, 0), scheduler(1, 0)]
    clean_ticks: list[datetime] = []
    crash_times: list[datetime] = []
    end = START + timedelta(days=run_days)
    refused_windows = platform.refusing[REFUSER]

    async def tick_both(p_down: float) -> None:
        for i in rng.sample([0, 1], 2):
            if rng.random() < p_down:
                continue  # this process is down for this tick
            try:
                await schedulers[i].tick()
                clean_ticks.append(clock.now)
            except Crash:
                crash_times.append(clock.now)
                generation[i] += 1
                schedulers[i] = scheduler(i, generation[i])  # a restarted process: new holder, same database

    while clock.now < end:
        # Mostly short steps; now and then an outage long enough to miss a post entirely.
        step = timedelta(minutes=rng.randint(10, 100)) if rng.random() > 0.01 else timedelta(hours=rng.randint(3, 30))
        clock.advance(seconds=step.total_seconds())
        await tick_both(0.1)
    # Then a calm day without crashes: whatever is still owed must now be delivered.
    platform.p_crash = p_store_crash[0] = 0.0
    for _ in range(24 * 6):
        clock.advance(minutes=10)
        await tick_both(0.0)

    # Judge every occurrence the rule implies, computed independently of the scheduler's bookkeeping.
    posts_per_poll = Counter(poll_id for _, poll_id, _ in platform.posts)
    assert max(posts_per_poll.values()) == 1, "a poll was posted twice"
    poll_of: dict[tuple[str, date], int] = {}
    states: dict[tuple[str, date], str] = {}
    for channel, _, _, _ in SCHEDULES:
        for day, (state, poll_id) in (await store0.occurrence_states("space", channel)).items():
            states[(channel, day)] = state
            if state == "posted":
                poll_of[(channel, day)] = poll_id  # type: ignore[assignment]
    posted_ids = set(posts_per_poll)
    assert set(poll_of.values()) <= posted_ids
    # Deck wrap-arounds are news for every channel; the refusals are what this judges.
    notices = [n for n in await store0.notices("space", limit=10_000) if n.text != say("scheduler.deck_wrapped")]
    notice_days = Counter(n.text.split("for ", 1)[1][:10] for n in notices)
    assert [n for n in notices if n.channel_id != REFUSER] == [], "only the refusing channel has news"
    assert notice_days and max(notice_days.values()) == 1, "an occurrence was announced twice"
    checked = missed = refused = 0
    for channel, at, zone, days in SCHEDULES:
        rule = DailyRule(at, ZoneInfo(zone), days)
        day = START.date() - timedelta(days=1)
        while day < end.date() - timedelta(days=1):
            day += timedelta(days=1)
            due = rule.occurrence(day)
            if due is None or due <= START:
                continue
            first = first_ok_tick(due, clean_ticks, crash_times)
            window_ok = first is not None and first <= due + GRACE
            posted = poll_of.get((channel, day))
            if channel == REFUSER and any(start <= due < stop for start, stop in refused_windows):
                # Refused every time: skipped, and the admins told once when it was ever tried.
                assert posted is None and states.get((channel, day)) == "skipped"
                if window_ok:
                    refused += 1
                    assert day.isoformat() in notice_days, f"no notice for the refused {day}"
                continue
            assert day.isoformat() not in notice_days or channel != REFUSER, f"a notice for {day}, never refused"
            if window_ok:
                checked += 1
                if posted is None:
                    missed += 1
            if posted is not None:
                when_posted = next(t for _, pid, t in platform.posts if pid == posted)
                assert due <= when_posted <= due + GRACE, "posted outside the grace window"
    assert missed == 0
    assert checked > run_days * 3 // 2
    assert refused >= 3  # of the 6 refused days; a day with no healthy tick in its grace window is not counted
    # Each local date posts once per channel even across DST: the gap time posts at the jump.
    gap_day = local_occurrence(date(2024, 3, 10), time(2, 30), ZoneInfo("America/New_York"))
    assert gap_day == datetime(2024, 3, 10, 7, 0, tzinfo=UTC)
    # Outcomes: never twice; every closed, posted poll's outcome delivered, on time outside the refusing
    # channel (the first clean tick after it closed), and given up only where the channel refused it.
    assert platform.outcomes and max(platform.outcomes.values()) == 1, "an outcome was posted twice"
    closed = await sql_rows(
        store0,
        "SELECT id, channel_id, closed_at, abandoned_at, outcome_given_up_at FROM polls "
        "WHERE closed_at IS NOT NULL AND message_ref IS NOT NULL",
    )
    delivered = given_up = 0
    for poll_id, channel, closed_at, abandoned_at, given_up_at in closed:
        assert abandoned_at is None, "a posted poll was abandoned"
        if given_up_at is not None:
            assert channel == REFUSER and platform.refused_outcomes[poll_id] and not platform.outcomes[poll_id]
            given_up += 1
            continue
        assert platform.outcomes[poll_id] == 1, f"the outcome of poll #{poll_id} was never posted"
        delivered += 1
        if channel != REFUSER:
            first_chance = first_ok_tick(instant(closed_at), clean_ticks, crash_times)
            assert first_chance is not None and platform.outcome_times[poll_id] <= first_chance, (
                f"the outcome of poll #{poll_id} came late")
    assert delivered > run_days * 2 and given_up >= 1
    abandoned = await sql_rows(store0, "SELECT COUNT(*) FROM polls WHERE abandoned_at IS NOT NULL")
    assert abandoned[0][0] >= refused
    assert len(crash_times) > run_days // 20, "the simulation must actually crash"
