"""The console adapter: a REPL over any text streams, speaking the same commands as the chat adapters."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from typing import TextIO

from bots.console.port import ConsolePort
from core.actions import Action, ActionKind, decode
from core.commands import CommandRouter
from core.render import Button, Card, Reply, render_reply, render_text, results_lines
from core.scheduler.commands import ScheduleCommands
from core.scheduler.engine import Scheduler
from core.service import Actor, DebateService

log = logging.getLogger(__name__)
SPACE = "console"
CHANNEL = "console"
CONSOLE_HELP = """Console extras:
  a number      vote for that option of the current poll
  /retract      take back your vote on the current poll
  /as NAME      act as another member (members are not admins; --user NAME is)
  /tick         run the daily scheduler now: post what is due, close and report expired polls
  /whoami       who you are acting as
  /quit         leave (Ctrl-D works too)"""


class ConsoleAdapter:
    def __init__(self, service: DebateService, stdin: TextIO, stdout: TextIO, user: str = "you") -> None:
        self.service = service
        self.router = CommandRouter(service, ScheduleCommands(service).handle)
        self.scheduler = Scheduler(service, {"console": ConsolePort(self.say, self._scheduled_poll)}, "console")
        self.stdin = stdin
        self.stdout = stdout
        self.admin_name = user
        self.user = user
        self.poll_id: int | None = None
        self.poll_buttons: tuple[Button, ...] = ()
        self.confirming_forget = False

    def actor(self) -> Actor:
        return Actor(SPACE, CHANNEL, self.user, is_admin=self.user == self.admin_name, platform="console")

    def say(self, text: str) -> None:
        self.stdout.write(text.rstrip("\n") + "\n")
        self.stdout.flush()

    async def run(self) -> int:
        self.say(f"Counterpoint console. You are '{self.user}' (admin). Type /debate help, or /quit.")
        while True:
            line = await asyncio.to_thread(self.stdin.readline)
            if not line:
                return 0
            line = line.strip()
            if line in ("/quit", "/exit"):
                return 0
            if line:
                try:
                    await self.handle(line)
                except Exception as exc:  # one bad line never ends the session
                    log.exception("console command failed")
                    self.say(f"Something went wrong handling that ({type(exc).__name__}); nothing else changed.")

    async def handle(self, line: str) -> None:
        if self.confirming_forget:
            self.confirming_forget = False
            if line.lower() in ("yes", "y"):
                await self.show(await self.service.press(self.actor(), Action(ActionKind.FORGET).encode()))
                return
            self.say("Cancelled. Nothing was deleted.")
            if line.lower() in ("no", "n"):
                return
        if line.isascii() and line.isdigit() and len(line) <= 6:
            await self.press_number(int(line))
        elif line.startswith("/debate"):
            await self.show(await self.router.handle(self.actor(), line[len("/debate"):]))
        elif line.startswith("/as"):
            name = line[3:].strip()
            if not name or len(name) > 64 or " " in name:
                self.say("Usage: /as NAME (one word, up to 64 characters)")
                return
            self.user = name
            self.say(f"You are now '{name}'{' (admin)' if name == self.admin_name else ''}.")
        elif line == "/whoami":
            self.say(f"You are '{self.user}'{' (admin)' if self.user == self.admin_name else ''}.")
        elif line == "/retract":
            if self.poll_id is None:
                self.say("There is no current poll. Try /debate today.")
                return
            await self.show(await self.service.retract(self.actor(), self.poll_id))
        elif line == "/tick":
            report = await self.scheduler.tick()
            if not (report.posted or report.adopted or report.closed or report.outcomes or report.skipped):
                self.say("Nothing is due.")
        elif line == "/help":
            self.say(CONSOLE_HELP)
        else:
            self.say(f"Unknown command '{line[:40]}'. Type /debate help (or /help for console extras).")

    async def press_number(self, number: int) -> None:
        if not self.poll_buttons:
            self.say("There is no current poll to vote on. Try /debate today.")
            return
        if not 1 <= number <= len(self.poll_buttons):
            self.say(f"Choose a number from 1 to {len(self.poll_buttons)}.")
            return
        await self.show(await self.service.press(self.actor(), self.poll_buttons[number - 1].payload))

    async def show(self, reply: Reply) -> None:
        card = reply.card
        hint = ""
        if card is not None and card.marker is not None:
            self.remember(card.buttons, card.marker)
        elif card is not None and card.buttons:
            # Buttons other than a poll's have console commands instead; show the text and the command.
            kinds = {decode(b.payload).kind for b in card.buttons}
            if ActionKind.FORGET in kinds:
                self.confirming_forget = True
                hint = "Type yes to confirm; anything else cancels."
            elif ActionKind.RETRACT in kinds:
                hint = "Type /retract to take it back."
            card = replace(card, buttons=())
        text = render_reply(replace(reply, card=card), numbered=True)
        if text:
            self.say(text + (f"\n{hint}" if hint else ""))
        if reply.post is not None:
            post = reply.post

            async def send(card: Card) -> str:
                self.say("\n" + render_text(card, numbered=True))
                self.say("Type a number to vote.")
                return f"console:{post.poll_id}"

            await self.service.publish(post, send)
            self.remember(post.card.buttons, post.card.marker or "")
        if reply.announce:
            self.say(f"[to everyone in the channel] {reply.announce}")
        if reply.attachment is not None:
            self.say(f"--- {reply.attachment.filename} ---\n{reply.attachment.content.decode('utf-8')}")
        for poll_id in reply.refresh_polls:
            refreshed = await self.service.poll_card(poll_id)
            if refreshed.results is not None:
                self.say(f"Poll #{poll_id} now: " + " | ".join(results_lines(refreshed.results, width=5)))

    def _scheduled_poll(self, card: Card) -> None:
        self.remember(card.buttons, card.marker or "")

    def remember(self, buttons: tuple[Button, ...], marker: str) -> None:
        votes = tuple(b for b in buttons if b.payload.startswith("cp1:vote:"))
        if votes:
            self.poll_buttons = buttons
            self.poll_id = int(marker.rsplit(":", 1)[1]) if marker else None
