"""run_discord keeps the Discord adapter alive: unreachable Discord at start, a token refused after
it had worked, and the one case that must stop the process (a token refused at the first login)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from typing import Any

import discord.gateway
import discord.http
import pytest

from bots.discord.port import DiscordPort
from bots.discord.runner import Backoff, run_discord
from core.service import DebateService
from core.settings import Settings, SettingsError
from tests.discord_helpers import answered, text_of
from tests.fakes.discord_fake import FakeDiscord

ALICE = "731500000000000001"
AUTH_DELAY = 0.123  # recognisable among the other delays


class Delays:
    """Backoff.sleep that records each delay and yields briefly instead of waiting it out."""

    def __init__(self) -> None:
        self.seen: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.seen.append(delay)
        await asyncio.sleep(0.02)


@pytest.fixture(autouse=True)
def restore_discord_urls() -> Iterator[None]:
    """run_discord points discord.py at the settings' URLs process-wide; put them back afterwards."""
    route, ws = discord.http.Route, discord.gateway.DiscordWebSocket
    saved = route.BASE, ws.DEFAULT_GATEWAY
    yield
    route.BASE, ws.DEFAULT_GATEWAY = saved


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def settings_for(port: int, token: str = "fake-bot-token") -> Settings:
    return Settings(discord_token=token, discord_api_base=f"http://127.0.0.1:{port}/api/v10",
                    discord_gateway_url=f"ws://127.0.0.1:{port}/gateway")


async def registered(ports: dict[str, Any], task: asyncio.Task[None], other_than: object = None) -> DiscordPort:
    """Wait for run_discord to register a (new) port; fail at once if it stopped instead."""
    for _ in range(1000):
        port = ports.get("discord")
        if isinstance(port, DiscordPort) and port is not other_than:
            return port
        if task.done():
            task.result()
            raise AssertionError("run_discord returned")
        await asyncio.sleep(0.01)
    raise AssertionError("the Discord port was never registered")


async def stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_discord_unreachable_at_start_is_retried_with_growing_delays(service: DebateService) -> None:
    port_number = free_port()
    delays = Delays()
    ports: dict[str, Any] = {}
    backoff = Backoff(first=0.01, factor=2, most=0.08, auth=AUTH_DELAY, sleep=delays)
    task = asyncio.create_task(run_discord(settings_for(port_number), service, ports, backoff=backoff,
                                           guild_ready_timeout=0.05))
    try:
        while len(delays.seen) < 5:  # nothing listens yet: connection refused, again and again
            assert not task.done(), task
            await asyncio.sleep(0.01)
        async with FakeDiscord(port=port_number) as fake:
            fake.add_member(ALICE, "alice", permissions=0)
            await registered(ports, task)
            answer = await answered(await fake.slash("debate", subcommand="help", user_id=ALICE))
            assert "Counterpoint" in text_of(answer)
            await stop(task)
    finally:
        task.cancel()
    assert delays.seen[:5] == [0.01, 0.02, 0.04, 0.08, 0.08]
    assert AUTH_DELAY not in delays.seen
    assert "discord" not in ports


async def test_a_token_refused_after_ready_is_retried_slowly_not_fatal(service: DebateService) -> None:
    delays = Delays()
    ports: dict[str, Any] = {}
    backoff = Backoff(first=0.01, factor=2, most=0.08, auth=AUTH_DELAY, sleep=delays)
    async with FakeDiscord() as fake:
        fake.add_member(ALICE, "alice", permissions=0)
        settings = settings_for(int(fake.api_base.split(":")[2].split("/")[0]), fake.token)
        task = asyncio.create_task(run_discord(settings, service, ports, backoff=backoff,
                                               guild_ready_timeout=0.05))
        try:
            first = await registered(ports, task)
            # The gateway ends the session with "authentication failed" (4004).
            await fake.drop_connections(code=4004)
            second = await registered(ports, task, other_than=first)
            assert delays.seen == [AUTH_DELAY]

            # The token is reset on the Developer Portal while the bot runs: every login is refused.
            good = fake.token
            fake.token = "reset-elsewhere"
            await fake.drop_connections(code=4004)
            while len(delays.seen) < 4:
                assert not task.done(), task
                await asyncio.sleep(0.01)
            logins = [r for r in fake.requests if r.path == "/users/@me" and r.status == 401]
            assert delays.seen[1:] == [AUTH_DELAY] * (len(delays.seen) - 1)
            assert len(logins) <= len(delays.seen)  # one login per wait: no hot loop
            fake.token = good
            third = await registered(ports, task, other_than=second)
            answer = await answered(await fake.slash("debate", subcommand="help", user_id=ALICE))
            assert "Counterpoint" in text_of(answer) and ports["discord"] is third
            await stop(task)
        finally:
            task.cancel()
    assert not fake.violations


async def test_a_token_refused_at_the_first_login_is_a_settings_error(service: DebateService) -> None:
    delays = Delays()
    async with FakeDiscord() as fake:
        settings = settings_for(int(fake.api_base.split(":")[2].split("/")[0]), "not-the-token")
        with pytest.raises(SettingsError, match="DISCORD_TOKEN"):
            await asyncio.wait_for(run_discord(settings, service, {}, backoff=Backoff(sleep=delays)), 10)
    assert delays.seen == []
