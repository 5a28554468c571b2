"""The backends the store contract suite runs against, and how to open a store on each.

A backend is a name and a location: a SQLite file path, or a PostgreSQL DSN (tests/pg.py's throwaway
cluster). The location is a plain string so a child process can open its own store on the same
database (see child.py).

PostgresStore is imported only when asked for: until core/store/postgres.py exists the postgres
backend is skipped ("PostgresStore not written yet"); with CI=true any import failure is an error.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass

from core.store.base import Store
from core.store.sqlite import SqliteStore

BACKENDS = ("postgres", "sqlite")


@dataclass(frozen=True)
class Target:
    """Where one test's database lives: `backend` names the engine, `location` is a path or a DSN."""

    backend: str
    location: str


class PostgresStoreMissing(Exception):
    """core.store.postgres is not there (or cannot be imported); the message says which."""

    def __init__(self, message: str, written: bool) -> None:
        super().__init__(message)
        self.written = written  # False: the module does not exist yet


def postgres_store_class() -> type:
    if importlib.util.find_spec("core.store.postgres") is None:
        raise PostgresStoreMissing("PostgresStore not written yet (core/store/postgres.py is missing)", False)
    try:
        module = importlib.import_module("core.store.postgres")
        return module.PostgresStore  # type: ignore[no-any-return]
    except (ImportError, AttributeError) as exc:
        raise PostgresStoreMissing(f"core.store.postgres.PostgresStore cannot be imported: {exc!r}", True) from exc


def make_store(target: Target) -> Store:
    """A store (not yet opened) on the target's database."""
    if target.backend == "sqlite":
        return SqliteStore(target.location)
    if target.backend == "postgres":
        return postgres_store_class()(target.location)  # type: ignore[no-any-return]
    raise ValueError(f"unknown backend {target.backend!r}")
