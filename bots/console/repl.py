"""The console adapter: a REPL over any text streams, speaking the same commands as the chat adapters."""

from __future__ import annotations

import logging
import sys
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from bots.console.charts import CHART_DIR, ChartingConsolePort, save_chart
from bots.console.completion import Completer
from bots.console.terminal import LineSource, PipedLines, TerminalLines, fit, is_terminal, terminal_width
from core.actions import REASON_KINDS, Action, ActionKind, decode
from core.catalogue import t
from core.commands import CommandRouter
from core.render import Button, Card, Reply, render_reply, render_text, results_lines
from core.scheduler.commands import ScheduleCommands
from core.scheduler.engine import Scheduler
from core.service import Actor, DebateService

log = logging.getLogger(__name__)
SPACE = "console"
CHANNEL = "console"
QUIT = ("/quit", "/exit")
NARROW = 50  # below this many columns, live result bars are drawn half as long


def default_lines(stdin: TextIO, stdout: TextIO) -> LineSource:
    """readline at a terminal; plain lines from a pipe or file, exactly as they come."""
    # input() edits lines only when the process's own stdin and stdout are both terminals; with either
    # one redirected (`console | tee log`) the console reads plainly, as it does from a pipe.
    if stdin is sys.stdin and stdout is sys.stdout and is_terminal(stdin) and is_terminal(stdout):
        return TerminalLines(stdin, stdout, t("console.prompt"))
    return PipedLines(stdin)


class ConsoleAdapter:
    def __init__(
        self, service: DebateService, stdin: TextIO, stdout: TextIO, user: str = "you",
        lines: LineSource | None = None, chart_dir: Path = CHART_DIR,
    ) -> None:
        self.service = service
        self.router = CommandRouter(service, ScheduleCommands(service).handle)
        self.chart_dir = chart_dir
        port = ChartingConsolePort(self.say, self._scheduled_poll, chart_dir)
        self.scheduler = Scheduler(service, {"console": port}, "console")
        self.stdout = stdout
        self.lines = lines or default_lines(stdin, stdout)
        self.admin_name = user
        self.user = user
        self.poll_id: int | None = None
        self.poll_buttons: tuple[Button, ...] = ()
        self.confirming_forget = False
        self.card_buttons: tuple[Button, ...] = ()  # the last answer's reason buttons, for /press N
        # Commands that take nothing after their name; /debate and /as are handled on their own.
        self.extras: dict[str, Callable[[], Awaitable[None]]] = {
            "/whoami": self.whoami, "/retract": self.retract, "/tick": self.tick, "/help": self.help,
        }
        if isinstance(self.lines, TerminalLines):
            self.lines.complete_with(Completer(["/as", "/press", *self.extras, *QUIT]))

    def actor(self) -> Actor:
        return Actor(SPACE, CHANNEL, self.user, is_admin=self.user == self.admin_name, platform="console")

    def say(self, text: str) -> None:
        text = text.rstrip("\n")
        width = terminal_width(self.stdout)  # asked each time: the window may have been resized
        self.stdout.write((fit(text, width) if width else text) + "\n")
        self.stdout.flush()

    async def run(self) -> int:
        self.say(t("console.welcome", name=self.user))
        with self.lines.session():
            while True:
                line = await self.lines.read()
                if line is None:
                    return 0
                line = line.strip()
                if line in QUIT:
                    return 0
                if line or self.confirming_forget:  # an empty answer to a confirmation cancels it too
                    try:
                        await self.handle(line)
                    except Exception as exc:  # one bad line never ends the session
                        log.exception("console command failed")
                        self.say(t("console.failed", error=type(exc).__name__))

    async def handle(self, line: str) -> None:
        if self.confirming_forget:
            # The answer to a confirmation is only ever that answer: "5" cancels, it does not also vote.
            self.confirming_forget = False
            if line.lower() in t("console.confirm_words").split():
                await self.show(await self.service.press(self.actor(), Action(ActionKind.FORGET).encode()))
            else:
                self.say(t("console.cancelled"))
            return
        if line.isascii() and line.isdigit() and len(line) <= 6:
            await self.press_number(int(line))
            return
        # A command is its whole first word: "/ashley" is not "/as hley", nor "/debatetoday" "/debate today".
        word, *more = line.split(maxsplit=1)
        rest = more[0] if more else ""
        if word == "/debate":
            await self.show(await self.router.handle(self.actor(), rest))
        elif word == "/as":
            self.act_as(rest)
        elif word == "/press":
            await self.press_card(rest)
        elif word in self.extras:
            if rest:
                self.say(t("console.no_arguments", command=word))
            else:
                await self.extras[word]()
        else:
            self.say(t("console.unknown", text=line[:40]))

    def act_as(self, name: str) -> None:
        if not name or len(name) > 64 or len(name.split()) != 1:
            self.say(t("console.as_usage"))
            return
        self.user = name
        self.card_buttons = ()  # another member's buttons are not theirs to press
        self.say(t("console.now_admin" if name == self.admin_name else "console.now", name=name))

    async def whoami(self) -> None:
        self.say(t("console.whoami_admin" if self.user == self.admin_name else "console.whoami", name=self.user))

    async def retract(self) -> None:
        if self.poll_id is None:
            self.say(t("console.no_poll"))
            return
        await self.show(await self.service.retract(self.actor(), self.poll_id))

    async def tick(self) -> None:
        report = await self.scheduler.tick()
        if not (report.posted or report.adopted or report.closed or report.outcomes or report.skipped):
            self.say(t("console.nothing_due"))

    async def help(self) -> None:
        help_text = t("console.help") + "\n" + t("console.help_press")
        if isinstance(self.lines, TerminalLines):
            help_text += "\n" + t("console.help_terminal")
        self.say(help_text)

    async def press_number(self, number: int) -> None:
        if not self.poll_buttons:
            self.say(t("console.no_poll_to_vote"))
            return
        if not 1 <= number <= len(self.poll_buttons):
            self.say(t("console.choose_number", n=len(self.poll_buttons)))
            return
        await self.show(await self.service.press(self.actor(), self.poll_buttons[number - 1].payload))

    async def show(self, reply: Reply) -> None:
        card = reply.card
        if card is not None:  # a new card replaces the buttons; a short answer leaves the page's, as in chat
            self.card_buttons = ()
        hint = ""
        if card is not None and card.marker is not None:
            self.remember(card.buttons, card.marker)
        elif card is not None and card.buttons:
            # Buttons other than a poll's have console commands instead; show the text and the command.
            kinds = {decode(b.payload).kind for b in card.buttons}
            if ActionKind.FORGET in kinds:
                self.confirming_forget = True
                hint = t("console.confirm_hint")
            elif ActionKind.RETRACT in kinds:
                hint = t("console.retract_hint")
            hint = "\n".join(p for p in (hint, self.pressable(card.buttons)) if p)
            card = replace(card, buttons=())
        text = render_reply(replace(reply, card=card), numbered=True)
        if text:
            self.say(text + (f"\n{hint}" if hint else ""))
        if reply.post is not None:
            post = reply.post

            async def send(card: Card) -> str:
                self.say("\n" + render_text(card, numbered=True))
                self.say(t("console.vote_hint"))
                return f"console:{post.poll_id}"

            await self.service.publish(post, send)
            self.remember(post.card.buttons, post.card.marker or "")
        if reply.announce:
            self.say(t("console.announce", text=reply.announce))
        if card is not None and card.image is not None:
            self.say(save_chart(card.image, self.chart_dir))
        if reply.attachment is not None:
            self.say(t("console.attachment", filename=reply.attachment.filename) + "\n"
                     + reply.attachment.content.decode("utf-8"))
        for poll_id in reply.refresh_polls:
            refreshed = await self.service.poll_card(poll_id)
            if refreshed.results is not None:
                self.say(self.live_results(poll_id, refreshed))

    def pressable(self, buttons: tuple[Button, ...]) -> str:
        """Reason buttons (add, keep or drop, mark, report, pages, hide, restore) as /press N lines."""
        self.card_buttons = tuple(b for b in buttons if decode(b.payload).kind in REASON_KINDS)
        lines = [t("console.press_line", number=i, label=f"{b.emoji} {b.label}".strip())
                 for i, b in enumerate(self.card_buttons, start=1)]
        return "\n".join([t("console.press_hint"), *lines]) if lines else ""

    async def press_card(self, rest: str) -> None:
        if not self.card_buttons:
            self.say(t("console.press_nothing"))
            return
        if not (rest.isascii() and rest.isdigit() and 1 <= int(rest[:6]) <= len(self.card_buttons)):
            self.say(t("console.press_usage", n=len(self.card_buttons)))
            return
        await self.show(await self.service.press(self.actor(), self.card_buttons[int(rest) - 1].payload))

    def live_results(self, poll_id: int, card: Card) -> str:
        """The results after a vote, one line per option as on the card, under a heading."""
        assert card.results is not None
        width = terminal_width(self.stdout)
        bars = results_lines(card.results, width=5 if width and width < NARROW else 10)
        return "\n".join([t("console.live_results", poll=poll_id), *(f"  {line}" for line in bars)])

    def _scheduled_poll(self, card: Card) -> None:
        self.remember(card.buttons, card.marker or "")

    def remember(self, buttons: tuple[Button, ...], marker: str) -> None:
        votes = tuple(b for b in buttons if b.payload.startswith("cp1:vote:"))
        if votes:
            self.poll_buttons = buttons
            self.poll_id = int(marker.rsplit(":", 1)[1]) if marker else None
