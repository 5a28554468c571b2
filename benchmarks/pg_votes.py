"""PostgreSQL vote throughput: DebateService.vote on PostgresStore against a raw asyncpg loop, 1 and 3 processes.

Each process is a child (spawned, so nothing is shared but the database) running 1,000 voters in
flight, the loop of benchmarks/votes.py: every voter votes on 4 open polls and then changes each vote
(8 votes; votes.py's 20 would make a PostgreSQL run minutes long), so every call writes a vote row
and tally deltas, and each change an event too (half of them casts, half changes). The service side is built as
`counterpoint run` builds it (bots.wiring, PostgresStore's default pool). The raw side is the ceiling:
the same 1,000 tasks per process on an asyncpg pool of the same size, one upsert per transaction on
a table of the same key shape. With 3 processes every process votes as its own 1,000 members on the
same polls, and the figure is all votes over the wall time from the common start to the last finish.
Target (issue 12): service at least 1.0x raw. Every figure is printed with its ratio.

When the service misses its target, the run also counts, for one process, the statements (round trips)
per vote, the wait for a pooled connection and the client's and server's CPU per vote, for both loops.
`python -m benchmarks.pg_votes --profile` always does, and lists every statement.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import multiprocessing as mp
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection

import asyncpg

from benchmarks import pg
from benchmarks.common import CHANNEL, SPACE, ms, percentile, rate, record, verdict
from core.service import Actor

VOTERS = 1_000  # in flight per process
POLLS = 4
VOTES_PER_PROCESS = 8_000
PROCESSES = (1, 3)
ROUNDS = 2
RATIO_TARGET = 1.0
CHILD_TIMEOUT_S = 300.0
RAW_TABLE = (
    "CREATE TABLE raw_votes (poll_id BIGINT NOT NULL, voter_key TEXT NOT NULL, option_id TEXT, "
    "updated_at TIMESTAMPTZ NOT NULL, PRIMARY KEY (poll_id, voter_key))"
)
RAW_UPSERT = (
    "INSERT INTO raw_votes (poll_id, voter_key, option_id, updated_at) VALUES ($1, $2, $3, $4) "
    "ON CONFLICT (poll_id, voter_key) DO UPDATE SET option_id = excluded.option_id, updated_at = excluded.updated_at"
)


@dataclass(frozen=True)
class PollSpec:
    poll_id: int
    channel_id: str
    options: tuple[str, ...]


@dataclass(frozen=True)
class Job:
    kind: str  # "service" or "raw"
    dsn: str
    process: int
    polls: tuple[PollSpec, ...]
    pool_size: int


@dataclass
class ChildResult:
    votes: int
    errors: int
    started: float  # time.monotonic(): one clock for every process on the machine
    ended: float
    latencies: list[float]


@dataclass
class Figures:
    label: str
    processes: int
    votes: int = 0
    seconds: float = 0.0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)  # sorted

    @property
    def per_second(self) -> float:
        return self.votes / self.seconds if self.seconds > 0 else 0.0

    def line(self, raw: Figures | None = None) -> str:
        text = (f"{self.label:<34} {rate(self.votes, self.seconds):>10} "
                f"(p50 {ms(percentile(self.latencies, 50))}, p99 {ms(percentile(self.latencies, 99))})")
        if raw is not None and raw.per_second:
            text += f" | {self.per_second / raw.per_second:.2f}x raw"
        if self.errors:
            text += f" | {self.errors} ERRORS"
        return text


Cast = Callable[[int, int, PollSpec, str], Awaitable[bool]]


# -- the loops each child runs ------------------------------------------------------------------------


async def _voters(cast: Cast, polls: tuple[PollSpec, ...],
                  gate: asyncio.Event) -> tuple[list[float], int]:
    """VOTERS tasks, each casting VOTES_PER_PROCESS / VOTERS votes; the k-th vote on a poll picks the next option."""
    latencies: list[float] = []
    errors = 0
    per_voter = VOTES_PER_PROCESS // VOTERS

    async def voter(v: int) -> None:
        nonlocal errors
        await gate.wait()
        for i in range(per_voter):
            poll = polls[i % POLLS]
            option = poll.options[(v + i // POLLS) % len(poll.options)]
            t0 = time.perf_counter()
            errors += not await cast(v, i, poll, option)
            latencies.append(time.perf_counter() - t0)

    tasks = [asyncio.create_task(voter(v)) for v in range(VOTERS)]
    await asyncio.sleep(0)  # every task parked on the gate
    gate.set()
    await asyncio.gather(*tasks)
    return latencies, errors


@asynccontextmanager
async def _caster(job: Job) -> AsyncIterator[Cast]:
    """What one vote is for this job's kind, with its service or pool open (opening is not timed)."""
    if job.kind.startswith("service"):
        async with pg.pg_service(job.dsn) as (service, _store):

            async def vote(v: int, i: int, poll: PollSpec, option: str) -> bool:
                actor = Actor(SPACE, poll.channel_id, f"member-{job.process}-{v}")
                return not (await service.vote(actor, poll.poll_id, option)).error

            yield vote
        return
    keys = [hashlib.sha256(f"member-{job.process}-{v}".encode()).hexdigest() for v in range(VOTERS)]
    pool = await asyncpg.create_pool(job.dsn, min_size=job.pool_size, max_size=job.pool_size,
                                     server_settings={"synchronous_commit": "on"})
    try:
        async def upsert(v: int, i: int, poll: PollSpec, option: str) -> bool:
            async with pool.acquire() as conn, conn.transaction():
                await conn.execute(RAW_UPSERT, poll.poll_id, keys[v], option, datetime.now(UTC))
            return True

        yield upsert
    finally:
        await pool.close()


async def _run_child(job: Job, parent: Connection) -> ChildResult:
    go = asyncio.get_running_loop().run_in_executor(None, parent.recv)
    async with _caster(job) as cast:
        parent.send("ready")
        await go
        started = time.monotonic()
        latencies, errors = await _voters(cast, job.polls, asyncio.Event())
        ended = time.monotonic()
    return ChildResult(len(latencies), errors, started, ended, latencies)


def _child(job: Job, parent: Connection) -> None:
    try:
        parent.send(asyncio.run(_run_child(job, parent)))
    except BaseException as exc:  # the parent waits for an answer: a failure must be one
        parent.send(f"{type(exc).__name__}: {exc}")
        raise


# -- the parent -----------------------------------------------------------------------------------------


def _wait(conn: Connection, what: str) -> object:
    if not conn.poll(CHILD_TIMEOUT_S):
        raise RuntimeError(f"a benchmark child did not answer ({what}) within {CHILD_TIMEOUT_S:.0f} s")
    try:
        message = conn.recv()
    except EOFError:
        raise RuntimeError(f"a benchmark child exited without an answer ({what})") from None
    if isinstance(message, str) and message != "ready":
        raise RuntimeError(f"a benchmark child failed: {message}")
    return message


async def run_processes(kind: str, dsn: str, polls: tuple[PollSpec, ...], processes: int, pool_size: int) -> Figures:
    """`processes` children running the loop together; the figure is all their votes over the common wall time."""
    context = mp.get_context("spawn")
    pipes, children = [], []
    for p in range(processes):
        ours, theirs = context.Pipe()
        child = context.Process(target=_child, args=(Job(kind, dsn, p, polls, pool_size), theirs), daemon=True)
        child.start()
        pipes.append(ours)
        children.append(child)
    try:
        for conn in pipes:  # every child has its pool open before anyone starts
            await asyncio.to_thread(_wait, conn, "ready")
        for conn in pipes:
            conn.send("go")
        results = [await asyncio.to_thread(_wait, conn, "result") for conn in pipes]
    finally:
        for child in children:
            child.join(timeout=10)
            if child.is_alive():
                child.kill()
    done = [r for r in results if isinstance(r, ChildResult)]
    name = "raw asyncpg (1 upsert/txn)" if kind == "raw" else kind.replace("service", "service.vote", 1)
    label = f"{name}, {processes} proc"
    return Figures(
        label, processes, sum(r.votes for r in done), max(r.ended for r in done) - min(r.started for r in done),
        sum(r.errors for r in done), sorted(x for r in done for x in r.latencies),
    )


async def _prepare(kind: str, dsn: str) -> tuple[PollSpec, ...]:
    """The service's polls (opened and posted, as the bots do) or the raw table, in a fresh database."""
    async with pg.pg_service(dsn) as (service, _store):  # migrates, so both kinds run on the same schema
        if kind == "raw":
            conn = await asyncpg.connect(dsn)
            try:
                await conn.execute(RAW_TABLE)
            finally:
                await conn.close()
            return tuple(PollSpec(i, f"{CHANNEL}-{i}", ("a", "b", "c", "d", "e")) for i in range(POLLS))
        specs = []
        for i, prompt in enumerate(service.content.prompts[:POLLS]):
            poll = await service.open_poll(SPACE, f"{CHANNEL}-{i}", prompt)
            await service.attach_message(poll.id, f"{poll.channel_id}:{poll.id}")
            specs.append(PollSpec(poll.id, poll.channel_id, tuple(o.id for o in prompt.options)))
        return tuple(specs)


async def _check(dsn: str, polls: tuple[PollSpec, ...], processes: int, figures: Figures) -> None:
    """A benchmark that loses votes measures the wrong thing: every member's vote must be counted once."""
    async with pg.pg_service(dsn) as (_service, store):
        for poll in polls:
            total = (await store.tally(poll.poll_id)).total
            if total != VOTERS * processes:
                figures.errors += 1
                print(f"  !! poll {poll.poll_id}: tally total {total}, expected {VOTERS * processes}")


async def measure(server: pg.pg.Cluster, kind: str, processes: int) -> Figures:
    with pg.database(server) as dsn:
        polls = await _prepare(kind, dsn)
        figures = await run_processes(kind, dsn, polls, processes, pool_size())
        if kind.startswith("service"):
            await _check(dsn, polls, processes, figures)
        return figures


def pool_size() -> int:
    """The pool the service gets from bots.wiring; the raw loop gets the same."""
    from bots.wiring import make_store
    from core.settings import Settings

    store = make_store(Settings(database_url="postgresql://u@localhost/db"))
    return int(store.pool_max)  # type: ignore[attr-defined]


async def main(profile: bool = False) -> list[str]:
    server = pg.cluster()
    if server is None:
        for processes in PROCESSES:
            record(f"PostgreSQL votes, {processes} proc: service / raw asyncpg", "skipped", f">= {RATIO_TARGET}x", None)
        return [pg.skip_reason()]
    size = pool_size()
    lines = [f"== PostgreSQL votes: {VOTES_PER_PROCESS:,} votes per process, {VOTERS:,} voters in flight per process, "
             f"{POLLS} polls, pool of {size} per process, best of {ROUNDS} alternating runs",
             f"  ({pg.version(server)} with fsync=off in memory, on the clients' cores: CPU and round trips)"]
    verdicts = []
    for processes in PROCESSES:
        runs: dict[str, list[Figures]] = {"raw": [], "service": []}
        for _ in range(ROUNDS):  # alternating, so a noisy moment on a shared machine hits both kinds
            for kind in runs:
                runs[kind].append(await measure(server, kind, processes))
        raw, service = (max(runs[kind], key=lambda f: f.per_second) for kind in ("raw", "service"))
        ratio = service.per_second / raw.per_second
        ok = ratio >= RATIO_TARGET and not service.errors
        lines.append("  " + raw.line())
        lines.append("  " + service.line(raw))
        verdicts.append(f"{processes} process{'es' if processes > 1 else ''} {ratio:.2f}x: {verdict(ok)}")
        record(f"PostgreSQL votes, {processes} proc: service / raw asyncpg",
               f"{ratio:.2f}x ({rate(service.votes, service.seconds)} vs {rate(raw.votes, raw.seconds)})",
               f">= {RATIO_TARGET}x", ok)
    lines.append(f"pg votes: service / raw asyncpg (target >= {RATIO_TARGET}x): " + " | ".join(verdicts))
    if profile or any(v.endswith("MISS") for v in verdicts):
        lines += await profile_votes(server, prototype=profile)
    return lines


async def profile_votes(server: pg.pg.Cluster, prototype: bool = True) -> list[str]:
    """One process's loop of each kind, in this process, with its statements, pool waits and CPU counted;
    with `prototype` (--profile), statement by statement."""
    from benchmarks.pg_profile import profiling

    kinds = ("raw", "service")
    lines = ["-- where a vote's time goes: 1 process, in the benchmark's own process with counters on"]
    for kind in kinds:
        with pg.database(server) as dsn:
            polls = await _prepare(kind, dsn)
            async with _caster(Job(kind, dsn, 0, polls, pool_size())) as cast:
                with profiling(server) as profile:
                    latencies, _errors = await _voters(cast, polls, asyncio.Event())
            if kind.startswith("service"):
                check = Figures(kind, 1)
                await _check(dsn, polls, 1, check)
                if check.errors:
                    lines.append(f"  !! {kind}: tallies do not add up")
        lines += profile.lines(f"{kind} ({rate(len(latencies), profile.wall)})", len(latencies), detail=prototype)
    return lines


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", action="store_true",
                        help="always profile, statement by statement")
    print("\n".join(asyncio.run(main(parser.parse_args().profile))))
