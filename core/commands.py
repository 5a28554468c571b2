"""Parse a `/debate ...` command line into a service call. Shared by every adapter that receives text."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from core.render import Reply
from core.service import Actor, DebateService

ScheduleHandler = Callable[[Actor, list[str]], Awaitable[Reply]]

# subcommand -> (max arguments, usage shown when the arguments are wrong)
COMMANDS: dict[str, tuple[int, str]] = {
    "today": (0, "today"),
    "article": (1, "article [section]"),
    "results": (1, "results [poll]"),
    "stance": (0, "stance"),
    "forget-me": (0, "forget-me"),
    "help": (0, "help"),
    "post": (1, "post [prompt]"),
    "close": (1, "close [poll]"),
    "export": (0, "export"),
    "settings": (2, "settings [min-votes N]"),
    "schedule": (8, "schedule set|show|off ..."),
}
MAX_COMMAND_LENGTH = 500


class CommandRouter:
    def __init__(self, service: DebateService, schedule: ScheduleHandler | None = None) -> None:
        self.service = service
        self.schedule = schedule

    def _hint(self) -> str:
        return f"Type `{self.service.command} help` for the list."

    async def handle(self, actor: Actor, text: str) -> Reply:
        if len(text) > MAX_COMMAND_LENGTH:
            return Reply(text=f"That command is too long. {self._hint()}", error=True)
        words = text.split()
        sub = words[0].lower() if words else "help"
        args = words[1:]
        spec = COMMANDS.get(sub)
        if spec is None:
            return Reply(text=f"Unknown command '{sub[:40]}'. {self._hint()}", error=True)
        max_args, usage = spec
        if len(args) > max_args:
            return Reply(text=f"Too many arguments. Usage: `{self.service.command} {usage}`", error=True)
        arg = args[0] if args else None
        s = self.service
        if sub == "today":
            return await s.today(actor)
        if sub == "article":
            return await s.article(actor, arg)
        if sub == "results":
            return await s.results(actor, arg)
        if sub == "stance":
            return await s.stance(actor)
        if sub == "forget-me":
            return await s.forget_me(actor)
        if sub == "help":
            return await s.help(actor)
        if sub == "post":
            return await s.post(actor, arg)
        if sub == "close":
            return await s.close(actor, arg)
        if sub == "export":
            return await s.export(actor)
        if sub == "settings":
            if not args:
                return await s.settings(actor)
            if len(args) != 2 or args[0].lower() != "min-votes":
                return Reply(text=f"Usage: `{s.command} {usage}`", error=True)
            return await s.settings(actor, min_votes=args[1])
        # schedule: the handler checks admin rights itself, as every admin use case does
        if self.schedule is None:
            return Reply(text="Scheduling is not available yet: post questions with "
                              f"`{s.command} post` for now.", error=True)
        return await self.schedule(actor, args)
