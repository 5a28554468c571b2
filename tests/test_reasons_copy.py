"""`db copy` takes reasons, marks, reports and kept counts along to PostgreSQL (it reads the table list itself)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from core.models import ReasonKind
from core.store.copy import copy_sqlite_to_postgres
from core.store.postgres import PostgresStore
from core.store.sqlite import SqliteStore

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def test_copy_keeps_reasons_marks_reports_and_counts(tmp_path: Path, pg_dsn: str) -> None:
    src = SqliteStore(tmp_path / "src.db")
    await src.open()
    closed = await src.create_poll("S1", "C1", "p", T0, T0 + timedelta(hours=1))
    for key in ("a", "b", "c"):
        await src.record_vote(closed.id, key, "o1", T0)
        await src.save_reason(closed.id, key, f"why {key}", T0)
    rid = (await src.my_reason(closed.id, "a")).id  # type: ignore[union-attr]
    await src.mark_reason(rid, "b", T0)
    await src.report_reason(rid, "c", 5, T0)
    await src.close_poll(closed.id, T0 + timedelta(minutes=5))
    await src.forget_member("S1", "c")  # leaves a kept count behind
    before = (await src.reasons(closed.id, "b"), await src.reason_counts(closed.id))
    await src.close()

    await copy_sqlite_to_postgres(str(src.path), pg_dsn)
    dst = PostgresStore(pg_dsn)
    await dst.open()
    try:
        assert (await dst.reasons(closed.id, "b"), await dst.reason_counts(closed.id)) == before
        assert before[1] == {"o1": 3} and [r.marks for r in before[0]] == [1, 0]
        assert (await dst.report_reason(rid, "c", 5, T0)).kind is ReasonKind.REPORTED  # c's report was erased
        fresh = await dst.create_poll("S1", "C1", "p", T0 + timedelta(hours=2), T0 + timedelta(hours=3))
        await dst.record_vote(fresh.id, "a", "o1", T0 + timedelta(hours=2))
        saved = await dst.save_reason(fresh.id, "a", "new", T0 + timedelta(hours=2))
        assert saved.kind is ReasonKind.SAVED and (saved.reason_id or 0) > rid  # ids go on past the copied ones
    finally:
        await dst.close()
