"""What the benchmarks share: a service built the way the bots build it, and latency arithmetic."""

from __future__ import annotations

import math
import os
import platform
import sqlite3
import sys
import tempfile
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from bots.wiring import open_service
from core.service import DebateService
from core.settings import Settings
from core.store.sqlite import SqliteStore

SPACE = "bench-space"
CHANNEL = "bench-channel"


@asynccontextmanager
async def bench_service(synchronous: str = "NORMAL") -> AsyncIterator[tuple[DebateService, SqliteStore]]:
    """A service on a fresh database file, through bots.wiring so the figures match production setup."""
    with tempfile.TemporaryDirectory(prefix="counterpoint-bench-") as folder:
        settings = Settings(database_url=f"sqlite:///{Path(folder) / 'bench.db'}", sqlite_synchronous=synchronous)
        async with open_service(settings) as service:
            store = service.store
            assert isinstance(store, SqliteStore)
            yield service, store


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values (q in 0..100)."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms" if seconds < 0.01 else f"{seconds * 1000:.1f} ms"


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f}/s" if seconds > 0 else "inf/s"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def machine() -> str:
    return (
        f"python {platform.python_version()}, sqlite {sqlite3.sqlite_version}, "
        f"{os.cpu_count()} cpu(s), {platform.system()} {platform.machine()}, {sys.implementation.name}"
    )
