"""Reasons on Slack end to end (issue 13): signed HTTP into the real endpoint and slack_bolt, a real SqliteStore,
FakeSlack checking views.open, every block and every private answer.

Covers the modal from the receipt (and its refusals beside the field), keep/drop after a changed vote,
pages, marks, reports, facilitators' moderation, hostile text shown literally, the outcome post's
reasons whole within Slack's limits, App Home's count, visibility and forget-me."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import pytest

from bots.slack import reasons as slack_reasons
from core.presenter_reasons import ReasonForm
from core.service import DebateService
from tests.fakes.slack_fake import FakeSlack, block_actions_payload, sign
from tests.slack_helpers import (
    CHANNEL,
    LISTED_ADMIN,
    SECRET,
    Harness,
    block_text,
    buttons,
    ephemeral,
    mrkdwn_texts,
    running,
    vote_buttons,
)

JSON = dict[str, Any]
MEMBERS = [f"U{n}" for n in range(1, 10)]
HOSTILE = ("<!channel> <!here> @everyone <@U0BOSS> <#C0001> *bold* _it_ ~gone~ `code` > quote "
           "https://evil.example/x <https://evil.example|click here> &amp; :skull:")


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        for user in MEMBERS:
            fake.set_user(user)
        fake.set_channel(CHANNEL, members=[LISTED_ADMIN, *MEMBERS])
        yield fake


@pytest.fixture
async def h(slack: FakeSlack, service: DebateService) -> AsyncIterator[Harness]:
    async with running(slack, service) as harness:
        yield harness


async def post_today(h: Harness) -> JSON:
    await h.command("today", user=LISTED_ADMIN)
    return copy.deepcopy(h.poll_message())


def button(answer: JSON, prefix: str) -> JSON:
    found = [b for b in buttons(answer["blocks"]) if b["value"].startswith(prefix)]
    assert found, (prefix, [b["value"] for b in buttons(answer["blocks"])])
    return found[0]


async def press_for_modal(h: Harness, answer: JSON, user: str, tag: str | None = None) -> JSON | None:
    """Press the receipt's reason button (with a trigger of its own): the modal opened, or None."""
    tag = tag or h.new_tag("rform")
    value = button(answer, "cp1:rform:")["value"]
    payload = block_actions_payload(value, value, user_id=user, channel_id=CHANNEL, message=ephemeral(answer),
                                    response_url=h.slack.response_url(tag), trigger_id=f"{tag}.trigger",
                                    block_id="card-actions-0")
    payload["container"]["is_ephemeral"] = True
    before = len(h.slack.modals)
    body = urlencode({"payload": json.dumps(payload)}).encode()
    async with h.http.post(h.url, data=body, headers=sign(SECRET, body)) as resp:
        assert resp.status == 200
    await h.adapter.drain()
    opened = h.slack.modals[before:]
    return opened[0] if opened else None


async def give_reason(h: Harness, message: JSON, option: int, user: str, text: str) -> JSON:
    """Vote, open the form from the receipt, submit `text`: the private answer that followed."""
    receipt = await h.press(vote_buttons(message)[option]["value"], user=user, message=message)
    view = await press_for_modal(h, receipt, user)
    assert view is not None
    before = len(h.slack.ephemerals)
    assert await h.submit(view, {slack_reasons.TEXT: text}, user=user) == (200, {})
    [answer] = h.slack.ephemerals[before:]
    return answer


def press_answer(h: Harness, value: str, user: str, on: JSON) -> Any:
    return h.press(value, user=user, message=ephemeral(on), ephemeral=True, block_id="card-actions-0")


def reasons_shown(answer: JSON) -> str:
    """What plain_text sections show: where reasons go."""
    return "\n".join(b["text"]["text"] for b in answer["blocks"]
                     if b["type"] == "section" and b["text"]["type"] == "plain_text")


def assert_no_markup_escapes(blocks: list[JSON]) -> None:
    """Nothing a reason holds can ping, link or format: no mrkdwn carries its words, plain_text has no emoji."""
    for text in mrkdwn_texts(blocks):
        assert "evil.example" not in text and "<!" not in text and "<@" not in text, text
    for block in blocks:
        if block["type"] == "section" and block["text"]["type"] == "plain_text" and "evil" in block["text"]["text"]:
            assert block["text"]["emoji"] is False


async def test_the_receipt_opens_the_form_and_the_reason_is_saved_changed_and_deleted(
    h: Harness, slack: FakeSlack
) -> None:
    message = await post_today(h)
    receipt = await h.press(vote_buttons(message)[0]["value"], user="U1", message=message)
    assert button(receipt, "cp1:rform:1")["text"]["text"].endswith("Add a reason")
    view = await press_for_modal(h, receipt, "U1")
    assert view is not None and view["callback_id"] == slack_reasons.CALLBACK
    [opened] = slack.calls_to("views.open")
    assert opened.params["trigger_id"].startswith("rform-")  # the press's own trigger
    [field] = view["blocks"]
    assert field["element"]["max_length"] == 280 and "initial_value" not in field["element"]

    # Refusals the core decides without the store are shown beside the field; nothing is saved.
    for text, said in (("   ", "needs some words"), ("<!channel> @everyone", "only a mention")):
        status, ack = await h.submit(view, {slack_reasons.TEXT: text}, user="U1")
        assert status == 200 and ack["response_action"] == "errors" and said in ack["errors"]["reason"]
    assert slack.ephemerals == []

    assert await h.submit(view, {slack_reasons.TEXT: "Cameras  deter crime"}, user="U1") == (200, {})
    [saved] = slack.ephemerals
    assert "Your reason is saved" in saved["text"] and saved["user"] == "U1" and saved["channel"] == CHANNEL
    labels = [b["text"]["text"] for b in buttons(saved["blocks"])]
    assert any("Change my reason" in b for b in labels) and any("Delete my reason" in b for b in labels)
    again = await press_for_modal(h, {"blocks": saved["blocks"]}, "U1")
    assert again is not None and again["blocks"][0]["element"]["initial_value"] == "Cameras deter crime"
    assert await h.submit(again, {slack_reasons.TEXT: "Cameras deter crime at night"}, user="U1") == (200, {})
    assert "updated" in slack.ephemerals[-1]["text"]

    deleted = await press_answer(h, button({"blocks": saved["blocks"]}, "cp1:rdel:")["value"], "U1",
                                 {"blocks": saved["blocks"]})
    assert "is deleted" in deleted["text"]
    assert await h.service.store.my_reason(1, h.service._key(h.adapter.actor("T0001", CHANNEL, "U1"))) is None
    assert not slack.violations


async def test_forged_metadata_expired_triggers_and_closed_polls_are_answered(h: Harness, slack: FakeSlack) -> None:
    message = await post_today(h)
    receipt = await h.press(vote_buttons(message)[0]["value"], user="U1", message=message)
    view = await press_for_modal(h, receipt, "U1")
    assert view is not None
    for forged in ("cp1:reason:C0001:x", "cp1:reason:<!channel>:1", "cp1:ask:C0001", ""):
        status, ack = await h.submit({**view, "private_metadata": forged}, {slack_reasons.TEXT: "fine words"},
                                     user="U1")
        assert status == 200 and "out of date" in ack["errors"]["reason"], forged
    slack.expired_triggers.add("late.trigger")
    assert await press_for_modal(h, receipt, "U1", tag="late") is None
    [late] = [r.body for r in slack.responses if r.tag == "late"]
    assert "expired_trigger_id" in late["text"] and "/debate reason" in late["text"]

    await h.command("close", user=LISTED_ADMIN)
    closed = await h.submit(view, {slack_reasons.TEXT: "too late now"}, user="U1")
    assert closed == (200, {}) and "closed" in slack.ephemerals[-1]["text"]


async def test_a_changed_vote_asks_to_keep_or_drop_the_reason(h: Harness, slack: FakeSlack) -> None:
    message = await post_today(h)
    await give_reason(h, message, 0, "U1", "Safety first")
    moved = await h.press(vote_buttons(message)[4]["value"], user="U1", message=message)
    assert "Keep it with your new vote" in block_text(moved["blocks"])
    kept = await press_answer(h, button(moved, "cp1:rkeep:1")["value"], "U1", moved)
    assert "now goes with your vote" in kept["text"] and kept["replace_original"] is True
    back = await h.press(vote_buttons(message)[0]["value"], user="U1", message=message)
    dropped = await press_answer(h, button(back, "cp1:rdrop:1")["value"], "U1", back)
    assert "deleted" in dropped["text"]
    form = await h.service.reason_form(h.adapter.actor("T0001", CHANNEL, "U1"), 1)
    assert isinstance(form, ReasonForm) and form.current == ""
    assert not slack.violations


async def test_pages_marks_reports_and_moderation_show_hostile_reasons_literally(
    h: Harness, slack: FakeSlack
) -> None:
    message = await post_today(h)
    for i, user in enumerate(MEMBERS[:7]):
        await give_reason(h, message, 0, user, f"{HOSTILE} number {i}")
    await h.press(vote_buttons(message)[4]["value"], user="U9", message=message)

    page = await h.command("reasons", user="U9")
    shown = reasons_shown(page)
    assert HOSTILE in shown  # as typed: plain_text needs no escaping, and shows no markup
    assert_no_markup_escapes(page["blocks"])
    assert not any(user in shown for user in MEMBERS)  # never an author
    first = button(page, "cp1:rmark:")
    marked = await press_answer(h, first["value"], "U9", page)
    assert "Marked as convincing" in marked["text"] and marked["replace_original"] is False  # the page stays
    twice = await press_answer(h, first["value"], "U9", page)
    assert "already marked" in twice["text"]
    own = await h.command("reasons", user="U1")
    assert "yours" in reasons_shown(own)

    following = await press_answer(h, button(page, "cp1:rpage:1:2")["value"], "U9", page)
    assert following["replace_original"] is True and "Page 2 of 2" in block_text(following["blocks"])
    assert button(following, "cp1:rpage:1:1")

    await h.command("settings reports=1", user=LISTED_ADMIN)
    reported = await press_answer(h, button(page, "cp1:rreport:")["value"], "U9", page)
    assert "now hidden" in reported["text"]
    review = await h.command("moderate", user=LISTED_ADMIN)
    assert HOSTILE in reasons_shown(review) and not any(user in block_text(review["blocks"]) for user in MEMBERS)
    assert_no_markup_escapes(review["blocks"])
    refused = await h.command("moderate", user="U9")
    assert "Only facilitators" in refused["text"]
    restored = await press_answer(h, button(review, "cp1:rshow:")["value"], LISTED_ADMIN, review)
    assert "shown again" in restored["text"] and restored["replace_original"] is False
    assert not slack.violations


async def test_no_reasons_while_results_are_hidden(h: Harness, slack: FakeSlack) -> None:
    await h.command("settings results=after-close", user=LISTED_ADMIN)
    message = await post_today(h)
    for user in MEMBERS[:3]:
        await give_reason(h, message, 0, user, f"Secret words of {user}")
    page = await h.command("reasons", user="U5")
    text = block_text(page["blocks"])
    assert "after it closes" in text and "Secret words" not in text
    assert not buttons(page["blocks"])
    assert not slack.violations


async def test_app_home_counts_reasons_and_forget_me_takes_them_away(h: Harness, slack: FakeSlack) -> None:
    message = await post_today(h)
    for user in MEMBERS[:4]:
        await give_reason(h, message, 0, user, f"Because {user.lower()} says so")
    home = {"type": "app_home_opened", "user": "U5", "channel": "DU5", "tab": "home", "event_ts": "1.2"}
    await h.event(home)
    assert "Reasons given" in block_text(slack.views["U5"]["blocks"])
    assert "4 reasons" in block_text(slack.views["U5"]["blocks"])
    page = await h.command("reasons", user="U5")
    mark = button(page, "cp1:rmark:")
    await press_answer(h, mark["value"], "U5", page)

    ask = await h.command("forget-me", user="U1")
    await press_answer(h, button(ask, "cp1:forget")["value"], "U1", ask)
    after = reasons_shown(await h.command("reasons", user="U5"))
    assert "Because u1 says so" not in after and "Because u2 says so" in after
    await h.event(home)
    assert "3 reasons" in block_text(slack.views["U5"]["blocks"])
    ask = await h.command("forget-me", user="U5")
    await press_answer(h, button(ask, "cp1:forget")["value"], "U5", ask)
    assert "1 mark" not in reasons_shown(await h.command("reasons", user="U2"))
    assert not slack.violations


async def test_the_outcome_post_shows_the_top_reasons_whole(h: Harness, slack: FakeSlack) -> None:
    """Five options, three reasons each (k = 3), 280 characters apiece: ten lines, more than a section holds."""
    voters = [f"UV{n:02d}" for n in range(15)]
    for user in voters:
        slack.set_user(user)
    options = "Keep it as it is | Change it a bit | Rewrite it whole | Drop it entirely | Ask again later"
    await h.command(f'ask question="Which rule?" options="{options}"', user=LISTED_ADMIN)
    message = copy.deepcopy(h.poll_message())
    words = {}
    for i, user in enumerate(voters):
        await h.press(vote_buttons(message)[i % 5]["value"], user=user, message=message)
        words[user] = (f"{HOSTILE[:40]} {user} " + "a long and careful argument " * 12)[:280]
        saved = await h.service.save_reason(h.adapter.actor("T0001", CHANNEL, user), 1, words[user])
        assert not saved.error, saved.text
    await h.command("close", user=LISTED_ADMIN)
    poll = await h.service.store.get_poll(1)
    assert poll is not None
    await h.adapter.post_outcome(poll, await h.service.outcome_card(1))
    [outcome] = [m for m in slack.messages[CHANNEL] if (m.get("metadata") or {}).get("event_type")
                 == "counterpoint_outcome"]
    shown = reasons_shown(outcome)
    assert sum(text in shown for text in words.values()) == 10  # two per option, each whole
    assert len(shown) > 3000  # more than one section holds them
    assert all(len(b["text"]["text"]) <= 3000 for b in outcome["blocks"] if "text" in b)
    assert_no_markup_escapes(outcome["blocks"])
    [call] = [c for c in slack.calls_to("chat.postMessage") if c.params.get("thread_ts")]
    assert call.params["unfurl_links"] is False and call.params["unfurl_media"] is False
    assert button(outcome, "cp1:rpage:1:1")  # "See the reasons"
    assert re.search(r"\(0 marks\)", shown)
    assert not slack.violations
