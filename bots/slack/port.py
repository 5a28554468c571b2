"""The scheduler's port on Slack (core.scheduler.port.PlatformPort): post, find, update, report.

Errors propagate so the scheduler retries on a later tick, except where looking found nothing to
look in (then "not posted yet" is the true answer). Messages are recognised by their metadata and,
as a fallback, by the marker the header block carries as its block_id.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bots.slack import blocks
from bots.slack.charts import upload_chart
from bots.slack.errors import slack_error
from core import presenter
from core.models import Poll
from core.render import Card
from core.throttle import Coalescer

log = logging.getLogger(__name__)

HISTORY_PAGES = 3  # how far back (x100 messages) the scheduler's crash adoption looks for a poll message
THREAD_PAGES = 5  # how far into a poll's thread (x200 replies) to look for its outcome
GONE = frozenset({"thread_not_found", "message_not_found", "channel_not_found"})


def split_ref(ref: str | None) -> tuple[str, str] | None:
    if not ref or ":" not in ref:
        return None
    channel, ts = ref.split(":", 1)
    return channel, ts


def is_marked(message: dict[str, Any], event_type: str, poll_id: int, marker: str) -> bool:
    """Whether a message is ours for this poll: its metadata, else the header's block_id."""
    metadata = message.get("metadata") or {}
    if metadata.get("event_type") == event_type:
        return str((metadata.get("event_payload") or {}).get("poll_id")) == str(poll_id)
    return any(block.get("block_id") == marker for block in message.get("blocks") or [])


class SlackPort:
    """Mixed into SlackAdapter, which supplies the client and the refresh coalescer."""

    platform = "slack"
    client: AsyncWebClient
    refresher: Coalescer[int]

    async def _send_poll(self, channel: str, poll_id: int, card: Card) -> str:
        sent = await self.client.chat_postMessage(
            channel=channel, text=blocks.card_fallback(card), blocks=blocks.card_blocks(card),
            metadata=blocks.poll_metadata(poll_id), unfurl_links=False, unfurl_media=False,
        )
        return f"{sent['channel']}:{sent['ts']}"

    async def post_poll(self, poll: Poll, card: Card) -> str:
        return await self._send_poll(poll.channel_id, poll.id, card)

    async def find_poll_message(self, poll: Poll) -> str | None:
        """A post that landed before a crash: found by its metadata (or header marker) in recent history."""
        try:
            return await self._scan_history(poll.channel_id, blocks.POLL_EVENT_TYPE, poll.id,
                                            presenter.poll_marker(poll.id))
        except SlackApiError as exc:  # cannot look: posting again is better than never posting
            log.warning("looking for poll #%s failed: %s", poll.id, slack_error(exc))
        return None

    async def _scan_history(self, channel: str, event_type: str, poll_id: int, marker: str) -> str | None:
        page_args: dict[str, Any] = {"channel": channel, "include_all_metadata": True, "limit": 100}
        for _ in range(HISTORY_PAGES):
            page = await self.client.conversations_history(**page_args)
            messages = page.get("messages") or []
            for message in messages:
                if is_marked(message, event_type, poll_id, marker):
                    return f"{channel}:{message['ts']}"
            if not page.get("has_more") or not messages:
                return None
            page_args["latest"] = messages[-1]["ts"]
        return None

    async def update_poll(self, poll: Poll, card: Card) -> None:
        # Through the refresh turns like every other edit (at most one per poll per interval across all
        # processes); the refresh re-reads the store, so the closed state lands and nothing older after it.
        await self.refresher.settle(poll.id)

    async def post_outcome(self, poll: Poll, card: Card) -> None:
        channel, _, ts = (poll.message_ref or f"{poll.channel_id}:").partition(":")
        await self.client.chat_postMessage(channel=channel, thread_ts=ts or None, text=blocks.card_fallback(card),
                                           blocks=blocks.card_blocks(card), metadata=blocks.outcome_metadata(poll.id),
                                           unfurl_links=False, unfurl_media=False)
        if card.image is not None:
            await upload_chart(self.client, channel, card.image, ts or None)

    async def find_outcome_message(self, poll: Poll) -> str | None:
        """An outcome posted before a crash: a bot reply in the poll's thread carrying the outcome marker.

        None when there is none, or when the poll message (so its thread) is gone; other errors
        propagate, so the scheduler looks again later instead of posting a second outcome.
        """
        marker = presenter.outcome_marker(poll.id)
        where = split_ref(poll.message_ref)
        try:
            if where is None:  # post_outcome then posts at the top of the channel
                return await self._scan_history(poll.channel_id, blocks.OUTCOME_EVENT_TYPE, poll.id, marker)
            channel, ts = where
            args: dict[str, Any] = {"channel": channel, "ts": ts, "include_all_metadata": True, "limit": 200}
            for _ in range(THREAD_PAGES):
                page = await self.client.conversations_replies(**args)
                for message in page.get("messages") or []:
                    if (message.get("ts") != ts and message.get("bot_id")
                            and is_marked(message, blocks.OUTCOME_EVENT_TYPE, poll.id, marker)):
                        return f"{channel}:{message['ts']}"
                cursor = (page.get("response_metadata") or {}).get("next_cursor")
                if not page.get("has_more") or not cursor:
                    return None
                args["cursor"] = cursor
        except SlackApiError as exc:
            if exc.response.get("error") in GONE:
                return None
            raise
        return None
