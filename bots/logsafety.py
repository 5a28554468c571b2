"""Process-wide logging set-up that keeps the privacy promise at every level.

The chat libraries log whole payloads at DEBUG: member ids next to the button they pressed, and
interaction tokens inside webhook URLs. Those loggers are held at INFO whatever LOG_LEVEL says, so
DEBUG means "our own debug lines", which never name a member. Repeated identical lines are folded
into one per interval, so a flood of bad requests cannot fill the disk.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import TextIO

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Loggers of libraries that put payloads, ids or tokens in their DEBUG lines.
LIBRARY_LOGGERS = ("discord", "slack_bolt", "slack_sdk", "aiohttp", "websockets", "aiosqlite", "asyncio")


# Query strings (Socket Mode tickets, webhook tokens), Slack tokens and Discord webhook paths.
_SECRETS = re.compile(r"(\?[^\s'\"]*)|(x(?:ox[abpre]|app)-[A-Za-z0-9-]+)|(/(?:webhooks|interactions)/\d+/[^\s/'\"]+)")


def redact(text: str, limit: int = 300) -> str:
    """An error's text made fit for a log line: no query strings, tokens or webhook paths; bounded."""
    return _SECRETS.sub("<redacted>", text)[:limit]


def quiet_libraries(floor: int = logging.INFO) -> None:
    """Library loggers at INFO or the operator's level, whichever is higher: never their DEBUG, and
    LOG_LEVEL=ERROR keeps their INFO lines out too."""
    floor = max(floor, logging.INFO)
    for name in LIBRARY_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level < floor:  # NOTSET (0) included: it would inherit the root's DEBUG
            logger.setLevel(floor)


def configure_logging(level: str = "INFO", stream: TextIO | None = None) -> None:
    """Root handler on `stream` (stderr), library loggers held at INFO, repeats folded."""
    logging.basicConfig(level=level, stream=stream or sys.stderr, format=LOG_FORMAT)
    logging.getLogger().setLevel(level)
    quiet_libraries(logging.getLogger().level)
    try:
        from bots.logthrottle import install_log_throttle
    except ImportError:  # pragma: no cover - the throttle ships with the bot; tolerate a partial install
        return
    install_log_throttle()
