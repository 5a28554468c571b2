"""The default Store: SQLite through aiosqlite, with one group-commit writer and one reader."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import aiosqlite

from core.models import ChannelSettings, Poll, Tally, VoteOutcome
from core.store.base import HistoryEntry, StoreError
from core.store.group_commit import GroupCommitWriter
from core.store.sqlite_rows import POLL_COLUMNS as _POLL_COLUMNS
from core.store.sqlite_rows import dt as _dt
from core.store.sqlite_rows import insert_poll
from core.store.sqlite_rows import poll_from_row as _poll
from core.store.sqlite_rows import ts as _ts
from core.store.sqlite_schedules import ScheduleQueries
from core.store.vote_plan import Key, PollWindow, VoteRequest, VoteRow, plan_votes

log = logging.getLogger(__name__)

SYNCHRONOUS_MODES = ("OFF", "NORMAL", "FULL", "EXTRA")
def migrations() -> list[tuple[int, str]]:
    folder = resources.files("core.store").joinpath("migrations")
    found = []
    for entry in folder.iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:3].isdigit():
            found.append((int(name[:3]), entry.read_text(encoding="utf-8")))
    return sorted(found)


def split_sql(script: str) -> list[str]:
    """Statements of a migration file. Comments go first: they may contain semicolons.

    executescript() would be simpler but commits the open transaction, and a migration must apply
    whole or not at all.
    """
    code = "\n".join(line.split("--", 1)[0] for line in script.splitlines())
    return [s.strip() for s in code.split(";") if s.strip()]


class SqliteStore(ScheduleQueries):
    def __init__(self, path: str | Path, synchronous: str = "NORMAL", batch_max: int = 200) -> None:
        if synchronous.upper() not in SYNCHRONOUS_MODES:
            raise ValueError(f"synchronous must be one of {', '.join(SYNCHRONOUS_MODES)}")
        self.path = str(path)
        self.synchronous = synchronous.upper()
        self._batch_max = batch_max
        self._write: aiosqlite.Connection | None = None
        self._read: aiosqlite.Connection | None = None
        self._writer: GroupCommitWriter | None = None

    # -- lifecycle ------------------------------------------------------------------------------

    async def open(self) -> None:
        try:
            self._write = await self._connect()
            await self._write.execute("PRAGMA journal_mode=WAL")
            await self._migrate(self._write)
            self._read = await self._connect()
        except Exception as exc:
            await self.close()
            raise StoreError(f"cannot open the database at {self.path}: {exc}") from exc
        self._writer = GroupCommitWriter(self._write, self._batch_max)
        self._writer.start()

    async def _connect(self) -> aiosqlite.Connection:
        # isolation_level=None: we issue BEGIN IMMEDIATE ourselves, so a write transaction never
        # starts as a reader and then fails to upgrade under busy_timeout.
        conn = await aiosqlite.connect(self.path, isolation_level=None)
        await conn.execute("PRAGMA busy_timeout=5000")
        await conn.execute("PRAGMA foreign_keys=ON")
        await conn.execute(f"PRAGMA synchronous={self.synchronous}")
        return conn

    async def _migrate(self, conn: aiosqlite.Connection) -> None:
        await conn.execute("BEGIN IMMEDIATE")
        try:
            cur = await conn.execute("PRAGMA user_version")
            (version,) = await cur.fetchone()  # type: ignore[misc]
            for number, sql in migrations():
                if number > version:
                    log.info("applying migration %03d", number)
                    for statement in split_sql(sql):
                        await conn.execute(statement)
                    await conn.execute(f"PRAGMA user_version={number}")
            await conn.execute("COMMIT")
        except BaseException:
            await conn.execute("ROLLBACK")
            raise

    async def close(self) -> None:
        if self._writer is not None:
            await self._writer.stop()
            self._writer = None
        for conn in (self._read, self._write):
            if conn is not None:
                await conn.close()
        self._read = self._write = None

    @property
    def writer(self) -> GroupCommitWriter:
        if self._writer is None:
            raise RuntimeError("the store is not open")
        return self._writer

    @property
    def reader(self) -> aiosqlite.Connection:
        if self._read is None:
            raise RuntimeError("the store is not open")
        return self._read

    async def schema_version(self) -> int:
        cur = await self.reader.execute("PRAGMA user_version")
        row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def integrity_check(self) -> str:
        cur = await self.reader.execute("PRAGMA integrity_check")
        row = await cur.fetchone()
        return str(row[0]) if row else "no answer"

    # -- meta -----------------------------------------------------------------------------------

    async def get_or_create_meta(self, key: str, value: str) -> str:
        async def op(conn: aiosqlite.Connection) -> str:
            await conn.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT DO NOTHING", (key, value))
            cur = await conn.execute("SELECT value FROM meta WHERE key = ?", (key,))
            row = await cur.fetchone()
            return str(row[0])  # type: ignore[index]

        return await self.writer.run(op)

    async def get_meta(self, key: str) -> str | None:
        cur = await self.reader.execute("SELECT value FROM meta WHERE key = ?", (key,))
        row = await cur.fetchone()
        return str(row[0]) if row else None

    async def set_meta(self, key: str, value: str) -> None:
        async def op(conn: aiosqlite.Connection) -> None:
            await conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

        await self.writer.run(op)

    # -- polls ----------------------------------------------------------------------------------

    async def create_poll(
        self,
        space_id: str,
        channel_id: str,
        prompt_id: str,
        opened_at: datetime,
        closes_at: datetime | None,
        platform: str = "",
    ) -> Poll:
        async def op(conn: aiosqlite.Connection) -> int:
            return await insert_poll(conn, space_id, channel_id, prompt_id, opened_at, closes_at, platform)

        poll_id = await self.writer.run(op)
        poll = await self.get_poll(poll_id)
        assert poll is not None
        return poll

    async def get_poll(self, poll_id: int) -> Poll | None:
        cur = await self.reader.execute(f"SELECT {_POLL_COLUMNS} FROM polls WHERE id = ?", (poll_id,))
        row = await cur.fetchone()
        return _poll(row) if row else None

    async def set_poll_message(self, poll_id: int, message_ref: str) -> None:
        async def op(conn: aiosqlite.Connection) -> None:
            await conn.execute("UPDATE polls SET message_ref = ? WHERE id = ?", (message_ref, poll_id))

        await self.writer.run(op)

    async def close_poll(self, poll_id: int, at: datetime) -> bool:
        async def op(conn: aiosqlite.Connection) -> bool:
            cur = await conn.execute(
                "UPDATE polls SET closed_at = ? WHERE id = ? AND closed_at IS NULL", (_ts(at), poll_id)
            )
            return cur.rowcount == 1

        return await self.writer.run(op)

    async def _polls(self, where: str, params: tuple, suffix: str = "") -> list[Poll]:
        cur = await self.reader.execute(f"SELECT {_POLL_COLUMNS} FROM polls WHERE {where} {suffix}", params)
        return [_poll(r) for r in await cur.fetchall()]

    async def open_polls(self, space_id: str, channel_id: str | None = None) -> list[Poll]:
        if channel_id is None:
            return await self._polls("space_id = ? AND closed_at IS NULL", (space_id,), "ORDER BY id DESC")
        return await self._polls(
            "space_id = ? AND channel_id = ? AND closed_at IS NULL", (space_id, channel_id), "ORDER BY id DESC"
        )

    async def recent_polls(self, space_id: str, channel_id: str | None = None, limit: int = 25) -> list[Poll]:
        if channel_id is None:
            return await self._polls("space_id = ?", (space_id,), f"ORDER BY id DESC LIMIT {int(limit)}")
        return await self._polls(
            "space_id = ? AND channel_id = ?", (space_id, channel_id), f"ORDER BY id DESC LIMIT {int(limit)}"
        )

    async def polls_due_to_close(self, now: datetime) -> list[Poll]:
        return await self._polls("closed_at IS NULL AND closes_at <= ?", (_ts(now),), "ORDER BY closes_at")

    async def used_prompt_ids(self, space_id: str, channel_id: str) -> list[str]:
        cur = await self.reader.execute(
            "SELECT prompt_id FROM polls WHERE space_id = ? AND channel_id = ? ORDER BY id", (space_id, channel_id)
        )
        return [r[0] for r in await cur.fetchall()]

    # -- votes ----------------------------------------------------------------------------------

    async def record_vote(self, poll_id: int, voter_key: str, option_id: str, at: datetime) -> VoteOutcome:
        return await self.writer.run_bulk(self._apply_votes, VoteRequest(poll_id, voter_key, option_id, at))

    async def retract_vote(self, poll_id: int, voter_key: str, at: datetime) -> VoteOutcome:
        return await self.writer.run_bulk(self._apply_votes, VoteRequest(poll_id, voter_key, None, at))

    async def _apply_votes(self, conn: aiosqlite.Connection, requests: list[VoteRequest]) -> list[VoteOutcome]:
        poll_ids = sorted({r.poll_id for r in requests})
        marks = ",".join("?" * len(poll_ids))
        cur = await conn.execute(f"SELECT id, closes_at, closed_at FROM polls WHERE id IN ({marks})", poll_ids)
        windows = {row[0]: PollWindow(_dt(row[1]), _dt(row[2])) for row in await cur.fetchall()}
        keys = sorted({(r.poll_id, r.voter_key) for r in requests})
        pairs = ",".join("(?, ?)" for _ in keys)
        # A row-value IN (VALUES ...) is planned as a full scan of votes; joining a CTE of the keys
        # makes SQLite look each one up by primary key, so a batch costs the same at any table size.
        cur = await conn.execute(
            f"WITH k (p, v) AS (VALUES {pairs}) "
            "SELECT t.poll_id, t.voter_key, t.option_id, t.first_option_id, t.updated_at "
            "FROM k CROSS JOIN votes t ON t.poll_id = k.p AND t.voter_key = k.v",
            [v for key in keys for v in key],
        )
        existing: dict[Key, VoteRow] = {
            (r[0], r[1]): VoteRow(r[2], r[3], datetime.fromisoformat(r[4])) for r in await cur.fetchall()
        }
        plan = plan_votes(requests, windows, existing)
        if plan.rows:
            await conn.executemany(
                "INSERT INTO votes (poll_id, voter_key, option_id, first_option_id, updated_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (poll_id, voter_key) DO UPDATE SET "
                "option_id = excluded.option_id, first_option_id = excluded.first_option_id, "
                "updated_at = excluded.updated_at",
                [(k[0], k[1], row.option_id, row.first_option_id, _ts(row.updated_at)) for k, row in plan.rows.items()],
            )
        if plan.events:
            await conn.executemany(
                "INSERT INTO vote_events (poll_id, voter_key, kind, option_id, at) VALUES (?, ?, ?, ?, ?)",
                [(p, v, kind, o, _ts(at)) for p, v, kind, o, at in plan.events],
            )
        # SQLite checks CHECK (n >= 0) on the proposed row before resolving the conflict, so
        # decrements (always of an existing row) go through UPDATE and increments through UPSERT.
        ups = [(p, first, now, n) for (p, first, now), n in plan.tally_deltas.items() if n > 0]
        downs = [(n, p, first, now) for (p, first, now), n in plan.tally_deltas.items() if n < 0]
        if downs:
            await conn.executemany(
                "UPDATE tallies SET n = n + ? WHERE poll_id = ? AND first_option_id = ? AND option_id = ?", downs
            )
        if ups:
            await conn.executemany(
                "INSERT INTO tallies (poll_id, first_option_id, option_id, n) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (poll_id, first_option_id, option_id) DO UPDATE SET n = n + excluded.n",
                ups,
            )
        return plan.outcomes

    async def current_vote(self, poll_id: int, voter_key: str) -> str | None:
        cur = await self.reader.execute(
            "SELECT option_id FROM votes WHERE poll_id = ? AND voter_key = ?", (poll_id, voter_key)
        )
        row = await cur.fetchone()
        return row[0] if row else None

    async def tally(self, poll_id: int) -> Tally:
        cur = await self.reader.execute(
            "SELECT first_option_id, option_id, n FROM tallies WHERE poll_id = ? AND n > 0", (poll_id,)
        )
        return Tally(poll_id, {(r[0], r[1]): r[2] for r in await cur.fetchall()})

    async def history(self, poll_id: int, voter_key: str) -> list[HistoryEntry]:
        cur = await self.reader.execute(
            "SELECT kind, option_id, at FROM vote_events WHERE poll_id = ? AND voter_key = ? ORDER BY id",
            (poll_id, voter_key),
        )
        return [HistoryEntry(r[0], r[1], datetime.fromisoformat(r[2])) for r in await cur.fetchall()]

    async def stance(self, space_id: str, voter_key: str) -> list[tuple[Poll, str]]:
        cols = ", ".join(f"p.{c.strip()}" for c in _POLL_COLUMNS.split(","))
        cur = await self.reader.execute(
            f"SELECT {cols}, v.option_id FROM votes v JOIN polls p ON p.id = v.poll_id "
            "WHERE v.voter_key = ? AND p.space_id = ? AND v.option_id IS NOT NULL ORDER BY p.id DESC",
            (voter_key, space_id),
        )
        return [(_poll(r), r[-1]) for r in await cur.fetchall()]

    async def forget_member(self, space_id: str, voter_key: str) -> int:
        async def op(conn: aiosqlite.Connection) -> int:
            in_space = "poll_id IN (SELECT id FROM polls WHERE space_id = ?)"
            cur = await conn.execute(
                f"SELECT poll_id, first_option_id, option_id FROM votes WHERE voter_key = ? AND {in_space}",
                (voter_key, space_id),
            )
            held = [r for r in await cur.fetchall() if r[2] is not None]
            await conn.executemany(
                "UPDATE tallies SET n = n - 1 WHERE poll_id = ? AND first_option_id = ? AND option_id = ?", held
            )
            votes = await conn.execute(f"DELETE FROM votes WHERE voter_key = ? AND {in_space}", (voter_key, space_id))
            events = await conn.execute(
                f"DELETE FROM vote_events WHERE voter_key = ? AND {in_space}", (voter_key, space_id)
            )
            return votes.rowcount + events.rowcount

        return await self.writer.run(op)

    async def purge_votes_closed_before(self, cutoff: datetime) -> int:
        async def op(conn: aiosqlite.Connection) -> int:
            closed = "poll_id IN (SELECT id FROM polls WHERE closed_at IS NOT NULL AND closed_at < ?)"
            votes = await conn.execute(f"DELETE FROM votes WHERE {closed}", (_ts(cutoff),))
            events = await conn.execute(f"DELETE FROM vote_events WHERE {closed}", (_ts(cutoff),))
            await conn.execute(
                "UPDATE polls SET purged_at = ? WHERE closed_at < ? AND purged_at IS NULL",
                (_ts(datetime.now(UTC)), _ts(cutoff)),
            )
            return votes.rowcount + events.rowcount

        return await self.writer.run(op)

    # -- settings and export --------------------------------------------------------------------

    async def channel_settings(self, space_id: str, channel_id: str) -> ChannelSettings | None:
        cur = await self.reader.execute(
            "SELECT min_votes, results_live FROM channel_settings WHERE space_id = ? AND channel_id = ?",
            (space_id, channel_id),
        )
        row = await cur.fetchone()
        return ChannelSettings(space_id, channel_id, row[0], bool(row[1])) if row else None

    async def save_channel_settings(self, settings: ChannelSettings) -> None:
        async def op(conn: aiosqlite.Connection) -> None:
            await conn.execute(
                "INSERT INTO channel_settings (space_id, channel_id, min_votes, results_live) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (space_id, channel_id) DO UPDATE SET min_votes = excluded.min_votes, "
                "results_live = excluded.results_live",
                (settings.space_id, settings.channel_id, settings.min_votes, int(settings.results_live)),
            )

        await self.writer.run(op)

    async def polls_with_tallies(self, space_id: str) -> list[tuple[Poll, Tally]]:
        polls = await self._polls("space_id = ?", (space_id,), "ORDER BY id")
        cur = await self.reader.execute(
            "SELECT t.poll_id, t.first_option_id, t.option_id, t.n FROM tallies t "
            "JOIN polls p ON p.id = t.poll_id WHERE p.space_id = ? AND t.n > 0",
            (space_id,),
        )
        pairs: dict[int, dict[tuple[str, str], int]] = {}
        for poll_id, first, current, n in await cur.fetchall():
            pairs.setdefault(poll_id, {})[(first, current)] = n
        return [(p, Tally(p.id, pairs.get(p.id, {}))) for p in polls]
