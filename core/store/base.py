"""The storage contract every backend implements, in the domain's own terms."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol

from core.models import (
    ChannelSettings,
    Claim,
    Notice,
    Option,
    Poll,
    Prompt,
    Reason,
    ReasonOutcome,
    Schedule,
    SpaceSettings,
    Tally,
    VoteOutcome,
)
from core.store.occurrence import OccurrenceInfo, OccurrenceState, OutcomeClaim
from core.store.refresh import RefreshClaim


class StoreError(Exception):
    """A storage failure the caller can report; the operation it belongs to was not applied.

    Every failure of a store method surfaces as this (or a subclass): driver errors, a database
    locked by another process for longer than the store waits, a full disk, a store not open, and
    on PostgreSQL a refused connection, a failed login, a missing database or a lost connection.
    The message is one readable line; the driver's exception is chained as __cause__. A failure to
    open names DATABASE_URL and the file (SQLite) or the host and database (PostgreSQL), never a
    password. (A PostgreSQL connection lost during COMMIT cannot tell whether the commit landed; the
    message says it "may not have been applied".)
    """


class PollAlreadyOpen(StoreError):
    """create_poll refused: the channel already has a not-closed poll (`poll`; one open poll per channel)."""

    def __init__(self, poll: Poll) -> None:
        super().__init__(f"poll #{poll.id} is already open in this channel")
        self.poll = poll


@dataclass(frozen=True)
class HistoryEntry:
    kind: str  # cast | change | retract
    option_id: str | None
    at: datetime


class Store(Protocol):
    """Concurrency guarantees every backend gives (SqliteStore and PostgresStore alike):

    - A write returns only after the durable commit that holds it; a write that raised was not
      applied. No batching acknowledges a write before its commit (SQLite's group commit resolves
      callers after COMMIT; PostgreSQL commits each write itself with synchronous_commit on).
    - record_vote/retract_vote are linearizable per (poll, voter), across processes too: each takes
      effect atomically at one instant between call and return, planned from the state at that
      instant (SQLite: one writer per file under BEGIN IMMEDIATE; PostgreSQL: the poll row FOR SHARE,
      an advisory lock on (poll, voter) and the vote row FOR UPDATE in one transaction). Calls of one
      process for the same (poll, voter) apply in the order they were made. No vote lands after the
      poll's close.
    - At most one not-closed poll per (space_id, channel_id), enforced by the database itself, so
      concurrent create_poll calls (in one process or several) yield exactly one poll.
    - Claims of occurrences and outcomes are atomic (one conditional write): of several processes
      claiming at once, exactly one wins. SQLite compares leases with the caller's `now` (one host,
      one clock). PostgreSQL compares them with the database's clock (clock_timestamp()), so hosts
      whose clocks disagree cannot steal a live lease; there the lease's length is the `lease`
      argument, and `now` keeps its other uses (instants recorded, what is due), which is what lets
      tests drive the rest with a fake clock. Back-off times (`retry_at`) are stored as given.
    - open() is safe when several processes start at once: migrations run once, under a lock (SQLite:
      BEGIN IMMEDIATE; PostgreSQL: pg_advisory_xact_lock in one transaction). A database migrated by
      a newer version is refused with a StoreError and left untouched.
    - Abandoned polls (their post was refused) are closed, hold no votes, and appear in no listing;
      only get_poll still returns them (with `abandoned=True`).
    """

    async def open(self) -> None:
        """Connect and apply pending migrations; StoreError (one line) if the database is unusable."""

    async def close(self) -> None:
        """Finish queued writes, then disconnect."""

    async def schema_version(self) -> int: ...

    async def get_or_create_meta(self, key: str, value: str) -> str:
        """Return the stored value for `key`, storing `value` first if there is none."""

    async def get_meta(self, key: str) -> str | None: ...

    async def set_meta(self, key: str, value: str) -> None: ...

    async def create_poll(
        self,
        space_id: str,
        channel_id: str,
        prompt_id: str,
        opened_at: datetime,
        closes_at: datetime | None,
        platform: str = "",
        min_votes: int | None = None,
        results_live: bool | None = None,
    ) -> Poll:
        """Open a poll. In one transaction: close the channel's polls whose closing time has come by
        `opened_at`, then insert; PollAlreadyOpen (carrying the open poll) if one is still open."""

    async def abandon_poll(self, poll_id: int, at: datetime) -> None:
        """The platform refused the poll's post: close it (if open), mark it abandoned and delete its
        votes, history and tallies. It is then listed nowhere and its prompt counts as unused."""

    async def get_poll(self, poll_id: int) -> Poll | None: ...

    async def set_poll_message(self, poll_id: int, message_ref: str) -> None: ...

    async def close_poll(self, poll_id: int, at: datetime) -> bool:
        """Close an open poll; False when it was already closed."""

    async def open_polls(self, space_id: str, channel_id: str | None = None) -> list[Poll]: ...

    async def recent_polls(self, space_id: str, channel_id: str | None = None, limit: int = 25) -> list[Poll]:
        """Newest first."""

    async def polls_due_to_close(self, now: datetime) -> list[Poll]: ...

    async def used_prompt_ids(self, space_id: str, channel_id: str) -> list[str]:
        """Prompt ids posted in the channel, oldest first."""

    async def record_vote(self, poll_id: int, voter_key: str, option_id: str, at: datetime) -> VoteOutcome:
        """Cast or change a vote; returns only after the commit that holds it."""

    async def retract_vote(self, poll_id: int, voter_key: str, at: datetime) -> VoteOutcome: ...

    async def current_vote(self, poll_id: int, voter_key: str) -> str | None: ...

    async def tally(self, poll_id: int) -> Tally: ...

    async def history(self, poll_id: int, voter_key: str) -> list[HistoryEntry]: ...

    async def stance(self, space_id: str, voter_key: str) -> list[tuple[Poll, str]]:
        """The member's current choices across the space's polls, newest poll first."""

    async def forget_member(self, space_id: str, voter_key: str) -> int:
        """Delete every vote and history row of the member in the space, and their reasons, marks and reports
        (a closed poll's reason counts stay); returns rows deleted."""

    async def purge_votes_closed_before(self, cutoff: datetime) -> int:
        """Drop per-vote rows and reasons of polls closed before `cutoff`, keeping tallies and reason counts."""

    async def channel_settings(self, space_id: str, channel_id: str) -> ChannelSettings | None:
        """The channel's saved settings (every field as last saved; `poll_duration` in whole seconds,
        None meaning the bot's default), or None when the channel never saved any."""

    async def save_channel_settings(self, settings: ChannelSettings) -> None:
        """Create or replace the channel's settings in one write. A higher k or after-close mode is also
        written onto the channel's open polls in that write (a lower k or live mode, and a new duration
        or members_post, apply from the next poll). `poll_duration` keeps whole seconds; one under a
        second, zero or negative is refused with StoreError and nothing is saved."""

    async def polls_with_tallies(self, space_id: str) -> list[tuple[Poll, Tally]]:
        """Every poll of the space with its aggregate, oldest first (for export)."""

    # -- spaces: who facilitates, where the bot answers, custom questions --------------------------

    async def space_settings(self, space_id: str) -> SpaceSettings:
        """The space's saved sets; a SpaceSettings with empty sets when nothing was saved."""

    async def save_space_settings(self, settings: SpaceSettings) -> None:
        """Replace all three stored sets of `settings.space_id` in one write. Readers, and concurrent
        saves, see the sets of one whole save or another: never a mix of two saves, never a set lost
        half-way. The last save to commit wins (a caller adding to a set reads, changes and saves)."""

    async def create_custom_prompt(
        self,
        space_id: str,
        channel_id: str,
        question: str,
        options: tuple[Option, ...],
        uses_scale: bool,
        now: datetime,
        *,
        low_means: str = "",
        high_means: str = "",
    ) -> Prompt:
        """Store a question a facilitator typed and return it as a Prompt: id f"{CUSTOM_PROMPT_PREFIX}{n}"
        (n never reused, so a poll's prompt id always names the same question), section_id "", follow_up
        None. Options are kept whole (id, label, emoji, meaning, lean), and so are `low_means` and
        `high_means` (what -2 and +2 mean for a scale question). Who wrote it is not stored."""

    async def custom_prompt(self, prompt_id: str) -> Prompt | None:
        """The stored custom question with exactly this id, equal to what create_custom_prompt returned;
        None for any other string (a pack's id, a malformed or unknown custom id), never an exception."""

    async def known_spaces(self) -> list[tuple[str, int]]:
        """Every space id the database knows (from polls, channel or space settings, schedules, notices,
        custom questions), each once, with its number of polls as export counts them (abandoned polls
        left out; a space known only from its settings has 0), sorted by space id."""

    # -- scheduling -----------------------------------------------------------------------------

    async def save_schedule(self, schedule: Schedule) -> None:
        """Create or replace a channel's schedule, keeping its done-through watermark."""

    async def get_schedule(self, space_id: str, channel_id: str) -> Schedule | None: ...

    async def due_schedules(self, now: datetime) -> list[Schedule]:
        """Enabled schedules whose `next_due_at` has come or is unset."""

    async def set_next_due(self, schedule: Schedule, next_due_at: datetime) -> None: ...

    async def occurrence_state(self, schedule: Schedule, local_date: date) -> OccurrenceState | None: ...

    async def claim_occurrence(
        self, schedule: Schedule, local_date: date, due_at: datetime, holder: str, now: datetime, lease: timedelta
    ) -> Claim | None:
        """Atomically win (schedule, local_date): new, or claimed by a holder whose lease ran out (on the
        lease clock: `now` on SQLite, the database's clock on PostgreSQL); the lease lasts `lease`."""

    async def bind_occurrence_poll(
        self,
        schedule: Schedule,
        local_date: date,
        prompt_id: str,
        opened_at: datetime,
        closes_at: datetime,
        min_votes: int | None = None,
        results_live: bool | None = None,
    ) -> tuple[Poll, bool]:
        """The occurrence's poll, created now (closing the channel's previous poll) or found again."""

    async def occurrence_info(self, schedule: Schedule, local_date: date) -> OccurrenceInfo | None: ...

    async def pause_schedule(self, space_id: str, channel_id: str, notice: str, at: datetime) -> bool:
        """Turn a channel's schedule off with a notice, in one write; False if it was already off."""

    async def fail_occurrence(self, schedule: Schedule, local_date: date, holder: str, retry_at: datetime) -> bool:
        """Count a refused post and hold the claim until `retry_at`; False if `holder` lost the claim."""

    async def give_up_occurrence(
        self, schedule: Schedule, local_date: date, holder: str | None, now: datetime, notice: str | None
    ) -> bool:
        """Mark a claimed occurrence skipped (its poll already abandoned by the caller), adding `notice` once."""

    async def finish_occurrence(self, schedule: Schedule, local_date: date) -> None: ...

    async def skip_occurrence(self, schedule: Schedule, local_date: date, due_at: datetime) -> bool: ...

    async def occurrence_states(
        self, space_id: str, channel_id: str
    ) -> dict[date, tuple[OccurrenceState, int | None]]: ...

    async def polls_awaiting_outcome(self, now: datetime | None = None) -> list[Poll]: ...

    async def claim_outcome(self, poll_id: int, now: datetime, lease: timedelta) -> OutcomeClaim | None:
        """Win the right to post the outcome until `now + lease`; None if posted, given up or held."""

    async def fail_outcome(self, poll_id: int, now: datetime, retry_at: datetime | None) -> None:
        """A failed outcome attempt: try again from `retry_at`, or with None, never again."""

    async def mark_outcome_posted(self, poll_id: int, at: datetime) -> None: ...

    # -- poll message refreshes, shared by every process on the database (core/store/refresh.py) -----

    async def claim_refresh(
        self, poll_id: int, holder: str, now: datetime, gap: timedelta,
        lease: timedelta = ..., mark: bool = True,
    ) -> RefreshClaim:
        """One atomic step of the turn at editing the poll's message. `mark` first records that the poll
        changed. GO: `holder` edits now (rendering what the store holds after this call) and then calls
        finish_refresh; granted only when no edit is running (or its `lease` ran out) and the last one
        ended `gap` or more ago. WAIT: ask again (mark=False) in `.wait` seconds. DONE: the last finished
        edit came after every mark. Instants: the caller's `now` on SQLite, the database's clock on
        PostgreSQL (as for the other leases)."""

    async def finish_refresh(self, poll_id: int, holder: str, now: datetime) -> bool:
        """`holder`'s edit ended (a failed edit too: it is not retried, the next change retries); the gap
        counts from now. False when `holder` had lost the turn (its lease ran out)."""

    # -- reasons (core/store/reason_ops.py): never handed out with their author's key --------------------

    async def save_reason(self, poll_id: int, voter_key: str, text: str, at: datetime) -> ReasonOutcome:
        """Write the member's one reason on the poll, for their current choice: SAVED (new) or UPDATED (its
        option follows the vote; new words drop the old marks and views, keep reports and a hide). POLL_CLOSED
        when the poll is closed or its time is up at `at`, NO_VOTE without a current vote; nothing written."""

    async def delete_reason(self, poll_id: int, voter_key: str, at: datetime) -> ReasonOutcome:
        """DELETED (with its marks and reports), NOTHING, or POLL_CLOSED (kept)."""

    async def keep_reason(self, poll_id: int, voter_key: str, at: datetime) -> ReasonOutcome:
        """Move the member's reason to their current choice: MOVED, NOTHING (none, or already there), NO_VOTE,
        POLL_CLOSED."""

    async def my_reason(self, poll_id: int, voter_key: str) -> Reason | None:
        """The member's own reason on the poll, hidden or waiting for a keep too (`mine` True)."""

    async def get_reason(self, reason_id: int) -> Reason | None:
        """Any stored reason by id (hidden too), `mine`/`marked` False; None when there is none."""

    async def reasons(self, poll_id: int, viewer_key: str = "") -> list[Reason]:
        """The reasons that count (not hidden, their option their author's current choice), oldest first,
        with exact marks, views, and `mine`/`marked` answered for `viewer_key`."""

    async def reasons_for_review(self, poll_id: int) -> list[Reason]:
        """Hidden reasons and those with reports since their last review, for facilitators (no author)."""

    async def reason_counts(self, poll_id: int) -> dict[str, int]:
        """Reasons that count per option, plus those purged or erased from the closed poll (kept counts)."""

    async def mark_reason(self, reason_id: int, voter_key: str, at: datetime) -> ReasonOutcome:
        """MARKED, ALREADY, OWN (never on one's own reason), or GONE (missing, hidden or not counting)."""

    async def unmark_reason(self, reason_id: int, voter_key: str) -> ReasonOutcome:
        """UNMARKED or NOTHING."""

    async def report_reason(self, reason_id: int, voter_key: str, limit: int, at: datetime) -> ReasonOutcome:
        """REPORTED; HIDDEN when the reports since its last review reach `limit`; ALREADY, OWN or GONE."""

    async def moderate_reason(self, reason_id: int, hide: bool) -> ReasonOutcome:
        """A facilitator hides (HIDDEN, or NOTHING if they already had) or restores (RESTORED, its reports
        answered; NOTHING when shown and unreported) a reason; GONE when there is none."""

    async def add_reason_views(self, reason_ids: list[int]) -> None:
        """Count one view for each reason shown on a page (per reason, never per member)."""

    # -- notices for admins ---------------------------------------------------------------------

    async def add_notice(self, space_id: str, channel_id: str, text: str, at: datetime) -> None: ...

    async def notices(self, space_id: str, limit: int = 10) -> list[Notice]:
        """The space's latest notices, newest first."""
