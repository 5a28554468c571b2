"""The Discord command tree from the registry, the `ask` form, facilitator roles and channel limits, end to
end: real discord.py client against FakeDiscord, real SqliteStore on tmp_path."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from core.commands import registry
from core.commands.registry import COMMANDS, Arg, Command, Kind
from core.render import Reply
from core.roles import Access
from core.service import DebateService
from tests.discord_helpers import MANAGE_GUILD, answered, make_client, polls_in, running, text_of, vote_ids
from tests.fakes.discord_fake import FakeDiscord

ROOT = Path(__file__).resolve().parent.parent
MEMBER, MOD, OTHER = "8101", "8102", "8103"
OPTION_TYPES = {Kind.INT: 4, Kind.CHANNEL: 7, Kind.SUBJECT: 8}
SUGGESTED = {Kind.POLL, Kind.OPEN_POLL, Kind.SECTION, Kind.PROMPT, Kind.TIMEZONE}


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server:
        with server.patch_discord():
            server.add_member(MEMBER, "member", permissions=0)
            yield server


def synced(fake: FakeDiscord, group: str) -> dict[str, Any]:
    return next(c for c in fake.commands[None] if c["name"] == group)


def leaf(fake: FakeDiscord, command: Command) -> dict[str, Any]:
    """The synced subcommand for a registry entry, found by the Discord spelling of its group."""
    group = "debate" if command.access is Access.MEMBER else "debate-admin"
    node = synced(fake, group)
    for part in command.name.split(" "):
        node = next(o for o in node.get("options") or [] if o["name"] == part)
    return node


# -- 1. the tree is the registry --------------------------------------------------------------------


async def test_every_registry_command_is_synced_with_its_options(fake: FakeDiscord, service: DebateService) -> None:
    async with running(make_client(service), fake):
        pass
    for command in COMMANDS:
        node = leaf(fake, command)
        assert node["type"] == 1 and 1 <= len(node["description"]) <= 100, command.name
        options = {o["name"]: o for o in node.get("options") or []}
        assert list(options) == [a.name for a in command.args], command.name
        for arg in command.args:
            option = options[arg.name]
            assert option["type"] == OPTION_TYPES.get(arg.kind, 3), (command.name, arg.name)
            assert not option["required"] and 1 <= len(option["description"]) <= 100
            assert option["description"] != arg.name, f"{command.name} {arg.name}: no catalogue description"
            assert bool(option.get("autocomplete")) == (arg.kind in SUGGESTED), (command.name, arg.name)
            if arg.kind is Kind.INT:
                assert (option.get("min_value"), option.get("max_value")) == (arg.minimum, arg.maximum)
            elif arg.kind is Kind.CHOICE:
                assert [c["value"] for c in option["choices"]] == list(arg.choices)
            elif arg.kind is Kind.CHANNEL:
                assert option["channel_types"] == [0, 5]  # text and announcement channels
            elif arg.kind is not Kind.SUBJECT:
                assert option["max_length"] == arg.max_length
    expected = {("debate" if c.access is Access.MEMBER else "debate-admin", c.name.split(" ")[0]) for c in COMMANDS}
    shown = {(g, o["name"]) for g in ("debate", "debate-admin") for o in synced(fake, g)["options"]}
    assert shown == expected  # nothing hand-written besides the registry
    assert not fake.violations


async def test_a_new_registry_entry_becomes_a_command(
    fake: FakeDiscord, service: DebateService, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bots.discord.tree as tree

    async def run(service: DebateService, actor: Any, values: dict[str, str]) -> Reply:
        return Reply(text=f"pong {values.get('times')} {values.get('room')}")

    ping = Command("ping", Access.MEMBER, run, (Arg("times", Kind.INT, minimum=1, maximum=3),
                                                Arg("room", Kind.CHANNEL)))
    monkeypatch.setattr(tree, "COMMANDS", (*COMMANDS, ping))
    monkeypatch.setitem(registry.BY_NAME, "ping", ping)
    async with running(make_client(service), fake):
        options = {o["name"]: o for o in leaf(fake, ping)["options"]}
        assert options["times"]["type"] == 4 and options["times"]["max_value"] == 3
        assert options["room"]["type"] == 7
        answer = await answered(await fake.slash("debate", {"times": 2, "room": fake.channel_id},
                                                 subcommand="ping", user_id=MEMBER))
        assert answer.content == f"pong 2 {fake.channel_id}"
    assert not fake.violations


def test_tree_and_client_do_not_import_each_other() -> None:
    code = ("import sys; import bots.discord.tree, bots.discord.forms\n"
            "print('CLIENT', 'bots.discord.client' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert "CLIENT False" in proc.stdout, proc.stderr
    client_source = (ROOT / "bots/discord/client.py").read_text()
    assert "bots.discord.commands" not in client_source and not (ROOT / "bots/discord/commands.py").exists()


# -- 2. the ask form --------------------------------------------------------------------------------


async def test_ask_without_options_opens_a_form_whose_submit_posts_the_poll(
    fake: FakeDiscord, service: DebateService
) -> None:
    question = "Should homework be optional on Fridays?"
    async with running(make_client(service), fake):
        opened = await fake.slash("debate-admin", subcommand="ask", user_id=fake.owner.id)
        body = await opened.response()
        # The modal is the first and only answer: a defer before it would make Discord refuse it.
        assert body["type"] == 9 and [c.type for c in fake.callbacks if c.interaction_id == opened.id] == [9]
        modal = body["data"]
        assert modal["custom_id"] == "cp1:form:ask" and len(modal["title"]) <= 45
        inputs = [row["components"][0] for row in modal["components"]]
        assert [(i["custom_id"], i["style"], i.get("required", True)) for i in inputs] == [
            ("question", 1, True), ("options", 2, False)]
        assert inputs[0]["max_length"] == 240

        submitted = await fake.submit_modal(opened, {"question": question, "options": "Yes\nNo\n\nMaybe\n"},
                                            user_id=fake.owner.id)
        answer = await answered(submitted)
        assert answer.ephemeral and "Posted poll" in text_of(answer)
        [poll] = polls_in(fake)
        assert poll.embeds[0]["title"] == question
        assert [c["label"] for row in poll.components for c in row["components"]
                if c["custom_id"] in vote_ids(poll)] == ["Yes", "No", "Maybe"]
    assert not fake.violations


async def test_the_form_with_no_options_asks_on_the_scale_and_typed_options_skip_the_form(
    fake: FakeDiscord, service: DebateService
) -> None:
    async with running(make_client(service), fake):
        opened = await fake.slash("debate-admin", subcommand="ask", user_id=fake.owner.id)
        await opened.response()
        await answered(await fake.submit_modal(opened, {"question": "Is the scale enough?"}, user_id=fake.owner.id))
        [first] = polls_in(fake)
        assert len(vote_ids(first)) == len(service.content.scale)
        await answered(await fake.slash("debate-admin", subcommand="close", user_id=fake.owner.id))

        typed = await fake.slash("debate-admin", {"question": "Tea or coffee?", "options": "Tea | Coffee"},
                                 subcommand="ask", user_id=fake.owner.id)
        assert (await typed.response())["type"] != 9
        await answered(typed)
        assert len(vote_ids(polls_in(fake)[-1])) == 2
    assert not fake.violations


async def test_a_member_gets_no_form_and_a_stale_form_is_answered(fake: FakeDiscord, service: DebateService) -> None:
    async with running(make_client(service), fake):
        refused = await fake.slash("debate-admin", subcommand="ask", user_id=MEMBER)
        assert (await refused.response())["type"] != 9
        assert "Only facilitators" in (await answered(refused)).content

        # A form of a command this bot does not know (an older version's): answered, never left hanging.
        opened = await fake.slash("debate-admin", subcommand="ask", user_id=fake.owner.id)
        await opened.response()
        assert opened.callback is not None
        opened.callback.body["data"]["custom_id"] = "cp1:form:no-such-command"
        stale = await answered(await fake.submit_modal(opened, {"question": "x"}, user_id=fake.owner.id))
        assert stale.ephemeral and "out of date" in stale.content
        assert polls_in(fake) == []
    assert not fake.violations


# -- 3. facilitator roles ---------------------------------------------------------------------------


async def test_a_member_with_the_facilitator_role_runs_the_debate(fake: FakeDiscord, service: DebateService) -> None:
    role = fake.add_role("Debate hosts")
    fake.add_member(MOD, "mod", permissions=0, roles=[role])
    async with running(make_client(service), fake):
        before = await answered(await fake.slash("debate-admin", subcommand="post", user_id=MOD))
        assert "Only facilitators" in before.content

        named = await answered(await fake.slash("debate-admin", {"add": role}, subcommand="facilitators",
                                                user_id=fake.owner.id))
        assert f"<@&{role}>" in named.content
        posted = await answered(await fake.slash("debate-admin", subcommand="post", user_id=MOD))
        assert "Posted poll" in posted.content and len(polls_in(fake)) == 1
        changed = await answered(await fake.slash("debate-admin", {"k": 7}, subcommand="settings", user_id=MOD))
        assert "Results show from 7 votes" in changed.content

        # Only admins name facilitators; a member without the role runs nothing.
        own = await answered(await fake.slash("debate-admin", {"add": role}, subcommand="facilitators", user_id=MOD))
        assert "Only server or workspace admins" in own.content
        refused = await answered(await fake.slash("debate-admin", {"k": 3}, subcommand="settings", user_id=MEMBER))
        assert "Only facilitators" in refused.content
    assert (await service.channel_settings(fake.guild_id, fake.channel_id)).min_votes == 7
    assert synced(fake, "debate-admin")["default_member_permissions"] is None
    assert not fake.violations


# -- 4. commands spelled the Discord way ------------------------------------------------------------


async def test_help_and_errors_spell_commands_the_discord_way(fake: FakeDiscord, service: DebateService) -> None:
    fake.add_member(MOD, "mod", permissions=MANAGE_GUILD)
    async with running(make_client(service), fake):
        card = text_of(await answered(await fake.slash("debate", subcommand="help", user_id=MOD)))
        assert "/debate-admin settings [k:N]" in card and "/debate results [poll:N]" in card
        assert "/debate-admin schedule set [time:09:00]" in card
        assert not re.search(r"\b[a-z-]+=\S", card), card  # no text syntax such as k=5
        member_card = text_of(await answered(await fake.slash("debate", subcommand="help", user_id=MEMBER)))
        assert "/debate today" in member_card and "/debate-admin" not in member_card

        await answered(await fake.slash("debate-admin", subcommand="post", user_id=MOD))
        again = await answered(await fake.slash("debate-admin", subcommand="post", user_id=MOD))
        assert "`/debate-admin close`" in again.content
        settings = await answered(await fake.slash("debate-admin", subcommand="settings", user_id=MOD))
        assert "/debate-admin settings k:5" in settings.content and "k=" not in settings.content
    assert not fake.violations


def test_nothing_in_the_discord_adapter_spells_a_command_or_reads_the_store() -> None:
    for path in sorted((ROOT / "bots/discord").glob("*.py")):
        source = path.read_text()
        assert not re.search(r"\.store\b", source), f"{path.name} reaches into service.store"
        assert "admin_command" not in source, path.name
        # Command spellings come from core.commands.spelling; log labels are built from it too.
        assert not re.search(r"[\"']/debate(-admin)? [a-z]", source), f"{path.name} spells a command by hand"


# -- 6. channels ------------------------------------------------------------------------------------


async def test_chosen_channels_keep_polls_and_settings_out_of_the_others(
    fake: FakeDiscord, service: DebateService
) -> None:
    role = fake.add_role("Debate hosts")
    fake.add_member(MOD, "mod", permissions=0, roles=[role])
    fake.add_member(OTHER, "other", permissions=0)
    debates = fake.add_channel("debates")
    async with running(make_client(service), fake):
        owner = fake.owner.id
        await answered(await fake.slash("debate-admin", {"add": role}, subcommand="facilitators", user_id=owner))
        # Members may open the day's poll in #general, before the facilitators keep the bot to #debates.
        on = await answered(await fake.slash("debate-admin", {"members-post": "on"}, subcommand="settings",
                                             user_id=owner))
        assert "Saved" in on.content
        chosen = await answered(await fake.slash("debate-admin", {"add": debates}, subcommand="channels",
                                                 user_id=MOD, channel_id=debates))
        assert f"<#{debates}>" in chosen.content

        today = await answered(await fake.slash("debate", subcommand="today", user_id=OTHER))
        assert "not used in this channel" in today.content and f"<#{debates}>" in today.content
        post = await answered(await fake.slash("debate-admin", subcommand="post", user_id=MOD))
        assert "not used in this channel" in post.content
        assert polls_in(fake) == []

        here = await answered(await fake.slash("debate-admin", subcommand="post", user_id=MOD, channel_id=debates))
        assert "Posted poll" in here.content and len(polls_in(fake, debates)) == 1
    assert not fake.violations


async def test_a_picker_whose_lookup_fails_offers_nothing_instead_of_failing(
    fake: FakeDiscord, service: DebateService, monkeypatch: pytest.MonkeyPatch
) -> None:
    from core.store.base import StoreError

    async def down(*args: object, **kwargs: object) -> list[object]:
        raise StoreError("database is locked")

    async with running(make_client(service), fake):
        monkeypatch.setattr(service, "visible_polls", down)
        picker = await fake.autocomplete("debate-admin", "poll", "", subcommand="close", user_id=fake.owner.id)
        assert (await picker.response())["type"] == 8 and picker.choices == []
        zones = await fake.autocomplete("debate-admin", "tz", "tokyo", subcommand="schedule set")
        await zones.response()
        assert {"name": "Asia/Tokyo", "value": "Asia/Tokyo"} in (zones.choices or [])
    assert not fake.violations


def test_the_fake_refuses_modals_discord_would_refuse() -> None:
    from bots.discord.forms import build_modal
    from tests.fakes.discord_fake import _check_modal, _FormErrors

    def problems(modal: dict[str, Any]) -> list[str]:
        errs = _FormErrors()
        _check_modal(errs, modal)
        return [".".join(path) for path, *_ in errs.items]

    good = build_modal(registry.BY_NAME["ask"]).to_dict()
    assert problems(good) == []
    button = {"type": 1, "components": [{"type": 2, "style": 1, "label": "Go", "custom_id": "go"}]}
    assert problems({**good, "components": [button]}) == ["components.0.components"]
    assert problems({**good, "title": "T" * 46}) == ["title"]
    assert problems({**good, "components": good["components"] * 3}) != []  # six rows, and ids twice
    assert problems({**good, "components": []}) == ["components"]
