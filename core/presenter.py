"""Build the neutral cards members see from domain values. Wording lives here, once for every adapter."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

from core.actions import Action, ActionKind
from core.models import Article, Poll, Prompt, Results, Section, StanceEntry
from core.render import Button, Card, Field, ResultBar, ResultsView, Style

ANONYMITY_NOTE = "Votes are anonymous: nobody, admins included, can see who voted what."
POLL_MARKER = "counterpoint-poll:"
OUTCOME_MARKER = "counterpoint-outcome:"


def poll_marker(poll_id: int) -> str:
    return f"{POLL_MARKER}{poll_id}"


def outcome_marker(poll_id: int) -> str:
    return f"{OUTCOME_MARKER}{poll_id}"


def threshold_note(results: Results) -> str:
    return f"Results show from {results.min_votes} votes" if results.min_votes else ""


def _footer(*parts: str) -> str:
    return " · ".join(p for p in parts if p)


def when(moment: datetime, tz: tzinfo = UTC) -> str:
    local = moment.astimezone(tz)
    return f"{local.day} {local:%b %Y, %H:%M} {local.tzname() or ''}".rstrip()


def lean_words(value: float) -> str:
    if abs(value) < 0.05:
        return "balanced"
    return "toward privacy" if value > 0 else "toward security"


def _votes(n: int) -> str:
    return f"{n} vote{'s' if n != 1 else ''}"


def results_view(results: Results) -> ResultsView:
    """Results as the visibility rule left them: whatever is not in `results` is not shown."""
    if results.hidden_until_close:
        return ResultsView(total=results.total,
                           hidden_note=f"{_votes(results.total)} so far. Results show when the poll closes.")
    if not results.visible:
        if results.final:
            note = (f"{_votes(results.total)} in all: too few to show results without singling anyone out "
                    f"(results show from {results.min_votes}).")
        else:
            more = "vote is" if results.votes_needed == 1 else "votes are"
            note = (f"{_votes(results.total)} so far. Results appear once {results.votes_needed} more {more} in, "
                    "so that no single vote stands out.")
        return ResultsView(total=results.total, hidden_note=note)
    bars = tuple(ResultBar(r.option.label, r.option.emoji, r.count, r.share) for r in results.options)
    summary = [_votes(results.total)]
    if results.mean_lean is not None:
        summary.append(f"Mean lean {results.mean_lean:+.1f} on a -2 (security) to +2 (privacy) scale: "
                       f"{lean_words(results.mean_lean)}")
    if results.shift_shown and results.changed:
        line = f"{results.changed} changed their mind"
        if results.net_shift is not None:
            line += (f" ({results.moved_to_privacy} toward privacy, {results.moved_to_security} toward security;"
                     f" net shift {results.net_shift:+.2f})")
        summary.append(line)
        firsts = ", ".join(f"{r.option.label} {r.first_count}→{r.count}" for r in results.options
                           if r.first_count != r.count)
        if firsts:
            summary.append(f"First votes → now: {firsts}")
    elif results.some_changed:
        summary.append("Some members changed their mind (too few to show how without singling anyone out).")
    return ResultsView(total=results.total, bars=bars, summary=tuple(summary))


def poll_card(
    poll: Poll, prompt: Prompt, section: Section | None, results: Results, now: datetime, tz: tzinfo = UTC
) -> Card:
    is_open = poll.is_open(now)
    buttons: list[Button] = []
    if is_open:
        for option in prompt.options:
            payload = Action(ActionKind.VOTE, poll_id=poll.id, option_id=option.id).encode()
            buttons.append(Button(option.label, payload, option.emoji, Style.PRIMARY))
    if section is not None:
        buttons.append(Button("Read the section", Action(ActionKind.SECTION, section_id=section.id).encode(), "📖"))
    if is_open:
        status = f"open until {when(poll.closes_at, tz)}" if poll.closes_at else "open"
    else:
        status = f"closed {when(poll.closed_at or poll.closes_at or now, tz)}"
    context = f"From “{section.title}”: {section.context}" if section else ""
    return Card(
        title=prompt.question,
        context=context,
        results=results_view(results),
        buttons=tuple(buttons),
        footer=_footer(f"Poll #{poll.id}", status, threshold_note(results), ANONYMITY_NOTE),
        marker=poll_marker(poll.id),
    )


def results_so_far_card(results: Results) -> Card:
    return Card(
        title=f"Results so far: {results.prompt.question}",
        results=results_view(results),
        footer=_footer(f"Poll #{results.poll.id}", threshold_note(results), ANONYMITY_NOTE),
    )


def threshold_announcement(old: int, new: int) -> str:
    if new > old:
        return (f"An admin raised this channel's results threshold from {old} to {new} votes. "
                "Open polls follow it now.")
    return (f"An admin lowered this channel's results threshold from {old} to {new} votes. "
            "It applies from the next poll; open polls keep their stricter threshold.")


def outcome_card(results: Results, section: Section | None) -> Card:
    fields: tuple[Field, ...] = ()
    if results.prompt.follow_up:
        fields = (Field("Follow-up question", results.prompt.follow_up),)
    return Card(
        title=f"Results: {results.prompt.question}",
        context=f"From “{section.title}”" if section else "",
        results=results_view(results),
        fields=fields,
        footer=_footer(f"Poll #{results.poll.id}", "final", threshold_note(results), ANONYMITY_NOTE),
        marker=outcome_marker(results.poll.id),
    )


def section_card(section: Section, article: Article) -> Card:
    points = "\n".join(f"• {p}" for p in section.key_points)
    return Card(
        title=section.title,
        context=section.context,
        text=section.summary,
        fields=(Field("Key points", points),),
        footer=f"A summary in our own words of “{article.title}” ({article.publisher}, "
               f"{article.date.strftime('%d %B %Y').lstrip('0')}).",
    )


def article_card(article: Article, sections: tuple[Section, ...]) -> Card:
    listing = "\n".join(f"`{s.id}`: {s.title}" for s in sections)
    refs = "\n".join(f"{i}. {r}" for i, r in enumerate(article.references, start=1))
    text = f"Published {article.date.strftime('%d %B %Y').lstrip('0')} by {article.publisher}."
    if article.source_url:
        text += f" Read it at {article.source_url}"
    buttons = tuple(
        Button(s.title, Action(ActionKind.SECTION, section_id=s.id).encode(), "📖") for s in sections
    )
    return Card(
        title=article.title,
        text=text,
        fields=(Field("Sections", listing), Field("References", refs)),
        buttons=buttons,
        footer="Read one section with: /debate article <section>",
    )


def stance_card(entries: list[StanceEntry]) -> Card:
    if not entries:
        return Card(title="Your stance", text="You have no current votes. Vote on a poll and it will show here.",
                    footer="Only you can see this.")
    lines = [f"#{e.poll.id} {e.prompt.question}\n    → {e.option.emoji} {e.option.label}".rstrip()
             for e in entries[:10]]
    leans = [e.option.lean for e in entries if e.option.lean is not None]
    text = f"You hold {len(entries)} current vote{'s' if len(entries) != 1 else ''}."
    if leans:
        mean = sum(leans) / len(leans)
        text += f" Your mean lean is {mean:+.1f} ({lean_words(mean)}) across {len(leans)} scale question(s)."
    if len(entries) > 10:
        lines.append(f"… and {len(entries) - 10} older")
    return Card(title="Your stance", text=text, fields=(Field("Your votes", "\n".join(lines)),),
                footer="Only you can see this. /debate forget-me erases it.")


def forget_confirm_card() -> Card:
    return Card(
        title="Erase your data?",
        text="This deletes every vote you cast in this space and its history. Open polls drop your votes; "
             "closed polls keep their final counts, which nothing links to you. "
             "It cannot be undone.",
        buttons=(
            Button("Yes, erase my data", Action(ActionKind.FORGET).encode(), "🗑️", Style.DANGER),
            Button("Cancel", Action(ActionKind.CANCEL).encode()),
        ),
    )


MEMBER_HELP = (
    ("today", "show today's question (opens one if none is open)"),
    ("article [section]", "the article overview, or one section's summary"),
    ("results [poll]", "results of the latest poll here, or poll #N"),
    ("stance", "your own votes and lean, shown only to you"),
    ("forget-me", "erase all your votes in this space"),
    ("help", "this list"),
)
ADMIN_HELP = (
    ("post [prompt]", "post a question now (the next in the deck, or the prompt id given)"),
    ("close [poll]", "close the latest open poll here, or poll #N"),
    ("export", "CSV of aggregate results (no member data)"),
    ("settings [min-votes N]", "show or change this channel's settings"),
    ("schedule set time=09:00 tz=Europe/Berlin days=mon-fri", "post a daily question (also: duration=24h "
     "order=section|shuffle results=live|after-close k=3)"),
    ("schedule show | schedule off", "the next post and its question, or stop daily posts"),
)


def help_card(command: str, is_admin: bool, admin_command: str | None = None) -> Card:
    member = "\n".join(f"`{command} {c}`: {d}" for c, d in MEMBER_HELP)
    fields = [Field("Everyone", member)]
    if is_admin:
        admin_prefix = admin_command or command
        fields.append(Field("Admins", "\n".join(f"`{admin_prefix} {c}`: {d}" for c, d in ADMIN_HELP)))
    return Card(
        title="Counterpoint: a daily debate on AI in law enforcement",
        text="Each day brings one question from the article. Pick where you stand between security and "
             "privacy; change your mind any time while the poll is open.",
        fields=tuple(fields),
        footer=ANONYMITY_NOTE,
    )
