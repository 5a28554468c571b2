"""Run the real Discord adapter (discord.py client) against FakeDiscord, and read what it posted."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from bots.discord.client import CounterpointClient
from core.models import ContentPack
from core.service import DebateService
from tests.fakes.discord_fake import FakeDiscord, InteractionRecord, StoredMessage

MANAGE_GUILD = 1 << 5
JSON = dict[str, Any]


def make_client(service: DebateService, *, refresh_interval: float = 0.05, dev_guild: str | None = None,
                **options: Any) -> CounterpointClient:
    # guild_ready_timeout: discord.py otherwise waits 2 s after the last GUILD_CREATE before on_ready.
    return CounterpointClient(service, dev_guild=dev_guild,
                              refresh_interval=refresh_interval, guild_ready_timeout=0.05, **options)


@asynccontextmanager
async def running(client: CounterpointClient, fake: FakeDiscord) -> AsyncIterator[CounterpointClient]:
    """Log in (setup_hook syncs), connect, wait for READY; on exit drain refreshes and disconnect."""
    await client.login(fake.token)
    connect = asyncio.create_task(client.connect())
    ready = asyncio.create_task(client.wait_until_ready())
    try:
        done, _ = await asyncio.wait({connect, ready}, timeout=5, return_when=asyncio.FIRST_COMPLETED)
        if connect in done:
            connect.result()
        assert ready in done, "client did not become ready"
        yield client
    finally:
        ready.cancel()
        await client.close()
        await asyncio.wait_for(connect, 5)


async def answered(rec: InteractionRecord) -> StoredMessage:
    """The message the member saw: the direct answer, or the followup that resolved a defer."""
    await rec.response()
    if rec.callback is not None and rec.callback.type == 5:
        await rec.wait_followups()
        return rec.followups[0]
    assert rec.original is not None, rec.callback
    return rec.original


def text_of(message: StoredMessage) -> str:
    """Every visible string of a message (content, embed parts, button labels)."""
    parts = [message.content]
    for embed in message.embeds:
        parts += [embed.get("title") or "", embed.get("description") or "", (embed.get("footer") or {}).get("text", "")]
        for f in embed.get("fields") or []:
            parts += [f["name"], f["value"]]
    for row in message.components:
        parts += [c.get("label") or "" for c in row.get("components", [])]
    return "\n".join(p for p in parts if p)


def field(message: StoredMessage, name: str) -> str:
    for f in message.embeds[0].get("fields") or []:
        if f["name"] == name:
            return f["value"]
    raise KeyError(f"no field {name!r} in {[f['name'] for f in message.embeds[0].get('fields') or []]}")


def vote_ids(message: StoredMessage) -> list[str]:
    return [c for c in message.custom_ids() if c.startswith("cp1:vote:")]


def polls_in(fake: FakeDiscord, channel_id: str | None = None) -> list[StoredMessage]:
    """Channel messages that carry a poll (an embed with vote buttons or a poll footer)."""
    return [m for m in fake.channel_messages(channel_id) if m.embeds and "Poll #" in text_of(m)
            and not (m.embeds[0].get("title") or "").startswith("Results:")]


def poll_id_of(fake: FakeDiscord, message_id: str) -> int:
    """The poll a posted poll message belongs to, from its vote buttons."""
    from bots.discord import embeds

    poll_ids = {embeds.poll_id_of(c) for c in fake.message(message_id).custom_ids()} - {None}
    assert len(poll_ids) == 1, poll_ids
    return int(poll_ids.pop())


def seen_by(fake: FakeDiscord, rec: InteractionRecord) -> str:
    """Everything one interaction showed its member: the answer and every followup."""
    shown = [rec.original] if rec.original is not None else []
    shown += [m for m in rec.followups if m not in shown]
    return "\n".join(text_of(m) for m in shown)


@asynccontextmanager
async def write_locked(path: str) -> AsyncIterator[None]:
    """Another connection holds SQLite's write lock (BEGIN IMMEDIATE) until the block ends.

    Taken off the loop's thread: the bot may be inside a write of its own (a poll refresh's claim), which
    needs the loop to finish, so waiting for the lock on the loop would wait for ourselves."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        await asyncio.to_thread(conn.execute, "BEGIN IMMEDIATE")
        yield
    finally:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        conn.close()


@asynccontextmanager
async def impatient_service(pack: ContentPack, path: str, clock: Any) -> AsyncIterator[DebateService]:
    """A service whose store gives up on a held write lock after a fraction of a second."""
    from core.store.sqlite import SqliteStore

    store = SqliteStore(path, busy_timeout=0.1, lock_timeout=0.3)
    await store.open()
    try:
        yield DebateService(pack, store, "test-secret-0123456789", clock=clock)
    finally:
        await store.close()
