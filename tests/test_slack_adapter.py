"""The Slack adapter end to end: signed HTTP into the real aiohttp endpoint and slack_bolt, a real
SqliteStore, and FakeSlack as the Web API, response_url sink and Socket Mode server. No network."""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import json
import logging
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import pytest

from bots.slack import blocks
from bots.slack.server import run_slack
from core.models import ContentPack
from core.render import Button, Card, Field, Reply, ResultsView
from core.scheduler.engine import Scheduler
from core.scheduler.port import PlatformPort
from core.service import DebateService
from core.store.sqlite import SqliteStore
from tests.conftest import FakeClock
from tests.fakes.slack_fake import (
    TEAM_ID,
    FakeSlack,
    block_actions_payload,
    check_blocks,
    check_view,
    sign,
    slash_body,
    slash_payload,
)
from tests.slack_helpers import (
    CHANNEL,
    LISTED_ADMIN,
    SECRET,
    Harness,
    block_text,
    buttons,
    ephemeral,
    free_port,
    long_pack,
    mrkdwn_texts,
    raw_sign,
    running,
    slack_settings,
    vote_buttons,
)


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        fake.set_user("UADMIN", is_admin=True)
        fake.set_user("UOWNER", is_owner=True)
        for n in range(1, 6):
            fake.set_user(f"U{n}")
        # Members of the channel, so App Home (which has no channel) may show its polls to them.
        fake.set_channel(CHANNEL, members=["UADMIN", "UOWNER", LISTED_ADMIN, *(f"U{n}" for n in range(1, 6))])
        yield fake


@pytest.fixture
async def h(slack: FakeSlack, service: DebateService) -> AsyncIterator[Harness]:
    async with running(slack, service) as harness:
        yield harness


async def post_today(h: Harness) -> tuple[dict, dict]:
    answer = await h.command("today", user=LISTED_ADMIN)  # members only see the day's poll once it is open
    return answer, copy.deepcopy(h.poll_message())  # as members saw it; the fake edits its copy in place


# ------------------------------------------------------------------------- members


async def test_today_posts_a_poll_with_metadata_and_answers_privately(h: Harness, slack: FakeSlack) -> None:
    answer, message = await post_today(h)
    assert "Today's question is posted (poll #1)" in answer["text"]
    assert answer["response_type"] == "ephemeral"
    prompt = h.service.content.prompts[0]
    assert message["blocks"][0] == {"type": "header", "block_id": "counterpoint-poll:1",
                                    "text": {"type": "plain_text", "text": prompt.question, "emoji": True}}
    assert message["metadata"] == {"event_type": "counterpoint_poll", "event_payload": {"poll_id": 1}}
    labels = [b["text"]["text"] for b in buttons(message["blocks"])]
    assert labels[:len(prompt.options)] == [f"{o.emoji} {o.label}" for o in prompt.options]
    assert labels[-1] == "📖 Read the section"
    poll = await h.service.store.get_poll(1)
    assert poll is not None and poll.message_ref == f"{CHANNEL}:{message['ts']}"

    again = await h.command("today", user="U2")
    assert "already" not in again["text"] and "is open" in again["text"]
    assert len(slack.messages[CHANNEL]) == 1  # shown privately, not posted twice
    read = await h.press(buttons(message["blocks"])[-1]["value"], user="U2", message=message)
    assert prompt.section_id in h.service.content.section(prompt.section_id).id
    assert h.service.content.section(prompt.section_id).title in block_text(read["blocks"])
    assert not slack.violations


async def test_results_appear_at_three_votes_then_change_unchanged_and_retract(
    h: Harness, slack: FakeSlack
) -> None:
    _, message = await post_today(h)
    options = vote_buttons(message)
    first = await h.press(options[0]["value"], user="U1", message=message)
    assert first["text"].startswith("You chose") and first["replace_original"] is False
    await h.press(options[0]["value"], user="U2", message=message)
    text = block_text(h.poll_message()["blocks"])
    assert "2 votes so far. Results appear once 1 more vote is in" in text and "%" not in text

    await h.press(options[4]["value"], user="U3", message=message)
    text = block_text(h.poll_message()["blocks"])
    assert "3 votes" in text and "(2)" in text and "(1)" in text and "more vote" not in text

    changed = await h.press(options[4]["value"], user="U1", message=message)
    assert changed["text"].startswith("You changed your vote to")
    text = block_text(h.poll_message()["blocks"])
    # One changer among three: saying how they moved would single them out (fewer than k changed).
    assert "Some members changed their mind" in text and "net shift" not in text

    updates = len(slack.calls_to("chat.update"))
    same = await h.press(options[4]["value"], user="U1", message=message)
    assert "Nothing changed" in same["text"]
    await h.adapter.drain()
    assert len(slack.calls_to("chat.update")) == updates  # an unchanged vote edits nothing

    [retract] = buttons(same["blocks"])
    gone = await h.press(retract["value"], user="U1", message=ephemeral(same), ephemeral=True,
                         block_id="card-actions-0")
    assert "retracted" in gone["text"] and gone["replace_original"] is True
    assert "2 votes so far" in block_text(h.poll_message()["blocks"])
    assert not slack.violations


async def test_forget_me_asks_then_cancels_or_erases(h: Harness, slack: FakeSlack) -> None:
    _, message = await post_today(h)
    await h.press(vote_buttons(message)[1]["value"], user="U1", message=message)
    ask = await h.command("forget-me")
    yes, cancel = buttons(ask["blocks"])
    assert (yes["value"], cancel["value"], yes["style"]) == ("cp1:forget", "cp1:cancel", "danger")

    cancelled = await h.press(cancel["value"], user="U1", message=ephemeral(ask), ephemeral=True)
    assert cancelled["text"].startswith("Cancelled") and cancelled["replace_original"] is True
    assert "1 vote so far" in block_text(h.poll_message()["blocks"])

    done = await h.press(yes["value"], user="U1", message=ephemeral(await h.command("forget-me")), ephemeral=True)
    assert done["text"].startswith("Done: 1 record about") and done["replace_original"] is True
    assert "0 votes so far" in block_text(h.poll_message()["blocks"])
    assert not slack.violations


async def test_tampered_buttons_and_unknown_commands_get_clear_private_answers(
    h: Harness, slack: FakeSlack
) -> None:
    _, message = await post_today(h)
    cases = {
        "cp1:vote:1:not-an-option": "not part of this poll",
        "cp1:vote:999:1": "There is no poll #999 here",
        "cp1:vote:1:1:extra": "That button is not valid",
        "DROP TABLE votes": "That button is not valid",
        "": "That button is not valid",
    }
    for value, expected in cases.items():
        answer = await h.press(value, user="U1", message=message, action_id="cp1:vote:1:1")
        assert expected in answer["text"], (value, answer)
    other_team = await h.press("cp1:vote:1:1", user="U1", message=message, team="T0OTHER")
    assert "There is no poll #1 here" in other_team["text"]
    assert (await h.service.store.tally(1)).total == 0
    unknown = await h.command("frobnicate now")
    assert "Unknown command 'frobnicate'" in unknown["text"]
    assert not slack.calls_to("chat.update") and not slack.violations


async def test_vote_on_a_closed_poll_is_refused(h: Harness, slack: FakeSlack) -> None:
    _, message = await post_today(h)
    closed = await h.command("close", user="UADMIN")
    assert closed["text"] == "Closed poll #1."
    assert not vote_buttons(h.poll_message()) and "closed" in block_text(h.poll_message()["blocks"]).lower()
    late = await h.press(vote_buttons(message)[0]["value"], user="U2", message=message)
    assert "Poll #1 is closed" in late["text"]
    assert (await h.service.store.tally(1)).total == 0
    assert not slack.violations


# ------------------------------------------------------------------------- admins


async def test_admins_come_from_users_info_and_settings(h: Harness, slack: FakeSlack) -> None:
    refused = await h.command("post", user="U1")
    assert "Only facilitators can do that" in refused["text"]
    assert not slack.messages[CHANNEL] and await h.service.store.get_poll(1) is None

    # One open poll per channel: each admin closes the previous poll before posting the next.
    assert "Posted poll #1" in (await h.command("post", user="UADMIN"))["text"]
    assert "Closed poll #1" in (await h.command("close", user="UOWNER"))["text"]
    assert "Posted poll #2" in (await h.command("post", user="UOWNER"))["text"]
    lookups = len(slack.calls_to("users.info"))
    assert "Closed poll #2" in (await h.command("close", user=LISTED_ADMIN))["text"]
    assert "Posted poll #3" in (await h.command("post", user=LISTED_ADMIN))["text"]
    assert "Closed poll #3" in (await h.command("close", user="UADMIN"))["text"]
    assert "Posted poll #4" in (await h.command("post", user="UADMIN"))["text"]
    assert len(slack.calls_to("users.info")) == lookups  # listed admins need no lookup; others are cached
    assert "/debate facilitators" in json.dumps((await h.command("help", user="UADMIN"))["blocks"])
    assert "/debate facilitators" not in json.dumps((await h.command("help", user="U1"))["blocks"])
    assert len(slack.messages[CHANNEL]) == 4 and not slack.violations


async def test_a_post_that_fails_is_logged_and_reported_to_the_admin(
    h: Harness, slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    slack.fail_next("chat.postMessage", "not_in_channel")
    with caplog.at_level(logging.ERROR, logger="bots.slack.app"):
        answer = await h.command("post", user="UADMIN")
    assert "could not post poll #1" in answer["text"] and "`not_in_channel`" in answer["text"]
    assert "/invite" in answer["text"]
    assert any("not_in_channel" in r.getMessage() for r in caplog.records)
    assert not slack.messages[CHANNEL]


async def test_export_goes_to_a_direct_message_only(h: Harness, slack: FakeSlack) -> None:
    _, message = await post_today(h)
    for user in ("U1", "U2", "U3"):
        await h.press(vote_buttons(message)[2]["value"], user=user, message=message)
    # The export is not a chat command here; whatever asks for it, the adapter delivers it the same way.
    member = h.adapter.actor(TEAM_ID, CHANNEL, "U1")
    await h.adapter.deliver(await h.service.export(member), member, slack.response_url("export-1"))
    assert "Only facilitators" in h.answers("export-1")[0]["text"]
    assert not slack.files
    admin = h.adapter.actor(TEAM_ID, CHANNEL, "UADMIN", is_admin=True)
    await h.adapter.deliver(await h.service.export(admin), admin, slack.response_url("export-2"))
    [answer] = h.answers("export-2")
    assert "direct message" in answer["text"]
    [upload] = slack.files
    assert upload.channel_id == "DUADMIN" and upload.filename == "counterpoint-results.csv"
    assert upload.content is not None and upload.content.startswith(b'"poll","channel","prompt","question"')
    assert b',"Balanced","3",' in upload.content
    assert [m for m in slack.messages[CHANNEL] if m.get("files")] == []
    assert not slack.violations


async def test_app_home_shows_stance_today_and_latest_results(h: Harness, slack: FakeSlack) -> None:
    _, message = await post_today(h)
    await h.press(vote_buttons(message)[3]["value"], user="U1", message=message)
    home = {"type": "app_home_opened", "user": "U1", "channel": "DU1", "tab": "home", "event_ts": "1.2"}
    assert await h.event(home) == 200
    view = slack.views["U1"]
    text = block_text(view["blocks"])
    assert h.service.content.prompts[0].question in text and "Lean privacy" in text
    assert "No poll has closed yet" in text and f"<#{CHANNEL}>" in text
    assert not [b for b in view["blocks"] if b["type"] == "actions"]

    await h.command("close", user="UADMIN")
    await h.event(home)
    text = block_text(slack.views["U1"]["blocks"])
    assert "Results:" in text and "No question is open" in text, text
    assert await h.event({**home, "tab": "messages"}) == 200
    assert len(slack.calls_to("views.publish")) == 2
    assert not slack.violations


# ------------------------------------------------------------------------- the gate


def _headers(body: bytes, **override: str) -> dict[str, str]:
    headers = sign(SECRET, body)
    headers.update(override)
    return {k: v for k, v in headers.items() if v != "<drop>"}


async def test_signature_matrix_answers_401_before_any_handler(h: Harness, slack: FakeSlack) -> None:
    body = slash_body(text="today", response_url=slack.response_url("gate"))
    now = int(time.time())
    stale, future = sign(SECRET, body, timestamp=now - 600), sign(SECRET, body, timestamp=now + 600)
    cases = {
        "no headers": {"Content-Type": "application/x-www-form-urlencoded"},
        "no signature": _headers(body, **{"X-Slack-Signature": "<drop>"}),
        "no timestamp": _headers(body, **{"X-Slack-Request-Timestamp": "<drop>"}),
        "wrong signature": _headers(body, **{"X-Slack-Signature": "v0=" + "0" * 64}),
        "other secret": sign("not-the-secret", body),
        "stale": stale,
        "future": future,
        "non-numeric": _headers(body, **{"X-Slack-Request-Timestamp": "yesterday"}),
        "empty": _headers(body, **{"X-Slack-Request-Timestamp": ""}),
        "5000 digits": _headers(body, **{"X-Slack-Request-Timestamp": "9" * 5000}),
        "unicode digits": _headers(body, **{"X-Slack-Request-Timestamp": "１７００"}),
        "negative": _headers(body, **{"X-Slack-Request-Timestamp": f"-{now}"}),
        "non-ascii signature": _headers(body, **{"X-Slack-Signature": "v0=é"}),
    }
    for name, headers in cases.items():
        assert await h.post(body, headers) == 401, name
    assert await h.post(body + b"&text=post", sign(SECRET, body)) == 401  # body changed after signing
    await h.adapter.drain()
    assert slack.calls == [] and slack.responses == []  # nothing reached Bolt (it would call auth.test)


async def test_malformed_signed_bodies_get_400(h: Harness, slack: FakeSlack) -> None:
    form = "application/x-www-form-urlencoded"
    cases = [
        (b"\xff\xfe not utf-8", form),
        (b"payload=%7Bnot+json", form),
        (urlencode({"payload": "[1, 2]"}).encode(), form),
        (urlencode({"payload": '{"no": "type"}'}).encode(), form),
        (b"hello=world", form),
        (b"", form),
        (b"[]", "application/json"),
        (b"{oops", "application/json"),
    ]
    for body, content_type in cases:
        assert await h.post(body, raw_sign(body, content_type)) == 400, body
    assert slack.calls == []
    assert await h.post(slash_body(text="help", response_url=slack.response_url("ok"))) == 200


async def test_ack_comes_before_the_work(h: Harness, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch) -> None:
    release = asyncio.Event()
    original = h.service.today

    async def slow_today(actor):  # type: ignore[no-untyped-def]
        await release.wait()
        return await original(actor)

    monkeypatch.setattr(h.service, "today", slow_today)
    started = time.monotonic()
    assert await h.post(slash_body(text="today", user_id=LISTED_ADMIN, response_url=slack.response_url("slow"))) == 200
    assert time.monotonic() - started < 1.0 and not slack.messages[CHANNEL]
    release.set()
    await h.adapter.drain()
    assert len(slack.messages[CHANNEL]) == 1 and h.answers("slow")


# ------------------------------------------------------------------------- load and limits


async def test_a_429_on_chat_update_is_waited_out_and_the_update_lands(h: Harness, slack: FakeSlack) -> None:
    _, message = await post_today(h)
    slack.fail_next("chat.update", retry_after=1)
    await h.press(vote_buttons(message)[0]["value"], user="U1", message=message)
    assert [c.status for c in slack.calls_to("chat.update")] == [429, 200]
    assert "1 vote so far" in block_text(h.poll_message()["blocks"])


async def test_200_concurrent_votes_end_with_exact_totals_and_few_updates(
    slack: FakeSlack, service: DebateService
) -> None:
    interval = 0.25
    async with running(slack, service, refresh_interval=interval) as h:
        _, message = await post_today(h)
        options = vote_buttons(message)
        started = time.monotonic()
        statuses = await asyncio.gather(*(
            h.post(h.click_body(options[i % len(options)]["value"], user=f"UV{i:03d}", message=message,
                                tag=f"burst-{i}"))
            for i in range(200)
        ))
        await h.adapter.drain()
        elapsed = time.monotonic() - started
    assert statuses == [200] * 200
    text = block_text(h.poll_message()["blocks"])
    assert "200 votes" in text
    for option in options:
        assert f"{option['text']['text'].split(' ', 1)[1]} (40)" in text
    assert (await service.store.tally(1)).total == 200
    updates = slack.calls_to("chat.update")
    assert 1 <= len(updates) <= elapsed / interval + 2, (len(updates), elapsed)
    assert len([r for r in slack.responses if r.tag.startswith("burst-")]) == 200
    assert not slack.violations


async def test_over_long_content_is_clipped_never_rejected(
    slack: FakeSlack, pack: ContentPack, store: SqliteStore, clock: FakeClock
) -> None:
    service = DebateService(long_pack(pack), store, "test-secret-0123456789", clock=clock, default_min_votes=1)
    async with running(slack, service) as h:
        _, message = await post_today(h)
        title = message["blocks"][0]["text"]["text"]  # too long for a header: a bold section shows all of it
        assert title == f"*{blocks.escape(service.content.prompts[0].question.strip())}*"
        assert not [t for t in mrkdwn_texts(message["blocks"]) if "<!channel>" in t]
        for user in ("U1", "U2", "U3"):  # results show from 3 votes, whatever the settings say
            await h.press(vote_buttons(message)[0]["value"], user=user, message=message)
        shown = mrkdwn_texts(h.poll_message()["blocks"])  # the results now name the option in mrkdwn
        assert [t for t in shown if "&lt;!channel&gt;" in t] and not [t for t in shown if "<!channel>" in t]
        await h.command(f"article {pack.prompts[0].section_id}")
        await h.command("results")
        await h.event({"type": "app_home_opened", "user": "U1", "channel": "DU1", "tab": "home"})
    assert slack.views["U1"] and 1 <= len(slack.calls_to("chat.update")) <= 3
    assert not slack.violations


def test_block_renderer_keeps_every_limit_for_extreme_cards() -> None:
    card = Card(
        title="t" * 1000, text="<&>" * 2000, context="c" * 5000, footer="f" * 5000, marker="m",
        fields=tuple(Field(f"name {i}" * 50, "v" * 5000) for i in range(80)),
        results=ResultsView(total=1, summary=("s" * 5000,) * 10),
        buttons=tuple(Button("b" * 100, "cp1:cancel", "🗑️") for _ in range(90)),
    )
    rendered = blocks.card_blocks(card)
    assert check_blocks(rendered) == [] and len(rendered) == 50
    assert rendered[-1]["type"] == "context" and any(b["type"] == "actions" for b in rendered)
    reply = blocks.reply_blocks(Reply(text="e" * 5000, card=card, error=True))
    assert check_blocks(reply) == [] and reply[0]["text"]["text"].startswith(":warning:")
    assert check_view(blocks.home_view(card, card, "C1", card)) == []
    assert check_view(blocks.home_view(card, card, "C1", card, notices=("<!channel> " + "n" * 5000,) * 20)) == []
    assert blocks.fit_mrkdwn("<" * 10, 9) == "&lt;&lt;…"  # never cuts an entity in half
    assert len(blocks.reply_fallback(Reply(text="x" * 50_000))) <= blocks.FALLBACK_MAX


# ------------------------------------------------------------------------- the scheduler's port


async def test_scheduled_poll_posts_closes_and_reports_through_the_slack_port(
    slack: FakeSlack, pack: ContentPack, store: SqliteStore
) -> None:
    clock = FakeClock(datetime(2026, 3, 2, 6, 0, tzinfo=UTC))
    service = DebateService(pack, store, "test-secret-0123456789", clock=clock, default_min_votes=1)
    async with running(slack, service) as h:
        assert "Only facilitators" in (await h.command("schedule set time=08:30", user="U1"))["text"]
        saved = await h.command("schedule set time=08:30 tz=Europe/Berlin duration=2h", user="UADMIN")
        assert "Schedule saved" in saved["text"], saved
        schedule = await store.get_schedule(TEAM_ID, CHANNEL)
        assert schedule is not None and schedule.platform == "slack"
        scheduler = Scheduler(service, {"slack": h.adapter}, "test-holder")
        clock.advance(hours=1, minutes=31)
        assert (await scheduler.tick()).posted
        message = copy.deepcopy(h.poll_message())
        poll = await store.get_poll(1)
        assert poll is not None and poll.message_ref == f"{CHANNEL}:{message['ts']}"
        for user in ("U1", "U2", "U3"):  # results show from 3 votes
            await h.press(vote_buttons(message)[4]["value"], user=user, message=message)

        slack.messages[CHANNEL].insert(0, {**message, "ts": "1600000000.000001", "metadata": None})
        assert await h.adapter.find_poll_message(poll) == poll.message_ref  # crash adoption by metadata
        other = dataclasses.replace(poll, id=99)
        assert await h.adapter.find_poll_message(other) is None

        clock.advance(hours=2)
        assert (await scheduler.tick()).outcomes == [1]
        await h.adapter.drain()
        assert not vote_buttons(h.poll_message()) and "closed" in block_text(h.poll_message()["blocks"]).lower()
        [outcome] = [m for m in slack.messages[CHANNEL] if m.get("thread_ts") == message["ts"]
                     and m["ts"] != message["ts"] and not m.get("files")]
        assert "Results:" in block_text(outcome["blocks"]) and "Privacy first (3)" in block_text(outcome["blocks"])
    assert not slack.violations


# ------------------------------------------------------------------------- running it


async def test_socket_mode_runs_a_command_and_a_vote(slack: FakeSlack, service: DebateService) -> None:
    settings = slack_settings(slack, slack_app_token=slack.app_token, slack_signing_secret=None)
    ports: dict[str, PlatformPort] = {}
    task = asyncio.create_task(run_slack(settings, service, ports, refresh_interval=0.05))
    try:
        await slack.wait_socket_connected()
        assert ports["slack"].platform == "slack"  # the scheduler can post through this adapter
        command = slash_payload(text="today", user_id=LISTED_ADMIN, channel_id=CHANNEL,
                                response_url=slack.response_url("sock"))
        envelope = await slack.socket_send("slash_commands", command)
        assert await slack.wait_ack(envelope) == {}
        message = await slack.wait_for(lambda: slack.messages[CHANNEL] and slack.messages[CHANNEL][0])
        # The private answer comes once the post is recorded; a vote before that is refused as "being posted".
        await slack.wait_for(lambda: [r for r in slack.responses if r.tag == "sock"])
        click = block_actions_payload(vote_buttons(message)[0]["action_id"], user_id="U1", channel_id=CHANNEL,
                                      message=message, response_url=slack.response_url("sock-vote"))
        await slack.wait_ack(await slack.socket_send("interactive", click))
        await slack.wait_for(lambda: [r for r in slack.responses if r.tag == "sock-vote"])
        await slack.wait_for(lambda: "1 vote so far" in block_text(slack.messages[CHANNEL][0]["blocks"]))
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert "You chose" in next(r for r in slack.responses if r.tag == "sock-vote").body["text"]
    assert ports == {}
    assert not slack.violations


async def test_http_mode_serves_health_and_events(slack: FakeSlack, service: DebateService) -> None:
    port = free_port()
    task = asyncio.create_task(run_slack(slack_settings(slack, slack_port=port), service))
    try:
        async with aiohttp.ClientSession() as http:
            async def healthy() -> bool:
                try:
                    async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                        return resp.status == 200 and (await resp.json()) == {"ok": True}
                except aiohttp.ClientConnectionError:
                    return False

            await slack.wait_for(healthy)
            body = slash_body(text="help", team_id=TEAM_ID, response_url=slack.response_url("live"))
            async with http.post(f"http://127.0.0.1:{port}/slack/events", data=body,
                                 headers=sign(SECRET, body)) as resp:
                assert resp.status == 200
        await slack.wait_for(lambda: [r for r in slack.responses if r.tag == "live"])
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


def test_manifest_declares_what_the_adapter_uses() -> None:
    text = (Path(__file__).parents[1] / "bots" / "slack" / "manifest.yaml").read_text(encoding="utf-8")
    for needed in ("command: /debate", "- commands", "- chat:write", "- users:read", "- im:write",
                   "- files:write", "- channels:read", "- groups:read", "- channels:history", "- groups:history",
                   "- app_home_opened", "home_tab_enabled: true", "socket_mode_enabled: true",
                   "interactivity:"):
        assert needed in text, needed
