"""`schedule set|show|off`: a channel's daily question, as facilitators see and change it."""

from __future__ import annotations

import secrets
from dataclasses import replace

from core.catalogue import t
from core.durations import format_duration, parse_duration
from core.models import DECK_ORDERS, Schedule
from core.moments import Style, moment
from core.presenter import threshold_announcement
from core.privacy import check_min_votes
from core.render import Reply
from core.scheduler.engine import rule_of
from core.scheduler.timing import (
    format_weekdays,
    next_occurrence,
    parse_time_of_day,
    parse_timezone,
    parse_weekdays,
)
from core.service import Actor, DebateService, UserError
from core.usecase import answers_errors

KEYS = ("time", "tz", "days", "duration", "order", "results", "k")


def parse_pairs(args: list[str]) -> dict[str, str]:
    """`key=value` words; `key value` pairs are accepted too, as people type both."""
    pairs: dict[str, str] = {}
    words = list(args)
    while words:
        word = words.pop(0)
        if "=" in word:
            key, value = word.split("=", 1)
        elif word.lower() in KEYS and words:
            key, value = word, words.pop(0)
        else:
            raise UserError(t("schedule.not_a_setting", word=word[:30], keys=", ".join(KEYS)))
        key = key.strip().lower()
        if key not in KEYS:
            raise UserError(t("schedule.unknown_setting", key=key[:20], keys=", ".join(KEYS)))
        if key in pairs:
            raise UserError(t("router.twice", name=key))
        pairs[key] = value.strip()
    return pairs


class ScheduleCommands:
    def __init__(self, service: DebateService) -> None:
        self.service = service

    @answers_errors
    async def handle(self, actor: Actor, args: list[str]) -> Reply:
        action = args[0].lower() if args else "show"
        await self.service.require(actor)
        if action == "set":
            await self.service.require_channel(actor)
            return await self.set(actor, parse_pairs(args[1:]))
        if action == "show":
            return await self.show(actor)
        if action == "off":
            return await self.off(actor)
        raise UserError(t("schedule.unknown_action", action=action[:20],
                          usage=self.service.cmd(actor, "schedule set", time="09:00", tz="Europe/Berlin")))

    async def set(self, actor: Actor, pairs: dict[str, str]) -> Reply:
        store = self.service.store
        existing = await store.get_schedule(actor.space_id, actor.channel_id)
        if existing is None and "time" not in pairs:
            raise UserError(t("schedule.needs_time",
                              example=self.service.cmd(actor, "schedule set", time="09:00", tz="Europe/Berlin")))
        try:
            at = parse_time_of_day(pairs["time"]) if "time" in pairs else existing.at  # type: ignore[union-attr]
            tz = parse_timezone(pairs["tz"]).key if "tz" in pairs else (
                existing.timezone if existing else getattr(self.service.tz, "key", "UTC"))
            days = parse_weekdays(pairs["days"]) if "days" in pairs else (
                existing.weekdays if existing else frozenset(range(7)))
            settings_now = await self.service.channel_settings(actor.space_id, actor.channel_id)
            duration = parse_duration(pairs["duration"]) if "duration" in pairs else (
                existing.duration if existing else settings_now.poll_duration or self.service.poll_duration)
        except ValueError as exc:
            raise UserError(str(exc)) from None
        order = pairs.get("order", existing.deck_order if existing else "section").lower()
        if order not in DECK_ORDERS:
            raise UserError(t("schedule.bad_order"))
        before = settings = settings_now
        if "results" in pairs:
            visibility = pairs["results"].lower().replace("_", "-")
            if visibility not in ("live", "after-close"):
                raise UserError(t("settings.bad_results", value=pairs["results"][:20]))
            settings = replace(settings, results_live=visibility == "live")
        if "k" in pairs:
            try:
                settings = replace(settings, min_votes=check_min_votes(pairs["k"], "k"))
            except ValueError as exc:
                raise UserError(str(exc)) from None
        now = self.service.clock()
        schedule = Schedule(
            space_id=actor.space_id, channel_id=actor.channel_id, platform=actor.platform or "console",
            at=at, timezone=tz, weekdays=days, duration=duration, deck_order=order,
            shuffle_seed=existing.shuffle_seed if existing else secrets.token_hex(8),
            since=now, enabled=True,
        )
        watermark = existing.done_through if existing else None
        _day, next_at = next_occurrence(rule_of(schedule), now, done_through=watermark)
        schedule = replace(schedule, next_due_at=next_at)
        await store.save_channel_settings(settings)
        await store.save_schedule(schedule)
        self.service.zone_changed(actor.space_id, actor.channel_id)
        reply = await self.show(actor, prefix=t("schedule.saved"))
        if settings.min_votes != before.min_votes:
            open_polls = await store.open_polls(actor.space_id, actor.channel_id)
            reply = replace(reply, announce=threshold_announcement(before.min_votes, settings.min_votes),
                            refresh_polls=tuple(p.id for p in open_polls))
        return reply

    async def show(self, actor: Actor, prefix: str = "") -> Reply:
        store = self.service.store
        schedule = await store.get_schedule(actor.space_id, actor.channel_id)
        trouble = [n for n in await store.notices(actor.space_id) if n.channel_id == actor.channel_id]
        head = [prefix] if prefix else []
        if schedule is None or not schedule.enabled:
            lines = [*head, t("schedule.none", example=self.service.cmd(actor, "schedule set", time="09:00",
                                                                         tz="Europe/Berlin"))]
            if trouble and schedule is not None:
                lines.append(t("schedule.last_problem", text=trouble[0].text))
            return Reply(text=" ".join(lines))
        now = self.service.clock()
        _day, instant = next_occurrence(rule_of(schedule), max(now, schedule.since),
                                       done_through=schedule.done_through)
        zone = rule_of(schedule).tz
        position = await self.service.deck_position(actor.space_id, actor.channel_id, schedule.deck_order,
                                                    schedule.shuffle_seed)
        settings = await self.service.channel_settings(actor.space_id, actor.channel_id)
        lines = [
            *head,
            t("schedule.daily", at=f"{schedule.at:%H:%M}", tz=schedule.timezone,
              days=format_weekdays(schedule.weekdays)),
            t("schedule.next_post", at=moment(instant, zone), relative=moment(instant, zone, Style.RELATIVE)),
            t("schedule.next_question", question=position.next.question, id=position.next.id),
            t("schedule.terms", duration=format_duration(schedule.duration),
              results=t("schedule.live") if settings.results_live else t("schedule.after_close"),
              k=settings.min_votes, order=schedule.deck_order),
        ]
        if position.last_of_round:
            lines.append(t("deck.wraps"))
        if trouble:
            lines.append(t("schedule.last_problem_at", at=moment(trouble[0].at, zone), text=trouble[0].text))
        return Reply(text="\n".join(lines))

    async def off(self, actor: Actor) -> Reply:
        schedule = await self.service.store.get_schedule(actor.space_id, actor.channel_id)
        if schedule is None or not schedule.enabled:
            return Reply(text=t("schedule.off_none"))
        await self.service.store.save_schedule(replace(schedule, enabled=False))
        return Reply(text=t("schedule.off_done"))
