"""The spaces' part of the SQLite store: channel and space settings, custom questions, known spaces.

Space settings are one row per member of a set, replaced whole in one write, so a reader sees the
sets of one save or another, never a mix or a half-written one. Custom questions keep their options
as JSON and nothing about who wrote them.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from datetime import datetime, timedelta

import aiosqlite

from core.models import CUSTOM_PROMPT_PREFIX, ChannelSettings, Option, Prompt, ReasonsMode, SpaceSettings
from core.store.base import StoreError
from core.store.sqlite_notices import NoticeQueries
from core.store.sqlite_rows import read_all, ts

# Every table that names a space. A space appears in `known_spaces` as soon as any of them mentions it.
_SPACE_TABLES = ("polls", "channel_settings", "schedules", "notices", "space_settings", "custom_prompts")

_SET_KINDS = (("facilitator_role", "facilitator_roles"), ("facilitator", "facilitators"), ("channel", "channels"))

# Exactly the ids create_custom_prompt hands out: ASCII digits, no sign, no leading zero, within SQLite's
# integer range (19 digits at most; anything larger is checked against the maximum below).
_CUSTOM_ID = re.compile(rf"{re.escape(CUSTOM_PROMPT_PREFIX)}([1-9][0-9]{{0,18}})", re.ASCII)
_MAX_ROWID = 2**63 - 1


def custom_row_id(prompt_id: str) -> int | None:
    """The row id behind a custom prompt id, or None when `prompt_id` is not one this store issues."""
    match = _CUSTOM_ID.fullmatch(prompt_id) if isinstance(prompt_id, str) else None
    if match is None:
        return None
    row_id = int(match.group(1))
    return row_id if row_id <= _MAX_ROWID else None


def _options_json(options: tuple[Option, ...]) -> str:
    return json.dumps([asdict(o) for o in options], ensure_ascii=False)


def _options(prompt_id: str, text: str) -> tuple[Option, ...]:
    try:
        items = json.loads(text)
        return tuple(
            Option(str(i["id"]), str(i["label"]), str(i.get("emoji", "")), str(i.get("meaning", "")),
                   None if i.get("lean") is None else int(i["lean"]))
            for i in items
        )
    except (ValueError, TypeError, KeyError) as exc:
        raise StoreError(f"custom_prompt failed: the stored options of {prompt_id} are unreadable ({exc})") from exc


class SpaceQueries(NoticeQueries):
    # `writer` and `reader` come from NoticeQueries' declarations, provided by SqliteStore.

    async def _fetch(self, sql: str, params: tuple = ()) -> list[tuple]:
        return [tuple(r) for r in await read_all(self.reader, sql, params)]

    async def known_spaces(self) -> list[tuple[str, int]]:
        """Every space id stored anywhere, with its number of polls (abandoned ones not counted), by id."""
        spaces = " UNION ".join(f"SELECT space_id FROM {table}" for table in _SPACE_TABLES)
        rows = await self._fetch(
            f"SELECT s.space_id, (SELECT COUNT(*) FROM polls p WHERE p.space_id = s.space_id "
            f"AND p.abandoned_at IS NULL) FROM ({spaces}) s ORDER BY s.space_id"
        )
        return [(str(r[0]), int(r[1])) for r in rows]

    # -- channel settings -----------------------------------------------------------------------

    async def channel_settings(self, space_id: str, channel_id: str) -> ChannelSettings | None:
        rows = await self._fetch(
            "SELECT min_votes, results_live, poll_duration_s, members_post, reasons, report_limit "
            "FROM channel_settings "
            "WHERE space_id = ? AND channel_id = ?",
            (space_id, channel_id),
        )
        if not rows:
            return None
        min_votes, live, duration, members_post, reasons, report_limit = rows[0]
        return ChannelSettings(space_id, channel_id, min_votes, bool(live),
                               None if duration is None else timedelta(seconds=duration), bool(members_post),
                               ReasonsMode(reasons), report_limit)

    async def save_channel_settings(self, settings: ChannelSettings) -> None:
        duration = settings.poll_duration
        seconds = None if duration is None else int(duration.total_seconds())

        async def op(conn: aiosqlite.Connection) -> None:
            await conn.execute(
                "INSERT INTO channel_settings (space_id, channel_id, min_votes, results_live, poll_duration_s, "
                "members_post, reasons, report_limit) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (space_id, channel_id) DO UPDATE SET min_votes = excluded.min_votes, "
                "results_live = excluded.results_live, poll_duration_s = excluded.poll_duration_s, "
                "members_post = excluded.members_post, reasons = excluded.reasons, "
                "report_limit = excluded.report_limit",
                (settings.space_id, settings.channel_id, settings.min_votes, int(settings.results_live), seconds,
                 int(settings.members_post), str(settings.reasons), settings.report_limit),
            )
            # Stricter settings reach the channel's open polls in the same write; looser ones wait for the
            # next poll. Kept on the poll itself, so undoing the change can never loosen an open poll.
            # A new duration is for the next poll only: an open poll keeps the end it was announced with.
            await conn.execute(
                "UPDATE polls SET min_votes = MAX(COALESCE(min_votes, 0), ?), "
                "results_live = CASE WHEN ? = 0 THEN 0 ELSE results_live END "
                "WHERE space_id = ? AND channel_id = ? AND closed_at IS NULL",
                (settings.min_votes, int(settings.results_live), settings.space_id, settings.channel_id),
            )

        await self.writer.run(op)

    # -- space settings -------------------------------------------------------------------------

    async def space_settings(self, space_id: str) -> SpaceSettings:
        rows = await self._fetch("SELECT kind, value FROM space_settings WHERE space_id = ?", (space_id,))
        sets: dict[str, set[str]] = {kind: set() for kind, _ in _SET_KINDS}
        for kind, value in rows:
            sets[kind].add(value)
        return SpaceSettings(space_id, **{field: frozenset(sets[kind]) for kind, field in _SET_KINDS})

    async def save_space_settings(self, settings: SpaceSettings) -> None:
        rows = [
            (settings.space_id, kind, str(value))
            for kind, field in _SET_KINDS
            for value in sorted(getattr(settings, field))
        ]

        async def op(conn: aiosqlite.Connection) -> None:
            await conn.execute("DELETE FROM space_settings WHERE space_id = ?", (settings.space_id,))
            await conn.executemany("INSERT INTO space_settings (space_id, kind, value) VALUES (?, ?, ?)", rows)

        await self.writer.run(op)

    # -- custom questions -----------------------------------------------------------------------

    async def create_custom_prompt(
        self,
        space_id: str,
        channel_id: str,
        question: str,
        options: tuple[Option, ...],
        uses_scale: bool,
        now: datetime,
        *,
        low_means: str = "",
        high_means: str = "",
    ) -> Prompt:
        options = tuple(options)
        encoded, created_at = _options_json(options), ts(now)

        async def op(conn: aiosqlite.Connection) -> int:
            cur = await conn.execute(
                "INSERT INTO custom_prompts (space_id, channel_id, question, options, uses_scale, low_means, "
                "high_means, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (space_id, channel_id, question, encoded, int(uses_scale), low_means, high_means, created_at),
            )
            return int(cur.lastrowid)  # type: ignore[arg-type]

        row_id = await self.writer.run(op)
        return Prompt(f"{CUSTOM_PROMPT_PREFIX}{row_id}", "", question, options, bool(uses_scale),
                      low_means=low_means, high_means=high_means)

    async def custom_prompt(self, prompt_id: str) -> Prompt | None:
        row_id = custom_row_id(prompt_id)
        if row_id is None:
            return None
        rows = await self._fetch(
            "SELECT question, options, uses_scale, low_means, high_means FROM custom_prompts WHERE id = ?", (row_id,)
        )
        if not rows:
            return None
        question, options, uses_scale, low_means, high_means = rows[0]
        return Prompt(prompt_id, "", question, _options(prompt_id, options), bool(uses_scale),
                      low_means=low_means, high_means=high_means)
