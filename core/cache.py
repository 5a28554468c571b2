"""A small per-process cache whose concurrent misses share one load.

Every vote needs its poll, its channel's zone and its channel's reasons mode. When a poll opens, a
thousand members may press at once; a plain "read on a miss" cache would send a thousand identical
reads to the store before the first answer lands, and under load those reads queue behind each other
and behind the votes. Here the first miss starts the load and every other caller waits for that same
load, so a cold key costs one read whatever the crowd.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class SharedLoadCache(Generic[K, V]):
    """Values remembered for `ttl` seconds (None: until forgotten), at most `max_size` of them.

    `keep(value)` decides whether a loaded value is remembered; a value that is not is still handed to
    every caller that waited for that load. forget() during a load means that load is not remembered:
    whoever changed the value asked for a fresh read.
    """

    def __init__(self, ttl: float | None, max_size: int = 4096, keep: Callable[[V], bool] | None = None) -> None:
        self._ttl = ttl
        self._max_size = max_size
        self._keep = keep
        self._values: dict[K, tuple[V, float]] = {}
        self._loading: dict[K, asyncio.Task[V]] = {}

    def peek(self, key: K) -> V | None:
        entry = self._values.get(key)
        if entry is None:
            return None
        if self._ttl is not None and entry[1] <= time.monotonic():
            del self._values[key]
            return None
        return entry[0]

    async def get(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        entry = self._values.get(key)
        if entry is not None and (self._ttl is None or entry[1] > time.monotonic()):
            return entry[0]
        task = self._loading.get(key)
        if task is None:
            task = asyncio.ensure_future(load())
            self._loading[key] = task
            task.add_done_callback(lambda done: self._landed(key, done))
        # shield: one waiter giving up (a cancelled interaction) must not cancel the others' read
        return await asyncio.shield(task)

    def _landed(self, key: K, task: asyncio.Task[V]) -> None:
        failed = task.cancelled() or task.exception() is not None  # retrieved here, so never "unretrieved"
        if self._loading.get(key) is not task:  # forgotten meanwhile: the value may be stale
            return
        del self._loading[key]
        if failed:
            return
        value = task.result()
        if self._keep is not None and not self._keep(value):
            return
        if len(self._values) >= self._max_size:
            self._values.clear()
        self._values[key] = (value, time.monotonic() + self._ttl if self._ttl is not None else 0.0)

    def put(self, key: K, value: V) -> None:
        self.forget(key)
        if len(self._values) >= self._max_size:
            self._values.clear()
        self._values[key] = (value, time.monotonic() + self._ttl if self._ttl is not None else 0.0)

    def forget(self, key: K) -> None:
        self._values.pop(key, None)
        self._loading.pop(key, None)
