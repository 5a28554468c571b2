"""GET /healthz for `counterpoint run` in every mode (HEALTH_PORT), for systemd, Docker or a monitor.

200 when the database answers a read and at least one adapter is connected; 503 otherwise, with the
same small JSON either way so a person can see which part is down:

    {"status": "ok", "database": "ok", "adapters": {"discord": "connected", "slack": "starting"}}

An adapter is "connected" while it is registered as a scheduler port (it registers once its platform
accepted the token and withdraws when it stops) and its connection is open ("reconnecting" while
the client library reconnects by itself), "starting" before its first connection and
"restarting" after a failure. The body names no member, channel or token. It listens on 127.0.0.1
unless HEALTH_HOST says otherwise: a health endpoint is for the machine's own supervisor.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"
PROBE_SECONDS = 5.0  # a database read slower than this counts as down: the supervisor needs an answer


class Health:
    """What the endpoint reports: adapter states (set by the runner's supervisors) and a database probe."""

    def __init__(self, adapters: Iterable[str], ports: Mapping[str, object],
                 probe: Callable[[], Awaitable[bool]], alive: Callable[[object], bool] = lambda _: True) -> None:
        self._states = dict.fromkeys(adapters, "starting")
        self._ports = ports
        self._probe = probe
        self._alive = alive

    def mark(self, adapter: str, state: str) -> None:
        self._states[adapter] = state

    def adapters(self) -> dict[str, str]:
        states = {}
        for name, state in self._states.items():
            port = self._ports.get(name)
            if port is not None:
                # A client library that reconnects by itself keeps its port registered meanwhile.
                state = "connected" if self._alive(port) else "reconnecting"
            states[name] = state
        return states

    async def database(self) -> str:
        try:
            answered = await asyncio.wait_for(self._probe(), PROBE_SECONDS)
        except Exception as exc:  # any failure to read is "down"; the reason goes to the log only
            log.warning("health check: the database did not answer (%s)", type(exc).__name__)
            return "error"
        if not answered:
            log.warning("health check: the database did not answer")
        return "ok" if answered else "error"

    async def report(self) -> tuple[int, dict[str, Any]]:
        database = await self.database()
        adapters = self.adapters()
        up = database == "ok" and any(state == "connected" for state in adapters.values())
        body = {"status": "ok" if up else "unavailable", "database": database, "adapters": adapters}
        return (200 if up else 503), body


def build_health_app(health: Health) -> web.Application:
    async def healthz(_: web.Request) -> web.StreamResponse:
        status, body = await health.report()
        return web.json_response(body, status=status, headers={"Cache-Control": "no-store"})

    app = web.Application()
    app.router.add_get(HEALTH_PATH, healthz)
    return app


async def start_health(health: Health, host: str, port: int) -> web.AppRunner:
    """Listen now (so a taken port fails before any adapter starts); port 0 picks a free port, which the
    log line names. Stop with `runner.cleanup()`."""
    runner = web.AppRunner(build_health_app(health), handle_signals=False, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port, reuse_address=True).start()
    except BaseException:
        await runner.cleanup()
        raise
    bound = runner.addresses[0][1] if runner.addresses else port
    log.info("health check: listening on http://%s:%s%s", host, bound, HEALTH_PATH)
    return runner
