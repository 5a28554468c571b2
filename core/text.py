"""Text fitting shared by every renderer: cut cleanly at a limit, never mid-character."""

from __future__ import annotations

ELLIPSIS = "…"


def clip(text: str, limit: int) -> str:
    """Shorten `text` to at most `limit` characters, ending with an ellipsis when it was cut.

    Prefers a word boundary in the last fifth so a cut reads as intended, not as a glitch.
    """
    if limit <= 0:
        return ""
    if len(text) <= limit:
        return text
    if limit == 1:
        return ELLIPSIS
    head = text[: limit - 1]
    space = head.rfind(" ")
    if space >= int(limit * 0.8):
        head = head[:space]
    return head.rstrip(" ,;:.-") + ELLIPSIS


def bar(share: float, width: int = 10) -> str:
    """A bar of `width` cells for a share between 0 and 1, using block characters."""
    share = min(1.0, max(0.0, share))
    full = round(share * width)
    return "█" * full + "░" * (width - full)
