"""What the scheduler needs from a chat platform. Each adapter implements this small port."""

from __future__ import annotations

from typing import Protocol

from core.models import Poll
from core.render import Card


class PlatformPort(Protocol):
    platform: str

    async def post_poll(self, poll: Poll, card: Card) -> str:
        """Post a poll card in its channel; return the message reference to store.

        The card carries `marker`; the platform must keep it findable (Slack message metadata,
        a Discord custom_id or footer) so `find_poll_message` can adopt a post after a crash.
        """

    async def find_poll_message(self, poll: Poll) -> str | None:
        """The reference of a message already posted for `poll` in its channel, if any."""

    async def update_poll(self, poll: Poll, card: Card) -> None:
        """Re-render the poll message in place (closing removes its vote buttons)."""

    async def post_outcome(self, poll: Poll, card: Card) -> None:
        """Post the final results as a reply to the poll (a thread where the platform has them).

        The card carries `marker` ("counterpoint-outcome:<poll id>"); as with polls, the platform must
        keep it findable so `find_outcome_message` can tell that a post before a crash went through.
        """

    async def find_outcome_message(self, poll: Poll) -> str | None:
        """The reference of an outcome already posted for `poll`, if any.

        Asked before a retried outcome is posted, so one accepted just before a crash is not repeated.
        """
