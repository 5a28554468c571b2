"""`counterpoint run`: start every configured chat adapter and the scheduler on one shared service.

Each adapter runs under a supervisor: a configuration error on its first start (a refused token, a
missing secret) stops the process with one line naming the variable; any later failure - a gateway
that drops, an API outage - is logged and the adapter restarts with backoff while the others keep
serving. SIGTERM or SIGINT stops everything within SHUTDOWN_SECONDS, queued writes finished.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys
from collections.abc import Awaitable, Callable
from datetime import timedelta

from aiohttp import web

from bots.health import Health, start_health
from bots.logsafety import redact
from core.scheduler.engine import Scheduler
from core.scheduler.port import PlatformPort
from core.service import DebateService
from core.settings import Settings, SettingsError

log = logging.getLogger(__name__)

NOTHING_CONFIGURED = (
    "no chat adapter is configured: set DISCORD_TOKEN for Discord, or SLACK_BOT_TOKEN plus "
    "SLACK_SIGNING_SECRET (HTTP) or SLACK_APP_TOKEN (Socket Mode) for Slack - see .env.example; "
    "to try the bot without tokens run 'counterpoint console'"
)
# systemd's default stop timeout is 90 s, Docker's 10 s: leave room for the store to close.
SHUTDOWN_SECONDS = 8.0
RESTART_DELAYS = (1.0, 2.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0)
HEALTHY_AFTER = 120.0  # an adapter that ran this long starts its backoff again from the first delay

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


async def supervise(
    name: str,
    run: Callable[[], Awaitable[None]],
    delays: tuple[float, ...] = RESTART_DELAYS,
    clock: Callable[[], float] | None = None,
    on_state: Callable[[str], None] | None = None,
) -> None:
    """Run an adapter until cancelled, restarting it after failures with growing delays.

    Only a SettingsError on the very first start escapes: that is a configuration error the
    operator must fix, and restarting would only repeat it (and spend invalid-token requests).
    `on_state` hears "restarting" after each failure (the health endpoint shows it).
    """
    loop = asyncio.get_running_loop()
    now = clock or loop.time
    attempt = 0
    first = True
    while True:
        started = now()
        try:
            await run()
            log.warning("%s adapter stopped by itself; restarting", name)
        except asyncio.CancelledError:
            raise
        except SettingsError:
            if first:
                raise
            log.exception("%s adapter failed with a configuration error; retrying", name)
        except Exception as exc:
            log.error("%s adapter failed: %s: %s; the other adapters keep serving", name, type(exc).__name__,
                      redact(str(exc)))
        first = False
        if on_state is not None:
            on_state("restarting")
        if now() - started >= HEALTHY_AFTER:
            attempt = 0
        delay = delays[min(attempt, len(delays) - 1)]
        attempt += 1
        log.info("restarting the %s adapter in %.0f s", name, delay)
        await asyncio.sleep(delay)


async def stop_tasks(tasks: list[asyncio.Task[None]], within: float = SHUTDOWN_SECONDS) -> None:
    """Cancel and wait, but never longer than `within`: a task stuck in a 45 s rate-limit wait is left."""
    for task in tasks:
        task.cancel()
    _done, pending = await asyncio.wait(tasks, timeout=within) if tasks else (set(), set())
    for task in pending:
        log.warning("%s did not stop within %.0f s; leaving it", task.get_name(), within)


async def _wait(event: asyncio.Event) -> None:
    await event.wait()


def connection_open(port: object) -> bool:
    """False while discord.py reconnects on its own (its port stays registered); other ports: True."""
    discord = sys.modules.get("discord")  # loaded only when the Discord adapter is configured
    client = getattr(port, "client", None)
    if discord is None or not isinstance(client, discord.Client):
        return True
    if isinstance(client, discord.AutoShardedClient):  # DISCORD_SHARD_*: one connection per shard
        shards = client.shards.values()
        return bool(shards) and not any(shard.is_closed() for shard in shards)
    ws = getattr(client, "ws", None)
    return bool(ws is not None and getattr(ws, "open", False))


async def _start_health(health: Health, settings: Settings) -> web.AppRunner | None:
    if settings.health_port is None:
        return None
    try:
        return await start_health(health, settings.health_host, settings.health_port)
    except OSError as exc:
        raise SettingsError(f"HEALTH_PORT: cannot listen on {settings.health_host}:{settings.health_port} "
                            f"({exc.strerror or exc})") from None


async def run_adapters(settings: Settings) -> int:
    if not (settings.discord_configured or settings.slack_configured):
        print(f"counterpoint: {NOTHING_CONFIGURED}", file=sys.stderr)
        return 2
    from bots.tuning import tune_runtime
    from bots.wiring import open_service

    adapters = configured_adapters(settings)
    # exclusive: a second `run` on the same SQLite file refuses to start (one writer per file).
    async with open_service(settings, exclusive=True) as service:
        log.info("database: %s", settings.database_file)
        tune_runtime()  # after start-up, so what it built is frozen out of the collector's passes
        ports: dict[str, PlatformPort] = {}
        holder = f"{socket.gethostname()}:{os.getpid()}"
        scheduler = Scheduler(service, ports, holder, grace=timedelta(minutes=settings.schedule_grace_minutes))
        health = Health(adapters, ports, service.database_ok, alive=connection_open)
        health_server = await _start_health(health, settings)

        def starter(run: AdapterRunner) -> Callable[[], Awaitable[None]]:
            return lambda: run(settings, service, ports)

        def marker(name: str) -> Callable[[str], None]:
            return lambda state: health.mark(name, state)

        tasks = [asyncio.create_task(supervise(name, starter(run), on_state=marker(name)), name=f"adapter-{name}")
                 for name, run in adapters.items()]
        tasks.append(asyncio.create_task(scheduler.run_forever(), name="scheduler"))
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        log.info("running: %s", ", ".join(adapters))
        stopper: asyncio.Task[None] = asyncio.create_task(_wait(stop), name="stop-signal")
        done, _ = await asyncio.wait([*tasks, stopper], return_when=asyncio.FIRST_COMPLETED)
        failed = [t for t in done if t is not stopper and not t.cancelled() and t.exception() is not None]
        await stop_tasks([*tasks, stopper])
        if health_server is not None:
            await health_server.cleanup()
        for task in failed:
            exc = task.exception()
            if isinstance(exc, SettingsError):
                print(f"counterpoint: {exc}", file=sys.stderr)
            else:
                log.error("%s stopped: %s", task.get_name(), redact(str(exc)))
        return 2 if any(isinstance(t.exception(), SettingsError) for t in failed) else (1 if failed else 0)
