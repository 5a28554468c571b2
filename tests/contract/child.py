"""One of two processes sharing a database in test_store_processes.py.

Run as `python -m tests.contract.child '<json spec>'`. It opens its own store on the spec's database,
prints "ready", waits for "go" on stdin (so both processes start together), then races the other
process: votes and retracts on the same polls and voters, claims of the same occurrences and
outcomes, opening a poll in the same channel. It prints one JSON line of what each call returned, and exits.
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, date, datetime, time, timedelta

from core.models import Schedule
from core.store.base import PollAlreadyOpen, Store
from tests.contract.backends import Target, make_store

OPTIONS = ("-2", "-1", "0", "1", "2")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LEASE = timedelta(hours=1)


def shared_voter_ops(i: int, rounds: int = 8) -> list[str | None]:
    """What both processes do, in this order, to shared voter i: any interleaving ends on the last one.

    Several rounds, so the two processes' writes overlap in time rather than one finishing first."""
    return [OPTIONS[i % 5], OPTIONS[(i + 1) % 5], None] * rounds + [OPTIONS[(i + 2) % 5]]


def own_voter_ops(i: int) -> list[str | None]:
    return [OPTIONS[(i + 3) % 5], OPTIONS[(i + 4) % 5]]


def schedule_for(space: str, channel: str) -> Schedule:
    return Schedule(space, channel, "slack", time(9), "UTC", frozenset(range(7)), timedelta(hours=20), "section",
                    "seed", T0)


async def vote_chain(store: Store, poll: int, voter: str, ops: list[str | None]) -> list[str]:
    kinds = []
    for option in ops:
        if option is None:
            outcome = await store.retract_vote(poll, voter, T0)
        else:
            outcome = await store.record_vote(poll, voter, option, T0)
        kinds.append(outcome.kind.value)
    return kinds


async def open_poll(store: Store, space: str, channel: str, worker: int) -> dict:
    """Try to open the channel's one poll; say whether this process made it, and which poll holds it."""
    try:
        poll = await store.create_poll(space, channel, f"w{worker}", T0, None)
        return {"created": True, "poll": poll.id}
    except PollAlreadyOpen as refused:
        return {"created": False, "poll": refused.poll.id}


async def run(spec: dict) -> dict:
    store = make_store(Target(spec["backend"], spec["location"]))
    await store.open()
    try:
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        worker = spec["worker"]
        chains = []
        for poll in spec["polls"]:
            chains += [vote_chain(store, poll, f"shared-{i}", shared_voter_ops(i)) for i in range(spec["shared"])]
            chains += [vote_chain(store, poll, f"w{worker}-{i}", own_voter_ops(i)) for i in range(spec["own"])]
        schedule = schedule_for(spec["space"], spec["channel"])
        now = datetime.now(UTC)
        days = [date.fromisoformat(d) for d in spec["days"]]
        claims = [store.claim_occurrence(schedule, d, T0, f"w{worker}", now, LEASE) for d in days]
        outcome_claims = [store.claim_outcome(p, now, LEASE) for p in spec["outcome_polls"]]
        race = open_poll(store, spec["space"], spec["race_channel"], worker)
        *results, opened = await asyncio.gather(*chains, *claims, *outcome_claims, race)
        votes = results[: len(chains)]
        won_days = [d.isoformat() for d, c in zip(days, results[len(chains): len(chains) + len(days)], strict=True)
                    if c is not None]
        won_outcomes = [p for p, c in zip(spec["outcome_polls"], results[len(chains) + len(days):], strict=True)
                        if c is not None]
        return {"votes": votes, "days": won_days, "outcomes": won_outcomes, "opened": opened}
    finally:
        await store.close()


if __name__ == "__main__":
    print(json.dumps(asyncio.run(run(json.loads(sys.argv[1])))), flush=True)
