"""Every command, declared once: name, arguments with types and bounds, who may run it, help, handler.

From this table come the text router (console and Slack), the help card, the Discord command tree
(bots/discord/tree.py) and the spelling of a command in any reply (core.commands.spelling).
Adding a command is one entry here plus its wording in the catalogue. Nothing here imports the
service at run time: handlers receive it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from core.catalogue import t
from core.content.fields import QUESTION_MAX
from core.render import Reply
from core.roles import Access

if TYPE_CHECKING:
    from core.usecase import Actor

Values = dict[str, str]
# The service is `Any` here: the registry is a table the service itself reads (help, spelling), so a typed
# reference would make the two modules depend on each other's types.
Handler = Callable[[Any, "Actor", Values], Awaitable[Reply]]


class Kind(StrEnum):
    TEXT = "text"
    INT = "int"
    CHOICE = "choice"
    POLL = "poll"  # a poll number of this channel (Discord offers the visible ones)
    OPEN_POLL = "open_poll"
    SECTION = "section"
    PROMPT = "prompt"
    TIMEZONE = "timezone"
    CHANNEL = "channel"
    SUBJECT = "subject"  # who becomes a facilitator: a role on Discord, a member elsewhere


@dataclass(frozen=True)
class Arg:
    name: str
    kind: Kind = Kind.TEXT
    positional: bool = False  # in text, may be given without `name=`
    greedy: bool = False  # a positional that takes the rest of the words (a question)
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] = ()
    max_length: int = 100
    aliases: tuple[str, ...] = ()
    placeholder: str = ""  # how usage lines show the value, e.g. "N" or "09:00"

    def matches(self, key: str) -> bool:
        key = key.lower().replace("_", "-")
        return key == self.name or key in self.aliases

    def shown(self) -> str:
        return self.placeholder or ("|".join(self.choices) if self.choices else self.name.upper())


@dataclass(frozen=True)
class Command:
    name: str  # one word, or "group action" for two
    access: Access
    run: Handler
    args: tuple[Arg, ...] = ()
    form: bool = False  # with no arguments, chat platforms open a form (a modal) instead

    @property
    def help(self) -> str:
        return t(f"help.{self.name.replace(' ', '.')}")

    def arg(self, key: str) -> Arg | None:
        return next((a for a in self.args if a.matches(key)), None)


def _poll(name: str = "poll", kind: Kind = Kind.POLL) -> Arg:
    return Arg(name, kind, positional=True, max_length=20, placeholder="N")


def _schedule(action: str) -> Handler:
    async def run(service: Any, actor: Actor, values: Values) -> Reply:
        from core.scheduler.commands import ScheduleCommands  # the scheduler imports the service

        return await ScheduleCommands(service).handle(actor, [action, *(f"{k}={v}" for k, v in values.items())])

    return run


K = Arg("k", Kind.INT, minimum=3, maximum=1000, aliases=("min-votes", "min_votes"), placeholder="N")
RESULTS = Arg("results", Kind.CHOICE, choices=("live", "after-close"))
DURATION = Arg("duration", max_length=20, placeholder="24h")
REASON_TYPED_MAX = 1000  # longer than a reason may be, so the member hears the limit and their length

COMMANDS: tuple[Command, ...] = (
    Command("today", Access.MEMBER, lambda s, a, v: s.today(a)),
    Command("article", Access.MEMBER, lambda s, a, v: s.article(a, v.get("section")),
            (Arg("section", Kind.SECTION, positional=True, max_length=40),)),
    Command("results", Access.MEMBER,
            lambda s, a, v: (s.results_chart if v.get("chart") == "on" else s.results)(a, v.get("poll")),
            (_poll(), Arg("chart", Kind.CHOICE, choices=("on", "off")))),
    Command("trend", Access.MEMBER, lambda s, a, v: s.trend(a, v.get("from"), v.get("to")),
            (Arg("from", max_length=20, placeholder="2025-07-01"), Arg("to", max_length=20, placeholder="2025-07-31"))),
    Command("stance", Access.MEMBER, lambda s, a, v: s.stance(a)),
    Command("forget-me", Access.MEMBER, lambda s, a, v: s.forget_me(a)),
    Command("help", Access.MEMBER, lambda s, a, v: s.help(a)),
    Command("reasons", Access.MEMBER, lambda s, a, v: s.reasons(a, v.get("poll"), int(v.get("page") or 1)),
            (_poll(), Arg("page", Kind.INT, minimum=1, maximum=1000, placeholder="N"))),
    # The text form of the reason form (console; anyone may type it): a greedy text, the poll by name.
    Command("reason", Access.MEMBER, lambda s, a, v: s.reason(a, v.get("text", ""), v.get("poll")),
            (Arg("text", positional=True, greedy=True, max_length=REASON_TYPED_MAX, placeholder="TEXT"),
             Arg("poll", Kind.OPEN_POLL, max_length=20, placeholder="N"))),
    Command("delete-reason", Access.MEMBER, lambda s, a, v: s.delete_reason(a, v.get("poll")),
            (_poll(kind=Kind.OPEN_POLL),)),
    Command("post", Access.FACILITATOR, lambda s, a, v: s.post(a, v.get("prompt")),
            (Arg("prompt", Kind.PROMPT, positional=True, max_length=60, placeholder="ID"),)),
    Command("ask", Access.FACILITATOR, lambda s, a, v: s.ask(a, v.get("question", ""), v.get("options")),
            (Arg("question", positional=True, greedy=True, max_length=QUESTION_MAX, placeholder="QUESTION"),
             Arg("options", max_length=300, placeholder="A | B | C")), form=True),
    Command("close", Access.FACILITATOR, lambda s, a, v: s.close(a, v.get("poll")), (_poll(kind=Kind.OPEN_POLL),)),
    Command("deck", Access.FACILITATOR, lambda s, a, v: s.deck(a)),
    Command("export", Access.FACILITATOR, lambda s, a, v: s.export(a, v.get("what")),
            (Arg("what", Kind.CHOICE, positional=True, choices=("results", "reasons")),)),
    Command("settings", Access.FACILITATOR,
            lambda s, a, v: s.settings(a, v.get("k"), results=v.get("results"), duration=v.get("duration"),
                                       members_post=v.get("members-post"), reasons=v.get("reasons"),
                                       reports=v.get("reports")),
            (K, RESULTS, DURATION, Arg("members-post", Kind.CHOICE, choices=("on", "off")),
             Arg("reasons", Kind.CHOICE, choices=("off", "optional", "ask")),
             Arg("reports", Kind.INT, minimum=1, maximum=100, placeholder="N"))),
    Command("moderate", Access.FACILITATOR, lambda s, a, v: s.moderate(a, v.get("poll")), (_poll(),)),
    Command("schedule set", Access.FACILITATOR, _schedule("set"),
            (Arg("time", max_length=20, placeholder="09:00"), Arg("tz", Kind.TIMEZONE, max_length=64,
                                                                  placeholder="Europe/Berlin"),
             Arg("days", max_length=40, placeholder="mon-fri"), DURATION,
             Arg("order", Kind.CHOICE, choices=("section", "shuffle")), RESULTS, K)),
    Command("schedule show", Access.FACILITATOR, _schedule("show")),
    Command("schedule off", Access.FACILITATOR, _schedule("off")),
    Command("channels", Access.FACILITATOR,
            lambda s, a, v: s.channels(a, v.get("add"), v.get("remove"), v.get("all")),
            (Arg("add", Kind.CHANNEL, placeholder="#channel"), Arg("remove", Kind.CHANNEL, placeholder="#channel"),
             Arg("all", Kind.CHOICE, choices=("on",)))),
    Command("facilitators", Access.ADMIN, lambda s, a, v: s.facilitators(a, v.get("add"), v.get("remove")),
            (Arg("add", Kind.SUBJECT, placeholder="@who"), Arg("remove", Kind.SUBJECT, placeholder="@who"))),
)
BY_NAME: dict[str, Command] = {c.name: c for c in COMMANDS}
GROUP_DEFAULT = {"schedule": "schedule show"}  # a group typed alone


def usage(command: Command, platform: str, slash: str) -> str:
    """How a member types the command on their platform: '/debate results [N]' or '/debate-admin settings [k:N]'."""
    from core.commands.spelling import prefix

    parts = [prefix(command, platform, slash), command.name]
    for arg in command.args:
        if arg.positional and platform != "discord":
            parts.append(f"[{arg.shown()}]")
        else:
            parts.append(f"[{arg.name}{':' if platform == 'discord' else '='}{arg.shown()}]")
    return " ".join(parts)


def help_entries(platform: str, access: Access, slash: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """The help card's sections: commands grouped by who may run them, only those this member may run."""
    sections = []
    for level, title in ((Access.MEMBER, "help.section.everyone"), (Access.FACILITATOR, "help.section.facilitators"),
                         (Access.ADMIN, "help.section.admins")):
        if level > access:
            continue
        rows = [(usage(c, platform, slash), c.help) for c in COMMANDS if c.access is level]
        if rows:
            sections.append((t(title), rows))
    return sections
