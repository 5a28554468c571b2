"""GET /healthz in every mode (finding: only Slack HTTP mode had one), driven as an operator would:
`counterpoint run` in a child process against the Discord fake, and in Slack Socket Mode against the
Slack fake. Also: `db backup` while that `run` is serving, and the start-up line naming the database."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import socket
import sqlite3
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp

from bots.health import Health, build_health_app
from tests.fakes.discord_fake import FakeDiscord
from tests.fakes.slack_fake import FakeSlack


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


LISTENING = re.compile(r"health check: listening on (http://127\.0\.0\.1:(\d+)/healthz)")


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "SLACK_", "HEALTH_"))}
    env.update({"DATABASE_URL": "sqlite:///run.db", "LOG_LEVEL": "INFO", "HEALTH_PORT": "0"}, **extra)
    return env


class Bot:
    """`counterpoint run` in a child process whose stderr is read line by line as it arrives."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lines: list[str] = []

    async def wait_line(self, pattern: re.Pattern[str], within: float = 30.0) -> re.Match[str]:
        assert self.proc.stderr is not None
        async with asyncio.timeout(within):
            while True:
                for line in self.lines:
                    if found := pattern.search(line):
                        return found
                raw = await self.proc.stderr.readline()
                assert raw, f"run exited ({await self.proc.wait()}): {self.lines}"
                self.lines.append(raw.decode())

    async def drain(self) -> None:
        assert self.proc.stderr is not None
        self.lines.extend(line.decode() for line in (await self.proc.stderr.read()).splitlines())


@contextlib.asynccontextmanager
async def running(tmp_path: Path, env: dict[str, str]) -> AsyncIterator[Bot]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bots.cli", "run", cwd=tmp_path, env=env,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    bot = Bot(proc)
    try:
        yield bot
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            reader = asyncio.ensure_future(bot.drain())
            try:
                await asyncio.wait_for(proc.wait(), 20)
            except TimeoutError:
                proc.kill()
                await proc.wait()
            await reader


async def get(url: str) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as http, http.get(url) as resp:
        return resp.status, json.loads(await resp.text())


async def wait_for_status(url: str, want: int, within: float = 30.0) -> dict[str, Any]:
    async with asyncio.timeout(within):
        while True:
            status, body = await get(url)
            if status == want:
                return body
            await asyncio.sleep(0.05)


async def cli(tmp_path: Path, env: dict[str, str], *args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bots.cli", *args, cwd=tmp_path, env=env, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_discord_only_run_serves_healthz_and_a_backup_works_meanwhile(tmp_path: Path) -> None:
    async with FakeDiscord() as fake:
        env = clean_env(tmp_path, DISCORD_TOKEN=fake.token, DISCORD_API_BASE=fake.api_base,
                        DISCORD_GATEWAY_URL=fake.gateway_url)
        async with running(tmp_path, env) as bot:
            url = (await bot.wait_line(LISTENING)).group(1)
            body = await wait_for_status(url, 200)
            assert body == {"status": "ok", "database": "ok", "adapters": {"discord": "connected"}}
            assert any(f"database: {tmp_path / 'run.db'}" in line for line in bot.lines), bot.lines

            # The running bot holds the one-writer lock; an online backup still works beside it.
            code, out, err = await cli(tmp_path, env, "db", "backup", "copy.db")
            assert code == 0 and "Traceback" not in err, err
            assert str(tmp_path / "copy.db") in out
            with sqlite3.connect(tmp_path / "copy.db") as copy:
                assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
                assert copy.execute("SELECT COUNT(*) FROM meta").fetchone()[0] >= 1  # the voter key came along

            # Discord goes away: the endpoint says so with a 503 while the bot keeps retrying.
            await fake.close()
            body = await wait_for_status(url, 503)
            assert body["database"] == "ok" and body["adapters"]["discord"] in ("reconnecting", "restarting")
            assert body["status"] == "unavailable"


async def test_socket_mode_run_serves_healthz(tmp_path: Path) -> None:
    async with FakeSlack() as slack:
        env = clean_env(tmp_path, SLACK_BOT_TOKEN=slack.bot_token, SLACK_APP_TOKEN=slack.app_token,
                        SLACK_API_URL=slack.api_url, SLACK_MODE="socket")
        async with running(tmp_path, env) as bot:
            url = (await bot.wait_line(LISTENING)).group(1)
            await slack.wait_socket_connected(timeout=30)
            body = await wait_for_status(url, 200)
            assert body == {"status": "ok", "database": "ok", "adapters": {"slack": "connected"}}


async def test_a_fixed_health_port_in_use_is_one_line(tmp_path: Path) -> None:
    port = free_port()
    with contextlib.closing(socket.socket()) as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        dead = free_port()
        env = clean_env(tmp_path, HEALTH_PORT=str(port), DISCORD_TOKEN="fake-bot-token",
                        DISCORD_API_BASE=f"http://127.0.0.1:{dead}/api/v10",
                        DISCORD_GATEWAY_URL=f"ws://127.0.0.1:{dead}/gateway")
        code, _out, err = await cli(tmp_path, env, "run")
    assert code == 2
    assert f"counterpoint: HEALTH_PORT: cannot listen on 127.0.0.1:{port}" in err
    assert "Traceback" not in err


async def test_health_is_503_when_the_database_cannot_be_read(tmp_path: Path) -> None:
    """The probe is the store's own read; a closed or broken database makes it fail."""

    async def broken() -> bool:
        raise sqlite3.OperationalError("disk I/O error")

    async def says_no() -> bool:
        return False

    for probe in (broken, says_no):
        health = Health(["discord"], {"discord": object()}, probe)
        runner = aiohttp.web.AppRunner(build_health_app(health))
        await runner.setup()
        port = free_port()
        site = aiohttp.web.TCPSite(runner, "127.0.0.1", port)
        await site.start()
        try:
            status, body = await get(f"http://127.0.0.1:{port}/healthz")
        finally:
            await runner.cleanup()
        assert status == 503
        assert body == {"status": "unavailable", "database": "error", "adapters": {"discord": "connected"}}
