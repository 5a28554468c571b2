"""Counted nouns, for core.catalogue.count."""

from __future__ import annotations

from core.catalogue import Message, Plural

MESSAGES: dict[str, Message] = {
    "noun.vote": Plural("vote", "votes"),
    "noun.record": Plural("record", "records"),
    "noun.member": Plural("member", "members"),
    "noun.poll": Plural("poll", "polls"),
    "noun.question": Plural("question", "questions"),
    "noun.prompt": Plural("prompt", "prompts"),
    "noun.hour": Plural("hour", "hours"),
    "noun.minute": Plural("minute", "minutes"),
    "noun.day": Plural("day", "days"),
    "noun.reason": Plural("reason", "reasons"),
}
