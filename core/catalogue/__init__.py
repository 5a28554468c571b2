"""Every sentence a member, facilitator or operator in chat reads, in one catalogue.

Messages are looked up by key: `t("vote.cast", label=...)`. A message whose wording depends on a
number is a `Plural` and takes `n`; `count(n, "vote")` spells "1 vote" / "3 votes". Areas keep
their messages in their own module (member.py, admin.py, slack.py, ...) so that each part of the
bot can grow its wording without touching another's; they are merged here, and a key defined twice
is an error at import. A second language would be a second set of these modules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Plural:
    one: str
    other: str

    def pick(self, n: int) -> str:
        return self.one if n == 1 else self.other


Message = str | Plural
_MESSAGES: dict[str, Message] = {}


def register(area: str, messages: dict[str, Message]) -> None:
    for key, message in messages.items():
        if key in _MESSAGES:
            raise ValueError(f"message {key!r} of {area} is already in the catalogue")
        _MESSAGES[key] = message


def has(key: str) -> bool:
    return key in _MESSAGES


def t(key: str, /, **values: Any) -> str:
    """The message `key` with its {placeholders} filled; a Plural needs `n`."""
    message = _MESSAGES[key]
    if isinstance(message, Plural):
        message = message.pick(int(values["n"]))
    return message.format_map(values) if values else message


def count(n: int, noun: str) -> str:
    """'1 vote', '2 votes': nouns are catalogue entries `noun.<name>` holding a Plural."""
    return f"{n} {t('noun.' + noun, n=n)}"


def keys() -> frozenset[str]:
    return frozenset(_MESSAGES)


def _load() -> None:
    # Imported here, not at the top, so each area module can import `Plural` from this package.
    from core.catalogue import areas

    for name, messages in areas.all_areas():
        register(name, messages)


_load()
