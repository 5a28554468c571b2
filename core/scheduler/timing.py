"""Due-time maths for the daily-question scheduler.

Everything here is pure: no clock, no I/O, no database. Instants are aware
``datetime`` objects normalised to UTC; local wall-clock time only appears at
the edges (parsing admin input, and the local date that keys a post).

The scheduler's idempotency key is ``(schedule, local_date)``: each selected
local date is posted at most once. The rules for turning a local date plus a
time of day into an instant are:

* a wall time that does not exist (spring-forward gap) posts at the moment the
  clocks jump, i.e. the first valid instant after the gap;
* a wall time that happens twice (fall-back) posts once, at the first
  occurrence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

__all__ = [
    "DEFAULT_SKIPPED_AGE",
    "MAX_GRACE",
    "MAX_SKIPPED_AGE",
    "DailyRule",
    "due_occurrences",
    "format_weekdays",
    "local_date_of",
    "local_occurrence",
    "next_occurrence",
    "parse_time_of_day",
    "parse_timezone",
    "parse_weekdays",
    "suggest_timezones",
]

# Both bounds exist so that a scheduler restarted after a long outage (or fed
# a bogus "since") does a bounded amount of work instead of walking decades
# day by day. A grace period over a week is meaningless for a *daily* post:
# several later posts would already be due.
MAX_GRACE = timedelta(days=7)
MAX_SKIPPED_AGE = timedelta(days=400)
DEFAULT_SKIPPED_AGE = timedelta(days=31)

# Long enough that any non-empty weekday set has a selected date in range,
# even after starting one day early and stepping over a fall-back.
_SEARCH_DAYS = 16

_ONE_DAY = timedelta(days=1)


# --------------------------------------------------------------------------
# Input validation helpers
# --------------------------------------------------------------------------


def _shown(text: str, limit: int = 40) -> str:
    """Quote user input for an error message that must stay on one line."""
    # User text goes back into a chat reply, so control characters and
    # newlines must not break the single-line message, and a pasted essay
    # must not blow up its length.
    flat = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    return f"'{flat}'"


def _require_aware(value: datetime, name: str) -> datetime:
    """Return ``value`` converted to UTC, refusing naive datetimes."""
    # ``date`` is not a ``datetime`` but ``datetime`` is a ``date``; check the
    # narrower type so a bare date is not silently treated as midnight.
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (UTC); got naive {value.isoformat()}")
    return value.astimezone(UTC)


def _require_date(value: date, name: str) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise TypeError(f"{name} must be a date, not {type(value).__name__}")
    return value


def _require_time(value: time, name: str) -> time:
    if not isinstance(value, time):
        raise TypeError(f"{name} must be a time, not {type(value).__name__}")
    if value.tzinfo is not None:
        # The zone lives on the rule; a zone on the time too would be two
        # sources of truth that can disagree.
        raise ValueError(f"{name} must be a naive wall-clock time; pass the timezone separately")
    return value


def _require_zone(value: tzinfo, name: str) -> ZoneInfo:
    if not isinstance(value, ZoneInfo):
        raise TypeError(f"{name} must be a zoneinfo.ZoneInfo, not {type(value).__name__}")
    return value


# --------------------------------------------------------------------------
# Time of day
# --------------------------------------------------------------------------

_TIME_HINT = "use HH:MM, 24-hour, e.g. 09:00 (9am or 9:15pm also work)"

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
    if not cleaned:
        raise ValueError(f"A time of day is required: {_TIME_HINT}")
    bad = ValueError(f"{_shown(cleaned)} is not a time of day: {_TIME_HINT}")

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

_TZ_HINT = "use an IANA name like Europe/Berlin or America/New_York"
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
    if not cleaned:
        raise ValueError(f"A timezone is required: {_TZ_HINT}")
    unknown = ValueError(f"Unknown timezone {_shown(cleaned)}: {_TZ_HINT}")

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

_WEEKDAY_HINT = "use day names like mon,wed,fri, a range like mon-fri, or daily / weekdays / weekends"
_DAY_ABBR = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_ALL_DAYS = frozenset(range(7))
_WORK_DAYS = frozenset(range(5))
_WEEKEND = frozenset({5, 6})

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
    "daily": _ALL_DAYS,
    "everyday": _ALL_DAYS,
    "every day": _ALL_DAYS,
    "all": _ALL_DAYS,
    "all days": _ALL_DAYS,
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
        raise ValueError(f"Unknown day {_shown(word)} in {_shown(original)}: {_WEEKDAY_HINT}") from None


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
                raise ValueError(f"Bad day range {_shown(token)}: {_WEEKDAY_HINT}")
            start, end = _day(start_word, text), _day(end_word, text)
            # Wrap-around ranges ("fri-mon") are a natural way to say
            # "around the weekend", so honour them rather than reject.
            span = (end - start) % 7
            days.update((start + offset) % 7 for offset in range(span + 1))
        else:
            days.add(_day(token, text))
    if not days:
        raise ValueError(f"Pick at least one day: {_WEEKDAY_HINT}")
    return frozenset(days)


def format_weekdays(days: frozenset[int] | set[int]) -> str:
    """Human label for a weekday set; the output parses back to the same set."""
    selected = _validate_weekdays(days)
    if selected == _ALL_DAYS:
        return "every day"
    if selected == _WORK_DAYS:
        return "weekdays"
    if selected == _WEEKEND:
        return "weekends"
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
            parts.append(f"{_DAY_ABBR[run_start]}-{_DAY_ABBR[prev]}")
        else:
            parts.extend(_DAY_ABBR[d] for d in range(run_start, prev + 1))
        if day is not None:
            run_start = prev = day
    return ", ".join(parts)


def _validate_weekdays(days: frozenset[int] | set[int]) -> frozenset[int]:
    selected = frozenset(days)
    if not selected:
        raise ValueError("At least one weekday must be selected")
    if any(isinstance(d, bool) or not isinstance(d, int) or not 0 <= d <= 6 for d in selected):
        raise ValueError(f"Weekdays must be integers 0 (Monday) to 6 (Sunday); got {sorted(selected)!r}")
    return selected


# --------------------------------------------------------------------------
# Instants
# --------------------------------------------------------------------------


def local_date_of(instant: datetime, tz: ZoneInfo) -> date:
    """The local calendar date in ``tz`` at an aware instant."""
    return _require_aware(instant, "instant").astimezone(_require_zone(tz, "tz")).date()


def _wall(instant_utc: datetime, tz: ZoneInfo) -> datetime:
    return instant_utc.astimezone(tz).replace(tzinfo=None, fold=0)


def local_occurrence(local_date: date, at: time, tz: ZoneInfo) -> datetime:
    """The aware UTC instant a post for ``local_date`` at wall time ``at`` is due.

    Gap (time skipped by a forward shift): the instant the clocks jump.
    Fold (time repeated by a backward shift): the first of the two instants.

    Caveat: if the gap swallows the rest of the day (e.g. Pacific/Apia
    skipping 2011-12-30 entirely) the returned instant's local date is later
    than ``local_date``. It is still the unique instant for that date key and
    still earlier than the next date's instant.
    """
    _require_date(local_date, "local_date")
    _require_time(at, "at")
    _require_zone(tz, "tz")
    naive = datetime.combine(local_date, at.replace(fold=0))

    # Try both PEP 495 readings and keep the ones that really map back to
    # this wall time; taking the minimum gives the first occurrence without
    # relying on which fold zoneinfo treats as "earlier".
    candidates = [naive.replace(tzinfo=tz, fold=fold).astimezone(UTC) for fold in (0, 1)]
    real = [c for c in candidates if _wall(c, tz) == naive]
    if real:
        return min(real)

    # In a gap the two readings straddle the transition: one lands before it
    # (wall time < requested), the other after (wall time > requested).
    # Binary-search whole seconds for the transition itself; tzdata
    # transitions are always on whole seconds.
    lo = int(min(candidates).timestamp()) - 1
    hi = int(max(candidates).timestamp()) + 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _wall(datetime.fromtimestamp(mid, UTC), tz) >= naive:
            hi = mid
        else:
            lo = mid
    return datetime.fromtimestamp(hi, UTC)


@dataclass(frozen=True)
class DailyRule:
    """A channel's posting rule: wall time ``at`` in ``tz`` on ``weekdays`` (0=Mon)."""

    at: time
    tz: ZoneInfo
    weekdays: frozenset[int] = field(default=_ALL_DAYS)

    def __post_init__(self) -> None:
        _require_time(self.at, "at")
        _require_zone(self.tz, "tz")
        # Frozen dataclass: normalise via object.__setattr__ so callers may
        # pass any iterable of ints and still get a hashable rule.
        object.__setattr__(self, "weekdays", _validate_weekdays(self.weekdays))

    def occurrence(self, local_date: date) -> datetime | None:
        """The UTC instant for ``local_date``, or None if that weekday is off."""
        if _require_date(local_date, "local_date").weekday() not in self.weekdays:
            return None
        return local_occurrence(local_date, self.at, self.tz)

    def with_timezone(self, tz: ZoneInfo) -> DailyRule:
        """Same wall time and days, different zone (admin moved the schedule).

        Pair with ``done_through=`` on :func:`next_occurrence` /
        :func:`due_occurrences` so a date already posted under the old zone
        is not posted again under the new one.
        """
        return DailyRule(at=self.at, tz=tz, weekdays=self.weekdays)

    def describe(self) -> str:
        return f"{self.at.strftime('%H:%M')} {self.tz.key}, {format_weekdays(self.weekdays)}"


def next_occurrence(
    rule: DailyRule, after: datetime, *, done_through: date | None = None
) -> tuple[date, datetime]:
    """First ``(local_date, utc_instant)`` with instant strictly after ``after``.

    ``done_through`` is the last local date already posted (the scheduler's
    watermark); dates up to and including it are never returned. After a
    timezone change it stops the new zone re-posting a date that the old
    zone already covered, e.g. Berlin 09:00 posted for 10 May, then the
    admin switches to New York: New York's 09:00 on 10 May is still in the
    future but must not post again.
    """
    after_utc = _require_aware(after, "after")
    if done_through is not None:
        _require_date(done_through, "done_through")
    # Start a day early: near midnight and across shifts, the instant for
    # local date D-1 can lie after a moment whose local date is already D.
    start = local_date_of(after_utc, rule.tz) - _ONE_DAY
    if done_through is not None and done_through >= start:
        start = done_through + _ONE_DAY
    for offset in range(_SEARCH_DAYS):
        day = start + timedelta(days=offset)
        instant = rule.occurrence(day)
        if instant is not None and instant > after_utc:
            return day, instant
    # Unreachable for a validated rule (weekdays is non-empty).
    raise RuntimeError(f"no occurrence of {rule.describe()} within {_SEARCH_DAYS} days of {after_utc}")


def due_occurrences(
    rule: DailyRule,
    since: datetime,
    now: datetime,
    grace: timedelta,
    *,
    done_through: date | None = None,
    max_skipped_age: timedelta = DEFAULT_SKIPPED_AGE,
) -> tuple[list[tuple[date, datetime]], list[tuple[date, datetime]]]:
    """Occurrences with ``since < instant <= now``, split into (due, skipped).

    *due*: ``now - instant <= grace`` — still worth posting, oldest first.
    *skipped*: older ones (missed while the bot was down), oldest first.

    To bound the work after a long outage, skipped occurrences older than
    ``grace + max_skipped_age`` are not reported at all; the caller should
    still advance its ``since`` cursor to ``now``, so they are never looked
    at again. ``grace`` is capped at :data:`MAX_GRACE` and ``max_skipped_age``
    at :data:`MAX_SKIPPED_AGE`, so one call scans at most ~410 days.
    """
    since_utc = _require_aware(since, "since")
    now_utc = _require_aware(now, "now")
    limits = ((grace, "grace", MAX_GRACE), (max_skipped_age, "max_skipped_age", MAX_SKIPPED_AGE))
    for value, name, cap in limits:
        if not isinstance(value, timedelta):
            raise TypeError(f"{name} must be a timedelta, not {type(value).__name__}")
        if not timedelta(0) <= value <= cap:
            raise ValueError(f"{name} must be between 0 and {cap}; got {value}")
    if done_through is not None:
        _require_date(done_through, "done_through")
    if now_utc <= since_utc:
        return [], []

    # Clip the lower bound so a "since" from years ago costs nothing extra.
    lower = max(since_utc, now_utc - grace - max_skipped_age)
    first_day = local_date_of(lower, rule.tz) - _ONE_DAY
    if done_through is not None and done_through >= first_day:
        first_day = done_through + _ONE_DAY
    last_day = local_date_of(now_utc, rule.tz) + _ONE_DAY

    due: list[tuple[date, datetime]] = []
    skipped: list[tuple[date, datetime]] = []
    day = first_day
    while day <= last_day:
        instant = rule.occurrence(day)
        if instant is not None and lower < instant <= now_utc:
            (due if now_utc - instant <= grace else skipped).append((day, instant))
        day += _ONE_DAY
    return due, skipped
