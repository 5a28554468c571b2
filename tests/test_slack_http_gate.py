"""Signed but malformed Slack requests over real HTTP: 400 (never 500), and nothing changes; Slack's
retries of a request already handled are acknowledged without acting twice."""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import urlencode

import pytest

from bots.slack.server import run_slack
from core.service import DebateService
from core.store.sqlite import SqliteStore
from tests.fakes.slack_fake import TEAM_ID, FakeSlack, block_actions_payload, sign, slash_payload
from tests.slack_helpers import (
    CHANNEL,
    LISTED_ADMIN,
    SECRET,
    Harness,
    raw_sign,
    running,
    slack_settings,
    vote_buttons,
)

JSON = dict[str, Any]


def db_rows(store: SqliteStore) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, read through a separate connection (what is committed)."""
    with sqlite3.connect(store.path) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return {t: sorted(db.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr) for t in tables}


def form(payload: Any) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()


def event_body(event: Any, event_id: str = "Ev0001", **extra: Any) -> bytes:
    return json.dumps({"token": "t", "team_id": TEAM_ID, "api_app_id": "A0001", "type": "event_callback",
                       "event_id": event_id, "event_time": int(time.time()), "event": event, **extra}).encode()


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        for n in range(1, 4):
            fake.set_user(f"U{n}")
        yield fake


@pytest.fixture
async def h(slack: FakeSlack, service: DebateService) -> AsyncIterator[Harness]:
    async with running(slack, service) as harness:
        yield harness


async def open_poll(h: Harness) -> JSON:
    await h.command("today", user=LISTED_ADMIN)  # a facilitator opens the day's poll
    return copy.deepcopy(h.poll_message())


def press(message: JSON, tag_url: str, **change: Any) -> JSON:
    """A valid press on the first option, then `change` applied (a value of ... deletes the key)."""
    payload = block_actions_payload(vote_buttons(message)[0]["action_id"], user_id="U1", channel_id=CHANNEL,
                                    message=message, response_url=tag_url)
    for key, value in change.items():
        if value is ...:
            payload.pop(key, None)
        else:
            payload[key] = value
    return payload


def without(d: JSON, key: str) -> JSON:
    return {k: v for k, v in d.items() if k != key}


# Each case: (name, body builder given the poll message and a response_url, content type)
FORM, JSON_TYPE = "application/x-www-form-urlencoded", "application/json"
CASES: list[tuple[str, Callable[[JSON, str], bytes], str]] = [
    ("actions is empty", lambda m, u: form(press(m, u, actions=[])), FORM),
    ("action without action_id", lambda m, u: form(press(m, u, actions=[without(press(m, u)["actions"][0],
                                                                                  "action_id")])), FORM),
    ("action_id is a number", lambda m, u: form(press(m, u, actions=[{**press(m, u)["actions"][0],
                                                                       "action_id": 7}])), FORM),
    ("action is a string", lambda m, u: form(press(m, u, actions=["cp1:vote:1:1"])), FORM),
    ("actions is an object", lambda m, u: form(press(m, u, actions={"action_id": "x"})), FORM),
    ("press without user", lambda m, u: form(press(m, u, user=...)), FORM),
    ("user without id", lambda m, u: form(press(m, u, user={"name": "u1"})), FORM),
    ("user id empty", lambda m, u: form(press(m, u, user={"id": ""})), FORM),
    ("user id is a number", lambda m, u: form(press(m, u, user={"id": 42})), FORM),
    ("user is a list", lambda m, u: form(press(m, u, user=["U1"])), FORM),
    ("press without team", lambda m, u: form(press(m, u, team=..., user={"id": "U1"})), FORM),
    ("team is a number", lambda m, u: form(press(m, u, team=5)), FORM),
    ("container is a string", lambda m, u: form(press(m, u, container="message")), FORM),
    ("channel is a number", lambda m, u: form(press(m, u, channel=3)), FORM),
    ("value is an object", lambda m, u: form(press(m, u, actions=[{**press(m, u)["actions"][0],
                                                                    "value": {"v": 1}}])), FORM),
    ("response_url is a list", lambda m, u: form(press(m, u, response_url=[u])), FORM),
    ("authorizations is an object", lambda m, u: form(press(m, u, authorizations={"a": 1})), FORM),
    ("enterprise is a number", lambda m, u: form(press(m, u, enterprise=1)), FORM),
    ("payload nested 40 deep", lambda m, u: form(press(m, u, state={"values": json.loads("[" * 40 + "]" * 40)})),
     FORM),
    ("payload nested 100000 deep", lambda m, u: urlencode({"payload": json.dumps(press(m, u))[:-1] + ', "x": '
                                                           + "[" * 100_000 + "]" * 100_000 + "}"}).encode(), FORM),
    ("event is a string", lambda m, u: event_body("app_home_opened"), JSON_TYPE),
    ("event without type", lambda m, u: event_body({"user": "U1", "tab": "home"}), JSON_TYPE),
    ("event type is a number", lambda m, u: event_body({"type": 1, "user": "U1"}), JSON_TYPE),
    ("event user is a number", lambda m, u: event_body({"type": "app_home_opened", "user": 1, "tab": "home"}),
     JSON_TYPE),
    ("event message is a string", lambda m, u: event_body({"type": "message", "message": "hi"}), JSON_TYPE),
    ("event_id is a list", lambda m, u: event_body({"type": "app_home_opened", "user": "U1"}, event_id=["x"]),
     JSON_TYPE),
    ("authorizations is a string", lambda m, u: event_body({"type": "app_home_opened", "user": "U1"},
                                                             authorizations="T1"), JSON_TYPE),
    ("event nested 50 deep", lambda m, u: event_body({"type": "app_home_opened", "user": "U1",
                                                      "x": json.loads("[" * 50 + "]" * 50)}), JSON_TYPE),
    ("command without user_id", lambda m, u: urlencode(without(slash_payload(text="today", channel_id="C0NEW",
                                                                               response_url=u), "user_id")).encode(),
     FORM),
    ("command with empty channel_id", lambda m, u: urlencode(slash_payload(text="today", channel_id="",
                                                                            response_url=u)).encode(), FORM),
    ("command without team_id", lambda m, u: urlencode(without(slash_payload(text="today", channel_id="C0NEW",
                                                                               response_url=u), "team_id")).encode(),
     FORM),
    ("command as JSON with a list", lambda m, u: json.dumps({**slash_payload(text="today", channel_id="C0NEW"),
                                                             "user_id": ["U1"]}).encode(), JSON_TYPE),
    ("view_submission with a string view", lambda m, u: form({"type": "view_submission", "view": "v",
                                                              "user": {"id": "U1"}, "team": {"id": TEAM_ID}}), FORM),
]


@pytest.mark.parametrize(("name", "build", "content_type"), CASES, ids=[c[0] for c in CASES])
async def test_malformed_signed_payload_is_refused_and_changes_nothing(
    h: Harness, slack: FakeSlack, store: SqliteStore, name: str, build: Callable[[JSON, str], bytes],
    content_type: str,
) -> None:
    message = await open_poll(h)
    before, calls = db_rows(store), len(slack.calls)
    body = build(message, slack.response_url("bad"))
    status = await h.post(body, raw_sign(body, content_type))
    await h.adapter.drain()
    assert status in (400, 404), (name, status)
    assert status == 400 or name.startswith("view_submission")  # a kind nothing here handles is a 404
    assert db_rows(store) == before, name
    assert h.answers("bad") == [] and len(slack.calls) == calls and not slack.messages.get("C0NEW")
    # The same press, well formed, still counts: the gate refuses shapes, not members.
    assert "You chose" in (await h.press(vote_buttons(message)[0]["value"], user="U2", message=message))["text"]


async def test_huge_body_is_refused_before_anything_parses_it(h: Harness, slack: FakeSlack) -> None:
    body = urlencode({"payload": "x" * (2 * 1024 * 1024)}).encode()
    assert await h.post(body, raw_sign(body, FORM)) == 413
    assert slack.calls == []


# ------------------------------------------------------------------------- Slack's retries


async def test_a_retried_press_is_acknowledged_without_voting_or_answering_twice(
    h: Harness, slack: FakeSlack, store: SqliteStore
) -> None:
    message = await open_poll(h)
    body = h.click_body(vote_buttons(message)[0]["value"], user="U1", message=message, tag="first")
    assert await h.post(body) == 200
    await h.adapter.drain()
    after_first = db_rows(store)
    for retry in ("1", "2"):
        headers = {**sign(SECRET, body), "X-Slack-Retry-Num": retry, "X-Slack-Retry-Reason": "http_timeout"}
        assert await h.post(body, headers) == 200
    await h.adapter.drain()
    assert len(h.answers("first")) == 1 and db_rows(store) == after_first
    # A new press by the same member is not a retry, even with the same value.
    again = await h.press(vote_buttons(message)[0]["value"], user="U1", message=message)
    assert "Nothing changed" in again["text"]


async def test_a_retried_event_is_acknowledged_once_and_a_new_event_still_acts(h: Harness, slack: FakeSlack) -> None:
    home = {"type": "app_home_opened", "user": "U1", "channel": "DU1", "tab": "home", "event_ts": "1.2"}
    first = event_body(home, event_id="EvSAME")
    assert await h.post(first, sign(SECRET, first, content_type=JSON_TYPE)) == 200
    await h.adapter.drain()
    assert len(slack.calls_to("views.publish")) == 1
    # Slack's retry carries the same event_id (the body may be serialised anew).
    retried = event_body({**home, "event_ts": "1.2"}, event_id="EvSAME", event_time=1)
    headers = {**sign(SECRET, retried, content_type=JSON_TYPE), "X-Slack-Retry-Num": "1"}
    assert await h.post(retried, headers) == 200
    await h.adapter.drain()
    assert len(slack.calls_to("views.publish")) == 1
    other = event_body(home, event_id="EvOTHER")
    assert await h.post(other, sign(SECRET, other, content_type=JSON_TYPE)) == 200
    await h.adapter.drain()
    assert len(slack.calls_to("views.publish")) == 2


async def test_url_verification_is_answered_every_time(h: Harness) -> None:
    body = json.dumps({"token": "t", "challenge": "abc123", "type": "url_verification"}).encode()
    for _ in range(2):
        async with h.http.post(h.url, data=body, headers=sign(SECRET, body, content_type=JSON_TYPE)) as resp:
            assert resp.status == 200 and "abc123" in await resp.text()


# ------------------------------------------------------------------------- the same gate in Socket Mode


async def test_socket_mode_acks_and_drops_malformed_payloads(
    slack: FakeSlack, service: DebateService, store: SqliteStore, caplog: pytest.LogCaptureFixture
) -> None:
    settings = slack_settings(slack, slack_app_token=slack.app_token, slack_signing_secret=None)
    task = asyncio.create_task(run_slack(settings, service, refresh_interval=0.05))
    try:
        await slack.wait_socket_connected()
        command = slash_payload(text="today", user_id=LISTED_ADMIN, channel_id=CHANNEL,
                                response_url=slack.response_url("s"))
        await slack.wait_ack(await slack.socket_send("slash_commands", command))
        message = await slack.wait_for(lambda: slack.messages[CHANNEL] and copy.deepcopy(slack.messages[CHANNEL][0]))
        await slack.wait_for(lambda: slack.responses)
        before = db_rows(store)
        url = slack.response_url("sock-bad")
        for payload in (press(message, url, user=...), press(message, url, actions=[]),
                        press(message, url, user={"id": 7}), {"type": "event_callback", "event": "x"}):
            kind = "events_api" if payload["type"] == "event_callback" else "interactive"
            assert await slack.wait_ack(await slack.socket_send(kind, payload)) == {}
        good = press(message, slack.response_url("sock-good"), user={"id": "U2", "team_id": TEAM_ID})
        await slack.wait_ack(await slack.socket_send("interactive", good))
        await slack.wait_for(lambda: [r for r in slack.responses if r.tag == "sock-good"])
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert [r for r in slack.responses if r.tag == "sock-bad"] == []
    assert len(db_rows(store)["votes"]) == len(before["votes"]) + 1  # U2's vote, and only that one
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
