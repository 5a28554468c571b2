"""What only the PostgreSQL store has to get right (the shared behaviour is tests/contract/'s job).

Migrations racing from several processes, a newer schema refused, every failure as one StoreError line
that names DATABASE_URL and the host but never the password, votes linearizable across two pools,
leases on the database's clock, and synchronous_commit on whatever the server's default.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import asyncpg
import pytest

from core.models import ChannelSettings, Schedule, VoteKind
from core.store.base import StoreError
from core.store.occurrence import OccurrenceState
from core.store.postgres import PostgresStore
from core.store.postgres_open import latest
from tests import pg

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.fixture
async def store(pg_dsn: str) -> AsyncIterator[PostgresStore]:
    s = PostgresStore(pg_dsn)
    await s.open()
    try:
        yield s
    finally:
        await s.close()


def cli_env(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "SLACK_", "HEALTH_"))}
    env["DATABASE_URL"] = database_url
    return env


def start_migrate(tmp_path: Path, database_url: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "bots.cli", "db", "migrate"], cwd=tmp_path,
                            env=cli_env(database_url), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=60)
    return proc.returncode, out, err


# -- migrations ---------------------------------------------------------------------------------


def test_three_processes_migrating_at_once_apply_each_migration_once(pg_dsn: str, tmp_path: Path) -> None:
    procs = [start_migrate(tmp_path, pg_dsn) for _ in range(3)]
    results = [finish(p) for p in procs]
    for code, out, err in results:
        assert code == 0, err
        assert f"is at schema version {latest()}" in out
    rows = asyncio.run(_fetch(pg_dsn, "SELECT version FROM schema_migrations ORDER BY version"))
    assert [r[0] for r in rows] == list(range(1, latest() + 1))
    migrating = [err for _, _, err in results if "applying PostgreSQL migration" in err]
    assert len(migrating) == 1  # one process did the work, the others waited and found it done


async def _fetch(dsn: str, sql: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetch(sql)
    finally:
        await conn.close()


async def test_a_newer_schema_is_refused_and_left_untouched(pg_dsn: str) -> None:
    first = PostgresStore(pg_dsn)
    await first.open()
    await first.close()
    conn = await asyncpg.connect(pg_dsn)
    try:
        await conn.execute("INSERT INTO schema_migrations (version) VALUES ($1)", latest() + 1)
        tables_before = await conn.fetchval("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        again = PostgresStore(pg_dsn)
        with pytest.raises(StoreError) as refused:
            await again.open()
        message = str(refused.value)
        assert message.startswith("DATABASE_URL:") and "127.0.0.1" in message
        assert f"schema version {latest() + 1} is newer" in message and "upgrade Counterpoint" in message
        assert await conn.fetchval("SELECT max(version) FROM schema_migrations") == latest() + 1
        assert await conn.fetchval("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == tables_before
    finally:
        await conn.close()


# -- failures: one line, DATABASE_URL and the host, never the password ----------------------------


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port on 127.0.0.1 that accepts connections and never says a word (a hung or firewalled server)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in held:
            conn.close()
        listener.close()


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # nothing listens there once this socket is closed


def test_bad_database_urls_fail_in_one_line_without_the_password(
    pg_cluster: pg.Cluster, pg_dsn: str, tmp_path: Path, silent_server: int
) -> None:
    password = pg_cluster.password
    wrong = "Wr0ng-pass-7f3a9"
    base = f"127.0.0.1:{pg_cluster.port}"
    cases = {
        "wrong password": (pg_dsn.replace(f":{password}@", f":{wrong}@"), wrong,
                           ["127.0.0.1", "refused the login", pg.ROLE]),
        "missing database": (f"postgresql://{pg.ROLE}:{password}@{base}/no_such_db", password,
                             ["127.0.0.1", "no database 'no_such_db'"]),
        "nothing listening": (f"postgresql://{pg.ROLE}:{password}@127.0.0.1:{_closed_port()}/x", password,
                              ["127.0.0.1", "connection refused"]),
        "silent server": (f"postgresql://{pg.ROLE}:{password}@127.0.0.1:{silent_server}/x", password,
                          ["127.0.0.1", "no answer in time"]),
        "unknown scheme": (f"mysql://{pg.ROLE}:{password}@{base}/x", password, ["cannot read", "postgresql://"]),
        "no database named": (f"postgresql://{pg.ROLE}:{password}@{base}", password, ["names no host or no database"]),
    }
    procs = {name: start_migrate(tmp_path, url) for name, (url, _, _) in cases.items()}  # all at once
    for name, proc in procs.items():
        code, out, err = finish(proc)
        _, secret, expected = cases[name]
        lines = err.strip().splitlines()
        assert code != 0 and out == "", (name, out, err)
        assert len(lines) == 1 and lines[0].startswith("counterpoint: DATABASE_URL"), (name, err)
        for part in expected:
            assert part in lines[0], (name, part, lines[0])
        assert secret not in err, (name, err)


async def test_driver_failures_surface_as_store_errors_without_the_password(
    store: PostgresStore, pg_cluster: pg.Cluster, pg_dsn: str
) -> None:
    poll = await store.create_poll("S1", "C1", "p", T0, T0 + HOUR)
    with pytest.raises(StoreError) as refused:  # a CHECK constraint: nothing saved
        await store.save_channel_settings(ChannelSettings("S1", "C1", 3, poll_duration=timedelta(seconds=0)))
    assert "save_channel_settings failed" in str(refused.value)
    assert await store.channel_settings("S1", "C1") is None
    # Every server connection of the test database is ended under the store's feet.
    database = pg_dsn.rsplit("/", 1)[1]
    pg_cluster.sql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database}'")
    with pytest.raises(StoreError) as lost:
        await store.record_vote(poll.id, "v", "1", T0)
    assert str(lost.value).startswith("record_vote failed")
    assert isinstance(lost.value.__cause__, asyncpg.PostgresError | asyncpg.InterfaceError | OSError)
    assert pg_cluster.password not in str(lost.value)
    await store.close()
    with pytest.raises(StoreError, match="not open"):
        await store.get_poll(poll.id)


# -- concurrency and time -----------------------------------------------------------------------


async def test_first_votes_from_two_pools_count_each_member_once(pg_dsn: str) -> None:
    a, b = PostgresStore(pg_dsn, pool_max=4), PostgresStore(pg_dsn, pool_max=4)
    await a.open()
    await b.open()
    try:
        poll = (await a.create_poll("S1", "C1", "p", T0, T0 + HOUR)).id
        voters = [f"v{i}" for i in range(30)]
        # Each member's first vote arrives at both stores at once, with different options: one is the
        # cast, the other a change; never two casts (which would count the member twice).
        results = await asyncio.gather(*(s.record_vote(poll, v, option, T0)
                                         for v in voters for s, option in ((a, "1"), (b, "2"))))
        for i in range(len(voters)):
            kinds = sorted(o.kind for o in results[2 * i: 2 * i + 2])
            assert kinds == sorted([VoteKind.CAST, VoteKind.CHANGED]), kinds
        tally = await a.tally(poll)
        assert tally.total == len(voters)
        for v in voters:
            history = await b.history(poll, v)
            assert [h.kind for h in history] == ["cast", "change"]
            assert history[-1].option_id == await a.current_vote(poll, v)
    finally:
        await a.close()
        await b.close()


def _schedule() -> Schedule:
    return Schedule("S1", "C1", "slack", time(9), "UTC", frozenset(range(7)), timedelta(hours=20), "section",
                    "seed", T0)


async def test_leases_run_on_the_database_clock_not_the_callers(store: PostgresStore, pg_dsn: str) -> None:
    s = _schedule()
    await store.save_schedule(s)
    day = date(2026, 3, 2)
    assert await store.claim_occurrence(s, day, T0, "h1", T0, HOUR) is not None
    # A process whose clock runs a day ahead believes the lease ran out; the database knows it did not.
    assert await store.claim_occurrence(s, day, T0, "h2", T0 + timedelta(days=1), HOUR) is None
    assert await store.occurrence_state(s, day) is OccurrenceState.CLAIMED
    poll = await store.create_poll("S1", "C2", "p", T0, T0 + HOUR, platform="slack")
    assert await store.claim_outcome(poll.id, T0, HOUR) is not None
    assert await store.claim_outcome(poll.id, T0 + timedelta(days=1), HOUR) is None
    # A simulation with a fake clock opts into the caller's clock: the same steps now take the lease over.
    fake = PostgresStore(pg_dsn, lease_clock="caller")
    await fake.open()
    try:
        assert await fake.claim_occurrence(s, date(2026, 3, 3), T0, "h1", T0, HOUR) is not None
        taken = await fake.claim_occurrence(s, date(2026, 3, 3), T0, "h2", T0 + 2 * HOUR, HOUR)
        assert taken is not None and taken.attempts == 2
    finally:
        await fake.close()


async def test_every_commit_is_synchronous_even_on_a_lax_server(pg_cluster: pg.Cluster, pg_dsn: str) -> None:
    # The database's default says commits need not wait for the disk; the store's sessions overrule it.
    database = pg_dsn.rsplit("/", 1)[1]
    pg_cluster.sql(f'ALTER DATABASE "{database}" SET synchronous_commit = off')
    assert [r[0] for r in await _fetch(pg_dsn, "SHOW synchronous_commit")] == ["off"]
    store = PostgresStore(pg_dsn)
    await store.open()
    try:
        async with store.pool.acquire() as conn:
            assert await conn.fetchval("SHOW synchronous_commit") == "on"
    finally:
        await store.close()
