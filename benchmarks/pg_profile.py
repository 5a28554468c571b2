"""Where a PostgreSQL vote's time goes: statements (round trips) per vote, pool waits, client and server CPU.

Used by `python -m benchmarks.pg_votes --profile`. One process's loop (the raw asyncpg upsert or
service.vote, 1,000 voters in flight) runs in this process with asyncpg's Connection methods wrapped
to count every statement sent, Pool._acquire timed, this process's CPU time taken from the OS, and the
cluster's CPU time summed from /proc over the postmaster and its children. Every asyncpg statement
is one round trip (executemany sends its rows in one), so the count is the round trips of a vote.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import asyncpg.pool

from tests import pg

_COUNTED = ("execute", "executemany", "fetch", "fetchrow", "fetchval")


@dataclass
class Profile:
    statements: Counter[str] = field(default_factory=Counter)
    acquires: int = 0
    acquire_wait: float = 0.0
    client_cpu: float = 0.0
    server_cpu: float = 0.0
    wall: float = 0.0

    def lines(self, label: str, votes: int, detail: bool = True) -> list[str]:
        per = max(votes, 1)
        sent = sum(self.statements.values())
        lines = [
            f"  {label}: {sent / per:.1f} statements (round trips) per vote, {self.acquires / per:.1f} pool acquires"
            f" per vote, mean wait for a connection {self.acquire_wait / max(self.acquires, 1) * 1000:.1f} ms",
            f"    per vote: wall {self.wall / per * 1e6:.0f} us, client CPU {self.client_cpu / per * 1e6:.0f} us,"
            f" server CPU {self.server_cpu / per * 1e6:.0f} us (all server processes, both cores)",
        ]
        for statement, n in self.statements.most_common() if detail else ():
            lines.append(f"    {n / per:5.2f} x {statement}")
        return lines


def _kind(query: str) -> str:
    text = " ".join(query.split())
    if text.startswith("SELECT pg_advisory_unlock_all()"):
        return "pool reset on release (advisory unlock, CLOSE ALL, UNLISTEN, RESET ALL)"
    return text if len(text) <= 90 else text[:87] + "..."


def _server_cpu(cluster: pg.Cluster) -> float:
    """CPU seconds used so far by the cluster: the postmaster and every process it started."""
    tick = os.sysconf("SC_CLK_TCK")
    postmaster = int((cluster.data / "postmaster.pid").read_text().split()[0])
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        pid, ppid = int(entry.name), int(fields[1])
        if pid == postmaster or ppid == postmaster:
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


@contextmanager
def profiling(cluster: pg.Cluster) -> Iterator[Profile]:
    profile = Profile()
    originals: dict[str, Callable[..., Any]] = {}

    def counted(name: str) -> Callable[..., Any]:
        original = getattr(asyncpg.connection.Connection, name)
        originals[name] = original

        async def wrapper(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
            profile.statements[_kind(query)] += 1
            return await original(self, query, *args, **kwargs)

        return wrapper

    acquire = asyncpg.pool.Pool._acquire

    async def timed_acquire(self: Any, *args: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return await acquire(self, *args)
        finally:
            profile.acquires += 1
            profile.acquire_wait += time.perf_counter() - t0

    for name in _COUNTED:
        setattr(asyncpg.connection.Connection, name, counted(name))
    asyncpg.pool.Pool._acquire = timed_acquire  # type: ignore[method-assign]
    cpu0, server0, wall0 = time.process_time(), _server_cpu(cluster), time.perf_counter()
    try:
        yield profile
    finally:
        profile.wall = time.perf_counter() - wall0
        profile.client_cpu = time.process_time() - cpu0
        profile.server_cpu = _server_cpu(cluster) - server0
        for name, original in originals.items():
            setattr(asyncpg.connection.Connection, name, original)
        asyncpg.pool.Pool._acquire = acquire  # type: ignore[method-assign]
