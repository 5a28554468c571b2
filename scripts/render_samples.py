"""Post one poll with a 240-character question through the real adapters into the local fakes, and save
what each fake received as JSON: docs/renderings/{slack,discord}-poll-<suffix>.json.

    .venv/bin/python scripts/render_samples.py            # writes the "-after" files
    .venv/bin/python scripts/render_samples.py --suffix before --out /tmp/x

No network: FakeSlack and FakeDiscord from tests/fakes run on 127.0.0.1. The clock is fixed, so two runs
on the same code give the same files.
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
from core.models import ContentPack  # noqa: E402
from core.service import DebateService  # noqa: E402
from core.store.sqlite import SqliteStore  # noqa: E402

QUESTION_LEN = 240
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def long_question_pack() -> ContentPack:
    """The default pack with its first question padded to the 240 characters a pack may hold."""
    pack = load_pack()
    first = pack.prompts[0]
    tail = " Answer with where you stand today, & say why in the thread <if you like>."
    question = (first.question + tail + " Take your time" * 20)[: QUESTION_LEN - 1] + "?"
    return dataclasses.replace(pack, prompts=(dataclasses.replace(first, question=question), *pack.prompts[1:]))


async def _service(path: Path) -> tuple[DebateService, SqliteStore]:
    store = SqliteStore(path)
    await store.open()
    return DebateService(long_question_pack(), store, "render-samples-secret-0123", clock=lambda: NOW), store


async def slack_sample(tmp: Path) -> dict[str, Any]:
    from tests.fakes.slack_fake import FakeSlack
    from tests.slack_helpers import CHANNEL, LISTED_ADMIN, running

    service, store = await _service(tmp / "slack.db")
    try:
        async with FakeSlack() as slack:
            async with running(slack, service) as h:
                await h.command("post", user=LISTED_ADMIN)  # an admin posts: members may not, depending on settings
            [call] = [c for c in slack.calls_to("chat.postMessage") if c.params.get("channel") == CHANNEL]
            keep = ("channel", "text", "blocks", "metadata")
            return {"method": "chat.postMessage", "params": {k: call.params[k] for k in keep if k in call.params},
                    "violations": [v.errors for v in slack.violations]}
    finally:
        await store.close()


async def discord_sample(tmp: Path) -> dict[str, Any]:
    from tests.discord_helpers import MANAGE_GUILD, answered, make_client, running
    from tests.fakes.discord_fake import FakeDiscord

    service, store = await _service(tmp / "discord.db")
    try:
        async with FakeDiscord() as fake:
            with fake.patch_discord():
                fake.add_member("6001", "admin", permissions=MANAGE_GUILD)
                async with running(make_client(service), fake):
                    await answered(await fake.slash("debate-admin", subcommand="post", user_id="6001"))
                path = f"/channels/{fake.channel_id}/messages"
                [post] = [r for r in fake.requests if r.method == "POST" and r.path == path]
                return {"route": f"POST {path}".replace(fake.channel_id, "<channel>"), "json": post.json,
                        "violations": [dataclasses.asdict(v) for v in fake.violations]}
    finally:
        await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--suffix", default="after")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "renderings")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name, sample in (("slack", slack_sample), ("discord", discord_sample)):
            data = asyncio.run(sample(Path(tmp)))
            target = args.out / f"{name}-poll-{args.suffix}.json"
            target.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
            print(target)


if __name__ == "__main__":
    main()
