"""The restart-safe scheduler: posts each (schedule, local date) once, closes polls, posts outcomes.

Exactly once rests on three steps, each a single transaction in the store:
1. claim the occurrence (a lease; a holder that died loses it when the lease runs out);
2. create its poll and bind it to the occurrence together, so a retry reuses the same poll;
3. after the platform accepted the post, record the message and mark the occurrence posted.
A retry of an occurrence whose poll already existed first asks the platform for the poll's marker:
a post accepted just before a crash is adopted, not repeated.

One channel's trouble stays in that channel: each schedule runs isolated, a refused post backs off
(2, 4, 8, 16 minutes) and is given up after a bound or when its grace window ends — the occurrence is
skipped, its poll abandoned and the space's admins get one notice — while closes and outcomes of every
other channel go ahead in the same tick.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from core.catalogue import t
from core.models import Poll, Schedule
from core.scheduler.outcomes import backoff, describe, post_outcomes
from core.scheduler.port import PlatformPort
from core.scheduler.timing import DailyRule, due_occurrences, next_occurrence
from core.service import DebateService

log = logging.getLogger(__name__)

DEFAULT_GRACE = timedelta(hours=2)
DEFAULT_LEASE = timedelta(minutes=2)
TICK_SECONDS = 20.0
CONCURRENT_SCHEDULES = 32
MAX_POST_ATTEMPTS = 5
# A channel that refused every post on this many scheduled days in a row is paused, not retried forever.
PAUSE_AFTER_REFUSED_DAYS = 3
POST_RETRY_FIRST = timedelta(minutes=2)


@dataclass
class TickReport:
    posted: list[tuple[str, str, date, int]] = field(default_factory=list)
    adopted: list[tuple[str, str, date, int]] = field(default_factory=list)
    skipped: list[tuple[str, str, date]] = field(default_factory=list)
    given_up: list[tuple[str, str, date]] = field(default_factory=list)  # skipped after refused posts
    failed: list[tuple[str, str]] = field(default_factory=list)  # schedules whose run failed this tick
    closed: list[int] = field(default_factory=list)
    outcomes: list[int] = field(default_factory=list)
    outcomes_adopted: list[int] = field(default_factory=list)
    outcomes_given_up: list[int] = field(default_factory=list)


def rule_of(schedule: Schedule) -> DailyRule:
    return DailyRule(schedule.at, ZoneInfo(schedule.timezone), schedule.weekdays)


def _notice(day: date, failures: int, error: str | None) -> str:
    why = f" ({error})" if error else ""
    return t("scheduler.refused", day=day.isoformat(), n=failures, why=why)


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
                try:
                    await self._run_schedule(schedule, now, report)
                except Exception as exc:  # its claims lapse and a later tick tries again
                    log.warning("scheduling in %s/%s failed: %s", schedule.space_id, schedule.channel_id,
                                describe(exc))
                    report.failed.append((schedule.space_id, schedule.channel_id))

        results = await asyncio.gather(*(one(s) for s in schedules), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):  # not an Exception: cancellation or the process ending
                raise result
        try:
            await self._close_expired(now, report)
        except Exception as exc:
            log.warning("closing expired polls failed: %s", describe(exc))
        await post_outcomes(self, now, report)
        return report

    async def _run_schedule(self, schedule: Schedule, now: datetime, report: TickReport) -> None:
        rule = rule_of(schedule)
        due, skipped = due_occurrences(rule, schedule.since, now, self.grace, done_through=schedule.done_through)
        done_through = schedule.done_through
        for day, at in skipped:
            await self._settle_missed(schedule, day, at, now, report)
            done_through = max(done_through or day, day)
        pending: list[datetime] = []
        for day, at in due:
            again = await self._post_occurrence(schedule, day, at, now, report)
            if again is None:
                done_through = max(done_through or day, day)
            else:
                pending.append(again)
        _day, next_at = next_occurrence(rule, max(now, schedule.since), done_through=done_through)
        await self.store.set_next_due(schedule, min([next_at, *pending]))

    async def _post_occurrence(
        self, schedule: Schedule, day: date, due_at: datetime, now: datetime, report: TickReport
    ) -> datetime | None:
        """Post (or adopt) one occurrence; None when it is settled, else when to look at it again."""
        claim = await self.store.claim_occurrence(schedule, day, due_at, self.holder, now, self.lease)
        if claim is None:  # settled, held by another live process, or backing off
            info = await self.store.occurrence_info(schedule, day)
            if info is None or info.state != "claimed":
                return None
            return max(info.lease_until or due_at, now)
        port = self.ports[schedule.platform]
        settings = await self.service.channel_settings(schedule.space_id, schedule.channel_id)
        position = await self.service.deck_position(schedule.space_id, schedule.channel_id, schedule.deck_order,
                                                    schedule.shuffle_seed)
        prompt = position.next
        poll, created = await self.store.bind_occurrence_poll(
            schedule, day, prompt.id, now, now + schedule.duration, settings.min_votes, settings.results_live
        )
        key = (schedule.space_id, schedule.channel_id, day, poll.id)
        ref = poll.message_ref
        try:  # only the platform's part: a refusal here backs off, anything else lets the claim lapse
            if ref is None and not created and not poll.abandoned:
                ref = await port.find_poll_message(poll)
            replaced = not created and (poll.abandoned or poll.closed_at is not None)
            adopted = ref is not None
            if ref is None and not replaced:
                ref = await port.post_poll(poll, await self.service.poll_card(poll.id))
        except Exception as exc:
            return await self._post_failed(schedule, day, due_at, poll, now, exc, report)
        if ref is None:  # given up before a crash (abandoned), or closed by a newer question: never post it
            info = await self.store.occurrence_info(schedule, day)
            failures = info.failures if info else 0
            notice = _notice(day, failures, None) if failures else None  # refused: tell the admins
            await self._give_up(schedule, day, poll, self.holder, now, notice, report)
            return None
        if poll.message_ref is None:
            await self.service.attach_message(poll.id, ref)
        await self.store.finish_occurrence(schedule, day)
        (report.adopted if adopted else report.posted).append(key)
        if created and position.last_of_round:  # facilitators hear it before the deck starts over
            await self.store.add_notice(schedule.space_id, schedule.channel_id, t("scheduler.deck_wrapped"), now)
        return None

    async def _adopt(self, schedule: Schedule, day: date, poll: Poll, port: PlatformPort) -> bool:
        """Finish an occurrence whose poll reached the platform before a crash; False if it did not."""
        ref = poll.message_ref
        if ref is None and not poll.abandoned:
            ref = await port.find_poll_message(poll)
            if ref is not None:
                await self.service.attach_message(poll.id, ref)
        if ref is None:
            return False
        await self.store.finish_occurrence(schedule, day)
        return True

    async def _post_failed(
        self, schedule: Schedule, day: date, due_at: datetime, poll: Poll, now: datetime, exc: Exception,
        report: TickReport,
    ) -> datetime | None:
        """Back off after a refused post, or give the occurrence up; returns when to try again, if ever."""
        info = await self.store.occurrence_info(schedule, day)
        failures = (info.failures if info else 0) + 1
        retry_at = now + backoff(failures, POST_RETRY_FIRST)
        final = failures >= MAX_POST_ATTEMPTS or retry_at > due_at + self.grace
        # Counted before giving up too, so a crash before the skip still leaves a refusal on record.
        if not await self.store.fail_occurrence(schedule, day, self.holder, now + self.lease if final else retry_at):
            return now  # our lease ran out meanwhile and another process took over: look again next tick
        error = describe(exc)
        where = f"{schedule.space_id}/{schedule.channel_id}"
        if not final:
            log.warning("posting the %s question in %s failed (attempt %d of %d), next try %s: %s",
                        day, where, failures, MAX_POST_ATTEMPTS, retry_at.isoformat(timespec="seconds"), error)
            return retry_at
        log.warning("posting the %s question in %s failed (attempt %d, the last): %s", day, where, failures, error)
        await self._give_up(schedule, day, poll, self.holder, now, _notice(day, failures, error), report)
        return None

    async def _give_up(
        self, schedule: Schedule, day: date, poll: Poll | None, holder: str | None, now: datetime,
        notice: str | None, report: TickReport,
    ) -> None:
        # Abandon first: a crash in between leaves the claim, and the retry sees the abandoned poll and
        # finishes giving up instead of posting it. The notice is written with the skip, so only once.
        if poll is not None and poll.message_ref is None:
            await self.store.abandon_poll(poll.id, now)
        if await self.store.give_up_occurrence(schedule, day, holder, now, notice):
            where = f"{schedule.space_id}/{schedule.channel_id}"
            if notice:
                log.warning("gave up the %s question in %s: skipped, admins notified", day, where)
                report.given_up.append((schedule.space_id, schedule.channel_id, day))
                await self._pause_if_always_refused(schedule, day, now)
            else:
                log.warning("skipped the %s question in %s: not posted before the grace window ended", day, where)
            report.skipped.append((schedule.space_id, schedule.channel_id, day))

    async def _pause_if_always_refused(self, schedule: Schedule, day: date, now: datetime) -> None:
        states = await self.store.occurrence_states(schedule.space_id, schedule.channel_id)
        recent = sorted((d for d in states if d <= day), reverse=True)[:PAUSE_AFTER_REFUSED_DAYS]
        if len(recent) < PAUSE_AFTER_REFUSED_DAYS:
            return
        for past in recent:
            info = await self.store.occurrence_info(schedule, past)
            if info is None or info.state != "skipped" or info.failures == 0:
                return
        notice = t("scheduler.paused", days=PAUSE_AFTER_REFUSED_DAYS,
                   resume=self.service.cmd(schedule.platform, "schedule set"))
        if await self.store.pause_schedule(schedule.space_id, schedule.channel_id, notice, now):
            log.warning("paused the schedule of %s/%s after %d refused days", schedule.space_id,
                        schedule.channel_id, PAUSE_AFTER_REFUSED_DAYS)

    async def _settle_missed(
        self, schedule: Schedule, day: date, due_at: datetime, now: datetime, report: TickReport
    ) -> None:
        """An occurrence past its grace window: record it skipped, or finish what a dead holder left."""
        info = await self.store.occurrence_info(schedule, day)
        if info is None:
            if await self.store.skip_occurrence(schedule, day, due_at):
                log.warning("skipped the %s post in %s/%s due %s: missed by more than the grace window",
                            day, schedule.space_id, schedule.channel_id, due_at.isoformat())
                report.skipped.append((schedule.space_id, schedule.channel_id, day))
            return
        if info.state != "claimed" or (info.lease_until is not None and info.lease_until > now):
            return  # settled, or a live process is still on it
        poll = await self.store.get_poll(info.poll_id) if info.poll_id is not None else None
        if poll is not None:
            try:
                if await self._adopt(schedule, day, poll, self.ports[schedule.platform]):
                    report.adopted.append((schedule.space_id, schedule.channel_id, day, poll.id))
                    return
            except Exception as exc:  # cannot look: the channel is refusing us; it is too late to post anyway
                log.warning("looking for the %s question in %s/%s failed: %s",
                            day, schedule.space_id, schedule.channel_id, describe(exc))
        notice = _notice(day, info.failures, None) if info.failures else None  # only refusals are news
        await self._give_up(schedule, day, poll, None, now, notice, report)

    async def _close_expired(self, now: datetime, report: TickReport) -> None:
        for poll in await self.store.polls_due_to_close(now):
            if await self.store.close_poll(poll.id, poll.closes_at or now):
                report.closed.append(poll.id)

    async def run_forever(self, interval: float = TICK_SECONDS) -> None:
        """Tick until cancelled; a failing tick is logged and the next one tries again.

        The daily retention purge runs whether or not the tick went well.
        """
        last_purge: date | None = None
        while True:
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("scheduler tick failed")
            today = self.clock().date()
            if last_purge != today:
                try:
                    purged = await self.service.purge_expired()
                    if purged:
                        log.info("retention: deleted %d per-vote rows of old polls", purged)
                    last_purge = today
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("retention purge failed")
            await asyncio.sleep(interval)
