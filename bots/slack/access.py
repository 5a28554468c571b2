"""Who may do and see what on Slack: workspace admins, and which channels a member is in.

Both answers come from the Web API and are cached briefly. Whenever Slack cannot answer, the
answer is the private one (not an admin; cannot see the channel), never a guess. No log line here
names a member: only Slack's error code.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

from slack_sdk.web.async_client import AsyncWebClient

from bots.slack.errors import slack_error

log = logging.getLogger(__name__)

ADMIN_CACHE_SECONDS = 300.0
ADMIN_CACHE_MAX = 5000
MEMBERSHIP_CACHE_SECONDS = 60.0
MEMBERSHIP_CACHE_MAX = 2000
MEMBERSHIP_PAGE = 200  # Slack's recommended page size for users.conversations
MEMBERSHIP_MAX_PAGES = 10  # channels beyond 2,000 per member are treated as not visible
CHANNEL_TYPES = "public_channel,private_channel"

Key = tuple[str, str]
V = TypeVar("V")


class TtlCache(Generic[V]):
    """A small bounded cache with per-entry expiry; when full, expired then oldest entries go."""

    def __init__(self, ttl: float, max_size: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.max_size = max_size
        self.clock = clock
        self._entries: dict[Key, tuple[float, V]] = {}

    def get(self, key: Key) -> V | None:
        hit = self._entries.get(key)
        if hit is None:
            return None
        if hit[0] <= self.clock():
            del self._entries[key]
            return None
        return hit[1]

    def put(self, key: Key, value: V) -> None:
        now = self.clock()
        if key not in self._entries and len(self._entries) >= self.max_size:
            self._entries = {k: v for k, v in self._entries.items() if v[0] > now}
            while len(self._entries) >= self.max_size:  # dicts keep insertion order: drop the oldest
                del self._entries[next(iter(self._entries))]
        self._entries[key] = (now + self.ttl, value)

    def __len__(self) -> int:
        return len(self._entries)


class AdminDirectory:
    """Workspace admins and owners (users.info, cached) plus the ids in SLACK_ADMIN_USERS."""

    def __init__(
        self,
        client: AsyncWebClient,
        extra: frozenset[str],
        ttl: float = ADMIN_CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.extra = extra
        self._cache: TtlCache[bool] = TtlCache(ttl, ADMIN_CACHE_MAX, clock)

    async def is_admin(self, team_id: str, user_id: str) -> bool:
        if user_id in self.extra:
            return True
        hit = self._cache.get((team_id, user_id))
        if hit is not None:
            return hit
        try:
            user = (await self.client.users_info(user=user_id))["user"]
        except Exception as exc:
            # Refusing is the safe answer; not caching lets the next command try again.
            log.warning("users.info failed (%s); treating the member as a non-admin", slack_error(exc))
            return False
        admin = not user.get("deleted") and any(user.get(k) for k in ("is_admin", "is_owner", "is_primary_owner"))
        self._cache.put((team_id, user_id), admin)
        return admin


class ChannelAccess:
    """Which channels a member is in (users.conversations), for showing polls outside their channel.

    One lookup per member answers every channel at once (App Home checks many polls), and concurrent
    lookups for the same member share one request. Slack only lists private channels the bot shares
    with the member, which is every channel the bot can have posted a poll in.
    """

    def __init__(
        self,
        client: AsyncWebClient,
        ttl: float = MEMBERSHIP_CACHE_SECONDS,
        max_size: int = MEMBERSHIP_CACHE_MAX,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self._cache: TtlCache[frozenset[str]] = TtlCache(ttl, max_size, clock)
        self._pending: dict[Key, asyncio.Future[frozenset[str] | None]] = {}

    async def can_view(self, team_id: str, user_id: str, channel_id: str) -> bool:
        if not (team_id and user_id and channel_id):
            return False
        channels = await self.channels(team_id, user_id)
        return channels is not None and channel_id in channels

    def checker(self, team_id: str, user_id: str) -> Callable[[str], Awaitable[bool]]:
        """The Actor.can_view callable for one member."""

        async def check(channel_id: str) -> bool:
            return await self.can_view(team_id, user_id, channel_id)

        return check

    async def channels(self, team_id: str, user_id: str) -> frozenset[str] | None:
        """The member's channels, or None when Slack could not say (then nothing is shown)."""
        key = (team_id, user_id)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        pending = self._pending.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[frozenset[str] | None] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            found = await self._fetch(user_id)
            if found is not None:  # a failure is not cached: the next request asks again
                self._cache.put(key, found)
            future.set_result(found)
            return found
        except BaseException:
            future.set_result(None)
            raise
        finally:
            del self._pending[key]

    async def _fetch(self, user_id: str) -> frozenset[str] | None:
        found: set[str] = set()
        args: dict[str, Any] = {"user": user_id, "types": CHANNEL_TYPES, "limit": MEMBERSHIP_PAGE}
        try:
            for _ in range(MEMBERSHIP_MAX_PAGES):
                page = await self.client.users_conversations(**args)
                found.update(str(c.get("id")) for c in page.get("channels") or [] if c.get("id"))
                cursor = (page.get("response_metadata") or {}).get("next_cursor")
                if not cursor:
                    break
                args["cursor"] = cursor
        except Exception as exc:
            log.warning("users.conversations failed (%s); showing no other channel's polls", slack_error(exc))
            return None
        return frozenset(found)
