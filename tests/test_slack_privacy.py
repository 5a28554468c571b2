"""Slack privacy end to end: polls of private channels stay there, and no log line ties a member to anything.

Real Bolt over signed HTTP, a real SqliteStore on a file, FakeSlack with declared channels and members.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bots.logsafety import LIBRARY_LOGGERS, configure_logging
from core.service import VOTE_NOT_RECORDED, DebateService
from core.store.sqlite import SqliteStore
from tests.fakes.slack_fake import BOT_USER_ID, TEAM_ID, FakeSlack, slash_body
from tests.slack_helpers import CHANNEL, Harness, block_text, running, vote_buttons, write_lock_held

SECRET_ROOM = "G0SECRET"
INSIDERS = ("UINSIDEAA1", "UINSIDEAA2", "UINSIDEAA3")
OUTSIDER = "UOUTSIDEAA"
ADMIN = "UADMINAAA1"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    """The shared `service` fixture's store, giving up on a held write lock within a second."""
    s = SqliteStore(tmp_path / "privacy.db", busy_timeout=0.2, lock_timeout=0.5)
    await s.open()
    yield s
    await s.close()


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        fake.set_user(ADMIN, is_admin=True)
        for user in (*INSIDERS, OUTSIDER):
            fake.set_user(user)
        fake.set_channel(SECRET_ROOM, private=True, members=[*INSIDERS, ADMIN])
        fake.set_channel(CHANNEL, members=[*INSIDERS, OUTSIDER, ADMIN])
        yield fake


@pytest.fixture
async def h(slack: FakeSlack, service: DebateService) -> AsyncIterator[Harness]:
    async with running(slack, service) as harness:
        yield harness


def received_by(slack: FakeSlack, tags: list[str], user: str) -> str:
    """Everything a member could have been shown: their private answers, ephemerals and Home view."""
    parts = [json.dumps(r.body) for r in slack.responses if r.tag in tags]
    parts += [json.dumps(e) for e in slack.ephemerals if e.get("user") == user]
    parts.append(json.dumps(slack.views.get(user) or {}))
    return "\n".join(parts)


async def secret_poll_with_results(h: Harness) -> str:
    """A poll in the private channel with enough votes for its results to show; returns its question's start."""
    await h.command("today", user=ADMIN, channel=SECRET_ROOM)  # a facilitator opens it
    message = h.poll_message(SECRET_ROOM)
    for user in INSIDERS:
        await h.press(vote_buttons(message)[0]["value"], user=user, channel=SECRET_ROOM, message=message)
    return h.service.content.prompts[0].question[:60]  # headers clip long questions; a prefix is in both


async def test_results_of_a_private_channel_poll_are_refused_to_non_members(h: Harness, slack: FakeSlack) -> None:
    question = await secret_poll_with_results(h)
    tags = [f"cmd-{n}" for n in range(100, 103)]
    answers = []
    for tag, text in zip(tags, ("results 1", "results #1", "close 1"), strict=True):
        assert await h.post(slash_body(text=text, user_id=OUTSIDER, channel_id=CHANNEL,
                                       response_url=slack.response_url(tag))) == 200
        await h.adapter.drain()
        answers.extend(h.answers(tag))
    assert "There is no poll #1 here." in answers[0]["text"] and "There is no poll #1 here." in answers[1]["text"]
    vote = await h.press("cp1:vote:1:1", user=OUTSIDER, channel=CHANNEL)
    assert "There is no poll #1 here." in vote["text"]
    seen = received_by(slack, tags, OUTSIDER) + json.dumps(vote)
    assert question not in seen and "(3)" not in seen
    assert (await h.service.store.tally(1)).total == 3  # the outsider's press recorded nothing

    inside = await h.command("results 1", user=INSIDERS[1], channel=CHANNEL)  # a member, asking elsewhere
    assert question in block_text(inside["blocks"]) and "(3)" in block_text(inside["blocks"])
    assert not slack.violations


async def test_membership_lookup_failure_refuses_and_is_not_cached(h: Harness, slack: FakeSlack) -> None:
    question = await secret_poll_with_results(h)
    slack.fail_next("users.conversations", "internal_error")
    refused = await h.command("results 1", user=INSIDERS[2], channel=CHANNEL)
    assert "There is no poll #1 here." in refused["text"] and question not in json.dumps(refused)
    allowed = await h.command("results 1", user=INSIDERS[2], channel=CHANNEL)  # Slack answers again
    assert question in block_text(allowed["blocks"])
    calls = len(slack.calls_to("users.conversations"))
    await h.command("results 1", user=INSIDERS[2], channel=CHANNEL)
    assert len(slack.calls_to("users.conversations")) == calls  # cached for a while

    slack.channels[SECRET_ROOM].members.discard(BOT_USER_ID)  # the bot was removed: Slack lists nothing
    h.adapter.access._cache = type(h.adapter.access._cache)(60, 10)
    gone = await h.command("results 1", user=INSIDERS[0], channel=CHANNEL)
    assert "There is no poll #1 here." in gone["text"]


async def test_app_home_shows_private_polls_only_to_members_and_notices_only_to_admins(
    h: Harness, slack: FakeSlack
) -> None:
    question = await secret_poll_with_results(h)
    await h.service.store.add_notice(TEAM_ID, SECRET_ROOM,
                                     "The scheduled question could not be posted: not_in_channel",
                                     datetime.now(UTC))

    async def home(user: str) -> str:
        assert await h.event({"type": "app_home_opened", "user": user, "channel": "D" + user, "tab": "home"}) == 200
        return block_text(slack.views[user]["blocks"])

    outsider = await home(OUTSIDER)
    assert question not in outsider and f"<#{SECRET_ROOM}>" not in outsider and "not_in_channel" not in outsider
    insider = await home(INSIDERS[0])
    assert question in insider and f"<#{SECRET_ROOM}>" in insider and "not_in_channel" not in insider
    assert "not_in_channel" in await home(ADMIN)

    await h.command("close", user=ADMIN, channel=SECRET_ROOM)
    outsider = await home(OUTSIDER)
    assert question not in outsider and "(3)" not in outsider and "No poll has closed yet" in outsider
    assert "Results:" in await home(INSIDERS[1])
    assert json.dumps(slack.views[OUTSIDER]).count(question) == 0
    assert not slack.violations


# ------------------------------------------------------------------------- logs


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))  # the message, args and any traceback, as a file would hold


@pytest.fixture
def debug_logs() -> Iterator[Capture]:
    """configure_logging("DEBUG") as the CLI does it, then every record of every logger; restored after."""
    root = logging.getLogger()
    levels = {name: logging.getLogger(name).level for name in ("", *LIBRARY_LOGGERS)}
    filters = {handler: list(handler.filters) for handler in root.handlers}
    configure_logging("DEBUG")
    capture = Capture()
    root.addHandler(capture)
    try:
        yield capture
    finally:
        root.removeHandler(capture)
        for handler, kept in filters.items():
            handler.filters[:] = kept
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


async def test_no_log_record_names_a_voter_or_carries_a_response_url_or_token(
    h: Harness, slack: FakeSlack, debug_logs: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    await h.command("today", user=ADMIN)
    message = h.poll_message()
    options = vote_buttons(message)
    for user in INSIDERS:
        await h.press(options[1]["value"], user=user, message=message)
    await h.press(options[3]["value"], user=INSIDERS[0], message=message)  # a change
    await h.press("cp1:retract:1", user=INSIDERS[1], message=message)
    await h.command("results", user=INSIDERS[2])
    await h.command("results 1", user=OUTSIDER, channel=SECRET_ROOM)

    slack.fail_next("response_url", "internal_error", status=500)  # the answer cannot be delivered
    assert await h.post(h.click_body(options[0]["value"], user=INSIDERS[2], message=message, tag="lost")) == 200
    await h.adapter.drain()
    slack.fail_next("chat.update", "message_not_found")  # a refused edit on refresh
    await h.press(options[2]["value"], user=INSIDERS[1], message=message)
    with write_lock_held(h.service.store.path):  # type: ignore[attr-defined]
        blocked = await h.press(options[0]["value"], user=INSIDERS[0], message=message)
    assert VOTE_NOT_RECORDED in blocked["text"]
    slack.fail_next("users.info", "internal_error")
    slack.fail_next("users.conversations", "internal_error")
    await h.command("results 1", user=OUTSIDER, channel=CHANNEL)
    slack.fail_next("files.getUploadURLExternal", "internal_error")
    await h.command("export", user=ADMIN)

    leaky = f"boom for {INSIDERS[0]} at {slack.response_url('x')} with {slack.bot_token}"

    async def broken(*_: object) -> None:  # its text names a member, a response_url and the token
        raise RuntimeError(leaky)

    with monkeypatch.context() as patched:  # work that fails unexpectedly is logged with its traceback
        patched.setattr(h.service, "press", broken)
        await h.press(options[4]["value"], user=INSIDERS[0], message=message)

    failed = await h.command("settings min-votes 999", user=ADMIN)
    assert failed["text"]  # a refused setting is answered; nothing about it should name the admin
    for user in INSIDERS:
        await h.event({"type": "app_home_opened", "user": user, "channel": "D" + user, "tab": "home"})

    lines = debug_logs.lines
    assert any("slack-press failed" in line for line in lines)  # the capture sees our records at all
    assert any("refreshing poll #1 failed" in line for line in lines)
    assert any("could not be carried out" in line for line in lines)  # the database failure was logged
    for line in lines:
        for secret in (*INSIDERS, OUTSIDER, ADMIN, "/response/", slack.bot_token, "xoxb-"):
            assert secret not in line, (secret, line)
