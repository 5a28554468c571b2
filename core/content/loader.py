"""Load and validate a content pack (TOML), reporting every problem at once."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from core.models import Article, ContentPack, Option, Prompt, Section

DEFAULT_PACK = "default.toml"

# Our own ceiling, below Slack's 75 and Discord's 80 characters, so a label renders whole on both.
LABEL_MAX = 40
QUESTION_MAX = 240
SUMMARY_MAX = 1000
KEY_POINT_MAX = 200
CONTEXT_MAX = 150
MEANING_MAX = 120
MIN_PROMPTS = 18
SECTION_ID = re.compile(r"^[a-z][a-z0-9-]{0,23}$")
PROMPT_ID = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
OPTION_ID = SECTION_ID
SCALE_VALUES = (-2, -1, 0, 1, 2)


class ContentError(Exception):
    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: {len(problems)} problem(s): " + "; ".join(problems))


@dataclass
class _Checker:
    problems: list[str]

    def text(self, where: str, value: Any, limit: int, *, required: bool = True) -> str:
        if value is None or value == "":
            if required:
                self.problems.append(f"{where}: missing or empty")
            return ""
        if not isinstance(value, str):
            self.problems.append(f"{where}: must be text, got {type(value).__name__}")
            return ""
        value = value.strip()
        if required and not value:
            self.problems.append(f"{where}: empty")
        if len(value) > limit:
            self.problems.append(f"{where}: {len(value)} characters, the limit is {limit}")
        return value

    def ident(self, where: str, value: Any, pattern: re.Pattern[str]) -> str:
        if not isinstance(value, str) or not pattern.match(value):
            self.problems.append(f"{where}: id {value!r} must match {pattern.pattern}")
            return str(value)
        return value

    def table_list(self, where: str, value: Any) -> list[dict[str, Any]]:
        if value is None:
            self.problems.append(f"{where}: missing")
            return []
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.problems.append(f"{where}: must be a list of tables")
            return []
        return value


def _where(kind: str, index: int, entry: dict[str, Any]) -> str:
    ident = entry.get("id", entry.get("value"))
    return f"{kind}[{index}]" + (f" ({ident!r})" if ident is not None else "")


def _label_problem(label: str) -> str | None:
    if "\n" in label:
        return "must be one line"
    return None


def parse_pack(data: dict[str, Any], source: str = "<pack>") -> ContentPack:
    """Turn parsed TOML into a ContentPack, or raise ContentError listing every problem found."""
    check = _Checker([])
    article = _parse_article(check, data.get("article"))
    sections = _parse_sections(check, data.get("sections"))
    scale = _parse_scale(check, data.get("scale"))
    prompts = _parse_prompts(check, data.get("prompts"), {s.id for s in sections}, scale)
    headed = [s.id for s in sections if s.id not in ("intro", "conclusion")]
    covered = {p.section_id for p in prompts}
    for section_id in headed:
        if section_id not in covered:
            check.problems.append(f"sections ({section_id!r}): no prompt covers this section")
    if check.problems or article is None:
        raise ContentError(source, check.problems)
    return ContentPack(article=article, sections=tuple(sections), scale=tuple(scale), prompts=tuple(prompts))


def _parse_article(check: _Checker, raw: Any) -> Article | None:
    if not isinstance(raw, dict):
        check.problems.append("article: missing [article] table")
        return None
    title = check.text("article.title", raw.get("title"), 200)
    publisher = check.text("article.publisher", raw.get("publisher"), 200)
    copyright_line = check.text("article.copyright", raw.get("copyright"), 200, required=False)
    source_url = check.text("article.source_url", raw.get("source_url"), 500, required=False)
    if source_url and not source_url.startswith(("https://", "http://")):
        check.problems.append("article.source_url: must start with https:// or http://")
    published = raw.get("date")
    if not isinstance(published, date):
        check.problems.append("article.date: must be a TOML date like 2021-07-15")
        published = date(1970, 1, 1)
    refs_raw = raw.get("references", [])
    references: list[str] = []
    if not isinstance(refs_raw, list) or not 1 <= len(refs_raw) <= 10:
        check.problems.append("article.references: must be a list of 1 to 10 entries")
    else:
        for i, ref in enumerate(refs_raw):
            references.append(check.text(f"article.references[{i}]", ref, 400))
    return Article(
        title=title,
        date=published,
        publisher=publisher,
        copyright=copyright_line,
        source_url=source_url or None,
        references=tuple(references),
    )


def _parse_sections(check: _Checker, raw: Any) -> list[Section]:
    entries = check.table_list("sections", raw)
    if raw is not None and not 2 <= len(entries) <= 10:
        check.problems.append(f"sections: {len(entries)} given, expected 2 to 10")
    sections: list[Section] = []
    seen: set[str] = set()
    for i, entry in enumerate(entries):
        where = _where("sections", i, entry)
        sid = check.ident(f"{where}.id", entry.get("id"), SECTION_ID)
        if sid in seen:
            check.problems.append(f"{where}.id: duplicate id {sid!r}")
        seen.add(sid)
        points_raw = entry.get("key_points")
        points: list[str] = []
        if not isinstance(points_raw, list) or not 2 <= len(points_raw) <= 4:
            check.problems.append(f"{where}.key_points: must be a list of 2 to 4 points")
        else:
            points = [check.text(f"{where}.key_points[{j}]", p, KEY_POINT_MAX) for j, p in enumerate(points_raw)]
        sections.append(
            Section(
                id=sid,
                title=check.text(f"{where}.title", entry.get("title"), 100),
                summary=check.text(f"{where}.summary", entry.get("summary"), SUMMARY_MAX),
                key_points=tuple(points),
                context=check.text(f"{where}.context", entry.get("context"), CONTEXT_MAX),
            )
        )
    return sections


def _parse_label(check: _Checker, where: str, value: Any) -> str:
    label = check.text(f"{where}.label", value, LABEL_MAX)
    problem = _label_problem(label)
    if problem:
        check.problems.append(f"{where}.label: {problem}")
    return label


def _parse_scale(check: _Checker, raw: Any) -> list[Option]:
    entries = check.table_list("scale", raw)
    values = [e.get("value") for e in entries]
    if raw is not None and sorted(v for v in values if isinstance(v, int)) != list(SCALE_VALUES):
        check.problems.append(f"scale: needs exactly the values -2, -1, 0, 1, 2 once each, got {values}")
    scale: list[Option] = []
    for i, entry in enumerate(entries):
        where = _where("scale", i, entry)
        value = entry.get("value")
        if not isinstance(value, int) or isinstance(value, bool):
            continue
        scale.append(
            Option(
                id=str(value),
                label=_parse_label(check, where, entry.get("label")),
                emoji=check.text(f"{where}.emoji", entry.get("emoji"), 16),
                meaning=check.text(f"{where}.meaning", entry.get("meaning"), MEANING_MAX),
                lean=value,
            )
        )
    scale.sort(key=lambda o: o.lean or 0)
    return scale


def _parse_prompts(
    check: _Checker, raw: Any, section_ids: set[str], scale: list[Option]
) -> list[Prompt]:
    entries = check.table_list("prompts", raw)
    if raw is not None and len(entries) < MIN_PROMPTS:
        check.problems.append(f"prompts: {len(entries)} given, at least {MIN_PROMPTS} are needed")
    prompts: list[Prompt] = []
    seen: set[str] = set()
    for i, entry in enumerate(entries):
        where = _where("prompts", i, entry)
        pid = check.ident(f"{where}.id", entry.get("id"), PROMPT_ID)
        if pid in seen:
            check.problems.append(f"{where}.id: duplicate id {pid!r}")
        seen.add(pid)
        section_id = entry.get("section")
        if section_id not in section_ids:
            check.problems.append(f"{where}.section: unknown section {section_id!r}")
        question = check.text(f"{where}.question", entry.get("question"), QUESTION_MAX)
        follow_up = check.text(f"{where}.follow_up", entry.get("follow_up"), QUESTION_MAX, required=False)
        options_raw = entry.get("options")
        if options_raw is None:
            options, uses_scale = tuple(scale), True
        else:
            options, uses_scale = _parse_options(check, where, options_raw), False
        prompts.append(
            Prompt(
                id=pid,
                section_id=str(section_id),
                question=question,
                options=options,
                uses_scale=uses_scale,
                follow_up=follow_up or None,
            )
        )
    return prompts


def _parse_options(check: _Checker, where: str, raw: Any) -> tuple[Option, ...]:
    if not isinstance(raw, list) or not all(isinstance(o, dict) for o in raw):
        check.problems.append(f"{where}.options: must be a list of tables")
        return ()
    if not 2 <= len(raw) <= 5:
        check.problems.append(f"{where}.options: {len(raw)} given, expected 2 to 5")
    options: list[Option] = []
    seen: set[str] = set()
    for j, entry in enumerate(raw):
        owhere = f"{where}.options[{j}]"
        oid = check.ident(f"{owhere}.id", entry.get("id"), OPTION_ID)
        if oid in seen:
            check.problems.append(f"{owhere}.id: duplicate option id {oid!r}")
        seen.add(oid)
        options.append(
            Option(
                id=oid,
                label=_parse_label(check, owhere, entry.get("label")),
                emoji=check.text(f"{owhere}.emoji", entry.get("emoji"), 16, required=False),
            )
        )
    return tuple(options)


def load_pack(path: str | Path | None = None) -> ContentPack:
    """Load the pack at `path`, or the default pack shipped with the core."""
    if path is None:
        source = f"core/content/{DEFAULT_PACK}"
        text = resources.files("core.content").joinpath(DEFAULT_PACK).read_text(encoding="utf-8")
    else:
        source = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ContentError(source, [f"cannot read the file: {exc.strerror or exc}"]) from exc
        except UnicodeDecodeError as exc:
            raise ContentError(source, [f"not UTF-8 text: {exc.reason}"]) from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ContentError(source, [f"not valid TOML: {exc}"]) from exc
    return parse_pack(data, source)
