"""Load and validate a content pack (TOML), reporting every problem at once, one line each."""

from __future__ import annotations

import tomllib
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from core.content.fields import (
    CONTEXT_MAX,
    KEY_POINT_MAX,
    LABEL_MAX,
    MAX_PROMPTS,
    MEANING_MAX,
    MIN_PROMPTS,
    OPTION_ID,
    POLE_MAX,
    POLE_MEANS_MAX,
    PROMPT_ID,
    QUESTION_MAX,
    RESERVED_PREFIX,
    SCALE_VALUES,
    SCHEMA,
    SECTION_ID,
    SUMMARY_MAX,
    TOPIC_MAX,
    UNHEADED,
    Checker,
    where,
)
from core.models import Article, Axis, ContentPack, Option, Prompt, Section

DEFAULT_PACK = "default.toml"


class ContentError(Exception):
    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        noun = "problem" if len(problems) == 1 else "problems"
        super().__init__(f"{source}: {len(problems)} {noun}: " + "; ".join(problems))


def parse_pack(data: dict[str, Any], source: str = "<pack>") -> ContentPack:
    """Turn parsed TOML into a ContentPack, or raise ContentError listing every problem found."""
    check = Checker([])
    check.known("pack", data, "top")
    schema = data.get("schema", SCHEMA)
    if schema != SCHEMA:
        check.add("schema", f"{schema!r} is not a schema this version reads (expected {SCHEMA})")
    topic = check.text("topic", data.get("topic"), TOPIC_MAX, required=False, one_line=True)
    axis = _parse_axis(check, data.get("axis"))
    article = _parse_article(check, data.get("article"))
    sections = _parse_sections(check, data.get("sections"))
    scale = _parse_scale(check, data.get("scale"))
    prompts = _parse_prompts(check, data.get("prompts"), {s.id for s in sections}, scale, axis)
    _check_coverage(check, sections, prompts)
    if check.problems or article is None:
        raise ContentError(source, check.problems)
    return ContentPack(article=article, sections=tuple(sections), scale=tuple(scale), prompts=tuple(prompts),
                       topic=topic or ContentPack.topic, axis=axis)


def _check_coverage(check: Checker, sections: list[Section], prompts: list[Prompt]) -> None:
    # A section no prompt covers is one the debate never reaches, so a deck big enough to cover every
    # headed section must. A smaller deck (a one-question pack) cannot, and that is allowed.
    headed = [s.id for s in sections if s.id not in UNHEADED]
    if len(prompts) < len(headed):
        return
    covered = {p.section_id for p in prompts}
    for section_id in headed:
        if section_id not in covered:
            check.add(f"sections ({section_id!r})", "no prompt covers this section")


def _parse_axis(check: Checker, raw: Any) -> Axis:
    if raw is None:
        return Axis()
    if not isinstance(raw, dict):
        check.add("axis", "must be a table with low and high")
        return Axis()
    check.known("axis", raw, "axis")
    poles = {}
    for name in ("low", "high"):
        value = check.text(f"axis.{name}", raw.get(name), POLE_MAX, one_line=True)
        check.words(f"axis.{name}", value)
        poles[name] = value
    if poles["low"] and poles["low"].casefold() == poles["high"].casefold():
        check.add("axis.high", f"must differ from axis.low (both are {poles['low']!r})")
    return Axis(low=poles["low"], high=poles["high"])


def _parse_article(check: Checker, raw: Any) -> Article | None:
    if not isinstance(raw, dict):
        check.add("article", "missing [article] table")
        return None
    check.known("article", raw, "article")
    title = check.text("article.title", raw.get("title"), 200)
    publisher = check.text("article.publisher", raw.get("publisher"), 200)
    copyright_line = check.text("article.copyright", raw.get("copyright"), 200, required=False)
    source_url = check.text("article.source_url", raw.get("source_url"), 500, required=False)
    if source_url and not source_url.startswith(("https://", "http://")):
        check.add("article.source_url", "must start with https:// or http://")
    published = raw.get("date")
    if not isinstance(published, date):
        check.add("article.date", "must be a TOML date like 2021-07-15")
        published = date(1970, 1, 1)
    refs_raw = raw.get("references", [])
    references: list[str] = []
    if not isinstance(refs_raw, list) or not 1 <= len(refs_raw) <= 10:
        check.add("article.references", "must be a list of 1 to 10 entries")
    else:
        for i, ref in enumerate(refs_raw):
            references.append(check.text(f"article.references[{i}]", ref, 400))
    return Article(title=title, date=published, publisher=publisher, copyright=copyright_line,
                   source_url=source_url or None, references=tuple(references))


def _parse_sections(check: Checker, raw: Any) -> list[Section]:
    entries = check.table_list("sections", raw)
    if raw is not None and not 2 <= len(entries) <= 10:
        check.add("sections", f"{len(entries)} given, expected 2 to 10")
    sections: list[Section] = []
    seen: set[str] = set()
    for i, entry in enumerate(entries):
        at = where("sections", i, entry)
        check.known(at, entry, "sections")
        sid = check.ident(f"{at}.id", entry.get("id"), SECTION_ID)
        if sid in seen:
            check.add(f"{at}.id", f"duplicate id {sid!r}")
        seen.add(sid)
        points_raw = entry.get("key_points")
        points: list[str] = []
        if not isinstance(points_raw, list) or not 2 <= len(points_raw) <= 4:
            check.add(f"{at}.key_points", "must be a list of 2 to 4 points")
        else:
            points = [check.text(f"{at}.key_points[{j}]", p, KEY_POINT_MAX) for j, p in enumerate(points_raw)]
        sections.append(Section(
            id=sid,
            title=check.text(f"{at}.title", entry.get("title"), 100, one_line=True),
            summary=check.text(f"{at}.summary", entry.get("summary"), SUMMARY_MAX),
            key_points=tuple(points),
            context=check.text(f"{at}.context", entry.get("context"), CONTEXT_MAX),
        ))
    return sections


def _parse_label(check: Checker, at: str, value: Any) -> str:
    label = check.text(f"{at}.label", value, LABEL_MAX, one_line=True)
    check.words(f"{at}.label", label)
    return label


def _parse_scale(check: Checker, raw: Any) -> list[Option]:
    entries = check.table_list("scale", raw)
    values = [e.get("value") for e in entries]
    if raw is not None and sorted(v for v in values if isinstance(v, int)) != list(SCALE_VALUES):
        check.add("scale", f"needs exactly the values -2, -1, 0, 1, 2 once each, got {values}")
    scale: list[Option] = []
    for i, entry in enumerate(entries):
        at = where("scale", i, entry)
        check.known(at, entry, "scale")
        value = entry.get("value")
        if not isinstance(value, int) or isinstance(value, bool):
            continue
        scale.append(Option(
            id=str(value),
            label=_parse_label(check, at, entry.get("label")),
            emoji=check.text(f"{at}.emoji", entry.get("emoji"), 16),
            meaning=check.text(f"{at}.meaning", entry.get("meaning"), MEANING_MAX),
            lean=value,
        ))
    scale.sort(key=lambda o: o.lean or 0)
    return scale


def _parse_prompts(check: Checker, raw: Any, section_ids: set[str], scale: list[Option], axis: Axis) -> list[Prompt]:
    entries = check.table_list("prompts", raw)
    if raw is not None and not MIN_PROMPTS <= len(entries) <= MAX_PROMPTS:
        check.add("prompts", f"{len(entries)} given, expected {MIN_PROMPTS} to {MAX_PROMPTS}")
    prompts: list[Prompt] = []
    seen: set[str] = set()
    for i, entry in enumerate(entries):
        at = where("prompts", i, entry)
        check.known(at, entry, "prompts")
        pid = check.ident(f"{at}.id", entry.get("id"), PROMPT_ID)
        if pid.startswith(RESERVED_PREFIX):
            check.add(f"{at}.id", f"ids starting with {RESERVED_PREFIX!r} are kept for questions typed in chat")
        if pid in seen:
            check.add(f"{at}.id", f"duplicate id {pid!r}")
        seen.add(pid)
        section_id = entry.get("section")
        if section_id not in section_ids:
            check.add(f"{at}.section", f"unknown section {section_id!r}")
        question = check.text(f"{at}.question", entry.get("question"), QUESTION_MAX)
        follow_up = check.text(f"{at}.follow_up", entry.get("follow_up"), QUESTION_MAX, required=False)
        means = [check.text(f"{at}.{name}", entry.get(name), POLE_MEANS_MAX, required=False, one_line=True)
                 for name in ("low_means", "high_means")]
        options_raw = entry.get("options")
        if options_raw is None:
            options, uses_scale = tuple(scale), True
            if bool(means[0]) != bool(means[1]):
                missing = "high_means" if means[0] else "low_means"
                check.add(f"{at}.{missing}", "give low_means and high_means together, or neither")
        else:
            options, uses_scale = _parse_options(check, at, options_raw, axis), False
            for name, value in zip(("low_means", "high_means"), means, strict=True):
                if value:
                    check.add(f"{at}.{name}", "only scale prompts take it; give each option a lean instead")
        prompts.append(Prompt(id=pid, section_id=str(section_id), question=question, options=options,
                              uses_scale=uses_scale, follow_up=follow_up or None,
                              low_means=means[0], high_means=means[1]))
    return prompts


def _parse_options(check: Checker, at: str, raw: Any, axis: Axis) -> tuple[Option, ...]:
    if not isinstance(raw, list) or not all(isinstance(o, dict) for o in raw):
        check.add(f"{at}.options", "must be a list of tables")
        return ()
    if not 2 <= len(raw) <= 5:
        check.add(f"{at}.options", f"{len(raw)} given, expected 2 to 5")
    options: list[Option] = []
    seen: set[str] = set()
    for j, entry in enumerate(raw):
        owhere = f"{at}.options[{j}]"
        check.known(owhere, entry, "options")
        oid = check.ident(f"{owhere}.id", entry.get("id"), OPTION_ID)
        if oid in seen:
            check.add(f"{owhere}.id", f"duplicate option id {oid!r}")
        seen.add(oid)
        options.append(Option(
            id=oid,
            label=_parse_label(check, owhere, entry.get("label")),
            emoji=check.text(f"{owhere}.emoji", entry.get("emoji"), 16, required=False),
            lean=_parse_lean(check, owhere, entry.get("lean")),
        ))
    _check_leans(check, at, raw, options, axis)
    return tuple(options)


def _parse_lean(check: Checker, owhere: str, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or value not in SCALE_VALUES:
        check.add(f"{owhere}.lean", f"{value!r} is not one of -2, -1, 0, 1, 2")
        return None
    return int(value)


def _check_leans(check: Checker, at: str, raw: list[dict[str, Any]], options: list[Option], axis: Axis) -> None:
    given = sum(1 for entry in raw if "lean" in entry)
    if not given:
        return
    if given != len(raw):
        check.add(f"{at}.options", f"{given} of {len(raw)} options have a lean; give every option one, or none")
        return
    # A deck that offers more ways to lean one way than the other tilts the result before anyone votes.
    low = sum(1 for o in options if o.lean is not None and o.lean < 0)
    high = sum(1 for o in options if o.lean is not None and o.lean > 0)
    if low != high:
        check.add(f"{at}.options", f"leans are uneven: {low} toward {axis.low or 'low'}, {high} toward "
                                   f"{axis.high or 'high'}; offer as many options on each side")


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
