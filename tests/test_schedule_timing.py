"""Tests for the daily-question scheduler's due-time maths.

Expected UTC instants are worked out by hand from the zone rules (noted next
to each case), never by calling the code under test.
"""

from __future__ import annotations

import time as perf
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import catalogue
from core.scheduler import reading, timing
from core.scheduler.timing import (
    MAX_GRACE,
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

NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")
UTC_ZONE = ZoneInfo("UTC")

PROPERTY_ZONES = [
    "America/New_York",
    "Europe/Berlin",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "Pacific/Chatham",
    "America/St_Johns",
    "Europe/London",
    "UTC",
]
WEEKDAYS = frozenset(range(5))
# Tail shared by every timezone error message; the varying part is spelled out per case.
TZ_HINT = "use an IANA name like Europe/Berlin or America/New_York"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def dst(tz: ZoneInfo, local: str, expected_utc: str, expected_wall: str, case_id: str) -> object:
    """One DST case: local "YYYY-MM-DD HH:MM" -> expected UTC instant and local wall time."""
    requested = datetime.fromisoformat(local)
    return pytest.param(
        tz,
        requested.date(),
        requested.time(),
        datetime.fromisoformat(expected_utc).replace(tzinfo=UTC),
        time.fromisoformat(expected_wall),
        id=case_id,
    )


# --------------------------------------------------------------------------
# local_occurrence: DST transitions, expected values reasoned from the rules
# --------------------------------------------------------------------------

# (zone, local date, wall time, expected UTC instant, expected local wall time)
DST_CASES = [
    # New York spring-forward 2024-03-10: 02:00 EST (-5) jumps to 03:00 EDT
    # (-4), i.e. at 07:00 UTC. Anything in [02:00, 03:00) posts at 07:00 UTC.
    dst(NEW_YORK, "2024-03-10 02:30", "2024-03-10 07:00", "03:00", "ny-gap-0230"),
    dst(NEW_YORK, "2024-03-10 02:00", "2024-03-10 07:00", "03:00", "ny-gap-start"),
    dst(NEW_YORK, "2024-03-10 01:59", "2024-03-10 06:59", "01:59", "ny-pre-gap"),
    dst(NEW_YORK, "2024-03-10 03:00", "2024-03-10 07:00", "03:00", "ny-gap-end"),
    # New York fall-back 2024-11-03: 02:00 EDT (-4) goes back to 01:00 EST
    # (-5) at 06:00 UTC. 01:xx happens twice; the first is EDT.
    dst(NEW_YORK, "2024-11-03 01:30", "2024-11-03 05:30", "01:30", "ny-fold"),
    dst(NEW_YORK, "2024-11-03 01:00", "2024-11-03 05:00", "01:00", "ny-fold-start"),
    dst(NEW_YORK, "2024-11-03 02:00", "2024-11-03 07:00", "02:00", "ny-post-fold"),
    # Berlin spring-forward 2024-03-31: 02:00 CET (+1) -> 03:00 CEST (+2) at
    # 01:00 UTC.
    dst(BERLIN, "2024-03-31 02:30", "2024-03-31 01:00", "03:00", "berlin-gap"),
    dst(BERLIN, "2024-03-31 02:00", "2024-03-31 01:00", "03:00", "berlin-gap-start"),
    dst(BERLIN, "2024-03-31 09:00", "2024-03-31 07:00", "09:00", "berlin-gap-day-9am"),
    # Berlin fall-back 2024-10-27: 03:00 CEST (+2) -> 02:00 CET (+1) at 01:00
    # UTC. 02:xx happens twice; the first is CEST.
    dst(BERLIN, "2024-10-27 02:30", "2024-10-27 00:30", "02:30", "berlin-fold"),
    dst(BERLIN, "2024-10-27 02:00", "2024-10-27 00:00", "02:00", "berlin-fold-start"),
    dst(BERLIN, "2024-10-27 03:00", "2024-10-27 02:00", "03:00", "berlin-post-fold"),
    # Lord Howe spring-forward 2024-10-06 (first Sunday in October): 02:00
    # LHST (+10:30) -> 02:30 LHDT (+11), at 2024-10-05 15:30 UTC. Only a
    # 30-minute gap.
    dst(LORD_HOWE, "2024-10-06 02:15", "2024-10-05 15:30", "02:30", "lh-gap"),
    dst(LORD_HOWE, "2024-10-06 02:00", "2024-10-05 15:30", "02:30", "lh-gap-start"),
    dst(LORD_HOWE, "2024-10-06 02:30", "2024-10-05 15:30", "02:30", "lh-gap-end"),
    dst(LORD_HOWE, "2024-10-06 01:59", "2024-10-05 15:29", "01:59", "lh-pre-gap"),
    # Lord Howe fall-back 2024-04-07 (first Sunday in April): 02:00 LHDT
    # (+11) -> 01:30 LHST (+10:30), at 2024-04-06 15:00 UTC. 01:30-01:59
    # happens twice; the first is LHDT.
    dst(LORD_HOWE, "2024-04-07 01:45", "2024-04-06 14:45", "01:45", "lh-fold"),
    dst(LORD_HOWE, "2024-04-07 01:30", "2024-04-06 14:30", "01:30", "lh-fold-start"),
    dst(LORD_HOWE, "2024-04-07 02:00", "2024-04-06 15:30", "02:00", "lh-post-fold"),
    # Lord Howe winter, plain +10:30: the local date is a day ahead of UTC.
    dst(LORD_HOWE, "2024-07-01 09:00", "2024-06-30 22:30", "09:00", "lh-winter"),
]


@pytest.mark.parametrize(("tz", "local_day", "at", "expected", "expected_wall"), DST_CASES)
def test_local_occurrence_dst_rules(
    tz: ZoneInfo, local_day: date, at: time, expected: datetime, expected_wall: time
) -> None:
    got = local_occurrence(local_day, at, tz)
    assert got == expected
    assert got.tzinfo is UTC
    local = got.astimezone(tz)
    assert local.date() == local_day
    assert local.time() == expected_wall
    # fold=0 on the way back means this is the first of any repeated wall time.
    assert local.fold == 0


@pytest.mark.parametrize(
    ("tz", "fold_day", "at", "first", "second"),
    [
        (NEW_YORK, date(2024, 11, 3), time(1, 30), utc(2024, 11, 3, 5, 30), utc(2024, 11, 3, 6, 30)),
        (BERLIN, date(2024, 10, 27), time(2, 30), utc(2024, 10, 27, 0, 30), utc(2024, 10, 27, 1, 30)),
        (LORD_HOWE, date(2024, 4, 7), time(1, 45), utc(2024, 4, 6, 14, 45), utc(2024, 4, 6, 15, 15)),
    ],
)
def test_fold_posts_once_at_first_occurrence(
    tz: ZoneInfo, fold_day: date, at: time, first: datetime, second: datetime
) -> None:
    rule = DailyRule(at=at, tz=tz, weekdays=frozenset(range(7)))
    assert next_occurrence(rule, first - timedelta(minutes=1)) == (fold_day, first)
    # Standing between the two wall-clock repeats, the next post is tomorrow.
    nxt_day, _ = next_occurrence(rule, first)
    assert nxt_day == fold_day + timedelta(days=1)
    due, skipped = due_occurrences(
        rule, first - timedelta(hours=3), second + timedelta(hours=1), timedelta(hours=6)
    )
    assert due == [(fold_day, first)]
    assert skipped == []


def test_local_occurrence_rejects_bad_inputs() -> None:
    with pytest.raises(ValueError, match="naive wall-clock"):
        local_occurrence(date(2024, 1, 1), time(9, 0, tzinfo=UTC), BERLIN)
    with pytest.raises(TypeError):
        local_occurrence(datetime(2024, 1, 1), time(9, 0), BERLIN)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        local_occurrence(date(2024, 1, 1), time(9, 0), UTC)  # type: ignore[arg-type]


# --------------------------------------------------------------------------
# Exhaustive quarter-hours on every transition day, incl. extrapolated years
# --------------------------------------------------------------------------


def _transition_days(tz: ZoneInfo, year: int) -> list[date]:
    """Days whose local-noon offset differs from the previous day's."""
    days = []
    day = date(year, 1, 1)
    prev = datetime.combine(day - timedelta(days=1), time(12), tz).utcoffset()
    while day.year == year:
        off = datetime.combine(day, time(12), tz).utcoffset()
        if off != prev:
            days.append(day)
        prev = off
        day += timedelta(days=1)
    return days


def _check_occurrence(tz: ZoneInfo, day: date, at: time) -> datetime:
    """Assert the contract of local_occurrence independently of its method."""
    got = local_occurrence(day, at, tz)
    local = got.astimezone(tz)
    requested = datetime.combine(day, at)
    wall = local.replace(tzinfo=None, fold=0)
    assert local.date() == day
    assert wall >= requested
    if wall == requested:
        assert local.fold == 0, "repeated wall time must use the first occurrence"
    else:
        # Only allowed in a gap: `got` must be a transition instant and the
        # wall clock a moment earlier must still be short of the request.
        just_before = (got - timedelta(seconds=1)).astimezone(tz)
        assert just_before.utcoffset() != local.utcoffset()
        assert just_before.replace(tzinfo=None) < requested
    return got


@pytest.mark.parametrize("zone", [z for z in PROPERTY_ZONES if z not in {"UTC", "Asia/Kolkata"}])
def test_every_quarter_hour_on_transition_days(zone: str) -> None:
    tz = ZoneInfo(zone)
    # 2040 is past the 2037 end of explicit transitions in many TZif files,
    # so it exercises zoneinfo's POSIX-rule extrapolation.
    for year in (2000, 2024, 2040):
        days = _transition_days(tz, year)
        assert len(days) == 2, (zone, year, days)
        for transition_day in days:
            for day in (transition_day - timedelta(days=1), transition_day):
                previous = None
                for quarter in range(96):
                    at = time(quarter // 4, quarter % 4 * 15)
                    got = _check_occurrence(tz, day, at)
                    # Later wall times never post earlier (gap times share an instant).
                    assert previous is None or got >= previous
                    previous = got
                assert local_occurrence(day, time(23, 59), tz) < local_occurrence(
                    day + timedelta(days=1), time(0, 0), tz
                )


# --------------------------------------------------------------------------
# Property tests
# --------------------------------------------------------------------------

zones = st.sampled_from(PROPERTY_ZONES).map(ZoneInfo)
dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 30))
times = st.builds(time, st.integers(0, 23), st.integers(0, 59))
weekday_sets = st.frozensets(st.integers(0, 6), min_size=1)
instants = st.datetimes(
    min_value=datetime(2000, 1, 2), max_value=datetime(2040, 12, 1), timezones=st.just(UTC)
)


@settings(max_examples=300, deadline=None)
@given(tz=zones, day=dates, at=times)
def test_property_occurrence_round_trips_and_increases(tz: ZoneInfo, day: date, at: time) -> None:
    got = _check_occurrence(tz, day, at)
    assert local_date_of(got, tz) == day
    assert got < local_occurrence(day + timedelta(days=1), at, tz)


@settings(max_examples=150, deadline=None)
@given(tz=zones, at=times, days=weekday_sets, after=instants)
def test_property_next_occurrence_is_first_strictly_after(
    tz: ZoneInfo, at: time, days: frozenset[int], after: datetime
) -> None:
    rule = DailyRule(at=at, tz=tz, weekdays=days)
    got_day, got = next_occurrence(rule, after)
    assert got > after
    assert got_day.weekday() in days
    assert got == local_occurrence(got_day, at, tz)
    # Nothing selected between `after` and the answer was passed over.
    day = local_date_of(after, tz) - timedelta(days=2)
    while day < got_day:
        instant = rule.occurrence(day)
        assert instant is None or instant <= after
        day += timedelta(days=1)


@settings(max_examples=100, deadline=None)
@given(
    tz=zones,
    at=times,
    days=weekday_sets,
    since=instants,
    span_minutes=st.integers(0, 20 * 24 * 60),
    grace_minutes=st.integers(0, 3 * 24 * 60),
)
def test_property_due_occurrences_partition(
    tz: ZoneInfo, at: time, days: frozenset[int], since: datetime, span_minutes: int, grace_minutes: int
) -> None:
    rule = DailyRule(at=at, tz=tz, weekdays=days)
    now = since + timedelta(minutes=span_minutes)
    grace = timedelta(minutes=grace_minutes)
    due, skipped = due_occurrences(rule, since, now, grace)

    expected = []
    cursor = since
    while True:
        day, instant = next_occurrence(rule, cursor)
        if instant > now:
            break
        expected.append((day, instant))
        cursor = instant
    assert skipped + due == expected
    assert all(now - instant <= grace for _, instant in due)
    assert all(now - instant > grace for _, instant in skipped)


@settings(max_examples=200, deadline=None)
@given(days=weekday_sets)
def test_property_format_weekdays_round_trips(days: frozenset[int]) -> None:
    assert parse_weekdays(format_weekdays(days)) == days


# --------------------------------------------------------------------------
# next_occurrence
# --------------------------------------------------------------------------


def test_next_occurrence_strictly_after_exact_boundary() -> None:
    # 2024-05-10 09:00 Berlin is CEST (+2) = 07:00 UTC.
    rule = DailyRule(at=time(9, 0), tz=BERLIN, weekdays=frozenset(range(7)))
    at_instant = utc(2024, 5, 10, 7, 0)
    assert next_occurrence(rule, at_instant - timedelta(microseconds=1)) == (date(2024, 5, 10), at_instant)
    assert next_occurrence(rule, at_instant) == (date(2024, 5, 11), utc(2024, 5, 11, 7, 0))


def test_next_occurrence_skips_weekend() -> None:
    # Friday 2024-05-10 10:00 EDT has passed 09:00; next weekday is Monday
    # 2024-05-13, 09:00 EDT (-4) = 13:00 UTC.
    rule = DailyRule(at=time(9, 0), tz=NEW_YORK, weekdays=WEEKDAYS)
    assert next_occurrence(rule, utc(2024, 5, 10, 14, 0)) == (date(2024, 5, 13), utc(2024, 5, 13, 13, 0))
    # From Saturday too.
    assert next_occurrence(rule, utc(2024, 5, 11, 12, 0)) == (date(2024, 5, 13), utc(2024, 5, 13, 13, 0))
    assert rule.occurrence(date(2024, 5, 11)) is None


def test_next_occurrence_local_date_ahead_of_utc() -> None:
    # 2024-07-01 09:00 in Lord Howe (+10:30) is 2024-06-30 22:30 UTC — a
    # Sunday in UTC but Monday locally; a Monday-only rule must still pick it.
    rule = DailyRule(at=time(9, 0), tz=LORD_HOWE, weekdays=frozenset({0}))
    assert next_occurrence(rule, utc(2024, 6, 30, 12, 0)) == (date(2024, 7, 1), utc(2024, 6, 30, 22, 30))


def test_leap_day_with_weekday_filter() -> None:
    # 2028-01-01 is a Saturday, so 2028-02-29 is a Tuesday. Berlin is CET
    # (+1) in February: 09:00 local = 08:00 UTC.
    tue_thu = DailyRule(at=time(9, 0), tz=BERLIN, weekdays=frozenset({1, 3}))
    assert next_occurrence(tue_thu, utc(2028, 2, 28, 12, 0)) == (date(2028, 2, 29), utc(2028, 2, 29, 8, 0))
    assert next_occurrence(tue_thu, utc(2028, 2, 29, 8, 0)) == (date(2028, 3, 2), utc(2028, 3, 2, 8, 0))
    mon_wed = DailyRule(at=time(9, 0), tz=BERLIN, weekdays=frozenset({0, 2}))
    assert mon_wed.occurrence(date(2028, 2, 29)) is None
    assert next_occurrence(mon_wed, utc(2028, 2, 28, 9, 0)) == (date(2028, 3, 1), utc(2028, 3, 1, 8, 0))
    daily = DailyRule(at=time(23, 30), tz=UTC_ZONE, weekdays=frozenset(range(7)))
    assert next_occurrence(daily, utc(2028, 2, 28, 23, 30)) == (date(2028, 2, 29), utc(2028, 2, 29, 23, 30))


def test_next_occurrence_rejects_naive_and_non_datetime() -> None:
    rule = DailyRule(at=time(9, 0), tz=BERLIN)
    with pytest.raises(ValueError, match="timezone-aware"):
        next_occurrence(rule, datetime(2024, 5, 10, 7, 0))
    with pytest.raises(TypeError):
        next_occurrence(rule, date(2024, 5, 10))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="timezone-aware"):
        local_date_of(datetime(2024, 5, 10), BERLIN)


def test_next_occurrence_accepts_non_utc_aware_input() -> None:
    rule = DailyRule(at=time(9, 0), tz=BERLIN)
    after = datetime(2024, 5, 10, 9, 0, tzinfo=BERLIN)  # == 07:00 UTC, the occurrence itself
    assert next_occurrence(rule, after) == (date(2024, 5, 11), utc(2024, 5, 11, 7, 0))


# --------------------------------------------------------------------------
# Zone change on an existing rule
# --------------------------------------------------------------------------


def test_zone_change_does_not_repost_a_done_local_date() -> None:
    # 09:00 Berlin (CEST, +2) posted for 2024-05-10 at 07:00 UTC. At 08:00 UTC
    # the admin moves the schedule to New York. 09:00 EDT (-4) on 2024-05-10
    # is 13:00 UTC — still ahead, but 2024-05-10 is already done.
    berlin_rule = DailyRule(at=time(9, 0), tz=BERLIN, weekdays=frozenset(range(7)))
    posted_day, posted_at = next_occurrence(berlin_rule, utc(2024, 5, 10, 6, 0))
    assert (posted_day, posted_at) == (date(2024, 5, 10), utc(2024, 5, 10, 7, 0))

    ny_rule = berlin_rule.with_timezone(NEW_YORK)
    assert (ny_rule.at, ny_rule.weekdays, ny_rule.tz) == (berlin_rule.at, berlin_rule.weekdays, NEW_YORK)
    change_time = utc(2024, 5, 10, 8, 0)
    # Without the watermark the same local date would go out twice.
    assert next_occurrence(ny_rule, change_time) == (date(2024, 5, 10), utc(2024, 5, 10, 13, 0))
    assert next_occurrence(ny_rule, change_time, done_through=posted_day) == (
        date(2024, 5, 11),
        utc(2024, 5, 11, 13, 0),
    )
    # The same watermark applies to the catch-up path.
    due, skipped = due_occurrences(
        ny_rule, change_time, utc(2024, 5, 10, 13, 30), timedelta(hours=1), done_through=posted_day
    )
    assert (due, skipped) == ([], [])


def test_zone_change_westward_to_eastward_uses_new_zone() -> None:
    # 09:00 New York (EDT, -4) posted for 2024-05-10 at 13:00 UTC. At 14:00
    # UTC the schedule moves to Berlin: 2024-05-10 09:00 CEST has passed, so
    # the next is 2024-05-11 09:00 CEST = 07:00 UTC.
    ny_rule = DailyRule(at=time(9, 0), tz=NEW_YORK)
    berlin_rule = ny_rule.with_timezone(BERLIN)
    got = next_occurrence(berlin_rule, utc(2024, 5, 10, 14, 0), done_through=date(2024, 5, 10))
    assert got == (date(2024, 5, 11), utc(2024, 5, 11, 7, 0))


def test_done_through_in_the_past_is_harmless() -> None:
    rule = DailyRule(at=time(9, 0), tz=BERLIN)
    after = utc(2024, 5, 10, 8, 0)
    assert next_occurrence(rule, after, done_through=date(2020, 1, 1)) == next_occurrence(rule, after)


# --------------------------------------------------------------------------
# due_occurrences
# --------------------------------------------------------------------------


def test_due_occurrences_splits_on_grace() -> None:
    rule = DailyRule(at=time(9, 0), tz=UTC_ZONE)
    due, skipped = due_occurrences(rule, utc(2024, 5, 1, 0, 0), utc(2024, 5, 5, 9, 30), timedelta(hours=1))
    assert due == [(date(2024, 5, 5), utc(2024, 5, 5, 9, 0))]
    assert skipped == [(date(2024, 5, d), utc(2024, 5, d, 9, 0)) for d in range(1, 5)]


def test_due_occurrences_boundaries() -> None:
    rule = DailyRule(at=time(9, 0), tz=UTC_ZONE)
    instant = utc(2024, 5, 5, 9, 0)
    grace = timedelta(minutes=30)
    # instant == now: included and due.
    assert due_occurrences(rule, instant - timedelta(hours=1), instant, grace) == (
        [(date(2024, 5, 5), instant)],
        [],
    )
    # instant == since: excluded (it was handled by the previous scan).
    assert due_occurrences(rule, instant, instant + timedelta(minutes=10), grace) == ([], [])
    # now - instant == grace: still due; one microsecond more: skipped.
    edge = instant + grace
    assert due_occurrences(rule, instant - timedelta(hours=1), edge, grace)[0] == [
        (date(2024, 5, 5), instant)
    ]
    late = edge + timedelta(microseconds=1)
    assert due_occurrences(rule, instant - timedelta(hours=1), late, grace) == (
        [],
        [(date(2024, 5, 5), instant)],
    )
    # Empty or backwards windows.
    assert due_occurrences(rule, instant, instant, grace) == ([], [])
    assert due_occurrences(rule, instant, instant - timedelta(days=1), grace) == ([], [])


def test_due_occurrences_across_spring_forward() -> None:
    # Berlin 02:30 daily. 2024-03-30 02:30 CET = 01:30 UTC; 2024-03-31 02:30
    # is in the gap -> 01:00 UTC. At 01:30 UTC on the 31st the first is 24h
    # old (skipped), the second 30 minutes old (due).
    rule = DailyRule(at=time(2, 30), tz=BERLIN)
    due, skipped = due_occurrences(rule, utc(2024, 3, 30, 0, 0), utc(2024, 3, 31, 1, 30), timedelta(hours=1))
    assert due == [(date(2024, 3, 31), utc(2024, 3, 31, 1, 0))]
    assert skipped == [(date(2024, 3, 30), utc(2024, 3, 30, 1, 30))]


def test_due_occurrences_with_weekday_filter() -> None:
    # Weekdays 09:00 UTC, offline Fri 2024-05-10 10:00 -> Tue 2024-05-14 09:10.
    rule = DailyRule(at=time(9, 0), tz=UTC_ZONE, weekdays=WEEKDAYS)
    due, skipped = due_occurrences(rule, utc(2024, 5, 10, 10, 0), utc(2024, 5, 14, 9, 10), timedelta(hours=2))
    assert due == [(date(2024, 5, 14), utc(2024, 5, 14, 9, 0))]
    assert skipped == [(date(2024, 5, 13), utc(2024, 5, 13, 9, 0))]


def test_due_occurrences_huge_range_is_capped_and_fast() -> None:
    rule = DailyRule(at=time(9, 0), tz=UTC_ZONE)
    now = utc(2024, 5, 5, 9, 30)
    started = perf.perf_counter()
    due, skipped = due_occurrences(rule, utc(1970, 1, 1), now, timedelta(hours=1))
    assert perf.perf_counter() - started < 0.5
    assert due == [(date(2024, 5, 5), utc(2024, 5, 5, 9, 0))]
    # Default lookback is 31 days past the grace window: now - 1h - 31d =
    # 2024-04-04 08:30, so 2024-04-04 .. 2024-05-04 are reported.
    assert len(skipped) == 31
    assert skipped[0] == (date(2024, 4, 4), utc(2024, 4, 4, 9, 0))
    assert skipped[-1] == (date(2024, 5, 4), utc(2024, 5, 4, 9, 0))
    _, none_reported = due_occurrences(
        rule, utc(1970, 1, 1), now, timedelta(hours=1), max_skipped_age=timedelta(0)
    )
    assert none_reported == []


def test_due_occurrences_validates_arguments() -> None:
    rule = DailyRule(at=time(9, 0), tz=UTC_ZONE)
    since, now = utc(2024, 5, 1), utc(2024, 5, 2)
    with pytest.raises(ValueError, match="timezone-aware"):
        due_occurrences(rule, datetime(2024, 5, 1), now, timedelta(hours=1))
    with pytest.raises(ValueError, match="timezone-aware"):
        due_occurrences(rule, since, datetime(2024, 5, 2), timedelta(hours=1))
    with pytest.raises(ValueError, match="grace"):
        due_occurrences(rule, since, now, timedelta(hours=-1))
    with pytest.raises(ValueError, match="grace"):
        due_occurrences(rule, since, now, MAX_GRACE + timedelta(seconds=1))
    with pytest.raises(TypeError):
        due_occurrences(rule, since, now, 3600)  # type: ignore[arg-type]


# --------------------------------------------------------------------------
# DailyRule
# --------------------------------------------------------------------------


def test_daily_rule_validation_and_normalisation() -> None:
    rule = DailyRule(at=time(9, 0), tz=BERLIN, weekdays={0, 2, 4})  # type: ignore[arg-type]
    assert rule.weekdays == frozenset({0, 2, 4})
    assert isinstance(rule.weekdays, frozenset)
    assert hash(rule) == hash(DailyRule(at=time(9, 0), tz=BERLIN, weekdays=frozenset({0, 2, 4})))
    assert rule.describe() == "09:00 Europe/Berlin, Mon, Wed, Fri"
    with pytest.raises(ValueError, match="At least one weekday"):
        DailyRule(at=time(9, 0), tz=BERLIN, weekdays=frozenset())
    with pytest.raises(ValueError, match="0 \\(Monday\\) to 6"):
        DailyRule(at=time(9, 0), tz=BERLIN, weekdays=frozenset({7}))
    with pytest.raises(ValueError, match="naive"):
        DailyRule(at=time(9, 0, tzinfo=UTC), tz=BERLIN)
    with pytest.raises(TypeError):
        DailyRule(at=time(9, 0), tz=UTC)  # type: ignore[arg-type]


# --------------------------------------------------------------------------
# Parsing: time of day
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("9:00", time(9, 0)),
        ("09:00", time(9, 0)),
        ("21:30", time(21, 30)),
        ("0:00", time(0, 0)),
        ("23:59", time(23, 59)),
        ("  07:05 ", time(7, 5)),
        ("9am", time(9, 0)),
        ("9 AM", time(9, 0)),
        ("9:15pm", time(21, 15)),
        ("9:15 p.m.", time(21, 15)),
        ("12am", time(0, 0)),
        ("12:30am", time(0, 30)),
        ("12pm", time(12, 0)),
        ("noon", time(12, 0)),
        ("Midnight", time(0, 0)),
    ],
)
def test_parse_time_of_day_accepts(text: str, expected: time) -> None:
    assert parse_time_of_day(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("25:00", "'25:00' is not a time of day: use HH:MM, 24-hour, e.g. 09:00 (9am or 9:15pm also work)"),
        ("12:60", "'12:60' is not a time of day: use HH:MM, 24-hour, e.g. 09:00 (9am or 9:15pm also work)"),
        ("abc", "'abc' is not a time of day: use HH:MM, 24-hour, e.g. 09:00 (9am or 9:15pm also work)"),
        ("", "A time of day is required: use HH:MM, 24-hour, e.g. 09:00 (9am or 9:15pm also work)"),
        ("   ", "A time of day is required: use HH:MM, 24-hour, e.g. 09:00 (9am or 9:15pm also work)"),
        ("13pm", "'13pm' is not a time of day: use HH:MM, 24-hour, e.g. 09:00 (9am or 9:15pm also work)"),
        ("0am", "'0am' is not a time of day: use HH:MM, 24-hour, e.g. 09:00 (9am or 9:15pm also work)"),
        ("9:5", "'9:5' is not a time of day: use HH:MM, 24-hour, e.g. 09:00 (9am or 9:15pm also work)"),
        ("24:00", "'24:00' is not a time of day: use HH:MM, 24-hour, e.g. 09:00 (9am or 9:15pm also work)"),
        ("٠٩:٠٠", "'٠٩:٠٠' is not a time of day: use HH:MM, 24-hour, e.g. 09:00 (9am or 9:15pm also work)"),
    ],
)
def test_parse_time_of_day_rejects_with_clear_message(text: str, message: str) -> None:
    with pytest.raises(ValueError) as excinfo:
        parse_time_of_day(text)
    assert str(excinfo.value) == message


def test_error_messages_stay_on_one_line_and_short() -> None:
    with pytest.raises(ValueError) as excinfo:
        parse_time_of_day("9:00\n@everyone " + "x" * 500)
    text = str(excinfo.value)
    assert "\n" not in text
    assert len(text) < 160
    assert text.startswith("'9:00 @everyone xxx")


# --------------------------------------------------------------------------
# Parsing: time zones
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Europe/Berlin", "Europe/Berlin"),
        ("europe/berlin", "Europe/Berlin"),
        ("  AMERICA/NEW_YORK ", "America/New_York"),
        ("UTC", "UTC"),
        ("utc", "UTC"),
        ("australia/lord_howe", "Australia/Lord_Howe"),
        ("Etc/GMT+5", "Etc/GMT+5"),
    ],
)
def test_parse_timezone_accepts(text: str, key: str) -> None:
    zone = parse_timezone(text)
    assert isinstance(zone, ZoneInfo)
    assert zone.key == key


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Mars/Base", f"Unknown timezone 'Mars/Base': {TZ_HINT}"),
        ("../etc", f"Unknown timezone '../etc': {TZ_HINT}"),
        ("/etc/passwd", f"Unknown timezone '/etc/passwd': {TZ_HINT}"),
        ("Europe/../UTC", f"Unknown timezone 'Europe/../UTC': {TZ_HINT}"),
        ("Europe\\Berlin", f"Unknown timezone 'Europe\\Berlin': {TZ_HINT}"),
        ("localtime", f"Unknown timezone 'localtime': {TZ_HINT}"),
        ("Europe/", f"Unknown timezone 'Europe/': {TZ_HINT}"),
        ("", f"A timezone is required: {TZ_HINT}"),
    ],
)
def test_parse_timezone_rejects_with_clear_message(text: str, message: str) -> None:
    with pytest.raises(ValueError) as excinfo:
        parse_timezone(text)
    assert str(excinfo.value) == message


def test_suggest_timezones() -> None:
    assert suggest_timezones("berlin") == ["Europe/Berlin"]
    assert suggest_timezones("new york") == ["America/New_York"]
    assert suggest_timezones("KOLKATA") == ["Asia/Kolkata"]
    # Whole-name prefix ranks before component prefix.
    assert suggest_timezones("utc")[:2] == ["UTC", "Etc/UTC"]
    # Component prefix (Bermuda, Berlin) ranks before plain substring (Canberra).
    ber = suggest_timezones("ber")
    assert ber.index("Atlantic/Bermuda") < ber.index("Europe/Berlin") < ber.index("Australia/Canberra")
    europe = suggest_timezones("europe/", limit=100)
    assert europe == sorted(europe)
    assert all(name.startswith("Europe/") for name in europe)
    assert len(suggest_timezones("a")) == 25
    assert len(suggest_timezones("", limit=5)) == 5
    assert suggest_timezones("america", limit=0) == []
    assert suggest_timezones("zzzz-not-a-zone") == []
    assert "localtime" not in suggest_timezones("local")
    # Every suggestion must be accepted by the parser.
    for name in suggest_timezones("au", limit=50):
        assert parse_timezone(name).key == name


# --------------------------------------------------------------------------
# Parsing: weekdays
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("daily", {0, 1, 2, 3, 4, 5, 6}),
        ("Every Day", {0, 1, 2, 3, 4, 5, 6}),
        ("all", {0, 1, 2, 3, 4, 5, 6}),
        ("weekdays", {0, 1, 2, 3, 4}),
        ("WEEKENDS", {5, 6}),
        ("mon,wed,fri", {0, 2, 4}),
        ("Mon, Wed, Fri", {0, 2, 4}),
        ("monday wednesday friday", {0, 2, 4}),
        ("mon-fri", {0, 1, 2, 3, 4}),
        ("Mon - Thu, Sat", {0, 1, 2, 3, 5}),
        ("fri-mon", {4, 5, 6, 0}),
        ("tuesday, thursday", {1, 3}),
        ("tues and thurs", {1, 3}),
        ("sundays", {6}),
        ("weekends, wed", {2, 5, 6}),
        ("sun,sun", {6}),
    ],
)
def test_parse_weekdays_accepts(text: str, expected: set[int]) -> None:
    assert parse_weekdays(text) == frozenset(expected)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "",
            "Pick at least one day: use day names like mon,wed,fri, a range like mon-fri, "
            "or daily / weekdays / weekends",
        ),
        (
            " , ,",
            "Pick at least one day: use day names like mon,wed,fri, a range like mon-fri, "
            "or daily / weekdays / weekends",
        ),
        (
            "mon,funday",
            "Unknown day 'funday' in 'mon,funday': use day names like mon,wed,fri, a range like mon-fri, "
            "or daily / weekdays / weekends",
        ),
        (
            "mon-",
            "Bad day range 'mon-': use day names like mon,wed,fri, a range like mon-fri, "
            "or daily / weekdays / weekends",
        ),
        (
            "mon-wed-fri",
            "Bad day range 'mon-wed-fri': use day names like mon,wed,fri, a range like mon-fri, "
            "or daily / weekdays / weekends",
        ),
    ],
)
def test_parse_weekdays_rejects_with_clear_message(text: str, message: str) -> None:
    with pytest.raises(ValueError) as excinfo:
        parse_weekdays(text)
    assert str(excinfo.value) == message


@pytest.mark.parametrize(
    ("days", "label"),
    [
        ({0, 1, 2, 3, 4, 5, 6}, "every day"),
        ({0, 1, 2, 3, 4}, "weekdays"),
        ({5, 6}, "weekends"),
        ({0, 2, 4}, "Mon, Wed, Fri"),
        ({1}, "Tue"),
        ({0, 1}, "Mon, Tue"),
        ({0, 1, 2, 3, 5}, "Mon-Thu, Sat"),
        ({0, 4, 5, 6}, "Mon, Fri-Sun"),
    ],
)
def test_format_weekdays(days: set[int], label: str) -> None:
    assert format_weekdays(frozenset(days)) == label


def test_format_weekdays_rejects_empty() -> None:
    with pytest.raises(ValueError):
        format_weekdays(frozenset())


# Each module may import the standard library plus only these project modules: the maths
# stays free of I/O and platforms, and reading reaches the catalogue for its wording.
ALLOWED_PROJECT_IMPORTS = {
    timing: {"core.scheduler.reading"},
    reading: {"core.catalogue"},
}


@pytest.mark.parametrize("module", [timing, reading], ids=lambda m: m.__name__)
def test_modules_import_only_stdlib_and_their_allowed_project_modules(module: object) -> None:
    import ast
    import sys
    from pathlib import Path

    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))  # type: ignore[attr-defined]
    imported = {
        node.module or "" if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    project = {name for name in imported if name.split(".")[0] not in sys.stdlib_module_names}
    assert project <= ALLOWED_PROJECT_IMPORTS[module]  # type: ignore[index]


@pytest.mark.parametrize(
    "name",
    ["format_weekdays", "parse_time_of_day", "parse_timezone", "parse_weekdays", "suggest_timezones"],
)
def test_reading_names_are_still_importable_from_timing(name: str) -> None:
    # bots/discord/tree.py, core/scheduler/commands.py and older callers import these from .timing.
    assert getattr(timing, name) is getattr(reading, name)


# --------------------------------------------------------------------------
# Wording comes from the catalogue (core/catalogue/scheduler.py)
# --------------------------------------------------------------------------


@pytest.fixture
def reworded(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Swap catalogue entries for markers, so a test sees whether the code reads them."""
    markers = {
        "schedule.time_hint": "TIME-HINT",
        "schedule.time_bad": "BAD-TIME[{text}] {hint}",
        "schedule.time_required": "NO-TIME {hint}",
        "schedule.tz_hint": "TZ-HINT",
        "schedule.tz_unknown": "BAD-TZ[{text}] {hint}",
        "schedule.tz_required": "NO-TZ {hint}",
        "schedule.days_hint": "DAYS-HINT",
        "schedule.day_unknown": "BAD-DAY[{word}|{text}] {hint}",
        "schedule.day_range_bad": "BAD-RANGE[{text}] {hint}",
        "schedule.days_required": "NO-DAYS {hint}",
        "schedule.days_every": "EVERY",
        "schedule.days_weekdays": "WORKDAYS",
        "schedule.days_weekends": "WEEKENDS",
        "schedule.day_range": "{first}..{last}",
        "schedule.day_list_separator": " + ",
        "schedule.day_short.0": "Lun",
        "schedule.day_short.3": "Jeu",
        "schedule.day_short.5": "Sam",
    }
    for key, text in markers.items():
        assert catalogue.has(key), key
        monkeypatch.setitem(catalogue._MESSAGES, key, text)
    return markers


@pytest.mark.parametrize(
    ("parse", "text", "message"),
    [
        (parse_time_of_day, "25:00", "BAD-TIME[25:00] TIME-HINT"),
        (parse_time_of_day, " ", "NO-TIME TIME-HINT"),
        (parse_timezone, "Mars/Base", "BAD-TZ[Mars/Base] TZ-HINT"),
        (parse_timezone, "", "NO-TZ TZ-HINT"),
        (parse_weekdays, "mon,funday", "BAD-DAY[funday|mon,funday] DAYS-HINT"),
        (parse_weekdays, "mon-wed-fri", "BAD-RANGE[mon-wed-fri] DAYS-HINT"),
        (parse_weekdays, ",", "NO-DAYS DAYS-HINT"),
    ],
    ids=["time", "no-time", "zone", "no-zone", "day", "range", "no-days"],
)
def test_reading_errors_are_catalogue_wording(
    reworded: dict[str, str], parse: Callable[[str], object], text: str, message: str
) -> None:
    with pytest.raises(ValueError) as excinfo:
        parse(text)
    assert str(excinfo.value) == message


def test_pasted_input_in_a_catalogue_message_is_still_one_short_line(reworded: dict[str, str]) -> None:
    with pytest.raises(ValueError) as excinfo:
        parse_timezone("Europe/\n" + "y" * 300)
    # The newline becomes a space and the text is cut to 40 characters, ellipsis included.
    assert str(excinfo.value) == "BAD-TZ[Europe/ " + "y" * 31 + "…] TZ-HINT"


@pytest.mark.parametrize(
    ("days", "label"),
    [
        ({0, 1, 2, 3, 4, 5, 6}, "EVERY"),
        ({0, 1, 2, 3, 4}, "WORKDAYS"),
        ({5, 6}, "WEEKENDS"),
        ({0, 3, 5}, "Lun + Jeu + Sam"),
        ({0, 1, 2, 3, 5}, "Lun..Jeu + Sam"),
    ],
)
def test_day_labels_shown_to_members_are_catalogue_wording(
    reworded: dict[str, str], days: set[int], label: str
) -> None:
    assert format_weekdays(frozenset(days)) == label


def test_english_day_labels_read_back_as_the_same_days_for_every_selection() -> None:
    # Exhaustive (127 sets), so the catalogue's English labels can never drift from what the parser accepts.
    for mask in range(1, 128):
        days = frozenset(d for d in range(7) if mask >> d & 1)
        assert parse_weekdays(format_weekdays(days)) == days
