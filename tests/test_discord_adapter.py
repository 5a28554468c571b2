"""The Discord adapter end to end: real discord.py client, FakeDiscord, real SqliteStore on tmp_path."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from bots.discord import embeds
from bots.discord.port import DiscordPort
from core.actions import Action, ActionKind
from core.models import ContentPack
from core.render import Button, Card, Field, ResultBar, ResultsView, Style
from core.scheduler.engine import Scheduler
from core.service import DebateService
from core.store.sqlite import SqliteStore
from tests.conftest import FakeClock
from tests.discord_helpers import (
    MANAGE_GUILD,
    answered,
    field,
    make_client,
    polls_in,
    running,
    text_of,
    vote_ids,
)
from tests.fakes.discord_fake import FakeDiscord

ALICE, BOB, CAROL, DAVE = "5001", "5002", "5003", "5004"


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server:
        with server.patch_discord():
            for uid, name in ((ALICE, "alice"), (BOB, "bob"), (CAROL, "carol"), (DAVE, "dave")):
                server.add_member(uid, name, permissions=0)
            yield server


async def post_today(fake: FakeDiscord, user_id: str | None = None) -> str:
    """`/debate today` by the server owner (members open no poll unless members-post is on); returns the id
    of the poll message it posted."""
    before = len(polls_in(fake))
    rec = await fake.slash("debate", subcommand="today", user_id=user_id or fake.owner.id)
    answer = await answered(rec)
    assert answer.ephemeral and "posted" in answer.content
    polls = polls_in(fake)
    assert len(polls) == before + 1
    return polls[-1].id


async def vote(fake: FakeDiscord, message_id: str, option: int, user_id: str) -> str:
    custom_id = vote_ids(fake.message(message_id))[option]
    answer = await answered(await fake.click(message_id, custom_id, user_id=user_id))
    assert answer.ephemeral
    return text_of(answer)


async def results_shown(fake: FakeDiscord, message_id: str, needle: str) -> str:
    """Wait for the poll message's results field to contain `needle` (refreshes land asynchronously)."""
    await fake.wait_for(lambda: needle in field(fake.message(message_id), "Results"), timeout=5)
    return field(fake.message(message_id), "Results")


async def test_today_posts_poll_results_appear_at_three_votes_and_shift_shows(
    fake: FakeDiscord, service: DebateService
) -> None:
    async with running(make_client(service), fake):
        poll_id = await post_today(fake)
        poll = fake.message(poll_id)
        assert not poll.ephemeral and poll.author_id == fake.bot.id
        assert len(vote_ids(poll)) == 5 and "Read the section" in text_of(poll)
        assert "3 more votes" in field(poll, "Results")

        answer = await vote(fake, poll_id, 0, ALICE)
        assert "You chose" in answer and "Retract my vote" in answer
        assert "2 more votes" in await results_shown(fake, poll_id, "1 vote so far")
        await vote(fake, poll_id, 0, BOB)
        await results_shown(fake, poll_id, "2 votes so far")
        await vote(fake, poll_id, 4, CAROL)
        shown = await results_shown(fake, poll_id, "%")
        assert "(2)" in shown and "(1)" in shown

        # Pressing the same option again changes nothing, and says so.
        assert "Nothing changed" in await vote(fake, poll_id, 4, CAROL)
        # Bob changes his mind: the shift shows in the summary.
        assert "changed your vote" in await vote(fake, poll_id, 4, BOB)
        await fake.wait_for(lambda: "changed their mind" in field(fake.message(poll_id), "Summary"))
        # One changer among three voters: how they moved would single them out, so only "some".
        summary = field(fake.message(poll_id), "Summary")
        assert "Some members changed their mind" in summary and "1 changed" not in summary

        # The "Read the section" button answers privately with the section.
        section_id = next(c for c in poll.custom_ids() if c.startswith("cp1:section:"))
        section = await answered(await fake.click(poll_id, section_id, user_id=DAVE))
        assert section.ephemeral and "Key points" in text_of(section)
    assert not fake.violations


async def test_retract_from_the_private_answer(fake: FakeDiscord, service: DebateService) -> None:
    async with running(make_client(service), fake):
        poll_id = await post_today(fake)
        for uid in (ALICE, BOB, CAROL):
            await vote(fake, poll_id, 1, uid)
        await results_shown(fake, poll_id, "(3)")
        custom_id = vote_ids(fake.message(poll_id))[1]
        answer = await answered(await fake.click(poll_id, custom_id, user_id=DAVE))
        retract_id = next(c for c in answer.custom_ids() if c.startswith("cp1:retract:"))

        retracted = await answered(await fake.click(answer.id, retract_id, user_id=DAVE))
        assert retracted.ephemeral and "retracted" in retracted.content
        await results_shown(fake, poll_id, "(3)")
        again = await answered(await fake.click(answer.id, retract_id, user_id=DAVE))
        assert "no vote" in again.content
    assert (await service.store.tally(int(poll_id_of(fake, poll_id)))).total == 3
    assert not fake.violations


def poll_id_of(fake: FakeDiscord, message_id: str) -> int:
    poll_ids = {embeds.poll_id_of(c) for c in fake.message(message_id).custom_ids()} - {None}
    assert len(poll_ids) == 1
    return poll_ids.pop()


async def test_forget_me_asks_then_erases(fake: FakeDiscord, service: DebateService) -> None:
    async with running(make_client(service), fake):
        poll_id = await post_today(fake)
        for uid in (ALICE, BOB, CAROL):
            await vote(fake, poll_id, 2, uid)
        await results_shown(fake, poll_id, "(3)")

        confirm = await answered(await fake.slash("debate", subcommand="forget-me", user_id=ALICE))
        assert confirm.ephemeral and "Erase your data?" in text_of(confirm)
        forget_id, cancel_id = confirm.custom_ids()
        cancelled = await answered(await fake.click(confirm.id, cancel_id, user_id=ALICE))
        assert "Nothing was deleted" in cancelled.content
        done = await answered(await fake.click(confirm.id, forget_id, user_id=ALICE))
        assert done.ephemeral and done.content.startswith("Done:")
        # Alice's vote no longer counts: back under the threshold.
        await results_shown(fake, poll_id, "2 votes so far")
    assert not fake.violations


async def test_member_without_manage_server_is_refused_and_admin_may_post(
    fake: FakeDiscord, service: DebateService
) -> None:
    fake.add_member("6001", "mod", permissions=MANAGE_GUILD)
    async with running(make_client(service), fake):
        refused = await answered(await fake.slash("debate-admin", subcommand="post", user_id=ALICE))
        assert refused.ephemeral and "Only facilitators" in refused.content
        assert polls_in(fake) == []
        today = await answered(await fake.slash("debate", subcommand="today", user_id=ALICE))
        assert "No question is open" in today.content and polls_in(fake) == []

        prompt = service.content.prompts[2]
        posted = await answered(await fake.slash("debate-admin", {"prompt": prompt.id},
                                                 subcommand="post", user_id="6001"))
        assert "Posted poll" in posted.content
        [poll] = polls_in(fake)
        assert poll.embeds[0]["title"] == prompt.question
        help_card = await answered(await fake.slash("debate", subcommand="help", user_id="6001"))
        assert "/debate-admin post" in text_of(help_card)
        member_help = await answered(await fake.slash("debate", subcommand="help", user_id=ALICE))
        assert "/debate-admin" not in text_of(member_help)
    # Visible to everyone: members holding a facilitator role must see it; the core checks access.
    admin = next(c for c in fake.commands[None] if c["name"] == "debate-admin")
    assert admin["default_member_permissions"] is None
    assert not fake.violations


@pytest.mark.parametrize("tampered", ["cp1:vote:{poll}:no-such-option", "cp1:vote:987654:{option}",
                                      "cp1:vote:{poll}", "cp1:nuke:{poll}", "someone-else:{poll}", "cp1:vote:x:y"])
async def test_tampered_custom_id_is_refused_and_records_nothing(
    fake: FakeDiscord, service: DebateService, tampered: str
) -> None:
    async with running(make_client(service), fake):
        message_id = await post_today(fake)
        poll_id = poll_id_of(fake, message_id)
        # A modified client sends a custom_id of its own; the fake only lets us press what the
        # message shows, so rewrite the stored button the way the tamperer would see it.
        button = fake.message(message_id).components[0]["components"][0]
        option = button["custom_id"].rsplit(":", 1)[1]
        button["custom_id"] = tampered.format(poll=poll_id, option=option)
        answer = await answered(await fake.click(message_id, button["custom_id"], user_id=ALICE))
        assert answer.ephemeral
        assert any(word in answer.content for word in ("not valid", "no poll", "not part of this poll"))
    assert (await service.store.tally(poll_id)).total == 0
    assert not fake.violations


async def test_vote_on_a_closed_poll_and_admin_close(fake: FakeDiscord, service: DebateService) -> None:
    async with running(make_client(service), fake):
        message_id = await post_today(fake)
        poll_id = poll_id_of(fake, message_id)
        # The poll closed (e.g. its time ran out) while the message still shows its buttons.
        await service.store.close_poll(poll_id, service.clock())
        answer = await vote(fake, message_id, 0, ALICE)
        assert "closed" in answer and "no longer accepted" in answer
        assert (await service.store.tally(poll_id)).total == 0

        second_id = await post_today(fake)
        closed = await answered(await fake.slash("debate-admin", subcommand="close", user_id=fake.owner.id))
        assert "Closed poll" in closed.content
        # The refresh takes the vote buttons off the message; "Read the section" stays.
        await fake.wait_for(lambda: not vote_ids(fake.message(second_id)))
        assert "closed" in text_of(fake.message(second_id)).lower()
    assert not fake.violations


async def test_rate_limited_edit_is_waited_out(fake: FakeDiscord, service: DebateService) -> None:
    async with running(make_client(service), fake):
        message_id = await post_today(fake)
        path = rf"^/channels/{fake.channel_id}/messages/{message_id}$"
        fake.rate_limit_next("PATCH", path, retry_after=0.3)
        started = time.monotonic()
        await vote(fake, message_id, 0, ALICE)
        await results_shown(fake, message_id, "1 vote so far")
        waited = time.monotonic() - started
    statuses = [r.status for r in fake.requests if r.method == "PATCH" and r.path.endswith(message_id)]
    assert statuses[:2] == [429, 200] and waited >= 0.3
    assert not fake.violations


async def test_burst_of_200_votes_ends_exact_with_bounded_edits(fake: FakeDiscord, service: DebateService) -> None:
    voters = [str(7000 + i) for i in range(200)]
    for uid in voters:
        fake.add_member(uid, f"m{uid}", permissions=0)
    interval = 0.25
    async with running(make_client(service, refresh_interval=interval), fake) as bot:
        message_id = await post_today(fake)
        ids = vote_ids(fake.message(message_id))
        edits_before = fake.message(message_id).edits
        started = time.monotonic()
        records = [await fake.click(message_id, ids[i % 5], user_id=uid) for i, uid in enumerate(voters)]
        for rec in records:
            await answered(rec)
        # Early edits show results hidden (no Summary field yet): look for the final one only.
        await fake.wait_for(lambda: "200 votes" in text_of(fake.message(message_id)), timeout=10)
        elapsed = time.monotonic() - started
        await bot.refresher.drain()
    edits = fake.message(message_id).edits - edits_before
    shown = field(fake.message(message_id), "Results")
    assert shown.count("(40)") == 5, shown
    assert (await service.store.tally(poll_id_of(fake, message_id))).total == 200
    # At most one edit per interval, plus the first, which goes out at once.
    assert 1 <= edits <= elapsed / interval + 2, (edits, elapsed)
    assert edits < 40
    assert all(r.callback is not None and r.callback.elapsed < 3 for r in records)
    assert not fake.violations


async def test_buttons_survive_a_restart_without_resyncing(fake: FakeDiscord, service: DebateService) -> None:
    first = make_client(service)
    async with running(first, fake):
        message_id = await post_today(fake)
    assert first.synced is True

    second = make_client(service)
    async with running(second, fake):
        answer = await vote(fake, message_id, 3, BOB)
        assert "You chose" in answer
        await results_shown(fake, message_id, "1 vote so far")
    assert second.synced is False
    assert fake.command_puts["global"] == 1
    assert (await service.store.tally(poll_id_of(fake, message_id))).total == 1
    assert not fake.violations


async def test_changed_commands_are_synced_and_dev_guild_is_separate(
    fake: FakeDiscord, service: DebateService
) -> None:
    async with running(make_client(service, dev_guild=fake.guild_id), fake) as bot:
        assert bot.synced is True
    async with running(make_client(service, dev_guild=fake.guild_id), fake) as bot:
        assert bot.synced is False
    await service.store.set_meta(f"discord_commands_hash:{fake.guild_id}", "stale")
    async with running(make_client(service, dev_guild=fake.guild_id), fake) as bot:
        assert bot.synced is True
        rec = await fake.slash("debate", subcommand="stance", user_id=ALICE)
        assert "Your stance" in text_of(await answered(rec))
    assert fake.command_puts[fake.guild_id] == 2 and "global" not in fake.command_puts
    assert not fake.violations


async def test_export_is_an_ephemeral_csv(fake: FakeDiscord, service: DebateService) -> None:
    async with running(make_client(service), fake):
        message_id = await post_today(fake)
        for uid in (ALICE, BOB, CAROL):
            await vote(fake, message_id, 0, uid)
        answer = await answered(await fake.slash("debate-admin", subcommand="export", user_id=fake.owner.id))
    assert answer.ephemeral and answer not in fake.channel_messages()
    [attachment] = answer.files
    assert attachment.filename == "counterpoint-results.csv"
    rows = list(csv.DictReader(io.StringIO(attachment.data.decode())))
    assert sum(int(r["votes"]) for r in rows) == 3
    assert not fake.violations


async def test_outside_a_server_and_autocomplete(fake: FakeDiscord, service: DebateService) -> None:
    async with running(make_client(service), fake):
        dm = await answered(await fake.slash("debate", subcommand="today", user_id=ALICE, guild=False))
        assert dm.ephemeral and "server" in dm.content
        await post_today(fake)

        sections = await fake.autocomplete("debate", "section", "", subcommand="article", user_id=ALICE)
        await sections.response()
        assert sections.choices and len(sections.choices) <= 25
        section = sections.choices[0]["value"]
        read = await answered(await fake.slash("debate", {"section": section}, subcommand="article", user_id=ALICE))
        assert "Key points" in text_of(read)

        polls = await fake.autocomplete("debate", "poll", "", subcommand="results", user_id=ALICE)
        await polls.response()
        assert polls.choices and polls.choices[0]["name"].startswith("#")
        results = await answered(await fake.slash("debate", {"poll": polls.choices[0]["value"]},
                                                  subcommand="results", user_id=ALICE))
        assert "Results so far" in text_of(results)

        prompts = await fake.autocomplete("debate-admin", "prompt", "", subcommand="post")
        await prompts.response()
        assert prompts.choices and all(len(c["name"]) <= 100 for c in prompts.choices)
        zones = await fake.autocomplete("debate-admin", "tz", "berl", subcommand="schedule set")
        await zones.response()
        assert {"name": "Europe/Berlin", "value": "Europe/Berlin"} in (zones.choices or [])
    assert not fake.violations


async def test_errors_are_answered_privately_and_slow_work_is_deferred(
    fake: FakeDiscord, service: DebateService, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    import bots.discord.client as client_module

    async def broken(actor: object) -> None:
        raise RuntimeError("database on fire")

    original = service.stance

    async def slow(actor: object) -> object:
        await asyncio.sleep(0.3)
        return await original(actor)  # type: ignore[arg-type]

    monkeypatch.setattr(client_module, "DEFER_AFTER", 0.05)
    async with running(make_client(service), fake):
        monkeypatch.setattr(service, "stance", broken)
        sorry = await answered(await fake.slash("debate", subcommand="stance", user_id=ALICE))
        assert sorry.ephemeral and "went wrong" in sorry.content
        monkeypatch.setattr(service, "stance", slow)
        rec = await fake.slash("debate", subcommand="stance", user_id=ALICE)
        late = await answered(rec)
        assert rec.callback is not None and rec.callback.type == 5
        assert late.ephemeral and "Your stance" in text_of(late)
    assert not fake.violations


def long_pack(pack: ContentPack) -> ContentPack:
    """The default pack with every member-visible string blown past Discord's limits."""
    section = pack.sections[0]
    long_section = replace(section, title="S" * 300, context="C " * 3000, summary="Z " * 5000,
                           key_points=tuple("K " * 800 for _ in range(8)))
    prompt = next(p for p in pack.prompts if p.section_id == section.id)
    options = tuple(replace(o, label="L" * 120) for o in prompt.options)
    long_prompt = replace(prompt, question="Q " * 250 + "?", options=options)
    return replace(pack, sections=(long_section, *pack.sections[1:]),
                   prompts=(long_prompt, *(p for p in pack.prompts if p is not prompt)))


async def test_very_long_content_fits_discord_limits(
    fake: FakeDiscord, pack: ContentPack, store: SqliteStore, clock: FakeClock
) -> None:
    service = DebateService(long_pack(pack), store, "test-secret-0123456789", clock=clock)
    async with running(make_client(service), fake):
        message_id = await post_today(fake)
        poll = fake.message(message_id)
        assert len(poll.embeds[0]["title"]) <= 256 and poll.embeds[0]["title"].endswith("…")
        for uid in (ALICE, BOB, CAROL):  # results show from the floor of 3 votes
            await vote(fake, message_id, 0, uid)
        await results_shown(fake, message_id, "100%")
        section_id = next(c for c in poll.custom_ids() if c.startswith("cp1:section:"))
        read = await answered(await fake.click(message_id, section_id, user_id=BOB))
        assert read.embeds and len(read.embeds[0]["title"]) <= 256
        await answered(await fake.slash("debate", subcommand="stance", user_id=ALICE))
        await answered(await fake.slash("debate", subcommand="results", user_id=ALICE))
    assert not fake.violations


async def test_any_card_renders_within_limits(fake: FakeDiscord, service: DebateService) -> None:
    bars = tuple(ResultBar("B" * 300, "🔒", 7, 0.2) for _ in range(60))
    card = Card(
        title="T" * 400, text="x" * 5000, context="c" * 900,
        fields=tuple(Field("n" * 300, "v" * 2000) for _ in range(40)),
        results=ResultsView(total=7, bars=bars, summary=("s" * 2000,)),
        buttons=(*(Button("b" * 200, Action(ActionKind.VOTE, 1, f"o{i}").encode(), "👍", Style.PRIMARY)
                   for i in range(30)), Button("", Action(ActionKind.CANCEL).encode())),
        footer="f" * 3000,
    )
    embed = embeds.card_embed(card)
    assert len(embed) <= 6000 and len(embed.fields) <= 25 and len(embed.title or "") <= 256
    view = embeds.button_view(card.buttons)
    assert view is not None and len(view.children) <= 25
    async with running(make_client(service), fake) as bot:
        ref = await bot.port.send_poll(fake.channel_id, fake.guild_id, card)
    message = fake.message(ref.split(":")[1])
    assert message.embeds and len(message.custom_ids()) == 25
    assert not fake.violations


async def test_scheduled_poll_posts_at_due_time_and_outcome_follows(
    fake: FakeDiscord, service: DebateService, clock: FakeClock
) -> None:
    # The fake clock starts on Monday 2026-03-02 09:00 UTC, i.e. 10:00 in Berlin.
    async with running(make_client(service), fake) as bot:
        setup = await answered(await fake.slash(
            "debate-admin", {"time": "10:30", "tz": "Europe/Berlin", "days": "mon-fri", "duration": "1h",
                             "order": "section", "results": "live", "k": 3},
            subcommand="schedule set", user_id=fake.owner.id))
        assert "Schedule saved" in setup.content and "Europe/Berlin" in setup.content
        shown = await answered(await fake.slash("debate-admin", subcommand="schedule show", user_id=fake.owner.id))
        assert "Next post" in shown.content
        refused = await answered(await fake.slash("debate-admin", subcommand="schedule off", user_id=ALICE))
        assert "Only facilitators" in refused.content

        port = bot.port
        scheduler = Scheduler(service, {"discord": port}, "test", clock)
        assert not (await scheduler.tick()).posted
        clock.advance(minutes=31)
        report = await scheduler.tick()
        assert len(report.posted) == 1
        [message] = polls_in(fake)
        poll = await service.store.get_poll(report.posted[0][3])
        assert poll is not None and poll.message_ref == f"{fake.channel_id}:{message.id}"
        assert await port.find_poll_message(poll) == poll.message_ref
        assert not (await scheduler.tick()).posted  # exactly once

        for uid in (ALICE, BOB, CAROL):
            await vote(fake, message.id, 0, uid)
        clock.advance(hours=1, minutes=1)
        report = await scheduler.tick()
        assert report.closed == [poll.id] and report.outcomes == [poll.id]
    assert not vote_ids(fake.message(message.id))
    threads = fake.guild.threads
    assert message.id in threads  # the outcome thread starts from the poll message
    [outcome] = fake.channel_messages(message.id)
    assert outcome.embeds[0]["title"].startswith("Results:") and "100%" in field(outcome, "Results")
    assert not fake.violations


async def test_outcome_falls_back_to_a_reply_without_thread_permission(
    fake: FakeDiscord, service: DebateService, clock: FakeClock
) -> None:
    async with running(make_client(service), fake) as bot:
        message_id = await post_today(fake)
        poll = await service.store.get_poll(poll_id_of(fake, message_id))
        assert poll is not None
        # As Discord answers when a server took Create Public Threads away from the bot.
        fake.fail_next("POST", r"/threads$", 403, code=50013, message="Missing Permissions")
        await DiscordPort(bot).post_outcome(poll, await service.outcome_card(poll.id))
    reply = fake.channel_messages()[-1]
    assert reply.payload["message_reference"]["message_id"] == message_id
    assert reply.embeds[0]["title"].startswith("Results:")
    assert not fake.guild.threads
    assert not fake.violations


def test_invite_url_has_scopes_and_minimum_permissions() -> None:
    from bots.discord.cli import INVITE_PERMISSIONS, client_id_from_token, invite_url

    url = invite_url("1234567890")
    assert "client_id=1234567890" in url and "scope=bot+applications.commands" in url
    assert f"permissions={INVITE_PERMISSIONS}" in url
    assert client_id_from_token("MTIzNDU2Nzg5MA.GXyz.abc") == "1234567890"
    assert client_id_from_token("garbage") is None



async def test_run_discord_uses_settings_registers_port_and_stops_on_cancel(
    fake: FakeDiscord, service: DebateService
) -> None:
    import asyncio

    from bots.discord.runner import run_discord, sync_commands
    from core.settings import Settings

    settings = Settings(discord_token=fake.token, discord_api_base=fake.api_base + "/",
                        discord_gateway_url=fake.gateway_url)
    ports: dict[str, object] = {}
    task = asyncio.create_task(run_discord(settings, service, ports, guild_ready_timeout=0.05))  # type: ignore[arg-type]
    try:
        # Registering the port is not an event the fake sees, so poll for it.
        for _ in range(500):
            if "discord" in ports:
                break
            await asyncio.sleep(0.01)
        port = ports.get("discord")
        assert isinstance(port, DiscordPort) and port.platform == "discord"
        answer = await answered(await fake.slash("debate", subcommand="help", user_id=ALICE))
        assert "Counterpoint" in text_of(answer)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert "discord" not in ports
    # Intents: nothing privileged is ever asked for.
    assert fake.identify_payloads[-1]["intents"] & ((1 << 1) | (1 << 8) | (1 << 15)) == 0

    assert "global" in await sync_commands(settings, service)
    assert fake.command_puts["global"] == 2  # forced, although nothing changed
    assert not fake.violations


def test_discord_cli_commands_register_without_importing_discord(capsys: pytest.CaptureFixture[str]) -> None:
    import argparse
    import subprocess
    import sys

    code = ("import sys, argparse; from bots.discord.cli import add_discord_commands\n"
            "add_discord_commands(argparse.ArgumentParser().add_subparsers())\n"
            "print('LOADED', 'discord' in sys.modules)")
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=root)
    assert "LOADED False" in proc.stdout, proc.stderr

    from bots.discord.cli import add_discord_commands

    parser = argparse.ArgumentParser()
    add_discord_commands(parser.add_subparsers())
    args = parser.parse_args(["discord", "invite", "--client-id", "42"])
    assert args.sync_handler(args) == 0
    assert "client_id=42" in capsys.readouterr().out
    assert parser.parse_args(["discord", "sync"]).handler is not None
