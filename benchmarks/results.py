"""Results speed: results_for() and the rendered results reply on a poll holding 100,000 votes.

Results read only the `tallies` aggregate (a few rows per poll), so their cost should not grow with
the number of votes. The poll is seeded through store.record_vote in large concurrent waves: slower
than raw SQL, but the tallies are then exactly what production would hold, and the seeding rate per
wave shows whether writes slow down as the votes table grows. The same database is then copied to
PostgreSQL with `counterpoint db copy` (when PostgreSQL is installed, see benchmarks/pg.py) and the
same calls are timed there. Target (issue 12): median <= 2 ms on both engines.
"""

from __future__ import annotations

import asyncio
import gc
import random
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from benchmarks import pg
from benchmarks.common import CHANNEL, SPACE, bench_service, machine, ms, percentile, rate, record, verdict
from core.models import Poll
from core.service import Actor, DebateService
from core.store.base import Store
from core.store.copy import copy_sqlite_to_postgres

VOTES = 100_000
CHANGES = 10_000  # some members change their mind, so the tally holds transitions, not only casts
WAVE = 5_000  # concurrent record_vote calls per wave: enough to keep every commit at batch_max
REPORT_EVERY = 20_000
RUNS = 500
WARMUP = 20
MEDIAN_TARGET_S = 0.002


async def timed(calls: dict[str, Callable[[], Awaitable[Any]]], runs: int = RUNS) -> dict[str, list[float]]:
    """Sorted latencies per call. Calls take turns, so a slow patch of the machine hits them all alike."""
    gc.collect()  # seeding left garbage; a full collection inside one sample would be our own noise
    for _ in range(WARMUP):
        for call in calls.values():
            await call()
    samples: dict[str, list[float]] = {label: [] for label in calls}
    for _ in range(runs):
        for label, call in calls.items():
            t0 = time.perf_counter()
            await call()
            samples[label].append(time.perf_counter() - t0)
    return {label: sorted(values) for label, values in samples.items()}


async def seed(service: DebateService, store: Store) -> Poll:
    """One poll holding VOTES votes, CHANGES of them changed since, all through store.record_vote."""
    prompt = service.content.prompts[0]
    poll = await service.open_poll(SPACE, CHANNEL, prompt)
    options = [o.id for o in prompt.options]
    rng = random.Random(11)
    at = service.clock()
    choice = {i: rng.choice(options) for i in range(VOTES)}

    waves: list[str] = []
    started = lap = time.perf_counter()
    for lo in range(0, VOTES, WAVE):
        hi = min(lo + WAVE, VOTES)
        await asyncio.gather(*(store.record_vote(poll.id, f"seed-{i:06d}", choice[i], at) for i in range(lo, hi)))
        if hi % REPORT_EVERY == 0:
            now = time.perf_counter()
            waves.append(f"{hi - REPORT_EVERY:,}-{hi:,}: {rate(REPORT_EVERY, now - lap)}")
            lap = now
    changed = rng.sample(range(VOTES), CHANGES)
    t_changes = time.perf_counter()
    await asyncio.gather(
        *(
            store.record_vote(poll.id, f"seed-{i:06d}", rng.choice([o for o in options if o != choice[i]]), at)
            for i in changed
        )
    )
    now = time.perf_counter()
    print(
        f"  seeded {VOTES + CHANGES:,} votes via store.record_vote in {now - started:.1f} s"
        f" ({rate(VOTES + CHANGES, now - started)}; the last {CHANGES:,} changes at"
        f" {rate(CHANGES, now - t_changes)})"
    )
    print(f"  write rate as the table grows: {' | '.join(waves)}")
    return poll


async def measure(engine: str, service: DebateService, store: Store, poll: Poll) -> float:
    """Prints the three calls' figures on `engine`; returns results_for's median."""
    tally = await store.tally(poll.id)
    sane = tally.total == VOTES and tally.changed() >= CHANGES * 0.9
    print(
        f"  {engine} tally: total {tally.total:,}, changed {tally.changed():,}, {len(tally.transitions)} tally rows"
        + ("" if sane else "  !! UNEXPECTED")
    )
    actor = Actor(SPACE, CHANNEL, "member-reader")
    samples = await timed(
        {
            "store.tally(poll)": lambda: store.tally(poll.id),
            "service.results_for(poll)": lambda: service.results_for(poll),
            "service.results(actor) rendered": lambda: service.results(actor, str(poll.id)),
        }
    )
    for label, values in samples.items():
        print(f"  {engine:<10} {label:<32} median {ms(percentile(values, 50))}, p99 {ms(percentile(values, 99))}")
    results_for = samples["service.results_for(poll)"]
    rendered = samples["service.results(actor) rendered"]
    median = percentile(results_for, 50)
    ok = median <= MEDIAN_TARGET_S and sane
    print(
        f"results ({engine}): results_for median {ms(median)}, p99 {ms(percentile(results_for, 99))}"
        f" | rendered median {ms(percentile(rendered, 50))}, p99 {ms(percentile(rendered, 99))}"
        f" | target median <= {MEDIAN_TARGET_S * 1000:.0f} ms: {verdict(ok)}"
    )
    record(f"Results, {VOTES // 1000}k-vote poll, {engine} (median)", ms(median),
           f"<= {MEDIAN_TARGET_S * 1000:.0f} ms", ok)
    return median


async def main() -> None:
    print(f"== results: one poll with {VOTES:,} votes, {RUNS} timed runs each ({machine()})")
    with tempfile.TemporaryDirectory(prefix="counterpoint-bench-") as folder:
        path = Path(folder) / "results.db"
        async with bench_service(path=path) as (service, store):
            poll = await seed(service, store)
            await measure("SQLite", service, store, poll)
        # The same data on PostgreSQL, moved the way an operator moves it (counterpoint db copy).
        server = pg.cluster()
        if server is None:
            print(pg.skip_reason())
            record(f"Results, {VOTES // 1000}k-vote poll, PostgreSQL (median)", "skipped",
                   f"<= {MEDIAN_TARGET_S * 1000:.0f} ms", None)
            return
        with pg.database(server) as dsn:
            started = time.perf_counter()
            await copy_sqlite_to_postgres(str(path), dsn)
            print(f"  copied to PostgreSQL (counterpoint db copy) in {time.perf_counter() - started:.1f} s")
            async with pg.pg_service(dsn) as (pg_service, pg_store):
                copied = await pg_store.get_poll(poll.id)
                assert copied is not None
                await measure("PostgreSQL", pg_service, pg_store, copied)


if __name__ == "__main__":
    asyncio.run(main())
