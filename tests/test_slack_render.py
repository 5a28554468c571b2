"""Slack rendering (issue 10): whole questions, the poll's state in each reader's zone, one primary button at
most, a fallback text that says what the poll is, no meaning in an emoji alone, and limits that never cut a
`<!date...>` in half. Pure renderer tests build Cards directly; one test goes end to end through FakeSlack."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bots.slack import blocks
from core.actions import Action, ActionKind
from core.content import load_pack
from core.models import ContentPack
from core.moments import moment
from core.render import Button, Card, Field, Reply, ResultBar, ResultsView, Style
from core.service import DebateService
from core.store.sqlite import SqliteStore
from tests.conftest import FakeClock
from tests.fakes.slack_fake import FakeSlack, check_blocks, check_view
from tests.slack_helpers import CHANNEL, LISTED_ADMIN, buttons, mrkdwn_texts, running, vote_buttons

JSON = dict[str, Any]
BERLIN = ZoneInfo("Europe/Berlin")
CLOSES = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)  # 09:00 in Berlin
EPOCH = int(CLOSES.timestamp())
TOKEN = moment(CLOSES, BERLIN)
PLAIN_TIME = "29 Nov 2026, 09:00 CET"
DATE_MARKUP = f"<!date^{EPOCH}^{{date_short_pretty}} {{time}}|{PLAIN_TIME}>"
WHOLE_DATE = re.compile(r"<!date\^\d+\^[^|>]+\|[^<>]+>")


def vote(option: str, label: str, emoji: str = "") -> Button:
    return Button(label, Action(ActionKind.VOTE, poll_id=7, option_id=option).encode(), emoji, Style.PRIMARY)


OPTIONS = (vote("a", "Security first", "🛡️"), vote("b", "Balanced", "⚖️"), vote("c", "Privacy first", "🔒"))
SECTION_BUTTON = Button("Read the section", Action(ActionKind.SECTION, section_id="intro").encode(), "📖")


def poll(title: str = "Should police use face recognition?", **changes: Any) -> Card:
    card = Card(title=title, status=f"Open until {TOKEN}", results=ResultsView(total=0, hidden_note="0 votes so far."),
                buttons=(*OPTIONS, SECTION_BUTTON), footer="Poll #7 · Votes are anonymous.",
                marker="counterpoint-poll:7")
    return dataclasses.replace(card, **changes)


def plain_texts(value: object) -> list[str]:
    if isinstance(value, list):
        return [t for v in value for t in plain_texts(v)]
    if not isinstance(value, dict):
        return []
    found = [value["text"]] if value.get("type") == "plain_text" else []
    return found + [t for v in value.values() for t in plain_texts(v)]


def shows_whole(rendered: list[JSON], text: str) -> bool:
    """`text` appears unclipped: verbatim in plain_text, or escaped in mrkdwn."""
    return (any(text in t for t in plain_texts(rendered))
            or any(blocks.escape(text) in t for t in mrkdwn_texts(rendered)))


def broken_dates(text: str) -> bool:
    return text.count("<!date") != len(WHOLE_DATE.findall(text))


# ------------------------------------------------------------------------- 1. whole questions


@pytest.mark.parametrize("kind", ["poll", "outcome"])
def test_every_default_question_is_shown_whole_on_poll_and_outcome_cards(kind: str) -> None:
    pack = load_pack()
    assert pack.prompts
    for prompt in pack.prompts:
        title = prompt.question if kind == "poll" else f"Results: {prompt.question}"
        rendered = blocks.card_blocks(poll(title))
        assert check_blocks(rendered) == [], prompt.id
        assert shows_whole(rendered, prompt.question), (prompt.id, len(title))
        first = rendered[0]
        assert first["block_id"] == "counterpoint-poll:7"  # the message stays findable by its first block
        assert first["type"] == ("header" if len(title) <= blocks.HEADER_MAX else "section")


def test_a_long_title_goes_in_a_bold_escaped_section() -> None:
    title = "Q&A <!channel> " + "why " * 100
    [first] = blocks.card_blocks(poll(title))[:1]
    assert first["type"] == "section"
    assert first["text"] == {"type": "mrkdwn", "verbatim": True, "text": f"*{blocks.escape(title.strip())}*"}
    assert "<!channel>" not in json.dumps(first)


# ------------------------------------------------------------------------- 2. status and moments


def test_status_is_a_context_block_in_each_readers_zone_and_everything_else_plain() -> None:
    card = poll(f"Poll closing {TOKEN}", context=f"Posted {TOKEN}", footer=f"Poll #7 · closes {TOKEN}",
                fields=(Field(f"Until {TOKEN}", f"Until {TOKEN}"),),
                buttons=(Button(f"Remind me {TOKEN}", Action(ActionKind.CANCEL).encode()),))
    rendered = blocks.card_blocks(card)
    assert check_blocks(rendered) == []
    status = rendered[1]
    assert status == {"type": "context",
                      "elements": [{"type": "mrkdwn", "verbatim": True, "text": f"Open until {DATE_MARKUP}"}]}
    header, footer = rendered[0], rendered[-1]
    assert header["text"]["text"] == f"Poll closing {PLAIN_TIME}"
    assert footer["elements"][0]["text"] == f"Poll #7 · closes {PLAIN_TIME}"
    assert f"*Until {PLAIN_TIME}*\nUntil {DATE_MARKUP}" in mrkdwn_texts(rendered)  # field name plain, value dated
    assert buttons(rendered)[0]["text"]["text"] == f"Remind me {PLAIN_TIME}"
    assert f"Open until {PLAIN_TIME}" in blocks.card_fallback(card)
    assert "\u27e6" not in json.dumps(rendered) + blocks.card_fallback(card)


def test_moments_are_resolved_after_escaping_and_stray_brackets_never_sent() -> None:
    assert blocks.fit_mrkdwn(f"<b> & {TOKEN}", 3000) == f"&lt;b&gt; &amp; {DATE_MARKUP}"
    assert blocks.fit_mrkdwn("half \u27e6t:12:f:UTC and \u27e7", 3000) == "half t:12:f:UTC and "
    home = blocks.home_view(poll(), poll(), "C1", poll(), notices=(f"Paused since {TOKEN}",))
    assert check_view(home) == [] and "\u27e6" not in json.dumps(home)


# ------------------------------------------------------------------------- 3. one primary button


def test_vote_buttons_are_never_all_primary_and_a_lone_primary_or_danger_stays() -> None:
    styles = [b.get("style") for b in buttons(blocks.card_blocks(poll()))]
    assert styles == [None, None, None, None]  # options are equals: none is highlighted over another
    confirm = Card(title="Erase your data?", buttons=(
        Button("Yes, erase my data", Action(ActionKind.FORGET).encode(), "🗑️", Style.DANGER),
        Button("Cancel", Action(ActionKind.CANCEL).encode()),
        Button("Keep", Action(ActionKind.CANCEL).encode() + "x", style=Style.PRIMARY)))
    assert [b.get("style") for b in buttons(blocks.card_blocks(confirm))] == ["danger", None, "primary"]
    many = Card(title="t", buttons=tuple(vote(f"o{i}", f"Option {i}") for i in range(60)))
    reply = blocks.reply_blocks(Reply(text="Pick one", card=many))
    assert sum(b.get("style") == "primary" for b in buttons(reply)) <= 1


# ------------------------------------------------------------------------- 4. the fallback text


def test_fallback_says_question_options_state_and_visible_results() -> None:
    text = blocks.card_fallback(poll(context="From “Introduction”"))
    assert text.splitlines()[0] == "Should police use face recognition?"
    assert "Options: Security first; Balanced; Privacy first" in text and "Read the section" not in text
    assert f"Open until {PLAIN_TIME}" in text and "votes so far" not in text  # hidden results stay out

    bars = (ResultBar("Security first", "🛡️", 2, 0.4), ResultBar("Privacy first", "🔒", 3, 0.6))
    closed = poll(f"Results: {'Q ' * 10}", status=f"Closed {TOKEN}", buttons=(),
                  results=ResultsView(total=5, bars=bars, summary=("5 votes", "Mean lean +0.4")))
    text = blocks.card_fallback(closed)
    assert "Options: Security first; Privacy first" in text and f"Closed {PLAIN_TIME}" in text
    assert "Results: Security first 40% (2); Privacy first 60% (3)" in text and "5 votes" in text


def test_fallback_fits_3000_and_keeps_the_question_first() -> None:
    huge = poll("Q & " * 300, context="c" * 9000, status=f"Open until {TOKEN}" + "!" * 5000)
    text = blocks.card_fallback(huge)
    assert len(text) <= blocks.FALLBACK_MAX and text.startswith("Q &amp; Q &amp;")
    assert "\u27e6" not in text and "<!date" not in text and text.endswith("…")


# ------------------------------------------------------------------------- 5. no meaning in an emoji alone


def test_error_and_notice_prefixes_say_it_in_words_and_results_keep_labels() -> None:
    [error] = blocks.reply_blocks(Reply(text="That poll is closed.", error=True))
    assert re.match(r":warning: \*\w+:\* That poll is closed\.$", error["text"]["text"])
    home = blocks.home_view(None, None, None, None, notices=("Posting failed in #general.",))
    [notice] = [t for t in mrkdwn_texts(home["blocks"]) if "Posting failed" in t]
    assert re.match(r":warning: \w+: Posting failed", notice)
    bars = tuple(ResultBar(label, emoji, n, n / 5) for label, emoji, n in
                 (("Security first", "🛡️", 2), ("Privacy first", "🔒", 3)))
    lines = blocks.results_text(ResultsView(total=5, bars=bars)).splitlines()
    assert [("Security first" in lines[0]), ("Privacy first" in lines[1])] == [True, True]


# ------------------------------------------------------------------------- 6. limits never cut a date


def test_long_texts_with_moments_never_leave_half_a_date() -> None:
    for pad in range(2960, 3001, 7):  # the date lands on, before and after every limit
        card = Card(
            title="t" * pad + TOKEN, status="s" * pad + TOKEN, context="<" * (pad // 4) + TOKEN,
            text="x" * pad + TOKEN, footer="f" * pad + TOKEN,
            fields=(Field("n" * 300 + TOKEN, "v" * pad + TOKEN),),
            results=ResultsView(total=3, bars=(ResultBar("a" * 300, "", 3, 1.0),), summary=("m" * 590 + TOKEN,) * 8),
            buttons=(Button("b" * 70 + TOKEN, Action(ActionKind.CANCEL).encode()),))
        for rendered in (blocks.card_blocks(card), blocks.reply_blocks(Reply(text="r" * pad + TOKEN, card=card))):
            assert check_blocks(rendered) == []
            dumped = json.dumps(rendered, ensure_ascii=False)
            assert "\u27e6" not in dumped
            assert not [t for t in mrkdwn_texts(rendered) if broken_dates(t)]
        assert blocks.fit_mrkdwn("a" * pad + TOKEN, 3000).count("<!date") in (0, 1)
    cut = blocks.fit_mrkdwn("a" * 2990 + TOKEN, 3000)  # the markup would not fit: plain time, then cut
    assert len(cut) <= 3000 and "<!date" not in cut and cut.endswith("…")
    fits = blocks.fit_mrkdwn("a" * 2900 + TOKEN, 3000)
    assert fits.endswith(DATE_MARKUP)


# ------------------------------------------------------------------------- the fake checks tokens


async def test_fake_slack_fails_a_test_that_sends_an_unresolved_token() -> None:
    fake = FakeSlack()
    await fake.start()
    client = AsyncWebClient(token=fake.bot_token, base_url=fake.api_url)
    await client.chat_postMessage(channel="C9", text="ok", blocks=[blocks.section("fine")])
    assert not fake.token_leaks
    await client.chat_postMessage(channel="C9", text=f"closes {TOKEN}")
    assert fake.token_leaks and fake.violations
    with pytest.raises(AssertionError, match="unresolved moment tokens"):
        await fake.__aexit__(None, None, None)


# ------------------------------------------------------------------------- end to end


def long_question(pack: ContentPack, length: int = 240) -> ContentPack:
    first = pack.prompts[0]
    question = (first.question + " Say why, & <be> honest." + " Really" * 40)[: length - 1] + "?"
    return dataclasses.replace(pack, prompts=(dataclasses.replace(first, question=question), *pack.prompts[1:]))


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield fake


async def test_a_240_character_question_reaches_slack_whole(
    slack: FakeSlack, pack: ContentPack, store: SqliteStore, clock: FakeClock
) -> None:
    service = DebateService(long_question(pack), store, "test-secret-0123456789", clock=clock)
    question = service.content.prompts[0].question
    assert len(question) == 240
    async with running(slack, service) as h:
        await h.command("post", user=LISTED_ADMIN)
        [call] = [c for c in slack.calls_to("chat.postMessage") if c.params.get("channel") == CHANNEL]
        sent = call.params
        assert sent["blocks"][0] == {"type": "section", "block_id": "counterpoint-poll:1",
                                     "text": {"type": "mrkdwn", "verbatim": True,
                                              "text": f"*{blocks.escape(question)}*"}}
        assert check_blocks(sent["blocks"]) == []
        assert [b.get("style") for b in buttons(sent["blocks"])].count("primary") <= 1
        labels = [o.label for o in service.content.prompts[0].options]
        assert sent["text"].startswith(blocks.escape(question)) and all(label in sent["text"] for label in labels)
        assert len(vote_buttons(h.poll_message())) == len(labels)
        assert "\u27e6" not in json.dumps(sent, ensure_ascii=False)
    assert not slack.violations and not slack.token_leaks


def test_an_announcement_dates_its_blocks_and_keeps_its_fallback_plain() -> None:
    sent = blocks.announcement(f"Results of <poll> at {TOKEN}")
    assert sent["text"] == f"Results of &lt;poll&gt; at {PLAIN_TIME}"
    assert sent["blocks"] == [{"type": "section", "text": {"type": "mrkdwn", "verbatim": True,
                                                           "text": f"Results of &lt;poll&gt; at {DATE_MARKUP}"}}]


def test_member_text_is_never_auto_parsed_into_mentions() -> None:
    """Review: Slack auto-parses words like "@channel" in mrkdwn unless verbatim is set."""
    from core.render import Card

    rendered = blocks.card_blocks(Card(title="Should @channel decide?", text="@here @everyone", footer="x"))
    texts = [b.get("text") for b in rendered if isinstance(b.get("text"), dict) and b["text"]["type"] == "mrkdwn"]
    texts += [e for b in rendered for e in b.get("elements", []) if e.get("type") == "mrkdwn"]
    assert texts and all(t.get("verbatim") is True for t in texts)
