"""Reasons without the store: checking typed text, grouping by side, ranking by the room, paging.

Pure functions of values, so the rules can be read and tested on their own. Visibility (what may be
shown at all) is core.visibility.visible_reasons; wording is core.catalogue.reasons.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from core.models import Option, Prompt, Reason
from core.text import clean_typed

MAX_LENGTH = 280
PAGE_SIZE = 6
TOP_PER_SIDE = 2  # on the outcome post
FRESH_VIEWS = 10  # a reason seen on fewer pages than this is still new
FRESH_EVERY = 3  # one place in every three goes to a new reason, so new ones get seen at all
LOW, BALANCED, HIGH = "low", "balanced", "high"

# Mentions of every platform: Slack <@U1>, <!channel>, <#C1|x>, <!subteam^S1>; Discord <@1>, <@!1>,
# <@&1>, <#1>; and the bare @everyone / @here / @channel both understand.
_MENTIONS = re.compile(r"<[@#!][^<>\s]{0,80}>|@(?:everyone|here|channel)\b", re.IGNORECASE)


class ReasonTextError(ValueError):
    """Typed text that cannot be a reason; the message is a catalogue key."""


def check_text(typed: str) -> str:
    """The reason as it will be stored: cleaned (core.text.clean_typed), at most MAX_LENGTH characters.

    Refused (ReasonTextError with a catalogue key): nothing left, only mentions, or too long. Too long is
    refused rather than cut: a reason cut short may say the opposite of what its author meant."""
    text = clean_typed(typed or "")
    if not text:
        raise ReasonTextError("reason.empty")
    if not any(c.isalnum() for c in _MENTIONS.sub(" ", text)):
        raise ReasonTextError("reason.only_mention")
    if len(text) > MAX_LENGTH:
        raise ReasonTextError("reason.too_long")
    return text


def side_of(option: Option | None, prompt: Prompt) -> str:
    """The group a reason belongs to: on the scale its side (low / balanced / high), else its option."""
    if option is None:
        return ""
    if prompt.uses_scale and option.lean is not None:
        return LOW if option.lean < 0 else HIGH if option.lean > 0 else BALANCED
    return option.id


def group_keys(prompt: Prompt) -> list[str]:
    """The groups of a prompt in display order: low, balanced, high on the scale; the options otherwise."""
    if prompt.uses_scale and all(o.lean is not None for o in prompt.options):
        present = {side_of(o, prompt) for o in prompt.options}
        return [k for k in (LOW, BALANCED, HIGH) if k in present]
    return [o.id for o in prompt.options]


def rank(reasons: Sequence[Reason]) -> list[Reason]:
    """Most convincing first: marks, then the older (it had the longer chance), then the lower id.

    Views take no part in the rank: each page shown counts views, and the next page must follow the
    same order, or a member paging through would see some reasons twice and others never."""
    return sorted(reasons, key=lambda r: (-r.marks, r.created_at, r.id))


def with_exposure(ranked: Sequence[Reason]) -> list[Reason]:
    """The ranked list with one place in every FRESH_EVERY given to a new reason (seen fewer than
    FRESH_VIEWS times), newest first: a new reason is not buried under older ones that had time to gather
    marks. Only a reason crossing FRESH_VIEWS between two pages moves."""
    fresh = sorted((r for r in ranked if r.views < FRESH_VIEWS), key=lambda r: (-r.created_at.timestamp(), r.id))
    placed: set[int] = set()
    order: list[Reason] = []
    rest = list(ranked)
    while len(order) < len(ranked):
        pick = None
        if len(order) % FRESH_EVERY == FRESH_EVERY - 1:
            pick = next((r for r in fresh if r.id not in placed), None)
        if pick is None:
            pick = next(r for r in rest if r.id not in placed)
        placed.add(pick.id)
        order.append(pick)
    return order


def interleave(groups: Sequence[Sequence[Reason]]) -> list[Reason]:
    """One from each group in turn, so every side is on the first page."""
    out: list[Reason] = []
    for i in range(max((len(g) for g in groups), default=0)):
        out.extend(g[i] for g in groups if i < len(g))
    return out


def page_of(ordered: Sequence[Reason], page: int, size: int = PAGE_SIZE) -> tuple[list[Reason], int]:
    """Page `page` (from 1, clamped) of the ordering, and how many pages there are."""
    pages = max(1, math.ceil(len(ordered) / size))
    page = min(max(page, 1), pages)
    return list(ordered[(page - 1) * size: page * size]), pages
