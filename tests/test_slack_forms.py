"""`/debate ask` alone opens a modal; its submission posts the poll. End to end: signed HTTP into the real
endpoint and slack_bolt, a real SqliteStore, FakeSlack checking views.open and taking the submissions."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bots.slack import forms
from bots.slack.app import COMMAND_FAILED
from bots.slack.server import run_slack
from core.service import DebateService
from tests.fakes.slack_fake import FakeSlack, check_modal, slash_payload, view_submission_payload
from tests.slack_helpers import CHANNEL, LISTED_ADMIN, Harness, block_text, running, slack_settings, vote_buttons

OUTSIDER = "U1"


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        fake.set_user(OUTSIDER)
        yield fake


@pytest.fixture
async def h(slack: FakeSlack, service: DebateService) -> AsyncIterator[Harness]:
    async with running(slack, service) as harness:
        yield harness


def ephemerals_to(slack: FakeSlack, user: str) -> list[str]:
    return [e["text"] for e in slack.ephemerals if e["user"] == user and e["channel"] == CHANNEL]


def polls_posted(slack: FakeSlack) -> list[dict]:
    return [m for m in slack.messages[CHANNEL] if (m.get("metadata") or {}).get("event_type") == "counterpoint_poll"]


async def test_ask_alone_opens_a_modal_and_its_submission_posts_the_poll(h: Harness, slack: FakeSlack) -> None:
    view, answers = await h.open_form("ask", user=LISTED_ADMIN)
    assert view is not None and answers == []  # the modal is the answer: nothing said in the channel
    [opened] = slack.calls_to("views.open")
    assert opened.params["trigger_id"].endswith(".trigger")  # the command's own trigger
    question, options = view["blocks"]
    assert question["element"]["type"] == "plain_text_input" and question["element"]["max_length"] == 240
    assert options["element"]["multiline"] is True and options["optional"] is True
    assert CHANNEL in view["private_metadata"]

    status, ack = await h.submit(view, {"question": "Tea or coffee at the retreat?", "options": "Tea\nCoffee\n\nBoth"},
                                 user=LISTED_ADMIN)
    assert (status, ack) == (200, {})  # an empty ack closes the modal
    [poll] = polls_posted(slack)
    assert "Tea or coffee at the retreat?" in block_text(poll["blocks"])
    assert [b["text"]["text"].split(" ", 1)[-1] for b in vote_buttons(poll)] == ["Tea", "Coffee", "Both"]
    assert ephemerals_to(slack, LISTED_ADMIN) == ["Posted poll #1."]
    assert not slack.violations


async def test_without_options_the_question_uses_the_scale(h: Harness, slack: FakeSlack) -> None:
    view, _ = await h.open_form("ask", user=LISTED_ADMIN)
    assert view is not None
    assert (await h.submit(view, {"question": "Cameras in every classroom?"}, user=LISTED_ADMIN)) == (200, {})
    [poll] = polls_posted(slack)
    assert len(vote_buttons(poll)) == len(h.service.content.scale)


async def test_a_member_who_is_not_a_facilitator_is_told_privately_and_nothing_is_posted(
    h: Harness, slack: FakeSlack
) -> None:
    view, _ = await h.open_form("ask", user=OUTSIDER)
    assert view is not None
    status, ack = await h.submit(view, {"question": "Is this allowed?", "options": "Yes\nNo"}, user=OUTSIDER)
    assert (status, ack) == (200, {})
    assert polls_posted(slack) == [] and slack.calls_to("chat.postMessage") == []
    [refusal] = ephemerals_to(slack, OUTSIDER)
    assert "Only facilitators" in refusal
    assert await h.service.poll(1) is None  # nothing stored either


async def test_cheap_mistakes_are_shown_beside_the_fields_and_nothing_happens(h: Harness, slack: FakeSlack) -> None:
    view, _ = await h.open_form("ask", user=LISTED_ADMIN)
    assert view is not None
    status, ack = await h.submit(view, {"question": "   ", "options": "A\nB\nC\nD\nE\nF"}, user=LISTED_ADMIN)
    assert status == 200 and ack["response_action"] == "errors"
    assert set(ack["errors"]) == {"question", "options"}
    assert "at most 5" in ack["errors"]["options"]
    _, ack = await h.submit(view, {"question": "Fine question?", "options": "Only one"}, user=LISTED_ADMIN)
    assert set(ack["errors"]) == {"options"}
    assert polls_posted(slack) == [] and slack.ephemerals == []


async def test_metadata_that_is_not_ours_is_refused_in_the_form(h: Harness, slack: FakeSlack) -> None:
    view, _ = await h.open_form("ask", user=LISTED_ADMIN)
    assert view is not None
    for forged in ("cp1:ask:<!channel>", "C0001", "cp1:ask:c0001", "cp1:ask:" + "C" * 40, ""):
        payload = view_submission_payload({**view, "private_metadata": forged}, {"question": "Q?"},
                                          user_id=LISTED_ADMIN)
        status, ack = await h.submit(view, {}, payload=payload)
        assert status == 200 and ack["response_action"] == "errors" and "question" in ack["errors"], forged
    assert polls_posted(slack) == [] and slack.ephemerals == []


async def test_an_expired_trigger_is_answered_with_how_to_type_it(h: Harness, slack: FakeSlack) -> None:
    slack.expired_triggers.add("late.trigger")
    view, [answer] = await h.open_form("ask", user=LISTED_ADMIN, trigger="late.trigger")
    assert view is None
    assert "expired_trigger_id" in answer["text"] and "/debate ask" in answer["text"]


async def test_core_refusals_after_submission_reach_the_member(h: Harness, slack: FakeSlack) -> None:
    await h.command("post", user=LISTED_ADMIN)  # one open poll per channel
    view, _ = await h.open_form("ask", user=LISTED_ADMIN)
    assert view is not None
    await h.submit(view, {"question": "A second one?", "options": "Yes\nNo"}, user=LISTED_ADMIN)
    [refusal] = ephemerals_to(slack, LISTED_ADMIN)
    assert "still open" in refusal and "/debate close" in refusal  # spelled the Slack way
    assert len(polls_posted(slack)) == 1


async def test_where_the_ephemeral_is_refused_the_answer_comes_by_direct_message(
    h: Harness, slack: FakeSlack
) -> None:
    view, _ = await h.open_form("ask", user=OUTSIDER)
    assert view is not None
    slack.fail_next("chat.postEphemeral", "channel_not_found")
    await h.submit(view, {"question": "Allowed?"}, user=OUTSIDER)
    [direct] = slack.messages["D" + OUTSIDER]
    assert "Only facilitators" in direct["text"]


async def test_work_that_fails_after_the_ack_is_still_answered(
    h: Harness, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*_: object) -> None:
        raise RuntimeError("boom")

    view, _ = await h.open_form("ask", user=LISTED_ADMIN)
    assert view is not None
    monkeypatch.setattr(h.adapter.router, "execute", broken)
    assert (await h.submit(view, {"question": "Will this work?"}, user=LISTED_ADMIN)) == (200, {})
    assert ephemerals_to(slack, LISTED_ADMIN) == [COMMAND_FAILED]


async def test_typed_ask_with_question_and_options_still_posts(h: Harness, slack: FakeSlack) -> None:
    answer = await h.command('ask question="Tea or coffee?" options="Tea | Coffee"', user=LISTED_ADMIN)
    assert answer["text"] == "Posted poll #1."
    [poll] = polls_posted(slack)
    assert len(vote_buttons(poll)) == 2 and slack.calls_to("views.open") == []


async def test_socket_mode_opens_the_form_and_takes_its_submission(slack: FakeSlack, service: DebateService) -> None:
    settings = slack_settings(slack, slack_app_token=slack.app_token, slack_signing_secret=None)
    task = asyncio.create_task(run_slack(settings, service, refresh_interval=0.05))
    try:
        await slack.wait_socket_connected()
        command = slash_payload(text="ask", user_id=LISTED_ADMIN, channel_id=CHANNEL, trigger_id="sock.trigger",
                                response_url=slack.response_url("sock"))
        assert await slack.wait_ack(await slack.socket_send("slash_commands", command)) == {}
        [view] = await slack.wait_for(lambda: slack.modals)
        bad = view_submission_payload(view, {"question": "Too many?", "options": "1\n2\n3\n4\n5\n6"},
                                      user_id=LISTED_ADMIN)
        refused = await slack.wait_ack(await slack.socket_send("interactive", bad))
        assert refused["response_action"] == "errors" and set(refused["errors"]) == {"options"}
        good = view_submission_payload(view, {"question": "Over the socket?"}, user_id=LISTED_ADMIN)
        assert await slack.wait_ack(await slack.socket_send("interactive", good)) == {}
        await slack.wait_for(lambda: ephemerals_to(slack, LISTED_ADMIN))
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert ephemerals_to(slack, LISTED_ADMIN) == ["Posted poll #1."] and len(polls_posted(slack)) == 1
    assert not slack.violations


def test_the_fake_refuses_modals_and_submissions_slack_would_refuse() -> None:
    view = forms.ask_modal(CHANNEL, "Security first", "Privacy first")
    assert check_modal(view) == []
    assert any("title" in e for e in check_modal({**view, "title": {"type": "plain_text", "text": "x" * 25}}))
    assert any("callback_id" in e for e in check_modal({k: v for k, v in view.items() if k != "callback_id"}))
    assert any("submit" in e for e in check_modal({k: v for k, v in view.items() if k != "submit"}))
    assert any("input" in e for e in check_modal({**view, "blocks": [{"type": "divider"}]}))
    assert any("modal" in e for e in check_modal({**view, "type": "home"}))
    with pytest.raises(ValueError, match="required"):
        view_submission_payload(view, {"options": "A\nB"})
    with pytest.raises(ValueError, match="max_length"):
        view_submission_payload(view, {"question": "x" * 241})
