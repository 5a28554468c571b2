"""Each Reply object rendered once for Discord.

The core hands the very same Reply object to every member who gets the same answer (a vote's receipt is
built once per poll and choice: core/cases/voting.py). Building its embed and buttons took about as long
as the vote itself, so the keyword arguments are kept per object and each answer gets a copy of them.
The embed and view inside are shared: discord.py reads them when it sends, and never stores a sealed
view (a followup may set its timeout, which changes nothing for a view that is never dispatched). Their
payloads are built once too (the view's: embeds.StaticView; the embed's: SentEmbed), as discord.py only
reads them. Replies that carry files (charts, exports) are rendered every time: a file is read once, and
a chart's embed is changed to show it.
"""

from __future__ import annotations

from typing import Any

import discord

from bots.discord.embeds import reply_message
from core.render import Reply

KEEP = 256


class SentEmbed(discord.Embed):
    """A kept answer's embed: never changed once kept, so its payload is built at the first send."""

    _payload: Any = None  # discord.py's EmbedData

    def to_dict(self) -> Any:
        if self._payload is None:
            self._payload = super().to_dict()
        return self._payload


def _kept(kwargs: dict[str, Any]) -> dict[str, Any]:
    embed = kwargs.get("embed")
    if isinstance(embed, discord.Embed):
        kwargs["embed"] = SentEmbed.from_dict(embed.to_dict())
    return kwargs


class RenderedReplies:
    def __init__(self, keep: int = KEEP) -> None:
        self._keep = keep
        # id() of a kept Reply; the Reply itself is kept alongside, so its id cannot be reused meanwhile.
        self._by_id: dict[int, tuple[Reply, dict[str, Any]]] = {}

    def kwargs(self, reply: Reply) -> dict[str, Any]:
        """reply_message(reply), fresh for the caller to add to."""
        if reply.attachment is not None or (reply.card is not None and reply.card.image is not None):
            return reply_message(reply)
        kept = self._by_id.get(id(reply))
        if kept is None or kept[0] is not reply:
            kept = (reply, _kept(reply_message(reply)))
            if len(self._by_id) >= self._keep:
                del self._by_id[next(iter(self._by_id))]  # the oldest
            self._by_id[id(reply)] = kept
        return dict(kept[1])
