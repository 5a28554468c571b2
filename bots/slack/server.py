"""Running the Slack adapter: HTTP mode (aiohttp, with a signature gate in front of Bolt) or Socket Mode.

The gate exists because Bolt's own check lets slack_sdk raise ValueError on a malformed timestamp
(non-numeric, empty, thousands of digits), which Bolt turns into a 500. Here every request that is
unsigned, wrongly signed or stale is a 401 before anything parses it, and a signed body of the wrong
shape is a 400; only then does Bolt see it (and verifies it again, which costs microseconds).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qs

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError

from bots.slack.app import SlackAdapter, build_slack_app, make_client, slack_error
from core.scheduler.port import PlatformPort
from core.service import DebateService
from core.settings import Settings, SettingsError

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
MAX_SKEW_SECONDS = 300  # Slack's own replay window
MAX_TIMESTAMP_DIGITS = 12  # unix seconds until the year 33658; longer is never a real timestamp
MAX_BODY_BYTES = 1024 * 1024
KNOWN_FORM_KEYS = ("payload", "command", "ssl_check")


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


def body_problem(body: bytes, content_type: str) -> str | None:
    """Why a (signed) body is not something Slack sends, or None when it looks right."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "body is not UTF-8"
    if content_type == "application/json":
        return None if _json_object(text) else "body is not a JSON object with a type"
    fields = parse_qs(text, keep_blank_values=True)
    if "payload" in fields:
        return None if _json_object(fields["payload"][0]) else "payload is not a JSON object with a type"
    if any(key in fields for key in KNOWN_FORM_KEYS):
        return None
    return "body is neither a slash command, an interaction nor an event"


def _json_object(text: str) -> bool:
    try:
        value = json.loads(text)
    except ValueError:
        return False
    return isinstance(value, dict) and isinstance(value.get("type"), str)


def build_web_app(bolt: AsyncApp, signing_secret: str, now: Callable[[], float] = time.time) -> web.Application:
    """POST /slack/events (signature gate, then Bolt) and GET /healthz."""

    async def events(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        if not signature_ok(request.headers, body, signing_secret, now):
            return web.json_response({"error": "invalid signature"}, status=401)
        problem = body_problem(body, request.content_type)
        if problem is not None:
            log.info("rejected a signed request: %s", problem)
            return web.json_response({"error": problem}, status=400)
        bolt_request = AsyncBoltRequest(
            body=body.decode("utf-8"), query=request.query_string,
            headers=request.headers,  # type: ignore[arg-type]  # Bolt reads any str mapping
        )
        return await to_aiohttp_response(await bolt.async_dispatch(bolt_request))

    async def health(_: web.Request) -> web.StreamResponse:
        return web.json_response({"ok": True})

    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app.router.add_post(EVENTS_PATH, events)
    app.router.add_get(HEALTH_PATH, health)
    return app


async def serve_http(adapter: SlackAdapter, signing_secret: str, port: int, host: str = "0.0.0.0") -> None:
    runner = web.AppRunner(build_web_app(adapter.app, signing_secret), handle_signals=False)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        log.info("Slack HTTP mode: listening on %s:%s%s", host, port, EVENTS_PATH)
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


async def serve_socket(adapter: SlackAdapter, app_token: str) -> None:
    handler = AsyncSocketModeHandler(adapter.app, app_token, web_client=adapter.client)
    try:
        await handler.connect_async()
        log.info("Slack Socket Mode: connected")
        await asyncio.Event().wait()
    finally:
        await handler.close_async()


async def check_token(adapter: SlackAdapter) -> None:
    """Fail at start-up with one clear line rather than on the first command."""
    try:
        identity = await adapter.client.auth_test()
    except SlackApiError as exc:
        raise SettingsError(f"SLACK_BOT_TOKEN: Slack refused it ({slack_error(exc)})") from None
    log.info("Slack: signed in as %s in %s", identity.get("user"), identity.get("team"))


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
    await check_token(adapter)
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
