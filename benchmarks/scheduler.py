"""10,000 schedules across many zones: one due-scan tick, and a tick that claims and posts a due batch."""

from __future__ import annotations

import asyncio
import statistics
import time as clock
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from benchmarks.common import bench_service, record
from core.models import Poll, Schedule
from core.render import Card
from core.scheduler.engine import Scheduler
from core.scheduler.timing import DailyRule, next_occurrence

SCHEDULES = 10_000
DUE_BATCH = 200
TICK_TARGET_MS = 20.0
ZONES = ["UTC", "Europe/Berlin", "Europe/London", "America/New_York", "America/Los_Angeles", "Asia/Kolkata",
         "Asia/Tokyo", "Australia/Sydney", "Australia/Lord_Howe", "Pacific/Chatham", "America/St_Johns",
         "Africa/Nairobi", "America/Sao_Paulo", "Asia/Kathmandu", "Pacific/Auckland", "Europe/Helsinki"]


class NullPort:
    platform = "bench"

    async def post_poll(self, poll: Poll, card: Card) -> str:
        return f"{poll.channel_id}:{poll.id}"

    async def find_poll_message(self, poll: Poll) -> str | None:
        return None

    async def update_poll(self, poll: Poll, card: Card) -> None:
        return None

    async def post_outcome(self, poll: Poll, card: Card) -> None:
        return None

    async def find_outcome_message(self, poll: Poll) -> str | None:
        return None


async def main() -> list[str]:
    now = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    current = [now]
    async with bench_service() as (service, store):
        started = clock.perf_counter()
        for i in range(SCHEDULES):
            zone = ZONES[i % len(ZONES)]
            # The first DUE_BATCH are due exactly at `now` in their own zone; the rest spread over the day.
            at = now.astimezone(ZoneInfo(zone)).time() if i < DUE_BATCH else time((i * 7) % 24, (i * 13) % 60)
            since = now - timedelta(minutes=1) if i < DUE_BATCH else now
            rule = DailyRule(at, ZoneInfo(zone), frozenset(range(7)))
            due = now if i < DUE_BATCH else next_occurrence(rule, now)[1]
            await store.save_schedule(Schedule("bench-space", f"c{i}", "bench", at, zone, frozenset(range(7)),
                                               timedelta(hours=24), "section", "seed", since=since,
                                               next_due_at=due))
        seeding = clock.perf_counter() - started
        scheduler = Scheduler(service, {"bench": NullPort()}, "bench", clock=lambda: current[0])
        idle: list[float] = []
        current[0] = now - timedelta(seconds=30)
        for _ in range(50):
            t0 = clock.perf_counter()
            await scheduler.tick()
            idle.append(clock.perf_counter() - t0)
        current[0] = now
        t0 = clock.perf_counter()
        report = await scheduler.tick()
        batch_s = clock.perf_counter() - t0
    idle_ms = statistics.median(idle) * 1000
    record(f"Scheduler tick, {SCHEDULES:,} schedules (median)", f"{idle_ms:.2f} ms", f"<= {TICK_TARGET_MS:.0f} ms",
           idle_ms <= TICK_TARGET_MS)
    lines = [
        f"== scheduler: {SCHEDULES:,} schedules in {len(ZONES)} zones (seeded in {seeding:.1f} s)",
        f"  due-scan tick, nothing due     median {idle_ms:.2f} ms, max {max(idle) * 1000:.2f} ms over 50 ticks",
        f"  tick with a due batch          {batch_s * 1000:.1f} ms for {len(report.posted)} claimed + posted "
        f"({batch_s * 1000 / max(1, len(report.posted)):.2f} ms each)",
        f"scheduler: tick {idle_ms:.2f} ms (target <= {TICK_TARGET_MS:.0f} ms): "
        f"{'PASS' if idle_ms <= TICK_TARGET_MS else 'MISS'}",
    ]
    return lines


if __name__ == "__main__":
    print("\n".join(asyncio.run(main())))
