"""Migrations on databases from before them: 004 (one open poll per channel), 006 (spaces, custom questions)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.models import CUSTOM_PROMPT_PREFIX, ChannelSettings, Option, SpaceSettings
from core.store.base import PollAlreadyOpen
from core.store.sqlite import SqliteStore, migrations, split_sql

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def iso(at: datetime | None) -> str | None:
    return at.isoformat(timespec="microseconds") if at else None


def database_at(path: Path, version: int) -> sqlite3.Connection:
    """A database built by the migrations up to `version`, in a transaction the caller commits."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    for number, sql in migrations():
        if number <= version:
            for statement in split_sql(sql):
                conn.execute(statement)
    conn.execute(f"PRAGMA user_version={version}")
    return conn


def old_database(path: Path) -> None:
    """Schema version 3, as shipped before one-open-poll-per-channel, with duplicates in it."""
    conn = database_at(path, 3)
    polls = [
        # id, space, channel, opened, closes, closed
        (1, "S1", "A", T0, T0 + timedelta(hours=2), None),  # ended before #3 opened: closed at its own time
        (2, "S1", "A", T0 + timedelta(hours=1), None, None),  # no end: closed when #3 opened
        (3, "S1", "A", T0 + timedelta(hours=5), T0 + timedelta(days=1), None),  # newest: stays open
        (4, "S1", "B", T0, T0 + timedelta(days=1), T0 + timedelta(hours=3)),  # already closed: untouched
        (5, "S1", "B", T0 + timedelta(hours=4), T0 + timedelta(days=1), None),  # only open one: stays open
        (6, "S2", "A", T0, T0 + timedelta(days=1), None),  # same channel id, other space: stays open
    ]
    conn.executemany(
        "INSERT INTO polls (id, space_id, channel_id, prompt_id, opened_at, closes_at, closed_at) "
        "VALUES (?, ?, ?, 'p', ?, ?, ?)",
        [(i, s, c, iso(o), iso(e), iso(x)) for i, s, c, o, e, x in polls],
    )
    conn.execute("INSERT INTO votes VALUES (1, 'k1', '1', '1', ?)", (iso(T0),))
    conn.execute("INSERT INTO tallies VALUES (1, '1', '1', 1)")
    conn.execute("COMMIT")
    conn.close()


async def test_migration_closes_older_duplicates_and_adds_the_constraint(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old_database(path)
    store = SqliteStore(path)
    await store.open()
    try:
        assert await store.schema_version() == max(n for n, _ in migrations())
        closed = {p: (await store.get_poll(p)).closed_at for p in range(1, 7)}  # type: ignore[union-attr]
        assert closed == {
            1: T0 + timedelta(hours=2),
            2: T0 + timedelta(hours=5),
            3: None,
            4: T0 + timedelta(hours=3),
            5: None,
            6: None,
        }
        first = await store.get_poll(1)
        assert first is not None and (first.min_votes, first.results_live, first.abandoned) == (None, None, False)
        assert (await store.tally(1)).total == 1  # votes and tallies of closed duplicates are kept
        with pytest.raises(PollAlreadyOpen) as refused:
            await store.create_poll("S1", "A", "p", T0 + timedelta(hours=6), None)
        assert refused.value.poll.id == 3
    finally:
        await store.close()
    # the database itself refuses a second open poll, whoever writes it
    conn = sqlite3.connect(path)
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("INSERT INTO polls (space_id, channel_id, prompt_id, opened_at) VALUES ('S1', 'B', 'p', 'x')")
    conn.close()


async def test_migration_006_keeps_channel_settings_and_adds_defaults(tmp_path: Path) -> None:
    path = tmp_path / "v5.db"
    conn = database_at(path, 5)
    conn.executemany(
        "INSERT INTO channel_settings (space_id, channel_id, min_votes, results_live) VALUES (?, ?, ?, ?)",
        [("S1", "C1", 5, 0), ("S1", "C2", 1, 1), ("S2", "C1", 9, 1)],
    )
    conn.execute(
        "INSERT INTO polls (id, space_id, channel_id, prompt_id, opened_at, closes_at, min_votes, results_live) "
        "VALUES (7, 'S3', 'C1', 'first-instinct', ?, ?, 4, 0)",
        (iso(T0), iso(T0 + timedelta(hours=24))),
    )
    conn.execute("INSERT INTO notices (space_id, channel_id, text, at) VALUES ('S4', 'C1', 'paused', ?)", (iso(T0),))
    conn.execute("COMMIT")
    conn.close()

    store = SqliteStore(path)
    await store.open()
    try:
        assert await store.schema_version() == max(n for n, _ in migrations()) >= 6
        assert await store.channel_settings("S1", "C1") == ChannelSettings("S1", "C1", 5, False, None, False)
        assert await store.channel_settings("S1", "C2") == ChannelSettings("S1", "C2", 1, True, None, False)
        assert await store.channel_settings("S2", "C1") == ChannelSettings("S2", "C1", 9, True, None, False)
        poll = await store.get_poll(7)
        assert poll is not None and (poll.prompt_id, poll.min_votes, poll.results_live) == ("first-instinct", 4, False)
        assert await store.space_settings("S1") == SpaceSettings("S1")
        assert await store.custom_prompt("custom-1") is None
        assert await store.known_spaces() == [("S1", 0), ("S2", 0), ("S3", 1), ("S4", 0)]
        # the new columns and tables are usable at once
        await store.save_channel_settings(ChannelSettings("S1", "C1", 5, False, timedelta(hours=3), True))
        made = await store.create_custom_prompt("S1", "C1", "Q?", (Option("1", "Yes", "👍"),), False, T0)
        assert made.id == f"{CUSTOM_PROMPT_PREFIX}1"
    finally:
        await store.close()
    # and they survive a reopen
    store = SqliteStore(path)
    await store.open()
    try:
        assert await store.channel_settings("S1", "C1") == ChannelSettings(
            "S1", "C1", 5, False, timedelta(hours=3), True
        )
        assert await store.custom_prompt(f"{CUSTOM_PROMPT_PREFIX}1") == made
    finally:
        await store.close()


def test_migration_006_columns_refuse_values_outside_their_range(tmp_path: Path) -> None:
    """The database itself keeps members_post a flag and a duration positive, whoever writes."""
    conn = database_at(tmp_path / "v6.db", 6)
    conn.execute("COMMIT")
    for duration, members_post in ((0, 1), (None, 2)):
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute(
                "INSERT INTO channel_settings (space_id, channel_id, min_votes, poll_duration_s, members_post) "
                "VALUES ('S', 'C', 3, ?, ?)",
                (duration, members_post),
            )
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("INSERT INTO space_settings VALUES ('S', 'admin', 'U1')")
    conn.close()
