"""Scheduling for the daily question.

Pure due-time maths lives in :mod:`.timing`; reading what facilitators type (times, zones, days)
in :mod:`.reading`.
"""

from core.scheduler.reading import (
    format_weekdays,
    parse_time_of_day,
    parse_timezone,
    parse_weekdays,
    suggest_timezones,
)
from core.scheduler.timing import (
    MAX_GRACE,
    MAX_SKIPPED_AGE,
    DailyRule,
    due_occurrences,
    local_date_of,
    local_occurrence,
    next_occurrence,
)

__all__ = [
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
