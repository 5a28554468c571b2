"""The use cases, put together: every member and facilitator action, returning render models.

Each area lives in its own module under core/cases (voting, reading, privacy, facilitation); the
service adds what crosses them: button presses and the help card.
"""

from __future__ import annotations

from core import presenter
from core.actions import REASON_KINDS, ActionError, ActionKind, decode
from core.cases.charts import ChartCases
from core.cases.facilitation import FacilitationCases
from core.cases.privacy import PrivacyCases
from core.cases.reading import ReadingCases
from core.cases.reasons import ReasonCases
from core.cases.voting import VotingCases
from core.catalogue import t
from core.commands.registry import help_entries
from core.privacy import MAX_MIN_VOTES, MIN_VOTES_FLOOR
from core.render import Reply
from core.usecase import (
    ADMIN_ONLY,
    FACILITATORS_ONLY,
    STORE_DOWN,
    VOTE_NOT_RECORDED,
    Actor,
    Home,
    UserError,
    answers_errors,
    parse_poll_ref,
    utc_now,
)

__all__ = ["ADMIN_ONLY", "FACILITATORS_ONLY", "MAX_MIN_VOTES", "MIN_VOTES_FLOOR", "STORE_DOWN",
           "VOTE_NOT_RECORDED", "Actor", "DebateService", "Home", "UserError", "parse_poll_ref", "utc_now"]


class DebateService(ChartCases, ReasonCases, VotingCases, ReadingCases, PrivacyCases, FacilitationCases):
    @answers_errors
    async def help(self, actor: Actor, admin_command: str | None = None) -> Reply:
        """The commands this member may run here, spelled as their platform spells them."""
        access = await self.access(actor)
        return Reply(card=presenter.help_card(help_entries(actor.platform, access, self.command),
                                              self.content.topic, self.content.axis))

    @answers_errors
    async def press(self, actor: Actor, payload: str) -> Reply:
        """A button press, from its payload: the one place payloads from outside are trusted or refused."""
        try:
            action = decode(payload)
        except ActionError as exc:
            raise UserError(t("press.bad_button", problem=exc)) from None
        if action.kind is ActionKind.VOTE:
            return await self.cast(actor, action.poll_id or 0, action.option_id or "")  # press answers its errors
        if action.kind is ActionKind.RETRACT:
            return await self.retract(actor, action.poll_id or 0)
        if action.kind is ActionKind.MEANINGS:
            return await self.meanings(actor, action.poll_id or 0)
        if action.kind is ActionKind.SECTION:
            return await self.article(actor, action.section_id)
        if action.kind in REASON_KINDS:
            return await self.press_reason(actor, action)
        if action.kind is ActionKind.FORGET:
            return await self.forget_me(actor, confirmed=True)
        return Reply(text=t("forget.cancelled"))
