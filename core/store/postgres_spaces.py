"""The spaces' part of the PostgreSQL store: channel and space settings, custom questions, known spaces.

Same rules as sqlite_spaces: space settings are replaced whole in one transaction (readers see one
save or another, never a mix), custom questions keep their options as JSON and nothing about who
wrote them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from core.models import CUSTOM_PROMPT_PREFIX, ChannelSettings, Option, Prompt, ReasonsMode, SpaceSettings
from core.store.postgres_rows import aware
from core.store.postgres_schedules import PgBase
from core.store.sqlite_spaces import _SET_KINDS, _SPACE_TABLES, _options, _options_json, custom_row_id


class PgSpaceQueries(PgBase):
    async def known_spaces(self) -> list[tuple[str, int]]:
        spaces = " UNION ".join(f"SELECT space_id FROM {table}" for table in _SPACE_TABLES)
        rows = await self.pool.fetch(
            "SELECT s.space_id, (SELECT COUNT(*) FROM polls p WHERE p.space_id = s.space_id "
            f"AND p.abandoned_at IS NULL) FROM ({spaces}) s ORDER BY s.space_id COLLATE \"C\""
        )
        return [(str(r[0]), int(r[1])) for r in rows]

    # -- channel settings -----------------------------------------------------------------------

    async def channel_settings(self, space_id: str, channel_id: str) -> ChannelSettings | None:
        row = await self.pool.fetchrow(
            "SELECT min_votes, results_live, poll_duration_s, members_post, reasons, report_limit "
            "FROM channel_settings "
            "WHERE space_id = $1 AND channel_id = $2",
            space_id, channel_id,
        )
        if row is None:
            return None
        min_votes, live, duration, members_post, reasons, report_limit = row
        return ChannelSettings(space_id, channel_id, min_votes, bool(live),
                               None if duration is None else timedelta(seconds=duration), bool(members_post),
                               ReasonsMode(reasons), report_limit)

    async def save_channel_settings(self, settings: ChannelSettings) -> None:
        duration = settings.poll_duration
        seconds = None if duration is None else int(duration.total_seconds())
        async with self._tx() as conn:
            await conn.execute(
                "INSERT INTO channel_settings (space_id, channel_id, min_votes, results_live, poll_duration_s, "
                "members_post, reasons, report_limit) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
                "ON CONFLICT (space_id, channel_id) DO UPDATE SET min_votes = excluded.min_votes, "
                "results_live = excluded.results_live, poll_duration_s = excluded.poll_duration_s, "
                "members_post = excluded.members_post, reasons = excluded.reasons, "
                "report_limit = excluded.report_limit",
                settings.space_id, settings.channel_id, settings.min_votes, bool(settings.results_live), seconds,
                bool(settings.members_post), str(settings.reasons), settings.report_limit,
            )
            # Stricter settings reach the channel's open polls in the same transaction; looser ones wait for
            # the next poll (kept on the poll itself, so undoing the change can never loosen an open poll).
            await conn.execute(
                "UPDATE polls SET min_votes = GREATEST(COALESCE(min_votes, 0), $1), "
                "results_live = CASE WHEN NOT $2 THEN FALSE ELSE results_live END "
                "WHERE space_id = $3 AND channel_id = $4 AND closed_at IS NULL",
                settings.min_votes, bool(settings.results_live), settings.space_id, settings.channel_id,
            )

    # -- space settings -------------------------------------------------------------------------

    async def space_settings(self, space_id: str) -> SpaceSettings:
        rows = await self.pool.fetch("SELECT kind, value FROM space_settings WHERE space_id = $1", space_id)
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
        async with self._tx() as conn:
            # DELETE locks the space's rows: a concurrent save waits, then replaces this one whole. A space
            # with no rows yet has nothing to lock, so a transaction-scoped advisory lock orders saves too.
            await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('space_settings:' || $1, 0))",
                               settings.space_id)
            await conn.execute("DELETE FROM space_settings WHERE space_id = $1", settings.space_id)
            if rows:
                await conn.executemany("INSERT INTO space_settings (space_id, kind, value) VALUES ($1, $2, $3)", rows)

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
        row_id = await self.pool.fetchval(
            "INSERT INTO custom_prompts (space_id, channel_id, question, options, uses_scale, low_means, "
            "high_means, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            space_id, channel_id, question, _options_json(options), bool(uses_scale), low_means, high_means,
            aware(now),
        )
        return Prompt(f"{CUSTOM_PROMPT_PREFIX}{row_id}", "", question, options, bool(uses_scale),
                      low_means=low_means, high_means=high_means)

    async def custom_prompt(self, prompt_id: str) -> Prompt | None:
        row_id = custom_row_id(prompt_id)
        if row_id is None:
            return None
        row = await self.pool.fetchrow(
            "SELECT question, options, uses_scale, low_means, high_means FROM custom_prompts WHERE id = $1", row_id
        )
        if row is None:
            return None
        question, options, uses_scale, low_means, high_means = row
        return Prompt(prompt_id, "", question, _options(prompt_id, options), bool(uses_scale),
                      low_means=low_means, high_means=high_means)
