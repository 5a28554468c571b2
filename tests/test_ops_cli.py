"""The operator's CLI in child processes: --version, where the database is, db backup, export hints,
and failures that are one line on stderr (never a traceback)."""

from __future__ import annotations

import asyncio
import importlib.metadata
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fakes.discord_fake import FakeDiscord

ROOT = Path(__file__).resolve().parent.parent
WRITER = """
import asyncio, sys
from core.store.sqlite import SqliteStore

async def main() -> None:
    store = SqliteStore(sys.argv[1], exclusive=True)  # holds the one-writer lock, as `run` does
    await store.open()
    n = 0
    await store.set_meta("counter", str(n))
    print("ready", flush=True)
    reader = asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    while not reader.done():
        n += 1
        await store.set_meta("counter", str(n))
        await asyncio.sleep(0)
    await store.close()
    print(n, flush=True)

asyncio.run(main())
"""


def env_for(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DISCORD_", "SLACK_", "HEALTH_", "DATABASE_URL", "COUNTERPOINT_"))}
    env.update({"DATABASE_URL": f"sqlite:///{tmp_path / 'ops.db'}", "LOG_LEVEL": "WARNING"})
    env.update(extra)
    return env


def cli(cwd: Path, *args: str, env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bots.cli", *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=60, input=stdin, stdin=None if stdin is not None else subprocess.DEVNULL)


def one_line_failure(proc: subprocess.CompletedProcess[str], code: int) -> str:
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("counterpoint: "), proc.stderr
    return lines[0]


def post_poll(tmp_path: Path, env: dict[str, str]) -> None:
    proc = cli(tmp_path, "console", env=env, stdin="/debate post\n/debate close\n/quit\n")
    assert proc.returncode == 0 and "Posted poll" in proc.stdout, proc.stderr


def test_version_prints_the_package_version(tmp_path: Path) -> None:
    proc = cli(tmp_path, "--version", env=env_for(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"counterpoint {importlib.metadata.version('counterpoint')}"


def test_the_database_follows_the_env_file_not_the_working_directory(tmp_path: Path) -> None:
    app, elsewhere = tmp_path / "app", tmp_path / "elsewhere"
    app.mkdir()
    elsewhere.mkdir()
    (app / ".env").write_text("DATABASE_URL=sqlite:///votes.db\n", encoding="utf-8")
    env = env_for(tmp_path)
    del env["DATABASE_URL"]

    first = cli(app, "db", "migrate", env=env)
    assert first.returncode == 0, first.stderr
    assert f"database {app / 'votes.db'} is at schema version" in first.stdout
    assert f"created a new, empty database at {app / 'votes.db'}; if you expected your existing votes, " \
           "check DATABASE_URL" in first.stderr

    # Started from another directory with the same settings file: the same database, no warning.
    again = cli(elsewhere, "--env-file", str(app / ".env"), "db", "migrate", env=env)
    assert again.returncode == 0 and f"database {app / 'votes.db'}" in again.stdout
    assert "created a new" not in again.stderr and not (elsewhere / "votes.db").exists()

    # Without the settings file a relative path lands elsewhere: that is said loudly, with the full path.
    stray = cli(elsewhere, "db", "migrate", env={**env, "DATABASE_URL": "sqlite:///votes.db"})
    assert f"created a new, empty database at {elsewhere / 'votes.db'}" in stray.stderr

    missing = cli(elsewhere, "--env-file", str(app / "nope.env"), "db", "migrate", env=env)
    assert one_line_failure(missing, 2) == f"counterpoint: --env-file: no file at {app / 'nope.env'}"


def test_backup_while_a_writer_holds_the_database(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    db = tmp_path / "ops.db"
    assert cli(tmp_path, "db", "migrate", env=env).returncode == 0
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(db)], cwd=ROOT, env=env, text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
        seen = []
        for n in range(3):
            proc = cli(tmp_path, "db", "backup", f"copy{n}.db", env=env)
            assert proc.returncode == 0, proc.stderr
            assert f"backed up {db} to {tmp_path / f'copy{n}.db'}" in proc.stdout
            with sqlite3.connect(tmp_path / f"copy{n}.db") as copy:
                assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
                assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)  # one self-contained file
                seen.append(int(copy.execute("SELECT value FROM meta WHERE key = 'counter'").fetchone()[0]))
        assert seen == sorted(seen)
    finally:
        out, err = writer.communicate("", timeout=60)
    assert writer.returncode == 0, err
    assert int(out.strip()) >= seen[-1]  # the writer was never stopped by the backups
    assert not list(tmp_path.glob("*.partial-*"))


def test_backup_refuses_to_overwrite_and_fails_in_one_line(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    absent = one_line_failure(cli(tmp_path, "db", "backup", "copy.db", env=env), 1)
    assert absent == f"counterpoint: no database at {tmp_path / 'ops.db'} (check DATABASE_URL); nothing to back up"
    assert not (tmp_path / "ops.db").exists() and not (tmp_path / "copy.db").exists()

    assert cli(tmp_path, "db", "migrate", env=env).returncode == 0
    assert cli(tmp_path, "db", "backup", "copy.db", env=env).returncode == 0
    (tmp_path / "copy.db").write_bytes(b"an older backup")
    refused = one_line_failure(cli(tmp_path, "db", "backup", "copy.db", env=env), 1)
    assert "already exists; choose another name or pass --force" in refused
    assert (tmp_path / "copy.db").read_bytes() == b"an older backup"
    forced = cli(tmp_path, "db", "backup", "copy.db", "--force", env=env)
    assert forced.returncode == 0, forced.stderr
    assert (tmp_path / "copy.db").read_bytes().startswith(b"SQLite format 3")

    no_dir = one_line_failure(cli(tmp_path, "db", "backup", "nowhere/copy.db", env=env), 1)
    assert f"the directory {tmp_path / 'nowhere'} does not exist" in no_dir
    itself = one_line_failure(cli(tmp_path, "db", "backup", "ops.db", "--force", env=env), 1)
    assert "is the database itself" in itself


def test_export_names_the_spaces_it_knows(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    nothing = one_line_failure(cli(tmp_path, "export", env=env), 2)
    assert f"no database at {tmp_path / 'ops.db'}" in nothing and not (tmp_path / "ops.db").exists()

    assert cli(tmp_path, "db", "migrate", env=env).returncode == 0
    empty = one_line_failure(cli(tmp_path, "export", env=env), 2)
    assert empty == f"counterpoint: the database at {tmp_path / 'ops.db'} has no polls yet; nothing to export"

    post_poll(tmp_path, env)
    post_poll(tmp_path, env)
    unnamed = one_line_failure(cli(tmp_path, "export", env=env), 2)
    assert unnamed == (f"counterpoint: name a space with --space; the database at {tmp_path / 'ops.db'} knows: "
                       "console (2 polls)")
    unknown = one_line_failure(cli(tmp_path, "export", "--space", "T0NOPE", env=env), 2)
    assert "has no space 'T0NOPE'; it knows: console (2 polls)" in unknown
    named = cli(tmp_path, "export", "--space", "console", env=env)
    assert named.returncode == 0 and named.stdout.count('"console"') >= 2


def test_export_to_a_bad_path_is_one_line(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    for target, reason in ((tmp_path / "no" / "such" / "dir.csv", "does not exist"), (tmp_path, "is a directory")):
        line = one_line_failure(cli(tmp_path, "export", "--space", "console", "-o", str(target), env=env), 1)
        assert line.startswith(f"counterpoint: cannot write {target}: ") and reason in line
    assert not (tmp_path / "ops.db").exists()  # refused before the database was opened (or created)


def test_discord_sync_failures_are_one_line(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    assert cli(tmp_path, "db", "migrate", env=env).returncode == 0
    unset = one_line_failure(cli(tmp_path, "discord", "sync", env=env), 2)
    assert "DISCORD_TOKEN" in unset
    dead = "http://127.0.0.1:9/api/v10"
    unreachable = one_line_failure(cli(tmp_path, "discord", "sync", env={**env, "DISCORD_TOKEN": "fake-bot-token",
                                                                         "DISCORD_API_BASE": dead}), 1)
    assert unreachable.startswith(f"counterpoint: cannot reach Discord at {dead}: ")


@pytest.mark.asyncio
async def test_discord_sync_with_a_refused_token_is_one_line(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    assert (await asyncio.to_thread(cli, tmp_path, "db", "migrate", env=env)).returncode == 0
    async with FakeDiscord() as fake:
        run = {**env, "DISCORD_TOKEN": "not-the-token", "DISCORD_API_BASE": fake.api_base,
               "DISCORD_GATEWAY_URL": fake.gateway_url}
        proc = await asyncio.to_thread(cli, tmp_path, "discord", "sync", env=run)
        ok = await asyncio.to_thread(cli, tmp_path, "discord", "sync", env={**run, "DISCORD_TOKEN": fake.token})
    line = one_line_failure(proc, 2)
    assert "DISCORD_TOKEN" in line and "not-the-token" not in line
    assert ok.returncode == 0 and "synced the Discord commands" in ok.stdout, ok.stderr
