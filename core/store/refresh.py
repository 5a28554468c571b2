"""Turns at editing a poll's message, shared by every process on one database.

A poll message is edited at most once per `gap` overall (the platforms rate-limit edits) and the last
edit always shows the latest state. The row `poll_refresh` of a poll holds three counters and a lease:

- `version`: bumped by every process that saw the poll change (`mark=True`) – "the message is stale";
- `claimed`: the version the running (or last) edit was granted for; its render reads the store AFTER
  the grant, so it shows every change marked before the grant;
- `done`: the version the last finished edit covered; nothing is pending once `done >= version`;
- `holder`/`lease_until`: who is editing now; an edit running past its lease is presumed dead (a crash)
  and the turn may be granted again, so a change is never left unrendered by a process that died;
- `last_at`: when the last edit finished (or started, while it runs). The gap counts from the end of an
  edit, so the next edit reaches the platform at least `gap` after the previous one did, whatever the
  network did in between.

Every marker keeps asking (sleeping `wait` between asks) until the answer is DONE, and a grant happens
only after the marks it covers, so the final state is always rendered by someone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class RefreshTurn(StrEnum):
    GO = "go"  # edit now, then call finish_refresh
    WAIT = "wait"  # stale, but not yet your turn: ask again after `wait` seconds
    DONE = "done"  # nothing stale: the last finished edit covered every marked change


@dataclass(frozen=True)
class RefreshClaim:
    turn: RefreshTurn
    wait: float = 0.0  # seconds until asking again is worth it (WAIT only)


@dataclass(frozen=True)
class RefreshRow:
    version: int = 0
    claimed: int = 0
    done: int = 0
    holder: str | None = None
    lease_until: datetime | None = None
    last_at: datetime | None = None


def decide(
    row: RefreshRow, holder: str, now: datetime, gap: timedelta, lease: timedelta, mark: bool
) -> tuple[RefreshClaim, RefreshRow]:
    """The answer to one claim and the row to store, from the row as it was (read under a lock)."""
    version = row.version + 1 if mark else row.version
    kept = RefreshRow(version, row.claimed, row.done, row.holder, row.lease_until, row.last_at)
    if row.holder is not None and row.lease_until is not None and row.lease_until > now:
        # An edit is running. Ask again when it has probably finished: then either it covered our
        # mark (DONE) or the gap after it is counted from its end. If it died, its lease runs out.
        return RefreshClaim(RefreshTurn.WAIT, _seconds(min(gap, row.lease_until - now))), kept
    if row.done >= version:
        return RefreshClaim(RefreshTurn.DONE), kept
    if row.last_at is not None and row.last_at + gap > now:
        return RefreshClaim(RefreshTurn.WAIT, _seconds(row.last_at + gap - now)), kept
    granted = RefreshRow(version=version, claimed=version, done=row.done, holder=holder,
                         lease_until=now + lease, last_at=now)
    return RefreshClaim(RefreshTurn.GO), granted


def finished(row: RefreshRow, holder: str, now: datetime) -> RefreshRow | None:
    """The row after `holder`'s edit ended (well or not: a failed edit is not retried, as before; the
    next change retries), or None when `holder` no longer holds the turn (its lease ran out)."""
    if row.holder != holder:
        return None
    return RefreshRow(row.version, row.claimed, max(row.done, row.claimed), None, None, now)


def _seconds(delta: timedelta) -> float:
    # Never 0 for WAIT: a caller looping on it must sleep, not spin.
    return max(delta.total_seconds(), 0.001)
