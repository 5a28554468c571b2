"""Repeated identical log lines, once per interval with a count.

A flood (a client hammering an endpoint, the Web API down, the process out of file descriptors) must
not turn into a flood of identical lines: 160,000 of them filled 77 MB in 35 s once. `ThrottleFilter`
lets the first record of a (logger, level, message template) through, swallows the repeats for
`interval` seconds, and then writes one line "<message> (repeated N times in the last Ns)".

Records are keyed by their template (record.msg), not the formatted text, so "rejected a request: %s"
is one key whatever the argument. One filter instance per handler: a record visits every handler,
and a filter shared by two handlers would see each record twice.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

MAX_KEYS = 2048  # distinct templates tracked at once; a flood of *distinct* messages must not grow memory
SWEEP_EVERY = 1.0  # seconds between looks for windows that ended with repeats still unreported


@dataclass
class _Window:
    started: float
    repeats: int = 0
    last: logging.LogRecord | None = None


class ThrottleFilter(logging.Filter):
    """A handler filter: the first of each (logger, level, template) per interval, then a count."""

    def __init__(
        self, handler: logging.Handler, interval: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__()
        self.handler = handler
        self.interval = interval
        self.clock = clock
        self._windows: dict[tuple[str, int, str], _Window] = {}
        self._lock = threading.Lock()
        self._next_sweep = 0.0

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "throttle_summary", False):
            return True
        now = self.clock()
        key = (record.name, record.levelno, record.msg if isinstance(record.msg, str) else repr(type(record.msg)))
        with self._lock:
            due = self._sweep(now, keep=key)
            window = self._windows.get(key)
            if window is not None and now - window.started < self.interval:
                window.repeats += 1
                window.last = record
                passed = False
            else:
                if window is not None and window.repeats:
                    due.append(window)
                if window is None and len(self._windows) >= MAX_KEYS:
                    self._evict(due)
                self._windows[key] = _Window(now)
                passed = True
        for ended in due:  # outside the lock: handle() runs this filter again (and passes the summary)
            self._report(ended, now)
        return passed

    def flush(self) -> None:
        """Report every pending count now (shutdown, tests)."""
        now = self.clock()
        with self._lock:
            due = [w for w in self._windows.values() if w.repeats]
            self._windows.clear()
        for window in due:
            self._report(window, now)

    def _sweep(self, now: float, keep: tuple[str, int, str]) -> list[_Window]:
        """Windows of other keys that have ended with repeats: report them without waiting for a repeat."""
        if now < self._next_sweep:
            return []
        self._next_sweep = now + SWEEP_EVERY
        ended = [k for k, w in self._windows.items() if k != keep and now - w.started >= self.interval]
        return [w for w in (self._windows.pop(k) for k in ended) if w.repeats]

    def _evict(self, due: list[_Window]) -> None:
        oldest = min(self._windows, key=lambda k: self._windows[k].started)
        window = self._windows.pop(oldest)
        if window.repeats:
            due.append(window)

    def _report(self, window: _Window, now: float) -> None:
        last = window.last
        if last is None:
            return
        seconds = max(1, round(now - window.started))
        summary = logging.makeLogRecord({
            "name": last.name, "levelno": last.levelno, "levelname": last.levelname,
            "pathname": last.pathname, "lineno": last.lineno, "funcName": last.funcName,
            "msg": "%s (repeated %d times in the last %ds)", "args": (last.getMessage(), window.repeats, seconds),
            "throttle_summary": True,
        })
        self.handler.handle(summary)


def install_log_throttle(interval: float = 60.0, logger: logging.Logger | None = None) -> None:
    """Attach a ThrottleFilter to each handler of the root logger (or `logger`) that has none yet.

    Idempotent: calling it again (the CLI for the whole process, the Slack server for its own path)
    adds nothing twice. Handlers added later are not covered, so call it after logging is configured.
    """
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if not any(isinstance(f, ThrottleFilter) for f in handler.filters):
            handler.addFilter(ThrottleFilter(handler, interval))
