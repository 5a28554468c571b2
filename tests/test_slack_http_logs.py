"""Repeated identical log lines are written once per interval with a count (bots.logthrottle), installed
for the whole process by bots.logsafety.configure_logging: 10,000 identical rejected requests through the
Slack HTTP server are a handful of lines."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest

from core.service import DebateService
from tests.fakes.slack_fake import FakeSlack
from tests.slack_helpers import raw_sign
from tests.test_slack_http_server import serving


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def throttled() -> Iterator[tuple[logging.Logger, Collect, Clock]]:
    from bots.logthrottle import ThrottleFilter

    logger = logging.getLogger("tests.throttle")
    logger.propagate, logger.level = False, logging.DEBUG
    handler, clock = Collect(), Clock()
    handler.addFilter(ThrottleFilter(handler, interval=60.0, clock=clock))
    logger.addHandler(handler)
    yield logger, handler, clock
    logger.removeHandler(handler)
    logger.propagate = True


def test_repeats_are_counted_and_reported_once_per_interval(throttled: tuple[logging.Logger, Collect, Clock]) -> None:
    logger, handler, clock = throttled
    for n in range(1000):
        logger.warning("users.info failed (%s)", f"error {n % 3}")  # one template, whatever the argument
        clock.now += 0.01
    logger.error("users.info failed (%s)", "as error")  # another level is another line
    assert handler.lines == ["users.info failed (error 0)", "users.info failed (as error)"]
    clock.now += 60
    logger.warning("users.info failed (%s)", "again")
    assert handler.lines[2:] == ["users.info failed (error 0) (repeated 999 times in the last 70s)",
                                 "users.info failed (again)"]


def test_a_quiet_template_is_summed_up_when_anything_else_is_logged(
    throttled: tuple[logging.Logger, Collect, Clock]
) -> None:
    logger, handler, clock = throttled
    for _ in range(5):
        logger.info("refused a connection: %s open", 4096)
    clock.now += 61
    logger.info("something else")
    assert handler.lines == ["refused a connection: 4096 open",
                             "refused a connection: 4096 open (repeated 4 times in the last 61s)", "something else"]
    logger.info("something else")
    handler.filters[0].flush()  # type: ignore[union-attr]
    assert handler.lines[-1] == "something else (repeated 1 times in the last 1s)"


def test_install_is_idempotent_and_gives_each_handler_its_own_filter() -> None:
    from bots.logthrottle import ThrottleFilter, install_log_throttle

    logger = logging.getLogger("tests.throttle.install")
    logger.propagate, logger.level = False, logging.INFO
    first, second = Collect(), Collect()
    logger.addHandler(first)
    logger.addHandler(second)
    try:
        install_log_throttle(logger=logger)
        install_log_throttle(logger=logger)
        assert [len(h.filters) for h in (first, second)] == [1, 1]
        assert isinstance(first.filters[0], ThrottleFilter) and first.filters[0] is not second.filters[0]
        for _ in range(100):
            logger.info("same")
        assert first.lines == second.lines == ["same"]  # a shared filter would starve the second handler
    finally:
        logger.removeHandler(first)
        logger.removeHandler(second)
        logger.propagate = True


# ------------------------------------------------------------------------- through the Slack server


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield fake


@pytest.fixture
def root_lines(caplog: pytest.LogCaptureFixture) -> Iterator[Collect]:
    """A handler on the root logger, throttled as configure_logging throttles the CLI's handler."""
    from bots.logthrottle import install_log_throttle

    caplog.set_level(logging.INFO)  # LOG_LEVEL=INFO, the default
    handler = Collect()
    logging.getLogger().addHandler(handler)
    install_log_throttle()
    yield handler
    logging.getLogger().removeHandler(handler)


async def test_ten_thousand_identical_rejected_requests_log_a_bounded_number_of_lines(
    slack: FakeSlack, service: DebateService, root_lines: Collect
) -> None:
    body = b"hello=world"  # signed, but neither a command, an interaction nor an event
    headers = raw_sign(body, "application/x-www-form-urlencoded")
    async with serving(slack, service) as base, aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=20)) as http:
        async def reject() -> int:
            async with http.post(f"{base}/slack/events", data=body, headers=headers) as resp:
                await resp.read()
                return resp.status

        statuses = await asyncio.gather(*(reject() for _ in range(10_000)))
    assert set(statuses) == {400}
    rejected = [line for line in root_lines.lines if "rejected a signed request" in line]
    assert 1 <= len(rejected) <= 3, len(rejected)
    assert len(root_lines.lines) <= 30, root_lines.lines[-5:]  # nor one line per request from anyone else
