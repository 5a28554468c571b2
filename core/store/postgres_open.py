"""Reaching a PostgreSQL database: the URL, connection failures as one line, migrations under a lock.

Every failure becomes a StoreError that names DATABASE_URL, the host and the database, and never the
password: the URL is taken apart here and the password goes to asyncpg as a separate argument, so no
driver message can echo it back (and any that did would be scrubbed).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

import asyncpg

from core.store.base import StoreError

log = logging.getLogger(__name__)

SCHEMES = ("postgresql", "postgres")
# Any fixed 64-bit number; every Counterpoint process migrating the same database takes this one.
MIGRATION_LOCK = 0x436F756E74657270  # "Counterp"


@dataclass(frozen=True)
class PgTarget:
    """What DATABASE_URL names, with the password kept apart from everything that gets printed."""

    host: str
    port: int
    database: str
    user: str | None
    password: str | None = None

    @property
    def where(self) -> str:
        return f"database '{self.database}' on {self.host}:{self.port}"

    def redacted(self) -> str:
        user = f"{self.user}@" if self.user else ""
        return f"postgresql://{user}{self.host}:{self.port}/{self.database}"


def parse_url(url: str) -> PgTarget:
    """postgresql://user:password@host:port/database; StoreError (without the password) if malformed."""
    try:
        parts = urlsplit(url)
        port = parts.port or 5432
    except ValueError as exc:
        raise StoreError(f"DATABASE_URL: cannot read the PostgreSQL URL ({_first_line(exc)}); use "
                         "postgresql://user:password@host:5432/database") from None
    if parts.scheme not in SCHEMES:
        raise StoreError(f"DATABASE_URL: '{parts.scheme}' is not a PostgreSQL URL; use "
                         "postgresql://user:password@host:5432/database")
    database = unquote(parts.path.lstrip("/"))
    if not parts.hostname or not database or "/" in database:
        raise StoreError("DATABASE_URL: a PostgreSQL URL names a host and a database: "
                         "postgresql://user:password@host:5432/database")
    return PgTarget(
        host=unquote(parts.hostname),
        port=port,
        database=database,
        user=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
    )


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _scrub(text: str, target: PgTarget | None) -> str:
    if target is not None and target.password:
        text = text.replace(target.password, "***")
    return text


def reason_for(exc: BaseException, target: PgTarget) -> str:
    """Why connecting failed, in words an operator can act on."""
    if isinstance(exc, asyncpg.InvalidPasswordError | asyncpg.InvalidAuthorizationSpecificationError):
        who = f"user '{target.user}'" if target.user else "the user"
        return f"the server refused the login of {who} (wrong user or password?)"
    if isinstance(exc, asyncpg.InvalidCatalogNameError):
        return f"the server has no database '{target.database}' (create it, or fix the name)"
    if isinstance(exc, socket.gaierror):
        return f"the host name '{target.host}' does not resolve"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (is PostgreSQL running there, on that port?)"
    if isinstance(exc, TimeoutError | asyncio.TimeoutError):
        return "no answer in time (host unreachable, or a firewall in the way?)"
    if isinstance(exc, OSError):
        return f"cannot connect: {exc.strerror or _first_line(exc)}"
    return f"{type(exc).__name__}: {_scrub(_first_line(exc), target)}"


def cannot_open(target: PgTarget, reason: str) -> StoreError:
    return StoreError(f"DATABASE_URL: cannot open the PostgreSQL {target.where}: {reason}")


def is_driver_error(exc: BaseException) -> bool:
    """A failure of the database or the connection, as opposed to a bug in the calling code."""
    return isinstance(exc, asyncpg.PostgresError | asyncpg.InterfaceError | OSError | TimeoutError
                      | asyncio.TimeoutError)


def store_error(exc: BaseException, doing: str, target: PgTarget | None = None) -> StoreError:
    if isinstance(exc, StoreError):
        return exc
    if isinstance(exc, asyncpg.DeadlockDetectedError | asyncpg.SerializationError):
        reason = "it conflicted with a concurrent write and was rolled back; nothing was written"
    elif isinstance(exc, asyncpg.DiskFullError):
        reason = "the database server's disk is full; nothing was written"
    elif isinstance(exc, asyncpg.PostgresConnectionError | asyncpg.InterfaceError | OSError):
        reason = f"the connection to the database failed ({type(exc).__name__}); it may not have been applied"
    elif isinstance(exc, TimeoutError | asyncio.TimeoutError):
        reason = "the database did not answer in time"
    else:
        reason = f"{type(exc).__name__}: {_scrub(_first_line(exc), target)}"
    error = StoreError(f"{doing} failed: {reason}")
    error.__cause__ = exc
    return error


_F = TypeVar("_F", bound=Callable[..., Awaitable[Any]])


def surfacing_store_errors(name: str, method: _F) -> _F:
    @functools.wraps(method)
    async def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return await method(self, *args, **kwargs)
        except Exception as exc:
            if isinstance(exc, StoreError) or not is_driver_error(exc):
                raise
            raise store_error(exc, name, getattr(self, "target", None)) from exc

    return wrapper  # type: ignore[return-value]


# -- migrations -----------------------------------------------------------------------------------


async def keep_session(conn: asyncpg.Connection) -> None:
    """The pool's reset on release: nothing to send.

    asyncpg's default reset sends `SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`
    on every release: one more round trip per store call (three per vote), about a fifth of a vote's.
    The store leaves no session state to undo (every advisory lock is transaction-scoped; no SET,
    cursor outside a transaction or LISTEN), and asyncpg still rolls back a transaction left open by a
    cancelled call before it calls this (tests/test_pg_pool_reset.py).
    """


def migrations() -> list[tuple[int, str]]:
    folder = resources.files("core.store").joinpath("pg_migrations")
    found = []
    for entry in folder.iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:3].isdigit():
            found.append((int(name[:3]), entry.read_text(encoding="utf-8")))
    return sorted(found)


def latest() -> int:
    return max((n for n, _ in migrations()), default=0)


_VERSION_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_migrations "
    "(version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp())"
)


async def current_version(conn: asyncpg.Connection) -> int:
    exists = await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
    if not exists:
        return 0
    return int(await conn.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"))


def check_version(target: PgTarget, version: int) -> None:
    known = latest()
    if version > known:
        raise cannot_open(
            target,
            f"its schema version {version} is newer than this Counterpoint knows ({known}); "
            "upgrade Counterpoint (the database was left untouched)",
        )


async def migrate(conn: asyncpg.Connection, target: PgTarget) -> int:
    """Apply pending migrations in one transaction under an advisory lock; returns the version.

    Several processes may start at once: the lock makes them take turns, and each looks at the
    version only once it holds the lock, so every migration runs exactly once. PostgreSQL's DDL is
    transactional, so a failed migration leaves the database as it was.
    """
    check_version(target, await current_version(conn))  # refuse a newer schema before writing anything
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
        await conn.execute(_VERSION_TABLE)
        version = await current_version(conn)
        check_version(target, version)  # again inside the lock: another process may have upgraded it
        for number, sql in migrations():
            if number > version:
                log.info("applying PostgreSQL migration %03d", number)
                await conn.execute(sql)
                await conn.execute("INSERT INTO schema_migrations (version) VALUES ($1)", number)
                version = number
    return version
