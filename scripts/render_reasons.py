"""Close a poll with reasons (some hostile) through the real adapters into the local fakes, and save the
outcome post each fake received as JSON: docs/renderings/{slack,discord}-outcome-reasons.json.

    .venv/bin/python scripts/render_reasons.py
    .venv/bin/python scripts/render_reasons.py --out /tmp/x

Nine members vote on the scale (three per side, so every side reaches k = 3 and shows its words), each
with a reason; two members mark some as convincing; the poll closes and the outcome is posted through each
platform's port. No network: FakeSlack and FakeDiscord from tests/fakes run on 127.0.0.1; the clock is fixed.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.content import load_pack  # noqa: E402
from core.service import Actor, DebateService  # noqa: E402
from core.store.sqlite import SqliteStore  # noqa: E402

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
REASONS = [
    "Cameras deter crime where people actually walk at night.",
    "<!channel> @everyone *read this*: https://evil.example/phish",
    "Victims deserve the fastest possible investigation.",
    "A balanced rule with a judge's warrant covers both needs.",
    "Keep the tools, but publish every use each month.",
    "Oversight boards work in other cities; copy them.",
    "Mass surveillance chills speech, even if nothing is misused.",
    "<@U0BOSS> **bold** _claims_ `code` [click](https://evil.example/x) deserve scrutiny.",
    "Data kept is data leaked sooner or later.",
]
SIDES = (0, 0, 0, 2, 2, 2, 4, 4, 4)  # security first, balanced, privacy first: three reasons per side
MARKS = {0: 2, 3: 1, 6: 2, 7: 1}  # reason index -> marks from the first members of the other sides


async def _service(path: Path) -> tuple[DebateService, SqliteStore]:
    store = SqliteStore(path)
    await store.open()
    return DebateService(load_pack(), store, "render-samples-secret-0123", clock=lambda: NOW), store


async def _reasons_and_marks(service: DebateService, actor_of: Any, poll_id: int) -> None:
    """Reasons through the service as each adapter's members (their actors), and a few marks on them."""
    for i, text in enumerate(REASONS):
        saved = await service.save_reason(actor_of(i), poll_id, text)
        assert not saved.error, saved.text
    page = await service.reasons(actor_of(8), str(poll_id))
    assert page.card is not None
    ids = [r.id for r in await service.store.reasons(poll_id, "")]
    for index, count in MARKS.items():
        for marker in range(count):
            voter = (index + 3 + marker) % len(REASONS)
            await service.mark(actor_of(voter), ids[index])


async def slack_sample(tmp: Path) -> dict[str, Any]:
    from tests.fakes.slack_fake import TEAM_ID, FakeSlack
    from tests.slack_helpers import CHANNEL, LISTED_ADMIN, running, vote_buttons

    service, store = await _service(tmp / "slack.db")
    users = [f"U{n}" for n in range(1, 10)]
    try:
        async with FakeSlack() as slack:
            for user in users:
                slack.set_user(user)
            async with running(slack, service) as h:
                await h.command("post", user=LISTED_ADMIN)
                message = h.poll_message()
                for i, user in enumerate(users):
                    await h.press(vote_buttons(message)[SIDES[i]]["value"], user=user, message=message)
                await _reasons_and_marks(service, lambda i: h.adapter.actor(TEAM_ID, CHANNEL, users[i]), 1)
                await h.command("close", user=LISTED_ADMIN)
                poll = await service.store.get_poll(1)
                assert poll is not None
                await h.adapter.post_outcome(poll, await service.outcome_card(1))
            [call] = [c for c in slack.calls_to("chat.postMessage") if c.params.get("thread_ts")]
            keep = ("channel", "text", "blocks", "metadata", "unfurl_links", "unfurl_media")
            return {"method": "chat.postMessage", "params": {k: call.params[k] for k in keep if k in call.params},
                    "violations": [v.errors for v in slack.violations]}
    finally:
        await store.close()


async def discord_sample(tmp: Path) -> dict[str, Any]:
    from bots.discord.port import DiscordPort
    from tests.discord_helpers import MANAGE_GUILD, answered, make_client, polls_in, running, vote_ids
    from tests.fakes.discord_fake import FakeDiscord

    service, store = await _service(tmp / "discord.db")
    users = [str(7001 + n) for n in range(9)]
    try:
        async with FakeDiscord() as fake:
            with fake.patch_discord():
                fake.add_member("6001", "admin", permissions=MANAGE_GUILD)
                for user in users:
                    fake.add_member(user, f"member{user}", permissions=0)
                async with running(make_client(service), fake) as bot:
                    await answered(await fake.slash("debate-admin", subcommand="post", user_id="6001"))
                    poll_message = polls_in(fake)[-1]
                    for i, user in enumerate(users):
                        await answered(await fake.click(poll_message.id, vote_ids(poll_message)[SIDES[i]],
                                                        user_id=user))

                    def actor(i: int) -> Actor:
                        return Actor(fake.guild_id, fake.channel_id, users[i], platform="discord")

                    await _reasons_and_marks(service, actor, 1)
                    await answered(await fake.slash("debate-admin", subcommand="close", user_id="6001"))
                    poll = await service.store.get_poll(1)
                    assert poll is not None
                    await DiscordPort(bot).post_outcome(poll, await service.outcome_card(1))
                [post] = [r for r in fake.requests if r.method == "POST" and r.path.endswith("/messages")
                          and r.path != f"/channels/{fake.channel_id}/messages"]
                return {"route": f"POST {post.path}".replace(poll_message.id, "<thread>"), "json": post.json,
                        "violations": [dataclasses.asdict(v) for v in fake.violations]}
    finally:
        await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "renderings")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name, sample in (("slack", slack_sample), ("discord", discord_sample)):
            data = asyncio.run(sample(Path(tmp)))
            target = args.out / f"{name}-outcome-reasons.json"
            target.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
            print(target)


if __name__ == "__main__":
    main()
