"""Backends the store contract suite runs against. A PostgreSQL store joins this list when it exists."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from core.store.base import Store
from core.store.sqlite import SqliteStore


@asynccontextmanager
async def sqlite_backend(tmp_path: Path) -> AsyncIterator[Store]:
    store = SqliteStore(tmp_path / "contract.db")
    await store.open()
    try:
        yield store
    finally:
        await store.close()


BACKENDS: dict[str, Callable[[Path], object]] = {"sqlite": sqlite_backend}
