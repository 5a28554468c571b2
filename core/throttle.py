"""Coalesce message refreshes: at most one per interval per key, and the last state always lands.

Chat platforms rate-limit edits, and a burst of votes should not become a burst of edits. The flush
reads the state when it runs, not when it was requested, so the final edit shows the final counts.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)
K = TypeVar("K", bound=Hashable)


class Coalescer(Generic[K]):
    def __init__(
        self,
        flush: Callable[[K], Awaitable[None]],
        interval: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._flush = flush
        self.interval = interval
        self._clock = clock
        self._last: dict[K, float] = {}
        self._dirty: set[K] = set()
        self._tasks: dict[K, asyncio.Task[None]] = {}
        self.flushes = 0

    def request(self, key: K) -> None:
        self._dirty.add(key)
        if key not in self._tasks:
            self._tasks[key] = asyncio.create_task(self._run(key), name=f"refresh-{key}")

    async def _run(self, key: K) -> None:
        try:
            while key in self._dirty:
                last = self._last.get(key)
                if last is not None:
                    wait = last + self.interval - self._clock()
                    if wait > 0:
                        await asyncio.sleep(wait)
                self._dirty.discard(key)
                self._last[key] = self._clock()
                self.flushes += 1
                try:
                    await self._flush(key)
                except Exception:  # a failed refresh must not stop later ones; the next vote retries
                    log.exception("refreshing %s failed", key)
        finally:
            self._tasks.pop(key, None)

    async def drain(self) -> None:
        """Wait until every requested refresh has run (shutdown, tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)
