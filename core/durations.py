"""How long a poll stays open: read from what facilitators type, written back in words."""

from __future__ import annotations

import re
from datetime import timedelta

from core.catalogue import count, t

_DURATION = re.compile(r"^(\d{1,4})\s*(m|min|mins|minutes?|h|hours?|d|days?)?$")
MIN_DURATION = timedelta(minutes=10)
MAX_DURATION = timedelta(days=7)


def parse_duration(text: str) -> timedelta:
    """'90m', '24h', '2d' (a bare number is hours); ValueError with a message a member can act on."""
    match = _DURATION.match(text.strip().lower())
    if not match:
        raise ValueError(t("duration.bad", text=text[:20]))
    number, unit = int(match.group(1)), (match.group(2) or "h")[0]
    value = {"m": timedelta(minutes=number), "h": timedelta(hours=number), "d": timedelta(days=number)}[unit]
    if not MIN_DURATION <= value <= MAX_DURATION:
        raise ValueError(t("duration.range"))
    return value


def format_duration(value: timedelta) -> str:
    """Whole units in words: '24 hours', '90 minutes', '2 days' - never '0.166667 h'."""
    minutes = int(value.total_seconds() // 60)
    if minutes % (24 * 60) == 0:
        return count(minutes // (24 * 60), "day")
    if minutes % 60 == 0:
        return count(minutes // 60, "hour")
    return count(minutes, "minute")
