"""The payload carried by buttons (Discord custom_id, Slack value): built and checked in one place.

Button payloads come back from the platform, so they are input from outside: a tampered or stale
payload must be rejected with a clear message, never trusted.
"""

from __future__ import annotations

import functools
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
    # Reasons (issue 13). With a poll: open the form, keep or drop a reason after a changed vote, delete
    # it, a page of reasons. With a reason id: mark, withdraw a mark, report, hide, restore.
    REASON_FORM = "rform"
    REASON_KEEP = "rkeep"
    REASON_DROP = "rdrop"
    REASON_DELETE = "rdel"
    REASONS_PAGE = "rpage"
    MARK = "rmark"
    UNMARK = "runmark"
    REPORT = "rreport"
    HIDE = "rhide"
    RESTORE = "rshow"


_WITH_POLL = (ActionKind.VOTE, ActionKind.RETRACT, ActionKind.MEANINGS, ActionKind.REASON_FORM,
              ActionKind.REASON_KEEP, ActionKind.REASON_DROP, ActionKind.REASON_DELETE, ActionKind.REASONS_PAGE)
WITH_REASON = (ActionKind.MARK, ActionKind.UNMARK, ActionKind.REPORT, ActionKind.HIDE, ActionKind.RESTORE)
REASON_KINDS = frozenset(WITH_REASON) | {ActionKind.REASON_FORM, ActionKind.REASON_KEEP, ActionKind.REASON_DROP,
                                         ActionKind.REASON_DELETE, ActionKind.REASONS_PAGE}


class ActionError(ValueError):
    """A payload that this version of the bot did not make."""


@dataclass(frozen=True)
class Action:
    kind: ActionKind
    poll_id: int | None = None
    option_id: str | None = None
    section_id: str | None = None
    number: int | None = None  # a reason's id, or the page of REASONS_PAGE

    def encode(self) -> str:
        parts: list[str] = [PREFIX, self.kind.value]
        if self.kind in _WITH_POLL:
            parts.append(str(self.poll_id))
        if self.kind is ActionKind.VOTE:
            parts.append(str(self.option_id))
        if self.kind is ActionKind.SECTION:
            parts.append(str(self.section_id))
        if self.kind in WITH_REASON or self.kind is ActionKind.REASONS_PAGE:
            parts.append(str(self.number))
        payload = ":".join(parts)
        if len(payload) > MAX_LEN:
            raise ActionError(f"payload longer than {MAX_LEN} characters")
        return payload


def decode(payload: str) -> Action:
    if not isinstance(payload, str) or len(payload) > MAX_LEN:
        raise ActionError("malformed button payload")
    return _decode(payload)


@functools.lru_cache(maxsize=4096)
def _decode(payload: str) -> Action:
    """Remembered: the same few buttons are pressed over and over, and an Action is immutable. A payload
    that fails raises again each time (lru_cache keeps no exceptions), so bad input fills nothing."""
    parts = payload.split(":")
    if len(parts) < 2 or parts[0] != PREFIX:
        raise ActionError("this button was not made by this bot")
    try:
        kind = ActionKind(parts[1])
    except ValueError:
        raise ActionError(f"unknown button action {parts[1]!r}") from None
    args = parts[2:]
    expected = {ActionKind.VOTE: 2, ActionKind.RETRACT: 1, ActionKind.MEANINGS: 1, ActionKind.SECTION: 1,
                ActionKind.REASONS_PAGE: 2}.get(kind, 1 if kind in _WITH_POLL or kind in WITH_REASON else 0)
    if len(args) != expected or not all(_PART.match(a) for a in args):
        raise ActionError("malformed button payload")
    if kind in WITH_REASON or kind is ActionKind.REASONS_PAGE:
        if not args[-1].isdigit() or len(args[-1]) > 18:
            raise ActionError("malformed number in button payload")
        number = int(args[-1])
        if kind in WITH_REASON:
            return Action(kind, number=number)
    if kind in _WITH_POLL:
        if not args[0].isdigit() or len(args[0]) > 18:
            raise ActionError("malformed poll number in button payload")
        poll_id = int(args[0])
        if kind is ActionKind.REASONS_PAGE:
            return Action(kind, poll_id=poll_id, number=number)
        return Action(kind, poll_id=poll_id, option_id=args[1] if kind is ActionKind.VOTE else None)
    if kind is ActionKind.SECTION:
        return Action(kind, section_id=args[0])
    return Action(kind)
