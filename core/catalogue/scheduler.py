"""Wording of schedules and of what the scheduler posts (see core.catalogue)."""

from __future__ import annotations

from core.catalogue import Message

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
    "schedule.off_done": "Daily questions stopped in this channel. Open polls stay open until they close.",
}
