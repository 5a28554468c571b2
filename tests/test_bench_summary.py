"""`make bench` without PostgreSQL says why in one line and keeps going; its summary table marks every figure.

The benchmarks themselves assert nothing about time; these check only what the run prints.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import benchmarks.__main__ as bench
from benchmarks.common import Row, summary_table

REPO = Path(__file__).resolve().parent.parent


def test_the_summary_marks_each_figure_pass_miss_or_not_measured() -> None:
    rows = [Row("votes ratio", "0.30x", ">= 1.0x", False), Row("results", "0.40 ms", "<= 2 ms", True),
            Row("PostgreSQL votes", "skipped", ">= 1.0x", None)]
    lines = summary_table(rows)
    for name, verdict in (("votes ratio", "MISS"), ("results", "PASS"), ("PostgreSQL votes", "-")):
        (line,) = (line for line in lines if line.strip().startswith(name))
        assert line.split()[-1] == verdict
    assert lines[-1].strip() == "1 PASS, 1 MISS, 1 not measured"
    # one column per field, aligned: the verdicts all start at the same place
    assert len({line.rindex(line.split()[-1]) for line in lines[2:-1]}) == 1


def test_without_postgresql_the_pg_benchmarks_are_skipped_with_the_reason(tmp_path: Path) -> None:
    code = ("import asyncio; from benchmarks import pg_votes, common; "
            "print('\\n'.join(asyncio.run(pg_votes.main()))); print('\\n'.join(common.summary_table()))")
    env = {**os.environ, "COUNTERPOINT_PG_BIN": str(tmp_path / "no-postgres-here")}
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert f"PostgreSQL benchmarks skipped: PostgreSQL 15 server not found at {tmp_path / 'no-postgres-here'}" \
        in done.stdout
    skipped = [line for line in done.stdout.splitlines() if line.strip().startswith("PostgreSQL votes,")]
    assert len(skipped) == 2 and all("skipped" in line and line.rstrip().endswith("-") for line in skipped)
    assert "0 PASS, 0 MISS, 2 not measured" in done.stdout


def test_a_group_run_in_its_own_interpreter_prints_its_lines_and_hands_back_its_rows(tmp_path: Path) -> None:
    """`make bench` runs each group in a fresh interpreter (benchmarks/isolated.py) and tables their rows."""
    (tmp_path / "tiny_bench.py").write_text(
        "from benchmarks.common import record\n"
        "async def main():\n"
        "    record('tiny figure', '1.00x', '<= 1.5x', True)\n"
        "    return ['tiny benchmark ran']\n")
    (tmp_path / "broken_bench.py").write_text(
        "from benchmarks.common import record\n"
        "async def main():\n"
        "    record('measured before the failure', '2 ms', '<= 20 ms', True)\n"
        "    raise RuntimeError('the benchmark broke')\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    rows_file = tmp_path / "rows.json"
    done = subprocess.run([sys.executable, "-m", "benchmarks.isolated", str(rows_file), "tiny_bench"], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "tiny benchmark ran" in done.stdout
    assert json.loads(rows_file.read_text()) == [
        {"name": "tiny figure", "figure": "1.00x", "target": "<= 1.5x", "ok": True}]
    done = subprocess.run([sys.executable, "-m", "benchmarks.isolated", str(rows_file), "tiny_bench", "broken_bench"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode != 0 and "the benchmark broke" in done.stderr
    assert [row["name"] for row in json.loads(rows_file.read_text())] == ["tiny figure", "measured before the failure"]


def test_a_group_whose_rows_file_is_cut_short_fails_alone(monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    """A group killed while writing its rows (out of memory, a full /tmp) failed; the groups after it still
    run and the summary still prints."""
    ran: list[str] = []

    def fake_run(command: list[str]) -> int:
        rows_file, group = Path(command[3]), command[4:]
        ran.append(" + ".join(group))
        if group == ["first"]:
            rows_file.write_text('[{"name": "cut short", "figure": "1 ms", "tar')
            return -signal.SIGKILL
        rows_file.write_text('[{"name": "second figure", "figure": "2 ms", "target": "<= 3 ms", "ok": true}]')
        return 0

    monkeypatch.setattr(bench, "GROUPS", (("first",), ("second",)))
    monkeypatch.setattr(bench, "_run", fake_run)
    assert bench.main() == 1
    out = capsys.readouterr().out
    assert ran == ["first", "second"]
    assert "second figure" in out and "FAILED: first" in out


def test_sigterm_stops_the_group_that_is_running_and_the_run(tmp_path: Path) -> None:
    """make passes SIGTERM on and CI timeouts send it: the running group's interpreter must stop with the
    run (in one process it did), not carry on alone to the end of its benchmarks."""
    marker = tmp_path / "still-ran"
    (tmp_path / "slow_bench.py").write_text(
        "import asyncio, pathlib\n"
        "async def main():\n"
        "    await asyncio.sleep(3)\n"
        f"    pathlib.Path({str(marker)!r}).write_text('the benchmark kept running')\n"
        "    return ['slow benchmark done']\n")
    code = ("import sys, benchmarks.__main__ as m\n"
            "m.GROUPS = (('slow_bench',), ('slow_bench',))\n"
            "try:\n"
            "    sys.exit(m.main())\n"
            "except m.Stopped:\n"
            "    sys.exit(143)\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    parent = subprocess.Popen([sys.executable, "-c", code], cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        time.sleep(1.5)  # the group is in its benchmark
        parent.send_signal(signal.SIGTERM)
        assert parent.wait(timeout=10) == 143
        time.sleep(3)
        assert not marker.exists(), "the group's interpreter outlived `python -m benchmarks`"
    finally:
        with contextlib.suppress(ProcessLookupError):  # the session this test started, any orphan included
            os.killpg(parent.pid, signal.SIGKILL)
