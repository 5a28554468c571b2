"""A fake chat platform for scheduler tests: channels can refuse everything, posts can 'crash'."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from core.models import Poll, Schedule
from core.render import Card
from core.store.sqlite import SqliteStore

PLATFORM = "fake"


class Refused(Exception):
    """The platform refused the request, as for a channel the bot was removed from."""


class Crash(BaseException):
    """The process died here: no handler in the code under test may survive it."""


@dataclass
class FakePort:
    clock: Callable[[], datetime]
    refusing: set[str] = field(default_factory=set)
    crash_after_outcome: int = 0  # crash right after accepting this many outcome posts
    platform: str = PLATFORM
    posts: list[tuple[str, int, datetime]] = field(default_factory=list)
    post_attempts: list[tuple[str, datetime]] = field(default_factory=list)  # posts, and looks for one
    outcomes: Counter[int] = field(default_factory=Counter)
    outcome_attempts: list[tuple[int, datetime]] = field(default_factory=list)  # posts, and looks for one

    def _refuse(self, poll: Poll) -> None:
        if poll.channel_id in self.refusing:
            raise Refused(f"not_in_channel ({poll.channel_id})")

    async def post_poll(self, poll: Poll, card: Card) -> str:
        self.post_attempts.append((poll.channel_id, self.clock()))
        self._refuse(poll)
        self.posts.append((poll.channel_id, poll.id, self.clock()))
        return f"{poll.channel_id}:{poll.id}"

    async def find_poll_message(self, poll: Poll) -> str | None:
        self.post_attempts.append((poll.channel_id, self.clock()))
        self._refuse(poll)
        return f"{poll.channel_id}:{poll.id}" if any(p[1] == poll.id for p in self.posts) else None

    async def update_poll(self, poll: Poll, card: Card) -> None:
        self._refuse(poll)

    async def post_outcome(self, poll: Poll, card: Card) -> None:
        self.outcome_attempts.append((poll.id, self.clock()))
        self._refuse(poll)
        self.outcomes[poll.id] += 1
        if self.crash_after_outcome:
            self.crash_after_outcome -= 1
            raise Crash("after the platform accepted the outcome")

    async def find_outcome_message(self, poll: Poll) -> str | None:
        self.outcome_attempts.append((poll.id, self.clock()))
        self._refuse(poll)
        return f"{poll.channel_id}:{poll.id}:outcome" if self.outcomes[poll.id] else None


def daily(channel: str, at: time, since: datetime, space: str = "S1") -> Schedule:
    return Schedule(space, channel, PLATFORM, at, "UTC", frozenset(range(7)), timedelta(hours=20), "section",
                    "seed", since=since)


async def posted_poll(store: SqliteStore, channel: str, opened_at: datetime, closes_at: datetime,
                      space: str = "S1") -> Poll:
    """A poll already posted on the fake platform (by hand, or by an earlier day's schedule)."""
    poll = await store.create_poll(space, channel, "first-instinct", opened_at, closes_at, PLATFORM)
    await store.set_poll_message(poll.id, f"{channel}:{poll.id}")
    return poll
