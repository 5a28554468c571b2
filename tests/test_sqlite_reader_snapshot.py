"""A read on SQLite sees every write committed before it started, however many reads run at once.

Found while measuring issue 12's scheduler benchmark: now and then a scheduled post failed with
"TypeError: 'NoneType' object is not iterable" and waited for the next tick. bind_occurrence_poll created
the poll on the writer, then read it back on the reader connection and did not find it. Several reads
ran their statement and fetched its rows in two calls on the reader's thread; between the two, other
coroutines' reads ran on the same connection inside the first one's still-open read transaction, so
they saw the database as it was before writes that had already been acknowledged.

Now every SQLite read runs its statement to the end in one call on the reader's thread, and the poll an
occurrence is bound to is read inside the write that binds it.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from core.models import Schedule
from core.store.sqlite import SqliteStore

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
BASE = Schedule("S1", "C0", "slack", time(9, 30), "Europe/Paris", frozenset({0, 2, 4}), timedelta(hours=20),
                "section", "seed-1", T0)


async def test_reads_running_together_never_miss_an_acknowledged_write(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "snap.db")
    await store.open()
    try:
        for i in range(40):  # enough rows that a multi-row read stays open across an await
            await store.save_schedule(replace(BASE, channel_id=f"bulk-{i}"))
        stop = asyncio.Event()

        async def busy_reader() -> None:
            while not stop.is_set():
                await store.due_schedules(T0)
                await store.polls_awaiting_outcome()

        readers = [asyncio.create_task(busy_reader()) for _ in range(4)]
        missed: list[str] = []
        try:
            for i in range(400):
                channel = f"new-{i}"
                await store.save_schedule(replace(BASE, channel_id=channel))
                if await store.get_schedule("S1", channel) is None:
                    missed.append(channel)
        finally:
            stop.set()
            await asyncio.gather(*readers)
        assert missed == [], f"{len(missed)} of 400 reads missed the schedule saved just before them"
    finally:
        await store.close()


async def test_binding_an_occurrence_returns_its_poll_while_other_reads_run(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "bind.db")
    await store.open()
    try:
        for i in range(40):
            await store.save_schedule(replace(BASE, channel_id=f"bulk-{i}"))
        stop = asyncio.Event()

        async def busy_reader() -> None:
            while not stop.is_set():
                await store.due_schedules(T0)

        readers = [asyncio.create_task(busy_reader()) for _ in range(4)]
        try:
            for i in range(60):
                sched = replace(BASE, channel_id=f"bound-{i}")
                await store.save_schedule(sched)
                day = date(2026, 3, 3)
                claim = await store.claim_occurrence(sched, day, T0, "me", T0, timedelta(minutes=5))
                assert claim is not None
                poll, created = await store.bind_occurrence_poll(sched, day, "p", T0, T0 + timedelta(hours=1))
                assert created and poll.channel_id == sched.channel_id
        finally:
            stop.set()
            await asyncio.gather(*readers)
    finally:
        await store.close()
