"""Contract suite, part 2: spaces, channel and space settings, custom questions (every backend)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from core.models import ChannelSettings, Schedule
from core.store.base import Store

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def schedule(space: str, channel: str) -> Schedule:
    return Schedule(space, channel, "slack", time(9), "UTC", frozenset(range(7)), timedelta(hours=20), "section",
                    "seed", T0)


# -- known spaces -----------------------------------------------------------------------------------


async def test_known_spaces_is_empty_on_a_new_database(backend: Store) -> None:
    assert await backend.known_spaces() == []


async def test_known_spaces_lists_each_space_once_with_its_poll_count(backend: Store) -> None:
    for channel in ("C1", "C2", "C3"):
        await backend.create_poll("S-b", channel, "p", T0, None)
    await backend.create_poll("S-a", "C1", "p", T0, None)
    abandoned = await backend.create_poll("S-a", "C2", "p", T0, None)
    await backend.abandon_poll(abandoned.id, T0)  # not exported, so not counted
    await backend.save_channel_settings(ChannelSettings("S-c", "C1", 3))
    await backend.save_schedule(schedule("S-d", "C1"))
    await backend.add_notice("S-e", "C1", "a notice", T0)
    await backend.save_channel_settings(ChannelSettings("S-b", "C1", 3))  # known twice: listed once
    assert await backend.known_spaces() == [("S-a", 1), ("S-b", 3), ("S-c", 0), ("S-d", 0), ("S-e", 0)]


async def test_known_spaces_sorts_by_space_id(backend: Store) -> None:
    for space in ("T9", "G1", "T10", "A"):
        await backend.create_poll(space, "C1", "p", T0, None)
    assert [s for s, _ in await backend.known_spaces()] == ["A", "G1", "T10", "T9"]
