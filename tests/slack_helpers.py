"""Drive the real Slack adapter (aiohttp endpoint + slack_bolt) over signed HTTP against FakeSlack."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import itertools
import json
import socket
import sqlite3
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web

from bots.slack.app import SlackAdapter, build_slack_app, make_client
from bots.slack.server import EVENTS_PATH, build_web_app
from core.models import ContentPack
from core.service import DebateService
from core.settings import Settings
from tests.fakes.slack_fake import (
    TEAM_ID,
    FakeSlack,
    block_actions_payload,
    sign,
    slash_body,
    view_submission_payload,
)

SECRET = "test-signing-secret"
CHANNEL = "C0001"
LISTED_ADMIN = "ULISTED"

JSON = dict[str, Any]
EPHEMERAL_MESSAGE_TS = "1700000000.999999"


def slack_settings(slack: FakeSlack, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "slack_bot_token": slack.bot_token,
        "slack_signing_secret": SECRET,
        "slack_api_url": slack.api_url,
        "slack_admin_users": frozenset({LISTED_ADMIN}),
    }
    values.update(overrides)
    return Settings(**values)


def buttons(blocks: list[JSON]) -> list[JSON]:
    return [e for b in blocks if b.get("type") == "actions" for e in b["elements"]]


def vote_buttons(message: JSON) -> list[JSON]:
    return [e for e in buttons(message["blocks"]) if e["value"].startswith("cp1:vote:")]


def block_text(blocks: list[JSON]) -> str:
    """Every visible string of a message, for assertions that should not depend on block layout."""
    parts: list[str] = []
    for block in blocks:
        if isinstance(block.get("text"), dict):
            parts.append(block["text"]["text"])
        for element in block.get("elements") or []:
            if isinstance(element.get("text"), dict):
                parts.append(element["text"]["text"])
            elif isinstance(element.get("text"), str):
                parts.append(element["text"])
    return "\n".join(parts)


def ephemeral(answer: JSON) -> JSON:
    """A private answer as the message a click on its buttons comes from."""
    return {"type": "message", "ts": EPHEMERAL_MESSAGE_TS, "text": "", "blocks": answer["blocks"]}


def raw_sign(body: bytes, content_type: str) -> dict[str, str]:
    """Signs any bytes (the fake's sign() goes through slack_sdk, which needs UTF-8)."""
    ts = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}", "Content-Type": content_type}


def mrkdwn_texts(value: object) -> list[str]:
    """Every mrkdwn string in a block tree; plain_text never pings, so only these need escaping."""
    if isinstance(value, list):
        return [t for v in value for t in mrkdwn_texts(v)]
    if not isinstance(value, dict):
        return []
    found = [value["text"]] if value.get("type") == "mrkdwn" else []
    return found + [t for v in value.values() for t in mrkdwn_texts(v)]


def long_pack(pack: ContentPack) -> ContentPack:
    """Content far beyond every Block Kit limit, as a pack edited by hand (skipping the loader) could hold."""
    prompt = pack.prompts[0]
    options = tuple(dataclasses.replace(o, label=f"<!channel> {o.label} " + "x" * 200) for o in prompt.options)
    long_prompt = dataclasses.replace(prompt, question="Q&A <b> " + "why " * 100, options=options)
    sections = tuple(dataclasses.replace(s, title="T" * 300, context="c " * 2000, summary="s " * 4000,
                                         key_points=("k " * 1500,) * 3) for s in pack.sections)
    return dataclasses.replace(pack, prompts=(long_prompt, *pack.prompts[1:]), sections=sections)


@contextmanager
def write_lock_held(path: str) -> Iterator[None]:
    """Another connection (another process, as far as SQLite knows) holding the database's write lock."""
    other = sqlite3.connect(path, isolation_level=None, timeout=0)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Harness:
    slack: FakeSlack
    adapter: SlackAdapter
    service: DebateService
    http: aiohttp.ClientSession
    url: str
    _tags: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def post(self, body: bytes, headers: dict[str, str] | None = None) -> int:
        async with self.http.post(self.url, data=body, headers=headers or sign(SECRET, body)) as resp:
            await resp.read()
            return resp.status

    def answers(self, tag: str) -> list[JSON]:
        return [r.body for r in self.slack.responses if r.tag == tag]

    def new_tag(self, kind: str) -> str:
        return f"{kind}-{next(self._tags)}"

    async def command(self, text: str, user: str = "U1", channel: str = CHANNEL, team: str = TEAM_ID) -> JSON:
        """Run `/debate text` and return the one private answer it produced."""
        tag = self.new_tag("cmd")
        body = slash_body(text=text, user_id=user, channel_id=channel, team_id=team,
                          response_url=self.slack.response_url(tag), trigger_id=f"{tag}.trigger")
        assert await self.post(body) == 200
        await self.adapter.drain()
        [answer] = self.answers(tag)
        return answer

    async def open_form(self, text: str = "ask", user: str = "U1", channel: str = CHANNEL,
                        trigger: str | None = None) -> tuple[JSON | None, list[JSON]]:
        """Run `/debate text` that should open a modal: (the view Slack was asked to open, private answers)."""
        tag = self.new_tag("form")
        before = len(self.slack.modals)
        body = slash_body(text=text, user_id=user, channel_id=channel, response_url=self.slack.response_url(tag),
                          trigger_id=trigger or f"{tag}.trigger")
        assert await self.post(body) == 200
        await self.adapter.drain()
        opened = self.slack.modals[before:]
        assert len(opened) <= 1
        return (opened[0] if opened else None), self.answers(tag)

    async def submit(self, view: JSON, answers: dict[str, str | None], user: str = "U1",
                     payload: JSON | None = None) -> tuple[int, JSON]:
        """Submit a modal as Slack does (signed form body); the HTTP status and the ack's JSON body."""
        payload = payload or view_submission_payload(view, answers, user_id=user)
        body = urlencode({"payload": json.dumps(payload)}).encode()
        async with self.http.post(self.url, data=body, headers=sign(SECRET, body)) as resp:
            status, text = resp.status, await resp.text()
        await self.adapter.drain()
        return status, (json.loads(text) if text.strip() else {})

    def click_body(
        self, value: str, *, user: str, channel: str = CHANNEL, message: JSON | None = None,
        ephemeral: bool = False, action_id: str | None = None, block_id: str | None = None,
        team: str = TEAM_ID, tag: str,
    ) -> bytes:
        payload = block_actions_payload(
            action_id or value, value, user_id=user, channel_id=channel, team_id=team, message=message,
            response_url=self.slack.response_url(tag), block_id=block_id,
        )
        payload["container"]["is_ephemeral"] = ephemeral
        return urlencode({"payload": json.dumps(payload)}).encode()

    async def press(self, value: str, *, user: str, **kwargs: Any) -> JSON:
        """Press a button carrying `value` and return the private answer."""
        tag = self.new_tag("press")
        assert await self.post(self.click_body(value, user=user, tag=tag, **kwargs)) == 200
        await self.adapter.drain()
        [answer] = self.answers(tag)
        return answer

    async def event(self, event: JSON, team: str = TEAM_ID) -> int:
        body = json.dumps({
            "token": "fake-verification-token", "team_id": team, "api_app_id": "A0001", "event": event,
            "type": "event_callback", "event_id": f"Ev{next(self._tags)}", "event_time": int(time.time()),
            "authorizations": [{"team_id": team, "user_id": "UBOT", "is_bot": True}],
        }).encode()
        status = await self.post(body, sign(SECRET, body, content_type="application/json"))
        await self.adapter.drain()
        return status

    def poll_message(self, channel: str = CHANNEL) -> JSON:
        [message] = [m for m in self.slack.messages[channel]
                     if (m.get("metadata") or {}).get("event_type") == "counterpoint_poll"]
        return message


@asynccontextmanager
async def running(
    slack: FakeSlack, service: DebateService, *, refresh_interval: float = 0.05, **settings: Any
) -> AsyncIterator[Harness]:
    """The production endpoint (signature gate + Bolt) on a loopback port, talking to `slack`."""
    config = slack_settings(slack, **settings)
    adapter = build_slack_app(service, config, make_client(config), refresh_interval=refresh_interval)
    runner = web.AppRunner(build_web_app(adapter.app, SECRET), handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with aiohttp.ClientSession() as http:
            yield Harness(slack, adapter, service, http, f"http://127.0.0.1:{port}{EVENTS_PATH}")
    finally:
        await adapter.close()
        await runner.cleanup()
