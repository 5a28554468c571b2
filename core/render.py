"""Neutral render models the service returns, and the plain-text renderer every adapter can fall back to.

Adapters turn these into embeds or Block Kit; nothing here knows a platform's limits, so each
adapter clips with core.text.clip to its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from core.moments import resolve
from core.text import bar


class Style(StrEnum):
    PRIMARY = "primary"
    SECONDARY = "secondary"
    DANGER = "danger"


@dataclass(frozen=True)
class Button:
    label: str
    payload: str
    emoji: str = ""
    style: Style = Style.SECONDARY


@dataclass(frozen=True)
class Field:
    name: str
    value: str
    inline: bool = False


@dataclass(frozen=True)
class ResultBar:
    label: str
    emoji: str
    count: int
    share: float


@dataclass(frozen=True)
class ResultsView:
    total: int
    bars: tuple[ResultBar, ...] = ()
    hidden_note: str | None = None
    summary: tuple[str, ...] = ()

    @property
    def visible(self) -> bool:
        return self.hidden_note is None


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mime_type: str = "text/csv"
    alt_text: str = ""  # an image's content in words (screen readers, clients that hide images)


@dataclass(frozen=True)
class Card:
    title: str
    text: str = ""
    context: str = ""
    fields: tuple[Field, ...] = ()
    results: ResultsView | None = None
    buttons: tuple[Button, ...] = ()
    footer: str = ""
    marker: str | None = None  # identifies a poll message so it can be found again in a channel
    # Open/closed and until when, with core.moments tokens: shown where the platform renders times
    # in the reader's zone (never a footer, where Discord shows them raw).
    status: str = ""
    image: Attachment | None = None  # a chart shown with the card (PNG); the card's text says the same


@dataclass(frozen=True)
class PollPost:
    """A poll the adapter must post in the channel, then report back with its message reference."""

    poll_id: int
    card: Card


@dataclass(frozen=True)
class Reply:
    text: str = ""
    card: Card | None = None
    ephemeral: bool = True
    error: bool = False
    post: PollPost | None = None
    refresh_polls: tuple[int, ...] = ()
    attachment: Attachment | None = None
    announce: str | None = None  # said publicly in the channel as well (e.g. a changed threshold)


def results_lines(results: ResultsView, width: int = 10) -> list[str]:
    if results.hidden_note:
        return [results.hidden_note]
    lines = []
    for b in results.bars:
        label = f"{b.emoji} {b.label}".strip()
        lines.append(f"{bar(b.share, width)} {round(b.share * 100):>3}%  {label} ({b.count})")
    lines.extend(results.summary)
    return lines


def render_text(card: Card, numbered: bool = False) -> str:
    """A card as plain text: the console's output and any adapter's fallback."""
    lines = [card.title]
    if card.context:
        lines.append(card.context)
    if card.status:
        lines.append(card.status)
    if card.text:
        lines.extend(["", card.text])
    for f in card.fields:
        lines.extend(["", f"{f.name}:", f.value])
    if card.results is not None:
        lines.append("")
        lines.extend(results_lines(card.results))
    if card.buttons:
        lines.append("")
        for i, b in enumerate(card.buttons, start=1):
            label = f"{b.emoji} {b.label}".strip()
            lines.append(f"  [{i}] {label}" if numbered else f"  [{label}]")
    if card.footer:
        lines.extend(["", card.footer])
    return resolve("\n".join(lines))


def render_reply(reply: Reply, numbered: bool = False) -> str:
    parts = []
    if reply.text:
        parts.append(reply.text)
    if reply.card is not None:
        parts.append(render_text(reply.card, numbered=numbered))
    return resolve("\n\n".join(parts))
