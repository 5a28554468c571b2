"""The `/debate` and `/debate-admin` command groups, built from the core's registry (core.commands.registry).

Nothing here is written per command: each registry entry becomes a subcommand under the group its access
level belongs to (core.commands.spelling), each of its arguments an option whose Discord type, bounds,
choices and suggestions come from the argument's kind. Every option reaches the core as a string, through
the one door (`CommandRouter.execute`) that checks who may run the command and each value's type.

This module does not import the client: it gets what it needs through `Host`.
"""

from __future__ import annotations

import inspect
import keyword
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, ClassVar, Protocol

import discord
from discord import app_commands
from discord.app_commands import Choice

from bots.discord import forms
from core.catalogue import has, t
from core.commands import CommandRouter
from core.commands.registry import COMMANDS, Arg, Command, Kind
from core.commands.spelling import DISCORD_FACILITATOR_GROUP, DISCORD_MEMBER_GROUP, prefix
from core.render import Reply
from core.scheduler.timing import suggest_timezones
from core.service import Actor, DebateService
from core.text import clip

log = logging.getLogger(__name__)
CHOICES_MAX = 25
CHOICE_NAME_MAX = 100
DESCRIPTION_MAX = 100
STRING_MAX = 6000  # Discord's cap on a string option's max_length
Work = Callable[[Actor], Awaitable[Reply]]


class Host(Protocol):
    """What the tree needs from the client: the service, who is asking, and a way to answer."""

    service: DebateService

    def actor(self, interaction: discord.Interaction) -> Actor | None: ...

    async def answer(self, interaction: discord.Interaction, work: Work, label: str) -> None: ...


def _matches(current: str, *texts: str) -> bool:
    needle = current.strip().casefold()
    return not needle or any(needle in text.casefold() for text in texts)


def _key(command: Command) -> str:
    return command.name.replace(" ", ".")


def description(text: str) -> str:
    """Discord wants 1 to 100 characters; the catalogue's help lines start lower-case."""
    text = " ".join(text.split()) or "…"
    return clip(text[0].upper() + text[1:], DESCRIPTION_MAX)


def arg_description(command: Command, arg: Arg) -> str:
    specific, general = f"discord.arg.{_key(command)}.{arg.name}", f"discord.arg.{arg.name}"
    # A new argument without wording yet still gets a valid description rather than stopping start-up.
    return description(t(specific) if has(specific) else t(general) if has(general) else arg.name)


def command_description(command: Command) -> str:
    return description(command.help if has(f"help.{_key(command)}") else command.name)


def choice_name(arg: Arg, value: str) -> str:
    key = f"discord.choice.{arg.name}.{value}"
    return clip(t(key), CHOICE_NAME_MAX) if has(key) else value


def label(command: Command) -> str:
    """For log lines only: how the command is typed on Discord."""
    return f"{prefix(command, 'discord', DISCORD_MEMBER_GROUP)} {command.name}"


class ArgOption(app_commands.Transformer):
    """One registry argument as a Discord option. Whatever Discord sends, the core gets a string
    (ints as decimal strings, channels and roles as their ids)."""

    _TYPES: ClassVar[dict[Kind, discord.AppCommandOptionType]] = {
        Kind.INT: discord.AppCommandOptionType.integer, Kind.CHANNEL: discord.AppCommandOptionType.channel,
              Kind.SUBJECT: discord.AppCommandOptionType.role}

    def __init__(self, arg: Arg, host: Host) -> None:
        self.arg = arg
        self.host = host

    @property
    def type(self) -> discord.AppCommandOptionType:
        return self._TYPES.get(self.arg.kind, discord.AppCommandOptionType.string)

    @property
    def min_value(self) -> int | None:
        return self.arg.minimum if self.arg.kind is Kind.INT else None

    @property
    def max_value(self) -> int | None:
        if self.arg.kind is Kind.INT:
            return self.arg.maximum
        if self.type is discord.AppCommandOptionType.string and not self.arg.choices:
            return min(self.arg.max_length, STRING_MAX)  # max_length, for a string
        return None

    @property
    def choices(self) -> list[Choice[int | float | str]] | None:
        if self.arg.kind is not Kind.CHOICE:
            return None
        return [Choice[int | float | str](name=choice_name(self.arg, c), value=c)
                for c in self.arg.choices[:CHOICES_MAX]]

    @property
    def channel_types(self) -> list[discord.ChannelType]:
        # Polls are posted as messages: text and announcement channels.
        return [discord.ChannelType.text, discord.ChannelType.news] if self.arg.kind is Kind.CHANNEL else []

    async def transform(self, interaction: discord.Interaction, value: Any, /) -> str:
        if self.arg.kind in (Kind.CHANNEL, Kind.SUBJECT):
            return str(value.id)  # cached or not, a resolved channel or role carries its id
        return str(value)


class SuggestedOption(ArgOption):
    """An argument Discord offers suggestions for as the member types: polls, sections, prompts, zones."""

    async def autocomplete(  # type: ignore[override]  # str choices are what this option takes
        self, interaction: discord.Interaction, value: int | float | str, /
    ) -> list[Choice[str]]:
        try:
            return await self._suggest(interaction, str(value))
        except Exception as exc:  # a picker with nothing in it beats "Loading options failed"
            log.warning("suggestions for %s failed (guild %s, channel %s): %s", self.arg.name, interaction.guild_id,
                        interaction.channel_id, type(exc).__name__)
            return []

    async def _suggest(self, interaction: discord.Interaction, current: str) -> list[Choice[str]]:
        service = self.host.service
        kind = self.arg.kind
        if kind in (Kind.POLL, Kind.OPEN_POLL):
            return await self._polls(interaction, current, open_only=kind is Kind.OPEN_POLL)
        if kind is Kind.SECTION:
            pairs: Iterable[tuple[str, str]] = ((s.id, s.title) for s in service.content.sections)
        elif kind is Kind.PROMPT:
            pairs = ((p.id, f"{p.id}: {p.question}") for p in service.content.prompts)
        else:
            pairs = ((z, z) for z in suggest_timezones(current, limit=CHOICES_MAX))
        return [Choice(name=clip(name, CHOICE_NAME_MAX), value=key) for key, name in pairs
                if _matches(current, key, name)][:CHOICES_MAX]

    async def _polls(self, interaction: discord.Interaction, current: str, open_only: bool) -> list[Choice[str]]:
        actor = self.host.actor(interaction)
        if actor is None:
            return []
        service = self.host.service
        # The one list the core allows this member to see: never the store's polls directly.
        choices = []
        for poll in await service.visible_polls(actor, open_only=open_only, limit=CHOICES_MAX):
            prompt = await service.find_prompt(poll.prompt_id)
            name = f"#{poll.id} {prompt.question if prompt else poll.prompt_id}"
            if _matches(current, name):
                choices.append(Choice(name=clip(name, CHOICE_NAME_MAX), value=str(poll.id)))
        return choices


_SUGGESTED = {Kind.POLL, Kind.OPEN_POLL, Kind.SECTION, Kind.PROMPT, Kind.TIMEZONE}


def _python_name(arg: Arg) -> str:
    name = arg.name.replace("-", "_")
    return name + "_" if keyword.iskeyword(name) or name == "interaction" else name


def build_command(command: Command, host: Host, router: CommandRouter) -> app_commands.Command[Any, ..., None]:
    """One registry entry as a slash command: options from its arguments, the core's router behind it."""
    names = {_python_name(a): a.name for a in command.args}
    log_label = label(command)

    async def callback(interaction: discord.Interaction, **given: str | None) -> None:
        values = {names[k]: v for k, v in given.items() if v is not None}
        if command.form and not values and await forms.open_form(host, interaction, command):
            return
        await host.answer(interaction, lambda actor: router.execute(actor, command.name, values), log_label)

    parameters = [inspect.Parameter("interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                    annotation=discord.Interaction)]
    for python, arg in ((_python_name(a), a) for a in command.args):
        option = (SuggestedOption if arg.kind in _SUGGESTED else ArgOption)(arg, host)
        parameters.append(inspect.Parameter(python, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=option))
    callback.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    app_commands.describe(**{_python_name(a): arg_description(command, a) for a in command.args})(callback)
    app_commands.rename(**{p: n for p, n in names.items() if p != n})(callback)
    return app_commands.Command(name=command.name.split(" ")[-1], description=command_description(command),
                                callback=callback)


def build_groups(host: Host, commands: Iterable[Command] | None = None) -> list[app_commands.Group]:
    """`/debate` (what every member may run) and `/debate-admin` (facilitators and admins).

    `/debate-admin` carries no default_permissions: a member holding a facilitator role must see it,
    and the core decides who may run what (server admins may still restrict it in Server Settings >
    Integrations)."""
    router = CommandRouter(host.service)
    groups: dict[str, app_commands.Group] = {}
    for name in (DISCORD_MEMBER_GROUP, DISCORD_FACILITATOR_GROUP):
        top = name.lstrip("/")
        groups[name] = app_commands.Group(name=top, description=description(t(f"discord.group.{top}")),
                                          guild_only=True)
    for command in COMMANDS if commands is None else commands:
        parent = groups[prefix(command, "discord", DISCORD_MEMBER_GROUP)]
        if " " in command.name:  # "schedule set": a subcommand group
            group_name = command.name.split(" ")[0]
            sub = parent.get_command(group_name)
            if not isinstance(sub, app_commands.Group):
                sub = app_commands.Group(name=group_name, description=description(t(f"discord.group.{group_name}")),
                                         parent=parent)
            sub.add_command(build_command(command, host, router))
        else:
            parent.add_command(build_command(command, host, router))
    return [g for g in groups.values() if g.commands]
