"""Small pure pieces: payloads, text fitting, settings, core's independence (content pack: test_content_*)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from core.actions import Action, ActionError, ActionKind, decode
from core.settings import SettingsError, load_settings
from core.text import clip

ROOT = Path(__file__).resolve().parent.parent


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


