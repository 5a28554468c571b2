"""Discord adapter failure paths, end to end: refused posts, a locked database, outcomes found again
after a crash, and shutdown while a request waits out a long rate limit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bots.discord.client import CANNOT_POST, DRAIN_TIMEOUT
from bots.discord.port import DiscordPort
from core.actions import ActionKind, decode
from core.models import ContentPack
from core.service import DebateService
from tests.conftest import FakeClock
from tests.discord_helpers import (
    answered,
    impatient_service,
    make_client,
    poll_id_of,
    polls_in,
    running,
    vote_ids,
    write_locked,
)
from tests.fakes.discord_fake import SEND_MESSAGES, FakeDiscord, overwrite

ALICE, BOB, CAROL = "731400000000000001", "731400000000000002", "731400000000000003"


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server:
        with server.patch_discord():
            for uid, name in ((ALICE, "alice"), (BOB, "bob"), (CAROL, "carol")):
                server.add_member(uid, name, permissions=0)
            yield server


def refused_poll_id(fake: FakeDiscord) -> int:
    """The poll named by the vote buttons of the post Discord refused."""
    [request] = [r for r in fake.requests if r.method == "POST" and r.path.endswith("/messages") and r.status == 403]
    custom_ids = [c["custom_id"] for row in request.json["components"] for c in row["components"]]
    return {decode(c).poll_id for c in custom_ids if decode(c).kind is ActionKind.VOTE}.pop()  # type: ignore[return-value]


async def test_a_refused_post_abandons_the_poll_and_the_prompt_is_posted_once_allowed(
    fake: FakeDiscord, service: DebateService
) -> None:
    # As a server does it: the channel denies the bot's role Send Messages.
    overwrites = fake.guild.channels[fake.channel_id]["permission_overwrites"]
    overwrites.append(overwrite(fake.guild.bot_role_id, deny=SEND_MESSAGES))
    async with running(make_client(service), fake):
        answer = await answered(await fake.slash("debate", subcommand="today", user_id=fake.owner.id))
        assert answer.ephemeral and answer.content == CANNOT_POST
        assert polls_in(fake) == []
        poll_id = refused_poll_id(fake)
        refused = await service.store.get_poll(poll_id)
        assert refused is not None and refused.abandoned
        # Pickers never offer a poll nobody can see.
        picker = await fake.autocomplete("debate", "poll", "", subcommand="results", user_id=ALICE)
        await picker.response()
        assert picker.choices == []

        overwrites.clear()
        posted = await answered(await fake.slash("debate", subcommand="today", user_id=fake.owner.id))
        assert "posted" in posted.content
        [message] = polls_in(fake)
        poll = await service.store.get_poll(poll_id_of(fake, message.id))
        assert poll is not None and poll.id != poll_id and poll.prompt_id == refused.prompt_id
        assert poll.message_ref == f"{fake.channel_id}:{message.id}"
    assert [v.kind for v in fake.violations] == ["missing_permissions"]


async def test_a_vote_the_database_cannot_take_is_answered_not_recorded(
    fake: FakeDiscord, pack: ContentPack, tmp_path: Path, clock: FakeClock
) -> None:
    path = str(tmp_path / "locked.db")
    async with impatient_service(pack, path, clock) as service, running(make_client(service), fake):
        await answered(await fake.slash("debate", subcommand="today", user_id=fake.owner.id))
        [message] = polls_in(fake)
        poll_id = poll_id_of(fake, message.id)
        async with write_locked(path):
            answer = await answered(await fake.click(message.id, vote_ids(message)[0], user_id=BOB))
        assert answer.ephemeral and "NOT recorded" in answer.content
        assert (await service.store.tally(poll_id)).total == 0
        # Once the lock is gone the same press counts.
        again = await answered(await fake.click(message.id, vote_ids(message)[0], user_id=BOB))
        assert "You chose" in again.content
        assert (await service.store.tally(poll_id)).total == 1
    assert not fake.violations


async def test_an_outcome_already_posted_is_found_by_its_marker(fake: FakeDiscord, service: DebateService) -> None:
    async with running(make_client(service), fake) as bot:
        port = DiscordPort(bot)
        await answered(await fake.slash("debate", subcommand="today", user_id=fake.owner.id))
        [first] = polls_in(fake)
        poll = await service.store.get_poll(poll_id_of(fake, first.id))
        assert poll is not None
        assert await port.find_outcome_message(poll) is None
        await service.store.close_poll(poll.id, service.clock())
        await port.post_outcome(poll, await service.outcome_card(poll.id))
        [outcome] = fake.channel_messages(first.id)  # in the thread started from the poll message
        assert await port.find_outcome_message(poll) == f"{first.id}:{outcome.id}"

        # Without thread permission the outcome is a reply in the channel, and found there.
        await answered(await fake.slash("debate", subcommand="today", user_id=fake.owner.id))
        second_message = polls_in(fake)[-1]
        second = await service.store.get_poll(poll_id_of(fake, second_message.id))
        assert second is not None and second.id != poll.id
        await service.store.close_poll(second.id, service.clock())
        fake.fail_next("POST", r"/threads$", 403, code=50013, message="Missing Permissions")
        await port.post_outcome(second, await service.outcome_card(second.id))
        reply = fake.channel_messages()[-1]
        assert await port.find_outcome_message(second) == f"{fake.channel_id}:{reply.id}"
        assert await port.find_outcome_message(poll) == f"{first.id}:{outcome.id}"  # each finds its own
    assert not fake.violations


async def test_close_is_bounded_while_a_refresh_waits_out_a_long_rate_limit(
    fake: FakeDiscord, service: DebateService
) -> None:
    assert DRAIN_TIMEOUT < 10
    client = make_client(service, drain_timeout=0.5)
    await client.login(fake.token)
    connect = asyncio.create_task(client.connect())
    await asyncio.wait_for(client.wait_until_ready(), 5)
    await answered(await fake.slash("debate", subcommand="today", user_id=fake.owner.id))
    [message] = polls_in(fake)
    fake.rate_limit_next("PATCH", rf"/messages/{message.id}$", retry_after=45)
    await answered(await fake.click(message.id, vote_ids(message)[0], user_id=BOB))
    await fake.wait_for(lambda: any(r.status == 429 for r in fake.requests))

    await asyncio.wait_for(client.close(), 10)  # the hang detector: discord.py would sleep 45 s
    await asyncio.wait_for(connect, 5)
    assert client.refresher._tasks == {}
    patches = [r for r in fake.requests if r.method == "PATCH" and r.path.endswith(message.id)]
    assert [r.status for r in patches] == [429]
    assert not fake.violations
