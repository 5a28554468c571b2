"""The Slack adapter: Bolt listeners that turn Slack payloads into core calls and Replies into Block Kit.

Every listener acks first and hands the rest to a background task, so Slack hears back within its
3 seconds whatever the database or the Web API are doing. `SlackAdapter.drain()` waits for that work
(shutdown, tests). No voting, privacy or scheduling rule lives here: the core decides, we deliver.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bots.slack import blocks
from core import presenter
from core.commands import CommandRouter
from core.models import Poll
from core.render import Attachment, Card, PollPost, Reply
from core.scheduler.commands import ScheduleCommands
from core.service import Actor, DebateService, UserError
from core.settings import Settings
from core.throttle import Coalescer

log = logging.getLogger(__name__)

PLATFORM = "slack"
DEFAULT_API_URL = "https://slack.com/api/"
HISTORY_PAGES = 3  # how far back (x100 messages) the scheduler's crash adoption looks for a poll message
ADMIN_CACHE_SECONDS = 300.0
ADMIN_CACHE_MAX = 5000


def retry_handlers() -> list[AsyncRetryHandler]:
    """Retry dropped connections, and 429s after Retry-After (slack_sdk alone never retries a 429)."""
    return [AsyncConnectionErrorRetryHandler(max_retry_count=2), AsyncRateLimitErrorRetryHandler(max_retry_count=3)]


def make_client(settings: Settings) -> AsyncWebClient:
    """A Web API client that waits out 429s (honouring Retry-After) and retries dropped connections."""
    base_url = settings.slack_api_url or DEFAULT_API_URL
    if not base_url.endswith("/"):  # slack_sdk joins method names onto the base URL
        base_url += "/"
    return AsyncWebClient(
        token=settings.slack_bot_token,
        base_url=base_url,
        retry_handlers=retry_handlers(),
    )


def slack_error(exc: Exception) -> str:
    """Slack's own error code when there is one (what an admin can search for), else the exception."""
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error") or f"HTTP {exc.response.status_code}")
    return f"{type(exc).__name__}: {exc}"


class AdminDirectory:
    """Workspace admins and owners (users.info, cached) plus the ids in SLACK_ADMIN_USERS."""

    def __init__(
        self,
        client: AsyncWebClient,
        extra: frozenset[str],
        ttl: float = ADMIN_CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.extra = extra
        self.ttl = ttl
        self.clock = clock
        self._cache: dict[tuple[str, str], tuple[float, bool]] = {}

    async def is_admin(self, team_id: str, user_id: str) -> bool:
        if user_id in self.extra:
            return True
        now = self.clock()
        hit = self._cache.get((team_id, user_id))
        if hit is not None and hit[0] > now:
            return hit[1]
        try:
            user = (await self.client.users_info(user=user_id))["user"]
        except SlackApiError as exc:
            # Refusing is the safe answer; not caching lets the next command try again.
            log.warning("users.info for %s failed (%s); treating as a member", user_id, slack_error(exc))
            return False
        admin = not user.get("deleted") and any(user.get(k) for k in ("is_admin", "is_owner", "is_primary_owner"))
        if len(self._cache) >= ADMIN_CACHE_MAX:
            self._cache = {k: v for k, v in self._cache.items() if v[0] > now}
        self._cache[(team_id, user_id)] = (now + self.ttl, admin)
        return admin


class SlackAdapter:
    """Owns the Bolt app, the Web API client, the admin lookup and the poll-refresh coalescer.

    It is also the scheduler's port for Slack (core.scheduler.port.PlatformPort).
    """

    platform = PLATFORM

    def __init__(
        self,
        service: DebateService,
        settings: Settings,
        client: AsyncWebClient,
        *,
        refresh_interval: float = 2.0,
    ) -> None:
        self.service = service
        self.router = CommandRouter(service, ScheduleCommands(service).handle)
        self.client = client
        self.admins = AdminDirectory(client, settings.slack_admin_users)
        self.refresher: Coalescer[int] = Coalescer(self._refresh, interval=refresh_interval)
        self._tasks: set[asyncio.Task[None]] = set()
        self._http: aiohttp.ClientSession | None = None
        secret = settings.slack_signing_secret or ""
        # process_before_response: our listeners return right after ack() (work goes to our own
        # tasks), so Bolt answers at once instead of polling every 10 ms for the ack.
        self.app = AsyncApp(
            client=client,
            signing_secret=secret,
            request_verification_enabled=bool(secret),
            process_before_response=True,
        )
        # Bolt tries listeners in order, building their arguments each time: clicks (the hot path) first.
        self.app.action(re.compile(".*"))(self.on_action)  # one door for every button: service.press judges
        self.app.command(service.command)(self.on_command)
        self.app.event("app_home_opened")(self.on_home_opened)

    # -- background work ------------------------------------------------------------------------

    def spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(self._guard(work, name), name=name)
        self._tasks.add(task)  # a strong reference, or the task may be garbage-collected mid-flight
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _guard(work: Awaitable[None], name: str) -> None:
        try:
            # Let the ack's HTTP answer (or socket frame) go out before this work takes the loop.
            await asyncio.sleep(0)
            await work
        except Exception:
            log.exception("%s failed", name)

    async def drain(self) -> None:
        """Wait until every acked request's work and every requested refresh has finished."""
        while True:
            if self._tasks:
                await asyncio.gather(*list(self._tasks), return_exceptions=True)
            await self.refresher.drain()  # refreshes never spawn request work, so one pass settles it
            if not self._tasks:
                return

    async def close(self) -> None:
        await self.drain()
        if self._http is not None:
            await self._http.close()
            self._http = None

    def _session(self) -> aiohttp.ClientSession:
        # One keep-alive session for response_url answers: Bolt's respond() opens a new connection
        # (a TLS handshake, against Slack) for every single vote.
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession()
        return self._http

    # -- listeners ------------------------------------------------------------------------------

    async def on_command(self, ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        self.spawn(self._command(command, respond.response_url), "slack-command")

    async def on_action(
        self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], context: AsyncBoltContext,
        respond: AsyncRespond,
    ) -> None:
        await ack()
        self.spawn(self._press(body, action, context, respond.response_url), "slack-press")

    async def on_home_opened(self, event: dict[str, Any], context: AsyncBoltContext) -> None:
        if event.get("tab", "home") == "home" and context.team_id and event.get("user"):
            self.spawn(self.publish_home(context.team_id, str(event["user"])), "slack-home")

    # -- use cases ------------------------------------------------------------------------------

    async def _command(self, command: dict[str, Any], response_url: str | None) -> None:
        team, channel, user = (str(command.get(k) or "") for k in ("team_id", "channel_id", "user_id"))
        actor = Actor(team, channel, user, is_admin=await self.admins.is_admin(team, user), platform=PLATFORM)
        reply = await self.router.handle(actor, str(command.get("text") or ""))
        await self.deliver(reply, actor, response_url)

    async def _press(
        self, body: dict[str, Any], action: dict[str, Any], context: AsyncBoltContext, response_url: str | None
    ) -> None:
        channel = context.channel_id or (body.get("container") or {}).get("channel_id") or ""
        # Buttons only lead to member use cases (vote, retract, read, forget), so no users.info
        # round trip per vote; look admin rights up here if an admin button is ever added.
        actor = Actor(context.team_id or "", channel, context.user_id or "", platform=PLATFORM)
        reply = await self.service.press(actor, str(action.get("value") or ""))
        container = body.get("container") or {}
        # A receipt or confirmation (ephemeral, not a poll card) is replaced by its outcome;
        # a press on the channel's poll message gets a fresh private answer instead.
        replace = bool(container.get("is_ephemeral")) and not str(action.get("block_id") or "").startswith(
            blocks.POLL_ACTIONS_PREFIX)
        await self.deliver(reply, actor, response_url, replace=replace)

    async def deliver(self, reply: Reply, actor: Actor, response_url: str | None, replace: bool = False) -> None:
        """Carry out a Reply: post the poll, send the file, answer privately, schedule refreshes."""
        for poll_id in reply.refresh_polls:
            self.refresher.request(poll_id)
        if reply.post is not None:
            error = await self._post_new_poll(actor.channel_id, reply.post)
            if error is not None:
                reply = Reply(text=f"I could not post poll #{reply.post.poll_id} here: Slack said `{error}`."
                                   + _hint(error), error=True)
        if reply.attachment is not None:
            error = await self.send_file(actor.member_id, reply.attachment, reply.text)
            reply = (Reply(text=f"I sent you `{reply.attachment.filename}` in a direct message. {reply.text}")
                     if error is None else
                     Reply(text=f"I could not send you the file privately: Slack said `{error}`.", error=True))
        if reply.text or reply.card is not None:
            await self.answer(reply, actor, response_url, replace)

    async def answer(self, reply: Reply, actor: Actor, response_url: str | None, replace: bool) -> None:
        """A private answer: through response_url when Slack gave one, else chat.postEphemeral."""
        text, body = blocks.reply_fallback(reply), blocks.reply_blocks(reply)
        try:
            if response_url:
                webhook = AsyncWebhookClient(response_url, session=self._session(), retry_handlers=retry_handlers())
                sent = await webhook.send(text=text, blocks=body, response_type="ephemeral", replace_original=replace)
                if sent.status_code != 200:
                    log.warning("response_url answered %s: %s", sent.status_code, sent.body)
            elif actor.channel_id:
                await self.client.chat_postEphemeral(channel=actor.channel_id, user=actor.member_id,
                                                     text=text, blocks=body)
        except Exception as exc:  # the member sees nothing; the log is all an operator gets
            log.error("answering %s in %s failed: %s", actor.member_id, actor.channel_id, slack_error(exc))

    async def _send_poll(self, channel: str, poll_id: int, card: Card) -> str:
        sent = await self.client.chat_postMessage(
            channel=channel, text=blocks.card_fallback(card), blocks=blocks.card_blocks(card),
            metadata=blocks.poll_metadata(poll_id), unfurl_links=False, unfurl_media=False,
        )
        return f"{sent['channel']}:{sent['ts']}"

    async def _post_new_poll(self, channel: str, post: PollPost) -> str | None:
        """Post a poll message and record where it is; returns Slack's error when it finally failed."""
        try:
            ref = await self._send_poll(channel, post.poll_id, post.card)
        except Exception as exc:
            error = slack_error(exc)
            log.error("posting poll #%s in %s failed: %s", post.poll_id, channel, error)
            return error
        await self.service.attach_message(post.poll_id, ref)
        # Votes that landed between the post and attach_message found no message to refresh.
        if await self.service.poll_card(post.poll_id) != post.card:
            self.refresher.request(post.poll_id)
        return None

    async def send_file(self, user_id: str, attachment: Attachment, comment: str) -> str | None:
        """Upload into the member's DM with the bot: exports never land in a shared channel."""
        try:
            opened = await self.client.conversations_open(users=user_id)
            await self.client.files_upload_v2(
                channel=opened["channel"]["id"], content=attachment.content, filename=attachment.filename,
                title=attachment.filename, initial_comment=comment or None,
            )
        except Exception as exc:
            error = slack_error(exc)
            log.error("sending %s to %s failed: %s", attachment.filename, user_id, error)
            return error
        return None

    async def _refresh(self, poll_id: int) -> None:
        """Coalescer flush: re-render the poll from the store as it is now and edit its message."""
        poll = await self.service.store.get_poll(poll_id)
        if poll is None or not poll.message_ref or ":" not in poll.message_ref:
            return
        channel, ts = poll.message_ref.split(":", 1)
        try:
            card = await self.service.poll_card(poll_id)
            await self.client.chat_update(channel=channel, ts=ts, text=blocks.card_fallback(card),
                                          blocks=blocks.card_blocks(card), metadata=blocks.poll_metadata(poll_id))
        except UserError as exc:
            log.warning("poll #%s cannot be rendered: %s", poll_id, exc)
        except SlackApiError as exc:
            log.error("refreshing poll #%s (%s) failed: %s", poll_id, poll.message_ref, slack_error(exc))

    async def publish_home(self, team_id: str, user_id: str) -> None:
        home = await self.service.home(Actor(team_id, "", user_id, platform=PLATFORM))
        view = blocks.home_view(home.stance, home.today, home.today_channel, home.latest)
        try:
            await self.client.views_publish(user_id=user_id, view=view)
        except SlackApiError as exc:
            log.error("publishing Home for %s failed: %s", user_id, slack_error(exc))

    # -- the scheduler's port: errors propagate, so the scheduler retries on a later tick ---------

    async def post_poll(self, poll: Poll, card: Card) -> str:
        return await self._send_poll(poll.channel_id, poll.id, card)

    async def find_poll_message(self, poll: Poll) -> str | None:
        """A post that landed before a crash: found by its metadata (or header marker) in recent history."""
        marker = presenter.poll_marker(poll.id)
        page_args: dict[str, Any] = {"channel": poll.channel_id, "include_all_metadata": True, "limit": 100}
        try:
            for _ in range(HISTORY_PAGES):
                page = await self.client.conversations_history(**page_args)
                messages = page.get("messages") or []
                for message in messages:
                    if _is_poll_message(message, poll.id, marker):
                        return f"{poll.channel_id}:{message['ts']}"
                if not page.get("has_more") or not messages:
                    return None
                page_args["latest"] = messages[-1]["ts"]
        except SlackApiError as exc:  # cannot look: posting again is better than never posting
            log.warning("looking for poll #%s in %s failed: %s", poll.id, poll.channel_id, slack_error(exc))
        return None

    async def update_poll(self, poll: Poll, card: Card) -> None:
        if not poll.message_ref or ":" not in poll.message_ref:
            return
        channel, ts = poll.message_ref.split(":", 1)
        await self.client.chat_update(channel=channel, ts=ts, text=blocks.card_fallback(card),
                                      blocks=blocks.card_blocks(card), metadata=blocks.poll_metadata(poll.id))
        # A vote refresh already in flight could land after this edit with the older state; a
        # coalesced refresh runs after it and re-reads the store, so the closed state wins.
        self.refresher.request(poll.id)

    async def post_outcome(self, poll: Poll, card: Card) -> None:
        channel, _, ts = (poll.message_ref or f"{poll.channel_id}:").partition(":")
        await self.client.chat_postMessage(channel=channel, thread_ts=ts or None, text=blocks.card_fallback(card),
                                           blocks=blocks.card_blocks(card), unfurl_links=False, unfurl_media=False)


def _is_poll_message(message: dict[str, Any], poll_id: int, marker: str) -> bool:
    metadata = message.get("metadata") or {}
    if metadata.get("event_type") == blocks.POLL_EVENT_TYPE:
        return str((metadata.get("event_payload") or {}).get("poll_id")) == str(poll_id)
    return any(block.get("block_id") == marker for block in message.get("blocks") or [])


def _hint(error: str) -> str:
    hints = {
        "not_in_channel": " Invite me first with `/invite @Counterpoint`, then try again.",
        "channel_not_found": " I cannot see this channel; invite me to it, or use a channel I am in.",
        "ratelimited": " Slack is rate-limiting me; try again in a minute.",
    }
    return hints.get(error, " The details are in the bot's log.")


def build_slack_app(
    service: DebateService,
    settings: Settings,
    client: AsyncWebClient | None = None,
    *,
    refresh_interval: float = 2.0,
) -> SlackAdapter:
    """The adapter with its Bolt app (`.app`); `client` defaults to one built from settings."""
    return SlackAdapter(service, settings, client or make_client(settings), refresh_interval=refresh_interval)
