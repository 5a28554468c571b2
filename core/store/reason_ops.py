"""The reasons' store operations, written once for both engines (sqlite_reasons.py, postgres_reasons.py).

Each operation runs inside the caller's transaction on a `Db`: a thin face over one connection that
takes `?` placeholders and says how its engine wants instants and row locks. Nothing here ever returns
a voter key: the author of a reason is compared inside the query (`mine`), never handed out.

A reason *counts* - is shown, ranked, counted, exported - while it is not hidden and its option is its
author's current choice: a reason left behind by a changed vote waits, unseen, until its author keeps
it with the new choice, drops it, or returns to the old one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from core.models import Reason, ReasonKind, ReasonOutcome

COUNTED = ("r.hidden IS NULL AND EXISTS (SELECT 1 FROM votes v WHERE v.poll_id = r.poll_id "
           "AND v.voter_key = r.voter_key AND v.option_id = r.option_id)")
_MARKS = "(SELECT COUNT(*) FROM reason_marks m WHERE m.reason_id = r.id)"
_REPORTS = "(SELECT COUNT(*) FROM reason_reports p WHERE p.reason_id = r.id)"
_COLUMNS = f"r.id, r.poll_id, r.option_id, r.text, r.created_at, {_MARKS}, r.views, {_REPORTS}, r.hidden"
_OPEN = "closed_at IS NULL AND (closes_at IS NULL OR closes_at > ?)"


class Db(Protocol):
    lock: str  # " FOR UPDATE" where rows can be locked (PostgreSQL), "" where the whole write is (SQLite)
    share: str  # " FOR SHARE" likewise: the poll stays open (votes hold it so too) until the write commits

    def at(self, value: datetime) -> Any: ...

    def when(self, value: Any) -> datetime: ...

    async def all(self, sql: str, *args: Any) -> list[Any]: ...

    async def run(self, sql: str, *args: Any) -> int:
        """Execute; the number of rows changed."""


def reason_from(db: Db, row: Any, mine: bool = False, marked: bool = False) -> Reason:
    return Reason(int(row[0]), int(row[1]), str(row[2]), str(row[3]), db.when(row[4]), int(row[5]), int(row[6]),
                  int(row[7]), row[8], mine, marked)


async def one(db: Db, sql: str, *args: Any) -> Any:
    rows = await db.all(sql, *args)
    return rows[0] if rows else None


async def _open_vote(db: Db, poll_id: int, voter_key: str, at: datetime) -> tuple[ReasonKind | None, str | None]:
    """The member's current choice on an open poll, or why there is none to write a reason for."""
    if await one(db, f"SELECT id FROM polls WHERE id = ? AND {_OPEN}{db.share}", poll_id, db.at(at)) is None:
        return ReasonKind.POLL_CLOSED, None
    vote = await one(db, "SELECT option_id FROM votes WHERE poll_id = ? AND voter_key = ?", poll_id, voter_key)
    if vote is None or vote[0] is None:
        return ReasonKind.NO_VOTE, None
    return None, str(vote[0])


async def save(db: Db, poll_id: int, voter_key: str, text: str, at: datetime) -> ReasonOutcome:
    refused, option = await _open_vote(db, poll_id, voter_key, at)
    if refused is not None:
        return ReasonOutcome(refused)
    # Insert first: of two saves racing for a new reason, one inserts and the other updates its row.
    added = await db.run("INSERT INTO reasons (poll_id, voter_key, option_id, text, created_at, updated_at) "
                         "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (poll_id, voter_key) DO NOTHING",
                         poll_id, voter_key, option, text, db.at(at), db.at(at))
    old = await one(db, f"SELECT id, text FROM reasons WHERE poll_id = ? AND voter_key = ?{db.lock}",
                    poll_id, voter_key)
    if added:
        return ReasonOutcome(ReasonKind.SAVED, int(old[0]))
    if old[1] != text:
        # Marks and views were for other words: the new text starts afresh. Reports and a hide stay, so
        # editing is no way around moderation.
        await db.run("DELETE FROM reason_marks WHERE reason_id = ?", old[0])
        await db.run("UPDATE reasons SET text = ?, views = 0, created_at = ? WHERE id = ?", text, db.at(at), old[0])
    await db.run("UPDATE reasons SET option_id = ?, updated_at = ? WHERE id = ?", option, db.at(at), old[0])
    return ReasonOutcome(ReasonKind.UPDATED, int(old[0]))


async def delete(db: Db, poll_id: int, voter_key: str, at: datetime) -> ReasonOutcome:
    if await one(db, f"SELECT id FROM polls WHERE id = ? AND {_OPEN}{db.share}", poll_id, db.at(at)) is None:
        return ReasonOutcome(ReasonKind.POLL_CLOSED)
    gone = await db.run("DELETE FROM reasons WHERE poll_id = ? AND voter_key = ?", poll_id, voter_key)
    return ReasonOutcome(ReasonKind.DELETED if gone else ReasonKind.NOTHING)


async def keep(db: Db, poll_id: int, voter_key: str, at: datetime) -> ReasonOutcome:
    refused, option = await _open_vote(db, poll_id, voter_key, at)
    if refused is not None:
        return ReasonOutcome(refused)
    row = await one(db, "SELECT id, option_id FROM reasons WHERE poll_id = ? AND voter_key = ?", poll_id, voter_key)
    if row is None:
        return ReasonOutcome(ReasonKind.NOTHING)
    if row[1] == option:
        return ReasonOutcome(ReasonKind.NOTHING, int(row[0]))
    await db.run("UPDATE reasons SET option_id = ?, updated_at = ? WHERE id = ?", option, db.at(at), row[0])
    return ReasonOutcome(ReasonKind.MOVED, int(row[0]))


async def _counted(db: Db, reason_id: int, lock: str) -> tuple[int, str] | None:
    """(poll, author key) of a reason that counts now, the row locked where the engine can; else None."""
    row = await one(db, f"SELECT r.poll_id, r.voter_key FROM reasons r WHERE r.id = ? AND {COUNTED}{lock}",
                    reason_id)
    return None if row is None else (int(row[0]), str(row[1]))


async def mark(db: Db, reason_id: int, voter_key: str, at: datetime) -> ReasonOutcome:
    found = await _counted(db, reason_id, db.share)  # marks of many members go on side by side
    if found is None:
        return ReasonOutcome(ReasonKind.GONE)
    if found[1] == voter_key:
        return ReasonOutcome(ReasonKind.OWN, reason_id)
    added = await db.run("INSERT INTO reason_marks (reason_id, voter_key, at) VALUES (?, ?, ?) "
                         "ON CONFLICT (reason_id, voter_key) DO NOTHING", reason_id, voter_key, db.at(at))
    return ReasonOutcome(ReasonKind.MARKED if added else ReasonKind.ALREADY, reason_id)


async def unmark(db: Db, reason_id: int, voter_key: str) -> ReasonOutcome:
    gone = await db.run("DELETE FROM reason_marks WHERE reason_id = ? AND voter_key = ?", reason_id, voter_key)
    return ReasonOutcome(ReasonKind.UNMARKED if gone else ReasonKind.NOTHING, reason_id)


async def report(db: Db, reason_id: int, voter_key: str, limit: int, at: datetime) -> ReasonOutcome:
    found = await _counted(db, reason_id, db.lock)  # one report at a time: the count that hides is exact
    if found is None:
        return ReasonOutcome(ReasonKind.GONE)
    if found[1] == voter_key:
        return ReasonOutcome(ReasonKind.OWN, reason_id)
    added = await db.run("INSERT INTO reason_reports (reason_id, voter_key, at) VALUES (?, ?, ?) "
                         "ON CONFLICT (reason_id, voter_key) DO NOTHING", reason_id, voter_key, db.at(at))
    if not added:
        return ReasonOutcome(ReasonKind.ALREADY, reason_id)
    hidden = await db.run(f"UPDATE reasons SET hidden = 'reports' WHERE id = ? AND hidden IS NULL "
                          f"AND {_REPORTS.replace('r.id', 'reasons.id')} - reports_cleared >= ?", reason_id, limit)
    return ReasonOutcome(ReasonKind.HIDDEN if hidden else ReasonKind.REPORTED, reason_id)


async def moderate(db: Db, reason_id: int, hide: bool) -> ReasonOutcome:
    row = await one(db, f"SELECT hidden, {_REPORTS} FROM reasons r WHERE r.id = ?{db.lock}", reason_id)
    if row is None:
        return ReasonOutcome(ReasonKind.GONE)
    if hide:
        if row[0] == "facilitator":
            return ReasonOutcome(ReasonKind.NOTHING, reason_id)
        await db.run("UPDATE reasons SET hidden = 'facilitator' WHERE id = ?", reason_id)
        return ReasonOutcome(ReasonKind.HIDDEN, reason_id)
    if row[0] is None and int(row[1]) == 0:
        return ReasonOutcome(ReasonKind.NOTHING, reason_id)
    # Reviewed: the reports so far are answered; only as many new ones as the limit hide it again.
    await db.run("UPDATE reasons SET hidden = NULL, reports_cleared = ? WHERE id = ?", int(row[1]), reason_id)
    return ReasonOutcome(ReasonKind.RESTORED, reason_id)


async def listing(db: Db, poll_id: int, viewer_key: str) -> list[Reason]:
    rows = await db.all(
        f"SELECT {_COLUMNS}, r.voter_key = ?, EXISTS (SELECT 1 FROM reason_marks m WHERE m.reason_id = r.id "
        f"AND m.voter_key = ?) FROM reasons r WHERE r.poll_id = ? AND {COUNTED} ORDER BY r.id",
        viewer_key, viewer_key, poll_id)
    return [reason_from(db, r, bool(r[9]), bool(r[10])) for r in rows]


async def for_review(db: Db, poll_id: int) -> list[Reason]:
    rows = await db.all(f"SELECT {_COLUMNS} FROM reasons r WHERE r.poll_id = ? AND (r.hidden IS NOT NULL "
                        f"OR {_REPORTS} > r.reports_cleared) ORDER BY r.id", poll_id)
    return [reason_from(db, r) for r in rows]


async def counts(db: Db, poll_id: int) -> dict[str, int]:
    found: dict[str, int] = {}
    for option, n in await db.all(f"SELECT r.option_id, COUNT(*) FROM reasons r WHERE r.poll_id = ? AND {COUNTED} "
                                  "GROUP BY r.option_id", poll_id):
        found[str(option)] = int(n)
    for option, n in await db.all("SELECT option_id, n FROM reason_counts WHERE poll_id = ? AND n > 0", poll_id):
        found[str(option)] = found.get(str(option), 0) + int(n)
    return found


async def _keep_counts(db: Db, where: str, *args: Any) -> None:
    """Counted reasons about to be deleted stay in reason_counts (a closed poll's counts never move)."""
    await db.run(f"INSERT INTO reason_counts (poll_id, option_id, n) SELECT r.poll_id, r.option_id, COUNT(*) "
                 f"FROM reasons r WHERE {COUNTED} AND {where} GROUP BY r.poll_id, r.option_id "
                 "ON CONFLICT (poll_id, option_id) DO UPDATE SET n = reason_counts.n + excluded.n", *args)


async def forget(db: Db, space_id: str, voter_key: str) -> int:
    """The member's reasons (others' marks and reports on them with them), marks and reports in the space.

    Must run before the member's votes are deleted: whether a reason on a closed poll counted is read
    from them."""
    in_space = "IN (SELECT id FROM polls WHERE space_id = ?)"
    await _keep_counts(db, "r.voter_key = ? AND r.poll_id IN (SELECT id FROM polls WHERE space_id = ? "
                           "AND closed_at IS NOT NULL)", voter_key, space_id)
    deleted = 0
    for table in ("reason_marks", "reason_reports"):
        deleted += await db.run(f"DELETE FROM {table} WHERE voter_key = ? AND reason_id IN "
                                f"(SELECT id FROM reasons WHERE poll_id {in_space})", voter_key, space_id)
    return deleted + await db.run(f"DELETE FROM reasons WHERE voter_key = ? AND poll_id {in_space}",
                                  voter_key, space_id)


async def purge(db: Db, cutoff: datetime) -> int:
    """Reasons of polls closed before `cutoff` go with the per-vote rows; their counts stay. Run before
    the votes are deleted."""
    closed = "r.poll_id IN (SELECT id FROM polls WHERE closed_at IS NOT NULL AND closed_at < ?)"
    await _keep_counts(db, closed, db.at(cutoff))
    return await db.run(f"DELETE FROM reasons WHERE id IN (SELECT r.id FROM reasons r WHERE {closed})", db.at(cutoff))


async def add_views(db: Db, reason_ids: list[int]) -> None:
    for reason_id in sorted(set(reason_ids)):  # one order for every writer: no lock cycle
        await db.run("UPDATE reasons SET views = views + 1 WHERE id = ?", reason_id)
