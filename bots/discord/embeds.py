"""Core render models -> discord.py embeds and buttons. Pure: no I/O, no decisions about votes or polls.

Every string the content pack or a member can influence is clipped to Discord's limits here, so no
message the adapter sends can be refused for its size.

Moments (core.moments tokens) become `<t:...>` only where Discord shows them in each reader's zone:
message content, the embed description and field values. Titles, field names, footers and button
labels get plain times. When the markup would not fit a limit, the text falls back to plain times
before it is cut, so a cut never leaves half a `<t:...>`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import discord

from bots.reason_text import discord_literal, reason_parts, split_lines
from core.actions import ActionError, ActionKind, decode
from core.catalogue import t
from core.moments import discord_markup, resolve, strip_tokens
from core.moments import plain as plain_moment
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


def plain_times(text: str) -> str:
    """Moments as text in the zone their token carries; a stray bracket is dropped, never sent."""
    return strip_tokens(resolve(text, plain_moment))


def fit_plain(text: str, limit: int) -> str:
    """For titles, field names, footers and labels, where Discord would show `<t:...>` raw."""
    return clip(plain_times(text), limit)


def fit_rich(text: str, limit: int) -> str:
    """For content, descriptions and field values: moments in each reader's zone, plain if that does not fit."""
    rich = strip_tokens(resolve(text, discord_markup))
    return rich if len(rich) <= limit else fit_plain(text, limit)


def content(text: str) -> str:
    """Message content (an answer, an announcement) ready to send."""
    return fit_rich(text, CONTENT_MAX)


def _block(lines: list[str], limit: int) -> str:
    """Lines in a code block (monospace keeps the bars aligned), whole lines dropped to fit `limit`."""
    fence = 8  # "```\n" + "\n```"
    kept: list[str] = []
    used = fence
    for line in lines:
        # A code block shows <t:...> raw; a label's ``` would end the block early, so backticks become ˋ.
        line = fit_plain(line.replace("`", "\u02cb"), limit - fence)
        if used + len(line) + 1 > limit:
            break
        kept.append(line)
        used += len(line) + 1
    return "```\n" + "\n".join(kept) + "\n```" if kept else EMPTY


def results_fields(results: ResultsView) -> list[tuple[str, str]]:
    """(name, value) pairs, values already fitted; each bar line keeps its option's label."""
    name = t("discord.render.results")
    if not results.visible:
        return [(name, fit_rich(results.hidden_note or "", FIELD_VALUE_MAX) or EMPTY)]
    bars = results_lines(ResultsView(total=results.total, bars=results.bars), width=10)
    fields = [(name, _block(bars, FIELD_VALUE_MAX))]
    if results.summary:
        fields.append((t("discord.render.summary"), fit_rich("\n".join(results.summary), FIELD_VALUE_MAX)))
    return fields


def _embed_size(embed: discord.Embed) -> int:
    size = len(embed.title or "") + len(embed.description or "") + len(embed.footer.text or "")
    return size + sum(len(f.name or "") + len(f.value or "") for f in embed.fields)


def _describer(card: Card, full_title: str) -> Callable[[int], str]:
    """The description within a given length: a title too long for the title slot, context, text, then
    the status as the last line, kept whole while the rest is shortened."""
    body = "\n\n".join(p for p in (full_title, card.context, card.text) if p)

    def describe(limit: int) -> str:
        status = fit_rich(card.status, limit) if card.status else ""
        room = limit - len(status) - 2 if status else limit
        text = fit_rich(body, room) if body and room > 0 else ""
        return "\n\n".join(p for p in (text, status) if p)

    return describe


def _footer_text(card: Card, marker: str | None, limit: int) -> str:
    """The footer within `limit`; a marker is appended whole (it must stay findable)."""
    if not marker:
        return fit_plain(card.footer, limit)
    footer = fit_plain(card.footer, limit - len(marker) - 3)
    return f"{footer} · {marker}" if footer else marker


def literal_fields(name: str, value: str, inline: bool) -> list[tuple[str, str, bool]]:
    """Members' reasons shown as typed, over as many fields as it takes to show them whole (1024 each);
    a continuation field has no name of its own."""
    chunks = split_lines(discord_literal(plain_times(value)), FIELD_VALUE_MAX)
    return [(fit_plain(name, FIELD_NAME_MAX) if n == 0 else EMPTY, clip(chunk, FIELD_VALUE_MAX), inline)
            for n, chunk in enumerate(chunks)]


def card_embed(card: Card, *, marker: str | None = None) -> discord.Embed:
    """The card as one embed within Discord's limits; `marker` is written at the end of the footer."""
    literal = reason_parts(card)
    if literal.text:  # members' reasons: shown as typed, never as markup or mentions
        card = replace(card, text=discord_literal(card.text))
    title = plain_times(card.title)
    # A title Discord would cut is shown whole at the top of the description instead.
    full_title = f"**{discord.utils.escape_markdown(title)}**" if len(title) > TITLE_MAX else ""
    describe = _describer(card, full_title)
    embed = discord.Embed(title=clip(title, TITLE_MAX) or None, description=describe(DESCRIPTION_MAX) or None,
                          colour=discord.Colour.blurple())
    fields = [field for i, f in enumerate(card.fields) for field in (
        literal_fields(f.name, f.value, f.inline) if i in literal.fields
        else [(fit_plain(f.name, FIELD_NAME_MAX), fit_rich(f.value, FIELD_VALUE_MAX), f.inline)])]
    if card.results is not None:
        fields.extend((name, value, False) for name, value in results_fields(card.results))
    for name, value, inline in fields[:FIELDS_MAX]:
        embed.add_field(name=name or EMPTY, value=value or EMPTY, inline=inline)
    footer = _footer_text(card, marker, FOOTER_MAX)
    if footer:
        embed.set_footer(text=footer)
    _fit_total(embed, card, marker, describe)
    return embed


def _fit_total(embed: discord.Embed, card: Card, marker: str | None, describe: Callable[[int], str]) -> None:
    """Keep the 6000-character total: shorten the description first, then drop trailing fields, then the footer.

    Each shortening re-renders from the card, so a cut lands in plain text, never inside `<t:...>`."""
    excess = _embed_size(embed) - EMBED_TOTAL_MAX
    if excess > 0 and embed.description:
        embed.description = describe(max(len(embed.description) - excess, 1)) or None
    while _embed_size(embed) > EMBED_TOTAL_MAX and embed.fields:
        embed.remove_field(len(embed.fields) - 1)
    excess = _embed_size(embed) - EMBED_TOTAL_MAX
    if excess > 0 and embed.footer.text:
        embed.set_footer(text=_footer_text(card, marker, max(len(embed.footer.text) - excess, 1)))


class StaticView(discord.ui.View):
    """Buttons only, never registered with discord.py's view store.

    Presses reach `CounterpointClient.on_interaction` by their custom_id, which survives restarts; a
    stored view would add a timeout task per message and a second, silent handler per press.
    """

    def __init__(self) -> None:
        super().__init__(timeout=None)
        self._sealed = False
        self._payload: list[dict[str, Any]] | None = None

    def seal(self) -> StaticView:
        """No more buttons: a finished view is sent as components but not stored."""
        self.stop()
        self._sealed = True
        return self

    def to_components(self) -> list[dict[str, Any]]:
        # A sealed view is sent as it is, and one receipt's view with every copy of it
        # (bots/discord/rendered.py): its payload is built once. discord.py only reads it.
        if not self._sealed:
            return super().to_components()
        if self._payload is None:
            self._payload = super().to_components()
        return self._payload


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
                    label=fit_plain(b.label, LABEL_MAX) or (None if b.emoji else "•"), emoji=b.emoji or None,
                    custom_id=b.payload,
                    style=_STYLES.get(b.style, discord.ButtonStyle.secondary), row=row,
                ))
            row += 1
    return view.seal()


def card_message(card: Card, *, with_marker: bool = False) -> dict[str, Any]:
    """Keyword arguments for send()/edit() of a card as a whole message.

    `with_marker` writes the card's marker into the embed footer, where `DiscordPort` looks for it
    to adopt a message posted before a crash (outcomes have no buttons to be found by)."""
    embed = card_embed(card, marker=card.marker if with_marker else None)
    kwargs: dict[str, Any] = {"embed": embed, "allowed_mentions": NO_MENTIONS}
    # An edit must say "no buttons" explicitly (None) to remove the vote buttons of a closed poll.
    kwargs["view"] = button_view(card.buttons)
    return kwargs


def has_marker(embeds: list[discord.Embed], marker: str) -> bool:
    """Whether one of a message's embeds ends its footer with `marker` (as a whole word: poll 1 is not 12)."""
    return any((e.footer.text or "").rsplit(" ", 1)[-1] == marker for e in embeds)


def reply_message(reply: Reply) -> dict[str, Any]:
    """Keyword arguments for an interaction answer or followup (content, embed, buttons)."""
    kwargs: dict[str, Any] = {"allowed_mentions": NO_MENTIONS}
    if reply.text:
        kwargs["content"] = content(reply.text)
    if reply.card is not None:
        if reply.card.title or reply.card.text or reply.card.fields or reply.card.results:  # not buttons alone
            kwargs["embed"] = card_embed(reply.card)
        view = button_view(reply.card.buttons)
        if view is not None:
            kwargs["view"] = view
    if len(kwargs) == 1:
        kwargs["content"] = t("discord.render.done")
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
