"""Fixtures of the contract suite: every contract test runs once per backend in backends.py.

`backend_target` is the test's own empty-but-migrated database (a SQLite file under tmp_path, or a
PostgreSQL database copied from a migrated template); `backend` is an open store on it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.store.base import Store
from tests import pg
from tests.contract.backends import BACKENDS, PostgresStoreMissing, Target, make_store, postgres_store_class

_templates: dict[int, str] = {}  # id(cluster) -> migrated template database


async def _migrated_template(cluster: pg.Cluster) -> str:
    """A database the store migrated once, which every postgres test then copies (much faster)."""
    name = _templates.get(id(cluster))
    if name is None:
        name = cluster.create_database(prefix="contract_template")
        store = make_store(Target("postgres", cluster.dsn(name)))
        await store.open()
        await store.close()
        _templates[id(cluster)] = name
    return name


@pytest.fixture(params=BACKENDS)
async def backend_target(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Target]:
    if request.param == "sqlite":
        yield Target("sqlite", str(tmp_path / "contract.db"))
        return
    try:
        postgres_store_class()
    except PostgresStoreMissing as exc:
        if exc.written or pg.required():
            pytest.fail(str(exc), pytrace=False)
        pytest.skip(str(exc))
    cluster: pg.Cluster = request.getfixturevalue("pg_cluster")
    template = await _migrated_template(cluster)
    with pg.fresh_database(cluster, template) as dsn:
        yield Target("postgres", dsn)


@pytest.fixture
async def backend(backend_target: Target) -> AsyncIterator[Store]:
    store = make_store(backend_target)
    await store.open()
    try:
        yield store
    finally:
        await store.close()

