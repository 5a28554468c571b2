"""Vote throughput: durable votes per second through DebateService.vote, against raw sqlite3.

1,000 voters (asyncio tasks) each cast then keep changing their votes on a few open polls, so four
calls in five are changes, each writing a row, an event and two tally deltas (a first vote writes its row
and one tally delta). The raw figure is the ceiling on this machine:
stdlib sqlite3, WAL, synchronous=NORMAL, one upsert per transaction. Targets (issue 12): service at
least half the raw rate with 1,000 voters in flight, p99 per vote call at most 20 ms at an offered
10,000 votes/s (open loop). Every throughput figure is printed with its ratio to the raw rate.

`python -m benchmarks.votes --profile` also runs the service case under cProfile.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import hashlib
import io
import pstats
import random
import sqlite3
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.common import CHANNEL, SPACE, bench_service, machine, ms, percentile, rate, record, verdict
from core.service import Actor

VOTERS = 1_000
POLLS = 4
TOTAL_VOTES = 20_000
RATIO_TARGET = 0.5
# Open-loop runs: (votes/s offered, votes sent). 2,000/s is a very busy bot; 10,000/s is issue 12's target.
OPEN_RUNS = ((2_000, 6_000), (10_000, 30_000))
OPEN_TARGET_RATE = 10_000
P99_TARGET_S = 0.020


@dataclass
class Figures:
    label: str
    votes: int
    seconds: float
    latencies: list[float]  # sorted
    errors: int = 0
    batches: int = 0
    jobs: int = 0
    largest_batch: int = 0

    @property
    def per_second(self) -> float:
        return self.votes / self.seconds

    @property
    def p50(self) -> float:
        return percentile(self.latencies, 50)

    @property
    def p99(self) -> float:
        return percentile(self.latencies, 99)

    def line(self, raw: Figures | None = None) -> str:
        text = f"{self.label:<28} {rate(self.votes, self.seconds):>10} (p50 {ms(self.p50)}, p99 {ms(self.p99)})"
        if raw is not None:
            text += f" | {self.per_second / raw.per_second:.2f}x raw"
        if self.batches:
            text += (
                f" | {self.batches:,} commits, {self.jobs / self.batches:.1f} votes/commit,"
                f" largest {self.largest_batch}"
            )
        if self.errors:
            text += f" | {self.errors} ERRORS"
        return text


def raw_sqlite(total: int = TOTAL_VOTES) -> Figures:
    """The ceiling: one upsert per transaction, same key shape (64-hex voter keys) as the store."""
    keys = [hashlib.sha256(f"member-{v}".encode()).hexdigest() for v in range(VOTERS)]
    latencies: list[float] = []
    with tempfile.TemporaryDirectory(prefix="counterpoint-bench-") as folder:
        conn = sqlite3.connect(Path(folder) / "raw.db", isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(
                "CREATE TABLE votes (poll_id INTEGER NOT NULL, voter_key TEXT NOT NULL, option_id TEXT, "
                "updated_at TEXT NOT NULL, PRIMARY KEY (poll_id, voter_key)) WITHOUT ROWID"
            )
            sql = (
                "INSERT INTO votes (poll_id, voter_key, option_id, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (poll_id, voter_key) DO UPDATE SET option_id = excluded.option_id, "
                "updated_at = excluded.updated_at"
            )
            started = time.perf_counter()
            for i in range(total):
                t0 = time.perf_counter()
                conn.execute("BEGIN IMMEDIATE")
                conn.execute(sql, (i % POLLS, keys[i % VOTERS], str(i % 5), datetime.now(UTC).isoformat()))
                conn.execute("COMMIT")
                latencies.append(time.perf_counter() - t0)
            seconds = time.perf_counter() - started
        finally:
            conn.close()
    latencies.sort()
    return Figures("raw sqlite3 (1 upsert/txn)", total, seconds, latencies)


async def through_service(synchronous: str = "NORMAL", direct: bool = False) -> Figures:
    """1,000 concurrent voters through service.vote (or store.record_vote when `direct`)."""
    async with bench_service(synchronous) as (service, store):
        prompts = service.content.prompts[:POLLS]
        # One open poll per channel: each poll in a channel of its own.
        polls = [await service.open_poll(SPACE, f"{CHANNEL}-{i}", p) for i, p in enumerate(prompts)]
        for poll in polls:  # posted, as far as the service knows: posted polls take votes
            await service.attach_message(poll.id, f"{poll.channel_id}:{poll.id}")
        options = {poll.id: [o.id for o in p.options] for poll, p in zip(polls, prompts, strict=True)}
        per_voter = TOTAL_VOTES // VOTERS
        latencies: list[float] = []
        errors = 0
        gate = asyncio.Event()

        async def voter(v: int) -> None:
            nonlocal errors
            key = f"member-{v}"
            await gate.wait()
            for i in range(per_voter):
                poll = polls[i % POLLS]
                opts = options[poll.id]
                # The k-th vote of a voter on a poll picks the next option, so every call after the
                # first is a real change (an UNCHANGED vote would write nothing and flatter the rate).
                option = opts[(v + i // POLLS) % len(opts)]
                t0 = time.perf_counter()
                if direct:
                    await store.record_vote(poll.id, key, option, service.clock())
                else:
                    reply = await service.vote(Actor(SPACE, poll.channel_id, key), poll.id, option)
                    errors += reply.error
                latencies.append(time.perf_counter() - t0)

        tasks = [asyncio.create_task(voter(v)) for v in range(VOTERS)]
        await asyncio.sleep(0)  # every task is parked on the gate, so the clock starts at one moment
        before = (store.writer.stats.batches, store.writer.stats.jobs)
        started = time.perf_counter()
        gate.set()
        await asyncio.gather(*tasks)
        seconds = time.perf_counter() - started
        stats = store.writer.stats

        # Sanity: a benchmark that loses votes is measuring the wrong thing.
        for poll in polls:
            tally = await store.tally(poll.id)
            if tally.total != VOTERS:
                errors += 1
                print(f"  !! poll {poll.id}: tally total {tally.total}, expected {VOTERS}")
        label = f"{'store.record_vote' if direct else 'service.vote'} {synchronous}"
        latencies.sort()
        return Figures(
            label,
            len(latencies),
            seconds,
            latencies,
            errors=errors,
            batches=stats.batches - before[0],
            jobs=stats.jobs - before[1],
            largest_batch=stats.largest_batch,
        )


async def open_loop(rate_per_s: int, total: int) -> Figures:
    """Votes arriving at a fixed rate (Poisson) from 1,000 voters: the latency a member would see.

    The closed-loop run keeps 1,000 calls in flight, so its latency is 1,000 / throughput by Little's
    law and says nothing about p99 at a realistic load. Latency here counts from the scheduled
    arrival, so a late dispatcher is charged to the store, not hidden (coordinated omission).
    """
    async with bench_service() as (service, store):
        prompts = service.content.prompts[:POLLS]
        # One open poll per channel: each poll in a channel of its own.
        polls = [await service.open_poll(SPACE, f"{CHANNEL}-{i}", p) for i, p in enumerate(prompts)]
        for poll in polls:  # posted, as far as the service knows: posted polls take votes
            await service.attach_message(poll.id, f"{poll.channel_id}:{poll.id}")
        options = [[o.id for o in p.options] for p in prompts]
        rng = random.Random(7)
        latencies: list[float] = []
        errors = 0

        async def one(i: int, due: float) -> None:
            nonlocal errors
            opts = options[i % POLLS]
            # Same voter and poll recur every VOTERS arrivals (POLLS divides VOTERS), one option further on.
            option = opts[(i // VOTERS) % len(opts)]
            poll = polls[i % POLLS]
            reply = await service.vote(Actor(SPACE, poll.channel_id, f"member-{i % VOTERS}"), poll.id, option)
            errors += reply.error
            latencies.append(time.perf_counter() - due)

        # In flight only, as a bot holds them: 30,000 finished tasks kept alive would make the cyclic
        # collector's full passes ever longer and charge the benchmark's own bookkeeping to the votes.
        tasks: set[asyncio.Task[None]] = set()
        before = (store.writer.stats.batches, store.writer.stats.jobs)
        started = time.perf_counter()
        due = started
        for i in range(total):
            due += rng.expovariate(rate_per_s)
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            task = asyncio.create_task(one(i, due))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        while tasks:
            await asyncio.gather(*tasks)
        seconds = time.perf_counter() - started
        latencies.sort()
        stats = store.writer.stats
        return Figures(
            f"service.vote @{rate_per_s:,}/s offered",
            total,
            seconds,
            latencies,
            errors=errors,
            batches=stats.batches - before[0],
            jobs=stats.jobs - before[1],
            largest_batch=stats.largest_batch,
        )


def report(raw: Figures, service: Figures, paced: list[Figures]) -> list[str]:
    ratio = service.per_second / raw.per_second
    target_ms = P99_TARGET_S * 1000
    at_target = next(f for f, (offered, _) in zip(paced, OPEN_RUNS, strict=True) if offered == OPEN_TARGET_RATE)
    record("SQLite votes: service / raw sqlite3", f"{ratio:.2f}x ({rate(service.votes, service.seconds)} vs "
           f"{rate(raw.votes, raw.seconds)})", f">= {RATIO_TARGET}x", ratio >= RATIO_TARGET)
    for f, (offered, _) in zip(paced, OPEN_RUNS, strict=True):
        # the target is issue 12's for 10,000/s; a lighter load must meet it all the more
        record(f"SQLite vote p99 at {offered:,}/s offered", ms(f.p99), f"<= {target_ms:.0f} ms",
               f.p99 <= P99_TARGET_S and not f.errors)
    return [
        f"votes: service {rate(service.votes, service.seconds)} (p50 {ms(service.p50)}, p99 {ms(service.p99)})"
        f" | raw sqlite3 {rate(raw.votes, raw.seconds)} | ratio {ratio:.2f} (target >= {RATIO_TARGET})"
        f" | p99 at {OPEN_TARGET_RATE:,}/s offered {ms(at_target.p99)} (target <= {target_ms:.0f} ms)",
        f"  ratio >= {RATIO_TARGET}: {verdict(ratio >= RATIO_TARGET)}"
        f" | p99 <= {target_ms:.0f} ms at {OPEN_TARGET_RATE:,}/s offered: {verdict(at_target.p99 <= P99_TARGET_S)}"
        + "".join(f" | p99 at {offered:,}/s: {ms(f.p99)}" for f, (offered, _) in zip(paced, OPEN_RUNS, strict=True)
                  if offered != OPEN_TARGET_RATE)
        + f" | p99 with {VOTERS:,} in flight: {ms(service.p99)} (closed loop: {VOTERS:,} / throughput, information)",
    ]


async def main(profile: bool = False) -> None:
    print(f"== votes: {TOTAL_VOTES:,} votes, {VOTERS:,} concurrent voters, {POLLS} polls ({machine()})")
    # Best of three: the ceiling should not be lowered by a noisy moment on a shared machine.
    raw = max((raw_sqlite() for _ in range(3)), key=lambda f: f.per_second)
    print("  " + raw.line() + "   [best of 3]")
    service = await through_service("NORMAL")
    print("  " + service.line(raw))
    direct = await through_service("NORMAL", direct=True)
    print("  " + direct.line(raw) + "   [store only, for comparison]")
    full = await through_service("FULL")
    print("  " + full.line(raw) + "   [information]")
    paced = []
    for offered, total in OPEN_RUNS:
        paced.append(await open_loop(offered, total))
        print("  " + paced[-1].line(raw) + "   [open loop]")
    for line in report(raw, service, paced):
        print(line)
    if profile:
        await profile_service()


async def profile_service() -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    figures = await through_service("NORMAL")
    profiler.disable()
    print(f"-- cProfile of the service case (slower under the profiler): {figures.line()}")
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
    print(out.getvalue())


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", action="store_true", help="also profile the service case with cProfile")
    asyncio.run(main(parser.parse_args().profile))
