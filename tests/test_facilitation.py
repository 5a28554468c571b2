"""Issue 10 in the core: who runs the debate, where, with which settings and questions, and how replies
name commands - through the real service, the registry's router and a real SQLite file."""

from __future__ import annotations

import csv
import io
from dataclasses import replace

import pytest

from core.catalogue import keys, t
from core.commands import CommandRouter
from core.commands.registry import COMMANDS
from core.commands.spelling import spell
from core.durations import format_duration
from core.moments import discord_markup, resolve, slack_markup
from core.render import render_text
from core.scheduler.commands import ScheduleCommands
from core.service import DebateService
from core.store.sqlite import SqliteStore
from tests.conftest import FakeClock, member

ADMIN = member("admin", admin=True)
DISCORD_ADMIN = replace(ADMIN, platform="discord")


def on(platform: str, name: str, **kwargs: object) -> object:
    return replace(member(name, **kwargs), platform=platform)  # type: ignore[arg-type]


async def posted(service: DebateService, reply_post: object) -> int:
    post = reply_post.post  # type: ignore[attr-defined]
    assert post is not None
    await service.attach_message(post.poll_id, f"C1:{post.poll_id}")
    return int(post.poll_id)


# -- who may open the day's poll ---------------------------------------------------------------


async def test_members_cannot_open_the_days_poll_by_default(service: DebateService, store: SqliteStore) -> None:
    """Finding: any member's `/debate today` posted the next question early and moved the deck."""
    reply = await service.today(member("m"))
    assert reply.error and reply.post is None and "A facilitator posts it" in reply.text
    assert await store.recent_polls("S1") == []
    opened = await service.today(ADMIN)
    poll = await posted(service, opened)
    shown = await service.today(member("m"))  # members still see the open poll
    assert not shown.error and shown.card is not None and shown.card.marker == f"counterpoint-poll:{poll}"


async def test_members_post_switch_lets_members_open_it(service: DebateService) -> None:
    saved = await service.settings(ADMIN, members_post="on")
    assert "Any member may open" in saved.text
    assert (await service.today(member("m"))).post is not None


# -- facilitators ----------------------------------------------------------------------------


async def test_named_facilitator_runs_the_debate_without_restart(service: DebateService) -> None:
    """Finding: on Slack only workspace admins plus an env list (restart needed) could run the debate."""
    bea = on("slack", "U2")
    assert "Only facilitators" in (await service.post(bea)).text  # type: ignore[arg-type]
    named = await service.facilitators(replace(ADMIN, platform="slack"), add="<@U2|bea>")
    assert not named.error and "<@U2>" in resolve(named.text, slack_markup)
    # Through the Slack renderer the mention stays a mention (not "&lt;@U2&gt;" text).
    from bots.slack.blocks import reply_blocks

    shown = str(reply_blocks(named))
    assert "<@U2>" in shown and "&lt;@U2" not in shown
    assert (await service.post(bea)).post is not None  # type: ignore[arg-type]
    assert not (await service.settings(bea, "5")).error  # type: ignore[arg-type]
    # Facilitators do not name facilitators: that stays with platform admins.
    refused = await service.facilitators(bea, add="<@U3|cy>")  # type: ignore[arg-type]
    assert refused.error and "Only server or workspace admins" in refused.text
    await service.facilitators(replace(ADMIN, platform="slack"), remove="U2")
    assert (await service.close(bea)).error  # type: ignore[arg-type]


async def test_discord_facilitator_role(service: DebateService) -> None:
    """Finding: on Discord only Manage Server could run the debate."""
    await service.facilitators(DISCORD_ADMIN, add="<@&555>")
    with_role = replace(on("discord", "m1"), roles=frozenset({"555"}))  # type: ignore[call-overload]
    without = on("discord", "m2")
    assert (await service.post(with_role)).post is not None
    assert "Only facilitators" in (await service.close(without)).text  # type: ignore[arg-type]
    listing = await service.facilitators(DISCORD_ADMIN)
    assert "<@&555>" in resolve(listing.text, discord_markup) and "@555" in resolve(listing.text)


# -- channels -------------------------------------------------------------------------------


async def test_bot_kept_to_chosen_channels(service: DebateService, store: SqliteStore) -> None:
    """Finding: facilitators could not keep the bot to chosen channels."""
    chosen = await service.channels(ADMIN, add="<#C1|debate>")
    assert "<#C1>" in resolve(chosen.text, slack_markup) and "#C1" in resolve(chosen.text)
    elsewhere = member("admin", admin=True, channel="C2")
    for reply in (await service.post(elsewhere), await service.today(elsewhere),
                  await service.settings(elsewhere, "7"),
                  await ScheduleCommands(service).handle(elsewhere, ["set", "time=09:00"])):
        assert reply.error and "not used in this channel" in reply.text
        assert "<#C1>" in resolve(reply.text, discord_markup)
    assert await store.recent_polls("S1", "C2") == [] and await store.get_schedule("S1", "C2") is None
    plain_member = member("m", channel="C2")
    assert "not used in this channel" in (await service.today(plain_member)).text
    assert (await service.post(ADMIN)).post is not None
    every = await service.channels(ADMIN, every="on")
    assert "every channel" in every.text
    assert (await service.post(elsewhere)).post is not None


# -- settings in one place -------------------------------------------------------------------


async def test_settings_show_and_set_everything_without_a_schedule(service: DebateService, store: SqliteStore,
                                                                  clock: FakeClock) -> None:
    """Finding: "results after close" needed a schedule; duration could not be set per channel."""
    shown = await service.settings(ADMIN)
    for words in ("Results show from 3 votes", "live while the poll is open", "Polls stay open 1 day",
                  "Only facilitators open the day's poll", "settings k=5 results=after-close"):
        assert words in shown.text, (words, shown.text)
    changed = await service.settings(ADMIN, "4", results="after-close", duration="90m")
    assert not changed.error and "Saved" in changed.text and "90 minutes" in changed.text
    assert changed.announce is not None and "only once a poll closes" in changed.announce
    assert await store.get_schedule("S1", "C1") is None
    poll = await posted(service, await service.post(ADMIN))
    opened = await store.get_poll(poll)
    assert opened is not None and opened.closes_at is not None
    assert opened.closes_at - opened.opened_at == __import__("datetime").timedelta(minutes=90)
    for name in "abcde":
        await service.vote(member(name), poll, "1")
    hidden = await service.poll_card(poll)
    assert hidden.results is not None and "Results show when the poll closes" in (hidden.results.hidden_note or "")
    for bad, words in (({"results": "sometimes"}, "live"), ({"duration": "5m"}, "between 10 minutes"),
                       ({"members_post": "maybe"}, "on or off")):
        reply = await service.settings(ADMIN, **bad)
        assert reply.error and words in reply.text, (bad, reply.text)


def test_durations_read_as_words() -> None:
    """Finding: "0.166667 h"."""
    from datetime import timedelta

    assert format_duration(timedelta(minutes=10)) == "10 minutes"
    assert format_duration(timedelta(hours=1)) == "1 hour"
    assert format_duration(timedelta(days=2)) == "2 days"
    assert not any("(s)" in str(t(k, n=2)) for k in keys() if k.startswith("noun."))


# -- a question of your own -------------------------------------------------------------------


async def test_ask_own_question_with_options_then_vote_and_export(service: DebateService,
                                                                  store: SqliteStore) -> None:
    """Finding: facilitators could only post pack ids, which Slack users never see."""
    reply = await service.ask(ADMIN, "Should the school cameras stay on at night?", "Yes | No | Only on weekends")
    poll = await posted(service, reply)
    card = await service.poll_card(poll)
    assert card.title == "Should the school cameras stay on at night?"
    labels = [b.label for b in card.buttons if b.payload.startswith("cp1:vote")]
    assert labels == ["Yes", "No", "Only on weekends"]
    for name, option in (("a", "o1"), ("b", "o2"), ("c", "o1")):
        assert not (await service.vote(member(name), poll, option)).error
    await service.close(ADMIN)
    rows = list(csv.DictReader(io.StringIO((await service.export(ADMIN)).attachment.content.decode())))  # type: ignore[union-attr]
    assert [r["votes"] for r in rows if r["poll"] == str(poll)] == ["2", "1", "0"]


async def test_ask_on_the_scale_and_bad_questions(service: DebateService, store: SqliteStore) -> None:
    scale = await service.ask(ADMIN, "How far should   night patrols go?")
    poll = await posted(service, scale)
    card = await service.poll_card(poll)
    assert card.title == "How far should night patrols go?"
    assert len([b for b in card.buttons if b.payload.startswith("cp1:vote")]) == 5
    await service.close(ADMIN)
    for question, options, words in (("", None, "Type the question"), ("x" * 241, None, "keep it to 240"),
                                     ("Q?", "only one", "2 to 5 options"), ("Q?", "a|b|c|d|e|f", "2 to 5"),
                                     ("Q?", "same | Same", "same text"), ("Q?", "a | " + "b" * 41, "at most 40")):
        reply = await service.ask(ADMIN, question, options)
        assert reply.error and words in reply.text, (question, options, reply.text)
    assert "Only facilitators" in (await service.ask(member("m"), "Q?")).text
    assert len(await store.recent_polls("S1")) == 1, "refused questions open nothing"


async def test_ask_refused_while_a_poll_is_open_stores_nothing(service: DebateService, store: SqliteStore) -> None:
    await posted(service, await service.post(ADMIN))
    refused = await service.ask(ADMIN, "Another?", "a | b")
    assert refused.error and "still open" in refused.text
    assert await store.custom_prompt("custom-1") is None


async def test_another_spaces_question_cannot_be_posted_by_its_id(service: DebateService, store: SqliteStore) -> None:
    """Attacker review: `post custom-1` from another workspace would have shown that workspace's question."""
    await posted(service, await service.ask(ADMIN, "A private question of space one?", "a | b"))
    outsider = member("admin", admin=True, space="S2")
    reply = await service.post(outsider, "custom-1")
    assert reply.error and reply.post is None and "private question" not in reply.text
    assert await store.recent_polls("S2") == []


async def test_forged_time_tokens_in_a_question_are_stripped(service: DebateService) -> None:
    poll = await posted(service, await service.ask(ADMIN, "Open until \u27e6t:0:f:UTC\u27e7 ok?", "a | b"))
    assert "\u27e6" not in (await service.poll_card(poll)).title


# -- the deck -------------------------------------------------------------------------------


async def test_deck_preview_and_wrap_warning(service: DebateService, pack) -> None:  # type: ignore[no-untyped-def]
    """Finding: the deck restarted silently at the end."""
    preview = await service.deck(ADMIN)
    assert preview.card is not None and f"0 of {len(pack.prompts)} questions used" in preview.card.text
    assert pack.prompts[0].id in preview.card.fields[0].value
    for _ in range(len(pack.prompts) - 1):
        await posted(service, await service.post(ADMIN))
        await service.close(ADMIN)
    last = await service.deck(ADMIN)
    assert "starts again from the top" in last.card.text  # type: ignore[union-attr]
    final = await service.post(ADMIN)
    assert "last unused question" in final.text


# -- wording on the poll ----------------------------------------------------------------------


async def test_closed_poll_below_k_says_too_few_voted(service: DebateService) -> None:
    """Finding: a closed poll with fewer than k votes said "Results appear once 1 more vote is in"."""
    poll = await posted(service, await service.post(ADMIN))
    await service.vote(member("a"), poll, "1")
    await service.close(ADMIN)
    outcome = await service.outcome_card(poll)
    note = outcome.results.hidden_note or ""  # type: ignore[union-attr]
    assert "stay private because too few voted" in note and "appear once" not in note


async def test_poll_times_use_the_channels_zone(service: DebateService) -> None:
    """Finding: a Tokyo schedule's poll said "open until ... 11:28 UTC"."""
    await ScheduleCommands(service).handle(ADMIN, ["set", "time=09:00", "tz=Asia/Tokyo"])
    poll = await posted(service, await service.post(ADMIN))
    card = await service.poll_card(poll)
    assert "Asia/Tokyo" in card.status  # the token: each platform shows it in the reader's own zone
    assert "JST" in resolve(card.status) and "UTC" not in render_text(card)


async def test_each_positions_meaning_is_reachable_from_the_poll(service: DebateService, pack) -> None:  # type: ignore[no-untyped-def]
    """Finding: each scale position's `meaning` was never shown."""
    poll = await posted(service, await service.post(ADMIN))
    card = await service.poll_card(poll)
    meanings = [b for b in card.buttons if b.payload.startswith("cp1:meanings:")]
    assert len(meanings) == 1
    reply = await service.press(member("m"), meanings[0].payload)
    assert reply.card is not None
    for option in pack.scale:
        assert option.meaning in reply.card.text


# -- commands declared once, spelled per platform ------------------------------------------------


def test_every_command_is_spelled_per_platform() -> None:
    for command in COMMANDS:
        assert command.help, command.name
        discord = spell("discord", command.name)
        assert discord.startswith("/debate-admin " if command.access else "/debate "), discord
    assert spell("discord", "settings", k="5") == "/debate-admin settings k:5"
    assert spell("slack", "settings", k="5") == "/debate settings k=5"
    assert spell("console", "results", poll="12") == "/debate results 12"


async def test_replies_name_commands_as_the_platform_spells_them(service: DebateService) -> None:
    """Finding: Discord replies told admins to run `/debate settings min-votes N`, which does not exist there."""
    await posted(service, await service.post(DISCORD_ADMIN))
    again = await service.post(DISCORD_ADMIN)
    assert "`/debate-admin close`" in again.text
    settings = await service.settings(DISCORD_ADMIN)
    assert "/debate-admin settings k:5 results:after-close" in settings.text and "k=" not in settings.text
    help_card = (await service.help(DISCORD_ADMIN)).card
    text = render_text(help_card)  # type: ignore[arg-type]
    assert "/debate-admin settings [k:N]" in text and "min-votes" not in text and "=" not in text
    slack_help = render_text((await service.help(replace(ADMIN, platform="slack"))).card)  # type: ignore[arg-type]
    assert "/debate settings [k=N]" in slack_help
    member_help = render_text((await service.help(member("m"))).card)  # type: ignore[arg-type]
    assert "settings" not in member_help and "/debate today" in member_help


@pytest.mark.parametrize(("text", "words"), [
    ("settings min-votes 5", "Results show from 5 votes"),
    ("settings k=6 results=after-close", "only once the poll closes"),
    ("settings k=2", "k must be from 3 to 1000"),
    ("settings k=abc", "k must be a whole number"),
    ("settings colour=red", "'colour' is not a setting"),
    ("settings results=sometimes", "results must be one of: live, after-close"),
    ("schedule", "No daily question"),
    ("schedule explode", "Unknown schedule action"),
    ("todayx", "Unknown command 'todayx'"),
    ("results 1 2", "Too many arguments"),
])
async def test_text_router_reads_the_registry(service: DebateService, text: str, words: str) -> None:
    reply = await CommandRouter(service).handle(ADMIN, text)
    assert words in reply.text, reply.text


async def test_text_router_ask_with_quotes_and_apostrophes(service: DebateService) -> None:
    router = CommandRouter(service)
    reply = await router.handle(ADMIN, 'ask Should the police\'s drones fly at night? options="Yes | No"')
    assert reply.post is not None, reply.text
    card = reply.post.card
    assert card.title == "Should the police's drones fly at night?"
    assert [b.label for b in card.buttons if b.payload.startswith("cp1:vote")] == ["Yes", "No"]
