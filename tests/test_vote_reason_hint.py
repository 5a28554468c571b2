"""The vote receipt's reason offer costs no store read of its own (issue 12/13 follow-up).

Where the member's reason sits comes back in the vote's outcome (VoteOutcome.reason_option_id), read
inside the vote's write: on SQLite within the batch's read statement, on PostgreSQL within the locked
vote-row read. The service never calls store.my_reason on the vote path, and every receipt still offers
the same thing: "add a reason", "change my reason", or keep/drop when the reason sits on another option.
The offer's wording in every mode is covered by tests/test_reasons*.py; the engines' agreement on the
outcome by tests/contract/test_vote_reason_hint_contract.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from core.actions import Action, ActionKind, decode
from core.catalogue import t
from core.models import ContentPack
from core.render import Reply
from core.service import DebateService
from core.store import group_commit
from core.store.base import Store
from core.store.sqlite import SqliteStore
from tests.conftest import FakeClock, member

ADMIN = member("admin", admin=True)
ONE, TWO, MID = "-2", "2", "0"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgres"])
async def engine_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    if request.param == "sqlite":
        store: Store = SqliteStore(tmp_path / "hint.db")
    else:
        from core.store.postgres import PostgresStore

        store = PostgresStore(request.getfixturevalue("pg_dsn"))
    await store.open()
    try:
        yield store
    finally:
        await store.close()


class ReasonReads:
    """Counts the service's calls of store.my_reason (the read the vote path used to make)."""

    def __init__(self, store: Store) -> None:
        self.calls = 0
        original: Callable[..., Any] = store.my_reason

        async def counted(*args: Any) -> Any:
            self.calls += 1
            return await original(*args)

        store.my_reason = counted  # type: ignore[method-assign]


def offer(reply: Reply) -> str:
    """What the receipt offers about a reason: keep/drop, add, change, or nothing."""
    assert not reply.error and reply.card is not None, reply.text
    kinds = {decode(b.payload).kind: b.label for b in reply.card.buttons}
    if {ActionKind.REASON_KEEP, ActionKind.REASON_DROP} <= kinds.keys():
        return "keep or drop"
    label = kinds.get(ActionKind.REASON_FORM)
    if label is None:
        return "nothing"
    return {t("reason.add_button"): "add", t("reason.edit_button"): "change"}[label]


async def test_receipts_offer_the_same_without_reading_the_reason(engine_store: Store, pack: ContentPack,
                                                                  clock: FakeClock) -> None:
    service = DebateService(pack, engine_store, "test-secret-0123456789", clock=clock)
    await service.settings(ADMIN, reasons="ask")
    posted = await service.post(ADMIN, "first-instinct")
    assert posted.post is not None, posted.text
    poll = posted.post.poll_id
    await service.attach_message(poll, f"C1:{poll}")
    reads = ReasonReads(engine_store)
    a = member("a")

    first = await service.vote(a, poll, ONE)
    assert offer(first) == "add" and t("reason.ask") in (first.card.text if first.card else "")
    assert not (await service.save_reason(a, poll, "Safety first")).error
    reads.calls = 0  # the reason's own form and save may read it; only the votes must not
    moved = await service.vote(a, poll, TWO)
    assert offer(moved) == "keep or drop"
    assert offer(await service.vote(a, poll, MID)) == "keep or drop"  # still left on the first choice
    back = await service.vote(a, poll, ONE)
    assert offer(back) == "change" and t("reason.ask") not in (back.card.text if back.card else "")
    assert not (await service.retract(a, poll)).error
    assert offer(await service.vote(a, poll, TWO)) == "keep or drop"  # recast elsewhere after a retract
    kept = await service.press(a, Action(ActionKind.REASON_KEEP, poll_id=poll).encode())
    assert not kept.error, kept.text
    reads.calls = 0
    assert offer(await service.vote(a, poll, ONE)) == "keep or drop"  # kept with TWO, so left there now
    assert offer(await service.vote(member("b"), poll, TWO)) == "add"  # a's reason is not b's
    assert reads.calls == 0


async def test_a_sqlite_batch_reads_its_reasons_in_one_statement(tmp_path: Path, monkeypatch: Any) -> None:
    """The reason read is set-based like the batch's other statements: one for the whole batch, not one per
    vote. Every statement of the batch is counted on the connection that runs it (inline, by default)."""
    monkeypatch.setattr(group_commit, "IDLE_S", float("inf"))  # no vote of the batch commits alone
    store = SqliteStore(tmp_path / "batch.db")
    await store.open()
    try:
        poll = (await store.create_poll("S1", "C1", "p", T0, T0 + timedelta(hours=1))).id
        keys = [f"m{i}" for i in range(30)]  # one small batch: inline
        for key in keys:
            await store.record_vote(poll, key, "o1", T0)
            await store.save_reason(poll, key, "why", T0)
        statements: list[str] = []
        conn = store._inline
        assert conn is not None
        conn.set_trace_callback(statements.append)
        try:
            outcomes = await asyncio.gather(*(store.record_vote(poll, k, "o2", T0) for k in keys))
        finally:
            conn.set_trace_callback(None)
        assert [o.reason_option_id for o in outcomes] == ["o1"] * len(keys)
        assert store._writer is not None and store._writer.stats.largest_batch == len(keys)  # one batch
        assert sum("reasons" in s for s in statements) == 1
        # Reading does not grow with the batch: one SELECT for all 30 (the writes are one prepared
        # statement each, stepped once per row).
        assert sum(s.startswith("SELECT") for s in statements) == 1
        assert statements[0] == "BEGIN IMMEDIATE" and statements[-1] == "COMMIT"
    finally:
        await store.close()
