"""Reasons on Slack: the modal behind the receipt's "Add a reason" button, its submission, and how the answers
to reason buttons are placed.

The button press carries a trigger_id that expires 3 s after the click, so the form is looked up
(service.reason_form: one read) and opened in the acked work at once. The submission's text gets the core's
own cheap check before the ack, so an empty or mention-only reason is shown beside the field and the modal
stays open; everything else (closed poll, no vote, switched off) is answered privately after the ack.
Everything in a view_submission comes from outside: the metadata is read defensively, never guessed.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext
from slack_sdk.errors import SlackApiError

from bots.reason_text import with_followups
from bots.slack.errors import slack_error
from core.actions import ActionError, ActionKind, decode
from core.catalogue import t
from core.presenter_reasons import ReasonForm
from core.reasons import MAX_LENGTH, ReasonTextError, check_text
from core.render import Reply
from core.text import clean_typed, clip
from core.usecase import Actor

if TYPE_CHECKING:
    from bots.slack.app import SlackAdapter

log = logging.getLogger(__name__)

CALLBACK = "counterpoint-reason"
TEXT = "reason"  # block_id and action_id of the text input
METADATA_PREFIX = "cp1:reason:"
_METADATA = re.compile(r"^cp1:reason:([CGD][A-Z0-9]{2,30}):([0-9]{1,18})$")
# Answers that leave the message they were pressed on in place: a page keeps its other reasons' buttons.
_FACILITATORS = frozenset({ActionKind.HIDE, ActionKind.RESTORE})
_ANSWER_ANEW = frozenset({ActionKind.MARK, ActionKind.UNMARK, ActionKind.REPORT}) | _FACILITATORS


def _plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": clip(text, limit) or " ", "emoji": True}


def form_poll(value: str) -> int | None:
    """The poll whose reason form a button opens, or None for any other button."""
    try:
        action = decode(value)
    except ActionError:
        return None
    return action.poll_id if action.kind is ActionKind.REASON_FORM else None


def _kind(value: str) -> ActionKind | None:
    try:
        return decode(value).kind
    except ActionError:
        return None


def answers_anew(value: str) -> bool:
    """Whether the answer to this button comes as a new private message instead of replacing the one pressed."""
    return _kind(value) in _ANSWER_ANEW


def reason_modal(form: ReasonForm, channel_id: str) -> dict[str, Any]:
    """The form, pre-filled with the member's current reason; the channel and poll ride in private_metadata."""
    element: dict[str, Any] = {"type": "plain_text_input", "action_id": TEXT, "multiline": True,
                               "max_length": form.max_length}
    if form.current:
        element["initial_value"] = form.current
    return {
        "type": "modal",
        "callback_id": CALLBACK,
        "title": _plain(form.title, 24),
        "submit": _plain(t("slack.reason.submit"), 24),
        "close": _plain(t("slack.reason.close"), 24),
        "private_metadata": f"{METADATA_PREFIX}{channel_id}:{form.poll_id}",
        "blocks": [{"type": "input", "block_id": TEXT, "label": _plain(form.label, 2000),
                    "hint": _plain(form.hint, 2000), "element": element}],
    }


def submitted_to(view: dict[str, Any]) -> tuple[str, int] | None:
    """(channel, poll) the form was opened for, or None when the metadata is not one we wrote."""
    metadata = view.get("private_metadata")
    found = _METADATA.match(metadata) if isinstance(metadata, str) else None
    return (found.group(1), int(found.group(2))) if found else None


def typed_text(view: dict[str, Any]) -> str:
    state = view.get("state")
    values = state.get("values") if isinstance(state, dict) else None
    entry = values.get(TEXT) if isinstance(values, dict) else None
    answer = entry.get(TEXT) if isinstance(entry, dict) else None
    value = answer.get("value") if isinstance(answer, dict) else None
    return value if isinstance(value, str) else ""


def quick_error(text: str) -> str | None:
    """The core's own text check (no I/O), shown beside the field before the ack."""
    try:
        check_text(text)
    except ReasonTextError as exc:
        return t(str(exc), limit=MAX_LENGTH, length=len(clean_typed(text)))
    return None


class SlackReasons:
    """The reason form's two halves, on the adapter's background work and delivery."""

    def __init__(self, adapter: SlackAdapter) -> None:
        self.adapter = adapter

    async def press_actor(self, value: str, context: AsyncBoltContext, channel: str) -> Actor:
        """Who pressed: with admin rights looked up only for a facilitator's button (hide, restore)."""
        team, user = context.team_id or "", context.user_id or ""
        admin = _kind(value) in _FACILITATORS and await self.adapter.admins.is_admin(team, user)
        return self.adapter.actor(team, channel, user, is_admin=admin)

    def opens_form(self, body: dict[str, Any], action: dict[str, Any], context: AsyncBoltContext,
                   response_url: str | None) -> bool:
        """Take an "Add a reason" press (already acked): True when this press is the form's."""
        poll_id = form_poll(str(action.get("value") or ""))
        if poll_id is None:
            return False
        channel = context.channel_id or (body.get("container") or {}).get("channel_id") or ""
        actor = self.adapter.actor(context.team_id or "", channel, context.user_id or "")
        self.adapter.spawn(self._open(actor, poll_id, str(body.get("trigger_id") or ""), response_url),
                           "slack-reason-form", response_url)
        return True

    async def _open(self, actor: Actor, poll_id: int, trigger_id: str, response_url: str | None) -> None:
        form = await self.adapter.service.reason_form(actor, poll_id)
        if isinstance(form, Reply):  # closed, switched off, no vote: said privately, no form
            await self.adapter.deliver(form, actor, response_url)
            return
        try:
            await self.adapter.client.views_open(trigger_id=trigger_id, view=reason_modal(form, actor.channel_id))
        except SlackApiError as exc:  # typically expired_trigger_id: the member can type it instead
            error = slack_error(exc)
            log.warning("opening the reason form failed: %s", error)
            command = self.adapter.service.cmd(actor, "reason", text="…")
            await self.adapter.deliver(Reply(text=t("slack.reason.form_failed", error=error, command=command),
                                             error=True), actor, response_url)

    async def on_submitted(self, ack: AsyncAck, view: dict[str, Any], context: AsyncBoltContext) -> None:
        where = submitted_to(view)
        text = typed_text(view)
        error = t("slack.reason.bad_form") if where is None else quick_error(text)
        if error is not None:  # beside the field; the modal stays open with what was typed
            await ack(response_action="errors", errors={TEXT: error})
            return
        await ack()
        assert where is not None
        channel, poll_id = where
        user = context.user_id or ""
        self.adapter.spawn(self._save(context.team_id or "", channel, user, poll_id, text), "slack-reason",
                           (channel, user))

    async def _save(self, team: str, channel: str, user: str, poll_id: int, text: str) -> None:
        actor = self.adapter.actor(team, channel, user)
        reply = await self.adapter.service.save_reason(actor, poll_id, text)
        await self.adapter.deliver(with_followups(reply, poll_id), actor, None)
