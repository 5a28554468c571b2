"""Three `counterpoint run` processes behind one "balancer", on one PostgreSQL database.

Each child serves Slack in HTTP mode on its own port against one fake Slack; signed requests are
spread over the three ports as a balancer would. All three run the scheduler. What must hold:
- one scheduled post and one outcome overall (claims in the database);
- the tally is exact, whichever process took each vote;
- edits of the poll message reach Slack at least 2 s apart and the last one shows the final counts
  (refresh turns in the database);
- after the close, no process takes a vote (each process caches the poll it saw open).
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp

from bots.slack.blocks import OUTCOME_EVENT_TYPE, POLL_EVENT_TYPE
from core.models import Schedule
from core.store.postgres import PostgresStore
from tests.fakes.slack_fake import TEAM_ID, FakeSlack, block_actions_payload, sign, slash_body
from tests.slack_helpers import CHANNEL, block_text, free_port, vote_buttons
from tests.test_runner_isolation import wait_exit, wait_healthy

SECRET = "multiprocess-signing-secret"
ADMIN = "U0001"
VOTERS = 24
PROCESSES = 3


def start_bot(tmp_path: Path, slack: FakeSlack, port: int, dsn: str, n: int) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "SLACK_"))}
    env.update({
        "DATABASE_URL": dsn, "COUNTERPOINT_SECRET": "multiprocess-secret-0123456789",
        "SLACK_BOT_TOKEN": slack.bot_token, "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": slack.api_url,
        "SLACK_PORT": str(port), "SLACK_MODE": "http", "SLACK_ADMIN_USERS": ADMIN, "LOG_LEVEL": "INFO",
    })
    # Logs to a file: a child blocked on a full stderr pipe would look like a hung bot.
    log = (tmp_path / f"bot{n}.log").open("w")
    return subprocess.Popen([sys.executable, "-m", "bots.cli", "run"], cwd=tmp_path, env=env, text=True,
                            stdout=log, stderr=subprocess.STDOUT)


async def seed_schedule(dsn: str) -> None:
    """A daily schedule whose time passed two minutes ago: each process's first tick finds it due."""
    now = datetime.now(UTC)
    at = (now - timedelta(minutes=2)).time().replace(second=0, microsecond=0)
    store = PostgresStore(dsn)
    await store.open()  # migrates the empty database once, before the three processes race for nothing
    try:
        await store.save_schedule(Schedule(TEAM_ID, CHANNEL, "slack", time(at.hour, at.minute), "UTC",
                                           frozenset(range(7)), timedelta(hours=1), "section", "seed",
                                           now - timedelta(days=1)))
    finally:
        await store.close()


def with_event(slack: FakeSlack, event_type: str) -> list[dict[str, Any]]:
    return [m for m in slack.messages.get(CHANNEL, []) if (m.get("metadata") or {}).get("event_type") == event_type]


async def post(http: aiohttp.ClientSession, port: int, body: bytes) -> int:
    async with http.post(f"http://127.0.0.1:{port}/slack/events", data=body, headers=sign(SECRET, body)) as resp:
        return resp.status


def click(slack: FakeSlack, message: dict[str, Any], value: str, user: str, tag: str) -> bytes:
    payload = block_actions_payload(value, value, user_id=user, channel_id=CHANNEL, message=message,
                                    response_url=slack.response_url(tag))
    return urlencode({"payload": json.dumps(payload)}).encode()


async def test_three_processes_one_database(tmp_path: Path, pg_dsn: str) -> None:
    await seed_schedule(pg_dsn)
    ports = [free_port() for _ in range(PROCESSES)]
    async with FakeSlack() as slack:
        procs = [start_bot(tmp_path, slack, port, pg_dsn, n) for n, port in enumerate(ports)]
        try:
            await asyncio.gather(*(wait_healthy(port, proc) for port, proc in zip(ports, procs, strict=True)))
            try:  # a generous deadline: three processes start on two busy cores
                await slack.wait_for(lambda: with_event(slack, POLL_EVENT_TYPE), timeout=60)
            except TimeoutError:
                logs = "\n".join((tmp_path / f"bot{n}.log").read_text()[-2000:] for n in range(PROCESSES))
                raise AssertionError(f"no scheduled post within 60 s; the bots said:\n{logs}") from None
            message = copy.deepcopy(with_event(slack, POLL_EVENT_TYPE)[0])
            options = [b["value"] for b in vote_buttons(message)]

            # Every voter votes, a third change their mind; requests go round the three ports.
            final: dict[str, str] = {}
            async with aiohttp.ClientSession() as http:
                bodies = []
                for i in range(VOTERS):
                    user = f"UV{i:03d}"
                    choices = [options[i % len(options)]] + ([options[(i + 1) % len(options)]] if i % 3 == 0 else [])
                    for value in choices:
                        bodies.append((user, value))
                    final[user] = choices[-1]
                # A voter's change goes after the first vote was answered: the same member cannot
                # click twice at once, so only different members race.
                firsts = [b for n, b in enumerate(bodies) if n == 0 or bodies[n - 1][0] != b[0]]
                changes = [b for n, b in enumerate(bodies) if n > 0 and bodies[n - 1][0] == b[0]]
                for batch, name in ((firsts, "vote"), (changes, "change")):
                    statuses = await asyncio.gather(*(
                        post(http, ports[n % PROCESSES], click(slack, message, value, user, f"{name}-{user}"))
                        for n, (user, value) in enumerate(batch)))
                    assert statuses == [200] * len(batch)
                    await slack.wait_for(lambda b=batch, nm=name: len(
                        [r for r in slack.responses if r.tag.startswith(f"{nm}-")]) == len(b), timeout=45)

                assert await post(http, ports[1], slash_body(text="close", user_id=ADMIN, team_id=TEAM_ID,
                                                             channel_id=CHANNEL,
                                                             response_url=slack.response_url("close"))) == 200
                await slack.wait_for(lambda: [r for r in slack.responses if r.tag == "close"], timeout=10)
                # A process that took votes before still holds the poll as open in its cache.
                assert await post(http, ports[0], click(slack, message, options[0], "UV999", "late")) == 200
                await slack.wait_for(lambda: [r for r in slack.responses if r.tag == "late"], timeout=10)

            # Each process ticks every 20 s: the outcome comes with the next tick of one of them.
            await slack.wait_for(lambda: with_event(slack, OUTCOME_EVENT_TYPE), timeout=30)
            await asyncio.sleep(2.5)  # a refresh still waiting for its turn would land by now
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
            for proc in procs:
                await wait_exit(proc, 15)

        logs = "\n".join((tmp_path / f"bot{n}.log").read_text() for n in range(PROCESSES))
        assert len(with_event(slack, POLL_EVENT_TYPE)) == 1, logs  # one scheduled post overall
        assert len(with_event(slack, OUTCOME_EVENT_TYPE)) == 1, logs  # one outcome overall
        late = next(r for r in slack.responses if r.tag == "late")
        assert "closed" in json.dumps(late.body), late.body

        updates = [c for c in slack.calls_to("chat.update") if c.status == 200]
        assert len(updates) >= 2, logs  # votes, then the close: the spacing below is tested
        times = [c.time for c in updates]
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert all(gap >= 2.0 for gap in gaps), gaps
        shown = block_text(with_event(slack, POLL_EVENT_TYPE)[0]["blocks"])
        assert f"{VOTERS} votes" in shown, shown
        assert not slack.violations

    store = PostgresStore(pg_dsn)
    await store.open()
    try:
        poll = (await store.recent_polls(TEAM_ID, CHANNEL))[0]
        tally = await store.tally(poll.id)
        assert tally.total == VOTERS
        current: dict[str, int] = {}
        for (_, option), n in tally.transitions.items():
            current[option] = current.get(option, 0) + n
        expected: dict[str, int] = {}
        for value in final.values():
            option = value.rsplit(":", 1)[1]
            expected[option] = expected.get(option, 0) + 1
        assert current == expected
    finally:
        await store.close()
