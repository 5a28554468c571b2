"""A command as each platform spells it: Discord's typed options, or the text form of Slack and the console."""

from __future__ import annotations

from core.commands.registry import BY_NAME, Command
from core.roles import Access

DISCORD_MEMBER_GROUP = "/debate"
DISCORD_FACILITATOR_GROUP = "/debate-admin"


def prefix(command: Command, platform: str, slash: str) -> str:
    if platform == "discord":
        return DISCORD_MEMBER_GROUP if command.access is Access.MEMBER else DISCORD_FACILITATOR_GROUP
    return slash


def spell(platform: str, name: str, slash: str = "/debate", **values: str) -> str:
    """'/debate settings k=5' on Slack and the console, '/debate-admin settings k:5' on Discord."""
    command = BY_NAME[name]
    parts = [prefix(command, platform, slash), name]
    for key, value in values.items():
        arg = command.arg(key)
        if arg is None:
            raise KeyError(f"{name} has no argument {key!r}")
        quoted = len(value) >= 2 and value[0] == value[-1] == '"'
        if platform != "discord" and any(c.isspace() for c in value) and not arg.greedy and not quoted:
            value = f'"{value}"'  # the text router reads a quoted value as one
        if arg.positional and platform != "discord":
            parts.append(value)
        else:
            parts.append(f"{arg.name}{':' if platform == 'discord' else '='}{value}")
    return " ".join(parts)
