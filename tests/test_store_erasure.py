"""Erasure leaves nothing on disk: a forgotten member's key is in no byte of the database or its WAL.

SQLite normally only unlinks deleted rows (their bytes stay in free space) and keeps older page
images in the WAL; secure_delete and a WAL truncate after each erasure are what this checks.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from core.privacy import voter_key
from core.store.sqlite import SqliteStore

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SECRET = "erasure-test-secret-0123456789"
OPTIONS = ["-2", "-1", "0", "1", "2"]


def disk_bytes(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists())


def traces(key: str, data: bytes) -> list[str]:
    found = []
    if key.encode() in data:
        found.append("hex text")
    if bytes.fromhex(key) in data:
        found.append("raw bytes")
    return found


async def vote_a_lot(store: SqliteStore, keys: list[str]) -> list[int]:
    polls = [(await store.create_poll("S1", f"C{c}", "p", T0, T0 + timedelta(days=1))).id for c in range(3)]
    for round_ in range(4):  # casts, then changes and a retraction: many row versions and events
        for i, key in enumerate(keys):
            for poll in polls:
                if round_ == 2 and i % 2:
                    await store.retract_vote(poll, key, T0)
                else:
                    await store.record_vote(poll, key, OPTIONS[(i + round_ + poll) % 5], T0)
    return polls


async def test_forgotten_member_leaves_no_trace_in_the_files(tmp_path: Path) -> None:
    path = tmp_path / "erase.db"
    keys = [voter_key(SECRET, "S1", f"member-{i}") for i in range(8)]
    gone, kept = keys[3], keys[4]
    store = SqliteStore(path)
    await store.open()
    try:
        polls = await vote_a_lot(store, keys)
        assert traces(gone, disk_bytes(path)), "the test must first see the key on disk"
        assert await store.forget_member("S1", gone) > 0
        data = disk_bytes(path)  # read while the store is still open, as an operator would
        assert traces(gone, data) == []
        assert "hex text" in traces(kept, data)
        assert await store.stance("S1", gone) == []
        assert await store.current_vote(polls[0], kept) is not None
    finally:
        await store.close()
    assert traces(gone, disk_bytes(path)) == []


async def test_purged_votes_leave_no_trace_in_the_files(tmp_path: Path) -> None:
    path = tmp_path / "purge.db"
    keys = [voter_key(SECRET, "S1", f"member-{i}") for i in range(6)]
    store = SqliteStore(path)
    await store.open()
    try:
        polls = await vote_a_lot(store, keys)
        for poll in polls:
            await store.close_poll(poll, T0 + timedelta(days=1))
        totals = [(await store.tally(p)).total for p in polls]
        assert await store.purge_votes_closed_before(T0 + timedelta(days=30)) > 0
        data = disk_bytes(path)
        for key in keys:
            assert traces(key, data) == [], key
        assert [(await store.tally(p)).total for p in polls] == totals  # aggregates survive
    finally:
        await store.close()
