"""Running HTTP mode for real (run_slack on a loopback port against FakeSlack): start-up while the Web API
is briefly unreachable, the first request after start, slow and idle connections, the open-files limit."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import resource
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

import bots.slack.server as server
from core.service import DebateService
from tests.fakes.slack_fake import FakeSlack, sign, slash_body
from tests.slack_helpers import SECRET, free_port, slack_settings

SLOW_CONNECTIONS = 300


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        fake.set_user("U0001")
        yield fake


@contextlib.asynccontextmanager
async def serving(slack: FakeSlack, service: DebateService) -> AsyncIterator[str]:
    """run_slack in HTTP mode, as the CLI starts it; yields the base URL once /healthz answers."""
    port = free_port()
    task = asyncio.create_task(server.run_slack(slack_settings(slack, slack_port=port), service))
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            async def healthy() -> bool:
                if task.done():
                    task.result()  # start-up failed: raise why
                try:
                    async with http.get(f"{base}/healthz") as resp:
                        return resp.status == 200
                except aiohttp.ClientConnectionError:
                    return False

            await slack.wait_for(healthy, timeout=15)
        yield base
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def command(base: str, slack: FakeSlack, tag: str) -> int:
    """One signed `/debate help` on a fresh connection; the status."""
    body = slash_body(text="help", response_url=slack.response_url(tag))
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as http, \
            http.post(f"{base}{server.EVENTS_PATH}", data=body, headers=sign(SECRET, body)) as resp:
        await resp.read()
        return resp.status


# ------------------------------------------------------------------------- the Web API at start


async def test_start_up_retries_while_the_web_api_refuses_connections(
    slack: FakeSlack, service: DebateService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(server, "STARTUP_RETRY_DELAYS", (0.05,) * 5, raising=False)
    slack.fail_next("auth.test", drop=True, times=4)  # more than the Web API client's own retries
    async with serving(slack, service) as base:
        assert len(slack.calls_to("auth.test")) == 5
        assert await asyncio.wait_for(command(base, slack, "after-blip"), 3) == 200
        await slack.wait_for(lambda: [r for r in slack.responses if r.tag == "after-blip"])


async def test_first_request_after_start_does_not_need_the_web_api(slack: FakeSlack, service: DebateService) -> None:
    async with serving(slack, service) as base:
        assert len(slack.calls_to("auth.test")) == 1  # the start-up check
        # Unreachable now: Bolt's lazy auth.test on the first request made this a 500.
        slack.fail_next("auth.test", drop=True, times=3)
        assert await asyncio.wait_for(command(base, slack, "first"), 3) == 200
        await slack.wait_for(lambda: [r for r in slack.responses if r.tag == "first"])
        assert len(slack.calls_to("auth.test")) == 1


async def test_a_token_slack_refuses_still_fails_start_up_at_once(slack: FakeSlack, service: DebateService) -> None:
    slack.fail_next("auth.test", "invalid_auth", times=1)
    with pytest.raises(server.SettingsError, match="invalid_auth"):
        await server.run_slack(slack_settings(slack, slack_port=free_port()), service)
    assert len(slack.calls_to("auth.test")) == 1


# ------------------------------------------------------------------------- slow clients, file descriptors


async def trickle(port: int, head: bytes, slow: bytes, connected: list[int], closed: list[int], i: int) -> None:
    """Send `head` at once, then `slow` three bytes at a time, until the server gives up on us."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    connected.append(i)
    try:
        writer.write(head)
        for start in range(0, len(slow), 3):
            writer.write(slow[start:start + 3])
            await writer.drain()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(reader.read(1024), 0.2)  # anything back (a 408, or EOF): given up
                closed.append(i)
                return
    except (ConnectionError, OSError):
        closed.append(i)
    finally:
        writer.close()


@pytest.fixture
def low_open_files() -> Any:
    """A soft open-files limit well below the hard one, as a default systemd/ulimit setup has."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    low = min(soft, 1024) if hard > 1024 else soft
    resource.setrlimit(resource.RLIMIT_NOFILE, (low, hard))
    yield hard
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


async def test_slow_connections_are_closed_while_signed_requests_are_answered(
    slack: FakeSlack, service: DebateService, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
    low_open_files: int,
) -> None:
    caplog.set_level(logging.INFO, logger="bots.slack.http_guard")
    limits = getattr(server, "HTTP_LIMITS", None)
    if limits is not None:  # shorter deadlines keep the test short; the defaults are 10 s
        monkeypatch.setattr(server, "HTTP_LIMITS", dataclasses.replace(limits, header_timeout=1.0, body_timeout=1.0))
    async with serving(slack, service) as base:
        assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] == low_open_files
        raised = [r for r in caplog.records if "open-files limit" in r.getMessage()]
        assert len(raised) == 1, [r.getMessage() for r in raised]

        port = int(base.rsplit(":", 1)[1])
        request_line = b"POST /slack/events HTTP/1.1\r\n"
        slow_head = b"".join(b"X-Pad-%03d: aaaaaaaa\r\n" % n for n in range(100))  # a head that never ends
        body_head = request_line + b"Host: 127.0.0.1\r\nContent-Length: 5000\r\n\r\n"  # then a body, slowly
        connected: list[int] = []
        closed: list[int] = []
        slow = [asyncio.create_task(trickle(port, body_head, b"a" * 5000, connected, closed, i) if i % 10 == 0
                                    else trickle(port, request_line, slow_head, connected, closed, i))
                for i in range(SLOW_CONNECTIONS)]
        try:
            await asyncio.wait_for(_until(lambda: len(connected) == SLOW_CONNECTIONS), 10)
            for n in range(8):
                assert await asyncio.wait_for(command(base, slack, f"busy-{n}"), 3) == 200
            # Every slow connection is closed by the server (the wait is a hang detector, not a benchmark).
            await asyncio.wait_for(asyncio.gather(*slow), 20)
        finally:
            for task in slow:
                task.cancel()
        assert sorted(closed) == list(range(SLOW_CONNECTIONS))
        await slack.wait_for(lambda: len([r for r in slack.responses if r.tag.startswith("busy-")]) == 8)


async def test_connections_beyond_the_limit_are_closed_at_once_and_service_resumes() -> None:
    from bots.slack.http_guard import ConnectionGuard, HttpLimits, guard_middleware, start_http

    guard = ConnectionGuard(HttpLimits(header_timeout=30.0, body_timeout=30.0, max_connections=3))
    app = web.Application(middlewares=[guard_middleware(guard)])

    async def ok(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    app.router.add_get("/", ok)
    http = await start_http(app, guard, "127.0.0.1", 0)
    try:
        held = [await asyncio.open_connection("127.0.0.1", http.port) for _ in range(5)]
        # Two over the limit: closed without a word, long before the 30 s head deadline.
        ends = await asyncio.gather(*(asyncio.wait_for(r.read(), 5) for r, _ in held[3:]))
        assert ends == [b"", b""] and guard.refused == 2 and guard.open == 3
        for _, writer in held:
            writer.close()
        await asyncio.wait_for(_until(lambda: guard.open == 0), 5)
        async with aiohttp.ClientSession() as client, client.get(f"http://127.0.0.1:{http.port}/") as resp:
            assert resp.status == 200 and await resp.text() == "ok"
    finally:
        await http.close()


async def _until(predicate: Any) -> None:
    """Polls until `predicate()` holds (callers bound it with wait_for)."""
    for _ in iter(int, 1):  # forever
        if predicate():
            return
        await asyncio.sleep(0.01)


def test_the_connection_cap_leaves_descriptors_for_the_database_and_the_web_api() -> None:
    from bots.slack.http_guard import FD_RESERVE, HttpLimits, fit_to_open_files

    limits = HttpLimits(max_connections=4096)
    assert fit_to_open_files(limits, 1024).max_connections == 1024 - FD_RESERVE
    assert fit_to_open_files(limits, 1_048_576) == limits and fit_to_open_files(limits, None) == limits
