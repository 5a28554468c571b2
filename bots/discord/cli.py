"""`counterpoint discord invite|sync`. discord.py is imported inside the handlers, so `counterpoint --help`
and the other commands never load it."""

from __future__ import annotations

import argparse
import base64
import binascii
import logging
import sys
from typing import Any

from core.settings import Settings, SettingsError, load_settings

# View Channel, Send Messages, Embed Links, Attach Files, Read Message History (finding a poll again
# after a crash), Create Public Threads + Send Messages in Threads (outcomes go in a thread).
INVITE_PERMISSIONS = (1 << 10) | (1 << 11) | (1 << 14) | (1 << 15) | (1 << 16) | (1 << 35) | (1 << 38)
INVITE_SCOPES = ("bot", "applications.commands")


def client_id_from_token(token: str | None) -> str | None:
    """A bot token starts with the bot user's id in base64, and a bot's user id is its application id."""
    if not token:
        return None
    head = token.split(".", 1)[0]
    try:
        decoded = base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return decoded if decoded.isdigit() else None


def invite_url(client_id: str, permissions: int = INVITE_PERMISSIONS) -> str:
    import discord
    from discord.utils import oauth_url

    return oauth_url(client_id, permissions=discord.Permissions(permissions), scopes=INVITE_SCOPES)


def _invite(args: argparse.Namespace) -> int:
    client_id = args.client_id or ""
    if not client_id:
        try:
            settings = load_settings()
        except SettingsError as exc:
            print(f"counterpoint: {exc}", file=sys.stderr)
            return 2
        client_id = settings.discord_client_id or client_id_from_token(settings.discord_token) or ""
    if not client_id.isdigit():
        print("counterpoint: need the application id: pass --client-id ID or set DISCORD_CLIENT_ID "
              "(Developer Portal > your application > General Information > Application ID)", file=sys.stderr)
        return 2
    print(invite_url(client_id))
    return 0


async def _sync(args: argparse.Namespace, settings: Settings) -> int:
    import aiohttp
    import discord

    from bots.discord.runner import sync_commands
    from bots.logsafety import redact
    from bots.wiring import open_service

    if not settings.discord_token:  # before the database is opened (or created) for nothing
        raise SettingsError("DISCORD_TOKEN: not set; copy the bot token from the Developer Portal (Bot page)")
    where = settings.discord_api_base or "discord.com"
    # A one-shot command: discord.py's voice-support warnings and login notice are noise here.
    logging.getLogger("discord.client").setLevel(logging.ERROR)
    try:
        async with open_service(settings) as service:
            print(await sync_commands(settings, service))
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        return _one_line(f"cannot reach Discord at {where}: {redact(str(exc)) or type(exc).__name__}", 1)
    except discord.HTTPException as exc:
        return _one_line(f"Discord refused the command sync: {exc.status} {redact(str(exc.text or exc))}", 1)
    return 0


def _one_line(message: str, code: int) -> int:
    print("counterpoint: " + " ".join(message.split()), file=sys.stderr)
    return code


def add_discord_commands(subparsers: Any) -> None:
    """Register `discord invite` and `discord sync` on the `counterpoint` sub-parsers."""
    parser = subparsers.add_parser("discord", help="Discord tools: invite link, command sync")
    sub = parser.add_subparsers(dest="discord_command", metavar="ACTION", required=True)
    invite = sub.add_parser(
        "invite", help="print the link that adds the bot to a server",
        description="Prints the OAuth2 invite URL with the bot and applications.commands scopes and only the "
                    "permissions the bot uses. The application id comes from --client-id, DISCORD_CLIENT_ID, "
                    "or the bot token.")
    invite.add_argument("--client-id", help="the application id (Developer Portal > General Information)")
    invite.set_defaults(sync_handler=_invite)
    sync = sub.add_parser(
        "sync", help="push the slash commands to Discord now",
        description="Pushes /debate and /debate-admin to DISCORD_DEV_GUILD if set, else globally, even when "
                    "they have not changed since the last push (start-up only pushes changes).")
    sync.set_defaults(handler=_sync)
