"""Charts on Slack: uploaded with files_upload_v2 and alt text; outcomes into the poll's thread, requests by DM.

A chart is extra to a message that already says everything in words, so a refused upload is logged
and the words stand: the scheduler must not retry (and so repeat) an outcome that was posted.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace

from slack_sdk.web.async_client import AsyncWebClient

from bots.slack.errors import slack_error
from core.catalogue import t
from core.render import Attachment, Reply
from core.text import clip

log = logging.getLogger(__name__)
ALT_MAX = 1000  # files.getUploadURLExternal's alt_txt


async def upload_chart(client: AsyncWebClient, channel: str, image: Attachment, thread_ts: str | None) -> bool:
    """Share the chart in `channel` (in the thread when `thread_ts` is given); False if Slack refused."""
    try:
        await client.files_upload_v2(channel=channel, thread_ts=thread_ts, content=image.content,
                                     filename=image.filename, title=image.filename,
                                     alt_txt=clip(image.alt_text, ALT_MAX) or None)
    except Exception as exc:
        log.warning("uploading %s failed: %s", image.filename, slack_error(exc))
        return False
    return True


async def chart_by_dm(reply: Reply, send: Callable[[Attachment], Awaitable[str | None]]) -> Reply:
    """A private answer cannot carry a file: the chart goes to the member's DM, the answer says so."""
    assert reply.card is not None and reply.card.image is not None
    image = reply.card.image
    error = await send(image)
    note = t("charts.slack.sent", filename=image.filename) if error is None else t("charts.slack.refused", error=error)
    return replace(reply, card=replace(reply.card, image=None), text=" ".join(p for p in (reply.text, note) if p))
