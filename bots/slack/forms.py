"""Slack modals for commands that take a form: `/debate ask` typed alone opens one.

The modal is built here and read back here; what the answers mean (how many options, how long)
stays the core's to decide, except for the cheap checks Slack can show beside the field itself.
Everything in a view_submission comes from outside: private_metadata and state are read defensively
and anything unexpected is refused, never guessed.
"""

from __future__ import annotations

import re
from typing import Any

from core.cases.facilitation import MAX_OPTIONS
from core.catalogue import t
from core.commands.registry import BY_NAME
from core.content.fields import LABEL_MAX, QUESTION_MAX

ASK_CALLBACK = "counterpoint-ask"
QUESTION = "question"  # block_id and action_id of the question input
OPTIONS = "options"  # block_id and action_id of the options input
OPTIONS_MAX_CHARS = 300  # the registry's bound on `options`; Slack enforces it in the field
METADATA_PREFIX = "cp1:ask:"
# Slack conversation ids: C (public), G (private, older), D (direct message); upper-case letters and digits.
_CHANNEL = re.compile(r"^[CGD][A-Z0-9]{2,30}$")
_OPTION_SPLIT = re.compile(r"[|\n]")  # as core.cases.facilitation splits them


def form_for(text: str) -> str | None:
    """The command whose form to open, when `text` is a form command's name and nothing else."""
    words = text.split()
    if len(words) != 1:
        return None
    command = BY_NAME.get(words[0].lower())
    return command.name if command is not None and command.form and command.name in FORMS else None


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def ask_modal(channel_id: str, scale_low: str, scale_high: str) -> dict[str, Any]:
    """The modal for a facilitator's own question; the channel rides along in private_metadata."""
    return {
        "type": "modal",
        "callback_id": ASK_CALLBACK,
        "title": _plain(t("slack.ask.title")),
        "submit": _plain(t("slack.ask.submit")),
        "close": _plain(t("slack.ask.close")),
        "private_metadata": METADATA_PREFIX + channel_id,
        "blocks": [
            {
                "type": "input",
                "block_id": QUESTION,
                "label": _plain(t("slack.ask.question")),
                "element": {"type": "plain_text_input", "action_id": QUESTION, "max_length": QUESTION_MAX,
                            "placeholder": _plain(t("slack.ask.question_placeholder"))},
            },
            {
                "type": "input",
                "block_id": OPTIONS,
                "optional": True,
                "label": _plain(t("slack.ask.options")),
                "hint": _plain(t("slack.ask.options_hint", most=MAX_OPTIONS, limit=LABEL_MAX, low=scale_low,
                                 high=scale_high)),
                "element": {"type": "plain_text_input", "action_id": OPTIONS, "multiline": True,
                            "max_length": OPTIONS_MAX_CHARS},
            },
        ],
    }


FORMS = {"ask": ask_modal}


def channel_of(view: dict[str, Any]) -> str | None:
    """The channel the form was opened in, or None when the metadata is not one we wrote."""
    metadata = view.get("private_metadata")
    if not isinstance(metadata, str) or not metadata.startswith(METADATA_PREFIX):
        return None
    channel = metadata.removeprefix(METADATA_PREFIX)
    return channel if _CHANNEL.match(channel) else None


def _field(view: dict[str, Any], block: str) -> str:
    state = view.get("state")
    values = state.get("values") if isinstance(state, dict) else None
    entry = values.get(block) if isinstance(values, dict) else None
    answer = entry.get(block) if isinstance(entry, dict) else None
    value = answer.get("value") if isinstance(answer, dict) else None
    return value if isinstance(value, str) else ""  # an optional field left empty comes back as null


def ask_values(view: dict[str, Any]) -> dict[str, str]:
    """The submitted answers as the `ask` command's arguments (options only when some were given)."""
    values = {QUESTION: _field(view, QUESTION).strip()}
    options = _field(view, OPTIONS).strip()
    if options:
        values[OPTIONS] = options
    return values


def quick_errors(values: dict[str, str]) -> dict[str, str]:
    """Problems Slack can show beside the field (response_action: errors); the core checks the rest."""
    errors: dict[str, str] = {}
    if not values.get(QUESTION):
        errors[QUESTION] = t("slack.ask.no_question")
    labels = [o for o in (s.strip() for s in _OPTION_SPLIT.split(values.get(OPTIONS, ""))) if o]
    if len(labels) > MAX_OPTIONS:
        errors[OPTIONS] = t("slack.ask.too_many", most=MAX_OPTIONS)
    elif len(labels) == 1:
        errors[OPTIONS] = t("slack.ask.one_option")
    return errors
