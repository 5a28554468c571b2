"""Arbitrary text through the command parser and the console: every line gets an answer, none raises.

Finding: `/debate results ²` crashed the handler (and ended the console), and `٣` was read as poll 3.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bots.console.repl import ConsoleAdapter
from core.commands import CommandRouter
from core.content import load_pack
from core.render import Reply
from core.scheduler.commands import ScheduleCommands
from core.service import DebateService
from core.store.sqlite import SqliteStore
from tests.conftest import FakeClock, member

WORDS = ("today", "results", "post", "close", "export", "settings", "min-votes", "schedule", "set", "show", "off",
         "stance", "forget-me", "help", "article", "time=09:00", "tz=Europe/Berlin", "tz=Mars/Base", "days=mon-fri",
         "days=", "k=3", "k=1", "k=٣", "duration=24h", "duration=0m", "order=shuffle", "results=after-close",
         "1", "2", "#1", "²", "٣", "３", "-1", "99999999999999999999999", "intro", "=1+1", "\u0000", "\u202e",
         "/debate", "/as", "/retract", "/tick", "/whoami", "yes", "no", "")
LINES = st.one_of(
    st.text(max_size=60),
    st.lists(st.sampled_from(WORDS), max_size=6).map(" ".join),
    st.lists(st.sampled_from(WORDS), min_size=1, max_size=5).map(lambda w: "/debate " + " ".join(w)),
)


@pytest.fixture
def loop_and_service(tmp_path: Path) -> Iterator[tuple[asyncio.AbstractEventLoop, DebateService]]:
    loop = asyncio.new_event_loop()
    store = SqliteStore(tmp_path / "fuzz.db")
    loop.run_until_complete(store.open())
    service = DebateService(load_pack(), store, "fuzz-secret-0123456789", clock=FakeClock())
    try:
        yield loop, service
    finally:
        loop.run_until_complete(store.close())
        loop.close()


FUZZ = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def test_command_parser_answers_everything(loop_and_service: tuple[asyncio.AbstractEventLoop, DebateService]) -> None:
    loop, service = loop_and_service
    router = CommandRouter(service, ScheduleCommands(service).handle)

    @FUZZ
    @given(text=LINES, admin=st.booleans())
    def check(text: str, admin: bool) -> None:
        reply = loop.run_until_complete(router.handle(member("fuzzer", admin=admin), text))
        assert isinstance(reply, Reply)
        assert reply.text or reply.card is not None or reply.post is not None

    check()


def test_console_answers_every_line(loop_and_service: tuple[asyncio.AbstractEventLoop, DebateService]) -> None:
    loop, service = loop_and_service
    out = io.StringIO()
    console = ConsoleAdapter(service, io.StringIO(), out, user="host")

    @FUZZ
    @given(lines=st.lists(LINES, min_size=1, max_size=4))
    def check(lines: list[str]) -> None:
        for line in lines:
            before = out.tell()
            loop.run_until_complete(console.handle(line.strip() or "/debate help"))
            assert out.tell() > before, f"no answer to {line!r}"

    check()


@pytest.mark.parametrize("text", ["results ²", "results ٣", "close ٣", "results #３"])
def test_unicode_digits_are_not_poll_numbers(loop_and_service: tuple[asyncio.AbstractEventLoop, DebateService],
                                            text: str) -> None:
    loop, service = loop_and_service
    router = CommandRouter(service, ScheduleCommands(service).handle)
    for _ in range(3):
        loop.run_until_complete(service.post(member("admin", admin=True, channel=f"C{_}")))
    reply = loop.run_until_complete(router.handle(member("admin", admin=True), text))
    assert reply.error and "is not a poll number" in reply.text
