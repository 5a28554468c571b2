"""Run the Discord client on a shared service until cancelled; force a command sync on demand.

One adapter must not take the others down: once the token has been accepted, every failure to
connect or stay connected is logged and retried with backoff instead of ending the process.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import discord
import discord.gateway
import discord.http
import yarl

from bots.discord.client import CounterpointClient, ShardedCounterpointClient
from bots.discord.port import DiscordPort
from core.scheduler.port import PlatformPort
from core.service import DebateService
from core.settings import Settings, SettingsError

log = logging.getLogger(__name__)


def point_at(settings: Settings) -> None:
    """Send REST and gateway traffic where the settings say (a proxy, a local fake); defaults otherwise.

    Route.BASE is read per request (interaction callbacks and followups included) and DEFAULT_GATEWAY
    per connection, so setting both before the client starts covers every request it makes."""
    if settings.discord_api_base:
        discord.http.Route.BASE = settings.discord_api_base.rstrip("/")
    if settings.discord_gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord_gateway_url)


def build_client(settings: Settings, service: DebateService, *, force_sync: bool = False,
                 on_port: Any = None, **options: Any) -> CounterpointClient:
    kind = CounterpointClient
    if settings.discord_shard_count is not None:
        kind = ShardedCounterpointClient
        # None: every shard of the count, in this process.
        options = {"shard_count": settings.discord_shard_count,
                   "shard_ids": list(settings.discord_shard_ids) if settings.discord_shard_ids else None, **options}
    return kind(
        service,
        dev_guild=settings.discord_dev_guild,
        force_sync=force_sync,
        on_port=on_port,
        **options,
    )


@dataclass(frozen=True)
class Backoff:
    """Delays between connection attempts; injectable so tests need not wait them out."""

    first: float = 2.0
    factor: float = 2.0
    most: float = 300.0
    # A token that worked and is now refused needs a person to reset it: retry rarely, never hot.
    auth: float = 900.0
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

    def delay(self, failures: int) -> float:
        return min(self.first * self.factor ** max(failures - 1, 0), self.most)


# Network trouble, Discord outages and unexpected gateway closes: all worth another try.
RETRYABLE = (OSError, aiohttp.ClientError, asyncio.TimeoutError, discord.HTTPException, discord.GatewayNotFound,
             discord.ConnectionClosed)
AUTH_CLOSE = 4004  # gateway close code: authentication failed
REFUSED_TOKEN = "DISCORD_TOKEN: Discord refused the token; reset it on the Bot page and set the new one"


def _token(settings: Settings) -> str:
    if not settings.discord_token:
        raise SettingsError("DISCORD_TOKEN: not set; copy the bot token from the Developer Portal (Bot page)")
    return settings.discord_token


async def run_discord(settings: Settings, service: DebateService, scheduler_ports: dict[str, PlatformPort],
                      *, backoff: Backoff | None = None, **client_options: Any) -> None:
    """Connect and serve until cancelled. The port joins `scheduler_ports["discord"]` once ready.

    A token refused before the bot was ever ready is a configuration error (SettingsError); after
    that, a refused token or any connection failure is logged and retried (see Backoff).
    `client_options` go to discord.Client (tests pass a short guild_ready_timeout)."""
    token = _token(settings)
    point_at(settings)
    backoff = backoff or Backoff()
    registered: list[DiscordPort] = []
    failures = 0

    def on_port(port: DiscordPort) -> None:
        scheduler_ports[port.platform] = port
        registered.append(port)

    while True:
        ready_before = len(registered)
        refused = False
        # A closed discord.Client is not meant to be started again: each attempt gets a new one.
        client = build_client(settings, service, on_port=on_port, **client_options)
        try:
            async with client:
                await client.start(token)
            reason = "the connection ended"
        except discord.LoginFailure:
            refused, reason = True, "the token was refused"
        except discord.ConnectionClosed as exc:
            refused, reason = exc.code == AUTH_CLOSE, f"the gateway closed the connection ({exc.code})"
        except RETRYABLE as exc:
            reason = f"cannot reach Discord ({type(exc).__name__})"
        finally:
            if registered and scheduler_ports.get("discord") is registered[-1]:
                del scheduler_ports["discord"]
        if refused and not registered:
            raise SettingsError(REFUSED_TOKEN)
        failures = 1 if len(registered) > ready_before else failures + 1
        if refused:
            delay = backoff.auth
            log.error("Discord: %s after it had worked; reset it on the Bot page if this goes on. "
                      "Retrying in %.0fs", reason, delay)
        else:
            delay = backoff.delay(failures)
            log.warning("Discord: %s; retrying in %.1fs", reason, delay)
        await backoff.sleep(delay)


async def sync_commands(settings: Settings, service: DebateService, **client_options: Any) -> str:
    """Log in over REST only, push the commands whatever the stored hash says, and say where."""
    token = _token(settings)
    point_at(settings)
    client = build_client(settings, service, force_sync=True, **client_options)
    try:
        async with client:
            await client.login(token)  # login runs setup_hook, which does the sync
    except discord.LoginFailure:
        raise SettingsError("DISCORD_TOKEN: Discord refused the token") from None
    target = f"server {settings.discord_dev_guild}" if settings.discord_dev_guild else "all servers (global)"
    return f"synced the Discord commands to {target}"
