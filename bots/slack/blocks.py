"""Core render models -> Slack Block Kit. Pure functions: no I/O, so every limit is unit-testable.

Slack rejects a whole message when one element is too long, so every string that reaches a block is
cut here with core.text.clip, after mrkdwn escaping (escaping lengthens text, so the cut comes last).

Moments (core.moments tokens) become `<!date^...>` only in mrkdwn, where Slack shows them in the reader's
zone; they are resolved after escaping (the markup must stay unescaped), and when the result would
not fit, the text falls back to plain times before it is cut, so a cut never splits a `<!date...>`.
plain_text (headers, buttons) and the notification fallback always get plain times.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bots.reason_text import reason_parts, split_lines
from core.actions import ActionError, ActionKind, decode
from core.catalogue import t
from core.moments import plain as plain_moment
from core.moments import resolve, slack_markup, strip_tokens
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


def plain_times(text: str) -> str:
    """Moments as text in the zone their token carries; a stray bracket is dropped, never sent."""
    return strip_tokens(resolve(text, plain_moment))


def _cut_escaped(text: str, limit: int) -> str:
    """Escape `text` (no moment tokens left in it) and cut so the *escaped* text fits; never inside an &entity;."""
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


def fit_mrkdwn(text: str, limit: int) -> str:
    """Escape, turn moments into Slack date markup, then fit `limit` (plain times when the markup does not fit)."""
    rich = strip_tokens(resolve(escape(text), slack_markup))
    if len(rich) <= limit:
        return rich
    return _cut_escaped(plain_times(text), limit)


def fit_plain_mrkdwn(text: str, limit: int) -> str:
    """For mrkdwn spots where times must read the same everywhere (footers, titles): escaped, plain times."""
    return _cut_escaped(plain_times(text), limit)


def mrkdwn(text: str, limit: int = SECTION_MAX) -> Block:
    return {"type": "mrkdwn", "verbatim": True, "text": fit_mrkdwn(text, limit) or " "}


def plain(text: str, limit: int) -> Block:
    return {"type": "plain_text", "text": clip(plain_times(text), limit) or " ", "emoji": True}


def section(text: str) -> Block:
    return {"type": "section", "text": mrkdwn(text)}


def context(text: str) -> Block:
    return {"type": "context", "elements": [mrkdwn(text, CONTEXT_TEXT_MAX)]}


def _mrkdwn_text(text: str) -> Block:
    # verbatim: Slack would otherwise turn words such as "@channel" in a member's question into mentions.
    return {"type": "mrkdwn", "verbatim": True, "text": text}


def context_plain(text: str) -> Block:
    return {"type": "context", "elements": [_mrkdwn_text(fit_plain_mrkdwn(text, CONTEXT_TEXT_MAX) or " ")]}


def title_block(title: str, block_id: str | None = None) -> Block:
    """A header when the title fits one (150); else a bold section, so a long question is never cut."""
    text = plain_times(title).strip()
    block: Block
    if len(text) <= HEADER_MAX:
        block = {"type": "header", "text": plain(text, HEADER_MAX)}
    else:
        block = {"type": "section", "text": _mrkdwn_text(f"*{_cut_escaped(text, SECTION_MAX - 2)}*")}
    if block_id:  # lets a poll message be recognised from its blocks as well as its metadata
        block["block_id"] = block_id[:ID_MAX]
    return block


def field_section(name: str, value: str) -> Block:
    head = f"*{fit_plain_mrkdwn(name, 200)}*\n"
    return {"type": "section", "text": _mrkdwn_text(head + (fit_mrkdwn(value, SECTION_MAX - len(head)) or " "))}


def literal_sections(text: str) -> list[Block]:
    """Members' reasons as plain_text: Slack shows it as typed (no mrkdwn, no mention, no link markup),
    over as many sections as it takes to show it whole."""
    return [{"type": "section", "text": {"type": "plain_text", "text": clip(chunk, SECTION_MAX) or " ",
                                         "emoji": False}}
            for chunk in split_lines(plain_times(text), SECTION_MAX)]


def literal_field(name: str, value: str) -> list[Block]:
    return [section_raw(f"*{fit_plain_mrkdwn(name, 200)}*"), *literal_sections(value)]


def results_text(results: ResultsView) -> str:
    """Bars in a code span so they line up; labels stay proportional and readable (and say what each bar is)."""
    if results.hidden_note:
        return fit_mrkdwn(results.hidden_note, SECTION_MAX)
    lines = []
    for b in results.bars:
        label = fit_plain_mrkdwn(f"{b.emoji} {b.label}".strip(), 200)
        lines.append(f"`{bar(b.share)} {round(b.share * 100):>3}%` {label} ({b.count})")
    lines.extend(fit_mrkdwn(s, 600) for s in results.summary)
    text = "\n".join(lines)
    # Cutting mid-line could split a code span or a date; drop whole lines from the end instead
    # (each line is fitted to at most 600 characters above, so one line always remains and fits).
    while len(text) > SECTION_MAX and "\n" in text:
        text = text.rsplit("\n", 1)[0]
    return text


def _slack_style(button: Button, lone_primary: bool) -> str | None:
    """Danger stays. Primary only when it is the message's one primary button.

    Slack asks for at most one primary button per message: the single next step. Vote options are
    equals, so none of them is primary (highlighting one would nudge members toward it); a card whose
    only primary button is, say, "Confirm" keeps it.
    """
    if button.style is Style.DANGER:
        return Style.DANGER.value
    if button.style is Style.PRIMARY and lone_primary:
        return Style.PRIMARY.value
    return None


def button_element(button: Button, action_id: str, *, lone_primary: bool = True) -> Block:
    element: Block = {
        "type": "button",
        "action_id": action_id,
        "text": plain(f"{button.emoji} {button.label}".strip(), BUTTON_TEXT_MAX),
        "value": button.payload[:BUTTON_VALUE_MAX],
    }
    style = _slack_style(button, lone_primary)
    if style:
        element["style"] = style
    return element


def action_rows(buttons: tuple[Button, ...], block_prefix: str) -> list[Block]:
    """Buttons in actions blocks; the action_id is the payload, made unique within the message."""
    shown = buttons[: ACTIONS_MAX_ELEMENTS * MAX_BUTTON_ROWS]
    lone_primary = sum(b.style is Style.PRIMARY for b in shown) == 1
    seen: set[str] = set()
    elements = []
    for i, button in enumerate(shown):
        action_id = button.payload[:ID_MAX] or f"button-{i}"
        if action_id in seen:
            action_id = f"{action_id[: ID_MAX - 8]}#{i}"
        seen.add(action_id)
        elements.append(button_element(button, action_id, lone_primary=lone_primary))
    return [
        {"type": "actions", "block_id": f"{block_prefix}{n}", "elements": elements[start:start + ACTIONS_MAX_ELEMENTS]}
        for n, start in enumerate(range(0, len(elements), ACTIONS_MAX_ELEMENTS))
    ]


def card_blocks(card: Card, *, interactive: bool = True, max_blocks: int = MESSAGE_MAX_BLOCKS) -> list[Block]:
    """One card as blocks: title, status, context, text, fields, results, buttons, footer; within `max_blocks`."""
    head: list[Block] = []
    literal = reason_parts(card)
    if card.title:
        head.append(title_block(card.title, card.marker))
    if card.status:  # right under the question, in each reader's own time zone
        head.append(context(card.status))
    if card.context:
        head.append(context(card.context))
    if card.text:
        head.extend(literal_sections(card.text) if literal.text else [section(card.text)])
    tail: list[Block] = []
    if card.results is not None:
        tail.append(section_raw(results_text(card.results)))
    if interactive and card.buttons:
        prefix = POLL_ACTIONS_PREFIX if card.marker else CARD_ACTIONS_PREFIX
        tail.extend(action_rows(card.buttons, prefix))
    if card.footer:
        tail.append(context_plain(card.footer))
    fields = [block for i, f in enumerate(card.fields) for block in (
        literal_field(f.name, f.value) if i in literal.fields else [field_section(f.name, f.value)])]
    room = max_blocks - len(head) - len(tail)
    if len(fields) > room:
        hidden = len(fields) - max(room - 1, 0)
        more = context(t("slack.render.more_fields", n=hidden))
        fields = [*fields[: max(room - 1, 0)], more] if room > 0 else []
    return [*head, *fields, *tail][:max_blocks]


def section_raw(text: str) -> Block:
    """A section from text that is already escaped and fitted."""
    return {"type": "section", "text": {"type": "mrkdwn", "verbatim": True, "text": text or " "}}


def reply_blocks(reply: Reply, *, interactive: bool = True) -> list[Block]:
    blocks: list[Block] = []
    if reply.text:
        if reply.error:
            prefix = t("slack.render.error_prefix") + " "
            blocks.append(section_raw(prefix + fit_mrkdwn(reply.text, SECTION_MAX - len(prefix))))
        else:
            blocks.append(section(reply.text))
    if reply.card is not None:
        blocks.extend(card_blocks(reply.card, interactive=interactive, max_blocks=MESSAGE_MAX_BLOCKS - len(blocks)))
    return blocks


def _vote_labels(buttons: tuple[Button, ...]) -> list[str]:
    labels = []
    for b in buttons:
        try:
            if decode(b.payload).kind is ActionKind.VOTE:
                labels.append(b.label)
        except ActionError:
            continue
    return labels


def card_fallback(card: Card) -> str:
    """What a notification or screen reader says: the question, its options, open or closed, and results if shown.

    The most important comes first, so the 3000-character cut only ever takes the least."""
    lines = [card.title]
    results = card.results
    options = _vote_labels(card.buttons) or ([b.label for b in results.bars] if results is not None else [])
    if options:
        lines.append(t("slack.render.fallback_options", options="; ".join(options)))
    if card.status:
        lines.append(card.status)
    if results is not None and results.visible:
        if results.bars:
            shares = "; ".join(f"{b.label} {round(b.share * 100)}% ({b.count})" for b in results.bars)
            lines.append(t("slack.render.fallback_results", shares=shares))
        lines.extend(results.summary)
    if card.context:
        lines.append(card.context)
    return fit_plain_mrkdwn("\n".join(p for p in lines if p), FALLBACK_MAX) or " "


def reply_fallback(reply: Reply) -> str:
    if reply.text:
        return fit_plain_mrkdwn(reply.text, FALLBACK_MAX) or " "
    return card_fallback(reply.card) if reply.card is not None else " "


def announcement(text: str) -> dict[str, Any]:
    """chat.postMessage arguments for a public notice: the blocks show times in each reader's zone, the
    notification fallback in plain text."""
    return {"text": fit_plain_mrkdwn(text, FALLBACK_MAX) or " ", "blocks": [section(text)]}


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
    blocks: list[Block] = [{"type": "header", "text": plain(t("slack.home.title"), HEADER_MAX)}]
    if notices:
        blocks.append(section_raw(f"*{t('slack.home.admins')}*"))
        blocks.extend(context(t("slack.home.notice", notice=n)) for n in notices[:MAX_NOTICES])
        blocks.append({"type": "divider"})
    blocks.append(section_raw(f"*{t('slack.home.today')}*"))
    if today is not None:
        blocks.extend(card_blocks(today, interactive=False, max_blocks=budget))
        if today_channel:
            channel = f"<#{fit_mrkdwn(today_channel, 80)}>"
            blocks.append({"type": "context", "elements": [
                {"type": "mrkdwn", "verbatim": True, "text": t("slack.home.vote_in", channel=channel)}]})
    else:
        blocks.append(context(t("slack.home.none_open")))
    blocks.append({"type": "divider"})
    blocks.append(section_raw(f"*{t('slack.home.latest')}*"))
    if latest is not None:
        blocks.extend(card_blocks(latest, interactive=False, max_blocks=budget))
    else:
        blocks.append(context(t("slack.home.none_closed")))
    blocks.append({"type": "divider"})
    if stance is not None:
        blocks.extend(card_blocks(stance, interactive=False, max_blocks=budget))
    return {"type": "home", "blocks": blocks[:HOME_MAX_BLOCKS]}
