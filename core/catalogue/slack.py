"""Wording of the slack area (see core.catalogue)."""

from __future__ import annotations

from core.catalogue import Message

MESSAGES: dict[str, Message] = {
    # bots/slack/blocks.py: the renderer's own words around the core's cards.
    "slack.render.error_prefix": ":warning: *Error:*",  # the word says it too: an emoji alone is easy to miss
    "slack.render.more_fields": "… {n} more not shown",
    "slack.render.fallback_options": "Options: {options}",
    "slack.render.fallback_results": "Results: {shares}",
    "slack.home.title": "Counterpoint",
    "slack.home.admins": "For admins",
    "slack.home.notice": ":warning: Notice: {notice}",
    "slack.home.today": "Today's question",
    "slack.home.vote_in": "Vote on the poll message in {channel}.",
    "slack.home.none_open": "No question is open right now. Type /debate today in a channel to start one.",
    "slack.home.latest": "Latest results",
    "slack.home.none_closed": "No poll has closed yet.",
}
