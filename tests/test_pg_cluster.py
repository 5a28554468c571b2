"""tests/pg.py: the throwaway PostgreSQL cluster the store tests run on.

It must give each test a database of its own, log the test role in with its password over TCP, go
away when the session ends however it ends, and, when PostgreSQL is missing, skip with one clear reason
or, under CI=true, fail.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests import pg

ROOT = Path(__file__).resolve().parents[1]


def psql(dsn: str, sql: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(pg.PG_BIN / "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", dsn, "-c", sql],
                          capture_output=True, text=True, timeout=30, check=False)


def postmaster_running(root: Path) -> bool:
    pid_file = root / "data" / "postmaster.pid"
    try:
        pid = int(pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_each_database_is_empty_and_its_own(pg_cluster: pg.Cluster, pg_dsn: str) -> None:
    made = psql(pg_dsn, "CREATE TABLE t (x int); INSERT INTO t VALUES (1); SELECT current_user, count(*) FROM t")
    assert made.returncode == 0, made.stderr
    assert made.stdout.strip() == f"{pg.ROLE}|1"
    with pg.fresh_database(pg_cluster) as other:
        assert other != pg_dsn
        seen = psql(other, "SELECT count(*) FROM pg_tables WHERE tablename = 't'")
        assert seen.stdout.strip() == "0", seen.stderr


def test_the_test_role_needs_its_password(pg_cluster: pg.Cluster, pg_dsn: str) -> None:
    wrong = pg_dsn.replace(pg_cluster.password, "not-the-password")
    refused = psql(wrong, "SELECT 1")
    assert refused.returncode != 0 and "password authentication failed" in refused.stderr
    assert psql(pg_dsn, "SELECT 1").stdout.strip() == "1"


def test_a_copy_of_a_template_has_its_rows(pg_cluster: pg.Cluster) -> None:
    template = pg_cluster.create_database(prefix="tmpl")
    try:
        assert psql(pg_cluster.dsn(template), "CREATE TABLE kept (x int); INSERT INTO kept VALUES (7)").returncode == 0
        with pg.fresh_database(pg_cluster, template) as copy:
            assert psql(copy, "SELECT x FROM kept").stdout.strip() == "7"
            assert psql(copy, "INSERT INTO kept VALUES (8)").returncode == 0
        assert psql(pg_cluster.dsn(template), "SELECT count(*) FROM kept").stdout.strip() == "1"
    finally:
        pg_cluster.drop_database(template)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_the_cluster_is_removed_when_the_session_is_interrupted(pg_cluster: pg.Cluster, sig: int) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", "import time\nfrom tests import pg\nc = pg.session_cluster()\n"
         "print(c.root, flush=True)\ntime.sleep(60)"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        root = Path(child.stdout.readline().strip())  # type: ignore[union-attr]
        assert postmaster_running(root), child.stderr.read()  # type: ignore[union-attr]
        child.send_signal(sig)
        child.wait(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert not root.exists()


def test_a_cluster_left_by_a_killed_run_is_swept_by_the_next_start(pg_cluster: pg.Cluster) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", "import time\nfrom tests import pg\nc = pg.start_cluster()\n"
         "print(c.root, flush=True)\ntime.sleep(60)"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        root = Path(child.stdout.readline().strip())  # type: ignore[union-attr]
    finally:
        child.kill()  # SIGKILL: no atexit, the cluster stays behind
        child.wait()
    assert postmaster_running(root)
    fresh = pg.start_cluster()
    try:
        assert not root.exists() and fresh.root != root
    finally:
        fresh.stop()
    assert not fresh.root.exists()


def _run_pg_test_without_server(ci: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["COUNTERPOINT_PG_BIN"] = "/nonexistent/pg/bin"
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-rs",
         f"{Path(__file__).relative_to(ROOT)}::test_each_database_is_empty_and_its_own"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )


def test_without_postgresql_the_tests_skip_with_one_reason() -> None:
    done = _run_pg_test_without_server(None)
    assert done.returncode == 0, done.stdout + done.stderr
    assert ("PostgreSQL 15 server not found at /nonexistent/pg/bin; install postgresql-15 or set CI=true to "
            "require it") in done.stdout
    assert "SKIPPED [1]" in done.stdout


def test_without_postgresql_under_ci_the_tests_fail() -> None:
    done = _run_pg_test_without_server("true")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "PostgreSQL is required (CI=true): PostgreSQL 15 server not found at /nonexistent/pg/bin" in done.stdout
    assert "skipped" not in done.stdout


def test_a_user_other_than_root_runs_the_server_itself(pg_cluster: pg.Cluster) -> None:
    """Not root: no runuser, initdb and the server run as the user running the tests."""
    system_python = Path("/usr/bin/python3")  # the project's venv may sit where other users cannot read
    if os.geteuid() != 0 or not system_python.exists():
        pytest.skip("needs root (to become another user) and /usr/bin/python3")
    script = ("import sys\nsys.path.insert(0, '.')\nfrom tests import pg\nc = pg.start_cluster()\n"
              "try:\n    print(c.sql('SELECT current_user').strip(), c.create_database())\nfinally:\n    c.stop()\n"
              "print(c.root.exists())")
    done = subprocess.run(["runuser", "-u", "postgres", "--", "env", "HOME=/tmp", str(system_python), "-c", script],
                          cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["postgres", "t_1", "False"]
