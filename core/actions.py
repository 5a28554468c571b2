"""The payload carried by buttons (Discord custom_id, Slack value): built and checked in one place.

Button payloads come back from the platform, so they are input from outside: a tampered or stale
payload must be rejected with a clear message, never trusted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

PREFIX = "cp1"
MAX_LEN = 100  # Discord's custom_id ceiling, the tighter of the two platforms
_PART = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


class ActionKind(StrEnum):
    VOTE = "vote"
    RETRACT = "retract"
    SECTION = "section"
    FORGET = "forget"
    CANCEL = "cancel"
    MEANINGS = "meanings"


_WITH_POLL = (ActionKind.VOTE, ActionKind.RETRACT, ActionKind.MEANINGS)


class ActionError(ValueError):
    """A payload that this version of the bot did not make."""


@dataclass(frozen=True)
class Action:
    kind: ActionKind
    poll_id: int | None = None
    option_id: str | None = None
    section_id: str | None = None

    def encode(self) -> str:
        parts: list[str] = [PREFIX, self.kind.value]
        if self.kind in _WITH_POLL:
            parts.append(str(self.poll_id))
        if self.kind is ActionKind.VOTE:
            parts.append(str(self.option_id))
        if self.kind is ActionKind.SECTION:
            parts.append(str(self.section_id))
        payload = ":".join(parts)
        if len(payload) > MAX_LEN:
            raise ActionError(f"payload longer than {MAX_LEN} characters")
        return payload


def decode(payload: str) -> Action:
    if not isinstance(payload, str) or len(payload) > MAX_LEN:
        raise ActionError("malformed button payload")
    parts = payload.split(":")
    if len(parts) < 2 or parts[0] != PREFIX:
        raise ActionError("this button was not made by this bot")
    try:
        kind = ActionKind(parts[1])
    except ValueError:
        raise ActionError(f"unknown button action {parts[1]!r}") from None
    args = parts[2:]
    expected = {ActionKind.VOTE: 2, ActionKind.RETRACT: 1, ActionKind.MEANINGS: 1, ActionKind.SECTION: 1}.get(kind, 0)
    if len(args) != expected or not all(_PART.match(a) for a in args):
        raise ActionError("malformed button payload")
    if kind in _WITH_POLL:
        if not args[0].isdigit() or len(args[0]) > 18:
            raise ActionError("malformed poll number in button payload")
        poll_id = int(args[0])
        return Action(kind, poll_id=poll_id, option_id=args[1] if kind is ActionKind.VOTE else None)
    if kind is ActionKind.SECTION:
        return Action(kind, section_id=args[0])
    return Action(kind)
