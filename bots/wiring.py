"""Build the store and service from settings: the one place the core's parts are put together."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from zoneinfo import ZoneInfo

from core.content import load_pack
from core.privacy import SECRET_META_KEY, new_secret
from core.service import DebateService
from core.settings import Settings
from core.store.sqlite import SqliteStore


def make_store(settings: Settings, exclusive: bool = False) -> SqliteStore:
    """exclusive=True for long-running processes (run, console): a second one on the same file is refused."""
    return SqliteStore(settings.sqlite_path, synchronous=settings.sqlite_synchronous, exclusive=exclusive)


@asynccontextmanager
async def open_service(
    settings: Settings, command: str = "/debate", exclusive: bool = False
) -> AsyncIterator[DebateService]:
    """An open store and a ready service; the store is closed (queued writes finished) on exit."""
    content = load_pack(settings.content_pack)
    store = make_store(settings, exclusive=exclusive)
    await store.open()
    try:
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
    finally:
        await store.close()
