"""Small pure pieces: payloads, text fitting, settings, the content pack, core's independence."""

from __future__ import annotations

import ast
import copy
import tomllib
from pathlib import Path

import pytest

from core.actions import Action, ActionError, ActionKind, decode
from core.content import ContentError, parse_pack
from core.settings import SettingsError, load_settings
from core.text import clip

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = tomllib.loads((ROOT / "core/content/default.toml").read_text(encoding="utf-8"))


def test_core_never_imports_platform_libraries() -> None:
    offenders = []
    for path in (ROOT / "core").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path}: {n}" for n in names
                          if n.split(".")[0] in ("discord", "slack_bolt", "slack_sdk", "bots")]
    assert offenders == []


@pytest.mark.parametrize("action", [
    Action(ActionKind.VOTE, poll_id=12, option_id="-2"),
    Action(ActionKind.RETRACT, poll_id=7),
    Action(ActionKind.SECTION, section_id="privacy"),
    Action(ActionKind.FORGET),
    Action(ActionKind.CANCEL),
])
def test_payloads_round_trip(action: Action) -> None:
    assert decode(action.encode()) == action
    assert len(action.encode()) <= 100


@pytest.mark.parametrize("payload", ["", "cp1", "cp2:vote:1:1", "cp1:vote:1", "cp1:vote:-1:1", "cp1:vote:1:a b",
                                     "cp1:section:../x", "x" * 101, "cp1:forget:now"])
def test_bad_payloads_are_refused(payload: str) -> None:
    with pytest.raises(ActionError):
        decode(payload)


def test_clip() -> None:
    assert clip("short", 10) == "short"
    cut = clip("a fairly long sentence that goes on", 20)
    assert len(cut) <= 20 and cut.endswith("…")
    assert clip("x" * 50, 10) == "x" * 9 + "…"
    assert clip("anything", 1) == "…" and clip("anything", 0) == ""


def test_settings_defaults_and_checks(tmp_path: Path) -> None:
    s = load_settings({}, dotenv=None)
    assert s.sqlite_path == "counterpoint.db" and s.min_votes == 3 and s.retention_days == 180
    assert not s.discord_configured and not s.slack_configured
    bad = [
        {"TIMEZONE": "Not/AZone"}, {"RESULTS_MIN_VOTES": "0"}, {"DATABASE_URL": "postgresql://db"},
        {"SQLITE_SYNCHRONOUS": "OFF"}, {"SLACK_MODE": "carrier-pigeon"},
        {"SLACK_SIGNING_SECRET": "", "SLACK_BOT_TOKEN": "xoxb-1"},  # HTTP mode needs the secret
        {"SLACK_MODE": "socket", "SLACK_BOT_TOKEN": "xoxb-1"}, {"DISCORD_DEV_GUILD": "abc"},
        {"DISCORD_CLIENT_ID": "my-app"},
        {"SLACK_API_URL": "ftp://x"}, {"POLL_DURATION_HOURS": "-1"}, {"COUNTERPOINT_SECRET": "short"},
        {"CONTENT_PACK": str(tmp_path / "missing.toml")},
    ]
    for env in bad:
        with pytest.raises(SettingsError) as info:
            load_settings(env, dotenv=None)
        assert next(iter(env)) in str(info.value) and "\n" not in str(info.value)
    slack = load_settings({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1",
                           "SLACK_ADMIN_USERS": "U1, U2,"}, dotenv=None)
    assert slack.slack_configured and slack.slack_admin_users == {"U1", "U2"}


def test_default_pack_is_valid_and_complete() -> None:
    pack = parse_pack(copy.deepcopy(DEFAULT))
    assert len(pack.prompts) >= 18
    assert [o.lean for o in pack.scale] == [-2, -1, 0, 1, 2]
    assert {"security", "privacy", "balance"} <= {p.section_id for p in pack.prompts}
    assert all(len(o.label) <= 40 for p in pack.prompts for o in p.options)
    assert all(2 <= len(s.key_points) <= 4 and len(s.summary) <= 1000 for s in pack.sections)


def test_pack_problems_are_all_reported_with_entry_and_field() -> None:
    data = copy.deepcopy(DEFAULT)
    data["prompts"][1]["id"] = data["prompts"][0]["id"]
    data["prompts"][2]["section"] = "nowhere"
    data["prompts"][3]["question"] = ""
    data["prompts"][4]["options"] = [{"id": "only", "label": "Just one"}]
    data["prompts"][5]["options"] = [{"id": f"o{i}", "label": f"Option {i}"} for i in range(6)]
    data["scale"][0]["label"] = "L" * 41
    with pytest.raises(ContentError) as info:
        parse_pack(data, "pack.toml")
    problems = "\n".join(info.value.problems)
    pid = DEFAULT["prompts"][0]["id"]
    assert f"prompts[1] ('{pid}').id: duplicate id '{pid}'" in problems
    assert "section: unknown section 'nowhere'" in problems
    assert "question: missing or empty" in problems
    assert "options: 1 given, expected 2 to 5" in problems
    assert "options: 6 given, expected 2 to 5" in problems
    assert "scale[0] (-2).label: 41 characters, the limit is 40" in problems
    assert len(info.value.problems) == 6


def test_pack_with_too_few_prompts_or_missing_tables() -> None:
    with pytest.raises(ContentError) as info:
        parse_pack({"article": DEFAULT["article"], "sections": DEFAULT["sections"], "scale": DEFAULT["scale"],
                    "prompts": DEFAULT["prompts"][:3]})
    assert any("at least 18 are needed" in p for p in info.value.problems)
    with pytest.raises(ContentError) as info:
        parse_pack({})
    assert any("missing [article]" in p for p in info.value.problems)
