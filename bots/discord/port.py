"""Posting and editing poll messages on Discord: the scheduler's PlatformPort, also used by the commands.

Poll messages are found again by their vote buttons: each vote custom_id names its poll
("cp1:vote:<poll>:<option>"), so no visible marker is needed in the embed. Outcomes have no buttons:
their marker ("counterpoint-outcome:<poll>") ends the embed footer.
"""

from __future__ import annotations

import logging

import discord

from bots.discord import embeds
from bots.discord.charts import with_chart
from core.models import Poll
from core.presenter import outcome_marker, poll_marker
from core.render import Card
from core.text import clip

log = logging.getLogger(__name__)

HISTORY_SCAN = 50
THREAD_NAME_MAX = 100


def split_ref(ref: str | None) -> tuple[int, int] | None:
    """"channel:message" as stored by `service.attach_message`; None for anything else."""
    if not ref:
        return None
    channel, _, message = ref.partition(":")
    if not (channel.isdigit() and message.isdigit()):
        return None
    return int(channel), int(message)


class DiscordPort:
    """What the scheduler (and the adapter itself) needs to put polls in channels."""

    platform = "discord"

    def __init__(self, client: discord.Client) -> None:
        self.client = client

    def _channel(self, channel_id: str | int, guild_id: str | int | None = None) -> discord.PartialMessageable:
        # Partial objects need no cache: a channel the gateway has not announced still works over REST.
        gid = int(guild_id) if guild_id is not None and str(guild_id).isdigit() else None
        return self.client.get_partial_messageable(int(channel_id), guild_id=gid)

    async def send_poll(self, channel_id: str, guild_id: str | None, card: Card) -> str:
        message = await self._channel(channel_id, guild_id).send(**embeds.card_message(card))
        return f"{channel_id}:{message.id}"

    async def edit_poll(self, ref: str | None, card: Card) -> bool:
        parts = split_ref(ref)
        if parts is None:
            return False
        channel_id, message_id = parts
        await self._channel(channel_id).get_partial_message(message_id).edit(**embeds.card_message(card))
        return True

    # -- PlatformPort -----------------------------------------------------------------------------

    async def post_poll(self, poll: Poll, card: Card) -> str:
        return await self.send_poll(poll.channel_id, poll.space_id, card)

    async def find_poll_message(self, poll: Poll) -> str | None:
        me = self.client.user
        channel = self._channel(poll.channel_id, poll.space_id)
        marker = poll_marker(poll.id)
        async for message in channel.history(limit=HISTORY_SCAN):
            if me is not None and message.author.id != me.id:
                continue
            if poll.id in embeds.message_poll_ids(message.components) or embeds.has_marker(message.embeds, marker):
                return f"{poll.channel_id}:{message.id}"
        return None

    async def find_outcome_message(self, poll: Poll) -> str | None:
        """An outcome already posted for `poll`: in the thread started from its message (which has the
        message's id), else among the channel's recent messages (the reply fallback)."""
        marker = outcome_marker(poll.id)
        parts = split_ref(poll.message_ref)
        places = ([str(parts[1])] if parts is not None else []) + [poll.channel_id]
        for place in places:
            try:
                found = await self._find_marked(place, poll.space_id, marker)
            except discord.NotFound:  # no thread was made from the poll message
                continue
            if found is not None:
                return f"{place}:{found}"
        return None

    async def _find_marked(self, channel_id: str, guild_id: str, marker: str) -> int | None:
        me = self.client.user
        async for message in self._channel(channel_id, guild_id).history(limit=HISTORY_SCAN):
            if (me is None or message.author.id == me.id) and embeds.has_marker(message.embeds, marker):
                return message.id
        return None

    async def update_poll(self, poll: Poll, card: Card) -> None:
        refresher = getattr(self.client, "refresher", None)
        if refresher is not None and poll.message_ref is not None:
            # Through the refresh turns like every vote's edit: at most one edit per poll per interval
            # across all processes, and the refresh re-reads the store, so the closed state lands last.
            await refresher.settle(poll.id)
            return
        if not await self.edit_poll(poll.message_ref, card):
            log.warning("poll #%d has no Discord message to update (ref %r)", poll.id, poll.message_ref)

    async def post_outcome(self, poll: Poll, card: Card) -> None:
        """In a thread started from the poll message; a reply to it when a thread cannot be made."""
        kwargs = with_chart(embeds.card_message(card, with_marker=True), card)
        if kwargs["view"] is None:  # nothing to press unless reasons may show ("See the reasons")
            kwargs.pop("view")
        parts = split_ref(poll.message_ref)
        channel = self._channel(poll.channel_id, poll.space_id)
        if parts is None:
            await channel.send(**kwargs)
            return
        poll_message = self._channel(parts[0], poll.space_id).get_partial_message(parts[1])
        try:
            thread = await poll_message.create_thread(name=clip(card.title, THREAD_NAME_MAX) or f"Poll #{poll.id}")
        except (discord.HTTPException, ValueError) as exc:
            # No thread permission, a thread already made by an earlier attempt, a channel without threads:
            # the reply still puts the outcome next to its poll.
            log.info("outcome of poll #%d as a reply, not a thread: %s", poll.id, exc)
            await channel.send(**kwargs, reference=poll_message.to_reference(fail_if_not_exists=False),
                               mention_author=False)
            return
        await thread.send(**kwargs)
