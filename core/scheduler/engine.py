"""The restart-safe scheduler: posts each (schedule, local date) once, closes polls, posts outcomes.

Exactly once rests on three steps, each a single transaction in the store:
1. claim the occurrence (a lease; a holder that died loses it when the lease runs out);
2. create its poll and bind it to the occurrence together, so a retry reuses the same poll;
3. after the platform accepted the post, record the message and mark the occurrence posted.
A retry of an occurrence whose poll already existed first asks the platform for the poll's marker:
a post accepted just before a crash is adopted, not repeated.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from core.models import Schedule
from core.scheduler.port import PlatformPort
from core.scheduler.timing import DailyRule, due_occurrences, next_occurrence
from core.service import DebateService

log = logging.getLogger(__name__)

DEFAULT_GRACE = timedelta(hours=2)
DEFAULT_LEASE = timedelta(minutes=2)
TICK_SECONDS = 20.0
CONCURRENT_SCHEDULES = 32


@dataclass
class TickReport:
    posted: list[tuple[str, str, date, int]] = field(default_factory=list)
    adopted: list[tuple[str, str, date, int]] = field(default_factory=list)
    skipped: list[tuple[str, str, date]] = field(default_factory=list)
    closed: list[int] = field(default_factory=list)
    outcomes: list[int] = field(default_factory=list)


def rule_of(schedule: Schedule) -> DailyRule:
    return DailyRule(schedule.at, ZoneInfo(schedule.timezone), schedule.weekdays)


class Scheduler:
    def __init__(
        self,
        service: DebateService,
        ports: dict[str, PlatformPort],
        holder: str,
        clock: Callable[[], datetime] | None = None,
        grace: timedelta = DEFAULT_GRACE,
        lease: timedelta = DEFAULT_LEASE,
    ) -> None:
        self.service = service
        self.store = service.store
        self.ports = ports
        self.holder = holder
        self.clock = clock or service.clock
        self.grace = grace
        self.lease = lease

    async def tick(self) -> TickReport:
        """One pass: post what is due, close what has expired, post outcomes. Safe to run anywhere."""
        report = TickReport()
        now = self.clock()
        schedules = [s for s in await self.store.due_schedules(now) if s.platform in self.ports]
        limit = asyncio.Semaphore(CONCURRENT_SCHEDULES)

        async def one(schedule: Schedule) -> None:
            async with limit:
                await self._run_schedule(schedule, now, report)

        outcomes = await asyncio.gather(*(one(s) for s in schedules), return_exceptions=True)
        failures = [o for o in outcomes if isinstance(o, BaseException)]
        for failure in failures[1:]:
            log.error("scheduling failed: %r", failure)
        if failures:
            raise failures[0]
        await self._close_expired(now, report)
        await self._post_outcomes(now, report)
        return report

    async def _run_schedule(self, schedule: Schedule, now: datetime, report: TickReport) -> None:
        rule = rule_of(schedule)
        due, skipped = due_occurrences(rule, schedule.since, now, self.grace, done_through=schedule.done_through)
        done_through = schedule.done_through
        for day, at in skipped:
            if await self.store.skip_occurrence(schedule, day, at):
                log.warning("skipped the %s post in %s/%s due %s: missed by more than the grace window",
                            day, schedule.space_id, schedule.channel_id, at.isoformat())
                report.skipped.append((schedule.space_id, schedule.channel_id, day))
            done_through = max(done_through or day, day)
        pending: list[datetime] = []
        for day, at in due:
            if await self._post_occurrence(schedule, day, at, now, report):
                done_through = max(done_through or day, day)
            else:
                pending.append(at)
        if pending:  # another live process holds it: look again next tick
            await self.store.set_next_due(schedule, min(pending))
        else:
            _day, next_at = next_occurrence(rule, max(now, schedule.since), done_through=done_through)
            await self.store.set_next_due(schedule, next_at)

    async def _post_occurrence(
        self, schedule: Schedule, day: date, due_at: datetime, now: datetime, report: TickReport
    ) -> bool:
        """Post (or adopt) one occurrence; False when another live process holds its claim."""
        claim = await self.store.claim_occurrence(schedule, day, due_at, self.holder, now, self.lease)
        if claim is None:
            return await self.store.occurrence_state(schedule, day) in ("posted", "skipped")
        port = self.ports[schedule.platform]
        prompt = await self.service.next_prompt(schedule.space_id, schedule.channel_id, schedule.deck_order,
                                                schedule.shuffle_seed)
        poll, created = await self.store.bind_occurrence_poll(schedule, day, prompt.id, now, now + schedule.duration)
        key = (schedule.space_id, schedule.channel_id, day, poll.id)
        if not created:
            ref = poll.message_ref or await port.find_poll_message(poll)
            if ref is not None:
                await self.service.attach_message(poll.id, ref)
                await self.store.finish_occurrence(schedule, day)
                report.adopted.append(key)
                return True
        ref = await port.post_poll(poll, await self.service.poll_card(poll.id))
        await self.service.attach_message(poll.id, ref)
        await self.store.finish_occurrence(schedule, day)
        report.posted.append(key)
        return True

    async def _close_expired(self, now: datetime, report: TickReport) -> None:
        for poll in await self.store.polls_due_to_close(now):
            if await self.store.close_poll(poll.id, poll.closes_at or now):
                report.closed.append(poll.id)

    async def _post_outcomes(self, now: datetime, report: TickReport) -> None:
        for poll in await self.store.polls_awaiting_outcome():
            port = self.ports.get(poll.platform)
            if port is None or not await self.store.claim_outcome(poll.id, now, self.lease):
                continue
            try:
                await port.update_poll(poll, await self.service.poll_card(poll.id))
                await port.post_outcome(poll, await self.service.outcome_card(poll.id))
            except Exception:  # the lease runs out and a later tick tries again
                log.exception("posting the outcome of poll #%d failed", poll.id)
                continue
            await self.store.mark_outcome_posted(poll.id, now)
            report.outcomes.append(poll.id)

    async def run_forever(self, interval: float = TICK_SECONDS) -> None:
        """Tick until cancelled; a failing tick is logged and the next one tries again."""
        last_purge: date | None = None
        while True:
            try:
                await self.tick()
                today = self.clock().date()
                if last_purge != today:
                    purged = await self.service.purge_expired()
                    if purged:
                        log.info("retention: deleted %d per-vote rows of old polls", purged)
                    last_purge = today
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("scheduler tick failed")
            await asyncio.sleep(interval)
