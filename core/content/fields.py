"""What a content pack may hold: its tables, their fields, the limits, and a checker that collects problems.

docs/content-pack.md describes every field listed here; a test keeps the two in step.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from core.models import CUSTOM_PROMPT_PREFIX

# Our own ceiling, below Slack's 75 and Discord's 80 characters, so a label renders whole on both.
LABEL_MAX = 40
QUESTION_MAX = 240
SUMMARY_MAX = 1000
KEY_POINT_MAX = 200
CONTEXT_MAX = 150
MEANING_MAX = 120
TOPIC_MAX = 80
POLE_MAX = 24
POLE_MEANS_MAX = 80
MIN_PROMPTS = 1
MAX_PROMPTS = 500
SCHEMA = 1
SECTION_ID = re.compile(r"^[a-z][a-z0-9-]{0,23}$")
PROMPT_ID = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
OPTION_ID = SECTION_ID
SCALE_VALUES = (-2, -1, 0, 1, 2)
# Sections a prompt need not cover: the article's opening and closing, which have no heading of their own.
UNHEADED = ("intro", "conclusion")
RESERVED_PREFIX = CUSTOM_PROMPT_PREFIX

# Every field the loader reads, per table. Anything else is reported, so a misspelt field is not silently lost.
FIELDS: dict[str, tuple[str, ...]] = {
    "top": ("schema", "topic", "axis", "article", "sections", "scale", "prompts"),
    "axis": ("low", "high"),
    "article": ("title", "date", "publisher", "copyright", "source_url", "references"),
    "sections": ("id", "title", "summary", "key_points", "context"),
    "scale": ("value", "label", "emoji", "meaning"),
    "prompts": ("id", "section", "question", "follow_up", "options", "low_means", "high_means"),
    "options": ("id", "label", "emoji", "lean"),
}


@dataclass
class Checker:
    problems: list[str]

    def add(self, where: str, problem: str) -> None:
        self.problems.append(f"{where}: {problem}")

    def text(self, where: str, value: Any, limit: int, *, required: bool = True, one_line: bool = False) -> str:
        if value is None or value == "":
            if required:
                self.add(where, "missing or empty")
            return ""
        if not isinstance(value, str):
            self.add(where, f"must be text, got {type(value).__name__}")
            return ""
        value = value.strip()
        if required and not value:
            self.add(where, "empty")
        if len(value) > limit:
            self.add(where, f"{len(value)} characters, the limit is {limit}")
        if one_line and "\n" in value:
            self.add(where, "must be one line")
        return value

    def ident(self, where: str, value: Any, pattern: re.Pattern[str]) -> str:
        if not isinstance(value, str) or not pattern.match(value):
            self.add(where, f"id {value!r} must match {pattern.pattern}")
            return str(value)
        return value

    def table_list(self, where: str, value: Any) -> list[dict[str, Any]]:
        if value is None:
            self.add(where, "missing")
            return []
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.add(where, "must be a list of tables")
            return []
        return value

    def known(self, where: str, entry: dict[str, Any], table: str) -> None:
        for key in entry:
            if key not in FIELDS[table]:
                self.add(where, f"unknown field {key!r} (known: {', '.join(FIELDS[table])})")

    def words(self, where: str, value: str) -> None:
        # A label or pole must carry its meaning itself; an emoji or arrow alone is read differently by each reader.
        if value and not any(ch.isalpha() for ch in value):
            self.add(where, "must say its meaning in words, not only symbols")


def where(kind: str, index: int, entry: dict[str, Any]) -> str:
    ident = entry.get("id", entry.get("value"))
    return f"{kind}[{index}]" + (f" ({ident!r})" if ident is not None else "")
