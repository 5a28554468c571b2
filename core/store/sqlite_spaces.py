"""The spaces' part of the SQLite store: which spaces the database knows, with their poll counts."""

from __future__ import annotations

from core.store.sqlite_notices import NoticeQueries

# Every table that names a space. A space appears in `known_spaces` as soon as any of them mentions it.
_SPACE_TABLES = ("polls", "channel_settings", "schedules", "notices")


class SpaceQueries(NoticeQueries):
    # `writer` and `reader` come from NoticeQueries' declarations, provided by SqliteStore.

    async def known_spaces(self) -> list[tuple[str, int]]:
        """Every space id stored anywhere, with its number of polls (abandoned ones not counted), by id."""
        spaces = " UNION ".join(f"SELECT space_id FROM {table}" for table in _SPACE_TABLES)
        async with self.reader.execute(
            f"SELECT s.space_id, (SELECT COUNT(*) FROM polls p WHERE p.space_id = s.space_id "
            f"AND p.abandoned_at IS NULL) FROM ({spaces}) s ORDER BY s.space_id"
        ) as cur:
            return [(str(r[0]), int(r[1])) for r in await cur.fetchall()]
