"""Schedules set by command, and the console driving the scheduler end to end with a fake clock."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from bots.console.repl import ConsoleAdapter
from core.moments import resolve
from core.scheduler.commands import ScheduleCommands
from core.service import DebateService
from core.store.sqlite import SqliteStore
from tests.conftest import FakeClock, member

ADMIN = member("admin", admin=True)


async def test_set_show_off_and_bad_input(service: DebateService, store: SqliteStore, clock: FakeClock) -> None:
    commands = ScheduleCommands(service)
    reply = await commands.handle(ADMIN, ["set", "time=09:00", "tz=europe/berlin", "days=mon-fri", "order=shuffle"])
    assert not reply.error, reply.text
    # 2 March 2026 09:00 UTC is a Monday, 10:00 in Berlin: today's 09:00 has passed, so Tuesday is next.
    assert "Next post: 3 Mar 2026, 09:00 CET" in resolve(reply.text)
    schedule = await store.get_schedule("S1", "C1")
    assert schedule is not None and schedule.timezone == "Europe/Berlin" and schedule.deck_order == "shuffle"
    for bad, words in ((["set", "time=25:00"], "not a time of day"), (["set", "tz=Mars/Base"], "Unknown timezone"),
                       (["set", "days=funday"], "funday"), (["set", "duration=5m"], "between 10 minutes"),
                       (["set", "k=0"], "k cannot be below 3"), (["set", "colour=red"], "Unknown schedule setting"),
                       (["set", "results=sometimes"], "live"), (["explode"], "Unknown schedule action")):
        answer = await commands.handle(ADMIN, bad)
        assert answer.error and words in answer.text, (bad, answer.text)
    assert await store.get_schedule("S1", "C1") == schedule, "bad input changes nothing"
    refused = await commands.handle(member("m"), ["set", "time=10:00"])
    assert refused.error and "Only facilitators" in refused.text
    off = await commands.handle(ADMIN, ["off"])
    assert "stopped" in off.text
    assert "No daily question" in (await commands.handle(ADMIN, ["show"])).text


async def test_new_schedule_needs_a_time(service: DebateService) -> None:
    reply = await ScheduleCommands(service).handle(ADMIN, ["set", "tz=UTC"])
    assert reply.error and "at least a time" in reply.text


async def test_console_schedule_posts_at_due_time_and_outcome_follows(pack, store: SqliteStore) -> None:
    clock = FakeClock(datetime(2026, 3, 2, 6, 0, tzinfo=UTC))
    service = DebateService(pack, store, "secret-0123456789abcdef", clock=clock)
    out = io.StringIO()
    console = ConsoleAdapter(service, io.StringIO(), out, user="host")
    await console.handle("/debate schedule set time=08:30 tz=Europe/Berlin duration=2h results=after-close k=3")
    await console.handle("/tick")
    assert "Nothing is due." in out.getvalue()
    clock.advance(hours=1, minutes=31)  # 07:31 UTC = 08:31 Berlin
    await console.handle("/tick")
    text = out.getvalue()
    assert "Type a number to vote." in text and "Poll #1" in text
    for name, choice in (("a", "1"), ("b", "5"), ("c", "5")):
        await console.handle(f"/as {name}")
        await console.handle(choice)
    assert "Results show when the poll closes." in out.getvalue()
    clock.advance(hours=2)
    await console.handle("/tick")
    text = out.getvalue()
    assert "Poll #1 is closed." in text and "Results: " in text and "Follow-up question" in text
    assert "Privacy first (2)" in text.split("Results: ")[-1]
    await console.handle("/as d")
    await console.handle("1")
    assert "is closed; votes are no longer accepted" in out.getvalue()
    await console.handle("/tick")
    assert out.getvalue().count("Results: ") == 1, "the outcome is posted once"
