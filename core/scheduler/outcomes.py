"""Posting each closed poll's outcome once: claimed, retried with backoff, given up after a bound.

A retry first asks the platform for an outcome already posted (found by its card marker), so one
accepted just before a crash is adopted instead of posted again.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from core.models import Poll
from core.scheduler.port import PlatformPort
from core.store.occurrence import OutcomeClaim

if TYPE_CHECKING:
    from core.scheduler.engine import Scheduler, TickReport

log = logging.getLogger(__name__)

MAX_OUTCOME_ATTEMPTS = 6
OUTCOME_RETRY_FIRST = timedelta(minutes=2)


def backoff(attempt: int, first: timedelta) -> timedelta:
    """Wait after the `attempt`-th failure (1-based): first, then doubling."""
    return first * 2 ** max(attempt - 1, 0)


def describe(exc: BaseException) -> str:
    """A one-line error for logs and notices. Platform errors name channels and codes, not members."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__


async def post_outcomes(scheduler: Scheduler, now: datetime, report: TickReport) -> None:
    store = scheduler.store
    for poll in await store.polls_awaiting_outcome(now):
        port = scheduler.ports.get(poll.platform)
        if port is None:
            continue
        claim = await store.claim_outcome(poll.id, now, scheduler.lease)
        if claim is None:
            continue
        try:
            adopted = await _post_one(scheduler, port, poll, claim)
        except Exception as exc:  # this poll's channel only; the others go on
            await _failed(scheduler, poll, claim, now, exc, report)
            continue
        await store.mark_outcome_posted(poll.id, now)
        (report.outcomes_adopted if adopted else report.outcomes).append(poll.id)


async def _post_one(scheduler: Scheduler, port: PlatformPort, poll: Poll, claim: OutcomeClaim) -> bool:
    """Refresh the poll message and post the outcome; True when an earlier attempt had posted it."""
    try:
        await port.update_poll(poll, await scheduler.service.poll_card(poll.id))
    except Exception as exc:  # best effort: a message that cannot be edited must not hold back the outcome
        log.info("refreshing the closed poll #%d in %s/%s failed: %s",
                    poll.id, poll.space_id, poll.channel_id, describe(exc))
    if claim.attempt > 1 and await port.find_outcome_message(poll) is not None:
        return True
    await port.post_outcome(poll, await scheduler.service.outcome_card(poll.id))
    return False


async def _failed(
    scheduler: Scheduler, poll: Poll, claim: OutcomeClaim, now: datetime, exc: Exception, report: TickReport
) -> None:
    if claim.attempt >= MAX_OUTCOME_ATTEMPTS:
        await scheduler.store.fail_outcome(poll.id, now, None)
        log.warning("gave up posting the outcome of poll #%d in %s/%s after %d attempts: %s",
                    poll.id, poll.space_id, poll.channel_id, claim.attempt, describe(exc))
        report.outcomes_given_up.append(poll.id)
        return
    retry_at = now + backoff(claim.attempt, OUTCOME_RETRY_FIRST)
    await scheduler.store.fail_outcome(poll.id, now, retry_at)
    log.info("posting the outcome of poll #%d in %s/%s failed (attempt %d of %d), next try %s: %s",
             poll.id, poll.space_id, poll.channel_id, claim.attempt, MAX_OUTCOME_ATTEMPTS,
             retry_at.isoformat(timespec="seconds"), describe(exc))
