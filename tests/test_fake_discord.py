"""Runs a real discord.Client + CommandTree against tests/fakes/discord_fake.py, fully offline."""

from __future__ import annotations

import asyncio
import contextlib
import io
import time
from collections.abc import AsyncIterator

import aiohttp
import discord
import pytest
from discord import app_commands

from tests.fakes.discord_fake import FakeDiscord

MANAGE_GUILD = 1 << 5
REPORT_BYTES = b"side,votes\nsecurity,3\nprivacy,5\n"


class VoteView(discord.ui.View):
    """Persistent: no timeout and fixed custom_ids, so a restarted bot can still answer old buttons."""

    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Agree", style=discord.ButtonStyle.success, custom_id="poll:agree")
    async def agree(self, interaction: discord.Interaction, button: discord.ui.Button[VoteView]) -> None:
        await interaction.response.edit_message(content=f"agreed by {interaction.user.id}")

    @discord.ui.button(label="Disagree", style=discord.ButtonStyle.danger, custom_id="poll:disagree")
    async def disagree(self, interaction: discord.Interaction, button: discord.ui.Button[VoteView]) -> None:
        await interaction.response.defer()
        await interaction.edit_original_response(content=f"disagreed by {interaction.user.id}")


class TooLongLabelView(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=None)
        # discord.py documents the 80-char limit but does not enforce it; the fake must.
        self.add_item(discord.ui.Button(label="x" * 81, custom_id="too-long"))


class Bot(discord.Client):
    def __init__(self, guild_id: str) -> None:
        # guild_ready_timeout: discord.py otherwise waits 2 s after the last GUILD_CREATE before on_ready.
        super().__init__(intents=discord.Intents.default(), guild_ready_timeout=0.05)
        self.tree = app_commands.CommandTree(self)
        self.guild_ref = discord.Object(int(guild_id))
        self.errors: list[discord.HTTPException] = []
        self.seen: dict[str, object] = {}
        self._register_commands()

    async def setup_hook(self) -> None:
        self.add_view(VoteView())

    def _register_commands(self) -> None:
        tree, guild = self.tree, self.guild_ref

        @tree.command(name="poll", description="Post a poll", guild=guild)
        async def poll(interaction: discord.Interaction, question: str) -> None:
            embed = discord.Embed(title=question, description="Vote below")
            await interaction.response.send_message(embed=embed, view=VoteView())

        @tree.command(name="report", description="Private CSV report", guild=guild)
        async def report(interaction: discord.Interaction) -> None:
            await interaction.response.defer(ephemeral=True, thinking=True)
            file = discord.File(io.BytesIO(REPORT_BYTES), filename="report.csv")
            await interaction.followup.send("your report", file=file, ephemeral=True)

        @tree.command(name="broken", description="Sends a label Discord rejects", guild=guild)
        async def broken(interaction: discord.Interaction) -> None:
            try:
                await interaction.response.send_message("x", view=TooLongLabelView())
            except discord.HTTPException as exc:
                self.errors.append(exc)

        @tree.command(name="slow", description="Answers after the deadline", guild=guild)
        async def slow(interaction: discord.Interaction) -> None:
            await asyncio.sleep(0.3)
            try:
                await interaction.response.send_message("too late")
            except discord.HTTPException as exc:
                self.errors.append(exc)

        @tree.command(name="topic", description="Pick a topic", guild=guild)
        async def topic(interaction: discord.Interaction, name: str) -> None:
            await interaction.response.send_message(name)

        @topic.autocomplete("name")
        async def topic_names(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
            return [app_commands.Choice(name=t, value=t) for t in ("security", "privacy") if t.startswith(current)]

        admin = app_commands.Group(name="admin", description="Admin tools")

        @admin.command(name="purge", description="Remove old polls")
        @app_commands.describe(count="How many")
        async def purge(interaction: discord.Interaction, count: int) -> None:
            self.seen["purge"] = (count, interaction.permissions.manage_guild)
            await interaction.response.send_message(f"purged {count}", ephemeral=True)

        tree.add_command(admin, guild=guild)


@contextlib.asynccontextmanager
async def running(client: discord.Client, fake: FakeDiscord) -> AsyncIterator[discord.Client]:
    await client.login(fake.token)
    connect = asyncio.create_task(client.connect())
    ready = asyncio.create_task(client.wait_until_ready())
    try:
        done, _ = await asyncio.wait({connect, ready}, timeout=5, return_when=asyncio.FIRST_COMPLETED)
        if connect in done:
            connect.result()  # surfaces the reason the gateway connection ended
        assert ready in done, "client did not become ready"
        yield client
    finally:
        ready.cancel()
        await client.close()
        await asyncio.wait_for(connect, 5)


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server:
        with server.patch_discord():
            yield server


async def test_client_logs_in_and_becomes_ready(fake: FakeDiscord) -> None:
    bot = Bot(fake.guild_id)
    async with running(bot, fake):
        assert bot.user is not None and bot.user.id == int(fake.bot.id)
        assert bot.application_id == int(fake.application_id)
        guild = bot.get_guild(int(fake.guild_id))
        assert guild is not None and guild.name == "G1" and guild.owner_id == int(fake.owner.id)
        channel = guild.get_channel(int(fake.channel_id))
        assert channel is not None and channel.name == "general"
        assert guild.me is not None
        # Without the GUILD_MEMBERS intent GUILD_CREATE carries only the bot, as on Discord.
        assert guild.get_member(int(fake.owner.id)) is None

    assert fake.identify_payloads[0]["intents"] == discord.Intents.default().value
    assert fake.heartbeats >= 1
    assert [r.path for r in fake.requests[:2]] == ["/users/@me", "/oauth2/applications/@me"]
    assert fake.violations == []


async def test_sync_stores_guild_commands(fake: FakeDiscord) -> None:
    bot = Bot(fake.guild_id)
    async with running(bot, fake):
        await bot.tree.sync(guild=bot.guild_ref)
        first = [(c["id"], c["version"]) for c in fake.commands[fake.guild_id]]
        await bot.tree.sync(guild=bot.guild_ref)

    assert sorted(c["name"] for c in fake.commands[fake.guild_id]) == [
        "admin", "broken", "poll", "report", "slow", "topic",
    ]
    assert fake.command_puts[fake.guild_id] == 2
    # An unchanged re-sync creates nothing and keeps ids and versions.
    assert fake.command_creates[fake.guild_id] == 6
    assert [(c["id"], c["version"]) for c in fake.commands[fake.guild_id]] == first
    assert "global" not in fake.command_puts
    assert fake.violations == []


async def test_slash_command_reaches_handler_and_callback_is_recorded(fake: FakeDiscord) -> None:
    bot = Bot(fake.guild_id)
    async with running(bot, fake):
        await bot.tree.sync(guild=bot.guild_ref)
        rec = await fake.slash("poll", {"question": "Cameras in parks?"})
        body = await rec.response()

        # A second acknowledgement is refused the way Discord does, with an exact JSON content type.
        async with aiohttp.ClientSession() as http:
            url = f"{fake.api_base}/interactions/{rec.id}/{rec.token}/callback"
            async with http.post(url, json={"type": 4, "data": {"content": "again"}}) as resp:
                assert resp.status == 400
                assert resp.headers["Content-Type"] == "application/json"
                assert (await resp.json())["code"] == 40060

    assert body["type"] == 4
    assert body["data"]["embeds"][0]["title"] == "Cameras in parks?"
    posted = fake.channel_messages()[-1]
    assert posted is rec.original
    assert posted.custom_ids() == ["poll:agree", "poll:disagree"]
    assert posted.payload["interaction_metadata"]["user"]["id"] == fake.owner.id
    assert fake.callbacks == [rec.callback]
    assert rec.callback is not None and rec.callback.elapsed < 3
    assert [v.kind for v in fake.violations] == ["already_acknowledged"]


async def test_subcommand_and_autocomplete_payload_shapes(fake: FakeDiscord) -> None:
    fake.add_member(2001, "mod", permissions=MANAGE_GUILD)
    bot = Bot(fake.guild_id)
    async with running(bot, fake):
        await bot.tree.sync(guild=bot.guild_ref)
        rec = await fake.slash("admin", {"count": 3}, subcommand="purge", user_id=2001)
        body = await rec.response()
        typing = await fake.autocomplete("topic", "name", "pri")
        await typing.response()

    assert rec.payload["data"]["options"] == [
        {"type": 1, "name": "purge", "options": [{"name": "count", "type": 4, "value": 3}]}
    ]
    assert bot.seen["purge"] == (3, True)
    assert body["data"]["flags"] == 64
    assert rec.original is not None and rec.original.ephemeral
    assert rec.original not in fake.channel_messages()
    assert typing.choices == [{"name": "privacy", "value": "privacy"}]
    assert fake.violations == []


async def test_persistent_view_click_after_restart_edits_original(fake: FakeDiscord) -> None:
    fake.add_member(1001, "alice", permissions=0)
    first = Bot(fake.guild_id)
    async with running(first, fake):
        channel = first.get_channel(int(fake.channel_id))
        assert isinstance(channel, discord.TextChannel)
        sent = await channel.send("Is surveillance worth it?", view=VoteView())

    # A fresh process: only setup_hook's add_view() knows the buttons now.
    second = Bot(fake.guild_id)
    async with running(second, fake):
        agree = await fake.click(sent.id, "poll:agree", user_id=1001)
        assert (await agree.response())["type"] == 7
        disagree = await fake.click(sent.id, "poll:disagree", user_id=1001)
        assert (await disagree.response())["type"] == 6
        await disagree.wait_edits()

    assert agree.payload["message"]["id"] == str(sent.id)
    stored = fake.message(sent.id)
    assert stored.content == "disagreed by 1001"
    assert stored.edits == 2
    assert fake.violations == []


async def test_followup_with_ephemeral_file_is_stored_with_bytes(fake: FakeDiscord) -> None:
    bot = Bot(fake.guild_id)
    async with running(bot, fake):
        await bot.tree.sync(guild=bot.guild_ref)
        rec = await fake.slash("report")
        [followup] = await rec.wait_followups()
        async with aiohttp.ClientSession() as http, http.get(followup.files[0].url) as resp:
            served = await resp.read()

    assert rec.callback is not None and rec.callback.type == 5
    # The first followup after a defer resolves the "thinking" message instead of adding one.
    assert followup is rec.original
    assert followup.ephemeral and followup.content == "your report"
    assert [(f.filename, f.data) for f in followup.files] == [("report.csv", REPORT_BYTES)]
    assert served == REPORT_BYTES
    assert followup not in fake.channel_messages()
    assert fake.violations == []


async def test_rate_limited_edit_is_waited_out(fake: FakeDiscord) -> None:
    bot = Bot(fake.guild_id)
    async with running(bot, fake):
        channel = bot.get_channel(int(fake.channel_id))
        assert isinstance(channel, discord.TextChannel)
        msg = await channel.send("v1")
        fake.rate_limit_next("PATCH", rf"^/channels/{fake.channel_id}/messages/{msg.id}$", retry_after=0.3)
        started = time.monotonic()
        await msg.edit(content="v2")
        waited = time.monotonic() - started

    assert waited >= 0.3
    assert [r.status for r in fake.requests if r.method == "PATCH"] == [429, 200]
    assert fake.message(msg.id).content == "v2"
    assert fake.message(msg.id).edits == 1
    assert fake.violations == []


async def test_second_client_sees_the_same_messages(fake: FakeDiscord) -> None:
    first = Bot(fake.guild_id)
    async with running(first, fake):
        channel = first.get_channel(int(fake.channel_id))
        assert isinstance(channel, discord.TextChannel)
        for i in range(3):
            await channel.send(f"msg {i}")

    second = Bot(fake.guild_id)
    async with running(second, fake):
        channel = second.get_channel(int(fake.channel_id))
        assert isinstance(channel, discord.TextChannel)
        history = [m.content async for m in channel.history(limit=10)]

    assert history == ["msg 2", "msg 1", "msg 0"]
    assert len(fake.identify_payloads) == 2
    assert fake.violations == []


async def test_overlong_button_label_is_rejected_and_recorded(fake: FakeDiscord) -> None:
    bot = Bot(fake.guild_id)
    async with running(bot, fake):
        await bot.tree.sync(guild=bot.guild_ref)
        rec = await fake.slash("broken")
        await fake.wait_for(lambda: bot.errors)

    [error] = bot.errors
    assert error.status == 400 and error.code == 50035
    assert [(v.kind, v.field) for v in fake.violations] == [("length", "data.components.0.components.0.label")]
    assert rec.callback is None


async def test_late_first_response_is_a_violation(fake: FakeDiscord) -> None:
    fake.response_deadline = 0.2  # shrunk from 3 s to keep the test fast
    bot = Bot(fake.guild_id)
    async with running(bot, fake):
        await bot.tree.sync(guild=bot.guild_ref)
        await fake.slash("slow")
        await fake.wait_for(lambda: bot.errors)

    assert isinstance(bot.errors[0], discord.NotFound) and bot.errors[0].code == 10062
    assert [v.kind for v in fake.violations] == ["late_response"]


async def test_dropped_gateway_connection_resumes(fake: FakeDiscord) -> None:
    bot = Bot(fake.guild_id)
    async with running(bot, fake):
        await bot.tree.sync(guild=bot.guild_ref)
        await fake.drop_connections(code=4000)
        await fake.wait_for(lambda: fake.resumes == 1)
        rec = await fake.slash("poll", {"question": "still there?"})
        await rec.response()

    assert len(fake.identify_payloads) == 1
    assert fake.violations == []


async def test_channel_overwrites_resolve_like_discord() -> None:
    from tests.fakes.discord_fake import SEND_MESSAGES, VIEW_CHANNEL, overwrite

    async with FakeDiscord() as fake:
        mods = fake.add_role("mods")
        muted = fake.add_role("muted")
        fake.add_member("1001", "plain", permissions=0)
        fake.add_member("1002", "mod", permissions=0, roles=[mods])
        fake.add_member("1003", "mod-muted", permissions=0, roles=[mods, muted])
        fake.add_member("1004", "guest", permissions=0)
        channel = fake.add_channel("private", overwrites=[
            overwrite(fake.guild_id, deny=VIEW_CHANNEL), overwrite(mods, allow=VIEW_CHANNEL | SEND_MESSAGES),
            overwrite(muted, deny=SEND_MESSAGES), overwrite("1004", allow=VIEW_CHANNEL, member=True)])
        assert fake.permissions_in("1001", channel) == 0  # no View Channel: nothing at all
        assert fake.permissions_in("1002", channel) & (VIEW_CHANNEL | SEND_MESSAGES) == VIEW_CHANNEL | SEND_MESSAGES
        # Role overwrites combine: an allow from one role beats a deny from another.
        assert fake.permissions_in("1003", channel) & SEND_MESSAGES
        assert fake.permissions_in("1004", channel) & VIEW_CHANNEL  # a member overwrite comes last
        assert fake.permissions_in(fake.owner.id, channel) & VIEW_CHANNEL
        assert fake.permissions_in("1001", fake.channel_id) & VIEW_CHANNEL
        # The interaction carries the member's permissions in the channel it comes from.
        payload = fake._interaction_envelope(2, {"id": "1", "name": "x", "type": 1}, user_id="1001", guild=True,
                                             channel_id=channel, locale="en-US")
        assert payload["member"]["permissions"] == "0"
