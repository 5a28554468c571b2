"""Moments in text that each member reads in their own time zone.

The core cannot know a member's zone, but Discord (`<t:...>`) and Slack (`<!date^...>`) can show a
timestamp in the reader's zone. So the core writes a moment as a neutral token, and each adapter
turns the tokens into its platform's markup with `resolve`; plain text (the console, notifications,
CSV) gets the time in the channel's zone, which the token carries. A token is built only here: text
from outside (questions, labels) is passed through `strip_tokens` so it can never forge one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

OPEN, CLOSE = "\u27e6", "\u27e7"  # ⟦ ⟧: never produced by the bot's own wording
_TOKEN = re.compile(r"\u27e6t:(-?\d{1,12}):([a-z]):([A-Za-z0-9_+\-/]{1,64})\u27e7")
_MENTION = re.compile(r"\u27e6m:(user|role|channel):([A-Za-z0-9_.-]{1,64})\u27e7")


class Style(StrEnum):
    DATETIME = "f"  # 29 Nov 2026, 09:00
    TIME = "t"  # 09:00
    DATE = "d"  # 29 Nov 2026
    RELATIVE = "r"  # in 3 hours


def moment(at: datetime, zone: tzinfo = UTC, style: Style = Style.DATETIME) -> str:
    """A token for `at`, shown in each reader's zone where the platform can, else in `zone`."""
    key = getattr(zone, "key", None) or "UTC"
    return f"{OPEN}t:{int(at.timestamp())}:{style.value}:{key}{CLOSE}"


def _zone(key: str) -> tzinfo:
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def plain(epoch: int, style: Style, zone_key: str) -> str:
    """The moment as text in the zone the token carries: '29 Nov 2026, 09:00 JST'."""
    local = datetime.fromtimestamp(epoch, UTC).astimezone(_zone(zone_key))
    name = local.tzname() or ""
    if style is Style.TIME:
        text = f"{local:%H:%M} {name}"
    elif style is Style.DATE:
        text = f"{local.day} {local:%b %Y}"
    elif style is Style.RELATIVE:
        text = f"{local.day} {local:%b %Y, %H:%M} {name}"
    else:
        text = f"{local.day} {local:%b %Y, %H:%M} {name}"
    return text.rstrip()


Formatter = Callable[[int, Style, str], str]


def mention(kind: str, ident: str) -> str:
    """A member ("user"), role or channel named in a reply: a platform mention where it has them, else text.

    A token like a moment's, because Slack's renderer escapes `<` in text: the markup is put back after."""
    return f"{OPEN}m:{kind}:{ident}{CLOSE}"


def _plain_mention(kind: str, ident: str) -> str:
    return f"#{ident}" if kind == "channel" else f"@{ident}"


def _markup_mention(kind: str, ident: str) -> str:
    # Slack and Discord share this syntax; Discord roles carry '&'. Nobody is pinged: Discord replies pass
    # allowed_mentions none, and Slack ephemeral answers never notify.
    return {"user": f"<@{ident}>", "role": f"<@&{ident}>", "channel": f"<#{ident}>"}[kind]


def resolve(text: str, formatter: Formatter = plain) -> str:
    """Replace every token in `text`: moments with `formatter(epoch, style, zone_key)`, mentions as markup
    for the platforms' formatters and as text for `plain`."""
    if OPEN not in text:
        return text
    text = _TOKEN.sub(lambda m: formatter(int(m.group(1)), Style(m.group(2)), m.group(3)), text)
    names = _markup_mention if formatter in (discord_markup, slack_markup) else _plain_mention
    return _MENTION.sub(lambda m: names(m.group(1), m.group(2)), text)


def strip_tokens(text: str) -> str:
    """Text from outside with the token brackets removed, so it cannot pose as a moment."""
    return text.replace(OPEN, "").replace(CLOSE, "")


def discord_markup(epoch: int, style: Style, zone_key: str) -> str:
    return f"<t:{epoch}:{'R' if style is Style.RELATIVE else style.value}>"


def slack_markup(epoch: int, style: Style, zone_key: str) -> str:
    """Slack's date formatting, with the channel-zone text as the fallback older clients show."""
    pattern = {Style.TIME: "{time}", Style.DATE: "{date_short_pretty}", Style.RELATIVE: "{ago}"}.get(
        style, "{date_short_pretty} {time}")
    return f"<!date^{epoch}^{pattern}|{plain(epoch, style, zone_key)}>"
