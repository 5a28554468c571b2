"""The fake Slack server, exercised with the real slack_sdk / slack_bolt clients (no network)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from urllib.parse import parse_qs

import aiohttp
import pytest
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond, AsyncSay
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.slack_fake import (
    FakeSlack,
    block_actions_body,
    check_blocks,
    sign,
    slash_body,
    slash_payload,
)

CHANNEL = "C0123"


def button(action_id: str, label: str, value: str = "v") -> dict:
    return {"type": "button", "action_id": action_id, "value": value,
            "text": {"type": "plain_text", "text": label}}


def poll_blocks(label: str = "Security") -> list[dict]:
    return [
        {"type": "header", "block_id": "h", "text": {"type": "plain_text", "text": "Today's debate"}},
        {"type": "actions", "block_id": "vote",
         "elements": [button("vote_a", label, "a"), button("vote_b", "Privacy", "b")]},
    ]


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield fake


@pytest.fixture
def client(slack: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)


async def test_auth_test_answers_identity_and_checks_token(slack: FakeSlack, client: AsyncWebClient) -> None:
    assert slack.api_url.endswith("/api/")
    resp = await client.auth_test()
    assert (resp["team_id"], resp["user_id"], resp["bot_id"]) == ("T0001", "UBOT", "BBOT")
    assert slack.calls_to("auth.test")[0].token == "xoxb-test"

    with pytest.raises(SlackApiError) as wrong:
        await AsyncWebClient(token="xoxb-wrong", base_url=slack.api_url).auth_test()
    assert wrong.value.response["error"] == "invalid_auth"
    with pytest.raises(SlackApiError) as missing:
        await AsyncWebClient(base_url=slack.api_url).auth_test()
    assert missing.value.response["error"] == "not_authed"


async def test_post_then_update_keeps_current_state(slack: FakeSlack, client: AsyncWebClient) -> None:
    metadata = {"event_type": "poll_posted", "event_payload": {"poll_id": "p1"}}
    posted = await client.chat_postMessage(
        channel=CHANNEL, text="Vote!", blocks=poll_blocks(), metadata=metadata
    )
    second = await client.chat_postMessage(channel=CHANNEL, text="later")
    assert posted["ts"] < second["ts"]
    assert posted["message"]["metadata"] == metadata

    await client.chat_update(channel=CHANNEL, ts=posted["ts"], text="Closed", blocks=[])
    stored = slack.message(CHANNEL, posted["ts"])
    assert stored is not None
    assert (stored["text"], stored["blocks"], stored["edits"]) == ("Closed", [], 1)
    assert stored["metadata"] == metadata
    assert slack.calls_to("chat.update")[0].params["ts"] == posted["ts"]

    history = await client.conversations_history(channel=CHANNEL, include_all_metadata=True)
    assert [m["ts"] for m in history["messages"]] == [second["ts"], posted["ts"]]
    assert history["messages"][1]["metadata"] == metadata
    plain = await client.conversations_history(channel=CHANNEL)
    assert "metadata" not in plain["messages"][1]

    with pytest.raises(SlackApiError) as missing:
        await client.chat_update(channel=CHANNEL, ts="1.000001", text="x")
    assert missing.value.response["error"] == "message_not_found"
    assert not slack.violations


async def test_over_long_button_label_is_rejected_and_recorded(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    with pytest.raises(SlackApiError) as rejected:
        await client.chat_postMessage(channel=CHANNEL, text="Vote!", blocks=poll_blocks("x" * 76))
    assert rejected.value.response["error"] == "invalid_blocks"
    assert not slack.messages[CHANNEL]
    [violation] = slack.violations
    assert violation.source == "chat.postMessage"
    assert any("elements[0].text.text: 76 characters, max 75" in e for e in violation.errors)


def test_block_checks_cover_the_documented_limits() -> None:
    assert check_blocks(poll_blocks()) == []
    too_many = [{"type": "divider"}] * 51
    dup_action = [
        {"type": "actions", "elements": [button("a", "A")]},
        {"type": "actions", "elements": [button("a", "B")]},
    ]
    options = [{"text": {"type": "plain_text", "text": str(i)}, "value": str(i)} for i in range(101)]
    cases = {
        "51 blocks, max 50": too_many,
        "text.text: 151 characters, max 150": [
            {"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}
        ],
        "text.type: must be plain_text": [{"type": "header", "text": {"type": "mrkdwn", "text": "h"}}],
        "text.text: 3001 characters": [{"type": "section", "text": {"type": "mrkdwn", "text": "s" * 3001}}],
        "value: 2001 characters": [{"type": "actions", "elements": [button("a", "A", "v" * 2001)]}],
        "duplicate 'a'": dup_action,
        "1 to 100 options": [
            {"type": "actions", "elements": [{"type": "static_select", "action_id": "s", "options": options}]}
        ],
    }
    for expected, blocks in cases.items():
        errors = check_blocks(blocks)
        assert any(expected in e for e in errors), (expected, errors)
    # Slack itself only wants action ids unique per block; the scope is configurable.
    assert check_blocks(dup_action, action_id_scope="block") == []


async def test_ratelimited_call_is_retried_after_retry_after(slack: FakeSlack) -> None:
    slack.fail_next("chat.postMessage", retry_after=1)
    patient = AsyncWebClient(
        token=slack.bot_token, base_url=slack.api_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)],
    )
    started = time.monotonic()
    resp = await patient.chat_postMessage(channel=CHANNEL, text="hi")
    assert resp["ok"]
    assert time.monotonic() - started >= 1.0  # the client honoured Retry-After
    assert [c.status for c in slack.calls_to("chat.postMessage")] == [429, 200]
    assert len(slack.messages[CHANNEL]) == 1

    # Without the handler slack_sdk does not retry a 429 at all.
    slack.fail_next("chat.postMessage", retry_after=1)
    impatient = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    with pytest.raises(SlackApiError) as limited:
        await impatient.chat_postMessage(channel=CHANNEL, text="x")
    assert limited.value.response.status_code == 429
    assert limited.value.response.headers["Retry-After"] == "1"


async def test_injected_errors_and_dropped_connections(slack: FakeSlack, client: AsyncWebClient) -> None:
    slack.fail_next("chat.postMessage", "channel_not_found")
    with pytest.raises(SlackApiError) as failed:
        await client.chat_postMessage(channel=CHANNEL, text="x")
    assert failed.value.response["error"] == "channel_not_found"

    # The default retry handler of slack_sdk retries connection errors once.
    slack.fail_next("chat.postMessage", drop=True)
    assert (await client.chat_postMessage(channel=CHANNEL, text="again"))["ok"]

    with pytest.raises(SlackApiError) as unknown:
        await client.api_call("polls.vote")
    assert unknown.value.response["error"] == "unknown_method"
    assert slack.unknown_methods == ["polls.vote"]


async def test_files_upload_v2_round_trip(slack: FakeSlack, client: AsyncWebClient) -> None:
    content = b"option,votes\nsecurity,3\nprivacy,4\n"
    resp = await client.files_upload_v2(
        channel=CHANNEL, content=content, filename="results.csv", initial_comment="Results are in"
    )
    assert resp["file"]["name"] == "results.csv"
    [uploaded] = slack.files
    assert (uploaded.content, uploaded.filename, uploaded.channel_id, uploaded.initial_comment) == (
        content, "results.csv", CHANNEL, "Results are in"
    )
    assert slack.messages[CHANNEL][-1]["files"][0]["id"] == uploaded.file_id


async def test_users_info_reports_admin_flag(slack: FakeSlack, client: AsyncWebClient) -> None:
    slack.set_user("UADMIN", is_admin=True, tz="Europe/Berlin")
    slack.set_user("UPLAIN")
    admin = (await client.users_info(user="UADMIN"))["user"]
    assert (admin["is_admin"], admin["tz"]) == (True, "Europe/Berlin")
    assert (await client.users_info(user="UPLAIN"))["user"]["is_admin"] is False
    with pytest.raises(SlackApiError) as unknown:
        await client.users_info(user="UNOBODY")
    assert unknown.value.response["error"] == "user_not_found"
    opened = await client.conversations_open(users="UPLAIN")
    assert opened["channel"]["id"] == "DUPLAIN"


async def test_socket_mode_client_connects_and_acks(slack: FakeSlack) -> None:
    web = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    socket = SocketModeClient(app_token=slack.app_token, web_client=web)
    seen: list[SocketModeRequest] = []

    async def on_request(client: SocketModeClient, req: SocketModeRequest) -> None:
        seen.append(req)
        await client.send_socket_mode_response(SocketModeResponse(req.envelope_id, {"text": "on it"}))

    socket.socket_mode_request_listeners.append(on_request)
    try:
        await socket.connect()
        await slack.wait_socket_connected()
        envelope_id = await slack.socket_send("slash_commands", slash_payload(text="status"))
        assert await slack.wait_ack(envelope_id) == {"text": "on it"}
    finally:
        await socket.close()
    assert slack.calls_to("apps.connections.open")[0].token == "xapp-test"
    assert seen[0].payload["text"] == "status" and seen[0].accepts_response_payload
    assert slack.acks[envelope_id]["envelope_id"] == envelope_id
    assert not slack.violations


async def test_bolt_app_over_signed_http_requests(slack: FakeSlack, client: AsyncWebClient) -> None:
    secret = "shh"
    app = AsyncApp(client=client, signing_secret=secret, process_before_response=True)

    @app.command("/debate")
    async def debate(ack: AsyncAck, say: AsyncSay, command: dict) -> None:
        await ack()
        await say(text=f"Debate: {command['text']}", blocks=poll_blocks())

    @app.action("vote_b")
    async def vote(ack: AsyncAck, respond: AsyncRespond, body: dict) -> None:
        await ack()
        await respond(replace_original=True, text=f"Voted {body['actions'][0]['value']}")

    async def dispatch(body: bytes, headers: dict[str, str]) -> int:
        request = AsyncBoltRequest(body=body.decode(), headers={k: [v] for k, v in headers.items()})
        return (await app.async_dispatch(request)).status

    body = slash_body(text="today", channel_id=CHANNEL)
    assert await dispatch(body, sign(secret, body)) == 200
    assert await dispatch(body, sign(secret, body, timestamp=int(time.time()) - 600)) == 401
    [posted] = slack.messages[CHANNEL]
    assert posted["text"] == "Debate: today"

    url = slack.response_url("vote-1", channel=CHANNEL, message_ts=posted["ts"])
    click = block_actions_body("vote_b", channel_id=CHANNEL, message=posted, response_url=url)
    payload = json.loads(parse_qs(click.decode())["payload"][0])
    assert payload["actions"][0]["block_id"] == "vote" and payload["actions"][0]["value"] == "b"
    assert await dispatch(click, sign(secret, click)) == 200
    assert slack.responses[0].body["replace_original"] is True
    assert (posted["text"], posted["edits"]) == ("Voted b", 1)
    assert not slack.violations


async def test_response_url_sink_checks_blocks(slack: FakeSlack) -> None:
    async with aiohttp.ClientSession() as http:
        ok = await http.post(slack.response_url("t1"), json={"text": "fine", "response_type": "ephemeral"})
        bad = await http.post(slack.response_url("t2"), json={"blocks": [{"type": "header", "text": {
            "type": "plain_text", "text": "h" * 151}}]})
    assert (ok.status, bad.status) == (200, 400)
    assert [(r.tag, r.accepted) for r in slack.responses] == [("t1", True), ("t2", False)]
    assert slack.violations[0].source == "response_url:t2"
    await slack.wait_for(lambda: len(slack.responses) == 2, timeout=1)


async def test_channel_membership_methods_and_thread_pages(slack: FakeSlack, client: AsyncWebClient) -> None:
    slack.set_user("U1")
    slack.set_user("U2")
    slack.set_channel("C1", members=["U1", "U2"])
    slack.set_channel("G1", private=True, members=["U1"])
    slack.set_channel("G2", private=True, members=["U1"], bot_member=False)  # the bot is not in it
    slack.set_channel("C2", members=["U1"], bot_member=False)
    mine = await client.users_conversations(user="U1", types="public_channel,private_channel")
    assert sorted(c["id"] for c in mine["channels"]) == ["C1", "C2", "G1"]
    public = await client.users_conversations(user="U1", types="public_channel", limit=1)
    assert [c["id"] for c in public["channels"]] == ["C1"] and public["response_metadata"]["next_cursor"]
    assert (await client.conversations_members(channel="C1"))["members"] == ["U1", "U2", "UBOT"]
    with pytest.raises(SlackApiError) as hidden:
        await client.conversations_members(channel="G2")
    assert hidden.value.response["error"] == "channel_not_found"
    with pytest.raises(SlackApiError) as outside:
        await client.chat_postMessage(channel="C2", text="hello")
    assert outside.value.response["error"] == "not_in_channel"

    parent = await client.chat_postMessage(channel="C1", text="parent")
    for n in range(3):
        await client.chat_postMessage(channel="C1", text=f"reply {n}", thread_ts=parent["ts"])
    first = await client.conversations_replies(channel="C1", ts=parent["ts"], limit=2)
    assert [m["text"] for m in first["messages"]] == ["parent", "reply 0"] and first["has_more"]
    rest = await client.conversations_replies(channel="C1", ts=parent["ts"], limit=2,
                                              cursor=first["response_metadata"]["next_cursor"])
    assert [m["text"] for m in rest["messages"]] == ["reply 1", "reply 2"] and not rest["has_more"]
