"""What the benchmarks share: a service built the way the bots build it, and latency arithmetic."""

from __future__ import annotations

import logging
import math
import os
import platform
import sqlite3
import sys
import tempfile
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from bots.tuning import tune_runtime
from bots.wiring import open_service
from core.service import DebateService
from core.settings import Settings
from core.store.sqlite import SqliteStore

SPACE = "bench-space"
CHANNEL = "bench-channel"


@asynccontextmanager
async def bench_service(
    synchronous: str = "NORMAL", path: Path | None = None
) -> AsyncIterator[tuple[DebateService, SqliteStore]]:
    """A service on a fresh database file (in a temporary folder, or at `path`, which the caller removes),
    through bots.wiring so the figures match production setup."""
    # "created a new, empty database" is the point here, not a warning worth a line per benchmark
    logging.getLogger("counterpoint").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="counterpoint-bench-") as folder:
        settings = Settings(database_url=f"sqlite:///{path or Path(folder) / 'bench.db'}",
                            sqlite_synchronous=synchronous)
        async with open_service(settings) as service:
            tune_runtime()  # as `counterpoint run` does once it has started
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


# -- the final summary: every benchmark records its headline figures here as it runs ------------------


@dataclass(frozen=True)
class Row:
    name: str
    figure: str
    target: str
    ok: bool | None  # None: not measured (skipped), or information only


SUMMARY: list[Row] = []


def record(name: str, figure: str, target: str, ok: bool | None) -> None:
    SUMMARY.append(Row(name, figure, target, ok))


def summary_table(rows: Sequence[Row] | None = None) -> list[str]:
    """One line per recorded figure: what, the figure, its target and PASS/MISS (or - when not measured)."""
    rows = SUMMARY if rows is None else rows
    table = [("benchmark", "figure", "target", "verdict")]
    table += [(r.name, r.figure, r.target, "-" if r.ok is None else verdict(r.ok)) for r in rows]
    widths = [max(len(cells[i]) for cells in table) for i in range(3)]

    def fmt(cells: tuple[str, str, str, str]) -> str:
        return "  " + "  ".join(cell.ljust(w) for cell, w in zip(cells[:3], widths, strict=True)) + "  " + cells[3]

    lines = [fmt(table[0]), fmt(("-" * widths[0], "-" * widths[1], "-" * widths[2], "-------"))]
    lines += [fmt(cells) for cells in table[1:]]
    passed = sum(r.ok is True for r in rows)
    missed = sum(r.ok is False for r in rows)
    lines.append(f"  {passed} PASS, {missed} MISS, {len(rows) - passed - missed} not measured")
    return lines
