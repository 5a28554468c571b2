"""Migrations 009 and 010: a member's vote events are found through an index on their key's first 8 characters,
and neither votes nor events keep an index that only rare reads used.

The short index is what keeps a busy SQLite commit cheap (docs/scaling.md); these tests hold it to the
promises of the full-key index it replaced: members whose keys share a prefix stay apart, history and
erasure use the index (no scan of every event), and a database from before 009 keeps its events.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from core.models import VoteKind
from core.store.sqlite import SqliteStore
from tests.test_store_migration import database_at, iso

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TWIN_A, TWIN_B = "0123abcd" + "a" * 56, "0123abcd" + "b" * 56  # the same 8-character prefix


async def _trace(store: SqliteStore, statements: list[str]) -> None:
    """Every statement from now on, on the reader and on the writer's connection (with its values)."""

    async def tracing(conn: object) -> None:
        await conn.set_trace_callback(statements.append)  # type: ignore[attr-defined]

    await tracing(store.reader)
    await store.writer.run(tracing)


def _plans(path: Path, statements: list[str]) -> list[tuple[str, str]]:
    """Each traced statement with its query plan; the statements carry their values, so they are planned as sent."""
    raw = sqlite3.connect(path)
    try:
        return [(sql, " ".join(row[-1] for row in raw.execute(f"EXPLAIN QUERY PLAN {sql}"))) for sql in statements]
    finally:
        raw.close()


async def test_members_whose_keys_share_the_prefix_keep_their_own_history_and_erasure(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "twins.db")
    await store.open()
    try:
        poll = (await store.create_poll("S1", "C1", "p", T0, T0 + timedelta(days=1))).id
        await store.record_vote(poll, TWIN_A, "1", T0)
        await store.record_vote(poll, TWIN_B, "2", T0)
        await store.record_vote(poll, TWIN_B, "0", T0 + timedelta(minutes=1))
        assert [(h.kind, h.option_id) for h in await store.history(poll, TWIN_A)] == [("cast", "1")]
        assert [(h.kind, h.option_id) for h in await store.history(poll, TWIN_B)] == [("cast", "2"), ("change", "0")]
        await store.forget_member("S1", TWIN_A)
        assert await store.history(poll, TWIN_A) == []
        assert [h.option_id for h in await store.history(poll, TWIN_B)] == ["2", "0"]
        assert (await store.tally(poll)).current_counts() == {"0": 1}
    finally:
        await store.close()


async def test_history_and_erasure_find_a_members_events_through_the_prefix_index(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "plan.db")
    await store.open()
    statements: list[str] = []
    try:
        poll = (await store.create_poll("S1", "C1", "p", T0, T0 + timedelta(days=1))).id
        assert (await store.record_vote(poll, TWIN_A, "1", T0)).kind is VoteKind.CAST

        await _trace(store, statements)
        await store.history(poll, TWIN_A)
        await store.forget_member("S1", TWIN_A)
    finally:
        await store.close()
    touching = [s for s in statements if "FROM vote_events" in s]
    assert any(s.startswith("SELECT") for s in touching) and any(s.startswith("DELETE") for s in touching)
    for sql, plan in _plans(tmp_path / "plan.db", touching):
        # SEARCH, not SCAN: a scan of the whole index also says "USING INDEX".
        assert "SEARCH vote_events USING INDEX vote_events_by_voter_prefix" in plan, (sql, plan)


def _old_database(path: Path, version: int, events: list[tuple[str, str, str]], closed: bool = False) -> None:
    """A database at `version` holding poll 1 (open, or closed after a day) and TWIN_A's vote on it: first
    option "2", now "1", with its history `events` (kind, option, time) written as that version did."""
    conn = database_at(path, version)
    closes = iso(T0 + timedelta(days=1))
    conn.execute("INSERT INTO polls (id, space_id, channel_id, prompt_id, opened_at, closes_at, closed_at) "
                 "VALUES (1, 'S1', 'C1', 'p', ?, ?, ?)", (iso(T0), closes, closes if closed else None))
    conn.execute("INSERT INTO votes VALUES (1, ?, '1', '2', ?)", (TWIN_A, iso(T0)))
    conn.executemany("INSERT INTO vote_events (poll_id, voter_key, kind, option_id, at) VALUES (1, ?, ?, ?, ?)",
                     [(TWIN_A, *event) for event in events])
    conn.execute("INSERT INTO tallies VALUES (1, '2', '1', 1)")
    conn.execute("COMMIT")
    conn.close()


async def test_a_database_from_before_009_keeps_finding_its_events(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _old_database(path, 8, [("cast", "2", iso(T0)), ("change", "1", iso(T0 + timedelta(minutes=1)))])
    store = SqliteStore(path)
    await store.open()
    try:
        assert await store.schema_version() >= 9
        assert [(h.kind, h.option_id) for h in await store.history(1, TWIN_A)] == [("cast", "2"), ("change", "1")]
        assert (await store.record_vote(1, TWIN_A, "0", T0 + timedelta(minutes=2))).kind is VoteKind.CHANGED
        assert len(await store.history(1, TWIN_A)) == 3
    finally:
        await store.close()


async def test_stance_and_erasure_find_a_members_votes_through_their_spaces_polls(tmp_path: Path) -> None:
    """Migration 010: votes have no index by member, events none by poll. A member's stance and erasure
    look up each poll of their space by the votes primary key (no scan of every vote), the purge and an
    abandoned poll still remove every row, and a database from before 010 loses the two indexes."""
    path = tmp_path / "members.db"
    store = SqliteStore(path)
    await store.open()
    statements: list[str] = []
    try:
        polls = [(await store.create_poll("S1", f"C{i}", "p", T0, T0 + timedelta(days=1))).id for i in range(3)]
        other = (await store.create_poll("S2", "C1", "p", T0, T0 + timedelta(days=1))).id
        for poll in [*polls, other]:
            await store.record_vote(poll, TWIN_A, "1", T0)
            await store.record_vote(poll, TWIN_B, "2", T0)

        await _trace(store, statements)
        assert sorted(p.id for p, _ in await store.stance("S1", TWIN_A)) == polls
        assert await store.forget_member("S1", TWIN_A) > 0
        assert await store.stance("S1", TWIN_A) == [] and [p.id for p, _ in await store.stance("S2", TWIN_A)] == [other]
        assert len(await store.stance("S1", TWIN_B)) == 3
    finally:
        await store.close()
    raw = sqlite3.connect(path)
    try:
        indexes = {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert "votes_by_voter" not in indexes and "vote_events_by_poll" not in indexes
        member_reads = [s for s in statements if "votes" in s and TWIN_A in s and "vote_events" not in s]
        assert any("DELETE FROM votes" in s for s in member_reads) and any(s.startswith("SELECT") for s in member_reads)
    finally:
        raw.close()
    for sql, plan in _plans(path, member_reads):
        assert "SCAN v " not in f"{plan} " and "SCAN votes" not in plan, (sql, plan)
        assert "USING PRIMARY KEY (poll_id=? AND voter_key=?)" in plan, (sql, plan)


async def test_a_database_from_before_010_loses_the_two_indexes_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _old_database(path, 9, [("cast", "1", iso(T0))], closed=True)
    store = SqliteStore(path)
    await store.open()
    try:
        assert await store.schema_version() >= 10
        assert [p.id for p, _ in await store.stance("S1", TWIN_A)] == [1]
        assert await store.purge_votes_closed_before(T0 + timedelta(days=2)) == 2  # the vote and its event
        assert await store.history(1, TWIN_A) == [] and await store.stance("S1", TWIN_A) == []
        assert (await store.tally(1)).total == 1  # counts outlive the per-vote rows
        assert await store.purge_votes_closed_before(T0 + timedelta(days=2)) == 0  # nothing left to delete
    finally:
        await store.close()
    raw = sqlite3.connect(path)
    try:
        assert raw.execute("SELECT count(*) FROM vote_events").fetchone() == (0,)
        indexes = {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert not {"votes_by_voter", "vote_events_by_poll"} & indexes
    finally:
        raw.close()


async def test_abandoning_an_unvoted_poll_reads_no_events_and_a_voted_one_loses_them_all(tmp_path: Path) -> None:
    """Events have no index by poll: deleting a poll's events reads the whole table, so it happens only when
    vote rows were deleted (an event exists only beside its vote row). A member repeating a refused post
    must not make every abandon read the events table."""
    path = tmp_path / "abandon.db"
    store = SqliteStore(path)
    await store.open()
    statements: list[str] = []
    try:
        voted = (await store.create_poll("S1", "C1", "p", T0, T0 + timedelta(days=1))).id
        await store.record_vote(voted, TWIN_A, "1", T0)
        await store.record_vote(voted, TWIN_A, "2", T0 + timedelta(minutes=1))
        await store.abandon_poll(voted, T0 + timedelta(minutes=2))
        unvoted = (await store.create_poll("S1", "C1", "p", T0, T0 + timedelta(days=1))).id
        await _trace(store, statements)
        await store.abandon_poll(unvoted, T0 + timedelta(minutes=3))
        assert await store.history(voted, TWIN_A) == [] and await store.current_vote(voted, TWIN_A) is None
    finally:
        await store.close()
    assert any("DELETE FROM votes" in s for s in statements)
    assert not [s for s in statements if "DELETE FROM vote_events" in s]
    raw = sqlite3.connect(path)
    try:
        assert raw.execute("SELECT count(*) FROM vote_events").fetchone() == (0,)
    finally:
        raw.close()


async def test_the_purge_also_removes_rows_left_on_a_poll_already_purged(tmp_path: Path) -> None:
    """Whatever put them there (a restored backup, a hand edit), a closed poll's per-vote rows go at the next
    purge even when the poll was marked purged before."""
    path = tmp_path / "stray.db"
    store = SqliteStore(path)
    await store.open()
    try:
        poll = (await store.create_poll("S1", "C1", "p", T0, T0 + timedelta(days=1))).id
        await store.record_vote(poll, TWIN_A, "1", T0)
        await store.close_poll(poll, T0 + timedelta(days=1))
        assert await store.purge_votes_closed_before(T0 + timedelta(days=2)) == 1  # the row holds the vote
        raw = sqlite3.connect(path, isolation_level=None)
        raw.execute("INSERT INTO votes (poll_id, voter_key, option_id, first_option_id, updated_at) "
                    "VALUES (?, ?, '1', '1', ?)", (poll, TWIN_B, iso(T0)))
        raw.execute("INSERT INTO vote_events (poll_id, voter_key, kind, option_id, at) VALUES (?, ?, 'cast', '1', ?)",
                    (poll, TWIN_B, iso(T0)))
        raw.close()
        assert await store.purge_votes_closed_before(T0 + timedelta(days=2)) == 2
        assert await store.history(poll, TWIN_B) == [] and await store.current_vote(poll, TWIN_B) is None
    finally:
        await store.close()
