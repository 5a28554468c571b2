"""`counterpoint db backup`: a consistent copy of the SQLite database, safe while the bot runs.

sqlite3's online backup copies the database inside one read transaction. In WAL mode a reader
never blocks the writer, so the running bot keeps answering, and the copy is the database exactly
as of one commit (never half a vote batch). The bot's one-writer flock is on `<db>.lock`, which a
backup does not touch. The copy is written next to the target and renamed into place, so a failed
or interrupted backup never leaves a truncated file under the target's name.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path


class BackupError(Exception):
    """A backup that could not be made; the message fits on one line and names the path."""


@dataclass(frozen=True)
class BackupResult:
    source: str
    target: str
    size: int
    schema_version: int


def _connect_source(source: str) -> sqlite3.Connection:
    # mode=rw: never create an empty database where the operator expected one.
    uri = Path(source).as_uri() + "?mode=rw"
    conn = sqlite3.connect(uri, uri=True, timeout=10.0)
    conn.execute("PRAGMA busy_timeout=10000")
    return conn


COMPANION_SUFFIXES = ("-wal", "-shm", "-journal", ".lock")


def _is_companion(source: str, target: str) -> bool:
    real_target = os.path.realpath(target)
    for suffix in COMPANION_SUFFIXES:
        companion = source + suffix
        if os.path.realpath(companion) == real_target:
            return True
        if os.path.exists(companion) and os.path.exists(target) and os.path.samefile(companion, target):
            return True
    return False


def backup_database(source: str, target: str, force: bool = False) -> BackupResult:
    """Copy the database at `source` (absolute) to `target`; refuse an existing target unless `force`."""
    src_path = os.path.abspath(source)
    dst_path = os.path.abspath(target)
    if not os.path.isfile(src_path):
        raise BackupError(f"no database at {src_path} (check DATABASE_URL); nothing to back up")
    if os.path.exists(dst_path) and os.path.samefile(src_path, dst_path):
        raise BackupError(f"{dst_path} is the database itself; choose another file")
    if _is_companion(src_path, dst_path):
        # The write-ahead log, shared memory, journal or writer lock of the live database: replacing one
        # loses committed votes or lets a second writer in.
        raise BackupError(f"{dst_path} belongs to the live database; choose another file")
    if os.path.isdir(dst_path):
        raise BackupError(f"{dst_path} is a directory; give a file name, e.g. {dst_path}/counterpoint.db")
    if os.path.exists(dst_path) and not force:
        raise BackupError(f"{dst_path} already exists; choose another name or pass --force to replace it")
    directory = os.path.dirname(dst_path)
    if not os.path.isdir(directory):
        raise BackupError(f"cannot write {dst_path}: the directory {directory} does not exist")
    partial = f"{dst_path}.partial-{os.getpid()}"
    try:
        version = _copy(src_path, partial)
        if force:
            os.replace(partial, dst_path)
        else:
            # link() fails if the target appeared meanwhile: never overwrite without --force.
            os.link(partial, dst_path)
            os.unlink(partial)
    except FileExistsError:
        raise BackupError(f"{dst_path} already exists; choose another name or pass --force to replace it") from None
    except sqlite3.Error as exc:
        raise BackupError(f"cannot back up {src_path}: {_first_line(exc)}") from exc
    except OSError as exc:
        raise BackupError(f"cannot write {dst_path}: {exc.strerror or exc}") from exc
    finally:
        for leftover in (partial, partial + "-journal"):
            if os.path.exists(leftover):
                os.unlink(leftover)
    return BackupResult(src_path, dst_path, os.path.getsize(dst_path), version)


def _copy(source: str, partial: str) -> int:
    src = _connect_source(source)
    try:
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst)  # pages=-1: all in one step, so one consistent snapshot
            # The copy is one self-contained file (no -wal beside it), ready to be copied back.
            dst.execute("PRAGMA journal_mode=DELETE")
            check = dst.execute("PRAGMA quick_check").fetchone()
            if not check or check[0] != "ok":
                raise BackupError(f"the copy of {source} failed its integrity check: {check[0] if check else '?'}")
            version = int(dst.execute("PRAGMA user_version").fetchone()[0])
        finally:
            dst.close()
    finally:
        src.close()
    with open(partial, "rb") as handle:
        os.fsync(handle.fileno())
    return version


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
