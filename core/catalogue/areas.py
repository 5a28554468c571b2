"""The catalogue's areas: each module holds one part of the bot's wording (see core.catalogue)."""

from __future__ import annotations

import importlib
from collections.abc import Iterator

from core.catalogue import Message

AREAS = ("nouns", "member", "admin", "scheduler", "content", "slack", "discord", "console", "charts", "reasons")


def all_areas() -> Iterator[tuple[str, dict[str, Message]]]:
    for name in AREAS:
        module = importlib.import_module(f"core.catalogue.{name}")
        yield name, module.MESSAGES
