"""Wording of the discord area (see core.catalogue)."""

from __future__ import annotations

from core.catalogue import Message

MESSAGES: dict[str, Message] = {}
