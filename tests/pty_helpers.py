"""Drive `counterpoint console` through a real pseudo-terminal, as a person at a keyboard would.

The child gets the pty as its controlling terminal (pty.fork), so Ctrl-C typed as "\\x03" becomes a real
SIGINT and readline sees a real terminal. Waiting is by content with a generous deadline, never by time:
a deadline that passes fails the test with the transcript so far.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import sys
import termios
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEADLINE_S = 20.0
# CSI sequences (cursor moves, bracketed-paste toggles) and the lone controls readline redraws with.
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[=>]|[\x07\r]")


def strip(raw: bytes) -> str:
    """The output without escape sequences and carriage returns; only ever grows as output arrives."""
    return _ANSI.sub("", raw.decode("utf-8", "replace"))


def clean(raw: bytes) -> str:
    """What a person reads: `strip`, with backspaces applied (readline erases a cleared line with them)."""
    out: list[str] = []
    for char in strip(raw):
        if char == "\b":
            if out and out[-1] != "\n":
                out.pop()
        else:
            out.append(char)
    return "".join(out)


class PtyConsole:
    def __init__(self, tmp_path: Path, *args: str, columns: int = 80, rows: int = 24) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "SLACK_", "LOG_"))}
        env.update({
            "DATABASE_URL": f"sqlite:///{tmp_path / 'console.db'}",
            "TERM": "xterm",
            "HOME": str(tmp_path),  # no ~/.inputrc or history of the person running the tests
            "INPUTRC": str(tmp_path / "no-inputrc"),
            "PYTHONPATH": str(ROOT),
            "COLUMNS": str(columns),
            "LINES": str(rows),
        })
        argv = [sys.executable, "-m", "bots.cli", "console", *args]
        pid, fd = pty.fork()
        if pid == 0:  # the child: size its terminal before anything reads it, then become the console
            try:
                fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
                os.chdir(tmp_path)
                os.execve(sys.executable, argv, env)
            finally:
                os._exit(127)
        self.pid = pid
        self.fd = fd
        self.raw = b""
        self.seen = 0  # expect() searches strip(raw) from here on
        self.returncode: int | None = None

    @property
    def transcript(self) -> str:
        return clean(self.raw)

    def send(self, keys: str) -> None:
        os.write(self.fd, keys.encode("utf-8"))

    def _read(self, until: float) -> bool:
        """Read what is available (waiting until `until` at most); False once the child closed the pty."""
        ready, _, _ = select.select([self.fd], [], [], max(0.0, until - time.monotonic()))
        if not ready:
            return True
        try:
            chunk = os.read(self.fd, 4096)
        except OSError:  # EIO: the child is gone and the pty closed
            return False
        self.raw += chunk
        return bool(chunk)

    def expect(self, text: str, deadline: float = DEADLINE_S) -> str:
        """Wait for `text` after what earlier expects matched; returns the output up to and including it."""
        until = time.monotonic() + deadline
        while True:
            # Searched without backspaces applied, so that erasing never moves text behind `seen`.
            output = strip(self.raw)
            found = output.find(text, self.seen)
            if found >= 0:
                before = output[self.seen:found + len(text)]
                self.seen = found + len(text)
                return before
            if time.monotonic() >= until or not self._read(until):
                raise AssertionError(f"no {text!r} in the terminal; transcript:\n{self.transcript}")

    def wait(self, deadline: float = DEADLINE_S) -> int:
        """The exit code, reading (and keeping) the output until the child ends."""
        until = time.monotonic() + deadline
        while self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
                break
            if time.monotonic() >= until:
                raise AssertionError(f"the console did not exit; transcript:\n{self.transcript}")
            if not self._read(min(until, time.monotonic() + 0.2)):
                # The pty closed: the child is exiting, so a blocking wait ends promptly.
                _, status = os.waitpid(self.pid, 0)
                self.returncode = os.waitstatus_to_exitcode(status)
        while self._read(time.monotonic()):  # whatever was still buffered
            if not select.select([self.fd], [], [], 0)[0]:
                break
        return self.returncode

    def close(self) -> None:
        if self.returncode is None:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            self.returncode = -9
        os.close(self.fd)
