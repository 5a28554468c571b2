"""Turning SQLite driver failures into StoreError, and waiting out another process's write lock."""

from __future__ import annotations

import asyncio
import functools
import sqlite3
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import aiosqlite

from core.store.base import StoreError

_BUSY_CODES = (5, 6)  # SQLITE_BUSY, SQLITE_LOCKED (primary codes; extended codes keep them in the low byte)
_FULL_CODE = 13  # SQLITE_FULL


def _primary_code(exc: BaseException) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


def is_busy(exc: BaseException) -> bool:
    if not isinstance(exc, sqlite3.Error):
        return False
    code = _primary_code(exc)
    if code is not None:
        return code in _BUSY_CODES
    return "locked" in str(exc)


def is_driver_error(exc: BaseException) -> bool:
    """A failure of the database or the connection, as opposed to a bug in the calling code."""
    if isinstance(exc, sqlite3.Error | OSError | MemoryError):
        return True
    # aiosqlite's answer for a connection that has been closed (or never connected).
    return isinstance(exc, ValueError) and str(exc) in ("Connection closed", "no active connection")


def store_error(exc: BaseException, doing: str) -> StoreError:
    """A one-line StoreError for `exc`, which stays chained as the cause."""
    if isinstance(exc, StoreError):
        return exc
    if is_busy(exc):
        reason = "the database stayed locked by another connection or process; nothing was written"
    elif _primary_code(exc) == _FULL_CODE or "database or disk is full" in str(exc):
        reason = "the disk (or the database's size limit) is full; nothing was written"
    else:
        text = str(exc).strip().splitlines()
        reason = f"{type(exc).__name__}: {text[0] if text else 'no details'}"
    error = StoreError(f"{doing} failed: {reason}")
    error.__cause__ = exc
    return error


async def begin_immediate(conn: aiosqlite.Connection, lock_timeout: float) -> None:
    """BEGIN IMMEDIATE, retried while another process holds the write lock, for `lock_timeout` seconds in all.

    Each attempt already waits busy_timeout inside SQLite; the loop bounds the total, so a writer
    stuck elsewhere turns into a StoreError rather than an endless wait.
    """
    deadline = time.monotonic() + lock_timeout
    while True:
        try:
            await conn.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.Error as exc:
            if not is_busy(exc) or time.monotonic() >= deadline:
                raise
        await asyncio.sleep(min(0.05, max(0.0, deadline - time.monotonic())))


_F = TypeVar("_F", bound=Callable[..., Awaitable[Any]])


def surfacing_store_errors(name: str, method: _F) -> _F:
    @functools.wraps(method)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return await method(*args, **kwargs)
        except Exception as exc:
            if isinstance(exc, StoreError) or not is_driver_error(exc):
                raise
            raise store_error(exc, name) from exc

    return wrapper  # type: ignore[return-value]
