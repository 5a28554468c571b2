"""Run the Discord client on a shared service until cancelled; force a command sync on demand."""

from __future__ import annotations

import logging
from typing import Any

import discord
import discord.gateway
import discord.http
import yarl

from bots.discord.client import CounterpointClient
from bots.discord.port import DiscordPort
from core.scheduler.commands import ScheduleCommands
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
    return CounterpointClient(
        service,
        schedule=ScheduleCommands(service).handle,
        dev_guild=settings.discord_dev_guild,
        force_sync=force_sync,
        on_port=on_port,
        **options,
    )


def _token(settings: Settings) -> str:
    if not settings.discord_token:
        raise SettingsError("DISCORD_TOKEN: not set; copy the bot token from the Developer Portal (Bot page)")
    return settings.discord_token


async def run_discord(settings: Settings, service: DebateService, scheduler_ports: dict[str, PlatformPort],
                      **client_options: Any) -> None:
    """Connect and serve until cancelled. The port joins `scheduler_ports["discord"]` once ready.

    `client_options` go to discord.Client (tests pass a short guild_ready_timeout)."""
    token = _token(settings)
    point_at(settings)
    registered: list[DiscordPort] = []

    def on_port(port: DiscordPort) -> None:
        scheduler_ports[port.platform] = port
        registered.append(port)

    client = build_client(settings, service, on_port=on_port, **client_options)
    try:
        async with client:
            await client.start(token)
    except discord.LoginFailure:
        raise SettingsError("DISCORD_TOKEN: Discord refused the token; reset it on the Bot page and "
                            "set the new one") from None
    finally:
        if registered and scheduler_ports.get("discord") is registered[-1]:
            del scheduler_ports["discord"]


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
