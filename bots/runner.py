"""`counterpoint run`: start every configured chat adapter and the scheduler on one shared service."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys
from collections.abc import Awaitable, Callable
from datetime import timedelta

from core.scheduler.engine import Scheduler
from core.scheduler.port import PlatformPort
from core.service import DebateService
from core.settings import Settings

log = logging.getLogger(__name__)

NOTHING_CONFIGURED = (
    "no chat adapter is configured: set DISCORD_TOKEN for Discord, or SLACK_BOT_TOKEN plus "
    "SLACK_SIGNING_SECRET (HTTP) or SLACK_APP_TOKEN (Socket Mode) for Slack - see .env.example; "
    "to try the bot without tokens run 'counterpoint console'"
)

AdapterRunner = Callable[[Settings, DebateService, dict[str, PlatformPort]], Awaitable[None]]


def configured_adapters(settings: Settings) -> dict[str, AdapterRunner]:
    """Import only the adapters that are configured, so an unused platform costs nothing."""
    adapters: dict[str, AdapterRunner] = {}
    if settings.slack_configured:
        from bots.slack.server import run_slack

        adapters["slack"] = run_slack
    if settings.discord_configured:
        from bots.discord.runner import run_discord

        adapters["discord"] = run_discord
    return adapters


async def run_adapters(settings: Settings) -> int:
    if not (settings.discord_configured or settings.slack_configured):
        print(f"counterpoint: {NOTHING_CONFIGURED}", file=sys.stderr)
        return 2
    from bots.wiring import open_service

    adapters = configured_adapters(settings)
    async with open_service(settings) as service:
        ports: dict[str, PlatformPort] = {}
        holder = f"{socket.gethostname()}:{os.getpid()}"
        scheduler = Scheduler(service, ports, holder, grace=timedelta(minutes=settings.schedule_grace_minutes))
        tasks = [asyncio.create_task(run(settings, service, ports), name=f"adapter-{name}")
                 for name, run in adapters.items()]
        tasks.append(asyncio.create_task(scheduler.run_forever(), name="scheduler"))
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        log.info("running: %s", ", ".join(adapters))
        stopper = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait([*tasks, stopper], return_when=asyncio.FIRST_COMPLETED)
        failed = [t for t in done if t is not stopper and t.exception() is not None]
        for task in [*tasks, stopper]:
            task.cancel()
        await asyncio.gather(*tasks, stopper, return_exceptions=True)
        for task in failed:
            log.error("%s stopped: %s", task.get_name(), task.exception())
        return 1 if failed else 0
