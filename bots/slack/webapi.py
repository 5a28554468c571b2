"""Talking to Slack's Web API: the client and its retries, Slack's escaping, Slack's errors in the member's words."""

from __future__ import annotations

from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from core.catalogue import t
from core.settings import Settings

DEFAULT_API_URL = "https://slack.com/api/"
HINTED = ("not_in_channel", "channel_not_found", "ratelimited")  # errors with a catalogue hint of their own


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


def unescape(text: str) -> str:
    """Slack sends &, < and > in command text as entities (its own <@U1|ann> mentions stay as they are)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def slack_said(error: str) -> str:
    """Slack's error code for the member, with what to do about it."""
    hint = f"slack.hint.{error}" if error in HINTED else "slack.hint.other"
    return f"{t('slack.slack_said', error=error)} {t(hint)}"
