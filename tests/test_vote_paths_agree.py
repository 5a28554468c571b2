"""A lone vote (sqlite_votes._apply_one: its one step, written directly) and a batch (plan_votes, written in
bulk) follow the same rules: random request sequences, applied one at a time on one database and as a
single batch on another, give the same outcomes, rows, tallies and history.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.store.sqlite import SqliteStore
from core.store.sqlite_votes import apply_votes
from core.store.vote_plan import VoteRequest

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
OPEN, CLOSED, MISSING = 1, 2, 99  # poll 2 closed before the requests; no poll 99

requests = st.lists(
    st.builds(
        VoteRequest,
        poll_id=st.sampled_from([OPEN, OPEN, OPEN, CLOSED, MISSING]),
        voter_key=st.sampled_from(["a", "b", "c"]),
        option_id=st.sampled_from(["x", "y", "z", None]),
        at=st.integers(0, 5).map(lambda s: T0 + timedelta(seconds=s)),
    ),
    min_size=2, max_size=14,
)


@pytest.fixture(scope="module")
def template() -> Iterator[Path]:
    """A migrated database with an open poll (one member's vote and reason on it) and a closed poll."""
    import asyncio

    folder = Path(tempfile.mkdtemp(prefix="cp-paths-"))

    async def make() -> None:
        store = SqliteStore(folder / "template.db")
        await store.open()
        try:
            open_poll = await store.create_poll("S1", "C1", "p", T0 - timedelta(hours=1), T0 + timedelta(days=1))
            # c has voted and left a reason: every outcome for c carries the option it is on (the hint).
            await store.record_vote(open_poll.id, "c", "x", T0 - timedelta(minutes=30))
            await store.save_reason(open_poll.id, "c", "why", T0 - timedelta(minutes=30))
            closed = await store.create_poll("S1", "C2", "p", T0 - timedelta(hours=2), T0 - timedelta(hours=1))
            await store.close_poll(closed.id, T0 - timedelta(hours=1))
        finally:
            await store.close()

    asyncio.run(make())
    yield folder / "template.db"
    shutil.rmtree(folder, ignore_errors=True)


def _copy(template: Path, name: str) -> sqlite3.Connection:
    target = template.with_name(name)
    source = sqlite3.connect(template)
    conn = sqlite3.connect(target, isolation_level=None)
    source.backup(conn)
    source.close()
    return conn


def _state(conn: sqlite3.Connection) -> tuple[list[tuple[object, ...]], ...]:
    # Tally cells at 0 are left out: one at a time, a vote and its retract leave a cell at 0, where a batch
    # nets them out and writes none; results read only cells above 0.
    queries = ("SELECT poll_id, voter_key, option_id, first_option_id, updated_at, cast_at FROM votes ORDER BY 1, 2",
               "SELECT poll_id, first_option_id, option_id, n FROM tallies WHERE n > 0 ORDER BY 1, 2, 3",
               "SELECT poll_id, voter_key, kind, option_id, at FROM vote_events ORDER BY id")
    return tuple(conn.execute(q).fetchall() for q in queries)


@settings(max_examples=60, deadline=None)
@given(batch=requests)
def test_one_at_a_time_and_as_one_batch_give_the_same_outcomes_and_rows(template: Path,
                                                                        batch: list[VoteRequest]) -> None:
    alone, together = _copy(template, "alone.db"), _copy(template, "together.db")
    try:
        outcomes_alone = []
        for request in batch:
            alone.execute("BEGIN IMMEDIATE")
            outcomes_alone += apply_votes(alone, [request])
            alone.execute("COMMIT")
        together.execute("BEGIN IMMEDIATE")
        outcomes_together = apply_votes(together, batch)
        together.execute("COMMIT")
        assert outcomes_alone == outcomes_together
        hints = {o.reason_option_id for o, r in zip(outcomes_alone, batch, strict=True)
                 if (r.poll_id, r.voter_key) == (OPEN, "c")}
        assert hints <= {"x"}  # c's reason stays where it was: a vote never moves it
        assert _state(alone) == _state(together)
    finally:
        alone.close()
        together.close()
