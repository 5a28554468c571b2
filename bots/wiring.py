"""Build the store and service from settings: the one place the core's parts are put together."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from zoneinfo import ZoneInfo

from core.content import load_pack
from core.privacy import SECRET_META_KEY, new_secret
from core.service import DebateService
from core.settings import Settings
from core.store.base import Store
from core.store.sqlite import SqliteStore

log = logging.getLogger("counterpoint")

NEW_DATABASE = ("created a new, empty database at {path}; if you expected your existing votes, check "
                "DATABASE_URL (a relative path is relative to the .env file's directory, else the current one)")


def make_store(settings: Settings, exclusive: bool = False) -> Store:
    """exclusive=True for long-running processes (run, console): a second one on the same SQLite file is
    refused. DATABASE_URL=postgresql://... selects PostgreSQL, where any number of processes may share it."""
    if settings.database_is_postgres:
        from core.store.postgres import PostgresStore  # asyncpg is loaded only by those who use it

        return PostgresStore(settings.database_url)
    return SqliteStore(settings.database_file, synchronous=settings.sqlite_synchronous, exclusive=exclusive)


@asynccontextmanager
async def open_store(settings: Settings, exclusive: bool = False) -> AsyncIterator[Store]:
    """An open (migrated) store, closed on exit; warns once when opening it created the (SQLite) file."""
    path = settings.database_file
    existed = settings.database_is_postgres or await asyncio.to_thread(os.path.exists, path)
    store = make_store(settings, exclusive=exclusive)
    await store.open()
    try:
        if not existed:
            # A wrong working directory or DATABASE_URL silently starts a second, empty database with
            # a new voter key: say so loudly, naming the absolute path.
            log.warning(NEW_DATABASE.format(path=path))
        yield store
    finally:
        await store.close()


@asynccontextmanager
async def open_service(
    settings: Settings, command: str = "/debate", exclusive: bool = False
) -> AsyncIterator[DebateService]:
    """An open store and a ready service; the store is closed (queued writes finished) on exit."""
    content = load_pack(settings.content_pack)
    async with open_store(settings, exclusive=exclusive) as store:
        # A secret kept in the database is generated once and reused, so members keep their votes
        # across restarts; COUNTERPOINT_SECRET keeps it out of the database file instead.
        secret = settings.secret or await store.get_or_create_meta(SECRET_META_KEY, new_secret())
        service = DebateService(
            content,
            store,
            secret,
            default_min_votes=settings.min_votes,
            poll_duration=timedelta(hours=settings.poll_hours),
            retention_days=settings.retention_days,
            command=command,
            tz=ZoneInfo(settings.timezone),
        )
        await service.purge_expired()
        yield service
