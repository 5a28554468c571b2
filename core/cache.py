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
    """Values remembered for `ttl` seconds (None: until forgotten), at most `max_size` of them; when full,
    expired entries go first, then the oldest.

    `keep(value)` decides whether a loaded value is remembered; a value that is not is still handed to
    every caller that waited for that load. forget() during a load means that load is not remembered:
    whoever changed the value asked for a fresh read.
    """

    def __init__(self, ttl: float | None, max_size: int = 4096, keep: Callable[[V], bool] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl
        self._max_size = max_size
        self._keep = keep
        self._clock = clock
        self._values: dict[K, tuple[V, float]] = {}
        self._loading: dict[K, asyncio.Task[V]] = {}

    def peek(self, key: K) -> V | None:
        """The remembered value, or None (a miss): for callers that load and put() themselves."""
        entry = self._values.get(key)
        if entry is None:
            return None
        if self._ttl is not None and entry[1] <= self._clock():
            del self._values[key]
            return None
        return entry[0]

    async def get(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        entry = self._values.get(key)
        if entry is not None and (self._ttl is None or entry[1] > self._clock()):
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
        if self._keep is None or self._keep(value):
            self._store(key, value)

    def put(self, key: K, value: V) -> None:
        self._loading.pop(key, None)  # a load already running is older than this value
        self._store(key, value)

    def forget(self, key: K) -> None:
        self._values.pop(key, None)
        self._loading.pop(key, None)

    def __len__(self) -> int:
        return len(self._values)

    def _store(self, key: K, value: V) -> None:
        now = self._clock()
        self._values.pop(key, None)  # re-inserted last: the dict's order is the entries' age
        if len(self._values) >= self._max_size:
            if self._ttl is not None:
                self._values = {k: e for k, e in self._values.items() if e[1] > now}
            while len(self._values) >= self._max_size:
                del self._values[next(iter(self._values))]
        self._values[key] = (value, now + self._ttl if self._ttl is not None else 0.0)
