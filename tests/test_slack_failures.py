"""Slack failure paths end to end: acked work that fails is answered, refused posts abandon their poll,
announcements go public, outcomes are found again after a crash, and shutdown is bounded.

Real Bolt over signed HTTP, a real SqliteStore on a file (short lock timeouts), FakeSlack.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bots.slack.app import PRESS_FAILED, RESTARTING
from core.models import ContentPack
from core.service import VOTE_NOT_RECORDED, DebateService
from core.store.sqlite import SqliteStore
from tests.conftest import FakeClock
from tests.fakes.slack_fake import BOT_USER_ID, FakeSlack, slash_body
from tests.slack_helpers import CHANNEL, Harness, block_text, running, vote_buttons, write_lock_held

MEMBERS = ("UAAAAAAA01", "UAAAAAAA02", "UAAAAAAA03")
ADMIN = "UADMINAA01"
OTHER_CHANNEL = "C0OTHER"


@pytest.fixture
async def quick_store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    """A store that gives up on a held write lock within a second, so the lock test is quick."""
    store = SqliteStore(tmp_path / "slack.db", busy_timeout=0.2, lock_timeout=0.5)
    await store.open()
    yield store
    await store.close()


@pytest.fixture
def service(pack: ContentPack, quick_store: SqliteStore, clock: FakeClock) -> DebateService:
    return DebateService(pack, quick_store, "test-secret-0123456789", clock=clock)


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        fake.set_user(ADMIN, is_admin=True)
        for user in MEMBERS:
            fake.set_user(user)
        fake.set_channel(CHANNEL, members=[*MEMBERS, ADMIN])
        fake.set_channel(OTHER_CHANNEL, members=[*MEMBERS, ADMIN])
        yield fake


@pytest.fixture
async def h(slack: FakeSlack, service: DebateService) -> AsyncIterator[Harness]:
    async with running(slack, service) as harness:
        yield harness


async def post_today(h: Harness, user: str = ADMIN) -> dict:  # members no longer open it
    await h.command("today", user=user)
    return copy.deepcopy(h.poll_message())


# ------------------------------------------------------------------------- acked work that fails


async def test_a_vote_blocked_by_a_held_database_lock_is_answered_not_recorded(
    h: Harness, slack: FakeSlack, quick_store: SqliteStore
) -> None:
    message = await post_today(h)
    with write_lock_held(quick_store.path):
        answer = await h.press(vote_buttons(message)[0]["value"], user=MEMBERS[0], message=message)
    assert VOTE_NOT_RECORDED in answer["text"] and "NOT recorded" in answer["text"]
    assert (await quick_store.tally(1)).total == 0
    again = await h.press(vote_buttons(message)[0]["value"], user=MEMBERS[0], message=message)
    assert again["text"].startswith("You chose") and (await quick_store.tally(1)).total == 1


async def test_work_that_raises_still_answers_the_member(
    h: Harness, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = await post_today(h)

    async def broken(*_: object, **__: object) -> None:
        raise RuntimeError("an unexpected bug")

    monkeypatch.setattr(h.service, "press", broken)
    pressed = await h.press(vote_buttons(message)[0]["value"], user=MEMBERS[1], message=message)
    assert pressed["text"].endswith(PRESS_FAILED) and pressed["response_type"] == "ephemeral"
    monkeypatch.setattr(h.adapter.router, "handle", broken)
    commanded = await h.command("results", user=MEMBERS[1])
    assert "Something went wrong on my side" in commanded["text"] and "try again" in commanded["text"]
    assert not slack.violations


# ------------------------------------------------------------------------- refused posts


async def test_a_refused_post_abandons_the_poll_and_the_same_prompt_comes_next(
    h: Harness, slack: FakeSlack
) -> None:
    slack.channels[CHANNEL].members.discard(BOT_USER_ID)  # not invited: Slack says not_in_channel
    refused = await h.command("today", user=ADMIN)
    assert "could not post poll #1" in refused["text"] and "`not_in_channel`" in refused["text"]
    assert "/invite" in refused["text"] and not slack.messages[CHANNEL]
    first = await h.service.store.get_poll(1)
    assert first is not None and first.abandoned and first.closed_at is not None
    refused_vote = await h.press("cp1:vote:1:1", user=MEMBERS[1])
    assert "There is no poll #1 here." in refused_vote["text"]  # an abandoned poll is shown nowhere

    slack.channels[CHANNEL].members.add(BOT_USER_ID)  # invited now
    posted = await h.command("today", user=ADMIN)
    assert "Today's question is posted (poll #2)" in posted["text"]
    second = await h.service.store.get_poll(2)
    assert second is not None and second.prompt_id == first.prompt_id and second.message_ref
    assert h.service.content.prompts[0].question[:60] in block_text(h.poll_message()["blocks"])
    assert not slack.violations


async def test_a_threshold_change_is_announced_in_the_channel(h: Harness, slack: FakeSlack) -> None:
    answer = await h.command("settings min-votes 5", user=ADMIN)
    assert "Results show from 5 votes" in answer["text"] and "`/debate settings k=5" in answer["text"]
    [announcement] = slack.messages[CHANNEL]
    assert "raised this channel's results threshold from 3 to 5" in announcement["text"]
    assert "raised" in block_text(announcement["blocks"])
    await h.command("settings min-votes 5", user=ADMIN)
    assert len(slack.messages[CHANNEL]) == 1  # no change, nothing announced
    slack.fail_next("chat.postMessage", "not_in_channel")
    lowered = await h.command("settings min-votes 4", user=ADMIN)
    assert "could not announce" in lowered["text"] and "not_in_channel" in lowered["text"]
    assert not slack.violations


# ------------------------------------------------------------------------- outcome adoption


async def test_find_outcome_message_finds_only_our_outcome_in_the_poll_thread(
    h: Harness, slack: FakeSlack
) -> None:
    message = await post_today(h)
    await h.command("close", user=ADMIN)
    poll = await h.service.store.get_poll(1)
    assert poll is not None and poll.message_ref
    assert await h.adapter.find_outcome_message(poll) is None

    card = await h.service.outcome_card(1)
    for n in range(230):  # a busy thread: the outcome lands on the second page of replies
        slack._store_message(CHANNEL, f"reply {n}", [], {"thread_ts": message["ts"]})
    forged = {"type": "header", "block_id": "counterpoint-outcome:1", "text": {"type": "plain_text", "text": "x"}}
    slack.messages[CHANNEL].append({**slack.messages[CHANNEL][-1], "ts": "1700000999.000001", "user": "UAAAAAAA01",
                                    "bot_id": None, "blocks": [forged]})  # a member's message is not ours
    other = dataclasses.replace(poll, id=99)
    await h.adapter.post_outcome(other, dataclasses.replace(card, marker="counterpoint-outcome:99"))
    assert await h.adapter.find_outcome_message(poll) is None

    await h.adapter.post_outcome(poll, card)
    [posted] = [m for m in slack.messages[CHANNEL] if (m.get("metadata") or {}).get("event_type")
                == "counterpoint_outcome" and m["metadata"]["event_payload"]["poll_id"] == 1]
    assert posted["thread_ts"] == message["ts"]
    assert await h.adapter.find_outcome_message(poll) == f"{CHANNEL}:{posted['ts']}"
    assert len(slack.calls_to("conversations.replies")) >= 4  # it paged through the thread

    posted["metadata"] = None  # older posts without metadata are still recognised by the header marker
    assert await h.adapter.find_outcome_message(poll) == f"{CHANNEL}:{posted['ts']}"
    slack.messages[CHANNEL].remove(next(m for m in slack.messages[CHANNEL] if m["ts"] == message["ts"]))
    assert await h.adapter.find_outcome_message(poll) is None  # the poll message (and thread) is gone
    assert not slack.violations


# ------------------------------------------------------------------------- shutdown


async def test_close_is_bounded_while_calls_wait_out_a_long_retry_after(h: Harness, slack: FakeSlack) -> None:
    message = await post_today(h)
    slack.fail_next("chat.update", retry_after=45)
    assert await h.post(h.click_body(vote_buttons(message)[0]["value"], user=MEMBERS[0], message=message,
                                     tag="vote")) == 200
    await slack.wait_for(lambda: h.answers("vote") and [c for c in slack.calls_to("chat.update") if c.status == 429])
    slack.fail_next("chat.postMessage", retry_after=45)
    assert await h.post(slash_body(text="today", user_id=ADMIN, channel_id=OTHER_CHANNEL,
                                   response_url=slack.response_url("stuck"))) == 200
    await slack.wait_for(lambda: [c for c in slack.calls_to("chat.postMessage") if c.status == 429])

    h.adapter.close_timeout = 0.3
    await asyncio.wait_for(h.adapter.close(), 10)  # a hang detector: the Retry-After alone is 45 s

    assert h.answers("vote")[0]["text"].startswith("You chose")  # the vote itself went through
    [stuck] = h.answers("stuck")
    assert RESTARTING in stuck["text"]
    abandoned = await h.service.store.get_poll(2)
    assert abandoned is not None and abandoned.abandoned  # its post was interrupted: shown nowhere
