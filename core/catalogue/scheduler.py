"""Wording of schedules and of what the scheduler posts (see core.catalogue)."""

from __future__ import annotations

from core.catalogue import Message, Plural

MESSAGES: dict[str, Message] = {
    "schedule.not_a_setting": "'{word}' is not a setting. Settings: {keys}.",
    "schedule.unknown_setting": "Unknown schedule setting '{key}'. Settings: {keys}.",
    "schedule.unknown_action": "Unknown schedule action '{action}'. Try {usage}.",
    "schedule.needs_time": "Give at least a time for a new schedule, e.g. {example}.",
    "schedule.bad_order": "order must be 'section' (the article's order) or 'shuffle' (no repeats until all used).",
    "schedule.saved": "Schedule saved.",
    "schedule.none": "No daily question is scheduled in this channel. Set one with {example}.",
    "schedule.last_problem": "Last problem: {text}",
    "schedule.last_problem_at": "Last problem ({at}): {text}",
    "schedule.daily": "Daily question at {at} {tz}, {days}.",
    "schedule.next_post": "Next post: {at} ({relative}).",
    "schedule.next_question": "Next question: “{question}” ({id}).",
    "schedule.terms": "Polls stay open {duration}; results {results}, shown from {k} votes; deck in {order} order.",
    "schedule.live": "live",
    "schedule.after_close": "after close",
    "schedule.off_none": "No daily question was scheduled in this channel. Nothing changed.",
    "scheduler.refused": Plural(
        ("The scheduled question for {day} was not posted: the channel refused it once{why}. It was skipped. "
         "Check that the bot is still in the channel and allowed to post there."),
        ("The scheduled question for {day} was not posted: the channel refused it {n} times{why}. It was skipped. "
         "Check that the bot is still in the channel and allowed to post there.")),
    "scheduler.paused": ("Daily questions in this channel are paused: the channel refused every post on the last "
                         "{days} scheduled days. Give the bot access again, then turn them back on with {resume}."),
    "scheduler.deck_wrapped": ("Today's question was the last unused one of this channel's deck; from the next "
                               "post the deck starts again from the top."),
    "schedule.off_done": "Daily questions stopped in this channel. Open polls stay open until they close.",
    # Reading what facilitators type for a schedule (core/scheduler/reading.py). {text} is already
    # flattened to one short line; the hint keys are the shared tails of the errors.
    "schedule.time_hint": "use HH:MM, 24-hour, e.g. 09:00 (9am or 9:15pm also work)",
    "schedule.time_required": "A time of day is required: {hint}",
    "schedule.time_bad": "'{text}' is not a time of day: {hint}",
    "schedule.tz_hint": "use an IANA name like Europe/Berlin or America/New_York",
    "schedule.tz_required": "A timezone is required: {hint}",
    "schedule.tz_unknown": "Unknown timezone '{text}': {hint}",
    "schedule.days_hint": "use day names like mon,wed,fri, a range like mon-fri, or daily / weekdays / weekends",
    "schedule.days_required": "Pick at least one day: {hint}",
    "schedule.day_unknown": "Unknown day '{word}' in '{text}': {hint}",
    "schedule.day_range_bad": "Bad day range '{text}': {hint}",
    # Day selections shown back to members; each label must parse back as the same days.
    "schedule.days_every": "every day",
    "schedule.days_weekdays": "weekdays",
    "schedule.days_weekends": "weekends",
    "schedule.day_range": "{first}-{last}",
    "schedule.day_list_separator": ", ",
    "schedule.day_short.0": "Mon",
    "schedule.day_short.1": "Tue",
    "schedule.day_short.2": "Wed",
    "schedule.day_short.3": "Thu",
    "schedule.day_short.4": "Fri",
    "schedule.day_short.5": "Sat",
    "schedule.day_short.6": "Sun",
}
