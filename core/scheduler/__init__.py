"""Scheduling for the daily question: pure due-time maths lives in :mod:`.timing`."""

from core.scheduler.timing import (
    MAX_GRACE,
    MAX_SKIPPED_AGE,
    DailyRule,
    due_occurrences,
    format_weekdays,
    local_date_of,
    local_occurrence,
    next_occurrence,
    parse_time_of_day,
    parse_timezone,
    parse_weekdays,
    suggest_timezones,
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
