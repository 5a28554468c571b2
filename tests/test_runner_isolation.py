"""`counterpoint run` in a child process: one adapter failing leaves the others serving, SIGTERM is bounded.

Findings: a revoked Discord token or a network blip at start stopped the whole process, Slack
included; SIGTERM waited out a 45 s rate-limit retry.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp

from bots.runner import supervise
from core.settings import SettingsError
from tests.fakes.slack_fake import FakeSlack, sign, slash_body
from tests.slack_helpers import free_port

ROOT = Path(__file__).resolve().parent.parent
SECRET = "runner-signing-secret"


def start_bot(tmp_path: Path, slack: FakeSlack, slack_port: int, discord_base: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "SLACK_"))}
    env.update({
        "DATABASE_URL": f"sqlite:///{tmp_path / 'run.db'}",
        "SLACK_BOT_TOKEN": slack.bot_token, "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": slack.api_url,
        "SLACK_PORT": str(slack_port), "SLACK_MODE": "http", "SLACK_ADMIN_USERS": "U0001",
        # Nothing listens here: every Discord connection attempt fails like a network outage.
        "DISCORD_TOKEN": "MTIzNDU2Nzg5MDEyMzQ1Njc4.fake.token", "DISCORD_API_BASE": discord_base,
        "DISCORD_GATEWAY_URL": discord_base.replace("http", "ws"), "LOG_LEVEL": "INFO",
    })
    return subprocess.Popen([sys.executable, "-m", "bots.cli", "run"], cwd=tmp_path, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


async def wait_healthy(port: int, proc: subprocess.Popen[str]) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(300):
            assert proc.poll() is None, proc.communicate()[1]
            try:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError("the Slack adapter never came up")


async def slash(port: int, text: str, response_url: str) -> int:
    body = slash_body(text=text, response_url=response_url)
    async with aiohttp.ClientSession() as http, http.post(
        f"http://127.0.0.1:{port}/slack/events", data=body, headers=sign(SECRET, body)
    ) as resp:
        return resp.status


async def wait_exit(proc: subprocess.Popen[str], within: float) -> int:
    for _ in range(int(within * 10)):
        if proc.poll() is not None:
            return proc.returncode
        await asyncio.sleep(0.1)
    proc.kill()
    raise AssertionError(f"still running {within} s after SIGTERM")


async def test_discord_down_slack_serves_and_sigterm_is_bounded(tmp_path: Path) -> None:
    slack_port, dead = free_port(), free_port()
    async with FakeSlack() as slack:
        proc = start_bot(tmp_path, slack, slack_port, f"http://127.0.0.1:{dead}")
        try:
            await wait_healthy(slack_port, proc)
            assert await slash(slack_port, "help", slack.response_url("help")) == 200
            await slack.wait_for(lambda: slack.responses, timeout=10)
            assert "Counterpoint" in str(slack.responses[-1].body)
            # Discord keeps failing (nothing listens) while Slack answers: the process is still up.
            await asyncio.sleep(1.5)
            assert proc.poll() is None
            # A post stuck behind a 45 s Retry-After must not hold the shutdown.
            slack.fail_next("chat.postMessage", retry_after=45, times=5)
            assert await slash(slack_port, "today", slack.response_url("today")) == 200
            await slack.wait_for(lambda: slack.calls_to("chat.postMessage"), timeout=10)
            proc.send_signal(signal.SIGTERM)
            code = await wait_exit(proc, within=12)
        finally:
            if proc.poll() is None:
                proc.kill()
        _out, err = proc.communicate()
    assert code == 0, err
    assert "Traceback" not in err


async def test_configuration_error_at_start_exits_naming_the_variable(tmp_path: Path) -> None:
    async with FakeSlack(bot_token="xoxb-right") as slack:
        slack.bot_token = "xoxb-wrong"  # the fake refuses any other token
        proc = start_bot(tmp_path, slack, free_port(), f"http://127.0.0.1:{free_port()}")
        slack.bot_token = "xoxb-right"
        code = await wait_exit(proc, within=30)
        _out, err = proc.communicate()
    assert code == 2
    assert err.strip().splitlines()[-1].startswith("counterpoint: SLACK_BOT_TOKEN:")


async def test_supervisor_restarts_after_runtime_failures_only() -> None:
    calls: list[str] = []

    def adapter(outcomes: list[BaseException | None]) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            outcome = outcomes.pop(0) if outcomes else None
            calls.append(type(outcome).__name__)
            if outcome is not None:
                raise outcome
            await asyncio.Event().wait()

        return run

    # A configuration error on the first start is the operator's to fix: it escapes.
    try:
        await supervise("x", adapter([SettingsError("DISCORD_TOKEN: refused")]), delays=(0.0,))
    except SettingsError as exc:
        assert "DISCORD_TOKEN" in str(exc)
    else:
        raise AssertionError("a first-start configuration error must stop the process")
    # Later failures of any kind - an outage, a token revoked while running - are retried.
    calls.clear()
    task = asyncio.create_task(supervise(
        "x", adapter([OSError("network"), SettingsError("revoked"), RuntimeError("gateway")]), delays=(0.0,)))
    for _ in range(100):
        if len(calls) >= 4:
            break
        await asyncio.sleep(0.01)
    assert calls == ["OSError", "SettingsError", "RuntimeError", "NoneType"]
    assert not task.done()
    task.cancel()


def test_adapter_failures_are_logged_without_secrets() -> None:
    from bots.logsafety import redact

    text = redact("Cannot connect to wss://wss.slack.com/link/?ticket=abc123&app_id=A1 with xoxb-1-2-secret "
                  "via /interactions/1234/aW50ZXJhY3Rpb24/callback")
    for secret in ("abc123", "xoxb-1-2-secret", "aW50ZXJhY3Rpb24"):
        assert secret not in text
    assert "Cannot connect to wss://wss.slack.com/link/" in text
