"""The content pack loader: limits, topic and axis, reserved ids, leans, and one-line problem messages."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

import pytest

from core.content import ContentError, load_pack, parse_pack
from core.models import CUSTOM_PROMPT_PREFIX, Axis

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = tomllib.loads((ROOT / "core/content/default.toml").read_text(encoding="utf-8"))


def base(prompts: list[dict[str, Any]] | None = None, **top: Any) -> dict[str, Any]:
    """The default pack's article, sections and scale around the given prompts."""
    data = {k: copy.deepcopy(v) for k, v in DEFAULT.items() if k not in ("prompts", "topic", "axis")}
    data["prompts"] = prompts if prompts is not None else copy.deepcopy(DEFAULT["prompts"])
    data.update(top)
    return data


def problems_of(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ContentError) as info:
        parse_pack(data, "pack.toml")
    return info.value.problems


def scale_prompt(pid: str, section: str = "security") -> dict[str, Any]:
    return {"id": pid, "section": section, "question": f"Question {pid}?"}


# --- moved from test_units.py, updated for the new limits ---

def test_default_pack_is_valid_and_complete() -> None:
    pack = parse_pack(copy.deepcopy(DEFAULT))
    assert [o.lean for o in pack.scale] == [-2, -1, 0, 1, 2]
    assert {"security", "privacy", "balance"} <= {p.section_id for p in pack.prompts}
    assert all(len(o.label) <= 40 for p in pack.prompts for o in p.options)
    assert all(2 <= len(s.key_points) <= 4 and len(s.summary) <= 1000 for s in pack.sections)


def test_pack_problems_are_all_reported_with_entry_and_field() -> None:
    data = copy.deepcopy(DEFAULT)
    data["prompts"][1]["id"] = data["prompts"][0]["id"]
    data["prompts"][2]["section"] = "nowhere"
    data["prompts"][3]["question"] = ""
    data["prompts"][6]["options"] = [{"id": "only", "label": "Just one"}]
    data["prompts"][5]["options"] = [{"id": f"o{i}", "label": f"Option {i}"} for i in range(6)]
    data["scale"][0]["label"] = "L" * 41
    problems = problems_of(data)
    text = "\n".join(problems)
    pid = DEFAULT["prompts"][0]["id"]
    assert f"prompts[1] ('{pid}').id: duplicate id '{pid}'" in text
    assert "section: unknown section 'nowhere'" in text
    assert "question: missing or empty" in text
    assert "options: 1 given, expected 2 to 5" in text
    assert "options: 6 given, expected 2 to 5" in text
    assert "scale[0] (-2).label: 41 characters, the limit is 40" in text
    assert len(problems) == 6, problems


def test_missing_tables_are_reported() -> None:
    problems = problems_of({})
    assert any("missing [article]" in p for p in problems)
    assert "prompts: missing" in problems and "scale: missing" in problems


# --- finding 1: one prompt or five hundred ---

def test_a_pack_may_hold_one_prompt() -> None:
    pack = parse_pack(base([scale_prompt("only-one")]))
    assert [p.id for p in pack.prompts] == ["only-one"]


def test_a_pack_may_hold_five_hundred_prompts_but_not_more() -> None:
    sections = ["intro", "security", "privacy", "balance", "conclusion"]
    deck = [scale_prompt(f"q{i}", sections[i % 5]) for i in range(500)]
    assert len(parse_pack(base(deck)).prompts) == 500
    problems = problems_of(base([*deck, scale_prompt("one-too-many")]))
    assert problems == ["prompts: 501 given, expected 1 to 500"]
    assert problems_of(base([])) == ["prompts: 0 given, expected 1 to 500"]


def test_section_coverage_applies_once_the_deck_can_cover_every_headed_section() -> None:
    # Three headed sections (security, privacy, balance): two prompts cannot cover them all, so no rule;
    # three prompts can, so leaving a section out is reported.
    parse_pack(base([scale_prompt("a"), scale_prompt("b")]))
    problems = problems_of(base([scale_prompt("a"), scale_prompt("b"), scale_prompt("c", "privacy")]))
    assert problems == ["sections ('balance'): no prompt covers this section"]


# --- finding 2: topic, axis, reserved ids ---

def test_topic_and_axis_are_read_and_default_to_todays_values() -> None:
    pack = parse_pack(base(topic="Homework", axis={"low": "practice", "high": "free time"}))
    assert pack.topic == "Homework" and pack.axis == Axis("practice", "free time")
    old = parse_pack(base())
    assert old.topic == "AI in law enforcement" and old.axis == Axis("security", "privacy")
    default = load_pack()
    assert default.topic == "AI in law enforcement" and default.axis == Axis("security", "privacy")


def test_topic_and_axis_limits() -> None:
    problems = problems_of(base(topic="T" * 81, axis={"low": "L" * 25, "high": "→"}))
    assert "topic: 81 characters, the limit is 80" in problems
    assert "axis.low: 25 characters, the limit is 24" in problems
    assert "axis.high: must say its meaning in words, not only symbols" in problems
    assert problems_of(base(axis={"low": "cars"})) == ["axis.high: missing or empty"]
    assert problems_of(base(axis={"low": "Cars", "high": "cars"})) == ["axis.high: must differ from axis.low "
                                                                        "(both are 'Cars')"]
    assert problems_of(base(axis="security")) == ["axis: must be a table with low and high"]


def test_prompt_ids_may_not_use_the_custom_prefix() -> None:
    pid = f"{CUSTOM_PROMPT_PREFIX}1"
    problems = problems_of(base([scale_prompt(pid)]))
    assert problems == [f"prompts[0] ('{pid}').id: ids starting with 'custom-' are kept for questions typed in chat"]


# --- leans on a prompt's own options, and low_means/high_means ---

def options_prompt(*leans: int | None) -> dict[str, Any]:
    options = []
    for i, lean in enumerate(leans):
        option: dict[str, Any] = {"id": f"o{i}", "label": f"Option {i}"}
        if lean is not None:
            option["lean"] = lean
        options.append(option)
    return {"id": "own", "section": "security", "question": "Which?", "options": options}


def test_option_leans_are_read_and_must_be_balanced_and_complete() -> None:
    pack = parse_pack(base([options_prompt(-2, 0, 2)]))
    assert [o.lean for o in pack.prompts[0].options] == [-2, 0, 2]
    assert [o.lean for o in parse_pack(base([options_prompt(None, None)])).prompts[0].options] == [None, None]
    assert problems_of(base([options_prompt(-2, -1, 2)])) == [
        "prompts[0] ('own').options: leans are uneven: 2 toward security, 1 toward privacy; "
        "offer as many options on each side"]
    assert problems_of(base([options_prompt(-1, None)])) == [
        "prompts[0] ('own').options: 1 of 2 options have a lean; give every option one, or none"]
    problems = problems_of(base([options_prompt(-3, 3)]))
    assert "prompts[0] ('own').options[0].lean: -3 is not one of -2, -1, 0, 1, 2" in problems


def test_low_and_high_means_belong_to_scale_prompts_and_come_together() -> None:
    prompt = scale_prompt("q") | {"low_means": "more powers", "high_means": "fewer powers"}
    parsed = parse_pack(base([prompt])).prompts[0]
    assert (parsed.low_means, parsed.high_means) == ("more powers", "fewer powers")
    assert problems_of(base([scale_prompt("q") | {"low_means": "more powers"}])) == [
        "prompts[0] ('q').high_means: give low_means and high_means together, or neither"]
    assert problems_of(base([options_prompt(-1, 1) | {"high_means": "x"}])) == [
        "prompts[0] ('own').high_means: only scale prompts take it; give each option a lean instead"]


def test_labels_must_carry_their_meaning_in_words() -> None:
    prompt = options_prompt(None, None)
    prompt["options"][0]["label"] = "⬆️ →"
    assert problems_of(base([prompt])) == [
        "prompts[0] ('own').options[0].label: must say its meaning in words, not only symbols"]


# --- finding 6: every problem is one line naming its entry and field ---

def test_unknown_fields_are_named_not_silently_dropped() -> None:
    data = base([scale_prompt("q") | {"folow_up": "typo"}], extra=1)
    data["article"]["subtitle"] = "x"
    problems = problems_of(data)
    assert "pack: unknown field 'extra' (known: schema, topic, axis, article, sections, scale, prompts)" in problems
    assert any(p.startswith("article: unknown field 'subtitle'") for p in problems)
    assert any(p.startswith("prompts[0] ('q'): unknown field 'folow_up'") for p in problems)
    assert problems_of(base(schema=2)) == ["schema: 2 is not a schema this version reads (expected 1)"]


BROKEN: list[tuple[str, Any]] = [
    ("topic", "multi\nline"),
    ("axis", {"low": "a\nb", "high": 3}),
    ("prompts", [{"id": "x", "section": "security", "question": "q", "options": [
        {"id": "a", "label": "two\nlines", "lean": True}, {"id": "a", "label": "", "emoji": 5}]}]),
    ("prompts", [{"id": "Bad Id\n", "section": None, "question": ["list"], "low_means": "a\nb"}]),
    ("scale", [{"value": -2, "label": "x\ny", "emoji": "", "meaning": 7}]),
    ("sections", [{"id": "s", "title": "t\nu", "key_points": "one"}]),
]


@pytest.mark.parametrize(("table", "value"), BROKEN)
def test_every_problem_is_one_line_that_names_entry_and_field(table: str, value: Any) -> None:
    data = base()
    data[table] = value
    problems = problems_of(data)
    assert problems
    known = ("pack", "schema", "topic", "axis", "article", "sections", "scale", "prompts")
    for problem in problems:
        assert "\n" not in problem, problem
        entry, _, message = problem.partition(": ")
        assert entry.split("[")[0].split(".")[0].split(" ")[0] in known and message, problem


def test_file_problems_are_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("topic = \n[[prompts]\n", encoding="utf-8")
    with pytest.raises(ContentError) as info:
        load_pack(bad)
    assert len(info.value.problems) == 1 and "\n" not in info.value.problems[0]
    assert info.value.problems[0].startswith("not valid TOML")
