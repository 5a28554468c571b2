"""Slow and idle connections, and the open-files limit, for the HTTP endpoint.

aiohttp's server has no deadline for a request that trickles its headers a byte at a time (only recent
versions close a connection that never sends a request, and only after `keepalive_timeout`, an hour by
default), so 1,100 such connections once took every file descriptor and signed requests got 500. Here
each connection must deliver its next request's headers within `header_timeout` of connecting or of its
previous response, bodies are read under `body_timeout` (in the handler), at most `max_connections`
are open at once, and the process raises its open-files soft limit to the hard limit at start.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from aiohttp import web

log = logging.getLogger(__name__)

FD_RESERVE = 256  # descriptors kept for the database, the Web API client and the response_url session


@dataclass(frozen=True)
class HttpLimits:
    header_timeout: float = 10.0  # connect (or previous response) to a complete request head
    body_timeout: float = 10.0  # request head to a complete body
    max_connections: int = 4096  # open at once; more are closed as soon as they are accepted


class ConnectionGuard:
    """Wraps aiohttp's protocol factory: a deadline per request head, and a cap on open connections."""

    def __init__(self, limits: HttpLimits) -> None:
        self.limits = limits
        self.open = 0
        self.expired = 0
        self.refused = 0
        self._deadlines: dict[asyncio.BaseTransport, asyncio.TimerHandle | None] = {}

    def wrap(self, factory: Callable[[], asyncio.Protocol]) -> Callable[[], asyncio.Protocol]:
        def make() -> asyncio.Protocol:
            if self.open >= self.limits.max_connections:
                return _Refused(self)
            return _Guarded(self, factory())

        return make

    def request_started(self, transport: asyncio.BaseTransport | None) -> None:
        if transport is not None and transport in self._deadlines:
            self._cancel(transport)
            self._deadlines[transport] = None

    def request_finished(self, transport: asyncio.BaseTransport | None) -> None:
        """The next request head (keep-alive) has the same deadline as the first one had."""
        if transport is not None and transport in self._deadlines and not transport.is_closing():
            self._arm(transport)

    def _arm(self, transport: asyncio.BaseTransport) -> None:
        self._cancel(transport)
        loop = asyncio.get_running_loop()
        self._deadlines[transport] = loop.call_later(self.limits.header_timeout, self._expire, transport)

    def _cancel(self, transport: asyncio.BaseTransport) -> None:
        handle = self._deadlines.get(transport)
        if handle is not None:
            handle.cancel()

    def _expire(self, transport: asyncio.BaseTransport) -> None:
        self._deadlines[transport] = None
        self.expired += 1
        log.info("closed a connection that sent no complete request within %ss", self.limits.header_timeout)
        _abort(transport)

    def _opened(self, transport: asyncio.BaseTransport) -> None:
        self.open += 1
        self._deadlines[transport] = None
        self._arm(transport)

    def _closed(self, transport: asyncio.BaseTransport) -> None:
        self.open -= 1
        self._cancel(transport)
        self._deadlines.pop(transport, None)


class _Guarded(asyncio.Protocol):
    """Forwards everything to aiohttp's handler; tells the guard when the connection opens and closes."""

    def __init__(self, guard: ConnectionGuard, inner: asyncio.Protocol) -> None:
        self.guard = guard
        self.inner = inner
        self.transport: asyncio.BaseTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.guard._opened(transport)
        self.inner.connection_made(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.transport is not None:
            self.guard._closed(self.transport)
        self.inner.connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self.inner.eof_received()

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()


class _Refused(asyncio.Protocol):
    def __init__(self, guard: ConnectionGuard) -> None:
        self.guard = guard

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.guard.refused += 1
        log.warning("refused a connection: %s are open, the limit", self.guard.limits.max_connections)
        _abort(transport)


def guard_middleware(guard: ConnectionGuard) -> Callable[..., Awaitable[web.StreamResponse]]:
    @web.middleware
    async def middleware(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        guard.request_started(request.transport)
        try:
            return await handler(request)
        finally:
            guard.request_finished(request.transport)

    return middleware


class HttpServer:
    """An aiohttp app served through a ConnectionGuard on one TCP port."""

    def __init__(self, runner: web.AppRunner, server: asyncio.Server) -> None:
        self.runner = runner
        self.server = server

    @property
    def port(self) -> int:
        return int(self.server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        self.server.close()
        await self.runner.cleanup()


async def start_http(app: web.Application, guard: ConnectionGuard, host: str, port: int) -> HttpServer:
    # keepalive_timeout also covers aiohttp versions whose handler closes idle connections itself.
    # No access log: a line per click is noise, and per request it is a flood nothing can fold (each
    # line is formatted before logging sees it). Rejections are logged by the gate, folded.
    runner = web.AppRunner(app, handle_signals=False, keepalive_timeout=guard.limits.header_timeout,
                           lingering_time=1.0, access_log=None)
    await runner.setup()
    try:
        assert runner.server is not None
        loop = asyncio.get_running_loop()
        server = await loop.create_server(guard.wrap(runner.server), host, port, reuse_address=True, backlog=1024)
    except BaseException:
        await runner.cleanup()
        raise
    return HttpServer(runner, server)


def raise_open_files_limit() -> int | None:
    """Soft RLIMIT_NOFILE up to the hard limit (logged once per start); the resulting soft limit."""
    try:
        import resource
    except ImportError:  # not on POSIX: nothing to raise
        return None
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError) as exc:  # macOS caps below an infinite hard limit
            log.warning("open-files limit stays at %s (raising it to %s failed: %s)", soft, target, exc)
            return int(soft)
        log.info("open-files limit raised from %s to %s", soft, target)
        return int(target)
    log.info("open-files limit is %s", soft)
    return None if soft == resource.RLIM_INFINITY else int(soft)


def fit_to_open_files(limits: HttpLimits, open_files: int | None) -> HttpLimits:
    """Fewer connections than descriptors, so the database and the Web API always get one."""
    if open_files is None or open_files - FD_RESERVE >= limits.max_connections:
        return limits
    return replace(limits, max_connections=max(16, open_files - FD_RESERVE))


def _abort(transport: asyncio.BaseTransport) -> None:
    """Drop the connection now (a socket transport); anything else is closed politely."""
    if isinstance(transport, asyncio.WriteTransport):
        transport.abort()
    else:
        transport.close()
