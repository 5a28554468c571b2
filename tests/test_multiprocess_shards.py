"""Discord shards split across processes: DISCORD_SHARD_COUNT / DISCORD_SHARD_IDS.

Each process runs some shards (AutoShardedClient with shard_ids and shard_count); the fake gateway
records what each connection IDENTIFYed with, and interactions are answered through that connection's
process like any other.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import discord.gateway
import discord.http
import pytest

from bots.discord.client import CounterpointClient, ShardedCounterpointClient
from bots.discord.runner import Backoff, build_client, run_discord
from bots.runner import connection_open
from core.service import DebateService
from core.settings import Settings, SettingsError, load_settings
from tests.discord_helpers import answered, text_of
from tests.fakes.discord_fake import FakeDiscord
from tests.test_discord_connect import registered, stop

ALICE = "731500000000000001"


@pytest.fixture(autouse=True)
def restore_discord_urls() -> Iterator[None]:
    route, ws = discord.http.Route, discord.gateway.DiscordWebSocket
    saved = route.BASE, ws.DEFAULT_GATEWAY
    yield
    route.BASE, ws.DEFAULT_GATEWAY = saved


def shards(**env: str) -> tuple[int | None, tuple[int, ...] | None]:
    settings = load_settings(env, dotenv=None)
    return settings.discord_shard_count, settings.discord_shard_ids


def test_shard_settings_are_checked_with_one_line_answers() -> None:
    assert shards() == (None, None)
    assert shards(DISCORD_SHARD_COUNT="4") == (4, None)  # every shard in this process
    assert shards(DISCORD_SHARD_COUNT="4", DISCORD_SHARD_IDS=" 2, 3") == (4, (2, 3))
    bad = {
        "DISCORD_SHARD_COUNT": ({"DISCORD_SHARD_COUNT": "0"}, {"DISCORD_SHARD_COUNT": "two"}),
        "DISCORD_SHARD_IDS": (
            {"DISCORD_SHARD_IDS": "0"},  # no count
            {"DISCORD_SHARD_COUNT": "2", "DISCORD_SHARD_IDS": "2"},  # ids run 0..count-1
            {"DISCORD_SHARD_COUNT": "2", "DISCORD_SHARD_IDS": "0,0"},
            {"DISCORD_SHARD_COUNT": "2", "DISCORD_SHARD_IDS": "0;1"},
            {"DISCORD_SHARD_COUNT": "2", "DISCORD_SHARD_IDS": "-1"},
        ),
    }
    for name, envs in bad.items():
        for env in envs:
            with pytest.raises(SettingsError) as caught:
                load_settings(env, dotenv=None)
            message = str(caught.value)
            assert message.startswith(f"{name}:") and "\n" not in message, message


def test_the_client_is_sharded_only_when_asked(service: DebateService) -> None:
    plain = build_client(Settings(discord_token="t"), service)
    assert type(plain) is CounterpointClient
    split = build_client(Settings(discord_token="t", discord_shard_count=4, discord_shard_ids=(1, 3)), service)
    assert isinstance(split, ShardedCounterpointClient)
    assert split.shard_count == 4 and split.shard_ids == [1, 3]
    every = build_client(Settings(discord_token="t", discord_shard_count=2), service)
    assert isinstance(every, ShardedCounterpointClient) and every.shard_count == 2 and every.shard_ids is None


async def test_a_process_runs_its_shard_and_answers_on_it(service: DebateService) -> None:
    async with FakeDiscord() as fake:
        fake.add_member(ALICE, "alice", permissions=0)
        port_number = int(fake.api_base.split(":")[2].split("/")[0])
        settings = Settings(discord_token=fake.token, discord_api_base=f"http://127.0.0.1:{port_number}/api/v10",
                            discord_gateway_url=f"ws://127.0.0.1:{port_number}/gateway",
                            discord_shard_count=2, discord_shard_ids=(1,))
        ports: dict[str, Any] = {}
        task = asyncio.create_task(run_discord(settings, service, ports, backoff=Backoff(first=0.01),
                                               guild_ready_timeout=0.05))
        try:
            port = await registered(ports, task)
            assert [p.get("shard") for p in fake.identify_payloads] == [[1, 2]]
            assert isinstance(port.client, ShardedCounterpointClient)
            assert connection_open(port)  # the health check sees the shard's connection
            answer = await answered(await fake.slash("debate", subcommand="help", user_id=ALICE))
            assert "Counterpoint" in text_of(answer)
            await stop(task)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
