"""Core render models -> Slack Block Kit. Pure functions: no I/O, so every limit is unit-testable.

Slack rejects a whole message when one element is too long, so every string that reaches a block is
cut here with core.text.clip, after mrkdwn escaping (escaping lengthens text, so the cut comes last).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from core.render import Button, Card, Reply, ResultsView, Style
from core.text import bar, clip

Block = dict[str, Any]

HEADER_MAX = 150
SECTION_MAX = 3000
CONTEXT_TEXT_MAX = 3000
BUTTON_TEXT_MAX = 75
BUTTON_VALUE_MAX = 2000
ID_MAX = 255
ACTIONS_MAX_ELEMENTS = 25
MAX_BUTTON_ROWS = 3
MESSAGE_MAX_BLOCKS = 50
HOME_MAX_BLOCKS = 100
FALLBACK_MAX = 3000  # `text` beside blocks is only the notification/screen-reader fallback
POLL_EVENT_TYPE = "counterpoint_poll"
OUTCOME_EVENT_TYPE = "counterpoint_outcome"
MAX_NOTICES = 5
POLL_ACTIONS_PREFIX = "poll-actions-"
CARD_ACTIONS_PREFIX = "card-actions-"


def escape(text: str) -> str:
    """Slack mrkdwn control characters; unescaped, content could ping <!channel> or forge links."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def fit_mrkdwn(text: str, limit: int) -> str:
    """Escape, then cut so the *escaped* text fits; never cuts inside an &entity;."""
    out = escape(text)
    if len(out) <= limit:
        return out
    used = kept = 0
    for ch in text:  # the longest prefix whose escaped form leaves room for the ellipsis
        width = len(escape(ch))
        if used + width > limit - 1:
            break
        used += width
        kept += 1
    return escape(clip(text, kept + 1))


def mrkdwn(text: str, limit: int = SECTION_MAX) -> Block:
    return {"type": "mrkdwn", "text": fit_mrkdwn(text, limit) or " "}


def plain(text: str, limit: int) -> Block:
    return {"type": "plain_text", "text": clip(text, limit) or " ", "emoji": True}


def section(text: str) -> Block:
    return {"type": "section", "text": mrkdwn(text)}


def context(text: str) -> Block:
    return {"type": "context", "elements": [mrkdwn(text, CONTEXT_TEXT_MAX)]}


def field_section(name: str, value: str) -> Block:
    head = f"*{fit_mrkdwn(name, 200)}*\n"
    return {"type": "section", "text": {"type": "mrkdwn", "text": head + (fit_mrkdwn(value, SECTION_MAX - len(head))
                                                                            or " ")}}


def results_text(results: ResultsView) -> str:
    """Bars in a code span so they line up; labels stay proportional and readable."""
    if results.hidden_note:
        return fit_mrkdwn(results.hidden_note, SECTION_MAX)
    lines = []
    for b in results.bars:
        label = fit_mrkdwn(f"{b.emoji} {b.label}".strip(), 200)
        lines.append(f"`{bar(b.share)} {round(b.share * 100):>3}%` {label} ({b.count})")
    lines.extend(fit_mrkdwn(s, 600) for s in results.summary)
    text = "\n".join(lines)
    # Cutting mid-line could split a code span; drop whole lines from the end instead.
    while len(text) > SECTION_MAX and "\n" in text:
        text = text.rsplit("\n", 1)[0]
    return text[:SECTION_MAX]


def button_element(button: Button, action_id: str) -> Block:
    element: Block = {
        "type": "button",
        "action_id": action_id,
        "text": plain(f"{button.emoji} {button.label}".strip(), BUTTON_TEXT_MAX),
        "value": button.payload[:BUTTON_VALUE_MAX],
    }
    if button.style in (Style.PRIMARY, Style.DANGER):
        element["style"] = button.style.value
    return element


def action_rows(buttons: tuple[Button, ...], block_prefix: str) -> list[Block]:
    """Buttons in actions blocks; the action_id is the payload, made unique within the message."""
    seen: set[str] = set()
    elements = []
    for i, button in enumerate(buttons[: ACTIONS_MAX_ELEMENTS * MAX_BUTTON_ROWS]):
        action_id = button.payload[:ID_MAX] or f"button-{i}"
        if action_id in seen:
            action_id = f"{action_id[: ID_MAX - 8]}#{i}"
        seen.add(action_id)
        elements.append(button_element(button, action_id))
    return [
        {"type": "actions", "block_id": f"{block_prefix}{n}", "elements": elements[start:start + ACTIONS_MAX_ELEMENTS]}
        for n, start in enumerate(range(0, len(elements), ACTIONS_MAX_ELEMENTS))
    ]


def card_blocks(card: Card, *, interactive: bool = True, max_blocks: int = MESSAGE_MAX_BLOCKS) -> list[Block]:
    """One card as blocks: header, context, text, fields, results, buttons, footer; within `max_blocks`."""
    head: list[Block] = []
    if card.title:
        header: Block = {"type": "header", "text": plain(card.title, HEADER_MAX)}
        if card.marker:  # lets a poll message be recognised from its blocks as well as its metadata
            header["block_id"] = card.marker[:ID_MAX]
        head.append(header)
    if card.context:
        head.append(context(card.context))
    if card.text:
        head.append(section(card.text))
    tail: list[Block] = []
    if card.results is not None:
        tail.append(section_raw(results_text(card.results)))
    if interactive and card.buttons:
        prefix = POLL_ACTIONS_PREFIX if card.marker else CARD_ACTIONS_PREFIX
        tail.extend(action_rows(card.buttons, prefix))
    if card.footer:
        tail.append(context(card.footer))
    fields = [field_section(f.name, f.value) for f in card.fields]
    room = max_blocks - len(head) - len(tail)
    if len(fields) > room:
        hidden = len(fields) - max(room - 1, 0)
        fields = [*fields[: max(room - 1, 0)], context(f"… {hidden} more not shown")] if room > 0 else []
    return [*head, *fields, *tail][:max_blocks]


def section_raw(text: str) -> Block:
    """A section from text that is already escaped and fitted."""
    return {"type": "section", "text": {"type": "mrkdwn", "text": text or " "}}


def reply_blocks(reply: Reply, *, interactive: bool = True) -> list[Block]:
    blocks: list[Block] = []
    if reply.text:
        blocks.append(section((":warning: " if reply.error else "") + reply.text))
    if reply.card is not None:
        blocks.extend(card_blocks(reply.card, interactive=interactive, max_blocks=MESSAGE_MAX_BLOCKS - len(blocks)))
    return blocks


def card_fallback(card: Card) -> str:
    return fit_mrkdwn(" - ".join(p for p in (card.title, card.context) if p), FALLBACK_MAX)


def reply_fallback(reply: Reply) -> str:
    if reply.text:
        return fit_mrkdwn(reply.text, FALLBACK_MAX)
    return card_fallback(reply.card) if reply.card is not None else " "


def poll_metadata(poll_id: int) -> dict[str, Any]:
    """Message metadata so a poll's message can be found in channel history without the database."""
    return {"event_type": POLL_EVENT_TYPE, "event_payload": {"poll_id": poll_id}}


def outcome_metadata(poll_id: int) -> dict[str, Any]:
    """Lets the scheduler find an outcome it posted before a crash in the poll's thread."""
    return {"event_type": OUTCOME_EVENT_TYPE, "event_payload": {"poll_id": poll_id}}


def home_view(
    stance: Card | None,
    today: Card | None,
    today_channel: str | None,
    latest: Card | None,
    notices: tuple[str, ...] = (),
) -> dict[str, Any]:
    """The Home tab: read-only cards (Home presses carry no response_url, so no buttons here).

    `notices` are only ever passed for admins: what the scheduler could not do.
    """
    budget = (HOME_MAX_BLOCKS - 10 - MAX_NOTICES) // 3
    # Markers identify poll *messages*; in a view they would only collide as duplicate block ids.
    stance, today, latest = (replace(c, marker=None) if c else None for c in (stance, today, latest))
    blocks: list[Block] = [{"type": "header", "text": plain("Counterpoint", HEADER_MAX)}]
    if notices:
        blocks.append(section("*For admins*"))
        blocks.extend(context(f":warning: {n}") for n in notices[:MAX_NOTICES])
        blocks.append({"type": "divider"})
    blocks.append(section("*Today's question*"))
    if today is not None:
        blocks.extend(card_blocks(today, interactive=False, max_blocks=budget))
        if today_channel:
            blocks.append({"type": "context", "elements": [
                {"type": "mrkdwn", "text": f"Vote on the poll message in <#{fit_mrkdwn(today_channel, 80)}>."}]})
    else:
        blocks.append(context("No question is open right now. Type /debate today in a channel to start one."))
    blocks.append({"type": "divider"})
    blocks.append(section("*Latest results*"))
    if latest is not None:
        blocks.extend(card_blocks(latest, interactive=False, max_blocks=budget))
    else:
        blocks.append(context("No poll has closed yet."))
    blocks.append({"type": "divider"})
    if stance is not None:
        blocks.extend(card_blocks(stance, interactive=False, max_blocks=budget))
    return {"type": "home", "blocks": blocks[:HOME_MAX_BLOCKS]}
