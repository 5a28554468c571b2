"""SQLite specifics of the spaces' queries: what a custom question's row holds, unreadable stored options."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.models import Option
from core.store.base import StoreError
from core.store.sqlite import SqliteStore
from core.store.sqlite_spaces import custom_row_id

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def test_a_custom_question_row_holds_no_author(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.db")
    await store.open()
    try:
        await store.create_custom_prompt("S1", "C1", "Q?", (Option("1", "Yes"),), False, T0)
    finally:
        await store.close()
    conn = sqlite3.connect(tmp_path / "s.db")
    columns = [row[1] for row in conn.execute("PRAGMA table_info(custom_prompts)")]
    row = conn.execute("SELECT * FROM custom_prompts").fetchone()
    conn.close()
    assert columns == ["id", "space_id", "channel_id", "question", "options", "uses_scale", "low_means", "high_means",
                       "created_at"]
    assert row[:4] == (1, "S1", "C1", "Q?")


@pytest.mark.parametrize("stored", ["not json", "[{\"label\": \"no id\"}]", "{\"id\": 1}", "[1]", "[{\"id\": \"1\", "
                                    "\"label\": \"x\", \"lean\": \"left\"}]"])
async def test_unreadable_stored_options_surface_as_store_error(tmp_path: Path, stored: str) -> None:
    store = SqliteStore(tmp_path / "s.db")
    await store.open()
    try:
        made = await store.create_custom_prompt("S1", "C1", "Q?", (Option("1", "Yes"),), False, T0)
        conn = sqlite3.connect(tmp_path / "s.db")
        conn.execute("UPDATE custom_prompts SET options = ?", (stored,))
        conn.commit()
        conn.close()
        with pytest.raises(StoreError, match="unreadable"):
            await store.custom_prompt(made.id)
    finally:
        await store.close()


def test_custom_row_id_accepts_only_issued_ids() -> None:
    assert custom_row_id("custom-1") == 1
    assert custom_row_id("custom-9223372036854775807") == 2**63 - 1
    for other in ("custom-9223372036854775808", "custom-007", "custom-\u0661", "custom-1\n", None, 7):
        assert custom_row_id(other) is None  # type: ignore[arg-type]
