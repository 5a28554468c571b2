"""Wording of the discord area (see core.catalogue)."""

from __future__ import annotations

from core.catalogue import Message

MESSAGES: dict[str, Message] = {
    # bots/discord/embeds.py: the renderer's own words around the core's cards.
    "discord.render.results": "Results",
    "discord.render.summary": "Summary",
    "discord.render.done": "Done.",
}
