"""Reasons behind votes (issue 13): add, change, keep or drop, mark, report, moderate, page through, export.

A reason is stored under the member's voter key and belongs to their current choice (core.store.reason_ops):
when a vote moves to another option, the receipt offers "keep my reason" / "drop it", and until the
member answers the reason waits, shown nowhere (it shows again if they return to the old choice).
What may be shown follows core.visibility.visible_reasons: nothing while results are hidden, and a
side with fewer than k reasons as a count alone.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable
from dataclasses import replace
from typing import NamedTuple

from core import presenter_reasons as cards
from core.actions import Action, ActionKind
from core.cache import SharedLoadCache
from core.cases.base import ServiceBase
from core.catalogue import t
from core.export import reasons_csv
from core.models import Poll, ReasonKind, ReasonsMode, VoteOutcome
from core.presenter import OUTCOME_MARKER
from core.reasons import MAX_LENGTH, ReasonTextError, check_text, interleave, page_of, rank, with_exposure
from core.render import Attachment, Button, Card, Reply
from core.store.base import StoreError
from core.text import clean_typed
from core.usecase import STORE_DOWN, Actor, UserError, answers_errors
from core.visibility import VisibleReasons, may_see, visible_reasons

log = logging.getLogger("core.service")
MODE_CACHE_SECONDS = 10.0

_SAVED = {ReasonKind.SAVED: "reason.saved", ReasonKind.UPDATED: "reason.updated"}
_MARKED = {ReasonKind.MARKED: "reason.marked", ReasonKind.ALREADY: "reason.mark_twice",
           ReasonKind.OWN: "reason.own_mark", ReasonKind.GONE: "reason.gone"}
_REPORTED = {ReasonKind.REPORTED: "reason.reported", ReasonKind.HIDDEN: "reason.hidden_by_reports",
             ReasonKind.ALREADY: "reason.report_twice", ReasonKind.OWN: "reason.own_report",
             ReasonKind.GONE: "reason.gone"}
_MODERATED = {ReasonKind.HIDDEN: "moderate.hidden", ReasonKind.RESTORED: "moderate.restored",
              ReasonKind.GONE: "reason.gone"}
_ERRORS = {ReasonKind.SAVED, ReasonKind.UPDATED, ReasonKind.MARKED, ReasonKind.UNMARKED, ReasonKind.REPORTED,
           ReasonKind.HIDDEN, ReasonKind.RESTORED, ReasonKind.DELETED, ReasonKind.MOVED}


def _answer(kind: ReasonKind, key: str, **values: object) -> Reply:
    """A private answer; anything but a change is an error answer (nothing changed)."""
    return Reply(text=t(key, **values), error=kind not in _ERRORS)


class ReceiptOffer(NamedTuple):
    """What a vote receipt offers about reasons; every vote that shares it shares the receipt. A tuple: it is
    hashed into the key of the receipts every vote looks up (core.cases.voting)."""

    mode: ReasonsMode
    has_reason: bool
    moved: bool  # the member's reason is on another choice: keep or drop it


class ReasonCases(ServiceBase):
    # -- what may be shown ----------------------------------------------------------------------

    async def visible_reasons_of(self, poll: Poll, viewer_key: str = "") -> tuple[VisibleReasons, bool]:
        """The poll's reasons as anyone may see them now, and whether they wait for the poll's close."""
        results = await self.results_for(poll)
        if not results.visible:  # no store read for reasons that may not show anyway
            return VisibleReasons(False, (), results.min_votes), results.hidden_until_close
        found = await self.store.reasons(poll.id, viewer_key)
        return visible_reasons(results, found, await self.store.reason_counts(poll.id)), False

    async def _open_target(self, actor: Actor, poll_id: int) -> tuple[Poll, str]:
        """A poll the member may give a reason on now, and their current choice on it."""
        poll = await self._poll_in_space(actor, poll_id)  # read fresh: the votes' cached copy may predate a close
        if not poll.is_open(self.clock()):
            raise UserError(t("reason.closed", poll_id=poll.id))
        if (await self.channel_settings(poll.space_id, poll.channel_id)).reasons is ReasonsMode.OFF:
            raise UserError(t("reason.off"))
        option = await self.store.current_vote(poll.id, self._key(actor))
        if option is None:
            raise UserError(t("reason.no_vote", poll_id=poll.id))
        return poll, option

    async def _label(self, poll: Poll, option_id: str) -> str:
        option = (await self.prompt_of(poll)).option(option_id)
        return f"{option.emoji} {option.label}".strip() if option else option_id

    # -- the vote receipt -----------------------------------------------------------------------

    async def _receipt_variant(self, poll: Poll, outcome: VoteOutcome) -> Hashable:
        """The offer a vote's receipt makes (core.cases.voting): a reason, or keep/drop when one was left behind.
        Where the member's reason sits came back with the vote itself: no store read on the vote path."""
        try:
            mode = await self._receipt_mode(poll)
        except StoreError as exc:  # the vote stands; only the offer is missing
            log.warning("the reason offer of a vote receipt could not be made: %s", type(exc).__name__)
            return None
        if mode is ReasonsMode.OFF:
            return None
        has_reason = outcome.reason_option_id is not None
        return ReceiptOffer(mode, has_reason, has_reason and outcome.reason_option_id != outcome.option_id)

    def _receipt_offer(self, actor: Actor, poll: Poll, outcome: VoteOutcome,
                       variant: Hashable) -> tuple[tuple[str, ...], tuple[Button, ...]]:
        if not isinstance(variant, ReceiptOffer):
            return (), ()
        extra = (t("reason.command_hint", command=self.cmd(actor, "reason", text="…")),) \
            if actor.platform == "console" else ()
        if variant.moved:
            return (t("reason.keep_or_drop"), *extra), cards.keep_buttons(poll.id)
        text = t("reason.ask") if variant.mode is ReasonsMode.ASK and not variant.has_reason else ""
        return (text, *extra), (cards.add_button(poll.id, variant.has_reason),)

    async def _receipt_mode(self, poll: Poll) -> ReasonsMode:
        """The channel's reasons mode for a receipt, remembered a few seconds: every vote shows one, and the
        mode only shapes the offer (saving a reason reads it fresh). Settings in this process forget it."""
        modes: SharedLoadCache[tuple[str, str], ReasonsMode] | None = self.__dict__.get("_reason_modes")
        if modes is None:
            modes = self.__dict__["_reason_modes"] = SharedLoadCache(MODE_CACHE_SECONDS)
        remembered = modes.peek((poll.space_id, poll.channel_id))
        if remembered is not None:
            return remembered

        async def load() -> ReasonsMode:
            return (await self.channel_settings(poll.space_id, poll.channel_id)).reasons

        return await modes.get((poll.space_id, poll.channel_id), load)

    def reasons_mode_changed(self, space_id: str, channel_id: str) -> None:
        modes = self.__dict__.get("_reason_modes")
        if modes is not None:
            modes.forget((space_id, channel_id))

    # -- writing one's reason -------------------------------------------------------------------

    async def reason_form(self, actor: Actor, poll_id: int) -> cards.ReasonForm | Reply:
        """For adapters, before opening the form (a modal): the member's current reason, or why not (a Reply)."""
        try:
            poll, _ = await self._open_target(actor, poll_id)
            mine = await self.store.my_reason(poll.id, self._key(actor))
        except UserError as exc:
            return Reply(text=str(exc), error=True)
        except StoreError:
            return Reply(text=STORE_DOWN, error=True)
        return cards.reason_form(poll.id, mine.text if mine else "")

    @answers_errors
    async def save_reason(self, actor: Actor, poll_id: int, text: str) -> Reply:
        """The form's submission, or the `reason` command: the member's one reason on the poll."""
        try:
            cleaned = check_text(text)
        except ReasonTextError as exc:
            raise UserError(t(str(exc), limit=MAX_LENGTH, length=len(clean_typed(text or "")))) from None
        poll, option = await self._open_target(actor, poll_id)
        outcome = await self.store.save_reason(poll.id, self._key(actor), cleaned, self.clock())
        if outcome.kind is ReasonKind.POLL_CLOSED:
            raise UserError(t("reason.closed", poll_id=poll.id))
        if outcome.kind is ReasonKind.NO_VOTE:
            raise UserError(t("reason.no_vote", poll_id=poll.id))
        return _answer(outcome.kind, _SAVED[outcome.kind], label=await self._label(poll, option))

    @answers_errors
    async def reason(self, actor: Actor, text: str, poll_ref: str | None = None) -> Reply:
        """`reason TEXT [poll=N]`: the text form (console, and anyone who types it)."""
        poll = await self._pick_poll(actor, poll_ref, open_only=poll_ref is None)
        return await self.save_reason(actor, poll.id, text)

    @answers_errors
    async def delete_reason(self, actor: Actor, poll_ref: str | None = None) -> Reply:
        poll = await self._pick_poll(actor, poll_ref, open_only=poll_ref is None)
        outcome = await self.store.delete_reason(poll.id, self._key(actor), self.clock())
        key = {ReasonKind.DELETED: "reason.deleted", ReasonKind.POLL_CLOSED: "reason.closed"}.get(outcome.kind,
                                                                                                   "reason.none")
        return _answer(outcome.kind, key, poll_id=poll.id)

    @answers_errors
    async def keep_reason(self, actor: Actor, poll_id: int, keep: bool) -> Reply:
        """The receipt's answer after a changed vote: the reason goes with the new choice, or is deleted."""
        poll = await self._poll_in_space(actor, poll_id, for_vote=True)
        key = self._key(actor)
        if not keep:
            outcome = await self.store.delete_reason(poll.id, key, self.clock())
            if outcome.kind is ReasonKind.POLL_CLOSED:
                raise UserError(t("reason.closed", poll_id=poll.id))
            return _answer(outcome.kind, "reason.dropped" if outcome.kind is ReasonKind.DELETED else "reason.none",
                           poll_id=poll.id)
        outcome = await self.store.keep_reason(poll.id, key, self.clock())
        if outcome.kind is ReasonKind.MOVED:
            option = await self.store.current_vote(poll.id, key)
            return _answer(outcome.kind, "reason.kept", label=await self._label(poll, option or ""))
        keys = {ReasonKind.POLL_CLOSED: "reason.closed", ReasonKind.NO_VOTE: "reason.no_vote"}
        if outcome.kind is ReasonKind.NOTHING and outcome.reason_id is not None:
            return _answer(outcome.kind, "reason.already_there")
        return _answer(outcome.kind, keys.get(outcome.kind, "reason.none"), poll_id=poll.id)

    # -- reading, marking, reporting ------------------------------------------------------------

    @answers_errors
    async def reasons(self, actor: Actor, poll_ref: str | None = None, page: int = 1) -> Reply:
        """`reasons [poll]`: one page of a poll's reasons, privately; new reasons get places on every page."""
        poll = await self._pick_poll(actor, poll_ref)
        visible, until_close = await self.visible_reasons_of(poll, self._key(actor))
        ordered = interleave([with_exposure(rank(g.reasons)) for g in visible.groups if not g.count_only])
        items, pages = page_of(ordered, page)
        if items:
            try:
                await self.store.add_reason_views([r.id for r in items if not r.mine])
            except StoreError as exc:  # a view not counted is no reason to refuse the page
                log.warning("reason views could not be counted: %s", exc)
        prompt = await self.prompt_of(poll)
        return Reply(card=cards.reasons_card(prompt, self.content.axis, poll.id, visible, items, page, pages,
                                             until_close))

    async def _shown_reason(self, actor: Actor, reason_id: int) -> Poll:
        """The poll of a reason this member can see on a page now; otherwise the one answer 'gone'."""
        found = await self.store.get_reason(reason_id)
        try:
            if found is None:
                raise UserError(t("reason.gone"))
            poll = await self._poll_in_space(actor, found.poll_id)
        except UserError:  # one answer for every reason this member cannot see: ids tell nothing of polls
            raise UserError(t("reason.gone")) from None
        visible, _ = await self.visible_reasons_of(poll)
        if not any(r.id == reason_id for g in visible.groups for r in g.reasons):
            raise UserError(t("reason.gone"))
        return poll

    @answers_errors
    async def mark(self, actor: Actor, reason_id: int, on: bool = True) -> Reply:
        if not on:  # withdrawing touches only the member's own mark: no need for the reason to show
            outcome = await self.store.unmark_reason(reason_id, self._key(actor))
            return _answer(outcome.kind, "reason.unmarked" if outcome.kind is ReasonKind.UNMARKED
                           else "reason.not_marked")
        await self._shown_reason(actor, reason_id)
        outcome = await self.store.mark_reason(reason_id, self._key(actor), self.clock())
        return _answer(outcome.kind, _MARKED[outcome.kind])

    @answers_errors
    async def report(self, actor: Actor, reason_id: int) -> Reply:
        poll = await self._shown_reason(actor, reason_id)
        limit = (await self.channel_settings(poll.space_id, poll.channel_id)).report_limit
        outcome = await self.store.report_reason(reason_id, self._key(actor), limit, self.clock())
        return _answer(outcome.kind, _REPORTED[outcome.kind])

    # -- facilitators ---------------------------------------------------------------------------

    @answers_errors
    async def moderate(self, actor: Actor, poll_ref: str | None = None) -> Reply:
        """Reported and hidden reasons of a poll, with hide/restore: their text and reports, never an author."""
        await self.require(actor)
        poll = await self._pick_poll(actor, poll_ref)
        visible, _ = await self.visible_reasons_of(poll)
        if not visible.shown:  # facilitators see no more than members: nothing while results are held back
            raise UserError(t("moderate.held_back", poll_id=poll.id))
        return Reply(card=cards.moderation_card(poll.id, await self.store.reasons_for_review(poll.id)))

    @answers_errors
    async def hide_reason(self, actor: Actor, reason_id: int, hide: bool = True) -> Reply:
        await self.require(actor)
        found = await self.store.get_reason(reason_id)
        try:  # one answer for a missing id and one of another space or channel: ids tell nothing of polls
            if found is None:
                raise UserError(t("reason.gone"))
            poll = await self._poll_in_space(actor, found.poll_id)
        except UserError:
            raise UserError(t("reason.gone")) from None
        if found.hidden is None and found.reports == 0:
            # Only what members can see (or have reported) can be hidden: hiding and then opening `moderate`
            # must not become a way to read a reason that is held back.
            visible, _ = await self.visible_reasons_of(poll)
            if not any(r.id == reason_id for g in visible.groups for r in g.reasons):
                raise UserError(t("reason.gone"))
        outcome = await self.store.moderate_reason(reason_id, hide)
        if outcome.kind is ReasonKind.NOTHING:
            return _answer(outcome.kind, "moderate.already_hidden" if hide else "moderate.nothing")
        return _answer(outcome.kind, _MODERATED[outcome.kind])

    # -- where reasons join other outputs -------------------------------------------------------

    async def outcome_card(self, poll_id: int) -> Card:
        """The outcome (core.cases.base) with the most convincing reasons of each side that may show."""
        card: Card = await super().outcome_card(poll_id)
        poll = await self.store.get_poll(poll_id)
        return card if poll is None else await self._with_reasons(poll, card)

    async def _with_reasons(self, poll: Poll, card: Card) -> Card:
        visible, _ = await self.visible_reasons_of(poll)
        fields = cards.outcome_fields(await self.prompt_of(poll), self.content.axis, visible)
        if not fields:
            return card
        return replace(card, fields=card.fields + fields, buttons=(*card.buttons, cards.see_reasons_button(poll.id)))

    async def results(self, actor: Actor, poll_ref: str | None = None) -> Reply:
        reply: Reply = await super().results(actor, poll_ref)  # type: ignore[misc]
        marker = reply.card.marker if reply.card is not None else None
        if reply.card is None or not marker or not marker.startswith(OUTCOME_MARKER):
            return reply
        try:
            poll = await self.store.get_poll(int(marker[len(OUTCOME_MARKER):]))
            if poll is not None:
                return replace(reply, card=await self._with_reasons(poll, reply.card))
        except StoreError as exc:
            log.warning("reasons could not be added to results: %s", exc)
        return reply

    async def export_reasons(self, actor: Actor) -> Reply:
        data = await self.reasons_csv(actor.space_id, viewer=actor)
        return Reply(text=t("export.reasons_done"), attachment=Attachment(t("export.reasons_file"), data))

    async def reasons_csv(self, space_id: str, viewer: Actor | None = None) -> bytes:
        """Closed polls' reasons as the rule shows them: text, side, marks - never an author."""
        rows = []
        for poll, _tally in await self.store.polls_with_tallies(space_id):
            if poll.is_open(self.clock()) or poll.abandoned:
                continue
            if viewer is not None and not await self._may_see(viewer, poll):
                continue
            prompt = await self.find_prompt(poll.prompt_id)
            if prompt is not None:
                rows.append((poll, prompt, (await self.visible_reasons_of(poll))[0]))
        return reasons_csv(rows, self.content.axis)

    async def _may_see(self, actor: Actor, poll: Poll) -> bool:
        return await may_see(poll, actor.space_id, actor.channel_id, actor.can_view)

    # -- buttons --------------------------------------------------------------------------------

    async def press_reason(self, actor: Actor, action: Action) -> Reply:
        """The reasons' buttons (core.actions.REASON_KINDS). REASON_FORM reaches here only where no form can
        open (the console): adapters with modals call reason_form() and save_reason() instead."""
        poll_id, number = action.poll_id or 0, action.number or 0
        if action.kind is ActionKind.REASON_FORM:
            form = await self.reason_form(actor, poll_id)
            if isinstance(form, Reply):
                return form
            return Reply(text=t("reason.command_hint", command=self.cmd(actor, "reason", text="…")))
        if action.kind in (ActionKind.REASON_KEEP, ActionKind.REASON_DROP):
            return await self.keep_reason(actor, poll_id, action.kind is ActionKind.REASON_KEEP)
        if action.kind is ActionKind.REASON_DELETE:
            return await self.delete_reason(actor, str(poll_id))
        if action.kind is ActionKind.REASONS_PAGE:
            return await self.reasons(actor, str(poll_id), number)
        if action.kind in (ActionKind.MARK, ActionKind.UNMARK):
            return await self.mark(actor, number, on=action.kind is ActionKind.MARK)
        if action.kind is ActionKind.REPORT:
            return await self.report(actor, number)
        return await self.hide_reason(actor, number, hide=action.kind is ActionKind.HIDE)
