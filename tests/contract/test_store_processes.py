"""Two store instances in two processes on one database (every backend).

Each child process (child.py) opens its own store on this test's database and, at the same moment as
the other, votes and retracts for the same voters on the same polls and claims the same occurrences
and outcomes. What must hold, whatever the interleaving:

- per (poll, voter) the writes are linearizable: the history replays (cast only without a vote,
  change only to another option, retract only of a vote) to the vote the store holds, and each write
  that reported CAST, CHANGED or RETRACTED left exactly one history row;
- the tallies are exact: every voter counted once, its first choice and its current one;
- each occurrence and each outcome is won by exactly one process, and only one of them opens a poll
  in a channel that has none.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

from core.store.base import Store
from tests.contract.backends import Target
from tests.contract.child import OPTIONS, T0, own_voter_ops, schedule_for, shared_voter_ops

ROOT = Path(__file__).resolve().parents[2]
SHARED, OWN, WORKERS = 30, 15, 2
DAYS = [date(2026, 3, 3) + timedelta(days=i) for i in range(12)]
WRITES = {"cast", "changed", "retracted"}


def start_child(spec: dict) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.contract.child", json.dumps(spec)],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def replay(history: list[tuple[str, str | None]]) -> str | None:
    """The vote a history leads to; AssertionError on a step no linearizable order could produce."""
    current: str | None = None
    for kind, option in history:
        if kind == "cast":
            assert current is None and option is not None, history
        elif kind == "change":
            assert current is not None and option not in (None, current), history
        else:
            assert kind == "retract" and current is not None, history
        current = option
    return current


async def test_two_processes_share_one_database(backend: Store, backend_target: Target) -> None:
    polls = [(await backend.create_poll("S1", f"C{i}", "p", T0, None)).id for i in range(2)]
    outcome_polls = []
    for i in range(8):
        poll = await backend.create_poll("S1", f"O{i}", "p", T0, None, "slack")
        await backend.set_poll_message(poll.id, f"O{i}:1")
        await backend.close_poll(poll.id, T0)
        outcome_polls.append(poll.id)
    await backend.save_schedule(schedule_for("S1", "C-sched"))
    spec = {"backend": backend_target.backend, "location": backend_target.location, "polls": polls,
            "shared": SHARED, "own": OWN, "space": "S1", "channel": "C-sched",
            "days": [d.isoformat() for d in DAYS], "outcome_polls": outcome_polls, "race_channel": "C-race"}

    children = [start_child({**spec, "worker": w}) for w in range(WORKERS)]
    try:
        for child in children:
            ready = child.stdout.readline()  # type: ignore[union-attr]
            assert ready.strip() == "ready", (ready, child.stderr.read())  # type: ignore[union-attr]
        for child in children:
            child.stdin.write("go\n")  # type: ignore[union-attr]
            child.stdin.flush()  # type: ignore[union-attr]
        results = []
        for child in children:
            out, err = child.communicate(timeout=120)
            assert child.returncode == 0, err
            results.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()

    # exactly one winner per occurrence and per outcome
    won_days = Counter(d for r in results for d in r["days"])
    assert won_days == Counter(d.isoformat() for d in DAYS)
    assert Counter(p for r in results for p in r["outcomes"]) == Counter(outcome_polls)
    # one open poll per channel, across processes too; the refused process is told which poll it is
    opened = [r["opened"] for r in results]
    assert sorted(o["created"] for o in opened) == [False, True]
    assert [p.id for p in await backend.open_polls("S1", "C-race")] == [opened[0]["poll"]] == [opened[1]["poll"]]

    per_poll = SHARED + OWN
    for index, poll in enumerate(polls):
        expected: Counter[tuple[str, str]] = Counter()
        for i in range(SHARED):
            voter = f"shared-{i}"
            kinds = [k for r in results for k in r["votes"][index * per_poll + i]]
            history = [(h.kind, h.option_id) for h in await backend.history(poll, voter)]
            assert replay(history) == shared_voter_ops(i)[-1] == await backend.current_vote(poll, voter)
            assert len(history) == sum(k in WRITES for k in kinds), (voter, kinds, history)
            expected[(shared_voter_ops(i)[0], shared_voter_ops(i)[-1])] += 1  # type: ignore[index]
        for w, result in enumerate(results):
            for i in range(OWN):
                ops = own_voter_ops(i)
                assert result["votes"][index * per_poll + SHARED + i] == ["cast", "changed"]
                assert await backend.current_vote(poll, f"w{w}-{i}") == ops[-1]
                expected[(ops[0], ops[-1])] += 1  # type: ignore[index]
        tally = await backend.tally(poll)
        assert tally.total == SHARED + WORKERS * OWN
        assert Counter(tally.transitions) == expected
        assert set(tally.current_counts()) <= set(OPTIONS)
