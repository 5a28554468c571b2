"""Who may do what, and where: the one owner of the facilitator rule and of channel limits.

A platform admin (Discord Manage Server, Slack workspace admin or SLACK_ADMIN_USERS) is always a
facilitator and the only one who names facilitators. Members named as facilitators (Slack) or
holding a facilitator role (Discord) run the debate: post, close, ask, settings, schedules.
"""

from __future__ import annotations

from enum import IntEnum
from typing import TYPE_CHECKING

from core.models import SpaceSettings

if TYPE_CHECKING:
    from core.usecase import Actor


class Access(IntEnum):
    MEMBER = 0
    FACILITATOR = 1
    ADMIN = 2


def access_of(actor: Actor, space: SpaceSettings) -> Access:
    if actor.is_admin:
        return Access.ADMIN
    if actor.member_id in space.facilitators or actor.roles & space.facilitator_roles:
        return Access.FACILITATOR
    return Access.MEMBER


def channel_allowed(space: SpaceSettings, channel_id: str) -> bool:
    """Whether the bot works in this channel: every channel unless facilitators chose some."""
    return not space.channels or channel_id in space.channels
