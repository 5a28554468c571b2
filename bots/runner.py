"""`counterpoint run`: start every configured chat adapter on one shared service."""

from __future__ import annotations

import sys

from core.settings import Settings

NOTHING_CONFIGURED = (
    "no chat adapter is configured: set DISCORD_TOKEN for Discord, or SLACK_BOT_TOKEN plus "
    "SLACK_SIGNING_SECRET (HTTP) or SLACK_APP_TOKEN (Socket Mode) for Slack - see .env.example; "
    "to try the bot without tokens run 'counterpoint console'"
)


async def run_adapters(settings: Settings) -> int:
    if not (settings.discord_configured or settings.slack_configured):
        print(f"counterpoint: {NOTHING_CONFIGURED}", file=sys.stderr)
        return 2
    print("counterpoint: the Discord and Slack adapters are not built yet; try 'counterpoint console'",
          file=sys.stderr)
    return 2
