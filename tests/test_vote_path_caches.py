"""What the vote path remembers, and what it must not (issue 12: the SQLite vote path's speed).

- A crowd voting on a poll this process has not seen reads the poll, the channel's zone and its reasons
  mode once, not once per member: concurrent misses share one load (core/cache.py). Before, a thousand
  members pressing at once sent three thousand reads to the store ahead of their votes.
- The shared load keeps every promise of a plain read: a failure reaches every waiter and is not
  remembered, forget() during a load wins over that load, one waiter giving up does not cancel the others.
- Receipts are built once per poll, choice and outcome (core/cases/voting.py), and still differ wherever
  they should: by choice, by cast or change, by platform, and at once when the reasons mode changes.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from core.cache import SharedLoadCache
from core.catalogue import t
from core.models import ContentPack
from core.service import DebateService
from core.store.sqlite import SqliteStore
from core.usecase import Actor
from tests.conftest import FakeClock, member

ADMIN = member("admin", admin=True)


def count_reads(store: SqliteStore, names: tuple[str, ...]) -> Counter[str]:
    """Counts calls of the named store methods (the real ones still run)."""
    calls: Counter[str] = Counter()
    for name in names:
        original: Callable[..., Any] = getattr(store, name)

        def counted(*args: Any, _name: str = name, _original: Callable[..., Any] = original) -> Any:
            calls[_name] += 1
            return _original(*args)

        setattr(store, name, counted)
    return calls


async def posted_poll(service: DebateService, prompt_id: str = "first-instinct") -> int:
    posted = await service.post(ADMIN, prompt_id)
    assert posted.post is not None, posted.text
    await service.attach_message(posted.post.poll_id, f"C1:{posted.post.poll_id}")
    return posted.post.poll_id


async def test_a_crowd_on_a_cold_poll_reads_it_once(pack: ContentPack, store: SqliteStore, clock: FakeClock) -> None:
    opener = DebateService(pack, store, "test-secret-0123456789", clock=clock)
    await opener.settings(ADMIN, reasons="ask")
    poll = await posted_poll(opener)
    # A second process's service (or this one after a restart): nothing about the poll is cached yet.
    service = DebateService(pack, store, "test-secret-0123456789", clock=clock)
    reads = count_reads(store, ("get_poll", "get_schedule", "channel_settings"))
    replies = await asyncio.gather(*(service.vote(member(f"m{i}"), poll, "1") for i in range(300)))
    assert all(not r.error for r in replies), [r.text for r in replies if r.error][:3]
    assert reads == Counter(get_poll=1, get_schedule=1, channel_settings=1), reads
    assert (await store.tally(poll)).total == 300


async def test_concurrent_misses_share_one_load_and_a_hit_loads_nothing() -> None:
    cache: SharedLoadCache[str, int] = SharedLoadCache(None)
    loads = 0
    gate = asyncio.Event()

    async def load() -> int:
        nonlocal loads
        loads += 1
        await gate.wait()
        return 7

    waiters = [asyncio.create_task(cache.get("k", load)) for _ in range(50)]
    await asyncio.sleep(0)
    gate.set()
    assert await asyncio.gather(*waiters) == [7] * 50
    assert await cache.get("k", load) == 7
    assert loads == 1


async def test_a_failed_load_reaches_every_waiter_and_is_not_remembered() -> None:
    cache: SharedLoadCache[str, int] = SharedLoadCache(None)
    gate = asyncio.Event()
    attempts = 0

    async def failing() -> int:
        nonlocal attempts
        attempts += 1
        await gate.wait()
        raise OSError("database is locked")

    waiters = [asyncio.create_task(cache.get("k", failing)) for _ in range(5)]
    await asyncio.sleep(0)
    gate.set()
    results = await asyncio.gather(*waiters, return_exceptions=True)
    assert all(isinstance(r, OSError) for r in results) and attempts == 1

    async def working() -> int:
        return 3

    assert await cache.get("k", working) == 3  # the failure was not kept


async def test_forget_during_a_load_wins_over_that_load() -> None:
    cache: SharedLoadCache[str, str] = SharedLoadCache(None)
    gate = asyncio.Event()

    async def stale() -> str:
        await gate.wait()
        return "read before the change"

    waiter = asyncio.create_task(cache.get("k", stale))
    await asyncio.sleep(0)
    cache.forget("k")  # e.g. a setting changed while the read was in flight
    gate.set()
    assert await waiter == "read before the change"  # the one who asked still gets an answer

    async def fresh() -> str:
        return "read after the change"

    assert await cache.get("k", fresh) == "read after the change"


async def test_one_waiter_giving_up_does_not_cancel_the_others() -> None:
    cache: SharedLoadCache[str, int] = SharedLoadCache(None)
    gate = asyncio.Event()

    async def load() -> int:
        await gate.wait()
        return 1

    quitter = asyncio.create_task(cache.get("k", load))
    stayer = asyncio.create_task(cache.get("k", load))
    await asyncio.sleep(0)
    quitter.cancel()
    gate.set()
    assert await stayer == 1
    with pytest.raises(asyncio.CancelledError):
        await quitter


async def test_values_not_kept_and_expired_values_are_loaded_again() -> None:
    loads = 0

    async def load() -> int | None:
        nonlocal loads
        loads += 1
        return None

    unposted: SharedLoadCache[str, int | None] = SharedLoadCache(None, keep=lambda v: v is not None)
    assert await unposted.get("k", load) is None and await unposted.get("k", load) is None
    assert loads == 2
    expired: SharedLoadCache[str, int | None] = SharedLoadCache(0.0)  # every value is already stale
    await expired.get("k", load)
    await expired.get("k", load)
    assert loads == 4


async def test_remembered_receipts_still_differ_where_they_should(service: DebateService) -> None:
    await service.settings(ADMIN, reasons="ask")
    poll = await posted_poll(service)
    prompt = service.content.prompt("first-instinct")
    assert prompt is not None
    first, second = prompt.options[0], prompt.options[1]

    a, b = await service.vote(member("a"), poll, first.id), await service.vote(member("b"), poll, first.id)
    assert a == b and first.label in a.text  # the same choice, the same receipt
    other = await service.vote(member("c"), poll, second.id)
    assert second.label in other.text and first.label not in other.text
    changed = await service.vote(member("a"), poll, second.id)
    assert changed.text != other.text  # a change says so; a first vote does not
    assert t("reason.ask") in (other.card.text if other.card else "")
    console = Actor("S1", "C1", "d", platform="console")
    on_console = await service.vote(console, poll, second.id)
    assert "/debate reason" in (on_console.card.text if on_console.card else "")
    assert "/debate reason" not in (other.card.text if other.card else "")

    assert not (await service.settings(ADMIN, reasons="off")).error
    after = await service.vote(member("e"), poll, second.id)
    assert after.card is not None and t("reason.ask") not in after.card.text
    assert len(after.card.buttons) == 1  # only "take my vote back": no reason offer once reasons are off


async def test_when_full_expired_entries_go_first_then_the_oldest() -> None:
    now = [0.0]
    cache: SharedLoadCache[str, int] = SharedLoadCache(10.0, max_size=3, clock=lambda: now[0])
    cache.put("old", 1)
    now[0] = 5.0
    cache.put("a", 2)
    cache.put("b", 3)
    now[0] = 12.0  # "old" has expired, "a" and "b" have not
    cache.put("c", 4)
    assert [cache.peek(k) for k in ("old", "a", "b", "c")] == [None, 2, 3, 4]
    cache.put("d", 5)  # nothing expired: the oldest ("a") goes
    assert [cache.peek(k) for k in ("a", "b", "c", "d")] == [None, 3, 4, 5]
    assert len(cache) == 3
