"""Charts arrive where promised, through the real adapters and the strict fakes (which check each PNG upload)."""

from __future__ import annotations

import copy
import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bots.console.repl import ConsoleAdapter
from core.scheduler.engine import Scheduler
from core.service import Actor, DebateService
from tests.discord_helpers import answered, make_client, polls_in, running, vote_ids
from tests.fakes.discord_fake import FakeDiscord
from tests.fakes.images import png_size
from tests.fakes.slack_fake import FakeSlack
from tests.slack_helpers import CHANNEL, LISTED_ADMIN, block_text, vote_buttons
from tests.slack_helpers import running as slack_running

ALICE, BOB, CAROL = "5001", "5002", "5003"


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        for n in range(1, 4):
            fake.set_user(f"U{n}")
        yield fake


async def test_slack_outcome_chart_goes_into_the_thread_and_results_chart_by_dm(
    slack: FakeSlack, service: DebateService
) -> None:
    async with slack_running(slack, service) as h:
        await h.command("today", user=LISTED_ADMIN)
        message = copy.deepcopy(h.poll_message())
        for user, place in (("U1", 0), ("U2", 3), ("U3", 4)):
            await h.press(vote_buttons(message)[place]["value"], user=user, message=message)
        open_chart = await h.command("results chart=on", user="U1")
        assert "in your direct messages" in open_chart["text"], open_chart
        [dm] = slack.files
        assert dm.channel_id != CHANNEL and dm.filename == "counterpoint-poll-1.png" and dm.thread_ts is None
        assert "so far" in (dm.alt_txt or "") and "3 voters" in (dm.alt_txt or "")

        await h.command("close", user=LISTED_ADMIN)
        assert (await Scheduler(service, {"slack": h.adapter}, "test").tick()).outcomes == [1]
        _, chart = slack.files
        assert chart.channel_id == CHANNEL and chart.thread_ts == message["ts"]
        assert chart.content is not None and png_size(chart.content) is not None
        assert "final" in (chart.alt_txt or "") and "Mean lean +0.3" in (chart.alt_txt or "")
        outcome = [m for m in slack.messages[CHANNEL] if m.get("thread_ts") == message["ts"] and m.get("blocks")]
        assert "Results:" in block_text(outcome[-1]["blocks"])
    assert not slack.violations


async def test_slack_no_chart_while_hidden_is_said_privately(slack: FakeSlack, service: DebateService) -> None:
    async with slack_running(slack, service) as h:
        await h.command("today", user=LISTED_ADMIN)
        message = copy.deepcopy(h.poll_message())
        await h.press(vote_buttons(message)[0]["value"], user="U1", message=message)
        answer = await h.command("results chart=on", user="U1")
        assert "No chart yet" in answer["text"] and answer["response_type"] == "ephemeral"
        assert "no scale poll" in (await h.command("trend", user="U1"))["text"]
    assert not slack.files and not slack.violations


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server:
        with server.patch_discord():
            for uid, name in ((ALICE, "alice"), (BOB, "bob"), (CAROL, "carol")):
                server.add_member(uid, name, permissions=0)
            yield server


async def test_discord_outcome_embeds_its_chart_and_results_offer_it(fake: FakeDiscord, service: DebateService) -> None:
    async with running(make_client(service), fake) as bot:
        admin = Actor(fake.guild_id, fake.channel_id, fake.owner.id, is_admin=True, platform="discord")
        reply = await service.post(admin)
        assert reply.post is not None
        await service.publish(reply.post, lambda card: bot.port.send_poll(fake.channel_id, fake.guild_id, card))
        [message] = polls_in(fake)
        for uid, place in ((ALICE, 0), (BOB, 3), (CAROL, 4)):
            await answered(await fake.click(message.id, vote_ids(fake.message(message.id))[place], user_id=uid))
        await service.close(admin)
        assert (await Scheduler(service, {"discord": bot.port}, "test").tick()).outcomes == [reply.post.poll_id]

        [outcome] = fake.channel_messages(message.id)
        [file] = outcome.files
        assert outcome.embeds[0]["image"]["url"] == f"attachment://{file.filename}"
        assert png_size(file.data) is not None and "Mean lean +0.3" in (file.description or "")

        answer = await answered(await fake.slash("debate", {"chart": "on"}, subcommand="results", user_id=ALICE))
        [chart] = answer.files
        assert answer.embeds[0]["image"]["url"] == f"attachment://{chart.filename}" and answer.ephemeral
        trend = await answered(await fake.slash("debate", subcommand="trend", user_id=ALICE))
        assert trend.files and trend.files[0].filename == "counterpoint-trend.png"
    assert not fake.violations


async def test_console_writes_pngs_and_prints_their_paths(service: DebateService, tmp_path: Path) -> None:
    script = "/debate today\n1\n/as bob\n4\n/as carol\n5\n/as you\n/debate close\n/tick\n/debate trend\n"
    out = io.StringIO()
    charts = tmp_path / "charts"
    await ConsoleAdapter(service, io.StringIO(script), out, chart_dir=charts).run()
    saved = sorted(p.name for p in charts.iterdir())
    assert saved == ["counterpoint-poll-1.png", "counterpoint-trend.png"], out.getvalue()
    assert f"Chart saved: {charts / 'counterpoint-trend.png'}" in out.getvalue()
    assert all(png_size(p.read_bytes()) for p in charts.iterdir())


async def test_the_fakes_refuse_broken_pngs(slack: FakeSlack, fake: FakeDiscord, service: DebateService) -> None:
    import discord
    from slack_sdk.errors import SlackRequestError
    from slack_sdk.web.async_client import AsyncWebClient

    client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    with pytest.raises(SlackRequestError):
        await client.files_upload_v2(channel=CHANNEL, content=b"GIF89a not a png", filename="chart.png")
    with pytest.raises(Exception, match="invalid_arguments"):
        await client.files_upload_v2(channel=CHANNEL, content=b"x", filename="c.txt", alt_txt="a" * 1001)
    assert [v.source for v in slack.violations] == ["upload:chart.png", "files.getUploadURLExternal"]
    slack.violations.clear()

    async with running(make_client(service), fake) as bot:
        channel = bot.port._channel(fake.channel_id, fake.guild_id)
        with pytest.raises(discord.HTTPException):
            await channel.send(file=discord.File(io.BytesIO(b"\x89PNG\r\n\x1a\n"), filename="chart.png"))
        embed = discord.Embed(title="t").set_image(url="attachment://missing.png")
        with pytest.raises(discord.HTTPException):
            await channel.send(embed=embed)
    assert [v.kind for v in fake.violations] == ["bad_attachment", "embed_attachment"]
    fake.violations.clear()
