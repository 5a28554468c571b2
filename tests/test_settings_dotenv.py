""".env read as python-dotenv reads it, swapped Slack tokens, the database path fixed once, HEALTH_PORT.

Findings: `.env` values kept their quotes' contents wrong and inline comments; an xapp- token in
SLACK_BOT_TOKEN passed validation; a relative DATABASE_URL followed the working directory.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from core.settings import SettingsError, load_settings, read_dotenv

LINES = [
    # (line in .env, value read) - each as python-dotenv reads it
    ('KEY="a # b"', "a # b"),
    ("KEY=a # comment", "a"),
    ("KEY=a#b", "a#b"),
    ("KEY='single # kept'", "single # kept"),
    ("KEY='no \\n escapes'", "no \\n escapes"),
    ('KEY="tab\\there"', "tab\there"),
    ('KEY="new\\nline"', "new\nline"),
    ('KEY="escaped \\"quote\\""', 'escaped "quote"'),
    ('KEY="back\\\\slash"', "back\\slash"),
    ('KEY="quoted" # then a comment', "quoted"),
    ("export KEY=exported", "exported"),
    ("  KEY  =  spaced  ", "spaced"),
    ("KEY=", ""),
    ("KEY= # only a comment", ""),
    ("KEY=''", ""),
    ("KEY=it's", "it's"),
    ('KEY=say "hi"', 'say "hi"'),
    ("KEY=a=b=c", "a=b=c"),
]


@pytest.mark.parametrize(("line", "value"), LINES)
def test_a_dotenv_line_reads_like_python_dotenv(tmp_path: Path, line: str, value: str) -> None:
    env = tmp_path / ".env"
    env.write_text(f"# a comment line\n\n{line}\n", encoding="utf-8")
    assert read_dotenv(env) == {"KEY": value}


@pytest.mark.parametrize(("line", "message"), [
    ('KEY="never closed', "double quote is never closed"),
    ("KEY='never closed", "single quote is never closed"),
    ('KEY="a" b', "unexpected text after the closing quote"),
    ("no equals sign", "expected KEY=VALUE"),
    ("BAD KEY=x", "is not a variable name"),
])
def test_a_dotenv_line_that_cannot_be_read_names_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    env = tmp_path / ".env"
    env.write_text(f"OK=1\n{line}\n", encoding="utf-8")
    with pytest.raises(SettingsError) as caught:
        read_dotenv(env)
    assert str(caught.value).startswith(f"{env}:2:") and message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_quoted_secret_with_a_hash_survives_into_settings(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text('COUNTERPOINT_SECRET="s3cr#t-0123456789abcdef" # generated 2026-01-01\n'
                   "TIMEZONE=Europe/Berlin # where we are\n", encoding="utf-8")
    settings = load_settings({}, dotenv=env)
    assert settings.secret == "s3cr#t-0123456789abcdef"
    assert settings.timezone == "Europe/Berlin"


@pytest.mark.parametrize(("env", "message"), [
    ({"SLACK_BOT_TOKEN": "xapp-1-A1-2-abc", "SLACK_APP_TOKEN": "xoxb-1-2-abc"},
     "SLACK_BOT_TOKEN: this is an xapp-... token, which belongs in SLACK_APP_TOKEN; "
     "SLACK_BOT_TOKEN and SLACK_APP_TOKEN look swapped"),
    ({"SLACK_BOT_TOKEN": "xoxb-1-2-abc", "SLACK_APP_TOKEN": "xoxb-1-2-abc"},
     "SLACK_APP_TOKEN: this is an xoxb-... token, which belongs in SLACK_BOT_TOKEN; "
     "SLACK_APP_TOKEN and SLACK_BOT_TOKEN look swapped"),
    ({"SLACK_BOT_TOKEN": "xoxp-1-2-abc", "SLACK_SIGNING_SECRET": "s"},
     "SLACK_BOT_TOKEN: expected a token starting with xoxb- (it starts with 'xoxp-')"),
    ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "abc"},
     "SLACK_APP_TOKEN: expected a token starting with xapp-"),
])
def test_slack_tokens_are_checked_by_prefix(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(env, dotenv=None)
    assert str(caught.value).startswith(message)
    assert "abc" not in str(caught.value)  # a token's secret part is never echoed


def test_right_slack_tokens_pass() -> None:
    settings = load_settings({"SLACK_BOT_TOKEN": "xoxb-1-2-abc", "SLACK_APP_TOKEN": "xapp-1-A1-2-abc"}, dotenv=None)
    assert settings.slack_bot_token == "xoxb-1-2-abc" and settings.slack_app_token == "xapp-1-A1-2-abc"


def test_a_relative_database_path_is_relative_to_the_dotenv_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                                ) -> None:
    home = tmp_path / "srv"
    home.mkdir()
    (home / ".env").write_text("DATABASE_URL=sqlite:///data/votes.db\n", encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    settings = load_settings({}, dotenv=home / ".env")
    assert settings.database_file == str(home / "data" / "votes.db")
    assert settings.dotenv_path == str(home / ".env")


def test_without_a_dotenv_a_relative_path_is_relative_to_the_current_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings({"DATABASE_URL": "sqlite:///votes.db"}, dotenv=tmp_path / "missing.env")
    assert settings.database_file == str(tmp_path / "votes.db") and settings.dotenv_path is None
    absolute = load_settings({"DATABASE_URL": f"sqlite:///{tmp_path}/x/y.db"}, dotenv=None)
    assert absolute.database_file == str(tmp_path / "x" / "y.db")
    assert os.path.isabs(load_settings({}, dotenv=None).database_file)


def test_health_port_is_off_by_default_and_checked() -> None:
    assert load_settings({}, dotenv=None).health_port is None
    picked = load_settings({"HEALTH_PORT": "0", "HEALTH_HOST": "0.0.0.0"}, dotenv=None)
    assert picked.health_port == 0 and picked.health_host == "0.0.0.0"
    assert load_settings({"HEALTH_PORT": "8081"}, dotenv=None).health_host == "127.0.0.1"
    for bad in ("http", "70000", "-1"):
        with pytest.raises(SettingsError, match="HEALTH_PORT"):
            load_settings({"HEALTH_PORT": bad}, dotenv=None)


def test_the_example_file_reads_as_a_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    example = Path(__file__).resolve().parent.parent / ".env.example"
    values = read_dotenv(example)
    assert values["DATABASE_URL"] == "sqlite:///counterpoint.db" and values["HEALTH_PORT"] == ""
    monkeypatch.chdir(tmp_path)
    settings = load_settings({}, dotenv=example)
    assert settings.health_port is None and settings.database_file == str(example.parent / "counterpoint.db")
