"""Contract suite, part 2: spaces, channel and space settings, custom questions (every backend)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta

import pytest

from core.models import CUSTOM_PROMPT_PREFIX, ChannelSettings, Option, Prompt, Schedule, SpaceSettings
from core.store.base import Store, StoreError

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


async def test_known_spaces_include_spaces_known_only_from_space_settings_or_custom_questions(backend: Store) -> None:
    await backend.save_space_settings(SpaceSettings("S-f", channels=frozenset({"C1"})))
    await backend.create_custom_prompt("S-g", "C1", "Why?", (Option("1", "Yes"),), False, T0)
    assert await backend.known_spaces() == [("S-f", 0), ("S-g", 0)]


# -- channel settings -------------------------------------------------------------------------------


async def test_channel_settings_default_duration_and_members_post(backend: Store) -> None:
    await backend.save_channel_settings(ChannelSettings("S1", "C1", 5))
    got = await backend.channel_settings("S1", "C1")
    assert got == ChannelSettings("S1", "C1", 5, True, None, False)


async def test_channel_settings_round_trip_and_replacement(backend: Store) -> None:
    full = ChannelSettings("S1", "C1", 4, False, timedelta(hours=36), True)
    await backend.save_channel_settings(full)
    assert await backend.channel_settings("S1", "C1") == full
    odd = ChannelSettings("S1", "C1", 4, False, timedelta(minutes=90, seconds=7), True)
    await backend.save_channel_settings(odd)
    assert await backend.channel_settings("S1", "C1") == odd
    back = ChannelSettings("S1", "C1", 2, True, None, False)  # every field can go back to its default
    await backend.save_channel_settings(back)
    assert await backend.channel_settings("S1", "C1") == back
    assert await backend.channel_settings("S1", "C2") is None


@pytest.mark.parametrize("duration", [timedelta(0), timedelta(seconds=-60), timedelta(milliseconds=500)])
async def test_a_duration_under_a_second_is_refused_and_nothing_is_saved(backend: Store, duration: timedelta) -> None:
    before = ChannelSettings("S1", "C1", 3, True, timedelta(hours=2), False)
    await backend.save_channel_settings(before)
    with pytest.raises(StoreError):
        await backend.save_channel_settings(ChannelSettings("S1", "C1", 9, False, duration, True))
    assert await backend.channel_settings("S1", "C1") == before


async def test_stricter_settings_still_reach_open_polls_but_a_new_duration_does_not(backend: Store) -> None:
    poll = await backend.create_poll("S1", "C1", "p", T0, T0 + timedelta(hours=24), min_votes=3, results_live=True)
    await backend.save_channel_settings(ChannelSettings("S1", "C1", 6, False, timedelta(hours=2), True))
    got = await backend.get_poll(poll.id)
    assert got is not None
    assert (got.min_votes, got.results_live, got.closes_at) == (6, False, T0 + timedelta(hours=24))


# -- space settings ---------------------------------------------------------------------------------


async def test_space_settings_default_to_empty_sets(backend: Store) -> None:
    assert await backend.space_settings("S1") == SpaceSettings("S1")


async def test_space_settings_round_trip_and_replacement(backend: Store) -> None:
    first = SpaceSettings("S1", frozenset({"111", "222"}), frozenset({"U1", "U2"}), frozenset({"C1", "C2", "C3"}))
    other = SpaceSettings("S2", facilitators=frozenset({"U1"}))
    await backend.save_space_settings(first)
    await backend.save_space_settings(other)
    assert await backend.space_settings("S1") == first
    # the same value may sit in several sets; quotes and non-ASCII survive
    second = SpaceSettings("S1", frozenset({"x"}), frozenset({"x", "O'Brien \"U\""}), frozenset({"kanäl-🔒"}))
    await backend.save_space_settings(second)
    assert await backend.space_settings("S1") == second
    await backend.save_space_settings(SpaceSettings("S1"))  # saving empty sets clears them
    assert await backend.space_settings("S1") == SpaceSettings("S1")
    assert await backend.space_settings("S2") == other  # other spaces are untouched


async def test_concurrent_space_settings_saves_keep_one_whole_save(backend: Store) -> None:
    saves = [
        SpaceSettings("S1", frozenset({f"R{i}", f"R{i}b"}), frozenset({f"U{i}"}), frozenset({f"C{i}", "C-shared"}))
        for i in range(12)
    ]
    await backend.save_space_settings(saves[0])
    results = await asyncio.gather(
        *(backend.save_space_settings(s) for s in saves[1:]),
        *(backend.space_settings("S1") for _ in range(12)),
        backend.save_space_settings(SpaceSettings("S2", channels=frozenset({"D1"}))),
    )
    seen = [r for r in results if isinstance(r, SpaceSettings)]
    assert len(seen) == 12 and all(r in saves for r in seen), seen  # readers never see a mix or an empty set
    assert await backend.space_settings("S1") in saves[1:]
    assert await backend.space_settings("S2") == SpaceSettings("S2", channels=frozenset({"D1"}))


# -- custom questions -------------------------------------------------------------------------------

TRICKY = (
    Option("a", 'He said "no"', "🔒", "it's a 'quoted' \\ backslash", -2),
    Option("b", "Zero-width-joined 👩‍⚖️ judge", "👩‍⚖️", "line one\nline two", 0),
    Option("c", "Ünïcödé – dash", "", "", None),
    Option("d", "{\"json\": [1, 2]}", "🇪🇺", "</script>", 2),
)


async def test_custom_prompt_round_trip(backend: Store) -> None:
    made = await backend.create_custom_prompt("S1", "C1", 'Should "smart" cameras stay?', TRICKY, True, T0)
    assert made.id.startswith(CUSTOM_PROMPT_PREFIX) and made.id[len(CUSTOM_PROMPT_PREFIX):].isdigit()
    assert made == Prompt(made.id, "", 'Should "smart" cameras stay?', TRICKY, True, None)
    assert await backend.custom_prompt(made.id) == made
    scale = await backend.create_custom_prompt("S1", "C1", "Cameras?", TRICKY, True, T0, low_means="keep 'em",
                                               high_means="ban them — all")
    assert (scale.low_means, scale.high_means) == ("keep 'em", "ban them — all")
    assert await backend.custom_prompt(scale.id) == scale
    plain = await backend.create_custom_prompt("S2", "C9", "Yes or no?", (Option("1", "Yes"), Option("2", "No")),
                                               False, T0)
    assert plain.id not in (made.id, scale.id) and not plain.uses_scale
    assert (plain.low_means, plain.high_means) == ("", "")
    assert await backend.custom_prompt(plain.id) == plain
    assert await backend.custom_prompt(made.id) == made


async def test_custom_prompt_ids_are_never_reused_within_a_store(backend: Store) -> None:
    ids = [(await backend.create_custom_prompt("S1", "C1", f"Q{i}", TRICKY[:1], False, T0)).id for i in range(5)]
    assert len(set(ids)) == 5
    assert [int(i[len(CUSTOM_PROMPT_PREFIX):]) for i in ids] == sorted(int(i[len(CUSTOM_PROMPT_PREFIX):]) for i in ids)


@pytest.mark.parametrize("prompt_id", [
    "", "custom-", "custom-0", "custom-01", "custom-abc", "custom-1.0", "custom--1", "custom-+1", " custom-1",
    "custom-1 ", "custom-1\n", "custom-\u0661", "CUSTOM-1", "custom-1x", "custom-1; DROP TABLE polls",
    "custom-9223372036854775808", "custom-" + "9" * 40, "first-instinct", "custom-424242",
])
async def test_custom_prompt_answers_none_for_other_ids(backend: Store, prompt_id: str) -> None:
    await backend.create_custom_prompt("S1", "C1", "Q", TRICKY, True, T0)  # custom-1 exists
    assert await backend.custom_prompt(prompt_id) is None


# -- failures ---------------------------------------------------------------------------------------


async def test_new_methods_raise_store_error_when_the_store_is_closed(backend: Store) -> None:
    await backend.close()
    calls = [
        backend.known_spaces(),
        backend.space_settings("S1"),
        backend.save_space_settings(SpaceSettings("S1")),
        backend.create_custom_prompt("S1", "C1", "Q", TRICKY, True, T0),
        backend.custom_prompt("custom-1"),
        backend.channel_settings("S1", "C1"),
        backend.save_channel_settings(ChannelSettings("S1", "C1", 3)),
    ]
    for call in calls:
        with pytest.raises(StoreError):
            await call
