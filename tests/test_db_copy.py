"""`counterpoint db copy --to postgresql://...`: a SQLite database made through the service, moved to PostgreSQL.

After the copy a service on PostgresStore with the same secret must be indistinguishable to members:
the same stance, results and export, and a vote is changed (not cast anew). Refusals and failures write
nothing to the target and say so in one line, never with the password.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import asyncpg
import pytest

from core.content import load_pack
from core.models import Schedule
from core.privacy import SECRET_META_KEY, new_secret, voter_key
from core.scheduler.engine import Scheduler
from core.service import DebateService
from core.store import copy as copy_module
from core.store.base import StoreError
from core.store.copy import CopyError, copy_sqlite_to_postgres
from core.store.postgres import PostgresStore
from core.store.sqlite import SqliteStore
from tests.conftest import FakeClock, member
from tests.scheduler_fakes import FakePort

ROOT = Path(__file__).resolve().parent.parent
ADMIN = member("admin", admin=True)
SPACE = "S1"
# At least these; a table a later migration adds is copied too (test_copy_keeps_... compares with the schema).
TABLES = {"meta", "polls", "votes", "vote_events", "tallies", "channel_settings", "schedules", "occurrences",
          "notices", "space_settings", "custom_prompts"}


@dataclass
class Source:
    path: Path
    secret: str
    clock: FakeClock
    purged_poll: int
    open_poll: int
    custom_poll: int
    custom_prompt_id: str


SCALE_PROMPTS = [p.id for p in load_pack().prompts if p.uses_scale]


async def _post(service: DebateService, actor=ADMIN, prompt: str | None = None) -> int:
    reply = await service.post(actor, prompt)
    assert reply.post is not None, reply.text
    await service.attach_message(reply.post.poll_id, f"{actor.channel_id}:{reply.post.poll_id}")
    return reply.post.poll_id


async def make_source(path: Path) -> Source:
    """Real content, made the way the bot makes it: only the notice is added by hand."""
    clock = FakeClock(datetime(2025, 1, 6, 9, 0, tzinfo=UTC))
    store = SqliteStore(path)
    await store.open()
    try:
        secret = await store.get_or_create_meta(SECRET_META_KEY, new_secret())
        service = DebateService(load_pack(), store, secret, clock=clock)
        assert not (await service.facilitators(ADMIN, add="<@U0FACIL>")).error
        assert not (await service.channels(ADMIN, add="<#C1>")).error
        assert not (await service.channels(ADMIN, add="<#C2>")).error
        assert not (await service.settings(ADMIN, "4")).error

        # A poll that closed long ago: its per-vote rows are purged, its tallies stay.
        old = await _post(service, prompt=SCALE_PROMPTS[0])
        for name, option in (("a", "-2"), ("b", "1"), ("c", "1"), ("d", "2"), ("e", "0")):
            assert not (await service.vote(member(name), old, option)).error
        await service.vote(member("b"), old, "-1")
        await service.close(ADMIN)
        clock.advance(days=200)
        assert await service.purge_expired() > 0

        # A schedule that has posted on a few days, closed its polls and posted their outcomes.
        await store.save_schedule(Schedule(SPACE, "C3", "fake", time(9, 0), "Europe/Berlin", frozenset(range(7)),
                                           timedelta(hours=20), "shuffle", "seed", since=clock.now))
        port = FakePort(clock)
        scheduler = Scheduler(service, {"fake": port}, "p1", clock)
        for _ in range(3 * 24):
            clock.advance(hours=1)
            await scheduler.tick()
        assert len(port.posts) >= 2 and port.outcomes

        # An open poll with casts, changes and a retraction.
        live = await _post(service, prompt=SCALE_PROMPTS[1])
        for name, option in (("a", "2"), ("b", "-1"), ("c", "0"), ("d", "1"), ("e", "1"), ("f", "-2")):
            assert not (await service.vote(member(name), live, option)).error
        assert "changed" in (await service.vote(member("a"), live, "-2")).text
        assert "changed" in (await service.vote(member("d"), live, "0")).text
        assert not (await service.retract(member("f"), live)).error

        # A facilitator's own question in another channel.
        asked = await service.ask(member("admin", admin=True, channel="C2"), "Cameras at the station?",
                                  "Yes | No | Only with a warrant")
        assert asked.post is not None, asked.text
        custom = asked.post.poll_id
        await service.attach_message(custom, f"C2:{custom}")
        for name, option in (("a", "o1"), ("b", "o3"), ("c", "o3")):
            assert not (await service.vote(member(name, channel="C2"), custom, option)).error
        prompt_id = (await store.get_poll(custom)).prompt_id  # type: ignore[union-attr]

        await store.add_notice(SPACE, "C3", "a notice for the admins", clock.now)
        return Source(path, secret, clock, old, live, custom, prompt_id)
    finally:
        await store.close()


async def snapshot(service: DebateService, src: Source) -> dict[str, object]:
    """What members and facilitators can see, and what the store holds for them."""
    store = service.store
    seen: dict[str, object] = {}
    for name in "abcdefg":
        seen[f"stance {name}"] = (await service.stance(member(name))).text
        key = voter_key(src.secret, SPACE, name)
        seen[f"history {name}"] = [(h.kind, h.option_id) for h in await store.history(src.open_poll, key)]
    for poll in (src.purged_poll, src.open_poll, src.custom_poll):
        got = await store.get_poll(poll)
        seen[f"poll {poll}"] = got
        seen[f"results {poll}"] = await service.results_for(got)  # type: ignore[arg-type]
        seen[f"tally {poll}"] = await store.tally(poll)
    seen["export"] = await service.export_csv(SPACE)
    seen["custom"] = await store.custom_prompt(src.custom_prompt_id)
    seen["space"] = await store.space_settings(SPACE)
    seen["channel"] = await store.channel_settings(SPACE, "C1")
    seen["schedule"] = await store.get_schedule(SPACE, "C3")
    seen["occurrences"] = await store.occurrence_states(SPACE, "C3")
    seen["notices"] = await store.notices(SPACE)
    seen["recent"] = await store.recent_polls(SPACE)
    seen["used"] = await store.used_prompt_ids(SPACE, "C3")
    return seen


async def test_copy_keeps_everything_members_see_and_their_votes(tmp_path: Path, pg_dsn: str) -> None:
    src = await make_source(tmp_path / "cp.db")
    lite = SqliteStore(src.path)
    await lite.open()
    try:
        before = await snapshot(DebateService(load_pack(), lite, src.secret, clock=src.clock), src)
    finally:
        await lite.close()

    report = await copy_sqlite_to_postgres(str(src.path), pg_dsn)
    copied = {t.table for t in report.tables}
    assert TABLES <= copied and copied == await _pg_tables(pg_dsn), "every table of the schema is copied"
    rows = {t.table: t.rows for t in report.tables}
    assert rows["votes"] == 9 and rows["custom_prompts"] == 1 and rows["occurrences"] >= 2 and rows["notices"] == 1
    assert "secret included" in next(t.note for t in report.tables if t.table == "meta")
    assert "matches" in next(t.note for t in report.tables if t.table == "tallies")
    assert ":" not in report.target.split("@")[0].removeprefix("postgresql://"), "the report shows no password"

    pg = PostgresStore(pg_dsn, lease_clock="caller")
    await pg.open()
    try:
        secret = await pg.get_meta(SECRET_META_KEY)
        assert secret == src.secret, "the voter-key secret moved with the data"
        service = DebateService(load_pack(), pg, secret, clock=src.clock)
        after = await snapshot(service, src)
        for key in before:
            assert after[key] == before[key], key

        # The same member changes their vote: one row, one more 'change' event, the total unchanged.
        total = (await pg.tally(src.open_poll)).total
        reply = await service.vote(member("b"), src.open_poll, "2")
        assert "changed" in reply.text, reply.text
        assert (await pg.tally(src.open_poll)).total == total
        history = await pg.history(src.open_poll, voter_key(secret, SPACE, "b"))
        assert [h.kind for h in history] == ["cast", "change"]

        # Sequences moved past the copied ids: new rows get new ids, never a copied one.
        ids = {p.id for p in await pg.recent_polls(SPACE, limit=1000)}
        for channel in ("<#C8>", "<#C9>"):
            assert not (await service.channels(ADMIN, add=channel)).error
        fresh = await _post(service, member("admin", admin=True, channel="C9"))
        assert fresh > max(ids)
        asked = await service.ask(member("admin", admin=True, channel="C8"), "Another?", "Yes | No")
        assert asked.post is not None, asked.text
        new_prompt = (await pg.get_poll(asked.post.poll_id)).prompt_id  # type: ignore[union-attr]
        assert int(new_prompt.rsplit("-", 1)[1]) > int(src.custom_prompt_id.rsplit("-", 1)[1])
        await pg.add_notice(SPACE, "C1", "another", src.clock.now)
        assert len(await pg.notices(SPACE)) == 2
    finally:
        await pg.close()


async def _pg_tables(dsn: str) -> set[str]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
                                "AND table_name <> 'schema_migrations'")
        return {r[0] for r in rows}
    finally:
        await conn.close()


async def _pg_counts(dsn: str) -> dict[str, int]:
    store = PostgresStore(dsn)
    await store.open()
    try:
        return {t: int(await store.pool.fetchval(f"SELECT COUNT(*) FROM {t}")) for t in sorted(TABLES)}
    finally:
        await store.close()


async def test_non_empty_target_is_refused_and_left_alone(tmp_path: Path, pg_dsn: str) -> None:
    src = await make_source(tmp_path / "cp.db")
    await copy_sqlite_to_postgres(str(src.path), pg_dsn)
    counts = await _pg_counts(pg_dsn)
    with pytest.raises(CopyError, match="not empty") as caught:
        await copy_sqlite_to_postgres(str(src.path), pg_dsn)
    assert "\n" not in str(caught.value)
    assert await _pg_counts(pg_dsn) == counts


async def test_a_bot_that_ran_once_on_the_target_makes_it_non_empty(tmp_path: Path, pg_dsn: str) -> None:
    src = await make_source(tmp_path / "cp.db")
    store = PostgresStore(pg_dsn)
    await store.open()
    try:  # what `counterpoint run` does first: a secret of its own, which would orphan every copied vote
        await store.get_or_create_meta(SECRET_META_KEY, new_secret())
    finally:
        await store.close()
    with pytest.raises(CopyError, match=r"rows in meta\b"):
        await copy_sqlite_to_postgres(str(src.path), pg_dsn)


async def test_a_target_with_a_newer_schema_is_refused_naming_the_target(tmp_path: Path, pg_dsn: str) -> None:
    src = await make_source(tmp_path / "cp.db")
    conn = await asyncpg.connect(pg_dsn)
    try:
        await conn.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ)")
        await conn.execute("INSERT INTO schema_migrations (version) VALUES (999)")
    finally:
        await conn.close()
    with pytest.raises(CopyError, match=r"^--to: .*schema version 999 is newer"):
        await copy_sqlite_to_postgres(str(src.path), pg_dsn)


async def test_a_failure_half_way_writes_nothing(tmp_path: Path, pg_dsn: str, monkeypatch: pytest.MonkeyPatch) -> None:
    src = await make_source(tmp_path / "cp.db")

    async def broken(*args: object) -> None:
        raise asyncpg.DiskFullError("could not extend file")

    monkeypatch.setattr(copy_module, "_reset_sequences", broken)  # every table is copied by then
    with pytest.raises(CopyError, match=r"disk is full.*nothing was written"):
        await copy_sqlite_to_postgres(str(src.path), pg_dsn)
    assert set((await _pg_counts(pg_dsn)).values()) == {0}
    monkeypatch.undo()
    report = await copy_sqlite_to_postgres(str(src.path), pg_dsn)  # and the target is still usable
    assert sum(t.rows for t in report.tables) > 0


async def test_a_running_bot_on_the_source_is_refused(tmp_path: Path, pg_dsn: str) -> None:
    src = await make_source(tmp_path / "cp.db")
    running = SqliteStore(src.path, exclusive=True)
    await running.open()
    try:
        with pytest.raises(StoreError, match="already running"):
            await copy_sqlite_to_postgres(str(src.path), pg_dsn)
    finally:
        await running.close()


def _cli(db: Path, *args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db}", "PYTHONPATH": str(ROOT), "LOG_LEVEL": "WARNING",
           **extra_env}
    env.pop("COUNTERPOINT_SECRET", None)
    return subprocess.run([sys.executable, "-m", "bots.cli", "db", "copy", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


async def test_cli_copies_and_prints_a_line_per_table(tmp_path: Path, pg_dsn: str) -> None:
    """As docs/deploy.md shows it: the password in PGPASSWORD, not in the URL on the command line."""
    src = await make_source(tmp_path / "cp.db")
    password = pg_dsn.split("//", 1)[1].split("@", 1)[0].split(":", 1)[1]
    without = pg_dsn.replace(f":{password}@", "@")
    done = _cli(src.path, "--to", without, PGPASSWORD=password)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert {line.split(":", 1)[0] for line in lines[:-1]} == await _pg_tables(pg_dsn)
    assert any(line.startswith("votes: 9 rows copied") for line in lines)
    assert lines[-1].startswith(f"copied {src.path} to postgresql://")
    assert password not in done.stdout + done.stderr
    again = _cli(src.path, "--to", pg_dsn)
    assert again.returncode == 1 and again.stderr.count("\n") == 1 and "not empty" in again.stderr
    assert password not in again.stderr


@pytest.mark.parametrize(("url", "says"), [
    ("postgresql://me:hunter2secret@127.0.0.1:1/db", "connection refused"),
    ("mysql://me:hunter2secret@host/db", "is not a PostgreSQL URL"),
    ("postgresql://me:hunter2secret@127.0.0.1:notaport/db", "cannot read"),
    ("postgresql://me:hunter2secret@127.0.0.1:5432/", "names a host and a database"),
])
def test_cli_bad_target_is_one_line_without_the_password(tmp_path: Path, url: str, says: str) -> None:
    db = tmp_path / "cp.db"
    db.touch()
    done = _cli(db, "--to", url)
    assert done.returncode != 0
    assert done.stderr.count("\n") == 1 and says in done.stderr, done.stderr
    assert "hunter2secret" not in done.stderr + done.stdout
    assert done.stderr.startswith("counterpoint: --to:")


def test_cli_refuses_without_a_sqlite_file(tmp_path: Path) -> None:
    done = _cli(tmp_path / "missing.db", "--to", "postgresql://me@127.0.0.1:1/db")
    assert done.returncode == 1 and "no SQLite database at" in done.stderr and done.stderr.count("\n") == 1
    assert not (tmp_path / "missing.db").exists()
