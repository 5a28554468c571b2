"""Coalesce message refreshes: at most one per interval per key, and the last state always lands.

Chat platforms rate-limit edits, and a burst of votes should not become a burst of edits. The flush
reads the state when it runs, not when it was requested, so the final edit shows the final counts.

Alone, a Coalescer spaces the edits of its own process. With `turns` (StoreTurns: the database, shared
by every process) the spacing holds across processes: each flush first asks the store for the turn
(core/store/refresh.py). Requests that arrive while this process waits for its turn are folded into one
ask, so a burst costs one small write per interval, not one per vote.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import time
from collections.abc import Awaitable, Callable, Hashable
from datetime import UTC, datetime, timedelta
from typing import Generic, Protocol, TypeVar

from core.store.refresh import RefreshClaim, RefreshTurn

log = logging.getLogger(__name__)
K = TypeVar("K", bound=Hashable)
K_contra = TypeVar("K_contra", bound=Hashable, contravariant=True)

# An edit still running after this long is presumed dead (its process crashed) and another may start;
# long enough for a Retry-After wait or two.
REFRESH_LEASE = timedelta(seconds=30)


class Turns(Protocol[K_contra]):
    async def claim(self, key: K_contra, mark: bool) -> RefreshClaim: ...

    async def finish(self, key: K_contra) -> None: ...


class RefreshStore(Protocol):
    async def claim_refresh(
        self, poll_id: int, holder: str, now: datetime, gap: timedelta, lease: timedelta, mark: bool
    ) -> RefreshClaim: ...

    async def finish_refresh(self, poll_id: int, holder: str, now: datetime) -> bool: ...


def holder_name(platform: str) -> str:
    """Unique per coalescer: host and pid for the operator, a random tail so a restarted pid never
    inherits a dead holder's running edit."""
    return f"{socket.gethostname()}:{os.getpid()}:{platform}:{secrets.token_hex(3)}"


class StoreTurns:
    """Turns at editing poll messages, kept in the store (one row per poll)."""

    def __init__(
        self,
        store: RefreshStore,
        holder: str,
        gap: float,
        lease: timedelta = REFRESH_LEASE,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.holder = holder
        self.gap = timedelta(seconds=gap)
        self.lease = lease
        self._clock = clock  # real time, never the service's clock: tests fake that one and it stands still

    async def claim(self, key: int, mark: bool) -> RefreshClaim:
        return await self.store.claim_refresh(key, self.holder, self._clock(), self.gap, self.lease, mark)

    async def finish(self, key: int) -> None:
        await self.store.finish_refresh(key, self.holder, self._clock())


class Coalescer(Generic[K]):
    def __init__(
        self,
        flush: Callable[[K], Awaitable[None]],
        interval: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
        turns: Turns[K] | None = None,
    ) -> None:
        self._flush = flush
        self.interval = interval
        self._clock = clock
        self._turns = turns
        self._last: dict[K, float] = {}
        self._dirty: set[K] = set()
        self._tasks: dict[K, asyncio.Task[None]] = {}
        self.flushes = 0

    def request(self, key: K) -> None:
        self._dirty.add(key)
        if key not in self._tasks:
            run = self._run(key) if self._turns is None else self._run_shared(key, self._turns)
            self._tasks[key] = asyncio.create_task(run, name=f"refresh-{key}")

    async def settle(self, key: K) -> None:
        """Request a refresh and wait until an edit made after this call has ended (ours or, with
        shared turns, another process's): for a final edit, such as a poll's close."""
        self.request(key)
        task = self._tasks.get(key)
        if task is not None:
            await asyncio.shield(task)

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
                await self._flush_once(key)
        finally:
            self._tasks.pop(key, None)

    async def _run_shared(self, key: K, turns: Turns[K]) -> None:
        """Ask for the turn until it is ours (edit) or nothing is stale any more (another process edited
        after our changes). Only then may this task end: someone must render the last change."""
        waiting = False
        try:
            while waiting or key in self._dirty:
                mark = key in self._dirty
                self._dirty.discard(key)
                try:
                    claim = await turns.claim(key, mark)
                except Exception as exc:  # the database is away: so is the state to render; the next vote retries
                    log.warning("refresh of %s: cannot take the turn: %s", key, type(exc).__name__)
                    return
                waiting = claim.turn is RefreshTurn.WAIT
                if waiting:
                    await asyncio.sleep(claim.wait)
                elif claim.turn is RefreshTurn.GO:
                    try:
                        await self._flush_once(key)
                    finally:
                        try:
                            await turns.finish(key)
                        except Exception as exc:  # the lease runs out instead; another process takes over
                            log.warning("refresh of %s: cannot end the turn: %s", key, type(exc).__name__)
        finally:
            self._tasks.pop(key, None)

    async def _flush_once(self, key: K) -> None:
        self.flushes += 1
        try:
            await self._flush(key)
        except Exception:  # a failed refresh must not stop later ones; the next vote retries
            log.exception("refreshing %s failed", key)

    async def drain(self) -> None:
        """Wait until every requested refresh has run (shutdown, tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)
