"""The operator's documents and Makefile: the systemd unit in docs/deploy.md parses and says what it must,
and `make demo` with an old Python says so in one line instead of failing deep inside pip."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "docs" / "deploy.md"


def unit_text() -> str:
    """The first ```ini block under the '3. The unit' heading."""
    text = DEPLOY.read_text(encoding="utf-8")
    section = text[text.index("## 3. The unit"):]
    found = re.search(r"```ini\n(.*?)```", section, re.S)
    assert found, "no ```ini block in the unit section"
    return found.group(1)


def test_the_documented_unit_names_what_a_service_needs() -> None:
    parser = configparser.ConfigParser(interpolation=None, strict=True, empty_lines_in_values=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # systemd keys are case-sensitive
    parser.read_string(unit_text())
    service = parser["Service"]
    assert re.fullmatch(r"/\S+/counterpoint run", service["ExecStart"]), service["ExecStart"]
    assert service["Restart"] == "on-failure" and int(service["RestartSec"]) > 0
    assert service["EnvironmentFile"].startswith("/") and service["WorkingDirectory"].startswith("/")
    assert service["User"] not in ("", "root")
    # Hardening that leaves the database directory writable: SQLite writes -wal and -shm beside the file.
    assert service["ProtectSystem"] == "strict"
    assert "StateDirectory" in service or "ReadWritePaths" in service
    assert parser["Install"]["WantedBy"] == "multi-user.target"


def test_the_documented_unit_passes_systemd_analyze(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed here")
    # verify checks that ExecStart's program exists: point it at this checkout's entry point.
    program = Path(sys.executable).with_name("counterpoint")
    if not program.exists():
        pytest.skip("the counterpoint entry point is not installed in this environment")
    unit = tmp_path / "counterpoint.service"
    unit.write_text(re.sub(r"^ExecStart=\S+", f"ExecStart={program}", unit_text(), flags=re.M), encoding="utf-8")
    proc = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60)
    complaints = [line for line in (proc.stdout + proc.stderr).splitlines() if unit.name in line]
    assert proc.returncode == 0 and not complaints, proc.stdout + proc.stderr


def test_the_operator_documents_cover_the_new_settings_and_commands() -> None:
    deploy = DEPLOY.read_text(encoding="utf-8")
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for needle in ("HEALTH_PORT", "counterpoint db backup", "journalctl", "LOG_LEVEL", "systemctl stop"):
        assert needle in deploy, needle
    for needle in ("HEALTH_PORT=", "HEALTH_HOST=", "relative to the directory of the .env file"):
        assert needle in example, needle
    for needle in ("docs/deploy.md", "db backup", "--version", "HEALTH_PORT"):
        assert needle in readme, needle


def fake_python(tmp_path: Path, version: str) -> Path:
    """A `python` that reports `version` and records any other use (creating a venv, say)."""
    script = tmp_path / "python-old"
    script.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = "-c" ]; then echo "{version.replace(".", " ")}"; exit 0; fi\n'
        f'echo "$@" >> "{tmp_path}/used"\n'
        "exit 1\n", encoding="utf-8")
    script.chmod(0o755)
    return script


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed here")
@pytest.mark.parametrize("target", ["demo", "test"])
def test_make_with_an_old_python_says_which_and_how_to_pick_another(tmp_path: Path, target: str) -> None:
    python = fake_python(tmp_path, "3.9.18")
    venv = tmp_path / "venv"
    proc = subprocess.run(["make", "--no-print-directory", "-C", str(ROOT), target, f"PYTHON={python}",
                           f"VENV={venv}"], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert proc.returncode != 0
    assert (f"counterpoint needs Python 3.11 or newer, but '{python}' is Python 3.9.18; "
            "pick another: make demo PYTHON=python3.12") in proc.stderr
    assert not venv.exists() and not (tmp_path / "used").exists()  # no venv was attempted


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed here")
def test_make_with_a_missing_python_says_so(tmp_path: Path) -> None:
    proc = subprocess.run(["make", "--no-print-directory", "-C", str(ROOT), "demo",
                           f"PYTHON={tmp_path / 'no-python'}", f"VENV={tmp_path / 'venv'}"],
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert proc.returncode != 0
    assert f"'{tmp_path / 'no-python'}' was not found; pick one: make demo PYTHON=python3.12" in proc.stderr
