"""Opening a SQLite database: location checks, the one-writer lock, connections and migrations.

Every failure here becomes a one-line StoreError naming DATABASE_URL and the absolute path, and
leaves no connection (so no aiosqlite thread) behind: a process that cannot open its database
exits with one clear line instead of hanging.
"""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
from importlib import resources

import aiosqlite

from core.store.base import StoreError
from core.store.sqlite_errors import begin_immediate, is_busy

log = logging.getLogger(__name__)


def migrations() -> list[tuple[int, str]]:
    folder = resources.files("core.store").joinpath("migrations")
    found = []
    for entry in folder.iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:3].isdigit():
            found.append((int(name[:3]), entry.read_text(encoding="utf-8")))
    return sorted(found)


def split_sql(script: str) -> list[str]:
    """Statements of a migration file. Comments go first: they may contain semicolons.

    executescript() would be simpler but commits the open transaction, and a migration must apply
    whole or not at all.
    """
    code = "\n".join(line.split("--", 1)[0] for line in script.splitlines())
    return [s.strip() for s in code.split(";") if s.strip()]


def cannot_open(path: str, reason: str) -> StoreError:
    return StoreError(f"DATABASE_URL: cannot open the database at {path}: {reason}")


def reason_for(exc: BaseException) -> str:
    if is_busy(exc):
        return "it stayed locked by another process (is another Counterpoint or a backup running on it?)"
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def check_location(path: str) -> None:
    """Refuse early, with a reason a person can act on, what SQLite would only call 'unable to open'."""
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        raise cannot_open(path, f"the directory {directory} does not exist")
    if not os.access(directory, os.W_OK | os.X_OK):
        # SQLite creates <db>-wal and <db>-shm next to the database, so the directory must be writable.
        raise cannot_open(path, f"the directory {directory} is read-only (SQLite writes -wal and -shm files there)")
    if os.path.isdir(path):
        raise cannot_open(path, "it is a directory")
    if os.path.exists(path) and not os.access(path, os.R_OK | os.W_OK):
        raise cannot_open(path, "the file is not readable and writable by this process")


def lock_single_writer(path: str) -> int:
    """Hold a non-blocking flock on `<path>.lock` until the returned descriptor is closed."""
    lock_path = path + ".lock"
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise cannot_open(path, f"cannot create the lock file {lock_path}: {exc.strerror}") from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise StoreError(
            f"DATABASE_URL: another Counterpoint process is already running on {path} "
            "(only one may serve a SQLite database; use PostgreSQL for several processes)"
        ) from None
    except OSError as exc:
        os.close(fd)
        raise cannot_open(path, f"cannot lock {lock_path}: {exc.strerror}") from exc
    return fd


async def connect(path: str, pragmas: list[str]) -> aiosqlite.Connection:
    # isolation_level=None: we issue BEGIN IMMEDIATE ourselves, so a write transaction never
    # starts as a reader and then fails to upgrade under busy_timeout.
    conn = await aiosqlite.connect(path, isolation_level=None)
    try:
        for pragma in pragmas:
            await conn.execute(pragma)
    except BaseException:
        await conn.close()  # else its (non-daemon) thread keeps the process alive after the error
        raise
    return conn


# Where a commit waits for no disk (the WAL is written, not synced), vote batches may commit on the event
# loop's own thread (group_commit.py). FULL and EXTRA sync the WAL at every commit: those stay on a thread.
INLINE_SYNCHRONOUS = frozenset({"OFF", "NORMAL"})


def connect_inline(path: str, pragmas: list[str]) -> sqlite3.Connection | None:
    """The writer's connection on the event loop's thread: a lock held elsewhere fails at once instead of
    stopping the loop (busy_timeout=0, from the first statement on), and it never checkpoints
    (wal_autocheckpoint=0). None if another process holds the database right now: the votes then
    commit on aiosqlite's thread, which may wait."""
    conn = sqlite3.connect(path, timeout=0, isolation_level=None)
    own = [p for p in pragmas if "busy_timeout" not in p]
    try:
        for pragma in ["PRAGMA busy_timeout=0", *own, "PRAGMA wal_autocheckpoint=0"]:
            conn.execute(pragma)
    except sqlite3.Error as exc:
        conn.close()
        if not is_busy(exc):
            raise
        log.info("the database is busy at start: votes will commit on the database thread")
        return None
    except BaseException:
        conn.close()
        raise
    return conn


async def require_json(conn: aiosqlite.Connection, path: str) -> None:
    """Votes are written with SQLite's JSON functions (built in since 3.38, in most builds long before)."""
    try:
        await conn.execute("SELECT json_extract('[1]', '$[0]')")
    except sqlite3.OperationalError as exc:
        raise cannot_open(path, f"this SQLite ({sqlite3.sqlite_version}) has no JSON functions ({exc})") from exc


async def user_version(conn: aiosqlite.Connection) -> int:
    async with conn.execute("PRAGMA user_version") as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


def check_version(path: str, version: int) -> None:
    known = max((n for n, _ in migrations()), default=0)
    if version > known:
        raise cannot_open(
            path,
            f"its schema version {version} is newer than this Counterpoint knows ({known}); "
            "upgrade Counterpoint (the database was left untouched)",
        )


async def migrate(conn: aiosqlite.Connection, path: str, lock_timeout: float) -> None:
    await begin_immediate(conn, lock_timeout)
    try:
        version = await user_version(conn)
        check_version(path, version)  # again inside the lock: another process may have upgraded it
        for number, sql in migrations():
            if number > version:
                log.info("applying migration %03d", number)
                for statement in split_sql(sql):
                    await conn.execute(statement)
                await conn.execute(f"PRAGMA user_version={number}")
        await conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            await conn.execute("ROLLBACK")
        raise
