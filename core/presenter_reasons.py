"""Cards and buttons of reasons: the receipt's offer, the form, pages, the outcome's section, moderation.

Reason text reaches these cards cleaned by core.reasons.check_text; each adapter still neutralises it for
its platform (mentions, markdown, links) - the core cannot know every platform's syntax.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from core.actions import Action, ActionKind
from core.catalogue import count, t
from core.models import Axis, Prompt, Reason
from core.moments import strip_tokens
from core.reasons import BALANCED, FRESH_VIEWS, HIGH, LOW, MAX_LENGTH, TOP_PER_SIDE, rank
from core.render import Button, Card, Field, Style
from core.visibility import VisibleReasons


@dataclass(frozen=True)
class ReasonForm:
    """What an adapter needs to open the reason form (a modal) for a poll: shown pre-filled with the
    member's current reason. Submitted text goes to DebateService.save_reason(actor, poll_id, text)."""

    poll_id: int
    title: str
    label: str
    hint: str
    current: str = ""
    max_length: int = MAX_LENGTH


def reason_form(poll_id: int, current: str) -> ReasonForm:
    return ReasonForm(poll_id, t("reason.form_title"), t("reason.form_label"), t("reason.form_hint", limit=MAX_LENGTH),
                      current)


def group_title(key: str, prompt: Prompt, axis: Axis) -> str:
    if key == LOW:
        return t("reasons.side_low", low=axis.low)
    if key == HIGH:
        return t("reasons.side_high", high=axis.high)
    if key == BALANCED:
        return t("reasons.side_balanced")
    option = prompt.option(key)
    return f"{option.emoji} {option.label}".strip() if option else key


def add_button(poll_id: int, has_reason: bool) -> Button:
    key = "reason.edit_button" if has_reason else "reason.add_button"
    return Button(t(key), Action(ActionKind.REASON_FORM, poll_id=poll_id).encode(), "💬", Style.PRIMARY)


def keep_buttons(poll_id: int) -> tuple[Button, ...]:
    return (Button(t("reason.keep_button"), Action(ActionKind.REASON_KEEP, poll_id=poll_id).encode(), "📌",
                   Style.PRIMARY),
            Button(t("reason.drop_button"), Action(ActionKind.REASON_DROP, poll_id=poll_id).encode(), "🗑️"))


def delete_button(poll_id: int) -> Button:
    return Button(t("reason.delete_button"), Action(ActionKind.REASON_DELETE, poll_id=poll_id).encode(), "🗑️",
                  Style.DANGER)


def _hidden_note(visible: VisibleReasons, until_close: bool) -> str:
    why = t("reasons.why_until_close") if until_close else t("reasons.why_below_k", k=visible.min_votes)
    return t("reasons.hidden", why=why)


def reasons_card(prompt: Prompt, axis: Axis, poll_id: int, visible: VisibleReasons, page_items: Sequence[Reason],
                 page: int, pages: int, until_close: bool) -> Card:
    """One page of a poll's reasons for one member: grouped by side, numbered, with their buttons."""
    title = t("reasons.title", question=strip_tokens(prompt.question))
    if not visible.shown:
        return Card(title=title, text=_hidden_note(visible, until_close))
    numbers = {r.id: i for i, r in enumerate(page_items, start=1)}
    fields = []
    for group in visible.groups:
        name = f"{group_title(group.key, prompt, axis)} · {t('reasons.count', n=group.count)}"
        if group.count_only:
            value = t("reasons.count_only", n=group.count, k=visible.min_votes) if group.count else t("reasons.none")
        else:
            lines = [_line(r, numbers[r.id]) for r in page_items if r in group.reasons]
            if not lines:
                continue
            value = "\n".join(lines)
        fields.append(Field(name, value))
    buttons: list[Button] = []
    for r in page_items:
        if r.mine:
            continue
        kind, label = ((ActionKind.UNMARK, "reason.unmark_button") if r.marked
                       else (ActionKind.MARK, "reason.mark_button"))
        n = numbers[r.id]
        buttons.append(Button(f"{t(label)} {n}", Action(kind, number=r.id).encode(), "👍"))
        buttons.append(Button(f"{t('reason.report_button')} {n}", Action(ActionKind.REPORT, number=r.id).encode(),
                              "⚑"))
    if page > 1:
        buttons.append(Button(t("reasons.previous"), Action(ActionKind.REASONS_PAGE, poll_id=poll_id,
                                                            number=page - 1).encode(), "◀️"))
    if page < pages:
        buttons.append(Button(t("reasons.next"), Action(ActionKind.REASONS_PAGE, poll_id=poll_id,
                                                        number=page + 1).encode(), "▶️"))
    return Card(title=title, text=t("reasons.anonymous") if fields else t("reasons.none"), fields=tuple(fields),
                buttons=tuple(buttons), footer=" · ".join((t("card.poll_number", poll_id=poll_id),
                                                            t("reasons.page", page=page, pages=pages))))


def _line(r: Reason, number: int) -> str:
    marks = count(r.marks, "mark") + (f", {t('reasons.yours')}" if r.mine else "")
    key = "reasons.line_new" if r.views < FRESH_VIEWS and not r.marks else "reasons.line"
    return t(key, number=number, text=r.text, marks=marks)


def outcome_fields(prompt: Prompt, axis: Axis, visible: VisibleReasons) -> tuple[Field, ...]:
    """The outcome post's reasons: the TOP_PER_SIDE most convincing of each side that may show, with marks."""
    if not visible.shown or not visible.total:
        return ()
    lines = []
    for group in visible.groups:
        side = group_title(group.key, prompt, axis)
        if group.count_only:
            if group.count:
                lines.append(f"{side}: {t('reasons.count_only', n=group.count, k=visible.min_votes)}")
            continue
        for r in rank(group.reasons)[:TOP_PER_SIDE]:
            lines.append(t("reasons.outcome_line", side=side, text=r.text, marks=count(r.marks, "mark")))
    return (Field(t("reasons.outcome_field"), "\n".join(lines)),) if lines else ()


def see_reasons_button(poll_id: int) -> Button:
    return Button(t("reasons.see"), Action(ActionKind.REASONS_PAGE, poll_id=poll_id, number=1).encode(), "💬")


def moderation_card(poll_id: int, items: Sequence[Reason]) -> Card:
    """For facilitators: reported and hidden reasons with their report counts, never their authors."""
    if not items:
        return Card(title=t("moderate.title", poll_id=poll_id), text=t("moderate.none", poll_id=poll_id))
    lines, buttons = [], []
    for n, r in enumerate(items, start=1):
        state = t(f"moderate.state_{r.hidden}" if r.hidden else "moderate.state_shown")
        lines.append(t("moderate.line", number=n, text=r.text, reports=count(r.reports, "report"), state=state))
        if r.hidden == "facilitator":
            buttons.append(Button(f"{t('moderate.restore_button')} {n}", Action(ActionKind.RESTORE,
                                                                                number=r.id).encode(), "↩️"))
        else:
            if r.hidden:
                buttons.append(Button(f"{t('moderate.restore_button')} {n}", Action(ActionKind.RESTORE,
                                                                                    number=r.id).encode(), "↩️"))
            buttons.append(Button(f"{t('moderate.hide_button')} {n}", Action(ActionKind.HIDE, number=r.id).encode(),
                                  "🚫", Style.DANGER))
    return Card(title=t("moderate.title", poll_id=poll_id), text="\n".join(lines), buttons=tuple(buttons[:25]),
                footer=t("moderate.anonymous"))
