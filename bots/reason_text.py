"""Where members' reasons sit in the core's cards, and how each platform shows them literally.

The core hands reason text over cleaned (core.reasons.check_text: no control characters, one line, at most
280 characters) but not neutralised: only a platform knows its own mention, markup and link syntax. The
cards carrying reasons are recognised from the core's own markers (catalogue wording and button kinds);
recognising a card that holds no reason costs nothing but literal rendering, missing one would let a reason
ping a channel, so the test suite checks every reason card the core makes is recognised.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from core.actions import ActionError, ActionKind, decode
from core.catalogue import t
from core.presenter_reasons import add_button, delete_button
from core.render import Card, Reply

_PAGE_BUTTONS = frozenset({ActionKind.MARK, ActionKind.UNMARK, ActionKind.REPORT})
_MODERATION_BUTTONS = frozenset({ActionKind.HIDE, ActionKind.RESTORE})


@dataclass(frozen=True)
class ReasonParts:
    """Which parts of a card hold members' reasons: its text, and the fields at these indexes."""

    text: bool = False
    fields: frozenset[int] = frozenset()

    def __bool__(self) -> bool:
        return self.text or bool(self.fields)


def _kinds(card: Card) -> set[ActionKind]:
    kinds = set()
    for button in card.buttons:
        try:
            kinds.add(decode(button.payload).kind)
        except ActionError:
            continue
    return kinds


def reason_parts(card: Card) -> ReasonParts:
    """The reasons page (every field), the moderation card (its text), the outcome's reasons field."""
    kinds = _kinds(card)
    every = frozenset(range(len(card.fields)))
    if kinds & _MODERATION_BUTTONS:
        return ReasonParts(text=True, fields=every)
    if kinds & _PAGE_BUTTONS or card.title.startswith(t("reasons.title", question="")):
        return ReasonParts(fields=every)
    name = t("reasons.outcome_field")
    return ReasonParts(fields=frozenset(i for i, f in enumerate(card.fields) if f.name == name))


def with_followups(reply: Reply, poll_id: int) -> Reply:
    """A saved reason's answer with buttons to change or delete it again (a card of buttons only)."""
    if reply.error or reply.card is not None:
        return reply
    return replace(reply, card=Card(title="", buttons=(add_button(poll_id, True), delete_button(poll_id))))


def split_lines(text: str, limit: int) -> list[str]:
    """`text` in chunks of whole lines of at most `limit` characters (a longer line is a chunk of its own,
    cut by the renderer), so a long list of reasons is shown whole over several blocks or fields."""
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        if current and len(current) + 1 + len(line) > limit:
            chunks.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current or not chunks:
        chunks.append(current)
    return chunks


# -- Discord ------------------------------------------------------------------------------------------

# A link ends before typographic quotes and trailing punctuation (the core quotes reasons with “ ”).
_URL = re.compile(r"(?:https?|steam|discord)://[^\s<>“”‘’«»]*[^\s<>.,;:!?)\]'\"“”‘’«»]", re.IGNORECASE)
_DISCORD_MARKUP = re.compile(r"([\\*_~`|>\[\]#])")
_EVERYONE = re.compile(r"@(everyone|here)", re.IGNORECASE)
_ANGLE = re.compile(r"<(?=[@#:/!&a-z])", re.IGNORECASE)  # <@1> <@&1> <#1> <:e:1> <a:e:1> </c:1> <t:1>


def discord_literal(text: str) -> str:
    """Text Discord shows as typed: markdown escaped, no mention, emoji or timestamp markup, links kept
    clickable but in <> (Discord shows no preview for those)."""
    out: list[str] = []
    last = 0
    for match in _URL.finditer(text):
        out.append(_discord_words(text[last:match.start()]))
        out.append(f"<{match.group(0)}>")
        last = match.end()
    out.append(_discord_words(text[last:]))
    return "".join(out)


def _discord_words(text: str) -> str:
    text = _ANGLE.sub("<\u200b", text)
    text = _EVERYONE.sub("@\u200b\\1", text)
    return _DISCORD_MARKUP.sub(r"\\\1", text)
