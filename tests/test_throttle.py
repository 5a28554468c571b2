from __future__ import annotations

import asyncio

from core.throttle import Coalescer


async def test_burst_coalesces_and_last_state_lands() -> None:
    state = {"value": 0}
    seen: list[int] = []

    async def flush(key: str) -> None:
        seen.append(state["value"])

    c: Coalescer[str] = Coalescer(flush, interval=0.05)
    for i in range(1, 101):
        state["value"] = i
        c.request("poll")
        if i % 10 == 0:
            await asyncio.sleep(0.01)
    await c.drain()
    assert seen[0] == 10  # the first flush runs at the first chance, reading the state then
    assert seen[-1] == 100  # the final state always lands
    assert len(seen) <= 6  # ~0.1 s of requests at one flush per 0.05 s, not 100 edits


async def test_keys_are_independent_and_errors_do_not_stop_later_flushes() -> None:
    calls: list[str] = []

    async def flush(key: str) -> None:
        calls.append(key)
        if len(calls) == 1:
            raise RuntimeError("platform said no")

    c: Coalescer[str] = Coalescer(flush, interval=0.01)
    c.request("a")
    c.request("b")
    await c.drain()
    c.request("a")
    await c.drain()
    assert sorted(calls) == ["a", "a", "b"]
