"""Reasons on the console end to end (issue 13): the real CLI in a child process, fed through piped stdin.

The console has no modals: `/debate reason TEXT` writes the reason, and the buttons of an answer (keep or
drop, convincing, report, pages, hide, restore) are pressed by number with /press N."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

from tests.test_console import run_console


def test_reasons_are_given_marked_kept_reported_moderated_and_exported(tmp_path: Path) -> None:
    script = "\n".join([
        "/debate post",
        "/debate help",
        "/help",
        "/as alice", "1", "/debate reason Cameras **deter** <!channel> crime",
        "/as bob", "1", "/debate reason Safer streets at night",
        "/as carol", "2", "/debate reason Safety matters most",
        "/as carol", "/debate reason    ",  # refused: nothing saved
        "/as dave", "5",
        "/debate reasons",
        "/press 1",  # Convincing 1
        "/press 1",  # twice: nothing changes
        "/press 9",  # out of range
        "/as host", "/debate settings reports=1",
        "/as dave", "/debate reasons", "/press 2",  # report 1
        "/as host", "/debate moderate", "/press 1",  # restore
        "/as bob", "5",  # a changed vote: keep or drop?
        "/press 1",  # keep
        "/debate reasons",
        "/as erin", "/press 1",  # erin has no answer with buttons yet: told so
        "/as host", "/debate close", "/debate export reasons",
    ]) + "\n"
    proc = run_console(tmp_path, script, "--user", "host")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "add or change the reason for your vote on the open poll" in out  # /debate help lists it
    assert "/press N" in out  # /help names it
    assert "Type `/debate reason …` to add or change your reason." in out  # on the receipt
    assert "Your reason is saved with your vote for 🛡️ Security first." in out
    assert "A reason needs some words. Nothing was saved." in out
    pages = out.split("Reasons are anonymous.")
    assert len(pages) == 4
    assert "1. Cameras **deter** <!channel> crime (0 marks, new)" in pages[1]
    assert "/press 1  👍 Convincing 1" in pages[1] and "/press 2  ⚑ Report 1" in pages[1]
    assert "Marked as convincing" in out and "You already marked that reason" in out
    assert "Usage: /press N, with N from 1 to 6." in out
    assert "/press 1  📌 Keep my reason" in out and "Your reason now goes with your vote for 🔒 Privacy first." in out
    # Security keeps 2 reasons now (fewer than k = 3): its count only, never its words.
    assert "2 reasons (the words show from 3 reasons on this side)" in pages[3]
    assert "Safer streets" not in pages[3]
    assert "now hidden until a facilitator reviews it" in out
    assert "Reported and hidden reasons of poll #1" in out and "The reason is shown again" in out
    assert "The last answer has no buttons to press." in out
    assert "--- counterpoint-reasons.csv ---" in out
    for name in ("alice", "bob", "carol", "dave"):  # never an author in what the others read
        assert f"{name}" not in "".join(pages[1:]).split("--- counterpoint-reasons.csv ---")[0].replace(
            f"You are now '{name}'", "")
    assert "Traceback" not in proc.stderr


def test_cli_export_reasons_writes_the_reasons_file_of_closed_polls(tmp_path: Path) -> None:
    script = "\n".join([
        "/debate post",
        *[line for name in ("alice", "bob", "carol")
          for line in (f"/as {name}", "1", f"/debate reason =1+1 by {name}")],
        "/as host", "/debate close",
    ]) + "\n"
    assert run_console(tmp_path, script, "--user", "host").returncode == 0
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "SLACK_"))}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'console.db'}"
    proc = subprocess.run([sys.executable, "-m", "bots.cli", "export", "--space", "console", "--reasons"],
                          capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.reader(io.StringIO(proc.stdout)))
    assert rows[0] == ["poll", "question", "closed_at", "side", "reasons_on_side", "reason", "marks"]
    assert sorted(r[5] for r in rows[1:]) == [f"'=1+1 by {n}" for n in ("alice", "bob", "carol")]  # formula-safe
    assert all(r[3] == "Leaning security" for r in rows[1:])
