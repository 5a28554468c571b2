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
    "slack.home.none_open": "No question is open right now. A facilitator or the daily schedule posts the next one.",
    "slack.home.latest": "Latest results",
    "slack.home.none_closed": "No poll has closed yet.",

    # bots/slack/app.py and bots/slack/forms.py: the adapter's own words (slackforms helper).
    "slack.failed.command": ("Something went wrong on my side, so that may not have been done. "
                             "Please try again in a moment."),
    "slack.failed.press": ("Something went wrong on my side: your vote may not have been recorded. "
                           "Please press your choice again."),
    "slack.failed.restarting": "The bot is restarting; please try again.",
    "slack.failed.form": "I could not open the form: Slack said `{error}`. Type {ask} instead.",
    "slack.post.refused": "I could not post poll #{poll_id} here: {error}",
    "slack.post.our_side": "something went wrong on my side (`{error}`). Please try again in a moment.",
    "slack.announce.refused": "I could not announce the change in the channel: {error}",
    "slack.slack_said": "Slack said `{error}`.",
    "slack.hint.not_in_channel": "Invite me first with `/invite @Counterpoint`, then try again.",
    "slack.hint.channel_not_found": "I cannot see this channel; invite me to it, or use a channel I am in.",
    "slack.hint.ratelimited": "Slack is rate-limiting me; try again in a minute.",
    "slack.hint.other": "The details are in the bot's log.",
    "slack.file.sent": "I sent you `{filename}` in a direct message. {text}",
    "slack.file.refused": "I could not send you the file privately: Slack said `{error}`.",
    "slack.ask.title": "Ask a question",
    "slack.ask.submit": "Post",
    "slack.ask.close": "Cancel",
    "slack.ask.question": "Question",
    "slack.ask.question_placeholder": "What should the channel debate?",
    "slack.ask.options": "Options",
    "slack.ask.options_hint": ("One per line, 2 to {most}, each up to {limit} characters. "
                               "Leave empty and members answer on the usual scale, {low} to {high}."),
    "slack.ask.no_question": "Type the question.",
    "slack.ask.too_many": "Give at most {most} options, one per line.",
    "slack.ask.one_option": "Give at least 2 options, or none for the scale.",
    "slack.ask.bad_form": "That form did not come from a channel I know; run the command again in the channel.",

    # bots/slack/reasons.py: the reason form (a modal; title, submit and close at most 24 characters).
    "slack.reason.submit": "Save",
    "slack.reason.close": "Cancel",
    "slack.reason.form_failed": "I could not open the reason form: Slack said `{error}`. Type {command} instead.",
    "slack.reason.bad_form": "This form is out of date. Press the button on your vote again.",
}
