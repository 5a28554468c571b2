"""kill -9 durability: every acknowledged vote survives, and the database stays consistent.

A child process (tests/crash_child.py) votes through the real service on a database (a SQLite file, or a
PostgreSQL database on the session's throwaway cluster) and reports
each vote it is about to make (TRY) and each vote whose awaited call returned (ACK). The parent kills
it with SIGKILL at random moments, starts a new child on the same file, and repeats. Afterwards:

- each member's stored vote is their last acknowledged one, or one they tried after it: a vote can be
  committed and then killed before its ACK is written (committed but not acknowledged is allowed);
- one row per member, tallies equal the vote rows they summarise, the event log agrees with the rows,
  and (SQLite) PRAGMA integrity_check is ok.

Set CRASH_SEED to replay a run.
"""

from __future__ import annotations

import asyncio
import os
import random
import selectors
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from core.privacy import SECRET_META_KEY, voter_key
from core.store.base import Store
from core.store.sqlite import SqliteStore
from tests.crash_child import CHANNEL, SPACE

ROOT = Path(__file__).resolve().parent.parent
CHILD = Path(__file__).resolve().parent / "crash_child.py"
GENERATIONS = 15
ACKS_BEFORE_KILL = (50, 400)
BLIND_KILL_SHARE = 0.2  # some kills ignore the ACK count and land anywhere, startup included
BLIND_KILL_S = (0.05, 0.6)
GENERATION_TIMEOUT_S = 15.0

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")


@dataclass
class Member:
    acked: str | None = None  # None: never acknowledged, or acknowledged retraction
    tried_since_ack: set[str | None] = field(default_factory=set)

    def allowed(self) -> set[str | None]:
        return {self.acked} | self.tried_since_ack


@dataclass
class Log:
    members: dict[str, Member] = field(default_factory=dict)
    polls: set[int] = field(default_factory=set)
    acks: int = 0
    errors: list[str] = field(default_factory=list)

    def feed(self, line: str) -> None:
        kind, _, rest = line.partition(" ")
        if kind == "POLL":
            self.polls.add(int(rest))
            return
        name, _, choice_text = rest.partition(" ")
        choice = None if choice_text.split(" ", 1)[0] == "-" else choice_text.split(" ", 1)[0]
        member = self.members.setdefault(name, Member())
        if kind == "TRY":
            member.tried_since_ack.add(choice)
        elif kind == "ACK":
            self.acks += 1
            member.acked = choice
            member.tried_since_ack.clear()
        elif kind == "ERR":
            self.errors.append(line)
        else:
            raise AssertionError(f"unexpected line from the child: {line!r}")


def run_generation(db: str, generation: int, rng: random.Random, log: Log, stderr_path: Path) -> str:
    """Start a child, kill it with SIGKILL at a random moment, read everything it wrote. Returns how."""
    blind = rng.random() < BLIND_KILL_SHARE
    kill_after_acks = rng.randint(*ACKS_BEFORE_KILL)
    kill_at = time.monotonic() + rng.uniform(*BLIND_KILL_S) if blind else None
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    with stderr_path.open("ab") as stderr:
        proc = subprocess.Popen(
            [sys.executable, str(CHILD), db, str(generation), str(rng.randrange(1 << 30))],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=stderr,
            bufsize=0,  # raw pipe: select() and os.read() see exactly what the child wrote
        )
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    selector = selectors.DefaultSelector()
    selector.register(fd, selectors.EVENT_READ)
    pending = b""
    acks_here = 0
    killed = False
    give_up = time.monotonic() + GENERATION_TIMEOUT_S
    try:
        while True:
            now = time.monotonic()
            if not killed and (
                (kill_at is not None and now >= kill_at) or (kill_at is None and acks_here >= kill_after_acks)
            ):
                proc.send_signal(signal.SIGKILL)  # lines already in the pipe are still read below
                killed = True
            if now > give_up:
                proc.kill()
                proc.wait()
                raise AssertionError(f"generation {generation}: child neither acknowledged nor died in time")
            timeout = 0.05 if not killed and kill_at is None else 0.01
            if not selector.select(timeout):
                if proc.poll() is not None and not killed:
                    break  # it ended by itself; the exit code check below says why
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                break  # EOF: the child is gone and the pipe is drained
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for raw in lines:
                line = raw.decode()
                log.feed(line)
                acks_here += line.startswith("ACK ")
    finally:
        selector.close()
        proc.stdout.close()
    code = proc.wait()
    # A partial last line is a line cut by the kill: its call did not return, so it is no ACK.
    if not killed:
        raise AssertionError(
            f"generation {generation}: child exited with {code} before being killed:\n"
            + stderr_path.read_text(errors="replace")[-3000:]
        )
    assert code == -signal.SIGKILL, f"generation {generation}: exit code {code}"
    return f"{'blind' if blind else 'after acks'}: {acks_here} acks"


class Reader:
    """Raw SQL on either engine, written with '?' placeholders."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def rows(self, sql: str, *params: object) -> list[tuple]:
        if isinstance(self.store, SqliteStore):
            cur = await self.store.reader.execute(sql, params)
            return [tuple(r) for r in await cur.fetchall()]
        for n in range(1, len(params) + 1):
            sql = sql.replace("?", f"${n}", 1)
        return [tuple(r) for r in await self.store.pool.fetch(sql, *params)]  # type: ignore[attr-defined]


def open_store(database: str) -> Store:
    if database.startswith("postgresql://"):
        from core.store.postgres import PostgresStore

        return PostgresStore(database)
    return SqliteStore(database)


async def verify(database: str, log: Log) -> None:
    store = open_store(database)
    await store.open()
    try:
        if isinstance(store, SqliteStore):
            assert await store.integrity_check() == "ok"
        sql = Reader(store)
        secret = await store.get_meta(SECRET_META_KEY)
        assert secret, "the voter-key secret is missing from the meta table"
        polls = await store.recent_polls(SPACE, CHANNEL)
        assert len(polls) == 1, f"expected one poll, found {[p.id for p in polls]}"
        poll = polls[0]
        assert log.polls <= {poll.id}

        names = {voter_key(secret, SPACE, name): name for name in log.members}
        wrong = []
        for key, name in names.items():
            stored = await store.current_vote(poll.id, key)
            if stored not in log.members[name].allowed():
                member = log.members[name]
                wrong.append(f"{name}: stored {stored!r}, last ACK {member.acked!r}, tried {member.tried_since_ack}")
        assert not wrong, f"{len(wrong)} acknowledged votes lost or altered:\n" + "\n".join(wrong[:20])

        assert await sql.rows(
            "SELECT voter_key, COUNT(*) FROM votes WHERE poll_id = ? GROUP BY voter_key HAVING COUNT(*) > 1", poll.id,
        ) == [], "a member holds two vote rows"
        rows = await sql.rows("SELECT voter_key, first_option_id, option_id FROM votes WHERE poll_id = ?", poll.id)
        strangers = [r[0] for r in rows if r[0] not in names]
        assert not strangers, f"{len(strangers)} vote rows belong to no member the children used"

        tally = await store.tally(poll.id)
        current = [r for r in rows if r[2] is not None]
        assert tally.total == len(current), f"tallies say {tally.total} votes, the votes table holds {len(current)}"
        assert tally.transitions == dict(Counter((r[1], r[2]) for r in current))
        assert (await sql.rows("SELECT COUNT(*) FROM tallies WHERE n < 0"))[0][0] == 0

        # History (the first vote in its row, the rest in the event log) is written in the same transaction
        # as the row: its last word must agree.
        for key, first, option in rows:
            history = await store.history(poll.id, key)
            assert history and history[0].kind == "cast" and history[0].option_id == first, (names[key], history)
            kind, event_option = history[-1].kind, history[-1].option_id
            assert event_option == option and (kind == "retract") == (option is None), (names[key], kind, option)
        # And no history without its vote row: events are written beside the row, in its transaction.
        event_keys = {r[0] for r in await sql.rows("SELECT DISTINCT voter_key FROM vote_events WHERE poll_id = ?",
                                                   poll.id)}
        assert event_keys <= {r[0] for r in rows}, "history events of a member with no vote row"
    finally:
        await store.close()


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A SQLite file path, or the URL of an empty PostgreSQL database (the first child migrates it)."""
    if request.param == "postgres":
        return str(request.getfixturevalue("pg_dsn"))
    return str(tmp_path / "crash.db")


def test_acknowledged_votes_survive_sigkill(database: str, tmp_path: Path) -> None:
    seed = int(os.environ.get("CRASH_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    generations = GENERATIONS
    stderr_path = tmp_path / "children.stderr"
    log = Log()
    kills = []
    for generation in range(generations):
        kills.append(run_generation(database, generation, rng, log, stderr_path))
    context = f"CRASH_SEED={seed}; kills: {kills}"
    assert not log.errors, f"{context}\nerror replies: {log.errors[:5]}"
    assert log.acks >= 50 * (generations // 2), f"{context}\nonly {log.acks} acks: the children barely ran"
    try:
        asyncio.run(verify(database, log))
    except AssertionError as exc:
        raise AssertionError(f"{context}\n{exc}") from exc
