"""Reading what facilitators type for a schedule: times of day, time zones and weekdays.

Everything here is pure (no clock, no I/O). Parse errors are ``ValueError`` whose text is chat
wording from the catalogue, so callers may show ``str(error)`` to the member who typed it.
``TypeError`` means a programming mistake and stays plain English.
"""

from __future__ import annotations

import re
from datetime import time
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from core.catalogue import t

__all__ = [
    "ALL_DAYS",
    "format_weekdays",
    "parse_time_of_day",
    "parse_timezone",
    "parse_weekdays",
    "suggest_timezones",
    "validate_weekdays",
]


def _flat(text: str, limit: int = 40) -> str:
    """User input flattened for an error message that must stay on one line."""
    # User text goes back into a chat reply, so control characters and
    # newlines must not break the single-line message, and a pasted essay
    # must not blow up its length.
    flat = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    return flat


# --------------------------------------------------------------------------
# Time of day
# --------------------------------------------------------------------------

# re.ASCII: int() accepts non-ASCII digits, which would let look-alike input
# through and make error messages confusing.
_TIME_24 = re.compile(r"(?P<h>\d{1,2}):(?P<m>\d{2})", re.ASCII)
_TIME_12 = re.compile(
    r"(?P<h>\d{1,2})(?::(?P<m>\d{2}))?\s*(?P<ampm>a\.?m\.?|p\.?m\.?)",
    re.ASCII | re.IGNORECASE,
)
_NAMED_TIMES = {"noon": time(12, 0), "midday": time(12, 0), "midnight": time(0, 0)}


def parse_time_of_day(text: str) -> time:
    """Parse an admin-entered time of day into a naive ``time``.

    Accepts 24-hour ``H:MM``/``HH:MM``, 12-hour ``9am``/``9:15 pm``/``9 p.m.``,
    and the words ``noon``/``midday``/``midnight``.
    """
    if not isinstance(text, str):
        raise TypeError(f"time of day must be a string, not {type(text).__name__}")
    cleaned = text.strip()
    hint = t("schedule.time_hint")
    if not cleaned:
        raise ValueError(t("schedule.time_required", hint=hint))
    bad = ValueError(t("schedule.time_bad", text=_flat(cleaned), hint=hint))

    named = _NAMED_TIMES.get(cleaned.lower())
    if named is not None:
        return named

    if match := _TIME_24.fullmatch(cleaned):
        hour, minute = int(match["h"]), int(match["m"])
        if hour > 23 or minute > 59:
            raise bad
        return time(hour, minute)

    if match := _TIME_12.fullmatch(cleaned):
        hour = int(match["h"])
        minute = int(match["m"] or 0)
        if not 1 <= hour <= 12 or minute > 59:
            raise bad
        # 12am is midnight and 12pm is noon, hence the modulo.
        hour %= 12
        if match["ampm"].lower().startswith("p"):
            hour += 12
        return time(hour, minute)

    raise bad


# --------------------------------------------------------------------------
# Time zones
# --------------------------------------------------------------------------

# Names zoneinfo may list that are not real places: "localtime" is whatever
# the host is set to, "Factory" is tzdata's placeholder zone.
_NOT_USER_ZONES = frozenset({"localtime", "Factory", "posixrules", "posix", "right"})
_TZ_SHAPE = re.compile(r"[A-Za-z0-9_+\-]+(?:/[A-Za-z0-9_+\-]+)*", re.ASCII)


@cache
def _zone_names() -> dict[str, str]:
    """Map lower-cased zone name -> canonical IANA spelling."""
    names = {
        name
        for name in available_timezones()
        if name not in _NOT_USER_ZONES and not name.startswith(("posix/", "right/"))
    }
    return {name.lower(): name for name in sorted(names)}


@cache
def _sorted_zone_names() -> tuple[str, ...]:
    return tuple(sorted(_zone_names().values()))


def parse_timezone(name: str) -> ZoneInfo:
    """Resolve an admin-entered IANA zone name (case-insensitive)."""
    if not isinstance(name, str):
        raise TypeError(f"timezone must be a string, not {type(name).__name__}")
    cleaned = name.strip()
    hint = t("schedule.tz_hint")
    if not cleaned:
        raise ValueError(t("schedule.tz_required", hint=hint))
    unknown = ValueError(t("schedule.tz_unknown", text=_flat(cleaned), hint=hint))

    # Zone keys become file paths inside tzdata; refuse anything path-like
    # before it gets anywhere near the loader.
    if not _TZ_SHAPE.fullmatch(cleaned) or any(part in {".", ".."} for part in cleaned.split("/")):
        raise unknown

    canonical = _zone_names().get(cleaned.lower())
    if canonical is None:
        # available_timezones() can be incomplete on odd installs; fall back
        # to an exact-case lookup, which the shape check above keeps safe.
        if cleaned in _NOT_USER_ZONES:
            raise unknown
        try:
            return ZoneInfo(cleaned)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise unknown from None
    return ZoneInfo(canonical)


def suggest_timezones(prefix: str, limit: int = 25) -> list[str]:
    """Zone names for autocomplete; 25 matches Discord's choice cap.

    Ranking: whole-name prefix, then prefix of any path component (so
    "berlin" finds Europe/Berlin), then plain substring. Alphabetical within
    each rank. Spaces count as underscores ("new york").
    """
    if limit <= 0:
        return []
    query = "_".join(prefix.strip().lower().split())
    names = _sorted_zone_names()
    if not query:
        return list(names[:limit])
    ranked: tuple[list[str], list[str], list[str]] = ([], [], [])
    for name in names:
        low = name.lower()
        if low.startswith(query):
            ranked[0].append(name)
        elif any(part.startswith(query) for part in low.split("/")[1:]):
            ranked[1].append(name)
        elif query in low:
            ranked[2].append(name)
    return [*ranked[0], *ranked[1], *ranked[2]][:limit]


# --------------------------------------------------------------------------
# Weekdays
# --------------------------------------------------------------------------

ALL_DAYS = frozenset(range(7))
_WORK_DAYS = frozenset(range(5))
_WEEKEND = frozenset({5, 6})

# Input spellings stay here rather than in the catalogue: they are what the
# parser accepts, not wording the bot says.
_DAY_SPELLINGS: tuple[tuple[str, ...], ...] = (
    ("mon", "monday"),
    ("tue", "tues", "tuesday"),
    ("wed", "weds", "wednesday"),
    ("thu", "thur", "thurs", "thursday"),
    ("fri", "friday"),
    ("sat", "saturday"),
    ("sun", "sunday"),
)
# Plural full names too: "mondays" reads naturally in "post on mondays".
_DAY_WORDS: dict[str, int] = {
    word: index
    for index, spellings in enumerate(_DAY_SPELLINGS)
    for word in (*spellings, spellings[-1] + "s")
}

_GROUP_WORDS: dict[str, frozenset[int]] = {
    "daily": ALL_DAYS,
    "everyday": ALL_DAYS,
    "every day": ALL_DAYS,
    "all": ALL_DAYS,
    "all days": ALL_DAYS,
    "weekdays": _WORK_DAYS,
    "weekday": _WORK_DAYS,
    "workdays": _WORK_DAYS,
    "weekends": _WEEKEND,
    "weekend": _WEEKEND,
}

_WEEKDAY_SPLIT = re.compile(r"[,;\s]+|\band\b|&")


def _day(word: str, original: str) -> int:
    try:
        return _DAY_WORDS[word]
    except KeyError:
        message = t("schedule.day_unknown", word=_flat(word), text=_flat(original), hint=t("schedule.days_hint"))
        raise ValueError(message) from None


def parse_weekdays(text: str) -> frozenset[int]:
    """Parse an admin-entered day selection into weekday numbers (0=Monday)."""
    if not isinstance(text, str):
        raise TypeError(f"weekdays must be a string, not {type(text).__name__}")
    normal = " ".join(text.strip().lower().split())
    if normal in _GROUP_WORDS:
        return _GROUP_WORDS[normal]
    # Tolerate "mon - fri" and "mon – fri" as ranges before splitting on spaces.
    normal = re.sub(r"\s*[-–—]\s*", "-", normal)

    days: set[int] = set()
    for token in filter(None, _WEEKDAY_SPLIT.split(normal)):
        if token in _GROUP_WORDS:
            days |= _GROUP_WORDS[token]
        elif "-" in token:
            start_word, _, end_word = token.partition("-")
            if not start_word or not end_word or "-" in end_word:
                raise ValueError(t("schedule.day_range_bad", text=_flat(token), hint=t("schedule.days_hint")))
            start, end = _day(start_word, text), _day(end_word, text)
            # Wrap-around ranges ("fri-mon") are a natural way to say
            # "around the weekend", so honour them rather than reject.
            span = (end - start) % 7
            days.update((start + offset) % 7 for offset in range(span + 1))
        else:
            days.add(_day(token, text))
    if not days:
        raise ValueError(t("schedule.days_required", hint=t("schedule.days_hint")))
    return frozenset(days)


def format_weekdays(days: frozenset[int] | set[int]) -> str:
    """Human label for a weekday set; the output parses back to the same set."""
    selected = validate_weekdays(days)
    if selected == ALL_DAYS:
        return t("schedule.days_every")
    if selected == _WORK_DAYS:
        return t("schedule.days_weekdays")
    if selected == _WEEKEND:
        return t("schedule.days_weekends")
    # Runs of three or more read better as ranges ("Mon-Thu, Sat"); no
    # wrap-around so the list always reads Monday-first.
    parts: list[str] = []
    ordered = sorted(selected)
    run_start = prev = ordered[0]
    for day in [*ordered[1:], None]:
        if day is not None and day == prev + 1:
            prev = day
            continue
        if prev - run_start >= 2:
            parts.append(t("schedule.day_range", first=_day_name(run_start), last=_day_name(prev)))
        else:
            parts.extend(_day_name(d) for d in range(run_start, prev + 1))
        if day is not None:
            run_start = prev = day
    return t("schedule.day_list_separator").join(parts)


def _day_name(day: int) -> str:
    return t(f"schedule.day_short.{day}")


def validate_weekdays(days: frozenset[int] | set[int]) -> frozenset[int]:
    """The set as a frozenset, refusing an empty set or anything but 0 (Monday) to 6 (Sunday)."""
    # Programmer-facing: stored and typed selections are already checked by parse_weekdays.
    selected = frozenset(days)
    if not selected:
        raise ValueError("At least one weekday must be selected")
    if any(isinstance(d, bool) or not isinstance(d, int) or not 0 <= d <= 6 for d in selected):
        raise ValueError(f"Weekdays must be integers 0 (Monday) to 6 (Sunday); got {sorted(selected)!r}")
    return selected
