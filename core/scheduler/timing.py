"""Due-time maths for the daily-question scheduler.

Everything here is pure: no clock, no I/O, no database. Instants are aware
``datetime`` objects normalised to UTC; local wall-clock time only appears at
the edges (admin input, parsed in :mod:`.reading`, and the local date that keys a post).

The scheduler's idempotency key is ``(schedule, local_date)``: each selected
local date is posted at most once. The rules for turning a local date plus a
time of day into an instant are:

* a wall time that does not exist (spring-forward gap) posts at the moment the
  clocks jump, i.e. the first valid instant after the gap;
* a wall time that happens twice (fall-back) posts once, at the first
  occurrence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

# The reading side (what facilitators type) lives in .reading; its names are
# re-exported so `from core.scheduler.timing import parse_timezone` keeps working.
from core.scheduler.reading import (
    ALL_DAYS,
    format_weekdays,
    parse_time_of_day,
    parse_timezone,
    parse_weekdays,
    suggest_timezones,
    validate_weekdays,
)

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
# Argument checks (programmer errors, so plain English rather than catalogue)
# --------------------------------------------------------------------------


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
    weekdays: frozenset[int] = field(default=ALL_DAYS)

    def __post_init__(self) -> None:
        _require_time(self.at, "at")
        _require_zone(self.tz, "tz")
        # Frozen dataclass: normalise via object.__setattr__ so callers may
        # pass any iterable of ints and still get a hashable rule.
        object.__setattr__(self, "weekdays", validate_weekdays(self.weekdays))

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
