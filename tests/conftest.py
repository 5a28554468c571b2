from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NoReturn

import pytest

from core.content import load_pack
from core.models import ContentPack
from core.service import Actor, DebateService
from core.store.sqlite import SqliteStore
from tests import pg


class FakeClock:
    """Time that moves only when a test says so."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture(autouse=True)
def _no_log_filters_leak() -> Iterator[None]:
    """A test that configures logging as the CLI does must not leave its throttle on pytest's handlers."""
    root = logging.getLogger()
    before = {handler: list(handler.filters) for handler in root.handlers}
    yield
    for handler in root.handlers:
        handler.filters[:] = before.get(handler, [])


@pytest.fixture(scope="session")
def pack() -> ContentPack:
    return load_pack()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    s = SqliteStore(tmp_path / "test.db")
    await s.open()
    yield s
    await s.close()


@pytest.fixture
def service(pack: ContentPack, store: SqliteStore, clock: FakeClock) -> DebateService:
    return DebateService(pack, store, "test-secret-0123456789", clock=clock)


def member(name: str, admin: bool = False, space: str = "S1", channel: str = "C1") -> Actor:
    return Actor(space, channel, name, is_admin=admin)


# -- PostgreSQL: a throwaway cluster for the session (tests/pg.py), a fresh database per test ----------


def pg_unavailable(reason: str) -> NoReturn:
    """Skip, or under CI=true fail: CI must never pass by skipping the PostgreSQL tests."""
    if pg.required():
        pytest.fail(f"PostgreSQL is required (CI=true): {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[pg.Cluster]:
    try:
        cluster = pg.session_cluster()
    except pg.PgUnavailable as exc:
        pg_unavailable(str(exc))
    try:
        yield cluster
    finally:
        pg.stop_session_cluster()


@pytest.fixture
def pg_dsn(pg_cluster: pg.Cluster) -> Iterator[str]:
    """The DSN of an empty database of this test's own (no migrations applied)."""
    with pg.fresh_database(pg_cluster) as dsn:
        yield dsn
