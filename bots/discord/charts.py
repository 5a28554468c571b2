"""Charts on Discord: the PNG goes with the message as an attachment and the embed shows it (attachment://)."""

from __future__ import annotations

import io
from typing import Any

import discord

from core.render import Card
from core.text import clip

DESCRIPTION_MAX = 1024  # an attachment's description: Discord's alt text


def with_chart(kwargs: dict[str, Any], card: Card | None) -> dict[str, Any]:
    """send()/followup keyword arguments with the card's chart attached and shown in its embed."""
    if card is None or card.image is None or "embed" not in kwargs:
        return kwargs
    image = card.image
    chart = discord.File(io.BytesIO(image.content), filename=image.filename,
                         description=clip(image.alt_text, DESCRIPTION_MAX) or None)
    kwargs["embed"].set_image(url=f"attachment://{image.filename}")
    files = [kwargs.pop("file")] if "file" in kwargs else []
    kwargs["files"] = [*files, chart]
    return kwargs
