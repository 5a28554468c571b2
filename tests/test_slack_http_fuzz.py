"""Random signed bodies into the real HTTP endpoint (gate + Bolt + adapter): never a 500, and the
database never changes. Bodies are random JSON and forms, and valid presses, events and commands with
random fields changed and then one thing broken (so none of them may act)."""

from __future__ import annotations

import asyncio
import copy
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.content import load_pack
from core.service import DebateService
from core.store.sqlite import SqliteStore
from tests.conftest import FakeClock
from tests.fakes.slack_fake import TEAM_ID, FakeSlack, block_actions_payload, slash_payload
from tests.slack_helpers import CHANNEL, LISTED_ADMIN, Harness, raw_sign, running, vote_buttons
from tests.test_slack_http_gate import db_rows

JSON = dict[str, Any]
FORM, JSON_TYPE = "application/x-www-form-urlencoded", "application/json"

SCALARS = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=12)
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
    st.text(max_size=10), inner, max_size=4), max_leaves=20)
NOT_STRINGS = VALUES.filter(lambda v: not isinstance(v, str))
NOT_OBJECTS = VALUES.filter(lambda v: not isinstance(v, dict))
DEEP = st.integers(33, 3000).map(lambda n: json.loads("[" * min(n, 400) + "]" * min(n, 400)))


@dataclass
class Env:
    loop: asyncio.AbstractEventLoop
    h: Harness
    store: SqliteStore
    message: JSON


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    loop = asyncio.new_event_loop()
    slack = loop.run_until_complete(FakeSlack().start())
    slack.set_user("U1")
    store = SqliteStore(tmp_path / "fuzz.db")
    loop.run_until_complete(store.open())
    service = DebateService(load_pack(), store, "fuzz-secret-0123456789", clock=FakeClock())
    harness = running(slack, service)
    h = loop.run_until_complete(harness.__aenter__())
    try:
        loop.run_until_complete(h.command("today", user=LISTED_ADMIN))
        loop.run_until_complete(h.press(vote_buttons(h.poll_message())[1]["value"], user="U1",
                                        message=h.poll_message()))
        yield Env(loop, h, store, copy.deepcopy(h.poll_message()))
    finally:
        loop.run_until_complete(harness.__aexit__(None, None, None))
        loop.run_until_complete(store.close())
        loop.run_until_complete(slack.stop())
        loop.close()


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def send(env: Env, body: bytes, content_type: str) -> int:
    async def go() -> int:
        status = await env.h.post(body, raw_sign(body, content_type))
        await env.h.adapter.drain()
        return status

    return env.loop.run_until_complete(go())


def check(env: Env, body: bytes, content_type: str, caplog: pytest.LogCaptureFixture, expect: tuple[int, ...]) -> None:
    before = db_rows(env.store)
    caplog.clear()
    status = send(env, body, content_type)
    assert status in expect, (status, body[:300])
    assert db_rows(env.store) == before, body[:300]
    # Bolt or a listener failing on a shape the gate let through shows up as an error line.
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], [r.getMessage() for r in caplog.records]


# --------------------------------------------------------------------------- valid, then broken


def mutate(payload: JSON, changes: list[tuple[str, Any]]) -> JSON:
    out = copy.deepcopy(payload)
    for key, value in changes:
        if value is None and key.startswith("-"):
            out.pop(key[1:], None)
        else:
            out[key] = value
    return out


# Keys whose change cannot give a broken request a member, a team or an action back.
PRESS_NOISE = st.lists(st.tuples(st.sampled_from(["container", "channel", "message", "state", "response_url",
                                                  "trigger_id", "api_app_id", "token", "is_enterprise_install",
                                                  "enterprise", "extra", "view"]), VALUES), max_size=3)


def press_breakers(env_message: JSON) -> st.SearchStrategy[list[tuple[str, Any]]]:
    action = block_actions_payload(vote_buttons(env_message)[0]["action_id"], message=env_message)["actions"][0]
    no_id = {k: v for k, v in action.items() if k != "action_id"}
    return st.one_of(
        st.just([("-user", None)]),
        NOT_OBJECTS.map(lambda v: [("user", v)]),
        NOT_STRINGS.map(lambda v: [("user", {"id": v, "team_id": TEAM_ID})]),
        st.just([("user", {"id": "", "team_id": TEAM_ID})]),
        st.just([("-team", None), ("user", {"id": "U2"})]),
        st.just([("actions", [])]),
        NOT_STRINGS.filter(lambda v: not isinstance(v, list)).map(lambda v: [("actions", v)]),
        NOT_OBJECTS.map(lambda v: [("actions", [v])]),
        st.just([("actions", [no_id])]),
        NOT_STRINGS.map(lambda v: [("actions", [{**action, "action_id": v}])]),
        DEEP.map(lambda v: [("state", {"values": v})]),
    )


def test_random_breakage_of_a_valid_press_is_400_and_records_nothing(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    base = block_actions_payload(vote_buttons(env.message)[2]["action_id"], user_id="U2", channel_id=CHANNEL,
                                 message=env.message, response_url=env.h.slack.response_url("fuzz"))

    @FUZZ
    @given(noise=PRESS_NOISE, breaker=press_breakers(env.message))
    def run(noise: list[tuple[str, Any]], breaker: list[tuple[str, Any]]) -> None:
        payload = mutate(base, noise + breaker)
        check(env, urlencode({"payload": json.dumps(payload)}).encode(), FORM, caplog, (400,))

    run()


def test_random_breakage_of_events_and_commands_is_400_and_changes_nothing(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    event = {"type": "event_callback", "team_id": TEAM_ID, "api_app_id": "A0001", "event_id": "Ev1",
             "event": {"type": "app_home_opened", "user": "U1", "channel": "DU1", "tab": "home"}}
    command = slash_payload(text="today", user_id="U1", channel_id="C0FUZZ", response_url="http://127.0.0.1:9/r")
    event_breakers = st.one_of(
        NOT_OBJECTS.map(lambda v: {**event, "event": v}),
        VALUES.map(lambda v: {**event, "event": {"user": "U1", "x": v}}),
        NOT_STRINGS.map(lambda v: {**event, "event": {**event["event"], "type": v}}),
        NOT_STRINGS.filter(lambda v: v is not None and not isinstance(v, dict)).map(
            lambda v: {**event, "event": {**event["event"], "user": v}}),
        DEEP.map(lambda v: {**event, "event": {**event["event"], "blocks": v}}),
    )
    command_breakers = st.sampled_from(["user_id", "team_id", "channel_id", "command"]).flatmap(
        lambda f: st.sampled_from([None, ""]).map(lambda v: {k: (v if k == f else x) for k, x in command.items()
                                                             if not (k == f and v is None)}))

    @FUZZ
    @given(st.one_of(event_breakers.map(lambda b: (json.dumps(b).encode(), JSON_TYPE)),
                     command_breakers.map(lambda b: (urlencode(b).encode(), FORM))))
    def run(case: tuple[bytes, str]) -> None:
        check(env, case[0], case[1], caplog, (400,))

    run()


# --------------------------------------------------------------------------- anything at all

KINDS = st.sampled_from(["block_actions", "event_callback", "view_submission", "shortcut", "url_verification",
                         "interactive_message", "block_suggestion", "message_action", ""]) | st.text(max_size=8)
SLACK_KEYS = ["user", "team", "actions", "event", "channel", "container", "authorizations", "enterprise",
              "view", "response_url", "callback_id", "user_id", "team_id", "message"]


def test_random_signed_json_and_forms_never_get_500_and_change_nothing(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    bodies = st.one_of(
        VALUES.map(lambda v: (json.dumps(v).encode(), JSON_TYPE)),
        VALUES.map(lambda v: (urlencode({"payload": json.dumps(v)}).encode(), FORM)),
        st.dictionaries(st.text(max_size=10), st.text(max_size=20), max_size=6).map(
            lambda d: (urlencode(d).encode(), FORM)),
        st.fixed_dictionaries({"type": KINDS}, optional=dict.fromkeys(SLACK_KEYS, VALUES)).map(
            lambda d: (json.dumps(d).encode(), JSON_TYPE)),
        st.fixed_dictionaries({"type": KINDS}, optional=dict.fromkeys(SLACK_KEYS, VALUES)).map(
            lambda d: (urlencode({"payload": json.dumps(d)}).encode(), FORM)),
        st.binary(max_size=40).map(lambda b: (b, FORM)),
    )

    @FUZZ
    @given(bodies)
    def run(case: tuple[bytes, str]) -> None:
        check(env, case[0], case[1], caplog, (400, 404))

    run()
