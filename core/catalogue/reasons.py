"""Wording of reasons: adding one, the receipt's offer, marks, reports, moderation, pages (see core.catalogue)."""

from __future__ import annotations

from core.catalogue import Message, Plural

MESSAGES: dict[str, Message] = {
    # Typed text refused (core.reasons.check_text)
    "reason.empty": "A reason needs some words. Nothing was saved.",
    "reason.only_mention": "A reason cannot be only a mention. Say why you voted as you did. Nothing was saved.",
    "reason.too_long": "A reason can be at most {limit} characters (yours has {length}). Nothing was saved.",
    # Adding, changing, deleting
    "reason.off": "Reasons are switched off in this channel.",
    "reason.no_vote": "Vote on poll #{poll_id} first: a reason belongs to your vote. Nothing was saved.",
    "reason.closed": "Poll #{poll_id} is closed; its reasons can no longer change.",
    "reason.saved": "Your reason is saved with your vote for {label}. Only its words are shown, never who wrote it.",
    "reason.updated": "Your reason is updated. Marks on the old words were cleared.",
    "reason.deleted": "Your reason on poll #{poll_id} is deleted.",
    "reason.none": "You have no reason on poll #{poll_id}. Nothing changed.",
    "reason.kept": "Your reason now goes with your vote for {label}.",
    "reason.dropped": "Your reason is deleted. You can write a new one for your new choice.",
    "reason.already_there": "Your reason already goes with your current vote. Nothing changed.",
    # On the vote receipt
    "reason.add_button": "Add a reason",
    "reason.edit_button": "Change my reason",
    "reason.delete_button": "Delete my reason",
    "reason.keep_button": "Keep my reason",
    "reason.drop_button": "Drop it",
    "reason.ask": "Why did you choose this? Add a short reason: others see only its words, never who wrote it.",
    "reason.keep_or_drop": ("You wrote a reason for your earlier choice. Keep it with your new vote, or drop it? "
                            "Until you keep it, it is shown nowhere."),
    "reason.command_hint": "Type {command} to add or change your reason.",
    # The form (a modal on Slack and Discord)
    "reason.form_title": "Your reason",
    "reason.form_label": "Why did you vote this way?",
    "reason.form_hint": "At most {limit} characters. Anonymous: nobody, facilitators included, sees who wrote it.",
    # Marks and reports
    "reason.mark_button": "Convincing",
    "reason.unmark_button": "Withdraw mark",
    "reason.report_button": "Report",
    "reason.marked": "Marked as convincing. You can withdraw it.",
    "reason.unmarked": "Your mark is withdrawn.",
    "reason.not_marked": "You had not marked that reason. Nothing changed.",
    "reason.mark_twice": "You already marked that reason. Nothing changed.",
    "reason.own_mark": "That is your own reason: you cannot mark it.",
    "reason.own_report": "That is your own reason: change or delete it instead.",
    "reason.gone": "That reason is no longer shown. Nothing changed.",
    "reason.reported": "Thank you: the reason is reported. Enough reports hide it until a facilitator looks at it.",
    "reason.report_twice": "You already reported that reason. Nothing changed.",
    "reason.hidden_by_reports": "Thank you: the reason is reported and now hidden until a facilitator reviews it.",
    # Pages of reasons
    "reasons.title": "Reasons: {question}",
    "reasons.hidden": "Reasons show when the results do. {why}",
    "reasons.why_until_close": "Results of this poll show after it closes.",
    "reasons.why_below_k": "Results show from {k} votes.",
    "reasons.none": "No reasons yet.",
    "reasons.count_only": Plural("{n} reason (the words show from {k} reasons on this side)",
                                 "{n} reasons (the words show from {k} reasons on this side)"),
    "reasons.count": Plural("{n} reason", "{n} reasons"),
    "reasons.line": "{number}. {text} ({marks})",
    "reasons.line_new": "{number}. {text} ({marks}, new)",
    "reasons.yours": "yours",
    "reasons.page": "Page {page} of {pages}",
    "reasons.next": "Next page",
    "reasons.previous": "Previous page",
    "reasons.see": "See the reasons",
    "reasons.anonymous": "Reasons are anonymous. Mark those you find convincing; report those that break the rules.",
    "reasons.outcome_field": "Most convincing reasons",
    "reasons.outcome_line": "{side}: “{text}” ({marks})",
    "reasons.side_low": "Leaning {low}",
    "reasons.side_balanced": "Balanced",
    "reasons.side_high": "Leaning {high}",
    "noun.mark": Plural("mark", "marks"),
    # Moderation (facilitators): never who wrote a reason
    "moderate.title": "Reported and hidden reasons of poll #{poll_id}",
    "moderate.none": "No reason of poll #{poll_id} is reported or hidden.",
    "moderate.line": "{number}. {text} ({reports}, {state})",
    "moderate.state_shown": "shown",
    "moderate.state_reports": "hidden by reports",
    "moderate.state_facilitator": "hidden by a facilitator",
    "moderate.hide_button": "Hide",
    "moderate.restore_button": "Restore",
    "moderate.hidden": "The reason is hidden. Its author is not told and stays unknown.",
    "moderate.restored": "The reason is shown again; its reports so far are answered.",
    "moderate.already_hidden": "That reason is already hidden. Nothing changed.",
    "moderate.nothing": "That reason is shown and not reported. Nothing changed.",
    "moderate.held_back": ("Poll #{poll_id}'s results are not shown yet, so neither are its reasons: they can be "
                           "reviewed once the results show."),
    "moderate.anonymous": "Authors are never shown, to facilitators either.",
    "noun.report": Plural("report", "reports"),
    # Settings
    "settings.bad_reasons": "reasons must be off, optional or ask, not '{value}'.",
    "settings.reasons_line": ("Reasons: {mode}; a reason is hidden after {reports} until a facilitator "
                              "reviews it."),
    # Export
    "export.reasons_done": "Here are the reasons of closed polls: words, choice and marks only, never an author.",
    "export.reasons_file": "counterpoint-reasons.csv",
}
MESSAGES.update({
    "help.reasons": "the reasons behind a poll's votes, most convincing first (privately, a page at a time)",
    "help.reason": "add or change the reason for your vote on the open poll (anonymous, at most 280 characters)",
    "help.delete-reason": "delete your reason on the open poll, or poll N",
    "help.moderate": "reported and hidden reasons of a poll: hide or restore them (authors are never shown)",
})
MESSAGES["home.reasons_field"] = "Reasons given"
