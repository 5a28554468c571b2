"""Discord rendering (issue 10): the poll's state as the description's last line in each reader's zone, plain
times wherever Discord would show `<t:...>` raw, cuts that never leave half a `<t:...>`, whole questions.
Pure renderer tests build Cards directly; one test goes end to end through FakeDiscord."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import discord
import pytest

from bots.discord import embeds
from core.actions import Action, ActionKind
from core.models import ContentPack
from core.moments import moment
from core.render import Button, Card, Field, Reply, ResultBar, ResultsView, Style
from core.service import DebateService
from core.store.sqlite import SqliteStore
from tests.conftest import FakeClock
from tests.discord_helpers import MANAGE_GUILD, answered, make_client, polls_in, running
from tests.fakes.discord_fake import FakeDiscord

BERLIN = ZoneInfo("Europe/Berlin")
CLOSES = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)  # 09:00 in Berlin
EPOCH = int(CLOSES.timestamp())
TOKEN = moment(CLOSES, BERLIN)
PLAIN_TIME = "29 Nov 2026, 09:00 CET"
MARKUP = f"<t:{EPOCH}:f>"
WHOLE = re.compile(r"<t:-?\d+:[a-zA-Z]>")


def vote(option: str, label: str, emoji: str = "") -> Button:
    return Button(label, Action(ActionKind.VOTE, poll_id=7, option_id=option).encode(), emoji, Style.PRIMARY)


def poll(**changes: Any) -> Card:
    card = Card(title="Should police use face recognition?", context="From “Introduction”",
                status=f"Open until {TOKEN}", results=ResultsView(total=0, hidden_note="0 votes so far."),
                buttons=(vote("a", "Security first", "🛡️"), vote("b", "Privacy first", "🔒"),
                         Button("Read the section", Action(ActionKind.SECTION, section_id="intro").encode(), "📖")),
                footer="Poll #7 · Votes are anonymous.", marker="counterpoint-poll:7")
    return dataclasses.replace(card, **changes)


def strings(embed: discord.Embed) -> dict[str, list[str]]:
    """Where each string sits: the slots that show `<t:...>` (rich) and those that do not (raw)."""
    data = embed.to_dict()
    rich = [data.get("description") or ""] + [f["value"] for f in data.get("fields", [])]
    raw = [data.get("title") or "", (data.get("footer") or {}).get("text", "")] + [f["name"] for f in
                                                                                   data.get("fields", [])]
    return {"rich": rich, "raw": raw}


def broken(text: str) -> bool:
    return text.count("<t:") != len(WHOLE.findall(text))


# ------------------------------------------------------------------------- status and moments


def test_status_is_the_descriptions_last_line_in_each_readers_zone_never_the_footer() -> None:
    card = poll(title=f"Closing {TOKEN}", text=f"Posted {TOKEN}", footer=f"Poll #7 · closes {TOKEN}",
                fields=(Field(f"Until {TOKEN}", f"Until {TOKEN}"),))
    embed = embeds.card_embed(card)
    assert embed.description is not None
    assert embed.description.splitlines()[-1] == f"Open until {MARKUP}"
    assert embed.description.startswith("From “Introduction”") and f"Posted {MARKUP}" in embed.description
    assert embed.title == f"Closing {PLAIN_TIME}"
    assert embed.footer.text == f"Poll #7 · closes {PLAIN_TIME}" and "Open until" not in embed.footer.text
    assert (embed.fields[0].name, embed.fields[0].value) == (f"Until {PLAIN_TIME}", f"Until {MARKUP}")
    view = embeds.button_view((Button(f"Remind me {TOKEN}", Action(ActionKind.CANCEL).encode()),))
    assert view is not None and [c.label for c in view.children] == [f"Remind me {PLAIN_TIME}"]  # type: ignore[attr-defined]
    assert embeds.reply_message(Reply(text=f"Closes {TOKEN}"))["content"] == f"Closes {MARKUP}"
    assert "\u27e6" not in json.dumps(embed.to_dict(), ensure_ascii=False)


def test_a_stray_bracket_is_never_sent() -> None:
    embed = embeds.card_embed(Card(title="a \u27e6 b", text="half \u27e6t:1:f:UTC", footer="\u27e7"))
    assert "\u27e6" not in json.dumps(embed.to_dict(), ensure_ascii=False)
    assert "\u27e7" not in json.dumps(embed.to_dict(), ensure_ascii=False)


def test_vote_buttons_keep_their_primary_style_on_discord() -> None:
    view = embeds.button_view(poll().buttons)
    assert view is not None
    styles = [c.style for c in view.children]  # type: ignore[attr-defined]
    assert styles == [discord.ButtonStyle.primary] * 2 + [discord.ButtonStyle.secondary]


def test_results_lines_keep_their_labels() -> None:
    bars = (ResultBar("Security first", "🛡️", 2, 0.4), ResultBar("Privacy first", "🔒", 3, 0.6))
    [(name, value), _] = embeds.results_fields(ResultsView(total=5, bars=bars, summary=("5 votes",)))
    lines = value.strip("`\n").splitlines()
    assert name == "Results" and "Security first (2)" in lines[0] and "Privacy first (3)" in lines[1]


# ------------------------------------------------------------------------- limits never cut a <t:...>


def test_long_texts_with_moments_never_leave_half_a_timestamp() -> None:
    for pad in (1000, 1010, 1020, 2030, 2040, 4070, 4080, 4090, 5990):
        card = poll(title="t" * 250 + TOKEN, context="c" * pad + TOKEN, text="x" * pad + TOKEN,
                    status="s" * pad + TOKEN, footer="f" * pad + TOKEN,
                    fields=tuple(Field("n" * 250 + TOKEN, "v" * min(pad, 1010) + TOKEN) for _ in range(6)),
                    results=ResultsView(total=3, bars=(ResultBar("a" * 90, "", 3, 1.0),),
                                        summary=("m" * min(pad, 1010) + TOKEN,)))
        for with_marker in (False, True):
            sent = embeds.card_message(card, with_marker=with_marker)
            embed: discord.Embed = sent["embed"]
            assert len(embed) <= embeds.EMBED_TOTAL_MAX and len(embed.description or "") <= embeds.DESCRIPTION_MAX
            slots = strings(embed)
            assert not [s for s in slots["rich"] if broken(s)], pad
            assert not [s for s in slots["raw"] if "<t:" in s]
            assert "\u27e6" not in json.dumps(embed.to_dict(), ensure_ascii=False)
            if with_marker:
                assert embeds.has_marker([embed], "counterpoint-poll:7")
        content = embeds.reply_message(Reply(text="r" * pad + TOKEN))["content"]
        assert len(content) <= embeds.CONTENT_MAX and not broken(content)


def test_the_status_survives_when_the_description_is_cut() -> None:
    embed = embeds.card_embed(poll(context="c" * 5000, text="x" * 5000,
                                   fields=tuple(Field("n", "v" * 1000) for _ in range(5))))
    assert len(embed) <= embeds.EMBED_TOTAL_MAX and embed.description is not None
    assert embed.description.endswith(f"\n\nOpen until {MARKUP}") and "…" in embed.description


def test_a_title_too_long_for_discord_is_shown_whole_in_the_description() -> None:
    title = "Why * and _ matter? " + "why " * 80
    embed = embeds.card_embed(poll(title=title))
    assert embed.title is not None and len(embed.title) <= embeds.TITLE_MAX and embed.title.endswith("…")
    assert embed.description is not None
    assert embed.description.startswith(f"**{discord.utils.escape_markdown(title)}**")
    assert embed.description.splitlines()[-1] == f"Open until {MARKUP}"


# ------------------------------------------------------------------------- the fake checks tokens


async def test_fake_discord_fails_a_test_that_sends_an_unresolved_token() -> None:
    fake = FakeDiscord()
    await fake.start()
    url = f"{fake.api_base}/channels/{fake.channel_id}/messages"
    async with aiohttp.ClientSession(headers={"Authorization": f"Bot {fake.token}"}) as http:
        async with http.post(url, json={"content": "fine"}) as resp:
            assert resp.status == 200
        assert not fake.token_leaks
        async with http.post(url, json={"embeds": [{"description": f"closes {TOKEN}"}]}) as resp:
            assert resp.status == 200  # Discord would take it and show the raw token
    assert [v.field for v in fake.token_leaks] == ["embeds.0.description"]
    with pytest.raises(AssertionError, match="unresolved moment tokens"):
        await fake.__aexit__(None, None, None)


# ------------------------------------------------------------------------- end to end


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server:
        with server.patch_discord():
            server.add_member("6001", "admin", permissions=MANAGE_GUILD)
            yield server


async def test_a_240_character_question_reaches_discord_whole(
    fake: FakeDiscord, pack: ContentPack, store: SqliteStore, clock: FakeClock
) -> None:
    first = pack.prompts[0]
    question = (first.question + " Say why, & <be> honest. **Really**" + " Really" * 40)[:239] + "?"
    pack = dataclasses.replace(pack, prompts=(dataclasses.replace(first, question=question), *pack.prompts[1:]))
    service = DebateService(pack, store, "test-secret-0123456789", clock=clock)
    async with running(make_client(service), fake):
        await answered(await fake.slash("debate-admin", subcommand="post", user_id="6001"))
    [message] = polls_in(fake)
    [post] = [r for r in fake.requests if r.method == "POST" and r.path == f"/channels/{fake.channel_id}/messages"]
    [embed] = post.json["embeds"]
    assert embed["title"] == question and len(question) == 240
    assert message.embeds[0]["title"] == question
    styles = [c["style"] for row in post.json["components"] for c in row["components"]]
    assert styles.count(1) == len(first.options)  # Discord keeps its primary vote buttons
    dumped = json.dumps(post.json, ensure_ascii=False)
    assert "\u27e6" not in dumped and not broken(dumped)
    assert not fake.violations and not fake.token_leaks
