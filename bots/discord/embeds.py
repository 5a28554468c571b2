"""Core render models -> discord.py embeds and buttons. Pure: no I/O, no decisions about votes or polls.

Every string the content pack or a member can influence is clipped to Discord's limits here, so no
message the adapter sends can be refused for its size.
"""

from __future__ import annotations

import logging
from typing import Any

import discord

from core.actions import ActionError, ActionKind, decode
from core.render import Button, Card, Reply, ResultsView, Style, results_lines
from core.text import clip

log = logging.getLogger(__name__)

CONTENT_MAX = 2000
TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FIELDS_MAX = 25
FOOTER_MAX = 2048
EMBED_TOTAL_MAX = 6000
LABEL_MAX = 80
CUSTOM_ID_MAX = 100
ROW_WIDTH = 5
ROWS_MAX = 5
EMPTY = "\u200b"  # Discord refuses empty field values; a zero-width space renders as nothing
# Passed on every send and edit: the client-wide default is left out of edits without content.
NO_MENTIONS = discord.AllowedMentions.none()

_STYLES = {
    Style.PRIMARY: discord.ButtonStyle.primary,
    Style.SECONDARY: discord.ButtonStyle.secondary,
    Style.DANGER: discord.ButtonStyle.danger,
}


def _block(lines: list[str], limit: int) -> str:
    """Lines in a code block (monospace keeps the bars aligned), whole lines dropped to fit `limit`."""
    fence = 8  # "```\n" + "\n```"
    kept: list[str] = []
    used = fence
    for line in lines:
        line = clip(line, limit - fence)
        if used + len(line) + 1 > limit:
            break
        kept.append(line)
        used += len(line) + 1
    return "```\n" + "\n".join(kept) + "\n```" if kept else EMPTY


def results_fields(results: ResultsView) -> list[tuple[str, str]]:
    if not results.visible:
        return [("Results", clip(results.hidden_note or EMPTY, FIELD_VALUE_MAX))]
    bars = results_lines(ResultsView(total=results.total, bars=results.bars), width=10)
    fields = [("Results", _block(bars, FIELD_VALUE_MAX))]
    if results.summary:
        fields.append(("Summary", clip("\n".join(results.summary), FIELD_VALUE_MAX)))
    return fields


def _embed_size(embed: discord.Embed) -> int:
    size = len(embed.title or "") + len(embed.description or "") + len(embed.footer.text or "")
    return size + sum(len(f.name or "") + len(f.value or "") for f in embed.fields)


def card_embed(card: Card) -> discord.Embed:
    description = "\n\n".join(part for part in (card.context, card.text) if part)
    embed = discord.Embed(title=clip(card.title, TITLE_MAX) or None,
                          description=clip(description, DESCRIPTION_MAX) or None,
                          colour=discord.Colour.blurple())
    fields = [(f.name, f.value, f.inline) for f in card.fields]
    if card.results is not None:
        fields.extend((name, value, False) for name, value in results_fields(card.results))
    for name, value, inline in fields[:FIELDS_MAX]:
        embed.add_field(name=clip(name, FIELD_NAME_MAX) or EMPTY, value=clip(value, FIELD_VALUE_MAX) or EMPTY,
                        inline=inline)
    if card.footer:
        embed.set_footer(text=clip(card.footer, FOOTER_MAX))
    _fit_total(embed)
    return embed


def _fit_total(embed: discord.Embed) -> None:
    """Keep the 6000-character total: shorten the description first, then drop trailing fields."""
    excess = _embed_size(embed) - EMBED_TOTAL_MAX
    if excess > 0 and embed.description:
        embed.description = clip(embed.description, max(len(embed.description) - excess, 1))
    while _embed_size(embed) > EMBED_TOTAL_MAX and embed.fields:
        embed.remove_field(len(embed.fields) - 1)
    excess = _embed_size(embed) - EMBED_TOTAL_MAX
    if excess > 0 and embed.footer.text:
        embed.set_footer(text=clip(embed.footer.text, max(len(embed.footer.text) - excess, 1)))


class StaticView(discord.ui.View):
    """Buttons only, never registered with discord.py's view store.

    Presses reach `CounterpointClient.on_interaction` by their custom_id, which survives restarts; a
    stored view would add a timeout task per message and a second, silent handler per press.
    """

    def __init__(self) -> None:
        super().__init__(timeout=None)

    def seal(self) -> StaticView:
        self.stop()  # a finished view is sent as components but not stored
        return self


def button_view(buttons: tuple[Button, ...]) -> StaticView | None:
    """Vote options (primary) fill the first rows, other buttons follow on their own rows."""
    if not buttons:
        return None
    view = StaticView()
    groups = [[b for b in buttons if b.style is Style.PRIMARY], [b for b in buttons if b.style is not Style.PRIMARY]]
    row = 0
    seen: set[str] = set()
    for group in groups:
        for start in range(0, len(group), ROW_WIDTH):
            if row >= ROWS_MAX:
                log.warning("dropped %d buttons beyond Discord's 5 rows", len(group) - start)
                return view.seal()
            for b in group[start:start + ROW_WIDTH]:
                if len(b.payload) > CUSTOM_ID_MAX or b.payload in seen:
                    log.warning("dropped a button with an unusable custom_id %r", b.payload[:40])
                    continue
                seen.add(b.payload)
                view.add_item(discord.ui.Button(
                    label=clip(b.label, LABEL_MAX) or (None if b.emoji else "•"), emoji=b.emoji or None,
                    custom_id=b.payload,
                    style=_STYLES.get(b.style, discord.ButtonStyle.secondary), row=row,
                ))
            row += 1
    return view.seal()


def card_message(card: Card, *, with_marker: bool = False) -> dict[str, Any]:
    """Keyword arguments for send()/edit() of a card as a whole message.

    `with_marker` writes the card's marker into the embed footer, where `DiscordPort` looks for it
    to adopt a message posted before a crash (outcomes have no buttons to be found by)."""
    embed = card_embed(card)
    if with_marker and card.marker:
        mark(embed, card.marker)
    kwargs: dict[str, Any] = {"embed": embed, "allowed_mentions": NO_MENTIONS}
    view = button_view(card.buttons)
    # An edit must say "no buttons" explicitly to remove the vote buttons of a closed poll.
    kwargs["view"] = view
    return kwargs


def mark(embed: discord.Embed, marker: str) -> None:
    """Append `marker` to the footer; the marker itself is never clipped (it must stay findable)."""
    footer = embed.footer.text or ""
    keep = FOOTER_MAX - len(marker) - 3
    embed.set_footer(text=f"{clip(footer, keep)} · {marker}" if footer else marker)
    while _embed_size(embed) > EMBED_TOTAL_MAX and embed.fields:
        embed.remove_field(len(embed.fields) - 1)
    excess = _embed_size(embed) - EMBED_TOTAL_MAX
    if excess > 0 and embed.description:
        embed.description = clip(embed.description, max(len(embed.description) - excess, 1))


def has_marker(embeds: list[discord.Embed], marker: str) -> bool:
    """Whether one of a message's embeds ends its footer with `marker` (as a whole word: poll 1 is not 12)."""
    return any((e.footer.text or "").rsplit(" ", 1)[-1] == marker for e in embeds)


def reply_message(reply: Reply) -> dict[str, Any]:
    """Keyword arguments for an interaction answer or followup (content, embed, buttons)."""
    kwargs: dict[str, Any] = {"allowed_mentions": NO_MENTIONS}
    if reply.text:
        kwargs["content"] = clip(reply.text, CONTENT_MAX)
    if reply.card is not None:
        kwargs["embed"] = card_embed(reply.card)
        view = button_view(reply.card.buttons)
        if view is not None:
            kwargs["view"] = view
    if len(kwargs) == 1:
        kwargs["content"] = "Done."
    return kwargs


def poll_id_of(custom_id: str) -> int | None:
    """The poll a vote button belongs to, for finding a poll message again."""
    try:
        action = decode(custom_id)
    except ActionError:
        return None
    return action.poll_id if action.kind is ActionKind.VOTE else None


def message_poll_ids(components: list[Any]) -> set[int]:
    """Poll ids named by the vote buttons of a message's (discord.py) components."""
    found: set[int] = set()
    stack = list(components)
    while stack:
        comp = stack.pop()
        stack.extend(getattr(comp, "children", ()) or ())
        custom_id = getattr(comp, "custom_id", None)
        if custom_id and (poll_id := poll_id_of(custom_id)) is not None:
            found.add(poll_id)
    return found
