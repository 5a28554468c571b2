"""Describing a failure for the log or a member without leaking what it was carrying.

Exception texts from HTTP libraries can include the URL they were sending to, and a response_url
is a bearer credential for answering that member; Slack tokens can appear in client errors too.
"""

from __future__ import annotations

import re
import traceback

from slack_sdk.errors import SlackApiError

_URL = re.compile(r"\b(?:https?|wss?)://\S+", re.IGNORECASE)
_TOKEN = re.compile(r"\bx(?:ox[a-z]|app)-[A-Za-z0-9-]+", re.IGNORECASE)
_MEMBER_ID = re.compile(r"\b[UW][A-Z0-9]{5,}\b")


def redact(text: str) -> str:
    return _MEMBER_ID.sub("<member>", _TOKEN.sub("<token>", _URL.sub("<url>", text)))


def slack_error(exc: BaseException) -> str:
    """Slack's own error code when there is one (what an admin can search for), else the redacted exception."""
    if isinstance(exc, SlackApiError):
        return redact(str(exc.response.get("error") or f"HTTP {exc.response.status_code}"))
    text = redact(str(exc))[:300]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def frames(exc: BaseException) -> str:
    """Where it failed (files, lines and code), without the exception's text or any local value."""
    return "".join(traceback.format_tb(exc.__traceback__)).rstrip()
