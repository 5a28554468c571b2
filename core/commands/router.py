"""Text commands (`/debate settings k=5`) parsed against the registry and run: the console and Slack share it.

Also the one door every platform's typed commands go through (`execute`), so the check of who may
run a command and of each argument's type and bounds is made in one place.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from core.catalogue import t
from core.commands.registry import BY_NAME, GROUP_DEFAULT, Arg, Command, Kind, Values, usage
from core.render import Reply
from core.roles import Access
from core.store.base import StoreError
from core.usecase import ADMIN_ONLY, FACILITATORS_ONLY, STORE_DOWN, Actor, UserError

if TYPE_CHECKING:
    from core.service import DebateService

MAX_COMMAND_LENGTH = 1000
# A word, or a double-quoted stretch (possibly after key=): "options="A | B"" stays one word.
_WORD = re.compile(r'[^\s"]*"[^"]*"|\S+')
_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u201e": '"'})


def words(text: str) -> list[str]:
    return _WORD.findall(text.translate(_QUOTES))


def _unquote(value: str) -> str:
    return value[1:-1] if len(value) >= 2 and value[0] == value[-1] == '"' else value


class CommandRouter:
    def __init__(self, service: DebateService, schedule: object = None) -> None:
        # `schedule` is accepted for callers written before the registry; schedules are entries now.
        self.service = service

    def _hint(self, actor: Actor) -> str:
        return t("router.hint", help=self.service.cmd(actor, "help"))

    def _usage(self, actor: Actor, command: Command) -> str:
        return t("router.usage", usage=usage(command, actor.platform, self.service.command))

    async def handle(self, actor: Actor, text: str) -> Reply:
        """One line of text after the slash command: find the command, read its arguments, run it."""
        if len(text) > MAX_COMMAND_LENGTH:
            return Reply(text=t("router.too_long", hint=self._hint(actor)), error=True)
        tokens = words(text)
        if not tokens:
            return await self.execute(actor, "help", {})
        head = tokens[0].lower()
        pair = f"{head} {tokens[1].lower()}" if len(tokens) > 1 else ""
        if pair in BY_NAME:
            command, rest = BY_NAME[pair], tokens[2:]
        elif head in BY_NAME:
            command, rest = BY_NAME[head], tokens[1:]
        elif head in GROUP_DEFAULT and len(tokens) == 1:
            command, rest = BY_NAME[GROUP_DEFAULT[head]], []
        elif head in GROUP_DEFAULT:
            return Reply(text=t("router.unknown_action", group=head, action=tokens[1][:20],
                                usage=" · ".join(f"`{usage(c, actor.platform, self.service.command)}`"
                                                 for c in BY_NAME.values() if c.name.startswith(head + " "))),
                         error=True)
        else:
            return Reply(text=t("router.unknown", name=head[:40], hint=self._hint(actor)), error=True)
        try:
            values = self.read(command, rest, actor)
        except UserError as exc:
            return Reply(text=str(exc), error=True)
        return await self.execute(actor, command.name, values)

    def read(self, command: Command, rest: list[str], actor: Actor) -> Values:
        values: Values = {}
        positional = [a for a in command.args if a.positional]
        queue = list(rest)
        # `key value` pairs are read too, as people type them - except where a question is typed freely,
        # since a question may well contain the word "options".
        pairs_allowed = not any(a.greedy for a in command.args)
        absorbing: Arg | None = None  # a free-text `key=` value goes on until the next `key=`
        while queue:
            word = queue.pop(0)
            key, eq, value = word.partition("=")
            arg = command.arg(key) if eq else None
            if arg is None and absorbing is not None:
                values[absorbing.name] = f"{values[absorbing.name]} {_unquote(word)}"
                continue
            named = command.arg(word) if pairs_allowed and not eq and queue else None
            if named is not None and not named.positional:
                arg, value = named, queue.pop(0)
            if arg is not None:
                if arg.name in values:
                    raise UserError(t("router.twice", name=arg.name))
                values[arg.name] = _unquote(value)
                if arg in positional:
                    positional.remove(arg)
                absorbing = arg if arg.kind is Kind.TEXT and not arg.positional and eq else None
                continue
            if eq and not positional:
                raise UserError(t("router.unknown_arg", name=key[:30], usage=self._usage(actor, command)))
            if not positional:
                raise UserError(t("router.too_many", usage=self._usage(actor, command)))
            target = positional[0]
            if target.greedy:
                values[target.name] = (values.get(target.name, "") + " " + _unquote(word)).strip()
                continue
            values[target.name] = _unquote(word)
            positional.pop(0)
        return values

    def check(self, command: Command, values: Values, actor: Actor) -> None:
        """Each value against its argument's type and bounds; the service checks meaning."""
        for name, value in values.items():
            arg = command.arg(name)
            if arg is None:
                raise UserError(t("router.unknown_arg", name=name[:30], usage=self._usage(actor, command)))
            self._check_value(arg, value, actor, command)

    def _check_value(self, arg: Arg, value: str, actor: Actor, command: Command) -> None:
        if len(value) > arg.max_length:
            raise UserError(t("router.value_long", name=arg.name, limit=arg.max_length))
        if arg.kind is Kind.INT:
            if not (value.isascii() and value.isdigit()) or len(value) > 9:
                raise UserError(t("router.not_number", name=arg.name, value=value[:20],
                                  low=arg.minimum, high=arg.maximum))
            number = int(value)
            if (arg.minimum is not None and number < arg.minimum) or (arg.maximum is not None and
                                                                      number > arg.maximum):
                raise UserError(t("router.out_of_range", name=arg.name, value=number, low=arg.minimum,
                                  high=arg.maximum))
        if arg.kind is Kind.CHOICE and value.lower().replace("_", "-") not in arg.choices:
            raise UserError(t("router.bad_choice", name=arg.name, value=value[:20],
                              choices=", ".join(arg.choices)))

    async def execute(self, actor: Actor, name: str, values: Values) -> Reply:
        """Run a registered command for `actor`: who may run it and each value's type are checked here."""
        command = BY_NAME[name]
        try:
            self.check(command, values, actor)
            if command.access > Access.MEMBER and await self.service.access(actor) < command.access:
                raise UserError(ADMIN_ONLY if command.access is Access.ADMIN else FACILITATORS_ONLY)
        except UserError as exc:
            return Reply(text=str(exc), error=True)
        except StoreError:
            return Reply(text=STORE_DOWN, error=True)
        return await command.run(self.service, actor, values)
