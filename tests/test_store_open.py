"""open() fails fast, in one line naming DATABASE_URL and the absolute path, and never hangs the process.

Each unusable database is opened by a child process (`counterpoint db migrate`): it must exit non-zero
with exactly that line. subprocess's timeout is only a hang detector (a leaked aiosqlite thread used
to keep the process alive forever), not a speed assertion.

Also: one writer per SQLite file (exclusive=True holds a flock on `<db>.lock`).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.store.base import StoreError
from core.store.sqlite import SqliteStore

ROOT = Path(__file__).resolve().parent.parent
HANG_S = 30
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ANOTHER = (
    "DATABASE_URL: another Counterpoint process is already running on {path} "
    "(only one may serve a SQLite database; use PostgreSQL for several processes)"
)


def migrate(cwd: Path, url: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "COUNTERPOINT_"))}
    env.update(DATABASE_URL=url, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "bots.cli", "db", "migrate"], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=HANG_S, stdin=subprocess.DEVNULL)


def assert_refused(proc: subprocess.CompletedProcess[str], path: Path, reason: str) -> None:
    assert proc.returncode != 0, proc
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    prefix = f"counterpoint: DATABASE_URL: cannot open the database at {path.resolve()}: "
    assert lines[0].startswith(prefix), lines[0]
    assert reason in lines[0], lines[0]


async def make_db(path: Path) -> None:
    store = SqliteStore(path)
    await store.open()
    for channel in range(30):
        poll = await store.create_poll("S1", f"C{channel}", "p", T0, T0 + timedelta(days=1))
        await asyncio.gather(*(store.record_vote(poll.id, f"voter-{i:060d}", "1", T0) for i in range(40)))
    await store.close()


def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    (tmp_path / "notes.db").write_text("these are my notes, not a database\n" * 20)
    assert_refused(migrate(tmp_path, "sqlite:///notes.db"), tmp_path / "notes.db", "file is not a database")


async def test_a_truncated_database(tmp_path: Path) -> None:
    path = tmp_path / "cut.db"
    await make_db(path)
    data = path.read_bytes()
    assert len(data) > 16384
    path.write_bytes(data[: len(data) // 2])
    assert_refused(migrate(tmp_path, f"sqlite:///{path}"), path, "malformed")


def test_a_missing_directory(tmp_path: Path) -> None:
    # a relative URL: the message still names the absolute path
    proc = migrate(tmp_path, "sqlite:///no/such/dir/x.db")
    assert_refused(proc, tmp_path / "no/such/dir/x.db", f"the directory {tmp_path / 'no/such/dir'} does not exist")
    assert not (tmp_path / "no").exists()


async def test_a_newer_schema_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    await make_db(path)
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version=999")
    conn.close()
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    assert_refused(migrate(tmp_path, f"sqlite:///{path}"), path, "schema version 999 is newer")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    with pytest.raises(StoreError, match="newer"):
        await SqliteStore(path).open()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


@pytest.fixture
def read_only_dir(tmp_path: Path) -> Iterator[Path]:
    """A directory this process cannot write to, holding an existing database."""
    ro = tmp_path / "ro"
    ro.mkdir()
    asyncio.run(make_db(ro / "existing.db"))
    if os.geteuid() != 0:
        ro.chmod(0o555)
        yield ro
        ro.chmod(0o755)
        return
    # root ignores permissions: a read-only bind mount is the only read-only place it has
    bind = subprocess.run(["mount", "--bind", str(ro), str(ro)], capture_output=True, timeout=HANG_S)
    if bind.returncode != 0:
        pytest.skip("running as root without permission to mount a read-only directory")
    try:
        remount = subprocess.run(["mount", "-o", "remount,ro,bind", str(ro)], capture_output=True, timeout=HANG_S)
        if remount.returncode != 0:
            pytest.skip("cannot remount read-only")
        yield ro
    finally:
        subprocess.run(["umount", str(ro)], capture_output=True, timeout=HANG_S)


def test_a_read_only_location(read_only_dir: Path) -> None:
    for name in ("existing.db", "new.db"):
        path = read_only_dir / name
        assert_refused(migrate(read_only_dir.parent, f"sqlite:///{path}"), path, "read-only")


async def test_a_second_exclusive_store_on_the_same_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "one.db"
    first = SqliteStore(path, exclusive=True)
    await first.open()
    second = SqliteStore(path, exclusive=True)
    try:
        with pytest.raises(StoreError) as refused:
            await second.open()
        assert str(refused.value) == ANOTHER.format(path=path.resolve())
        shared = SqliteStore(path)  # a non-exclusive open (e.g. `db migrate`) is not refused
        await shared.open()
        await shared.close()
    finally:
        await first.close()
    await second.open()  # released on close
    await second.close()


CHILD = """
import asyncio, sys
from bots.wiring import open_service
from core.settings import Settings
from core.store.base import StoreError

async def main():
    async with open_service(Settings(database_url=sys.argv[1]), exclusive=True):
        print("READY", flush=True)
        if sys.argv[2] == "hold":
            await asyncio.sleep(60)

try:
    asyncio.run(main())
except StoreError as exc:
    print(exc, file=sys.stderr)
    sys.exit(3)
"""


def child(url: str, mode: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", CHILD, url, mode], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)


async def test_an_exclusive_process_refuses_another_and_a_killed_one_frees_the_file(tmp_path: Path) -> None:
    path = tmp_path / "served.db"
    url = f"sqlite:///{path}"
    store = SqliteStore(path, exclusive=True)
    await store.open()
    try:
        refused = child(url, "quit")
        out, err = refused.communicate(timeout=HANG_S)
        assert refused.returncode == 3 and "READY" not in out
        assert err.strip() == ANOTHER.format(path=path.resolve())
    finally:
        await store.close()

    holder = child(url, "hold")
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "READY"
        with pytest.raises(StoreError, match="another Counterpoint process"):
            await SqliteStore(path, exclusive=True).open()
        holder.kill()  # SIGKILL: the kernel drops the flock with the process, no stale lock remains
        holder.wait(timeout=HANG_S)
    finally:
        if holder.poll() is None:
            holder.kill()
        holder.communicate(timeout=HANG_S)
    store = SqliteStore(path, exclusive=True)
    await store.open()
    await store.close()
