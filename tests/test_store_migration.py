"""Migration 004 on a database from before it: duplicate open polls are closed, then one open per channel."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.store.base import PollAlreadyOpen
from core.store.sqlite import SqliteStore, migrations, split_sql

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def iso(at: datetime | None) -> str | None:
    return at.isoformat(timespec="microseconds") if at else None


def old_database(path: Path) -> None:
    """Schema version 3, as shipped before one-open-poll-per-channel, with duplicates in it."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    for number, sql in migrations():
        if number <= 3:
            for statement in split_sql(sql):
                conn.execute(statement)
    conn.execute("PRAGMA user_version=3")
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
