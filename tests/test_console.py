"""The console adapter end to end: the real CLI in a child process, fed through piped stdin."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_console(tmp_path: Path, script: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "SLACK_"))}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'console.db'}"
    return subprocess.run(
        [sys.executable, "-m", "bots.cli", "console", *args],
        input=script, capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60,
    )


def test_post_vote_results_change_forget(tmp_path: Path) -> None:
    script = "\n".join([
        "/debate post",
        "/as alice", "1",
        "/as bob", "2",
        "/debate results",
        "/as carol", "4",
        "/debate results",
        "/as bob", "5",
        "/debate results",
        "/as dave", "5", "/as carol", "5", "/as dave", "4",
        "/debate results",
        "/as alice", "/debate forget-me", "yes",
        "/debate results",
    ]) + "\n"
    proc = run_console(tmp_path, script, "--user", "host")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "Posted poll #1." in out and "[1] 🛡️ Security first" in out
    sections = out.split("Results so far:")
    assert len(sections) == 6
    assert "Results appear once 1 more vote is in" in sections[1]
    assert "33%  🛡️ Security first (1)" in sections[2] and "Mean lean -0.7" in sections[2]
    # One member changed: that is all anyone may learn (showing how would reveal their two votes).
    card = sections[3].split("Poll #1 now")[0]
    assert "Some members changed their mind" in card and "→" not in card
    assert "3 members changed their mind (2 toward privacy, 1 toward security; net shift +0.75)" in sections[4]
    assert "Done: 1 record about you deleted" in sections[4]
    assert "3 votes so far" not in sections[5] and "Results show from 3 votes" in sections[5]
    assert "Traceback" not in proc.stderr


def test_bad_input_gets_one_line_and_hint(tmp_path: Path) -> None:
    proc = run_console(tmp_path, "/debate nope\n/debate results abc\n7\n/wat\n/as\n/debate results 1 2\n")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert "Unknown command 'nope'. Type `/debate help` for the list." in lines
    assert "'abc' is not a poll number. Use the number shown on the poll, e.g. 12 or #12." in lines
    assert "There is no current poll to vote on. Try /debate today." in lines
    assert any(line.startswith("Unknown command '/wat'") for line in lines)
    assert "Usage: /as NAME (one word, up to 64 characters)" in lines
    assert "Too many arguments. Usage: `/debate results [N] [chart=on|off]`" in lines


def test_members_are_not_admins(tmp_path: Path) -> None:
    proc = run_console(tmp_path, "/as mallory\n/debate post\n/debate close\n")
    assert proc.stdout.count("Only facilitators can do that.") == 2
    assert "Posted poll" not in proc.stdout


def test_exits_zero_at_eof_with_no_input(tmp_path: Path) -> None:
    proc = run_console(tmp_path, "")
    assert proc.returncode == 0 and "Counterpoint console" in proc.stdout


def test_a_command_is_its_whole_first_word(tmp_path: Path) -> None:
    proc = run_console(tmp_path, "/ashley\n/debatetoday\n/as  alice\n/whoami\n/whoamii\n/tick now\n/debate\tstance\n")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[1].startswith("Unknown command '/ashley'.")
    assert lines[2].startswith("Unknown command '/debatetoday'.")
    assert "You are now 'hley'." not in lines and "Today's question" not in proc.stdout
    assert "You are now 'alice'." in lines and "You are 'alice'." in lines
    assert any(line.startswith("Unknown command '/whoamii'.") for line in lines)
    assert "/tick takes nothing after it. Type /help for console extras." in lines
    assert "Unknown command '/debate\tstance'" not in proc.stdout  # a tab separates words too


def test_an_answer_to_a_confirmation_is_never_run_as_a_command(tmp_path: Path) -> None:
    script = "\n".join([
        "/debate post", "/as alice",
        "/debate forget-me", "5",
        "/debate forget-me", "/debate close",
        "/debate forget-me", "", "yes",
        "/debate forget-me", "Y",
        "/debate stance",
    ]) + "\n"
    proc = run_console(tmp_path, script, "--user", "host")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert out.count("Cancelled. Nothing was deleted.") == 3
    assert out.count("Done: ") == 1 and "Unknown command 'yes'" in out  # the empty answer cancelled
    assert "You chose" not in out and "can do that" not in out and "Closed poll" not in out
    assert "Done: " in out  # "Y" confirms


def test_live_results_are_one_line_per_option_and_logs_stay_below_warning(tmp_path: Path) -> None:
    proc = run_console(tmp_path, "/debate post\n/as a\n1\n/as b\n2\n/as c\n4\n")
    assert proc.returncode == 0, proc.stderr
    live = proc.stdout.split("Poll #1 now:")[-1].splitlines()
    assert live[0] == ""  # the heading stands alone
    options = [line for line in live if line.endswith(")") and "%" in line]
    assert [line.strip().split("%  ")[1] for line in options] == [
        "🛡️ Security first (1)", "🚓 Lean security (1)", "⚖️ Balanced (0)", "🕶️ Lean privacy (1)", "🔒 Privacy first (0)",
    ]
    # A new database was migrated on the way in; its INFO lines are not console output.
    assert " INFO " not in proc.stderr and "applying migration" not in proc.stderr
