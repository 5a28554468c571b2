"""The console as a scheduler platform: scheduled posts and outcomes are printed to the terminal."""

from __future__ import annotations

from collections.abc import Callable

from core.catalogue import t
from core.models import Poll
from core.render import Card, render_text


class ConsolePort:
    platform = "console"

    def __init__(self, say: Callable[[str], None], on_poll: Callable[[Card], None]) -> None:
        self._say = say
        self._on_poll = on_poll
        self._posted: set[int] = set()
        self._outcomes: set[int] = set()  # polls whose outcome this console printed

    async def post_poll(self, poll: Poll, card: Card) -> str:
        self._say("\n" + render_text(card, numbered=True) + "\n" + t("console.vote_hint"))
        self._posted.add(poll.id)
        self._on_poll(card)
        return f"console:{poll.id}"

    async def find_poll_message(self, poll: Poll) -> str | None:
        return f"console:{poll.id}" if poll.id in self._posted else None

    async def update_poll(self, poll: Poll, card: Card) -> None:
        self._say(t("console.poll_closed", poll=poll.id))

    async def post_outcome(self, poll: Poll, card: Card) -> None:
        self._say("\n" + render_text(card))
        self._outcomes.add(poll.id)

    async def find_outcome_message(self, poll: Poll) -> str | None:
        return f"console:{poll.id}:outcome" if poll.id in self._outcomes else None
