"""What every use case shares: who is asking, how bad input and store failures are answered."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Concatenate, ParamSpec, TypeVar

from core.catalogue import t
from core.render import Card, Reply
from core.store.base import StoreError
from core.visibility import ChannelCheck

log = logging.getLogger("core.service")
P = ParamSpec("P")
S = TypeVar("S")


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Actor:
    """Who is asking, where. `is_admin` is decided by the adapter from platform permissions."""

    space_id: str
    channel_id: str
    member_id: str
    is_admin: bool = False
    platform: str = ""  # which adapter posts for this space: "slack", "discord", "console"
    # Asks the platform whether this member can see another channel of the space; None: nobody
    # outside a poll's own channel sees it. Set by the adapter, which knows how to ask.
    can_view: ChannelCheck | None = field(default=None, compare=False, repr=False)
    # The member's platform roles (Discord role ids), for the facilitator role; empty elsewhere.
    roles: frozenset[str] = field(default=frozenset(), repr=False)


@dataclass(frozen=True)
class Home:
    """A member's overview of a space: their stance, the open question, the latest final results."""

    stance: Card
    today: Card | None
    today_channel: str | None
    latest: Card | None
    notices: tuple[str, ...] = ()  # for admins: what the scheduler could not do


ADMIN_ONLY = t("access.admins_only")
FACILITATORS_ONLY = t("access.facilitators_only")
NOT_HERE = t("poll.not_here")  # {poll_id}
STORE_DOWN = t("store.down")
VOTE_NOT_RECORDED = t("store.vote_not_recorded")


class UserError(Exception):
    """Bad input from a member: answered privately with the message, nothing changed."""


def answers_errors(
    method: Callable[Concatenate[S, P], Awaitable[Reply]],
) -> Callable[Concatenate[S, P], Awaitable[Reply]]:
    """Bad input and store failures become a private answer; nothing else is caught."""

    @functools.wraps(method)
    async def wrapper(self: S, *args: P.args, **kwargs: P.kwargs) -> Reply:
        try:
            return await method(self, *args, **kwargs)
        except UserError as exc:
            return Reply(text=str(exc), error=True)
        except StoreError as exc:
            # The member hears it was not done; the operator gets the cause, never who or which vote.
            log.warning("%s could not be carried out: %s", method.__name__, exc)
            vote_path = method.__name__ in ("vote", "retract", "press")
            return Reply(text=VOTE_NOT_RECORDED if vote_path else STORE_DOWN, error=True)

    return wrapper


def parse_poll_ref(ref: str) -> int:
    text = ref.strip().lstrip("#")
    # str.isdigit() also accepts "²" and "٣": only ASCII digits are poll numbers.
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        raise UserError(t("poll.bad_ref", ref=ref[:20]))
    return int(text)
