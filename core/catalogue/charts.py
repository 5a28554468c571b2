"""Wording of the result chart and the series trend: what the pictures say, and their alt text (see core.catalogue)."""

from __future__ import annotations

from core.catalogue import Message, Plural

MESSAGES: dict[str, Message] = {
    "noun.voter": Plural("voter", "voters"),
    "help.trend": "the channel's mean lean per scale poll over time, as a chart (facilitators may give a date range)",
    # Drawn into the pictures
    "charts.caption.poll": "Poll #{poll_id} · {voters} · {state}",
    "charts.state.final": "final",
    "charts.state.so_far": "so far",
    "charts.legend.first": "first votes",
    "charts.legend.final": "final votes",
    "charts.legend.now": "votes now",
    "charts.bar.value": "{percent}% ({count})",
    "charts.mean.marker": "mean {mean}",
    "charts.mean.first_marker": "first {mean}",
    "charts.axis.low": "← {low}",
    "charts.axis.high": "{high} →",
    "charts.axis.up": "↑ {high}",
    "charts.axis.down": "↓ {low}",
    "charts.trend.title": "Where this channel stands, poll by poll",
    "charts.trend.caption": "{polls} · {start} to {end} · mean lean from -2 ({low}) to +2 ({high})",
    "charts.trend.lean": "mean lean",
    "charts.trend.voters": "voters",
    "charts.trend.changed": "changed their mind",
    "charts.trend.changed_hidden": "–",
    "charts.date": "{day} {month}",
    "charts.months": "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec",
    # Alt text: the same as the picture, in words
    "charts.alt.result": "Bar chart of poll #{poll_id}, {state}: {question} {voters}. {bars}.",
    "charts.alt.bar": "{label}: {count} ({percent}%)",
    "charts.alt.bar_first": "{label}: {count} ({percent}%), first votes {first}",
    "charts.alt.mean": " Mean lean {mean} on a scale from -2 ({low}) to +2 ({high}).",
    "charts.alt.first_mean": " At first votes it was {mean}.",
    "charts.alt.trend": "Line chart of this channel's mean lean over {polls}, from {start} to {end}, on a scale "
                        "from -2 ({low}) to +2 ({high}): {points}.",
    "charts.alt.point": "{label} {mean} with {voters}",
    "charts.alt.point_changed": "{label} {mean} with {voters}, {percent}% changed their mind",
    "charts.alt.more": "and {n} more",
    # Answers
    "charts.results.caption": "A chart of these results is attached.",
    "charts.results.hidden": ("No chart yet: the results of poll #{poll_id} are hidden ({why}). "
                              "The chart comes with them."),
    "charts.results.hidden_votes": Plural("{n} more vote needed", "{n} more votes needed"),
    "charts.results.hidden_close": "until the poll closes",
    "charts.unavailable": "The chart could not be drawn this time; here are the results in words.",
    "charts.trend.none": ("No chart: this channel has no scale poll whose results may be shown yet. A point appears "
                          "once a poll has enough votes (and has closed, where results wait for the close)."),
    "charts.trend.none_in_range": "No chart: no scale poll of this channel with shown results falls between {start} "
                                  "and {end}.",
    "charts.trend.summary": Plural("{n} poll, from {start} to {end}.", "{n} polls, from {start} to {end}."),
    "charts.trend.capped": ("Only the latest {shown} of {n} polls are drawn; give a date range, e.g. {example}, "
                            "for older ones."),
    "charts.trend.bad_date": "'{value}' is not a date. Use YYYY-MM-DD, e.g. {example}.",
    "charts.trend.bad_range": "The range ends ({end}) before it starts ({start}).",
    "charts.slack.sent": "The chart ({filename}) is in your direct messages with the bot.",
    "charts.slack.refused": "The chart could not be sent to your direct messages: {error}",
    "charts.console.saved": "Chart saved: {path}",
    "charts.console.not_saved": "The chart could not be saved in {directory}: {error}",
    "charts.trend.range_facilitators": "Only facilitators can choose dates for the trend; without them you get the "
                                       "latest polls.",
}
