"""Member use cases around a poll: the day's question, votes, retracts and button presses."""

from __future__ import annotations

from collections.abc import Hashable
from datetime import tzinfo

from core import presenter
from core.actions import Action, ActionKind
from core.cases.base import ServiceBase
from core.catalogue import t
from core.models import Option, Poll, VoteKind, VoteOutcome
from core.moments import moment
from core.render import Button, Card, PollPost, Reply, Style
from core.roles import Access
from core.store.base import PollAlreadyOpen
from core.usecase import NOT_HERE, Actor, UserError, answers_errors

# Receipts remembered per poll, choice and outcome; a day's polls need a few dozen.
RECEIPTS_MAX = 4096


class VotingCases(ServiceBase):
    @answers_errors
    async def today(self, actor: Actor) -> Reply:
        polls = await self.store.open_polls(actor.space_id, actor.channel_id)
        now = self.clock()
        current = [p for p in polls if p.is_open(now)]
        if not current:
            await self.require_channel(actor)
            settings = await self.channel_settings(actor.space_id, actor.channel_id)
            # Opening the day's poll moves the deck on for everyone: by default only facilitators do it.
            if not settings.members_post and await self.access(actor) < Access.FACILITATOR:
                raise UserError(t("poll.none_open_members"))
            position = await self.deck_position(actor.space_id, actor.channel_id)
            try:
                poll = await self.open_poll(actor.space_id, actor.channel_id, position.next, actor.platform)
            except PollAlreadyOpen as exc:  # someone else's `today` won the race: show theirs
                current = [exc.poll]
            else:
                text = t("today.posted", poll_id=poll.id)
                if position.last_of_round and await self.access(actor) >= Access.FACILITATOR:
                    text += " " + t("deck.last_of_round", size=position.size)
                return Reply(text=text, post=PollPost(poll.id, await self.poll_card(poll.id)))
        if current[0].message_ref is None:  # still being posted (or its post is being retried)
            return Reply(text=t("poll.not_posted", poll_id=current[0].id))
        card = await self.poll_card(current[0].id)
        return Reply(text=t("today.open"), card=card)

    @answers_errors
    async def vote(self, actor: Actor, poll_id: int, option_id: str) -> Reply:
        return await self.cast(actor, poll_id, option_id)

    async def cast(self, actor: Actor, poll_id: int, option_id: str) -> Reply:
        """vote() without its error answers, for callers that give them already (press)."""
        poll = await self._poll_in_space(actor, poll_id, for_vote=True)
        if poll.message_ref is None and poll.is_open(self.clock()):
            # Its post may still be refused, and an abandoned poll keeps no votes: taking one now
            # would confirm a vote that is then lost.
            raise UserError(t("poll.not_posted", poll_id=poll.id))
        prompt = await self.prompt_of(poll)
        option = prompt.option(option_id)
        if option is None:
            raise UserError(t("vote.bad_option"))
        outcome = await self.store.record_vote(poll.id, self._key(actor), option.id, self.clock())
        if outcome.kind is VoteKind.POLL_CLOSED:
            self._polls.forget(poll.id)
            fresh = await self.store.get_poll(poll.id)
            if fresh is None or fresh.abandoned:
                raise UserError(NOT_HERE.format(poll_id=poll_id))
            raise UserError(t("vote.closed", poll_id=poll.id, results=self.cmd(actor, "results", poll=str(poll.id))))
        if outcome.kind is VoteKind.UNKNOWN_POLL:
            raise UserError(NOT_HERE.format(poll_id=poll_id))
        # Every member who makes the same choice on a poll gets the same receipt, so it is built once:
        # under a rush its wording, buttons and payloads were most of a vote's time in this process.
        variant = await self._receipt_variant(poll, outcome)
        zone = await self.zone(poll.space_id, poll.channel_id)
        key = (poll.id, poll.closes_at, option.id, outcome.kind, actor.platform, zone, variant)
        receipts: dict[tuple[object, ...], Reply] = self.__dict__.setdefault("_receipts", {})
        reply = receipts.get(key)
        if reply is None:
            reply = self._vote_receipt(actor, poll, option, outcome, zone, variant)
            if len(receipts) >= RECEIPTS_MAX:
                receipts.clear()
            receipts[key] = reply
        return reply

    def _vote_receipt(self, actor: Actor, poll: Poll, option: Option, outcome: VoteOutcome, zone: tzinfo,
                      variant: Hashable) -> Reply:
        label = f"{option.emoji} {option.label}".strip()
        retract = Button(t("vote.retract_button"), Action(ActionKind.RETRACT, poll_id=poll.id).encode(), "↩️",
                         Style.DANGER)
        if outcome.kind is VoteKind.UNCHANGED:
            return Reply(text=t("vote.unchanged", label=label),
                         card=Card(title=t("vote.receipt_title"), buttons=(retract,)))
        until = (t("vote.until", at=moment(poll.closes_at, zone)) if poll.closes_at else t("vote.while_open"))
        key = "vote.changed" if outcome.kind is VoteKind.CHANGED else "vote.cast"
        text, buttons = self._receipt_offer(actor, poll, outcome, variant)
        body = "\n".join(p for p in (t("vote.only_you"), *text) if p)
        return Reply(
            text=t(key, label=label, until=until),
            card=Card(title=t("vote.receipt_title"), text=body, buttons=(retract, *buttons)),
            refresh_polls=(poll.id,),
        )

    async def _receipt_variant(self, poll: Poll, outcome: VoteOutcome) -> Hashable:
        """What, besides the choice, shapes a cast or changed vote's receipt; cases that add to it (reasons)
        override this and `_receipt_offer`, reading what they need from `outcome` rather than the store,
        which would cost every vote a round trip."""
        return None

    def _receipt_offer(self, actor: Actor, poll: Poll, outcome: VoteOutcome,
                       variant: Hashable) -> tuple[tuple[str, ...], tuple[Button, ...]]:
        """Lines and buttons a receipt adds under "only you can see this"."""
        return (), ()

    @answers_errors
    async def retract(self, actor: Actor, poll_id: int) -> Reply:
        poll = await self._poll_in_space(actor, poll_id, for_vote=True)
        outcome = await self.store.retract_vote(poll.id, self._key(actor), self.clock())
        if outcome.kind is VoteKind.POLL_CLOSED:
            raise UserError(t("retract.closed", poll_id=poll.id))
        if outcome.kind is VoteKind.NOTHING_TO_RETRACT:
            return Reply(text=t("retract.nothing", poll_id=poll.id))
        return Reply(text=t("retract.done", poll_id=poll.id), refresh_polls=(poll.id,))

    @answers_errors
    async def meanings(self, actor: Actor, poll_id: int) -> Reply:
        """What each choice of a poll means, privately: reachable from a button on the poll."""
        poll = await self._poll_in_space(actor, poll_id)
        return Reply(card=presenter.meanings_card(await self.prompt_of(poll), self.content.axis))
