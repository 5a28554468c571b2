"""The Discord client: interactions in, core calls, render models out. No rule about votes lives here.

Start-up follows discord.py's advanced_startup pattern: the service is built by the caller and passed
in; commands are registered and (only when their definitions changed) synced in `setup_hook`.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from typing import Any

import discord
from discord import app_commands

from bots.discord import embeds, forms
from bots.discord.charts import with_chart
from bots.discord.port import DiscordPort
from bots.discord.reasons import DiscordReasons, form_poll
from bots.discord.rendered import RenderedReplies
from bots.discord.tree import build_groups
from core.catalogue import t
from core.commands import CommandRouter
from core.render import Card, Reply
from core.service import Actor, DebateService
from core.throttle import Coalescer
from core.visibility import ChannelCheck

log = logging.getLogger(__name__)

PLATFORM = "discord"
HASH_META_PREFIX = "discord_commands_hash:"
# Discord wants a first answer within 3 s of the interaction's creation; work still running after
# this long is deferred, leaving margin for gateway delay and the defer's own round trip.
DEFER_AFTER = 1.5
OUTSIDE_SERVER = t("discord.outside_server")
SOMETHING_BROKE = t("discord.broke")
CANNOT_POST = t("discord.cannot_post")
POST_FAILED = t("discord.post_failed")
# How long close() lets pending poll refreshes finish: one may be waiting out a long 429.
DRAIN_TIMEOUT = 5.0

Work = Callable[[Actor], Awaitable[Reply]]


def make_intents() -> discord.Intents:
    """Guilds only: interactions need no intent, and message events would be parsed for nothing.

    Nothing privileged (members, presences, message content) is ever asked for."""
    intents = discord.Intents.none()
    intents.guilds = True
    return intents


def http_error(exc: discord.HTTPException) -> str:
    """An HTTP failure for the log: class, status and Discord's code. Never the URL (interaction
    webhooks carry the token in it) nor the response text."""
    return f"{type(exc).__name__} {exc.status}/{exc.code}"


def commands_hash(payload: list[dict[str, Any]], application_id: int | None) -> str:
    blob = json.dumps({"application": application_id, "commands": payload}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


class DebateTree(app_commands.CommandTree["CounterpointClient"]):
    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        # Reached only before our handlers run (stale command, bad option): they catch their own errors.
        command = interaction.command.qualified_name if interaction.command else "?"
        if isinstance(error, app_commands.CommandNotFound):
            text = t("discord.out_of_date")
        else:
            log.error("/%s failed before its handler ran (guild %s, channel %s): %s", command,
                      interaction.guild_id, interaction.channel_id, type(error).__name__)
            text = SOMETHING_BROKE
        await self.client.send_text(interaction, text)


class CounterpointClient(discord.Client):
    def __init__(
        self,
        service: DebateService,
        *,
        dev_guild: str | None = None,
        force_sync: bool = False,
        refresh_interval: float = 2.0,
        on_port: Callable[[DiscordPort], None] | None = None,
        drain_timeout: float = DRAIN_TIMEOUT,
        **options: Any,
    ) -> None:
        # Nothing the bot says may ping anyone: prompts, labels and members' own input end up in
        # content. Every send also passes embeds.NO_MENTIONS, because discord.py leaves this default
        # out of edits without content.
        options.setdefault("allowed_mentions", discord.AllowedMentions.none())
        super().__init__(intents=make_intents(), **options)
        self.drain_timeout = drain_timeout
        self.service = service
        self.router = CommandRouter(service)
        self.dev_guild = discord.Object(int(dev_guild)) if dev_guild else None
        self.force_sync = force_sync
        self.on_port = on_port
        self.tree = DebateTree(self)
        self.port = DiscordPort(self)
        self.reasons = DiscordReasons(self)
        self.rendered = RenderedReplies()
        # Turns kept in the database: processes running other shards share the edit budget of each poll.
        turns = service.refresh_turns(PLATFORM, refresh_interval)
        self.refresher: Coalescer[int] = Coalescer(self._refresh, interval=refresh_interval, turns=turns)
        self.synced: bool | None = None  # whether setup_hook pushed commands (None: not decided yet)

    # -- start-up --------------------------------------------------------------------------------

    async def setup_hook(self) -> None:
        for group in build_groups(self):
            self.tree.add_command(group, guild=self.dev_guild)
        self.synced = await self.sync_commands(force=self.force_sync)

    async def sync_commands(self, force: bool = False) -> bool:
        """Push the command tree when it differs from the last push to this target (or when forced).

        Discord allows 200 command creates a day per server, and every restart would otherwise spend
        some; the hash of the exact payload is kept in the store, keyed per target."""
        target = str(self.dev_guild.id) if self.dev_guild else "global"
        payload = [c.to_dict(self.tree) for c in self.tree.get_commands(guild=self.dev_guild)]
        digest = commands_hash(payload, self.application_id)
        key = HASH_META_PREFIX + target
        if not force and await self.service.get_meta(key) == digest:
            log.info("Discord commands unchanged for %s; not syncing", target)
            return False
        try:
            await self.tree.sync(guild=self.dev_guild)
        except discord.HTTPException:
            if force:
                raise
            # Commands synced earlier keep working; the next start tries again as the hash was not saved.
            log.exception("syncing Discord commands to %s failed", target)
            return False
        await self.service.set_meta(key, digest)
        log.info("synced %d Discord commands to %s", len(payload), target)
        return True

    async def on_ready(self) -> None:
        log.info("Discord: ready as %s in %d servers", self.user, len(self.guilds))
        if self.on_port is not None:
            self.on_port(self.port)

    async def close(self) -> None:
        # The last vote's refresh should land before the connection goes, but a refresh waiting out
        # a long 429 must not hold shutdown: past the bound it is cancelled (wait_for cancels the
        # gather inside drain, and with it the refresh tasks).
        try:
            await asyncio.wait_for(self.refresher.drain(), self.drain_timeout)
        except TimeoutError:
            log.warning("Discord: pending poll refreshes cancelled at shutdown after %.0fs", self.drain_timeout)
        await super().close()

    # -- interactions ----------------------------------------------------------------------------

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        """Every button press, from any message ever posted: matching by custom_id needs no view state,
        so buttons keep working after a restart. Custom ids from elsewhere get the core's answer too."""
        if interaction.type is discord.InteractionType.modal_submit:
            await self._form_submitted(interaction)
            return
        if interaction.type is not discord.InteractionType.component:
            return
        data: Mapping[str, Any] = interaction.data or {}
        custom_id = str(data.get("custom_id", ""))
        form_for = form_poll(custom_id)
        if form_for is not None:  # a modal must be its first answer
            await self.reasons.pressed(interaction, form_for)
            return
        service = self.service
        # The label goes into log lines: never the custom_id, which names the option a member chose.
        await self.answer(interaction, lambda actor: service.press(actor, custom_id), "button press")

    async def _form_submitted(self, interaction: discord.Interaction) -> None:
        """A form (modal) sent back: run its command with what was typed, like the typed options."""
        if await self.reasons.submitted(interaction):
            return
        found = forms.submitted(interaction.data)
        if found is None:
            await self.send_text(interaction, t("discord.form.gone"))
            return
        command, values = found
        router = self.router
        await self.answer(interaction, lambda actor: router.execute(actor, command.name, values),
                          f"form {command.name}")

    def actor(self, interaction: discord.Interaction) -> Actor | None:
        if interaction.guild_id is None or interaction.channel_id is None:
            return None
        perms = interaction.permissions
        member = interaction.user
        # Role ids for the facilitator rule (core.roles); a User (no guild) has none.
        roles = frozenset(str(r.id) for r in member.roles) if isinstance(member, discord.Member) else frozenset()
        return Actor(
            space_id=str(interaction.guild_id),
            channel_id=str(interaction.channel_id),
            member_id=str(interaction.user.id),
            # default_permissions only hides the command; a server can override it, so check here.
            is_admin=perms.manage_guild or perms.administrator,
            platform=PLATFORM,
            can_view=self.can_view(interaction),
            roles=roles,
        )

    @staticmethod
    def can_view(interaction: discord.Interaction) -> ChannelCheck:
        """Whether the interacting member may see another channel of the server: View Channel there,
        worked out by discord.py from the cached guild (roles, channels and overwrites arrive with
        the guilds intent) and the member's roles in the interaction. No cache, no answer: False."""
        guild = interaction.guild
        member = interaction.user

        async def check(channel_id: str) -> bool:
            if guild is None or not isinstance(member, discord.Member) or not channel_id.isdigit():
                return False
            channel = guild.get_channel_or_thread(int(channel_id))
            if channel is None or isinstance(channel, discord.CategoryChannel | discord.ForumChannel):
                return False
            if isinstance(channel, discord.Thread) and channel.is_private():
                return False  # membership of a private thread is not in the cache
            return channel.permissions_for(member).view_channel

        return check

    async def answer(self, interaction: discord.Interaction, work: Work, label: str) -> None:
        """Run one core call for an interaction and deliver its Reply; never leave it unanswered.

        Log lines name the server and channel only: a member id next to a button press or its
        outcome would tie the member to a vote."""
        guild, channel = interaction.guild_id, interaction.channel_id
        try:
            actor = self.actor(interaction)
            if actor is None:
                await self.send_text(interaction, OUTSIDE_SERVER)
                return
            reply = await self._in_time(interaction, work(actor))
        except Exception:
            log.exception("%s failed (guild %s, channel %s)", label, guild, channel)
            await self.send_text(interaction, SOMETHING_BROKE)
            return
        try:
            await self.deliver(interaction, reply)
        except discord.HTTPException as exc:
            # The work is done (a vote is counted): answer with its plain text if Discord still
            # takes an answer, rather than claiming that something broke.
            log.warning("%s: the answer was not delivered (guild %s, channel %s): %s", label, guild, channel,
                        http_error(exc))
            await self.send_text(interaction, reply.text or SOMETHING_BROKE)
        except Exception:
            log.exception("%s: delivering the answer failed (guild %s, channel %s)", label, guild, channel)
            await self.send_text(interaction, SOMETHING_BROKE)

    async def _in_time(self, interaction: discord.Interaction, call: Awaitable[Reply]) -> Reply:
        """Await the core call; if it outlasts DEFER_AFTER, defer meanwhile so Discord keeps the token.

        A timer rather than a task around the call: a vote is on the hot path, and the usual case (the
        core answers in a millisecond or two) should cost no extra loop iterations."""
        deferring: list[asyncio.Task[Any]] = []

        def defer() -> None:
            if not interaction.response.is_done():
                deferring.append(asyncio.create_task(interaction.response.defer(ephemeral=True, thinking=True)))

        timer = asyncio.get_running_loop().call_later(DEFER_AFTER, defer)
        try:
            reply = await call
        finally:
            timer.cancel()
            if deferring:  # the answer must follow the defer, never race it
                await deferring[0]
        return reply

    async def deliver(self, interaction: discord.Interaction, reply: Reply) -> None:
        if reply.post is not None:
            if not await self._publish(interaction, reply):
                return
            reply = replace(reply, post=None)
        kwargs = self.rendered.kwargs(reply)
        if reply.attachment is not None:
            kwargs["file"] = discord.File(io.BytesIO(reply.attachment.content), filename=reply.attachment.filename)
        kwargs = with_chart(kwargs, reply.card)
        try:
            await self._send(interaction, kwargs, ephemeral=reply.ephemeral)
        finally:
            # The change is made whether or not the member saw the answer: the poll shows it anyway.
            for poll_id in reply.refresh_polls:
                self.refresher.request(poll_id)
        if reply.announce:
            await self._announce(interaction, reply.announce)

    async def _publish(self, interaction: discord.Interaction, reply: Reply) -> bool:
        """Post the new poll through the service, which abandons it if Discord refuses the post."""
        assert reply.post is not None
        # Posting is a second REST call that may wait out a rate limit: answer first.
        if not interaction.response.is_done():
            await interaction.response.defer(ephemeral=True, thinking=True)
        channel, guild = str(interaction.channel_id), str(interaction.guild_id)

        async def send(card: Card) -> str:
            return await self.port.send_poll(channel, guild, card)

        try:
            await self.service.publish(reply.post, send)
        except discord.Forbidden as exc:
            log.warning("no permission to post poll #%d (guild %s, channel %s): %s", reply.post.poll_id, guild,
                        channel, http_error(exc))
            await self.send_text(interaction, CANNOT_POST)
            return False
        except discord.HTTPException as exc:
            log.warning("posting poll #%d failed (guild %s, channel %s): %s", reply.post.poll_id, guild, channel,
                        http_error(exc))
            await self.send_text(interaction, POST_FAILED)
            return False
        return True

    async def _announce(self, interaction: discord.Interaction, text: str) -> None:
        """Say it publicly in the channel. A followup rides on the interaction, so it needs no
        channel permission; the answer already sent made the interaction ready for it."""
        try:
            await interaction.followup.send(content=embeds.content(text), ephemeral=False,
                                            allowed_mentions=embeds.NO_MENTIONS)
        except discord.HTTPException as exc:
            log.warning("announcing in guild %s, channel %s failed: %s", interaction.guild_id,
                        interaction.channel_id, http_error(exc))

    async def _send(self, interaction: discord.Interaction, kwargs: dict[str, Any], ephemeral: bool = True) -> None:
        if interaction.response.is_done():
            await interaction.followup.send(**kwargs, ephemeral=ephemeral)
        else:
            await interaction.response.send_message(**kwargs, ephemeral=ephemeral)

    async def send_text(self, interaction: discord.Interaction, text: str) -> None:
        """A short private answer; used on failure paths, so it must not raise."""
        try:
            await self._send(interaction, {"content": embeds.content(text),
                                           "allowed_mentions": embeds.NO_MENTIONS})
        except discord.HTTPException as exc:
            log.warning("could not answer an interaction (guild %s, channel %s): %s", interaction.guild_id,
                        interaction.channel_id, http_error(exc))

    async def _refresh(self, poll_id: int) -> None:
        poll = await self.service.poll(poll_id)
        if poll is None or poll.platform != PLATFORM:
            return
        await self.port.edit_poll(poll.message_ref, await self.service.poll_card(poll_id))


class ShardedCounterpointClient(CounterpointClient, discord.AutoShardedClient):
    """The same bot on some of the gateway's shards (DISCORD_SHARD_IDS of DISCORD_SHARD_COUNT).

    AutoShardedClient rather than Client(shard_id=...): one process can run several shards, each its own
    gateway connection, with one set of handlers. Interactions arrive on the shard of their guild; all
    state lives in the database, so any process can answer any guild's interactions and polls.
    """
