"""Running the Slack adapter: HTTP mode (aiohttp, with gates in front of Bolt) or Socket Mode.

The signature gate exists because Bolt's own check lets slack_sdk raise ValueError on a malformed
timestamp (non-numeric, empty, thousands of digits), which Bolt turns into a 500. Here every request that
is unsigned, wrongly signed or stale is a 401 before anything parses it; a signed body that is not a
request this app handles, in a shape Bolt and the listeners can rely on, is a 400 (bots.slack.gate); a
repeat of a request already handled is acknowledged without acting twice; only then does Bolt see it
(and verifies the signature again, which costs microseconds). Slow clients are bounded by
bots.slack.http_guard.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.adapter.socket_mode.internals import build_headers
from slack_bolt.async_app import AsyncApp
from slack_bolt.middleware.authorization.async_single_team_authorization import AsyncSingleTeamAuthorization
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bots.slack.app import SlackAdapter, build_slack_app, make_client, slack_error
from bots.slack.gate import RecentRequests, Rejected, admit, admit_socket, request_identity
from bots.slack.http_guard import (
    ConnectionGuard,
    HttpLimits,
    fit_to_open_files,
    guard_middleware,
    raise_open_files_limit,
    start_http,
)
from core.scheduler.port import PlatformPort
from core.service import DebateService
from core.settings import Settings, SettingsError

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
MAX_SKEW_SECONDS = 300  # Slack's own replay window
MAX_TIMESTAMP_DIGITS = 12  # unix seconds until the year 33658; longer is never a real timestamp
MAX_BODY_BYTES = 1024 * 1024
HTTP_LIMITS = HttpLimits()
# Waits between auth.test attempts at start while the Web API is unreachable (about a minute in all).
STARTUP_RETRY_DELAYS: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0)
GUARD = web.AppKey("connection_guard", ConnectionGuard)


def slack_mode(settings: Settings) -> str:
    """SLACK_MODE wins; otherwise Socket Mode exactly when an app-level token is present."""
    return settings.slack_mode or ("socket" if settings.slack_app_token else "http")


def signature_ok(
    headers: Mapping[str, str], body: bytes, secret: str, now: Callable[[], float] = time.time
) -> bool:
    """Slack's v0 scheme, refusing (never raising on) any malformed header."""
    timestamp = headers.get("X-Slack-Request-Timestamp", "")
    signature = headers.get("X-Slack-Signature", "")
    if not secret or not signature or not timestamp:
        return False
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > MAX_TIMESTAMP_DIGITS:
        return False
    if abs(now() - int(timestamp)) > MAX_SKEW_SECONDS:
        return False
    digest = hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(f"v0={digest}".encode(), signature.encode("utf-8", "replace"))


def build_web_app(
    bolt: AsyncApp, signing_secret: str, now: Callable[[], float] = time.time, limits: HttpLimits | None = None,
) -> web.Application:
    """POST /slack/events (signature gate, shape gate, retry memory, then Bolt) and GET /healthz."""
    limits = limits or HTTP_LIMITS
    guard = ConnectionGuard(limits)
    recent = RecentRequests()

    async def events(request: web.Request) -> web.StreamResponse:
        try:
            async with asyncio.timeout(limits.body_timeout):
                body = await request.read()
        except TimeoutError:
            log.info("closed a request whose body did not arrive within %ss", limits.body_timeout)
            response = web.json_response({"error": "request body too slow"}, status=408)
            response.force_close()
            return response
        if not signature_ok(request.headers, body, signing_secret, now):
            # The only trace of a wrong SLACK_SIGNING_SECRET (there is no access log); folded when repeated.
            log.info("refused a request without a valid Slack signature")
            return web.json_response({"error": "invalid signature"}, status=401)
        try:
            raw = body.decode("utf-8")
        except UnicodeDecodeError:
            return _rejected(Rejected(400, "body is not UTF-8"))
        admitted = admit(raw, request.headers, request.query_string)
        if isinstance(admitted, Rejected):
            return _rejected(admitted)
        identity = request_identity(admitted, raw)
        if identity is None:
            return await to_aiohttp_response(await bolt.async_dispatch(admitted))
        if identity in recent:
            # Slack retries what it thinks went unanswered; it was answered (or is being answered).
            log.info("acknowledged a repeat of a request already handled (retry %s)",
                     request.headers.get("X-Slack-Retry-Num", "none")[:8])
            return web.Response(status=200)
        recent.add(identity)  # before dispatching: a retry racing the first attempt must not act either
        try:
            dispatched = await bolt.async_dispatch(admitted)
        except BaseException:
            recent.discard(identity)
            raise
        if dispatched.status >= 500:
            recent.discard(identity)  # not acknowledged, so Slack's retry should act
        return await to_aiohttp_response(dispatched)

    async def health(_: web.Request) -> web.StreamResponse:
        return web.json_response({"ok": True})

    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[guard_middleware(guard)])
    app[GUARD] = guard
    app.router.add_post(EVENTS_PATH, events)
    app.router.add_get(HEALTH_PATH, health)
    return app


def _rejected(rejected: Rejected) -> web.StreamResponse:
    log.info("rejected a signed request (%s): %s", rejected.status, rejected.reason)
    return web.json_response({"error": rejected.reason}, status=rejected.status)


async def serve_http(
    adapter: SlackAdapter, signing_secret: str, port: int, host: str = "0.0.0.0", limits: HttpLimits | None = None
) -> None:
    limits = fit_to_open_files(limits or HTTP_LIMITS, raise_open_files_limit())
    app = build_web_app(adapter.app, signing_secret, limits=limits)
    server = await start_http(app, app[GUARD], host, port)
    try:
        log.info("Slack HTTP mode: listening on %s:%s%s", host, server.port, EVENTS_PATH)
        await asyncio.Event().wait()
    finally:
        await server.close()


class GatedSocketModeHandler(AsyncSocketModeHandler):
    """Socket Mode through the same shape gate as HTTP: a malformed payload is acked and dropped.

    (An ack, not silence: Slack would otherwise redeliver what can never be handled.)
    """

    async def handle(self, client: Any, req: SocketModeRequest) -> None:  # type: ignore[override]
        admitted = admit_socket(req.payload, build_headers(req) or {})
        if isinstance(admitted, Rejected):
            log.info("dropped a Socket Mode %s payload: %s", req.type, admitted.reason)
            await client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
            return
        await super().handle(client, req)


async def serve_socket(adapter: SlackAdapter, app_token: str) -> None:
    handler = GatedSocketModeHandler(adapter.app, app_token, web_client=adapter.client)
    try:
        await handler.connect_async()
        log.info("Slack Socket Mode: connected")
        await asyncio.Event().wait()
    finally:
        await handler.close_async()


async def check_token(adapter: SlackAdapter, delays: tuple[float, ...] | None = None) -> AsyncSlackResponse:
    """Who the token signs in as: one clear line at start-up if Slack refuses it.

    A Web API that cannot be reached is retried (STARTUP_RETRY_DELAYS) rather than fatal: a restart
    during a network blip must not leave the bot down.
    """
    waits = list(STARTUP_RETRY_DELAYS if delays is None else delays)
    while True:
        try:
            identity = await adapter.client.auth_test()
            break
        except SlackApiError as exc:
            raise SettingsError(f"SLACK_BOT_TOKEN: Slack refused it ({slack_error(exc)})") from None
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            if not waits:
                raise SettingsError(f"Slack Web API unreachable at start-up ({slack_error(exc)})") from None
            wait = waits.pop(0)
            log.warning("Slack Web API unreachable (%s); trying again in %ss", slack_error(exc), wait)
            await asyncio.sleep(wait)
    log.info("Slack: signed in as %s in %s", identity.get("user"), identity.get("team"))
    return identity


def prime_authorization(bolt: AsyncApp, identity: AsyncSlackResponse) -> bool:
    """Hand Bolt the auth.test answer we already have.

    Bolt's single-workspace authorization calls auth.test lazily, on the first request it sees, and a
    Web API that is briefly unreachable then makes that request a 500 (a connection error is not the
    SlackApiError it catches). With the answer cached it never calls. False when this Bolt version has
    no such middleware (then the lazy call is back, and the start-up test says so).
    """
    primed = False
    for middleware in getattr(bolt, "_async_middleware_list", []):
        if isinstance(middleware, AsyncSingleTeamAuthorization):
            middleware.auth_test_result = identity
            primed = True
    if not primed:
        log.warning("could not pre-load Bolt's authorization; it will call auth.test on the first request")
    return primed


async def run_slack(
    settings: Settings,
    service: DebateService,
    ports: dict[str, PlatformPort] | None = None,
    **adapter_options: Any,
) -> None:
    """Run the Slack adapter until cancelled; pending refreshes are finished on the way out.

    With `ports` (the runner's scheduler ports), the adapter registers itself as the "slack" port
    once Slack has accepted the token, and withdraws when it stops.
    """
    if not settings.slack_bot_token:
        raise SettingsError("SLACK_BOT_TOKEN: required for the Slack adapter")
    mode = slack_mode(settings)
    adapter = build_slack_app(service, settings, make_client(settings), **adapter_options)
    prime_authorization(adapter.app, await check_token(adapter))
    if ports is not None:
        ports[adapter.platform] = adapter
    try:
        if mode == "socket":
            if not settings.slack_app_token:
                raise SettingsError("SLACK_APP_TOKEN: Socket Mode needs an app-level token (xapp-...)")
            await serve_socket(adapter, settings.slack_app_token)
        else:
            if not settings.slack_signing_secret:
                raise SettingsError("SLACK_SIGNING_SECRET: required in HTTP mode")
            await serve_http(adapter, settings.slack_signing_secret, settings.slack_port)
    finally:
        if ports is not None and ports.get(adapter.platform) is adapter:
            del ports[adapter.platform]
        await adapter.close()
