"""Reasons on Discord: the form (a modal) behind the receipt's "Add a reason" button, and its submission.

Discord takes a modal only as the FIRST answer to an interaction: no defer may come before it. So the press
reads the member's current reason (service.reason_form: one store read, well inside the 3 s) and answers
with the modal straight away; when there is no form to open (closed, switched off, no vote) it answers with
the core's private reply instead. The submission is matched by custom_id like every button (nothing kept
in memory), so a form opened before a restart is still taken after it.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

import discord

from bots.discord.forms import _inputs
from bots.reason_text import with_followups
from core.actions import ActionError, ActionKind, decode
from core.catalogue import t
from core.presenter_reasons import ReasonForm
from core.render import Reply
from core.usecase import Actor

if TYPE_CHECKING:
    from bots.discord.client import CounterpointClient

log = logging.getLogger(__name__)

MODAL_PREFIX = "cp1:reason:"
TEXT = "reason"  # custom_id of the text input
TITLE_MAX = 45
LABEL_MAX = 45
PLACEHOLDER_MAX = 100
_MODAL_ID = re.compile(r"^cp1:reason:([0-9]{1,18})$")


def form_poll(custom_id: str) -> int | None:
    """The poll whose reason form this button opens, or None for any other button."""
    try:
        action = decode(custom_id)
    except ActionError:
        return None
    return action.poll_id if action.kind is ActionKind.REASON_FORM else None


def build_modal(form: ReasonForm) -> discord.ui.Modal:
    """The form pre-filled with the member's current reason; Discord shows the length limit as they type."""
    modal = discord.ui.Modal(title=form.title[:TITLE_MAX], custom_id=f"{MODAL_PREFIX}{form.poll_id}")
    modal.add_item(discord.ui.TextInput(
        label=form.label[:LABEL_MAX], custom_id=TEXT, style=discord.TextStyle.paragraph,
        placeholder=form.hint[:PLACEHOLDER_MAX] or None, default=form.current or None, required=True,
        max_length=form.max_length,
    ))
    modal.stop()  # answered by custom_id (submitted below): a stopped modal is not kept by discord.py
    return modal


def submitted(data: Any) -> tuple[int, str] | None:
    """(poll, typed text) from a reason form's submit data; None for any other modal."""
    found = _MODAL_ID.match(str((data or {}).get("custom_id", "")))
    if found is None:
        return None
    return int(found.group(1)), _inputs((data or {}).get("components")).get(TEXT, "")


class DiscordReasons:
    """The reason form's two halves, answered through the client's own delivery."""

    def __init__(self, client: CounterpointClient) -> None:
        self.client = client

    async def pressed(self, interaction: discord.Interaction, poll_id: int) -> None:
        """Answer an "Add a reason" press (form_poll found its poll) with the form, or why not."""
        actor = self.client.actor(interaction)
        if actor is None:
            await self.client.send_text(interaction, t("discord.outside_server"))
            return
        try:
            form = await self.client.service.reason_form(actor, poll_id)
            if isinstance(form, Reply):
                await self.client.deliver(interaction, form)
            else:
                await interaction.response.send_modal(build_modal(form))
        except Exception:
            log.exception("the reason form failed (guild %s, channel %s)", interaction.guild_id,
                          interaction.channel_id)
            await self.client.send_text(interaction, t("discord.broke"))

    async def submitted(self, interaction: discord.Interaction) -> bool:
        """Save a submitted reason form, answering privately; False for any other modal."""
        found = submitted(interaction.data)
        if found is None:
            return False
        poll_id, text = found
        service = self.client.service

        async def save(actor: Actor) -> Reply:
            return with_followups(await service.save_reason(actor, poll_id, text), poll_id)

        await self.client.answer(interaction, save, "reason form")
        return True
