"""Who may do and see what on Slack: workspace admins, and which channels a member is in.

Both answers come from the Web API and are cached briefly. Whenever Slack cannot answer, the
answer is the private one (not an admin; cannot see the channel), never a guess. No log line here
names a member: only Slack's error code.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bots.slack.errors import slack_error
from core.cache import SharedLoadCache

log = logging.getLogger(__name__)

ADMIN_CACHE_SECONDS = 300.0
ADMIN_CACHE_MAX = 5000
MEMBERSHIP_CACHE_SECONDS = 60.0
MEMBERSHIP_CACHE_MAX = 2000
MEMBERSHIP_PAGE = 200  # Slack's recommended page size for users.conversations
MEMBERSHIP_MAX_PAGES = 10  # channels beyond 2,000 per member are treated as not visible
CHANNEL_TYPES = "public_channel,private_channel"

Key = tuple[str, str]


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
        self._cache: SharedLoadCache[Key, bool] = SharedLoadCache(ttl, ADMIN_CACHE_MAX, clock=clock)

    async def is_admin(self, team_id: str, user_id: str) -> bool:
        if user_id in self.extra:
            return True
        hit = self._cache.peek((team_id, user_id))
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
        # A failed lookup (None) is not kept: the next request asks Slack again.
        self._cache: SharedLoadCache[Key, frozenset[str] | None] = SharedLoadCache(
            ttl, max_size, keep=lambda found: found is not None, clock=clock)

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
        return await self._cache.get((team_id, user_id), lambda: self._fetch(user_id))

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
