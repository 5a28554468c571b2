"""Text shared by every renderer and use case: cut cleanly at a limit, typed text cleaned for display."""

from __future__ import annotations

import unicodedata

from core.moments import strip_tokens

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


# Controls, format marks (bidi overrides, zero-width), line and paragraph separators, private use,
# surrogates and unassigned code points: none belongs in text members typed for others to read.
INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Co", "Cs", "Cn"})


def clean_typed(text: str) -> str:
    """Typed text as it will be shown: no ⟦ tokens, no invisible characters, spaces collapsed."""
    kept = "".join(" " if unicodedata.category(c) in INVISIBLE_CATEGORIES or c == "\u180e" else c
                   for c in strip_tokens(text))
    return " ".join(kept.split())
