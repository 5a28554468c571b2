"""The one rule for what of a poll may be shown, to whom, at a given moment.

Every output that shows a poll - the poll message, `results`, the outcome post, App Home, the CSV
export, pickers - takes its figures from `visible_results`, which hands out a *redacted* Results:
figures that may not be shown are not in it, so no renderer can leak them by forgetting a check.
Channel scope (who may see a poll at all) is `may_see`, given the platform's answer about the viewer.
Reasons follow the same rule through `visible_reasons`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from core.models import ChannelSettings, OptionResult, Poll, Prompt, Reason, Results, Tally
from core.privacy import MIN_VOTES_FLOOR, votes_needed
from core.reasons import group_keys, side_of
from core.results import compute_results


@dataclass(frozen=True)
class Rule:
    """The threshold and results mode in force for one poll right now."""

    min_votes: int
    results_live: bool


def rule_for(poll: Poll, settings: ChannelSettings) -> Rule:
    """What the poll carries: fixed when it opened, and only ever made stricter while it is open.

    The store writes a raised k or after-close mode onto open polls when the channel's settings
    change, and never a looser one, so lowering k or switching to live - or undoing a raise - cannot
    reveal votes already cast. Polls from before the snapshot existed follow the channel.
    """
    k = poll.min_votes if poll.min_votes is not None else settings.min_votes
    live = poll.results_live if poll.results_live is not None else settings.results_live
    return Rule(max(MIN_VOTES_FLOOR, k), live)


def visible_results(poll: Poll, prompt: Prompt, tally: Tally, rule: Rule, now: datetime) -> Results:
    """The poll's results with everything the rule forbids taken out."""
    raw = compute_results(poll, prompt, tally)
    until_close = not rule.results_live and poll.is_open(now)
    needed = votes_needed(raw.total, rule.min_votes)
    counts_shown = needed == 0 and not until_close
    # Who changed is often known (people say so); with fewer than k changers the first->now
    # breakdown or the direction would be their old and new choice. Below k only "some changed".
    shift_shown = counts_shown and raw.changed >= rule.min_votes
    options = raw.options
    if not counts_shown:
        options = tuple(OptionResult(r.option, 0, 0.0, 0) for r in raw.options)
    elif not shift_shown:
        options = tuple(OptionResult(r.option, r.count, r.share, r.count) for r in raw.options)
    return Results(
        poll=poll,
        prompt=prompt,
        total=raw.total,
        options=options,
        visible=counts_shown,
        votes_needed=needed,
        mean_lean=raw.mean_lean if counts_shown else None,
        first_mean_lean=raw.first_mean_lean if shift_shown else None,
        changed=raw.changed if shift_shown else 0,
        moved_to_privacy=raw.moved_to_privacy if shift_shown else 0,
        moved_to_security=raw.moved_to_security if shift_shown else 0,
        hidden_until_close=until_close,
        min_votes=rule.min_votes,
        some_changed=counts_shown and 0 < raw.changed < rule.min_votes,
        shift_shown=shift_shown,
        final=not poll.is_open(now),
    )


ChannelCheck = Callable[[str], Awaitable[bool]]


async def may_see(poll: Poll, space_id: str, channel_id: str, can_view: ChannelCheck | None) -> bool:
    """Whether a viewer standing in `channel_id` may see `poll` at all (its question included).

    In the poll's own channel, yes; elsewhere only when the platform confirms the viewer can see the
    poll's channel. No answer (no check, or the check failed) means no.
    """
    if poll.space_id != space_id or poll.abandoned:
        return False
    if poll.channel_id == channel_id:
        return True
    if can_view is None:
        return False
    try:
        return bool(await can_view(poll.channel_id))
    except Exception:  # the platform could not say: refusing is the private answer
        return False


@dataclass(frozen=True)
class ReasonGroup:
    """One side (scale) or option: how many reasons it has, and those that may be shown."""

    key: str
    count: int
    reasons: tuple[Reason, ...] = ()  # empty when the group has fewer than k reasons: its count only

    @property
    def count_only(self) -> bool:
        return not self.reasons


@dataclass(frozen=True)
class VisibleReasons:
    shown: bool  # False: results are hidden (below k, or before close in after-close mode): show nothing
    groups: tuple[ReasonGroup, ...] = ()
    min_votes: int = 0

    @property
    def total(self) -> int:
        return sum(g.count for g in self.groups)


def visible_reasons(results: Results, reasons: list[Reason], counts: dict[str, int]) -> VisibleReasons:
    """The reasons of a poll as the rule allows them now: nothing while its results are hidden, and a
    group with fewer than k reasons as a count alone (a reason can tell its author as well as a vote)."""
    k = results.min_votes
    if not results.visible:
        return VisibleReasons(False, (), k)
    prompt = results.prompt
    by_option = {o.id: o for o in prompt.options}
    groups = []
    for key in group_keys(prompt):
        members = tuple(r for r in reasons if side_of(by_option.get(r.option_id), prompt) == key)
        n = sum(c for option_id, c in counts.items() if side_of(by_option.get(option_id), prompt) == key)
        n = max(n, len(members))
        groups.append(ReasonGroup(key, n, members if n >= k else ()))
    return VisibleReasons(True, tuple(groups), k)
