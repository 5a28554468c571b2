"""SQLite failures reach callers as StoreError, write nothing half-way, and leave the store usable.

- another process holds the write lock past the store's bounded wait;
- the disk is full (PRAGMA max_page_count always; a real tiny tmpfs when this process may mount one);
- two stores on one file race to open a poll in one channel: the unique index lets exactly one win.
"""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.models import VoteKind
from core.store.base import PollAlreadyOpen, StoreError
from core.store.sqlite import SqliteStore

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
OPTIONS = ["-2", "-1", "0", "1", "2"]


async def test_vote_fails_cleanly_while_another_process_holds_the_write_lock(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    store = SqliteStore(path, busy_timeout=0.05, lock_timeout=0.3)
    await store.open()
    try:
        poll = await store.create_poll("S1", "C1", "p", T0, T0 + timedelta(days=1))
        assert (await store.record_vote(poll.id, "before", "1", T0)).kind is VoteKind.CAST
        other = sqlite3.connect(path, isolation_level=None, timeout=0)
        other.execute("BEGIN IMMEDIATE")
        try:
            results = await asyncio.gather(
                store.record_vote(poll.id, "blocked-a", "2", T0),
                store.record_vote(poll.id, "blocked-b", "0", T0),
                store.retract_vote(poll.id, "before", T0),
                return_exceptions=True,
            )
            assert all(isinstance(r, StoreError) for r in results), results
            assert "locked" in str(results[0])
            # readers are not blocked by a writer in WAL mode
            assert await store.current_vote(poll.id, "before") == "1"
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert (await store.record_vote(poll.id, "after", "-1", T0)).kind is VoteKind.CAST
        for failed in ("blocked-a", "blocked-b"):
            assert await store.current_vote(poll.id, failed) is None
            assert await store.history(poll.id, failed) == []
        assert await store.current_vote(poll.id, "before") == "1"
        assert (await store.tally(poll.id)).current_counts() == {"1": 1, "-1": 1}
    finally:
        await store.close()


async def test_open_waits_a_bounded_time_for_a_held_write_lock(tmp_path: Path) -> None:
    path = tmp_path / "busy.db"
    other = sqlite3.connect(path, isolation_level=None, timeout=0)
    other.execute("BEGIN IMMEDIATE")
    try:
        store = SqliteStore(path, busy_timeout=0.05, lock_timeout=0.3)
        with pytest.raises(StoreError, match=r"^DATABASE_URL: cannot open the database at .*locked"):
            await store.open()
    finally:
        other.execute("ROLLBACK")
        other.close()
    await store.open()  # the failed attempt left nothing behind
    await store.close()


async def fill_until_full(store: SqliteStore, poll_id: int) -> tuple[dict[str, str], set[str]]:
    """Vote in concurrent bursts (so failures hit shared batches) until writes keep failing."""
    acked: dict[str, str] = {}
    failed: set[str] = set()
    failing_bursts = 0
    for burst in range(2000):
        names = [f"{burst:05d}-{i:02d}-" + "k" * 200 for i in range(20)]
        choices = [OPTIONS[(burst + i) % 5] for i in range(20)]
        results = await asyncio.gather(
            *(store.record_vote(poll_id, n, c, T0) for n, c in zip(names, choices, strict=True)),
            return_exceptions=True,
        )
        for name, choice, result in zip(names, choices, results, strict=True):
            if isinstance(result, BaseException):
                assert isinstance(result, StoreError), repr(result)
                assert "full" in str(result), str(result)
                failed.add(name)
            else:
                assert result.kind is VoteKind.CAST
                acked[name] = choice
        failing_bursts += any(isinstance(r, BaseException) for r in results)
        if failing_bursts >= 3:
            return acked, failed
    raise AssertionError("the database never filled up")


async def check_all_or_nothing(store: SqliteStore, poll_id: int, acked: dict[str, str], failed: set[str]) -> None:
    assert acked and failed
    assert await store.integrity_check() == "ok"
    for name, choice in acked.items():
        assert await store.current_vote(poll_id, name) == choice
    for name in failed:
        assert await store.current_vote(poll_id, name) is None
        assert await store.history(poll_id, name) == []
    tally = await store.tally(poll_id)
    assert tally.total == len(acked)
    expected: dict[str, int] = {}
    for choice in acked.values():
        expected[choice] = expected.get(choice, 0) + 1
    assert tally.current_counts() == expected
    assert (await store.get_poll(poll_id)) is not None


@pytest.mark.parametrize("synchronous", ["NORMAL", "FULL"])  # votes commit inline, or on the thread
async def test_full_database_fails_writes_with_store_error_and_keeps_reads(tmp_path: Path, synchronous: str) -> None:
    store = SqliteStore(tmp_path / "full.db", synchronous=synchronous)
    await store.open()
    try:
        poll = await store.create_poll("S1", "C1", "p", T0, T0 + timedelta(days=1))

        async def page_count(conn: object) -> int:
            cur = await conn.execute("PRAGMA page_count")  # type: ignore[attr-defined]
            return int((await cur.fetchone())[0])

        pages = await store.writer.run(page_count)

        async def cap(conn: object) -> None:
            await conn.execute(f"PRAGMA max_page_count={pages + 12}")  # type: ignore[attr-defined]

        await store.writer.run(cap)
        if store._inline is not None:  # the limit is per connection
            store._inline.execute(f"PRAGMA max_page_count={pages + 12}")
        acked, failed = await fill_until_full(store, poll.id)
        await check_all_or_nothing(store, poll.id, acked, failed)

        async def uncap(conn: object) -> None:
            await conn.execute("PRAGMA max_page_count=1073741823")  # type: ignore[attr-defined]

        await store.writer.run(uncap)  # space again: writes work again
        if store._inline is not None:
            store._inline.execute("PRAGMA max_page_count=1073741823")
        assert (await store.record_vote(poll.id, "later", "0", T0)).kind is VoteKind.CAST
    finally:
        await store.close()


@pytest.fixture
def tiny_tmpfs(tmp_path: Path):  # type: ignore[no-untyped-def]
    mount_point = tmp_path / "tiny"
    mount_point.mkdir()
    try:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=320k", "tmpfs", str(mount_point)],
                              capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"cannot mount a tmpfs here: {exc}")
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace').strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], capture_output=True, timeout=30)


async def test_full_disk_fails_writes_with_store_error_and_keeps_reads(tiny_tmpfs: Path) -> None:
    store = SqliteStore(tiny_tmpfs / "disk.db")
    await store.open()
    try:
        poll = await store.create_poll("S1", "C1", "p", T0, T0 + timedelta(days=1))
        acked, failed = await fill_until_full(store, poll.id)
        await check_all_or_nothing(store, poll.id, acked, failed)
    finally:
        await store.close()


async def test_two_stores_on_one_file_open_exactly_one_poll_per_channel(tmp_path: Path) -> None:
    a, b = SqliteStore(tmp_path / "shared.db"), SqliteStore(tmp_path / "shared.db")
    await a.open()
    await b.open()
    try:
        results = await asyncio.gather(
            *((a if i % 2 else b).create_poll("S1", "C1", f"p{i}", T0, T0 + timedelta(hours=1)) for i in range(20)),
            return_exceptions=True,
        )
        created = [r for r in results if not isinstance(r, BaseException)]
        assert len(created) == 1, results
        assert all(isinstance(r, PollAlreadyOpen) and r.poll.id == created[0].id
                   for r in results if isinstance(r, BaseException))
        assert [p.id for p in await a.open_polls("S1", "C1")] == [created[0].id]
        assert [p.id for p in await b.recent_polls("S1", "C1")] == [created[0].id]
    finally:
        await a.close()
        await b.close()


async def test_driver_errors_on_reads_and_writes_are_store_errors(tmp_path: Path) -> None:
    path = tmp_path / "broken.db"
    store = SqliteStore(path)
    await store.open()
    try:
        poll = await store.create_poll("S1", "C1", "p", T0, T0 + timedelta(days=1))
        raw = sqlite3.connect(path)
        raw.execute("DROP TABLE tallies")
        raw.execute("DROP TABLE schedules")
        raw.commit()
        raw.close()
        with pytest.raises(StoreError, match=r"^tally failed: OperationalError: no such table: tallies$"):
            await store.tally(poll.id)
        with pytest.raises(StoreError, match="no such table"):
            await store.get_schedule("S1", "C1")  # the scheduler's queries are covered too
        with pytest.raises(StoreError, match="no such table"):
            await store.record_vote(poll.id, "v", "1", T0)
        assert await store.current_vote(poll.id, "v") is None  # the failed vote left no row
        assert (await store.get_poll(poll.id)) is not None
    finally:
        await store.close()
