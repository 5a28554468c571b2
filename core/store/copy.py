"""`counterpoint db copy --to postgresql://...`: move a SQLite database, whole, into an empty PostgreSQL one.

Everything goes, ids included, so polls keep their numbers, custom questions their 'custom-<id>', and
the meta table its voter-key secret: members keep their votes (the same member hashes to the same key).
The copy is one PostgreSQL transaction: the tables are locked, checked empty, filled table by table
with COPY, the identity sequences moved past the copied ids, the row counts and a tally checksum
compared with the source, and only then committed. Any failure rolls all of it back.

The source is opened as the bot opens it (exclusive lock, pending migrations applied), so a bot still
running on it is refused rather than copied half-way, and both sides have the same schema.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import aiosqlite
import asyncpg

from core.privacy import SECRET_META_KEY
from core.store.base import StoreError
from core.store.postgres_open import PgTarget, migrate, parse_url, reason_for, store_error
from core.store.sqlite import SqliteStore

__all__ = ["CopyError", "CopyReport", "TableCopied", "copy_sqlite_to_postgres"]

BATCH = 5_000  # rows per COPY round trip: bounded memory for any database size
# Parents before children (foreign keys); tables a later migration adds are placed by their keys.
PREFERRED_ORDER = ("meta", "polls", "votes", "vote_events", "tallies", "channel_settings", "schedules",
                   "occurrences", "notices", "space_settings", "custom_prompts")
_PG_ONLY = frozenset({"schema_migrations"})  # each engine's own version bookkeeping is not data


class CopyError(StoreError):
    """The copy was refused or failed; nothing was written to the target. One line, never a password."""


@dataclass(frozen=True)
class TableCopied:
    table: str
    rows: int
    note: str = ""


@dataclass
class CopyReport:
    source: str
    target: str
    tables: list[TableCopied] = field(default_factory=list)


Converter = Callable[[Any], Any]


def _to_datetime(value: Any) -> datetime:
    parsed = datetime.fromisoformat(str(value))
    if parsed.tzinfo is None:
        raise ValueError("a time without a zone")
    return parsed


def _converter(pg_type: str) -> Converter:
    """SQLite keeps times as ISO text and booleans as 0/1; PostgreSQL wants the real types."""
    if pg_type == "timestamp with time zone":
        return _to_datetime
    if pg_type == "date":
        return lambda v: date.fromisoformat(str(v))
    if pg_type == "boolean":
        return lambda v: bool(int(v))
    if pg_type in ("bigint", "integer", "smallint"):
        return int
    if pg_type == "text":
        return str
    raise CopyError(f"db copy does not know how to copy a PostgreSQL {pg_type} column; upgrade Counterpoint")


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# -- reading both schemas ----------------------------------------------------------------------------


async def _sqlite_tables(conn: aiosqlite.Connection) -> dict[str, list[str]]:
    async with conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'") as cur:
        names = [r[0] for r in await cur.fetchall()]
    tables = {}
    for name in names:
        async with conn.execute(f"PRAGMA table_info({_ident(name)})") as cur:
            tables[name] = [r[1] for r in await cur.fetchall()]
    return tables


async def _pg_tables(conn: asyncpg.Connection) -> dict[str, list[tuple[str, str]]]:
    rows = await conn.fetch(
        "SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c "
        "JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name "
        "WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' "
        "ORDER BY c.table_name, c.ordinal_position"
    )
    tables: dict[str, list[tuple[str, str]]] = {}
    for row in rows:
        if row["table_name"] not in _PG_ONLY:
            tables.setdefault(row["table_name"], []).append((row["column_name"], row["data_type"]))
    return tables


async def _copy_order(conn: asyncpg.Connection, tables: Sequence[str]) -> list[str]:
    """Tables with every table they reference before them."""
    rows = await conn.fetch(
        "SELECT con.conrelid::regclass::text AS child, con.confrelid::regclass::text AS parent "
        "FROM pg_constraint con JOIN pg_namespace n ON n.oid = con.connamespace "
        "WHERE con.contype = 'f' AND n.nspname = current_schema()"
    )
    parents: dict[str, set[str]] = {t: set() for t in tables}
    for row in rows:
        child, parent = row["child"].strip('"'), row["parent"].strip('"')
        if child in parents and parent in parents and child != parent:
            parents[child].add(parent)
    rank = {name: i for i, name in enumerate(PREFERRED_ORDER)}
    order: list[str] = []
    while len(order) < len(tables):
        ready = [t for t in tables if t not in order and parents[t] <= set(order)]
        if not ready:
            raise CopyError("db copy: the PostgreSQL tables reference each other in a cycle; cannot order the copy")
        order.append(min(ready, key=lambda t: (rank.get(t, len(rank)), t)))
    return order


def _check_same_schema(lite: dict[str, list[str]], pg: dict[str, list[tuple[str, str]]]) -> None:
    if set(lite) != set(pg):
        only_lite, only_pg = sorted(set(lite) - set(pg)), sorted(set(pg) - set(lite))
        raise CopyError(f"the two schemas differ (only in SQLite: {', '.join(only_lite) or '-'}; only in "
                        f"PostgreSQL: {', '.join(only_pg) or '-'}); is this Counterpoint older than the database?")
    for table, columns in pg.items():
        if set(lite[table]) != {name for name, _ in columns}:
            raise CopyError(f"the two schemas differ in the columns of table {table}; "
                            "is this Counterpoint older than the database?")


# -- the copy ------------------------------------------------------------------------------------------


async def _ensure_empty(conn: asyncpg.Connection, order: Sequence[str]) -> None:
    full = [t for t in order if await conn.fetchval(f"SELECT EXISTS (SELECT 1 FROM {_ident(t)})")]
    if full:
        raise CopyError(f"the target database is not empty (rows in {', '.join(full)}); db copy only fills an "
                        "empty database, so nothing was written. Copy to a new database, or drop and recreate it")


async def _count(conn: aiosqlite.Connection, table: str) -> int:
    async with conn.execute(f"SELECT COUNT(*) FROM {_ident(table)}") as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def _copy_table(lite: aiosqlite.Connection, pg: asyncpg.Connection, table: str,
                      columns: list[tuple[str, str]]) -> int:
    names = [name for name, _ in columns]
    convert = [_converter(kind) for _, kind in columns]
    select = f"SELECT {', '.join(_ident(n) for n in names)} FROM {_ident(table)}"
    copied = 0
    async with lite.execute(select) as cur:
        while batch := await cur.fetchmany(BATCH):
            try:
                records = [tuple(None if v is None else f(v) for f, v in zip(convert, row, strict=True))
                           for row in batch]
            except (TypeError, ValueError) as exc:
                raise CopyError(f"table {table}: a value cannot be read as its PostgreSQL type "
                                f"({type(exc).__name__}); nothing was written") from None
            await pg.copy_records_to_table(table, records=records, columns=names)
            copied += len(records)
    return copied


async def _reset_sequences(lite: aiosqlite.Connection, pg: asyncpg.Connection, order: Sequence[str]) -> None:
    """Move every identity sequence past the copied ids, and past SQLite's AUTOINCREMENT high-water mark:
    an id a deleted custom question once had must never name another question."""
    high: dict[str, int] = {}
    async with lite.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'") as cur:
        has_sequence = await cur.fetchone() is not None
    if has_sequence:
        async with lite.execute("SELECT name, seq FROM sqlite_sequence") as cur:
            high = {str(r[0]): int(r[1]) for r in await cur.fetchall()}
    rows = await pg.fetch(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND is_identity = 'YES'"
    )
    for row in rows:
        table, column = row["table_name"], row["column_name"]
        if table not in order:
            continue
        sequence = await pg.fetchval("SELECT pg_get_serial_sequence($1, $2)", _ident(table), column)
        top = await pg.fetchval(f"SELECT MAX({_ident(column)}) FROM {_ident(table)}")
        last = max(int(top or 0), high.get(table, 0))
        if last > 0:
            await pg.execute("SELECT setval($1, $2, true)", sequence, last)
        else:
            await pg.execute("SELECT setval($1, 1, false)", sequence)


def _tally_digest(rows: Sequence[Sequence[Any]]) -> tuple[str, int]:
    """An order-independent fingerprint of the tallies (results are computed from them alone)."""
    lines = sorted(f"{int(r[0])}\x1f{r[1]}\x1f{r[2]}\x1f{int(r[3])}" for r in rows)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest(), sum(int(r[3]) for r in rows)


async def _verify(lite: aiosqlite.Connection, pg: asyncpg.Connection, expected: dict[str, int]) -> tuple[str, int]:
    for table, rows in expected.items():
        there = int(await pg.fetchval(f"SELECT COUNT(*) FROM {_ident(table)}"))
        if there != rows:
            raise CopyError(f"table {table}: {rows} rows in SQLite but {there} in PostgreSQL after the copy; "
                            "nothing was written")
    async with lite.execute("SELECT poll_id, first_option_id, option_id, n FROM tallies") as cur:
        source = _tally_digest(list(await cur.fetchall()))
    target = _tally_digest(await pg.fetch("SELECT poll_id, first_option_id, option_id, n FROM tallies"))
    if source != target:
        raise CopyError("the tallies in PostgreSQL differ from SQLite's after the copy; nothing was written")
    return source


async def _copy_all(lite: aiosqlite.Connection, pg: asyncpg.Connection, report: CopyReport) -> None:
    lite_tables = await _sqlite_tables(lite)
    pg_tables = await _pg_tables(pg)
    _check_same_schema(lite_tables, pg_tables)
    async with pg.transaction():
        order = await _copy_order(pg, list(pg_tables))
        # Nobody else writes while we fill the tables: a bot started on the target too early waits for
        # the commit and then sees everything, instead of interleaving its own rows with ours.
        await pg.execute(f"LOCK TABLE {', '.join(_ident(t) for t in order)} IN ACCESS EXCLUSIVE MODE")
        await _ensure_empty(pg, order)
        expected = {}
        copied: list[TableCopied] = []
        for table in order:
            expected[table] = await _count(lite, table)
            rows = await _copy_table(lite, pg, table, pg_tables[table])
            if rows != expected[table]:
                raise CopyError(f"table {table}: counted {expected[table]} rows but read {rows}; nothing was written")
            copied.append(TableCopied(table, rows))
        await _reset_sequences(lite, pg, order)
        digest, votes = await _verify(lite, pg, expected)
        secret = await pg.fetchval("SELECT value FROM meta WHERE key = $1", SECRET_META_KEY)
    for entry in copied:
        note = ""
        if entry.table == "meta":
            note = "the voter-key secret included" if secret is not None else \
                "no voter-key secret in the database: keep COUNTERPOINT_SECRET set as it is"
        elif entry.table == "tallies":
            note = f"checksum {digest[:12]} matches; {votes} votes in the results"
        report.tables.append(TableCopied(entry.table, entry.rows, note))


async def _connect(target: PgTarget, connect_timeout: float) -> asyncpg.Connection:
    try:
        return await asyncpg.connect(
            host=target.host, port=target.port, user=target.user, password=target.password,
            database=target.database, timeout=connect_timeout,
            server_settings={"application_name": "counterpoint-db-copy", "synchronous_commit": "on",
                             "lock_timeout": "10s"},
        )
    except Exception as exc:
        raise CopyError(f"--to: cannot open the PostgreSQL {target.where}: {reason_for(exc, target)}") from None


def parse_target(url: str) -> PgTarget:
    try:
        return parse_url(url)
    except StoreError as exc:
        raise CopyError(str(exc).replace("DATABASE_URL:", "--to:", 1)) from None


async def copy_sqlite_to_postgres(sqlite_path: str, url: str, *, connect_timeout: float = 10.0) -> CopyReport:
    """Copy the SQLite database at `sqlite_path` into the empty PostgreSQL database `url` names.

    CopyError (or StoreError) with one line if refused or failed; then the target is as it was,
    apart from the schema, which is created (migrated) first as `counterpoint db migrate` would.
    """
    target = parse_target(url)
    if not await asyncio.to_thread(os.path.isfile, sqlite_path):  # never create an empty one
        raise CopyError(f"no SQLite database at {sqlite_path} (check DATABASE_URL); nothing to copy")
    report = CopyReport(source=sqlite_path, target=target.redacted())
    source = SqliteStore(sqlite_path, exclusive=True)  # refused while a bot runs on it
    await source.open()
    try:
        pg = await _connect(target, connect_timeout)
        try:
            try:
                await migrate(pg, target)
            except StoreError as exc:  # its messages name DATABASE_URL, which here is the source
                raise CopyError(str(exc).replace("DATABASE_URL:", "--to:", 1)) from exc
            lite = source.reader
            await lite.execute("BEGIN")  # one snapshot of the source for every table
            try:
                await _copy_all(lite, pg, report)
            finally:
                await lite.execute("COMMIT")
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError) as exc:
            raise CopyError(f"{store_error(exc, 'db copy', target)}; nothing was written") from exc
        finally:
            await pg.close()
    finally:
        await source.close()
    return report
