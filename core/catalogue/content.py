"""Wording of the content area (see core.catalogue)."""

from __future__ import annotations

from core.catalogue import Message

MESSAGES: dict[str, Message] = {
    # Under a scale question whose pack says what its two ends mean (Prompt.low_means / high_means), so a
    # member knows which way "Security first" points for this particular question.
    "content.poles": "For this question, {low_label} means {low_means}; {high_label} means {high_means}.",
}
