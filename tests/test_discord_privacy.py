"""Discord adapter privacy, end to end: channel scope, log lines, mentions, public announcements.

Real discord.py client against FakeDiscord, real SqliteStore on tmp_path.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import discord
import pytest

from core.models import ContentPack
from core.presenter import threshold_announcement
from core.service import DebateService
from tests.conftest import FakeClock
from tests.discord_helpers import (
    MANAGE_GUILD,
    answered,
    field,
    impatient_service,
    make_client,
    poll_id_of,
    polls_in,
    running,
    seen_by,
    text_of,
    vote_ids,
    write_locked,
)
from tests.fakes.discord_fake import VIEW_CHANNEL, FakeDiscord, overwrite

# Snowflake-sized ids that cannot turn up inside the fake's own (time-based) ids by chance.
ALICE, BOB, CAROL, DAVE = "731300000000000001", "731300000000000002", "731300000000000003", "731300000000000004"
VOTERS = (ALICE, BOB, CAROL, DAVE)


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server:
        with server.patch_discord():
            for uid, name in zip(VOTERS, ("alice", "bob", "carol", "dave"), strict=True):
                server.add_member(uid, name, permissions=0)
            yield server


def private_channel(fake: FakeDiscord) -> tuple[str, str]:
    """A channel hidden from @everyone and shown to one role (and the bot); returns (channel id, role id)."""
    role = fake.add_role("moderators")
    channel = fake.add_channel("mods-only", overwrites=[overwrite(fake.guild_id, deny=VIEW_CHANNEL),
                                                        overwrite(role, allow=VIEW_CHANNEL),
                                                        overwrite(fake.guild.bot_role_id, allow=VIEW_CHANNEL)])
    return channel, role


async def test_results_of_a_poll_in_a_channel_the_member_cannot_see_are_refused(
    fake: FakeDiscord, service: DebateService
) -> None:
    channel, role = private_channel(fake)
    fake.add_member("731300000000000009", "mod", permissions=MANAGE_GUILD, roles=[role])
    async with running(make_client(service), fake):
        posted = await answered(await fake.slash("debate", subcommand="today", user_id="731300000000000009",
                                                 channel_id=channel))
        assert "posted" in posted.content
        [message] = polls_in(fake, channel)
        poll_id = poll_id_of(fake, message.id)
        question = message.embeds[0]["title"]

        # Alice, in #general, cannot see #mods-only: the same answer as for a poll that does not exist.
        rec = await fake.slash("debate", {"poll": str(poll_id)}, subcommand="results", user_id=ALICE)
        refused = await answered(rec)
        assert refused.ephemeral and refused.content == f"There is no poll #{poll_id} here."
        assert question not in seen_by(fake, rec)
        assert all(question not in text_of(m) for m in fake.channel_messages())
        picker = await fake.autocomplete("debate", "poll", "", subcommand="results", user_id=ALICE)
        await picker.response()
        assert picker.choices == []

        # A member with the role may look from #general, and the picker in #mods-only offers the poll.
        fake.add_member(CAROL, "carol", permissions=0, roles=[role])
        shown = await answered(await fake.slash("debate", {"poll": str(poll_id)}, subcommand="results",
                                                user_id=CAROL))
        assert question in text_of(shown)
        picker = await fake.autocomplete("debate", "poll", "", subcommand="results", user_id=CAROL,
                                         channel_id=channel)
        await picker.response()
        assert [c["value"] for c in picker.choices or []] == [str(poll_id)]
    assert not fake.violations


@pytest.fixture
def debug_logging() -> Iterator[list[str]]:
    """configure_logging("DEBUG") as the CLI does, plus a root handler that formats every record."""
    from bots.logsafety import LIBRARY_LOGGERS, configure_logging

    root = logging.getLogger()
    saved = root.level, {name: logging.getLogger(name).level for name in LIBRARY_LOGGERS}, list(root.handlers)
    configure_logging("DEBUG")
    lines: list[str] = []
    formatter = logging.Formatter("%(levelname)s %(name)s: %(message)s")

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(formatter.format(record))  # the traceback included, as an operator sees it

    handler = Capture(logging.DEBUG)
    root.addHandler(handler)
    try:
        yield lines
    finally:
        for added in [h for h in root.handlers if h not in saved[2]]:
            root.removeHandler(added)  # basicConfig's stderr handler, when root had none
        root.setLevel(saved[0])
        for name, level in saved[1].items():
            logging.getLogger(name).setLevel(level)


async def test_no_log_line_ties_a_member_to_a_vote_or_holds_a_token(
    fake: FakeDiscord, pack: ContentPack, tmp_path: Path, clock: FakeClock, debug_logging: list[str]
) -> None:
    path = str(tmp_path / "locked.db")
    async with impatient_service(pack, path, clock) as service, running(make_client(service), fake):
        await answered(await fake.slash("debate", subcommand="today", user_id=fake.owner.id))
        [message] = polls_in(fake)
        ids = vote_ids(message)
        for i, uid in enumerate((ALICE, BOB, CAROL)):
            await answered(await fake.click(message.id, ids[i], user_id=uid))
        await answered(await fake.click(message.id, ids[4], user_id=BOB))  # a change of mind

        # Discord refuses the answer to a press (the vote still counts).
        fake.fail_next("POST", r"^/interactions/\d+/[^/]+/callback$", 404, code=10062, message="Unknown interaction")
        failed = await fake.click(message.id, ids[3], user_id=DAVE)
        await failed.response()  # the bot tried again and Discord took it
        callback = f"/interactions/{failed.id}/{failed.token}/callback"
        assert [r.status for r in fake.requests if r.path == callback] == [404, 200]

        # Discord refuses the edit that shows the new counts.
        fake.fail_next("PATCH", rf"/messages/{message.id}$", 403, code=50013, message="Missing Permissions")
        await answered(await fake.click(message.id, ids[3], user_id=ALICE))
        await fake.wait_for(lambda: any(r.status == 403 for r in fake.requests))

        # The database is locked by another process while a member votes.
        async with write_locked(path):
            lost = await answered(await fake.click(message.id, ids[2], user_id=CAROL))
        assert "NOT recorded" in lost.content
    tokens = [r.token for r in fake.interactions] + [fake.token]
    # The failures were logged (so the capture works) ...
    assert any(line.startswith(("WARNING bots.discord", "ERROR bots.discord")) for line in debug_logging)
    assert any("Forbidden" in line for line in debug_logging)
    # ... and no line names a voter, a vote's custom_id or a token.
    leaks = [line for line in debug_logging if any(secret in line for secret in (*VOTERS, *tokens))]
    assert leaks == []
    assert not [line for line in debug_logging if "cp1:vote:" in line or "fake-itk-" in line]


async def test_every_message_has_mentions_switched_off(fake: FakeDiscord, service: DebateService) -> None:
    from bots.discord.port import DiscordPort

    async with running(make_client(service), fake) as bot:
        await answered(await fake.slash("debate", subcommand="today", user_id=fake.owner.id))
        [message] = polls_in(fake)
        ids = vote_ids(message)
        for i, uid in enumerate((ALICE, BOB, CAROL)):
            await answered(await fake.click(message.id, ids[i], user_id=uid))
        await fake.wait_for(lambda: "%" in field(fake.message(message.id), "Results"))
        # A member's own text echoed back, the announcement, and the outcome in its thread.
        await answered(await fake.slash("debate", {"poll": "@everyone"}, subcommand="results", user_id=ALICE))
        await answered(await fake.slash("debate-admin", {"k": 4}, subcommand="settings",
                                        user_id=fake.owner.id))
        poll = await service.store.get_poll(poll_id_of(fake, message.id))
        assert poll is not None
        await DiscordPort(bot).post_outcome(poll, await service.outcome_card(poll.id))
        await bot.refresher.drain()
    routes = {route.split(" ")[0] + " " + route.split("/")[1] for route, _ in fake.mention_settings}
    assert {"POST channels", "PATCH channels", "POST interactions"} <= routes, routes
    unset = [route for route, mentions in fake.mention_settings if mentions is None or mentions.get("parse") != []]
    assert unset == []
    assert all(not m.get("users") and not m.get("roles") for _, m in fake.mention_settings)
    assert not fake.violations


async def test_a_changed_threshold_is_announced_in_the_channel(fake: FakeDiscord, service: DebateService) -> None:
    before = service.default_min_votes
    async with running(make_client(service), fake):
        rec = await fake.slash("debate-admin", {"k": 5}, subcommand="settings", user_id=fake.owner.id)
        answer = await answered(rec)
        assert answer.ephemeral and "Results show from 5 votes" in answer.content
        await rec.wait_followups()
        [public] = fake.channel_messages()
        assert public.content == threshold_announcement(before, 5) and not public.ephemeral
        # The same setting again changes nothing, so nothing is announced.
        await answered(await fake.slash("debate-admin", {"k": 5}, subcommand="settings",
                                        user_id=fake.owner.id))
    assert len(fake.channel_messages()) == 1
    assert not fake.violations


async def test_can_view_says_no_without_a_cached_guild_or_channel(fake: FakeDiscord, service: DebateService) -> None:
    from types import SimpleNamespace

    from bots.discord.client import CounterpointClient

    uncached = CounterpointClient.can_view(SimpleNamespace(guild=None, user=None))  # type: ignore[arg-type]
    assert await uncached(fake.channel_id) is False
    async with running(make_client(service), fake) as bot:
        guild = bot.get_guild(int(fake.guild_id))
        assert guild is not None and guild.owner is None  # no member cache: roles come from the interaction
        member = discord.Member(data={"user": fake.users[ALICE].payload(), "roles": [], "joined_at": None, "flags": 0},
                                guild=guild, state=bot._connection)
        check = CounterpointClient.can_view(SimpleNamespace(guild=guild, user=member))  # type: ignore[arg-type]
        assert await check(fake.channel_id) is True
        assert await check("123456789012345678") is False  # a channel the cache does not know
        assert await check("not-a-channel") is False


async def test_poll_pickers_offer_only_what_the_core_lets_the_member_see(
    fake: FakeDiscord, service: DebateService, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[tuple[object, bool]] = []
    original = service.visible_polls

    async def nothing_visible(actor: object, open_only: bool = False, limit: int = 25) -> list[object]:
        asked.append((actor, open_only))
        await original(actor, open_only=open_only, limit=limit)  # type: ignore[arg-type]
        return []

    async with running(make_client(service), fake):
        await answered(await fake.slash("debate", subcommand="today", user_id=fake.owner.id))
        monkeypatch.setattr(service, "visible_polls", nothing_visible)
        for command, subcommand in (("debate", "results"), ("debate-admin", "close")):
            picker = await fake.autocomplete(command, "poll", "", subcommand=subcommand, user_id=ALICE)
            await picker.response()
            assert picker.choices == []
    assert [open_only for _, open_only in asked] == [False, True]
    assert all(getattr(actor, "can_view", None) is not None for actor, _ in asked)
    assert not fake.violations
