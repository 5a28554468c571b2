"""Where the console's lines come from: a pipe, or a person at a terminal with line editing.

At a terminal the stdlib readline gives a prompt, editing and an in-memory history (up arrow). The
history is deliberately never written to a file: the console lets one person act as several members
(`/as alice`, then `1`), so a history file would keep a plain record of who voted what, outside the
database and out of reach of forget-me.
"""

from __future__ import annotations

import asyncio
import logging
import os
import termios
import textwrap
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol, TextIO


class LineSource(Protocol):
    def session(self) -> AbstractContextManager[None]:
        """Held while the console runs."""
        ...

    async def read(self) -> str | None:
        """The next line without its newline; None at the end of input."""
        ...


class PipedLines:
    """Standard input that is not a terminal: read as it comes, no prompt, nothing echoed."""

    def __init__(self, stdin: TextIO) -> None:
        self.stdin = stdin

    @contextmanager
    def session(self) -> Iterator[None]:
        yield

    async def read(self) -> str | None:
        line = await asyncio.to_thread(self.stdin.readline)
        return line.rstrip("\r\n") if line else None


# Ctrl-C as a key: readline throws the line away (into the kill ring) and enters the empty line. Bound
# through two private sequences so that it works whatever the person's inputrc binds Ctrl-E or Ctrl-U to.
_CTRL_C_BINDINGS = (
    r'"\e[9901~": kill-whole-line',
    r'"\e[9902~": accept-line',
    r'"\C-c": "\e[9901~\e[9902~"',
)


class TerminalLines:
    """A prompt with readline editing and history; Ctrl-C clears the line, Ctrl-D ends the input.

    Ctrl-C is a key here, not a signal. CPython's readline notices SIGINT only if it lands while
    waiting in select(), so a Ctrl-C pressed just as the prompt is drawn could be lost, and asyncio's
    own handler would cancel the whole console. So, for the session, the terminal's interrupt
    character is switched off (Ctrl-Z and Ctrl-\\ keep working) and readline gets Ctrl-C as a key.
    A Ctrl-C pressed while a command runs waits in the input and clears the next prompt's line.

    input() runs on the event loop's own thread, which is why readline can edit the line at all (it
    edits only the process's own standard streams, from the thread that owns them). Nothing else
    runs on the console's loop between commands (/tick runs the scheduler by hand; every write has
    committed before its command returns), so the wait holds nothing up.
    """

    def __init__(self, stdin: TextIO, stdout: TextIO, prompt: str) -> None:
        import readline  # importing it is what gives input() editing and history

        self.stdin = stdin
        self.stdout = stdout
        self.prompt = prompt
        self._held = False
        for binding in _CTRL_C_BINDINGS:
            readline.parse_and_bind(binding)

    @contextmanager
    def session(self) -> Iterator[None]:
        """Ctrl-C belongs to the prompt from here on; enter it early, before start-up work."""
        if self._held:  # an outer caller holds it already
            yield
            return
        fd = self.stdin.fileno()
        saved = termios.tcgetattr(fd)
        changed = termios.tcgetattr(fd)
        changed[6][termios.VINTR] = b"\0"  # _POSIX_VDISABLE: Ctrl-C raises no SIGINT, it is read as a key
        termios.tcsetattr(fd, termios.TCSANOW, changed)
        self._held = True
        try:
            yield
        finally:
            self._held = False
            termios.tcsetattr(fd, termios.TCSADRAIN, saved)

    def complete_with(self, completer: Callable[[str, int], str | None]) -> None:
        import readline

        readline.set_completer_delims(" \t\n")  # "/debate" and "forget-me" are single words
        readline.set_completer(completer)
        readline.parse_and_bind("tab: complete")

    async def read(self) -> str | None:
        try:
            return input(self.prompt)  # noqa: ASYNC250  (on purpose: see the class docstring)
        except EOFError:
            self.stdout.write("\n")  # so the shell's prompt starts on its own line
            self.stdout.flush()
            return None


def is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or fileno-less stream
        return False


def terminal_width(stream: TextIO) -> int | None:
    """Columns of the terminal `stream` writes to; None when it is not a terminal."""
    if not is_terminal(stream):
        return None
    try:
        return os.get_terminal_size(stream.fileno()).columns or None
    except (OSError, ValueError):
        return None


def display_width(text: str) -> int:
    """Columns `text` takes on a terminal, near enough: wide characters and emoji count two."""
    width = 0
    for char in text:
        if char == "\ufe0f":  # emoji presentation: the narrow symbol before it is drawn two columns wide
            width += 1
        elif char == "\u200d" or unicodedata.combining(char):
            continue
        else:
            width += 2 if unicodedata.east_asian_width(char) in "WF" else 1
    return width


def fit(text: str, width: int) -> str:
    """`text` with each line longer than `width` columns wrapped at spaces, keeping its indent."""
    out: list[str] = []
    for line in text.split("\n"):
        wide = display_width(line) - len(line)  # textwrap counts characters; leave room for wide ones
        if display_width(line) <= width or width - wide < 20:
            out.append(line)
            continue
        indent = line[: len(line) - len(line.lstrip())]
        out.extend(textwrap.wrap(line, width - wide, subsequent_indent=indent,
                                 break_long_words=False, break_on_hyphens=False) or [line])
    return "\n".join(out)


def quiet_logs_for_console() -> None:
    """Keep log lines out of the conversation: below WARNING they are not shown in console mode.

    Logging was set up for a server (INFO on stderr); at a terminal stderr is the same screen as the
    REPL, so start-up lines such as applied migrations would land between prompts.
    """
    for handler in logging.getLogger().handlers:
        if handler.level < logging.WARNING:
            handler.setLevel(logging.WARNING)
