"""The `counterpoint` command: help, start-up checks, content check, migrate, export."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def cli(tmp_path: Path, *args: str, input: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "SLACK_", "HEALTH_"))}
    base.setdefault("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    base.update(env)
    return subprocess.run([sys.executable, "-m", "bots.cli", *args], capture_output=True, text=True,
                          cwd=tmp_path, env=base, timeout=60, input=input,
                          stdin=subprocess.DEVNULL if input is None else None)


def post_console_poll(tmp_path: Path, **env: str) -> None:
    """One poll in the 'console' space, posted through the console as a user would."""
    proc = cli(tmp_path, "console", input="/debate post\n/quit\n", **env)
    assert proc.returncode == 0 and "Posted poll" in proc.stdout, proc.stderr


def test_help_lists_commands_without_importing_chat_libraries(tmp_path: Path) -> None:
    code = ("import sys; from bots.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "import core.service, core.commands\n"
            "platform = ('discord', 'slack_bolt', 'slack_sdk')\n"
            "print('LOADED', sorted(m for m in sys.modules if m.split('.')[0] in platform))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert "console" in proc.stdout and "content" in proc.stdout and "export" in proc.stdout
    assert "LOADED []" in proc.stdout


def test_subcommands_have_help(tmp_path: Path) -> None:
    for args in (["console", "--help"], ["run", "--help"], ["content", "check", "--help"],
                 ["db", "migrate", "--help"], ["export", "--help"]):
        proc = cli(tmp_path, *args)
        assert proc.returncode == 0 and "usage: counterpoint" in proc.stdout, args


def test_run_without_adapters_names_the_variables(tmp_path: Path) -> None:
    proc = cli(tmp_path, "run")
    assert proc.returncode != 0
    assert "DISCORD_TOKEN" in proc.stderr and "SLACK_BOT_TOKEN" in proc.stderr
    assert "counterpoint console" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_bad_settings_stop_startup_with_one_line(tmp_path: Path) -> None:
    cases = {
        "TIMEZONE": ("Mars/Base", "TIMEZONE: unknown timezone 'Mars/Base'"),
        "RESULTS_MIN_VOTES": ("-3", "RESULTS_MIN_VOTES: -3 is below 3"),
        "DATABASE_URL": ("mysql://x", "DATABASE_URL: cannot read 'mysql://x'"),
        "RETENTION_DAYS": ("soon", "RETENTION_DAYS: 'soon' is not a whole number"),
    }
    for name, (value, message) in cases.items():
        proc = cli(tmp_path, "console", **{name: value})
        assert proc.returncode == 2, name
        assert proc.stderr.strip() == f"counterpoint: {message}" or proc.stderr.strip().startswith(
            f"counterpoint: {message}"), proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1


def test_dotenv_is_read_and_environment_wins(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("# comment\nTIMEZONE=Nowhere/Land\n")
    assert cli(tmp_path, "db", "migrate").returncode == 2
    proc = cli(tmp_path, "db", "migrate", TIMEZONE="Europe/Berlin")
    from core.store.sqlite import migrations

    assert proc.returncode == 0 and f"is at schema version {len(migrations())}" in proc.stdout


def test_content_check_default_and_broken_pack(tmp_path: Path) -> None:
    ok = cli(tmp_path, "content", "check")
    assert ok.returncode == 0 and "ok" in ok.stdout
    broken = tmp_path / "broken.toml"
    broken.write_text((ROOT / "core/content/default.toml").read_text(encoding="utf-8").replace(
        'id = "who-audits"', 'id = "first-instinct"').replace('label = "Security first"', 'label = "' + "x" * 50 + '"'))
    proc = cli(tmp_path, "content", "check", str(broken))
    assert proc.returncode == 1
    assert "duplicate id 'first-instinct'" in proc.stderr
    assert "50 characters, the limit is 40" in proc.stderr
    refused = cli(tmp_path, "console", CONTENT_PACK=str(broken))
    assert refused.returncode == 2 and "invalid content pack" in refused.stderr


def test_export_writes_csv(tmp_path: Path) -> None:
    post_console_poll(tmp_path)
    out = tmp_path / "out.csv"
    proc = cli(tmp_path, "export", "--space", "console", "--output", str(out))
    assert proc.returncode == 0, proc.stderr
    assert out.read_text().startswith('"poll","channel","prompt"')


def test_a_second_long_running_process_on_one_sqlite_file_refuses(tmp_path: Path) -> None:
    """Finding (reliability 11): two processes on one file rendered stale counts; now the second refuses."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "SLACK_"))}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'cli.db'}"
    post_console_poll(tmp_path)
    first = subprocess.Popen([sys.executable, "-m", "bots.cli", "console"], cwd=tmp_path, env=env, text=True,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert first.stdout is not None and "Counterpoint console" in first.stdout.readline()
        second = cli(tmp_path, "console")
        assert second.returncode == 2
        assert second.stderr.startswith("counterpoint: DATABASE_URL: another Counterpoint process is already running")
        assert str(tmp_path / "cli.db") in second.stderr and len(second.stderr.strip().splitlines()) == 1
        # One-shot commands still work beside it.
        assert cli(tmp_path, "export", "--space", "console").returncode == 0
        assert cli(tmp_path, "db", "migrate").returncode == 0
    finally:
        first.communicate("/quit\n", timeout=30)
    assert first.returncode == 0
    assert cli(tmp_path, "console").returncode == 0  # the lock went with the process
