"""PostgreSQL for the benchmarks: tests/pg.py's throwaway cluster, started once for the whole run.

`make bench` needs nothing running beforehand: when the PostgreSQL 15 server binaries are installed it
starts its own cluster (private directory, free port on 127.0.0.1, removed at the end, also on Ctrl-C
or SIGTERM), and when they are not, the PostgreSQL benchmarks are skipped with one line saying why.

The cluster is the tests' one: fsync=off and full_page_writes=off in a memory directory, with
synchronous_commit on. So the PostgreSQL figures measure CPU and round trips (client, server and
protocol), not a disk; a production server with a real disk adds its fsync per commit to every
write, to the raw loop and the service alike.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

from bots.wiring import open_service
from core.service import DebateService
from core.settings import Settings
from core.store.postgres import PostgresStore
from tests import pg

SKIPPED = "PostgreSQL benchmarks skipped: {reason}"

_cluster: pg.Cluster | None = None
_reason: str | None = None


def cluster() -> pg.Cluster | None:
    """The run's cluster, started on first use; None (see `skip_reason`) when PostgreSQL is not here."""
    global _cluster, _reason
    if _cluster is None and _reason is None:
        try:
            _cluster = pg.session_cluster()  # stopped by atexit, also after Ctrl-C or SIGTERM
        except pg.PgUnavailable as exc:
            _reason = str(exc)
    return _cluster


def version(server: pg.Cluster) -> str:
    return "PostgreSQL " + server.sql("SHOW server_version").strip().split()[0]


def skip_reason() -> str:
    return SKIPPED.format(reason=_reason or "no cluster")


def stop() -> None:
    global _cluster
    if _cluster is not None:
        pg.stop_session_cluster()
        _cluster = None


@contextmanager
def database(server: pg.Cluster) -> Iterator[str]:
    """A fresh empty database on the cluster (its DSN), dropped afterwards."""
    name = server.create_database(prefix="bench")
    try:
        yield server.dsn(name)
    finally:
        server.drop_database(name)


@asynccontextmanager
async def pg_service(dsn: str) -> AsyncIterator[tuple[DebateService, PostgresStore]]:
    """A service on PostgreSQL through bots.wiring, as `counterpoint run` builds it (pool size included)."""
    logging.getLogger("counterpoint").setLevel(logging.ERROR)
    async with open_service(Settings(database_url=dsn)) as service:
        store = service.store
        assert isinstance(store, PostgresStore)
        yield service, store
