"""The packs that ship (default and example) and the pack documentation: direction, balance, icons, order,
facts, the example pack under `content check`, and the doc naming every field the loader reads."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import tomllib
from datetime import date
from fnmatch import fnmatch
from pathlib import Path

import pytest

from core.content import load_pack, parse_pack
from core.content.fields import FIELDS
from core.models import Axis, ContentPack, Prompt

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "core/content/examples/homework.toml"
DOC = ROOT / "docs/content-pack.md"
PACKS = {"default": None, "homework": EXAMPLE}

# Direction of every scale prompt, reviewed by reading the question with its low_means/high_means and checking
# that -2 is the `low` side of THAT question (default pack: more powers, more data kept, less disclosure) and +2
# the `high` side. The hash pins the reviewed wording: any change to a scale question or its two ends, or a new
# scale prompt, fails here until someone reads it again and updates the entry.
REVIEWED_DIRECTION = {
    "default": {
        "first-instinct": "8da6ee070da1",
        "find-wanted-people": "7ca70e536021",
        "predictive-patrols": "d653ccb83bac",
        "data-sources": "8f2fcf9cbfa8",
        "camera-networks": "9b8d08b737ec",
        "wrongful-match-risk": "b3defb0fe40f",
        "predictive-feedback-loop": "331ff4777d5c",
        "biased-training-data": "d884bb1be2e7",
        "data-retention": "8581f5a6afc2",
        "chilling-effect": "d529aa85954a",
        "testing-before-use": "5abeec79e3d5",
        "serious-cases": "0e026aac55ef",
        "serve-society": "f8c073c5ba88",
        "openness-about-tools": "b3bd549fc8b3",
        "final-stance": "47db59f38609",
    },
    "homework": {
        "first-instinct": "c3524ab870f1",
        "school-night-load": "0a58fbcd6499",
        "weekends": "8564da1ddb0a",
        "counts-for-marks": "47086cb6c923",
        "final-stance": "bc30765c518c",
    },
}

# Icons that pass a verdict on an answer rather than illustrate it.
JUDGING_ICONS = ("😈", "😇", "✅", "❌", "✔", "✖", "👍", "👎", "💯", "🤡", "💩", "😡", "😀", "🙂", "☹", "🏆", "⭐")
ARROWS = re.compile("[\u2190-\u21ff\u27f0-\u27ff\u2900-\u297f\u2b00-\u2bff]")


def pack(name: str) -> ContentPack:
    return load_pack(PACKS[name])


def reviewed_hash(prompt: Prompt) -> str:
    return hashlib.sha256("\n".join((prompt.question, prompt.low_means, prompt.high_means)).encode()).hexdigest()[:12]


@pytest.mark.parametrize("name", PACKS)
def test_every_scale_prompt_says_what_each_end_means_and_was_reviewed_for_direction(name: str) -> None:
    scale_prompts = [p for p in pack(name).prompts if p.uses_scale]
    assert all(p.low_means and p.high_means and p.low_means != p.high_means for p in scale_prompts), \
        [p.id for p in scale_prompts if not (p.low_means and p.high_means)]
    got = {p.id: reviewed_hash(p) for p in scale_prompts}
    changed = {pid: h for pid, h in got.items() if REVIEWED_DIRECTION[name].get(pid) != h}
    assert not changed and set(got) == set(REVIEWED_DIRECTION[name]), (
        f"re-read these scale prompts: is -2 still the {pack(name).axis.low} side of the question? then record "
        f"their new hashes: {changed}")


@pytest.mark.parametrize("name", PACKS)
def test_the_scale_ends_are_named_after_the_poles(name: str) -> None:
    content = pack(name)
    by_value = {o.lean: o for o in content.scale}
    assert content.axis.low.casefold() in by_value[-2].label.casefold()
    assert content.axis.high.casefold() in by_value[2].label.casefold()
    assert content.axis.low.casefold() in by_value[-1].label.casefold()
    assert content.axis.high.casefold() in by_value[1].label.casefold()


@pytest.mark.parametrize("name", PACKS)
def test_own_options_that_lean_are_balanced_and_run_from_low_to_high(name: str) -> None:
    leaning = [p for p in pack(name).prompts if not p.uses_scale and any(o.lean is not None for o in p.options)]
    assert leaning
    for prompt in leaning:
        leans = [o.lean for o in prompt.options]
        assert None not in leans, prompt.id
        assert sum(1 for v in leans if v < 0) == sum(1 for v in leans if v > 0), prompt.id
        assert leans == sorted(leans), prompt.id


def test_default_pack_gives_leans_where_the_answers_are_positions_on_the_axis() -> None:
    leaning = {p.id for p in pack("default").prompts if any(o.lean is not None for o in p.options)}
    assert {"live-face-scan", "social-media-line", "camera-alert-review", "accuracy-gap", "tell-the-person",
            "is-balance-possible"} <= leaning


@pytest.mark.parametrize("name", PACKS)
def test_icons_pass_no_verdict_and_labels_carry_the_meaning(name: str) -> None:
    content = pack(name)
    for option in [*content.scale, *(o for p in content.prompts for o in p.options)]:
        assert not any(icon in option.emoji or icon in option.label for icon in JUDGING_ICONS), option
        assert not ARROWS.search(option.label), option
        assert sum(ch.isalpha() for ch in option.label) >= 3, option


@pytest.mark.parametrize("name", PACKS)
def test_the_closing_stance_prompt_comes_last(name: str) -> None:
    # The closing prompt is the conclusion section's scale question ("where do you stand now?"); the
    # conclusion's other prompts have their own options.
    content = pack(name)
    closing = [p for p in content.prompts if p.section_id == "conclusion" and p.uses_scale]
    assert len(closing) == 1
    assert content.prompts[-1] == closing[0]


@pytest.mark.parametrize("name", PACKS)
def test_prompts_follow_the_section_order(name: str) -> None:
    content = pack(name)
    order = [s.id for s in content.sections]
    positions = [order.index(p.section_id) for p in content.prompts]
    assert positions == sorted(positions)


def test_default_pack_keeps_the_articles_facts_and_axis() -> None:
    content = pack("default")
    article = content.article
    assert article.title == "AI in Law Enforcement: Security vs Privacy"
    assert article.date == date(2021, 7, 15) and article.publisher == "Flare Compare"
    assert article.copyright == "© 2023 Flare Compare"
    assert article.references == (
        'Ryan Abbott, "Bias, robotics, and the future of law enforcement," Jurimetrics, vol. 59, no. 3, '
        "pp. 269-286, 2019, doi: 10.1111/jmcb.12536.",
        'R. Singh, S. Singh and S. Sharma, "A critical evaluation of facial recognition methods used in law '
        'enforcement agencies," Proceedings of the International Conference on Sensing, Signal Processing, and '
        "Security (ICSSS 2018), Springer Proceedings in Physics, 2019, doi: 10.1007/978-981-15-0247-5_1.",
        "Office of the Privacy Commissioner of Canada (2014). Law Enforcement and Privacy. Retrieved 12 July 2021.",
        "MakeUseOf (2019). Seven Pros and Cons of AI in Law Enforcement. Retrieved 12 July 2021.",
    )
    assert [s.title for s in content.sections] == [
        "Introduction", "AI-based Security Measures", "Privacy Concerns", "Balancing Security and Privacy",
        "Conclusion"]
    assert content.topic == "AI in law enforcement" and content.axis == Axis("security", "privacy")


# --- the example pack ---

def test_example_pack_passes_content_check_in_a_child_process(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "SLACK_"))}
    proc = subprocess.run([sys.executable, "-m", "bots.cli", "content", "check", str(EXAMPLE)], capture_output=True,
                          text=True, cwd=tmp_path, env=env, timeout=60, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    assert f"{EXAMPLE}: ok - 5 sections, 8 prompts (5 on the scale, 3 with their own options)" in proc.stdout


def test_example_pack_is_on_another_topic_with_both_kinds_of_prompt() -> None:
    content = pack("homework")
    assert content.topic == "homework" and content.axis == Axis("practice", "free time")
    assert 6 <= len(content.prompts) <= 10
    assert any(p.uses_scale for p in content.prompts) and any(not p.uses_scale for p in content.prompts)


def test_every_shipped_pack_is_package_data() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["core.content"]
    shipped = sorted((ROOT / "core/content").rglob("*.toml"))
    assert EXAMPLE in shipped
    for path in shipped:
        relative = path.relative_to(ROOT / "core/content").as_posix()
        # setuptools globs do not cross directories with "*", so compare segment counts too.
        assert any(fnmatch(relative, p) and relative.count("/") == p.count("/") for p in patterns), relative


# --- the documentation ---

def test_the_doc_names_every_field_the_loader_reads() -> None:
    doc = DOC.read_text(encoding="utf-8")
    # A table is named as TOML writes it (`[axis]`, `[[prompts]]`), a field as itself (`low_means`).
    named = {name for name in re.findall(r"`\[{0,2}([a-z_]+)\]{0,2}`", doc)}
    missing = [f"{table}.{name}" for table, names in FIELDS.items() for name in names if name not in named]
    assert not missing
    for command in ("counterpoint content check", "CONTENT_PACK="):
        assert command in doc


def test_the_docs_complete_example_loads() -> None:
    blocks = re.findall(r"```toml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    complete = [b for b in blocks if "[article]" in b]
    assert len(complete) == 1
    content = parse_pack(tomllib.loads(complete[0]), "docs/content-pack.md")
    assert content.axis == Axis("uniform", "own clothes") and len(content.prompts) == 1
    fragment = next(b for b in blocks if b.startswith("options = ["))
    options = tomllib.loads(fragment)["options"]
    assert {o["id"] for o in options} == {"daily-routine", "no-work"}
