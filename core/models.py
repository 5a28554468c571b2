"""Frozen domain values shared by the core, the store and every adapter."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from functools import cached_property


@dataclass(frozen=True)
class Article:
    title: str
    date: date
    publisher: str
    copyright: str
    source_url: str | None
    references: tuple[str, ...]


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    summary: str
    key_points: tuple[str, ...]
    context: str


@dataclass(frozen=True)
class Option:
    """One answer a member can pick. Scale options carry a lean from -2 (security) to +2 (privacy)."""

    id: str
    label: str
    emoji: str = ""
    meaning: str = ""
    lean: int | None = None


@dataclass(frozen=True)
class Prompt:
    id: str
    section_id: str
    question: str
    options: tuple[Option, ...]
    uses_scale: bool
    follow_up: str | None = None
    low_means: str = ""  # scale prompts: what a lean of -2 means for this question, in a few words
    high_means: str = ""  # ... and what +2 means

    def option(self, option_id: str) -> Option | None:
        return next((o for o in self.options if o.id == option_id), None)


@dataclass(frozen=True)
class Axis:
    """The two poles of a pack's scale: a lean of -2 is all `low`, +2 all `high`."""

    low: str = "security"
    high: str = "privacy"


CUSTOM_PROMPT_PREFIX = "custom-"  # ids of questions facilitators typed in chat; packs may not use it


@dataclass(frozen=True)
class ContentPack:
    article: Article
    sections: tuple[Section, ...]
    scale: tuple[Option, ...]
    prompts: tuple[Prompt, ...]
    topic: str = "AI in law enforcement"  # what the debate is about, as help and results name it
    axis: Axis = field(default_factory=Axis)

    def section(self, section_id: str) -> Section | None:
        return next((s for s in self.sections if s.id == section_id), None)

    def prompt(self, prompt_id: str) -> Prompt | None:
        return self._prompts_by_id.get(prompt_id)

    @cached_property
    def _prompts_by_id(self) -> dict[str, Prompt]:  # every vote's answer looks its question up
        return {p.id: p for p in reversed(self.prompts)}  # reversed: the first of a repeated id wins, as before


@dataclass(frozen=True)
class Poll:
    id: int
    space_id: str
    channel_id: str
    prompt_id: str
    opened_at: datetime
    closes_at: datetime | None
    closed_at: datetime | None
    message_ref: str | None
    platform: str = ""
    # Fixed when the poll opens, so a later settings change can never reveal votes already cast:
    # the rule in force is the stricter of these and the channel's current settings (None on polls
    # opened before the values were recorded).
    min_votes: int | None = None
    results_live: bool | None = None
    abandoned: bool = False  # its post was refused: closed, shown nowhere, its prompt not used up

    def is_open(self, now: datetime) -> bool:
        if self.closed_at is not None:
            return False
        return self.closes_at is None or now < self.closes_at


class VoteKind(StrEnum):
    CAST = "cast"
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    RETRACTED = "retracted"
    NOTHING_TO_RETRACT = "nothing_to_retract"
    POLL_CLOSED = "poll_closed"
    UNKNOWN_POLL = "unknown_poll"


@dataclass(frozen=True)
class VoteOutcome:
    kind: VoteKind
    poll_id: int
    option_id: str | None = None
    previous_option_id: str | None = None
    # The option the member's reason on this poll is attached to, read in the vote's own write (so the
    # receipt's offer costs no extra store call); None when they have none, or the poll refused the vote.
    reason_option_id: str | None = None

    @property
    def changed_results(self) -> bool:
        return self.kind in (VoteKind.CAST, VoteKind.CHANGED, VoteKind.RETRACTED)


@dataclass(frozen=True)
class Tally:
    """Aggregate counts of one poll: how many current voters went from a first option to a current one.

    Every figure in the results (current counts, first-vote counts, changes, movement) derives from
    these pairs, and they survive retention purges of the per-vote rows.
    """

    poll_id: int
    transitions: dict[tuple[str, str], int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.transitions.values())

    def current_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for (_first, current), n in self.transitions.items():
            counts[current] = counts.get(current, 0) + n
        return counts

    def first_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for (first, _current), n in self.transitions.items():
            counts[first] = counts.get(first, 0) + n
        return counts

    def changed(self) -> int:
        return sum(n for (first, current), n in self.transitions.items() if first != current)


@dataclass(frozen=True)
class OptionResult:
    option: Option
    count: int
    share: float
    first_count: int


@dataclass(frozen=True)
class Results:
    poll: Poll
    prompt: Prompt
    total: int
    options: tuple[OptionResult, ...]
    visible: bool
    votes_needed: int
    mean_lean: float | None
    first_mean_lean: float | None
    changed: int
    moved_to_privacy: int
    moved_to_security: int
    hidden_until_close: bool = False
    min_votes: int = 0  # the threshold in force, shown on the poll
    some_changed: bool = False  # fewer than k changed their mind: say only that some did
    shift_shown: bool = False  # at least k changed: first votes, direction and net shift may show
    final: bool = False  # the poll was closed when these were taken

    @property
    def net_shift(self) -> float | None:
        """Positive means the room moved toward privacy since members' first votes."""
        if self.mean_lean is None or self.first_mean_lean is None:
            return None
        return self.mean_lean - self.first_mean_lean


@dataclass(frozen=True)
class StanceEntry:
    poll: Poll
    prompt: Prompt
    option: Option


class ReasonsMode(StrEnum):
    """Whether members of a channel give reasons: not at all, when they like, or asked after each vote."""

    OFF = "off"
    OPTIONAL = "optional"
    ASK = "ask"


@dataclass(frozen=True)
class ChannelSettings:
    space_id: str
    channel_id: str
    min_votes: int
    results_live: bool = True
    poll_duration: timedelta | None = None  # None: the bot's default (POLL_DURATION_HOURS)
    members_post: bool = False  # whether members may open the day's poll; facilitators always may
    reasons: ReasonsMode = ReasonsMode.OPTIONAL
    report_limit: int = 3  # reports that hide a reason until a facilitator reviews it


class ReasonKind(StrEnum):
    SAVED = "saved"
    UPDATED = "updated"
    DELETED = "deleted"
    MOVED = "moved"  # kept with the member's new choice
    NOTHING = "nothing"  # no reason (or no mark, no change) to act on
    NO_VOTE = "no_vote"
    POLL_CLOSED = "poll_closed"
    MARKED = "marked"
    UNMARKED = "unmarked"
    ALREADY = "already"  # marked or reported before
    OWN = "own"  # the member's own reason
    GONE = "gone"  # no such reason, or it is hidden
    REPORTED = "reported"
    HIDDEN = "hidden"  # hidden now (reports reached the limit, or a facilitator hid it)
    RESTORED = "restored"


@dataclass(frozen=True)
class ReasonOutcome:
    kind: ReasonKind
    reason_id: int | None = None


@dataclass(frozen=True)
class Reason:
    """One member's reason for their vote, as the store hands it out: never with its author's key.

    `mine` and `marked` answer for the member who asked (compared by voter key inside the store)."""

    id: int
    poll_id: int
    option_id: str
    text: str
    created_at: datetime
    marks: int = 0
    views: int = 0
    reports: int = 0
    hidden: str | None = None  # None shown; "reports" waits for a facilitator; "facilitator" hidden by one
    mine: bool = False
    marked: bool = False


@dataclass(frozen=True)
class SpaceSettings:
    """Who runs the debate in a space and where. Platform admins always count as facilitators."""

    space_id: str
    facilitator_roles: frozenset[str] = frozenset()  # Discord role ids chosen by a Manage Server admin
    facilitators: frozenset[str] = frozenset()  # Slack member ids named by workspace admins
    channels: frozenset[str] = frozenset()  # the only channels the bot answers in; empty: every channel


DECK_ORDERS = ("section", "shuffle")


@dataclass(frozen=True)
class Schedule:
    """A channel's daily question: wall-clock time in an IANA zone on chosen weekdays."""

    space_id: str
    channel_id: str
    platform: str
    at: time
    timezone: str
    weekdays: frozenset[int]
    duration: timedelta
    deck_order: str
    shuffle_seed: str
    since: datetime  # occurrences at or before this instant are never posted
    enabled: bool = True
    done_through: date | None = None  # last local date posted or skipped
    next_due_at: datetime | None = None  # when the scheduler must look at it next


@dataclass(frozen=True)
class Claim:
    """The right to post one occurrence, held until `lease_until`."""

    local_date: date
    attempts: int
    poll_id: int | None


@dataclass(frozen=True)
class Notice:
    """Something the admins of a space should know, such as a scheduled question that could not be posted."""

    space_id: str
    channel_id: str
    text: str
    at: datetime
