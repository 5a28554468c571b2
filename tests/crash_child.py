"""Child process of test_crash_durability: votes through the real service until it is killed.

Usage: python tests/crash_child.py DATABASE GENERATION SEED
(DATABASE: a SQLite file path, or a postgresql:// URL)

Protocol on stdout, one flushed line per event:
    POLL <poll id>                     the poll this child votes on
    TRY <member> <option | ->          written before the call ("-" retracts)
    ACK <member> <option | ->          written only after the awaited call returned without error
    ERR <member> <option | -> <text>   the call returned an error reply (the parent fails the test)

Each task owns its members (member index modulo TASKS), so one member never has two calls in flight
and the order of that member's lines is the order of their commits.
"""

from __future__ import annotations

import asyncio
import random
import sys
import time

from bots.wiring import open_service
from core.service import Actor
from core.settings import Settings

SPACE = "crash-space"
CHANNEL = "crash-channel"
TASKS = 64
NEW_MEMBERS_PER_TASK = 2  # each generation brings new members and changes the old ones' votes
RETRACT_SHARE = 0.05
LIFETIME_S = 30.0  # a child the parent forgot to kill ends by itself rather than hang the test


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def main(database: str, generation: int, seed: int) -> None:
    url = database if database.startswith("postgresql://") else f"sqlite:///{database}"
    settings = Settings(database_url=url)
    async with open_service(settings) as service:
        # A previous child may have been killed right after creating the poll: reuse it.
        polls = await service.store.open_polls(SPACE, CHANNEL)
        poll = polls[-1] if polls else await service.open_poll(SPACE, CHANNEL, service.content.prompts[0])
        if poll.message_ref is None:  # posted, as far as the service knows: posted polls take votes
            await service.attach_message(poll.id, f"{CHANNEL}:{poll.id}")
        say(f"POLL {poll.id}")
        prompt = service.content.prompt(poll.prompt_id)
        assert prompt is not None
        options = [o.id for o in prompt.options]
        deadline = time.monotonic() + LIFETIME_S

        async def voter_task(task: int) -> None:
            rng = random.Random(seed * 1_000 + task)
            while time.monotonic() < deadline:
                member = f"member-{task + rng.randrange(NEW_MEMBERS_PER_TASK * (generation + 1)) * TASKS}"
                actor = Actor(SPACE, CHANNEL, member)
                choice = "-" if rng.random() < RETRACT_SHARE else rng.choice(options)
                say(f"TRY {member} {choice}")
                if choice == "-":
                    reply = await service.retract(actor, poll.id)
                else:
                    reply = await service.vote(actor, poll.id, choice)
                if reply.error:
                    say(f"ERR {member} {choice} {reply.text!r}")
                else:
                    say(f"ACK {member} {choice}")

        await asyncio.gather(*(voter_task(t) for t in range(TASKS)))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
