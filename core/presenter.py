"""Build the neutral cards members see from domain values, with wording from the catalogue.

The presenter owns the catalogue (core.catalogue): the service and adapters pass values, and every
sentence is looked up by key here or where they raise an error, never written inline.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo

from core.actions import Action, ActionKind
from core.catalogue import count, t
from core.models import Article, Axis, Poll, Prompt, Results, Section, StanceEntry
from core.moments import moment, strip_tokens
from core.render import Button, Card, Field, ResultBar, ResultsView, Style

POLL_MARKER = "counterpoint-poll:"
OUTCOME_MARKER = "counterpoint-outcome:"
ANONYMITY_NOTE = t("card.anonymity")


def poll_marker(poll_id: int) -> str:
    return f"{POLL_MARKER}{poll_id}"


def outcome_marker(poll_id: int) -> str:
    return f"{OUTCOME_MARKER}{poll_id}"


def threshold_note(results: Results) -> str:
    return t("card.threshold", k=results.min_votes) if results.min_votes else ""


def _footer(*parts: str) -> str:
    return " · ".join(p for p in parts if p)


def lean_words(value: float, axis: Axis) -> str:
    if abs(value) < 0.05:
        return t("lean.balanced")
    return t("lean.toward", pole=axis.high if value > 0 else axis.low)


def results_view(results: Results, axis: Axis) -> ResultsView:
    """Results as the visibility rule left them: whatever is not in `results` is not shown."""
    votes = count(results.total, "vote")
    if results.hidden_until_close:
        return ResultsView(total=results.total, hidden_note=t("results.until_close", votes=votes))
    if not results.visible:
        if results.final:
            note = t("results.too_few_final", votes=votes, k=results.min_votes)
        else:
            note = t("results.needs_more", n=results.votes_needed, votes=votes)
        return ResultsView(total=results.total, hidden_note=note)
    bars = tuple(ResultBar(strip_tokens(r.option.label), r.option.emoji, r.count, r.share) for r in results.options)
    summary = [t("results.total", votes=votes)]
    if results.mean_lean is not None:
        summary.append(t("results.mean_lean", mean=f"{results.mean_lean:+.1f}", low=axis.low, high=axis.high,
                         words=lean_words(results.mean_lean, axis)))
    if results.shift_shown and results.changed:
        line = t("results.changed", n=results.changed, who=count(results.changed, "member"))
        if results.net_shift is not None:
            line += " " + t("results.movement", high_n=results.moved_to_privacy, low_n=results.moved_to_security,
                            high=axis.high, low=axis.low, shift=f"{results.net_shift:+.2f}")
        summary.append(line)
        firsts = ", ".join(t("results.first_to_now", label=r.option.label, first=r.first_count, now=r.count)
                           for r in results.options if r.first_count != r.count)
        if firsts:
            summary.append(t("results.first_votes", changes=firsts))
    elif results.some_changed:
        summary.append(t("results.some_changed"))
    return ResultsView(total=results.total, bars=bars, summary=tuple(summary))


def _has_meanings(prompt: Prompt) -> bool:
    return bool(prompt.low_means or prompt.high_means) or any(o.meaning for o in prompt.options)


def poll_card(
    poll: Poll, prompt: Prompt, section: Section | None, results: Results, now: datetime, zone: tzinfo,
    axis: Axis,
) -> Card:
    is_open = poll.is_open(now)
    buttons: list[Button] = []
    if is_open:
        for option in prompt.options:
            payload = Action(ActionKind.VOTE, poll_id=poll.id, option_id=option.id).encode()
            buttons.append(Button(strip_tokens(option.label), payload, option.emoji, Style.PRIMARY))
    if _has_meanings(prompt):
        buttons.append(Button(t("meanings.button"), Action(ActionKind.MEANINGS, poll_id=poll.id).encode(), "❔"))
    if section is not None:
        buttons.append(Button(t("card.read_section"), Action(ActionKind.SECTION, section_id=section.id).encode(),
                              "📖"))
    if is_open:
        status = t("card.open_until", at=moment(poll.closes_at, zone)) if poll.closes_at else t("card.open")
    else:
        status = t("card.closed_at", at=moment(poll.closed_at or poll.closes_at or now, zone))
    context = t("card.from_section", title=section.title, context=section.context) if section else ""
    return Card(
        title=strip_tokens(prompt.question),
        context=context,
        status=status,
        results=results_view(results, axis),
        buttons=tuple(buttons),
        footer=_footer(t("card.poll_number", poll_id=poll.id), threshold_note(results), ANONYMITY_NOTE),
        marker=poll_marker(poll.id),
    )


def meanings_card(prompt: Prompt, axis: Axis) -> Card:
    lines = [f"{o.emoji} {o.label}: {o.meaning}".strip() if o.meaning else f"{o.emoji} {o.label}".strip()
             for o in prompt.options]
    if prompt.uses_scale and prompt.low_means and prompt.high_means:
        lines.insert(0, t("meanings.poles", low=axis.low, low_means=prompt.low_means, high=axis.high,
                          high_means=prompt.high_means))
    return Card(title=t("meanings.title"), context=strip_tokens(prompt.question), text="\n".join(lines))


def results_so_far_card(results: Results, axis: Axis) -> Card:
    return Card(
        title=t("card.results_so_far", question=strip_tokens(results.prompt.question)),
        results=results_view(results, axis),
        footer=_footer(t("card.poll_number", poll_id=results.poll.id), threshold_note(results), ANONYMITY_NOTE),
    )


def threshold_announcement(old: int, new: int) -> str:
    return t("settings.announce_raised" if new > old else "settings.announce_lowered", old=old, new=new)


def outcome_card(results: Results, section: Section | None, axis: Axis) -> Card:
    fields: tuple[Field, ...] = ()
    if results.prompt.follow_up:
        fields = (Field(t("card.follow_up"), results.prompt.follow_up),)
    return Card(
        title=t("card.results_title", question=strip_tokens(results.prompt.question)),
        context=t("card.from_section_short", title=section.title) if section else "",
        results=results_view(results, axis),
        fields=fields,
        footer=_footer(t("card.poll_number", poll_id=results.poll.id), t("card.final"), threshold_note(results),
                       ANONYMITY_NOTE),
        marker=outcome_marker(results.poll.id),
    )


def _published(article: Article) -> str:
    return article.date.strftime("%d %B %Y").lstrip("0")


def section_card(section: Section, article: Article) -> Card:
    points = "\n".join(f"• {p}" for p in section.key_points)
    return Card(
        title=section.title,
        context=section.context,
        text=section.summary,
        fields=(Field(t("card.key_points"), points),),
        footer=t("card.summary_credit", title=article.title, publisher=article.publisher,
                 date=_published(article)),
    )


def article_card(article: Article, sections: tuple[Section, ...], read_one: str) -> Card:
    listing = "\n".join(f"`{s.id}`: {s.title}" for s in sections)
    refs = "\n".join(f"{i}. {r}" for i, r in enumerate(article.references, start=1))
    text = t("card.published", date=_published(article), publisher=article.publisher)
    if article.source_url:
        text += " " + t("card.read_at", url=article.source_url)
    buttons = tuple(
        Button(s.title, Action(ActionKind.SECTION, section_id=s.id).encode(), "📖") for s in sections
    )
    return Card(
        title=article.title,
        text=text,
        fields=(Field(t("card.sections"), listing), Field(t("card.references"), refs)),
        buttons=buttons,
        footer=t("card.read_one", command=read_one),
    )


def stance_card(entries: list[StanceEntry], axis: Axis, forget: str) -> Card:
    if not entries:
        return Card(title=t("stance.title"), text=t("stance.none"), footer=t("vote.only_you"))
    lines = [t("stance.line", poll_id=e.poll.id, question=strip_tokens(e.prompt.question),
               choice=f"{e.option.emoji} {e.option.label}".strip()) for e in entries[:10]]
    leans = [e.option.lean for e in entries if e.prompt.uses_scale and e.option.lean is not None]
    text = t("stance.count", votes=count(len(entries), "vote"))
    if leans:
        mean = sum(leans) / len(leans)
        text += " " + t("stance.mean", mean=f"{mean:+.1f}", words=lean_words(mean, axis),
                        questions=count(len(leans), "question"))
    if len(entries) > 10:
        lines.append(t("stance.older", n=len(entries) - 10))
    return Card(title=t("stance.title"), text=text, fields=(Field(t("stance.votes"), "\n".join(lines)),),
                footer=t("stance.footer", forget=forget))


def forget_confirm_card() -> Card:
    return Card(
        title=t("forget.confirm_title"),
        text=t("forget.confirm_text"),
        buttons=(
            Button(t("forget.yes"), Action(ActionKind.FORGET).encode(), "🗑️", Style.DANGER),
            Button(t("forget.cancel"), Action(ActionKind.CANCEL).encode()),
        ),
    )


def help_card(sections: Sequence[tuple[str, list[tuple[str, str]]]], topic: str, axis: Axis) -> Card:
    fields = tuple(Field(title, "\n".join(f"`{usage}`: {text}" for usage, text in rows)) for title, rows in sections)
    return Card(
        title=t("help.title", topic=topic),
        text=t("help.intro", low=axis.low, high=axis.high),
        fields=fields,
        footer=ANONYMITY_NOTE,
    )


def deck_card(upcoming: Sequence[Prompt], used: int, size: int, post: str) -> Card:
    lines = [f"`{p.id}`: {strip_tokens(p.question)}" for p in upcoming]
    text = t("deck.position", used=used, size=size, left=count(size - used, "question"))
    if size - used <= 1:
        text += " " + t("deck.wraps")
    return Card(title=t("deck.title"), text=text, fields=(Field(t("deck.next"), "\n".join(lines)),),
                footer=t("deck.footer", post=post))


def settings_text(*, k: int, live: bool, duration: str, members_post: bool, change: str, floor: int, most: int,
                  saved: bool) -> str:
    lines = [t("settings.saved") if saved else t("settings.title"),
             t("settings.k", k=k),
             t("settings.live") if live else t("settings.after_close"),
             t("settings.duration", duration=duration),
             t("settings.members_post_on") if members_post else t("settings.members_post_off"),
             t("settings.change", change=change, floor=floor, most=most)]
    return "\n".join(lines)
