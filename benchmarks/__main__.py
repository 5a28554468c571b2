"""`python -m benchmarks`: every benchmark, a summary table of every target, and the wall time of the run.

Each group of benchmarks runs in a fresh interpreter (benchmarks/isolated.py), one after another: a
figure must not depend on which benchmarks ran before it. In one process the later ones inherited the
heap, threads and caches of the earlier ones (the 100,000-vote poll, 1,000 tasks in flight), which no
bot process has (the Discord press ratio once read 1.67x there against 1.52x to 1.62x alone). Every ratio
is still measured side by side within its own benchmark.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType

from benchmarks.common import Row, machine, summary_table

# results and pg_votes share one PostgreSQL cluster (when installed), so they share a process.
GROUPS = (
    ("benchmarks.votes",),
    ("benchmarks.results", "benchmarks.pg_votes"),
    ("benchmarks.scheduler",),
    ("benchmarks.slack_ack",),
    ("benchmarks.discord_press",),
    ("benchmarks.charts",),
)


class Stopped(Exception):
    """SIGTERM reached `python -m benchmarks`: make passes it on, and CI timeouts end a run with it."""


def _run(command: list[str]) -> int:
    child = subprocess.Popen(command)

    def stop(signum: int, _frame: FrameType | None) -> None:
        child.send_signal(signum)  # the running group stops too (and stops its PostgreSQL cluster)
        raise Stopped

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        return child.wait()
    except (KeyboardInterrupt, Stopped):
        # Ctrl-C reaches the child by itself, SIGTERM through stop(): either way, let it stop its
        # PostgreSQL cluster rather than kill it mid-way (subprocess.run would, after a quarter of a
        # second), which would leave the server running.
        child.wait()
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)


def _read_rows(rows_file: Path) -> list[Row] | None:
    """A group's summary rows; None when its file is missing or damaged (its interpreter was killed)."""
    try:
        return [Row(**row) for row in json.loads(rows_file.read_text())]
    except (OSError, ValueError, TypeError):
        return None


def main() -> int:
    started = time.perf_counter()
    rows: list[Row] = []
    failed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="counterpoint-bench-rows-") as folder:
        for i, group in enumerate(GROUPS):
            if i:
                print(flush=True)
            rows_file = Path(folder) / f"{i}.json"
            code = _run([sys.executable, "-m", "benchmarks.isolated", str(rows_file), *group])
            found = _read_rows(rows_file)
            rows += found or []
            if code != 0 or found is None:
                failed.append(" + ".join(group))
    print(f"\n== summary ({machine()})")
    print("\n".join(summary_table(rows)))
    for group in failed:
        print(f"FAILED: {group} stopped with an error (above); its figures are missing")
    print(f"\n(benchmarks took {time.perf_counter() - started:.0f} s, each group in its own process)")
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("benchmarks interrupted", file=sys.stderr)
        sys.exit(130)
    except Stopped:
        print("benchmarks stopped (SIGTERM)", file=sys.stderr)
        sys.exit(143)
