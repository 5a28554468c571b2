"""The Slack adapter: Bolt listeners that turn Slack payloads into core calls and Replies into Block Kit.

Every listener acks first and hands the rest to a background task, so Slack hears back within its
3 seconds whatever the database or the Web API are doing. Because the ack already told Slack "fine",
any failure of that work is answered to the member privately (response_url): nothing fails silently.
`SlackAdapter.drain()` waits for the work (tests); `close()` waits a bounded time, then cancels.
No voting, privacy or scheduling rule lives here: the core decides, we deliver.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Coroutine
from dataclasses import replace
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bots.slack import blocks, forms, reasons
from bots.slack.access import AdminDirectory, ChannelAccess
from bots.slack.charts import chart_by_dm
from bots.slack.errors import frames, slack_error
from bots.slack.port import SlackPort, split_ref
from bots.slack.webapi import make_client, retry_handlers, slack_said, unescape
from core.catalogue import t
from core.commands import CommandRouter
from core.render import Attachment, PollPost, Reply
from core.scheduler.commands import ScheduleCommands
from core.service import Actor, DebateService, UserError
from core.settings import Settings
from core.throttle import Coalescer

__all__ = ["AdminDirectory", "ChannelAccess", "SlackAdapter", "build_slack_app", "make_client", "slack_error"]

log = logging.getLogger(__name__)

PLATFORM = "slack"
CLOSE_DRAIN_SECONDS = 5.0  # how long shutdown lets acked work finish before cancelling it
NOTIFY_SECONDS = 2.0  # how long a last private answer may take during shutdown

COMMAND_FAILED = t("slack.failed.command")
PRESS_FAILED = t("slack.failed.press")
RESTARTING = t("slack.failed.restarting")
# Where a member hears about acked work privately: a response_url, or (channel, member) for an ephemeral
# message when Slack gave none (a modal's submission).
Private = str | tuple[str, str] | None


class SlackAdapter(SlackPort):
    """Owns the Bolt app, the Web API client, the access lookups and the poll-refresh coalescer.

    It is also the scheduler's port for Slack (core.scheduler.port.PlatformPort, in SlackPort).
    """

    platform = PLATFORM

    def __init__(
        self,
        service: DebateService,
        settings: Settings,
        client: AsyncWebClient,
        *,
        refresh_interval: float = 2.0,
        close_timeout: float = CLOSE_DRAIN_SECONDS,
    ) -> None:
        self.service = service
        self.router = CommandRouter(service, ScheduleCommands(service).handle)
        self.client = client
        self.admins = AdminDirectory(client, settings.slack_admin_users)
        self.access = ChannelAccess(client)
        # Turns kept in the database: replicas behind one balancer share the edit budget of each poll.
        turns = service.refresh_turns(PLATFORM, refresh_interval)
        self.refresher: Coalescer[int] = Coalescer(self._refresh, interval=refresh_interval, turns=turns)
        self.close_timeout = close_timeout
        self._tasks: set[asyncio.Task[None]] = set()
        self._refreshing: set[asyncio.Task[Any]] = set()
        self._closing = False
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
        self.app.view(forms.ASK_CALLBACK)(self.on_ask_submitted)
        self.reasons = reasons.SlackReasons(self)
        self.app.view(reasons.CALLBACK)(self.reasons.on_submitted)
        self.app.event("app_home_opened")(self.on_home_opened)

    # -- background work ------------------------------------------------------------------------

    def spawn(
        self, work: Coroutine[Any, Any, None], name: str, private: Private = None,
        failure_text: str = COMMAND_FAILED,
    ) -> None:
        """Run acked work; if it fails or is cancelled, the member hears so privately (`private`)."""
        task = asyncio.create_task(self._guard(work, name, private, failure_text), name=name)
        self._tasks.add(task)  # a strong reference, or the task may be garbage-collected mid-flight
        task.add_done_callback(self._tasks.discard)

    async def _guard(
        self, work: Coroutine[Any, Any, None], name: str, private: Private, failure_text: str
    ) -> None:
        try:
            # Let the ack's HTTP answer (or socket frame) go out before this work takes the loop.
            await asyncio.sleep(0)
            await work
        except asyncio.CancelledError:
            work.close()  # never started when cancelled during the sleep; a no-op otherwise
            await self._tell(private, RESTARTING)
            raise
        except Exception as exc:
            # The traceback's frames without the exception text: texts can carry URLs or payloads.
            log.error("%s failed: %s\n%s", name, slack_error(exc), frames(exc))
            await self._tell(private, failure_text)

    async def _tell(self, private: Private, text: str) -> None:
        """A last private word to the member, within NOTIFY_SECONDS; failing quietly."""
        if not private:
            return
        try:
            async with asyncio.timeout(NOTIFY_SECONDS):
                if isinstance(private, str):
                    await self._webhook(private, Reply(text=text, error=True), replace=False)
                else:
                    await self._ephemeral(private[0], private[1], Reply(text=text, error=True))
        except Exception as exc:
            log.warning("a failure notice could not be delivered: %s", slack_error(exc))

    async def drain(self) -> None:
        """Wait until every acked request's work and every requested refresh has finished."""
        while True:
            if self._tasks:
                await asyncio.gather(*list(self._tasks), return_exceptions=True)
            await self.refresher.drain()  # refreshes never spawn request work, so one pass settles it
            if not self._tasks:
                return

    async def close(self) -> None:
        """Finish what is in flight for up to `close_timeout`, then cancel the rest (telling its members)."""
        drained = asyncio.ensure_future(self.drain())
        done, _ = await asyncio.wait({drained}, timeout=self.close_timeout)
        if not done:
            self._closing = True  # refreshes still queued skip their edit from now on
            log.warning("shutdown: %d request(s) and %d refresh(es) still running after %.0fs; cancelling them",
                        len(self._tasks), len(self._refreshing), self.close_timeout)
            for task in [*self._tasks, *self._refreshing]:
                task.cancel()
            done, _ = await asyncio.wait({drained}, timeout=NOTIFY_SECONDS + 1)
            if not done:  # cancelling the drain cancels whatever it is still gathering
                drained.cancel()
                await asyncio.gather(drained, return_exceptions=True)
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
        form = forms.form_for(str(command.get("text") or ""))
        trigger = str(command.get("trigger_id") or "")
        if form is not None and trigger:  # the trigger expires 3 s after the command: open it first
            self.spawn(self._open_form(form, trigger, str(command.get("channel_id") or ""), respond.response_url),
                       "slack-form", respond.response_url)
            return
        self.spawn(self._command(command, respond.response_url), "slack-command", respond.response_url)

    async def on_ask_submitted(
        self, ack: AsyncAck, view: dict[str, Any], context: AsyncBoltContext,
    ) -> None:
        channel = forms.channel_of(view)
        values = forms.ask_values(view)
        errors = forms.quick_errors(values) if channel else {forms.QUESTION: t("slack.ask.bad_form")}
        if errors:  # shown beside the fields; the modal stays open with what was typed
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        team, user = context.team_id or "", context.user_id or ""
        self.spawn(self._submit_ask(team, str(channel), user, values), "slack-ask", (str(channel), user))

    async def on_action(
        self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], context: AsyncBoltContext,
        respond: AsyncRespond,
    ) -> None:
        await ack()
        if not self.reasons.opens_form(body, action, context, respond.response_url):  # its trigger expires first
            self.spawn(self._press(body, action, context, respond.response_url), "slack-press",
                       respond.response_url, PRESS_FAILED)

    async def on_home_opened(self, event: dict[str, Any], context: AsyncBoltContext) -> None:
        if event.get("tab", "home") == "home" and context.team_id and event.get("user"):
            self.spawn(self.publish_home(context.team_id, str(event["user"])), "slack-home")

    # -- use cases ------------------------------------------------------------------------------

    def actor(self, team: str, channel: str, user: str, is_admin: bool = False) -> Actor:
        return Actor(team, channel, user, is_admin=is_admin, platform=PLATFORM,
                     can_view=self.access.checker(team, user))

    async def _command(self, command: dict[str, Any], response_url: str | None) -> None:
        team, channel, user = (str(command.get(k) or "") for k in ("team_id", "channel_id", "user_id"))
        actor = self.actor(team, channel, user, is_admin=await self.admins.is_admin(team, user))
        reply = await self.router.handle(actor, unescape(str(command.get("text") or "")))
        await self.deliver(reply, actor, response_url)

    async def _open_form(self, form: str, trigger_id: str, channel: str, response_url: str | None) -> None:
        scale = self.service.content.scale
        view = forms.FORMS[form](channel, scale[0].label, scale[-1].label)
        try:
            await self.client.views_open(trigger_id=trigger_id, view=view)
        except SlackApiError as exc:  # typically expired_trigger_id: the member types the command instead
            error = slack_error(exc)
            log.warning("opening the %s form failed: %s", form, error)
            ask = self.service.cmd(PLATFORM, "ask", question='"…"', options='"A | B"')
            await self.deliver(Reply(text=t("slack.failed.form", error=error, ask=ask), error=True),
                               self.actor("", channel, ""), response_url)

    async def _submit_ask(self, team: str, channel: str, user: str, values: dict[str, str]) -> None:
        """A submitted ask form: the same door as the typed command, answered with an ephemeral message."""
        actor = self.actor(team, channel, user, is_admin=await self.admins.is_admin(team, user))
        reply = await self.router.execute(actor, "ask", values)
        await self.deliver(reply, actor, None)

    async def _press(
        self, body: dict[str, Any], action: dict[str, Any], context: AsyncBoltContext, response_url: str | None
    ) -> None:
        channel = context.channel_id or (body.get("container") or {}).get("channel_id") or ""
        # Admin rights (a users.info round trip) only for the facilitators' buttons: never per vote.
        actor = await self.reasons.press_actor(str(action.get("value") or ""), context, channel)
        reply = await self.service.press(actor, str(action.get("value") or ""))
        container = body.get("container") or {}
        # A receipt or confirmation (ephemeral, not a poll card) is replaced by its outcome;
        # a press on the channel's poll message gets a fresh private answer instead.
        replace_original = bool(container.get("is_ephemeral")) and not str(action.get("block_id") or "").startswith(
            blocks.POLL_ACTIONS_PREFIX) and not reasons.answers_anew(str(action.get("value") or ""))
        await self.deliver(reply, actor, response_url, replace=replace_original)

    async def deliver(self, reply: Reply, actor: Actor, response_url: str | None, replace: bool = False) -> None:
        """Carry out a Reply: post the poll, announce, send the file, answer privately, schedule refreshes."""
        for poll_id in reply.refresh_polls:
            self.refresher.request(poll_id)
        if reply.post is not None:
            error = await self._publish(actor.channel_id, reply.post)
            if error is not None:
                reply = Reply(text=t("slack.post.refused", poll_id=reply.post.poll_id, error=error), error=True)
        if reply.announce:
            error = await self._announce(actor.channel_id, reply.announce)
            if error is not None:
                reply = _with_text(reply, t("slack.announce.refused", error=error))
        if reply.card is not None and reply.card.image is not None:
            reply = await chart_by_dm(reply, lambda image: self.send_file(actor.member_id, image, ""))
        if reply.attachment is not None:
            error = await self.send_file(actor.member_id, reply.attachment, reply.text)
            reply = (Reply(text=t("slack.file.sent", filename=reply.attachment.filename, text=reply.text).strip())
                     if error is None else Reply(text=t("slack.file.refused", error=error), error=True))
        if reply.text or reply.card is not None:
            await self.answer(reply, actor, response_url, replace)

    async def answer(self, reply: Reply, actor: Actor, response_url: str | None, replace: bool) -> None:
        """A private answer: through response_url when Slack gave one, else chat.postEphemeral."""
        try:
            if response_url:
                await self._webhook(response_url, reply, replace)
            elif actor.channel_id:
                await self._ephemeral(actor.channel_id, actor.member_id, reply)
        except Exception as exc:  # the member sees nothing; the log is all an operator gets
            log.error("a private answer could not be delivered: %s", slack_error(exc))

    async def _ephemeral(self, channel: str, user: str, reply: Reply) -> None:
        """Only `user` sees it, in `channel`; where Slack refuses that (the bot is not in the channel),
        in the member's direct messages with the bot instead, so no answer is lost."""
        text, body = blocks.reply_fallback(reply), blocks.reply_blocks(reply)
        try:
            await self.client.chat_postEphemeral(channel=channel, user=user, text=text, blocks=body)
        except SlackApiError as exc:
            log.warning("an ephemeral answer was refused (%s); sending it as a direct message", slack_error(exc))
            await self.client.chat_postMessage(channel=user, text=text, blocks=body, unfurl_links=False,
                                               unfurl_media=False)

    async def _webhook(self, response_url: str, reply: Reply, replace: bool) -> None:
        webhook = AsyncWebhookClient(response_url, session=self._session(), retry_handlers=retry_handlers())
        sent = await webhook.send(text=blocks.reply_fallback(reply), blocks=blocks.reply_blocks(reply),
                                  response_type="ephemeral", replace_original=replace, unfurl_links=False,
                                  unfurl_media=False)
        if sent.status_code != 200:
            log.warning("response_url answered HTTP %s: %s", sent.status_code, slack_error(Exception(sent.body)))

    async def _publish(self, channel: str, post: PollPost) -> str | None:
        """Post a new poll through the service (abandoned if Slack refuses); what went wrong, for the member."""
        try:
            await self.service.publish(post, lambda card: self._send_poll(channel, post.poll_id, card))
        except Exception as exc:
            error = slack_error(exc)
            log.error("posting poll #%s failed: %s", post.poll_id, error)
            if isinstance(exc, SlackApiError):
                return slack_said(error)
            return t("slack.post.our_side", error=error)
        try:
            # Votes that landed between the post and attach_message found no message to refresh.
            if await self.service.poll_card(post.poll_id) != post.card:
                self.refresher.request(post.poll_id)
        except Exception as exc:  # the post itself is done; the next vote refreshes it anyway
            log.warning("poll #%s could not be checked after posting: %s", post.poll_id, slack_error(exc))
        return None

    async def _announce(self, channel: str, text: str) -> str | None:
        """Say something publicly in the channel (e.g. a changed threshold); Slack's error if it could not."""
        try:
            await self.client.chat_postMessage(channel=channel, text=blocks.fit_mrkdwn(text, blocks.FALLBACK_MAX),
                                               blocks=[blocks.section(text)], unfurl_links=False, unfurl_media=False)
        except Exception as exc:
            error = slack_error(exc)
            log.error("announcing in a channel failed: %s", error)
            return slack_said(error) if isinstance(exc, SlackApiError) else t("slack.slack_said", error=error)
        return None

    async def send_file(self, user_id: str, attachment: Attachment, comment: str) -> str | None:
        """Upload into the member's DM with the bot: exports never land in a shared channel."""
        try:
            opened = await self.client.conversations_open(users=user_id)
            await self.client.files_upload_v2(
                channel=opened["channel"]["id"], content=attachment.content, filename=attachment.filename,
                title=attachment.filename, initial_comment=comment or None, alt_txt=attachment.alt_text or None,
            )
        except Exception as exc:
            error = slack_error(exc)
            log.error("sending %s by direct message failed: %s", attachment.filename, error)
            return error
        return None

    async def _refresh(self, poll_id: int) -> None:
        """Coalescer flush: re-render the poll from the store as it is now and edit its message."""
        if self._closing:
            return
        task = asyncio.current_task()
        if task is not None:  # so close() can cancel an edit stuck behind a long Retry-After
            self._refreshing.add(task)
        try:
            poll = await self.service.poll(poll_id)
            where = split_ref(poll.message_ref) if poll is not None else None
            if where is None:
                return
            card = await self.service.poll_card(poll_id)
            await self.client.chat_update(channel=where[0], ts=where[1], text=blocks.card_fallback(card),
                                          blocks=blocks.card_blocks(card), metadata=blocks.poll_metadata(poll_id))
        except UserError as exc:
            log.warning("poll #%s cannot be rendered: %s", poll_id, exc)
        except Exception as exc:  # the next vote or the close refreshes it again
            log.error("refreshing poll #%s failed: %s", poll_id, slack_error(exc))
        finally:
            self._refreshing.discard(task)  # type: ignore[arg-type]

    async def publish_home(self, team_id: str, user_id: str) -> None:
        """App Home has no channel: only polls of channels the member is in, notices only for admins."""
        actor = self.actor(team_id, "", user_id, is_admin=await self.admins.is_admin(team_id, user_id))
        home = await self.service.home(actor)
        view = blocks.home_view(home.stance, home.today, home.today_channel, home.latest,
                                home.notices)
        try:
            await self.client.views_publish(user_id=user_id, view=view)
        except SlackApiError as exc:
            log.error("publishing a Home tab failed: %s", slack_error(exc))


def _with_text(reply: Reply, extra: str) -> Reply:
    return replace(reply, text=f"{reply.text} {extra}".strip())


def build_slack_app(
    service: DebateService,
    settings: Settings,
    client: AsyncWebClient | None = None,
    **options: Any,
) -> SlackAdapter:
    """The adapter with its Bolt app (`.app`); `client` defaults to one built from settings.

    `options`: refresh_interval (seconds between edits of one poll message), close_timeout.
    """
    return SlackAdapter(service, settings, client or make_client(settings), **options)
