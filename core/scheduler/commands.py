"""`schedule set|show|off`: the admin's view of a channel's daily question, shared by every adapter."""

from __future__ import annotations

import re
import secrets
from dataclasses import replace
from datetime import timedelta

from core.models import DECK_ORDERS, Schedule
from core.presenter import threshold_announcement, when
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
from core.service import ADMIN_ONLY, Actor, DebateService, UserError

USAGE = ("schedule set time=09:00 tz=Europe/Berlin days=mon-fri duration=24h order=section|shuffle "
         "results=live|after-close k=3  ·  schedule show  ·  schedule off")
KEYS = ("time", "tz", "days", "duration", "order", "results", "k")
_DURATION = re.compile(r"^(\d{1,4})\s*(m|min|h|d)?$")
MIN_DURATION = timedelta(minutes=10)
MAX_DURATION = timedelta(days=7)


def parse_duration(text: str) -> timedelta:
    match = _DURATION.match(text.strip().lower())
    if not match:
        raise UserError(f"'{text[:20]}' is not a duration: use minutes, hours or days, e.g. 90m, 24h or 2d.")
    number, unit = int(match.group(1)), match.group(2) or "h"
    value = {"m": timedelta(minutes=number), "min": timedelta(minutes=number), "h": timedelta(hours=number),
             "d": timedelta(days=number)}[unit]
    if not MIN_DURATION <= value <= MAX_DURATION:
        raise UserError("A poll stays open between 10 minutes and 7 days.")
    return value


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
            raise UserError(f"'{word[:30]}' is not a setting. Usage: {USAGE}")
        key = key.strip().lower()
        if key not in KEYS:
            raise UserError(f"Unknown schedule setting '{key[:20]}'. Settings: {', '.join(KEYS)}.")
        if key in pairs:
            raise UserError(f"'{key}' is given twice.")
        pairs[key] = value.strip()
    return pairs


class ScheduleCommands:
    def __init__(self, service: DebateService) -> None:
        self.service = service

    async def handle(self, actor: Actor, args: list[str]) -> Reply:
        if not actor.is_admin:
            return Reply(text=ADMIN_ONLY, error=True)
        action = args[0].lower() if args else "show"
        try:
            if action == "set":
                return await self.set(actor, parse_pairs(args[1:]))
            if action == "show":
                return await self.show(actor)
            if action == "off":
                return await self.off(actor)
        except UserError as exc:
            return Reply(text=str(exc), error=True)
        return Reply(text=f"Unknown schedule action '{action[:20]}'. Usage: {USAGE}", error=True)

    async def set(self, actor: Actor, pairs: dict[str, str]) -> Reply:
        store = self.service.store
        existing = await store.get_schedule(actor.space_id, actor.channel_id)
        if existing is None and "time" not in pairs:
            raise UserError(f"Give at least a time for a new schedule, e.g. `schedule set time=09:00 tz=Europe/Berlin`."
                            f" Usage: {USAGE}")
        try:
            at = parse_time_of_day(pairs["time"]) if "time" in pairs else existing.at  # type: ignore[union-attr]
            tz = parse_timezone(pairs["tz"]).key if "tz" in pairs else (
                existing.timezone if existing else getattr(self.service.tz, "key", "UTC"))
            days = parse_weekdays(pairs["days"]) if "days" in pairs else (
                existing.weekdays if existing else frozenset(range(7)))
        except ValueError as exc:
            raise UserError(str(exc)) from None
        duration = parse_duration(pairs["duration"]) if "duration" in pairs else (
            existing.duration if existing else self.service.poll_duration)
        order = pairs.get("order", existing.deck_order if existing else "section").lower()
        if order not in DECK_ORDERS:
            raise UserError("order must be 'section' (the article's order) or 'shuffle' (no repeats until all used).")
        before = settings = await self.service.channel_settings(actor.space_id, actor.channel_id)
        if "results" in pairs:
            visibility = pairs["results"].lower().replace("_", "-")
            if visibility not in ("live", "after-close"):
                raise UserError("results must be 'live' or 'after-close'.")
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
        reply = await self.show(actor, prefix="Schedule saved.")
        if settings.min_votes != before.min_votes:
            open_polls = await store.open_polls(actor.space_id, actor.channel_id)
            reply = replace(reply, announce=threshold_announcement(before.min_votes, settings.min_votes),
                            refresh_polls=tuple(p.id for p in open_polls))
        return reply

    async def show(self, actor: Actor, prefix: str = "") -> Reply:
        schedule = await self.service.store.get_schedule(actor.space_id, actor.channel_id)
        trouble = [n for n in await self.service.store.notices(actor.space_id) if n.channel_id == actor.channel_id]
        if schedule is None or not schedule.enabled:
            last = f" Last problem: {trouble[0].text}" if trouble and schedule is not None else ""
            return Reply(text=(prefix + " " if prefix else "") + "No daily question is scheduled in this channel. "
                         f"Set one with `{self.service.command} schedule set time=09:00 tz=Europe/Berlin`." + last)
        now = self.service.clock()
        _day, instant = next_occurrence(rule_of(schedule), max(now, schedule.since),
                                       done_through=schedule.done_through)
        zone = rule_of(schedule).tz
        prompt = await self.service.next_prompt(actor.space_id, actor.channel_id, schedule.deck_order,
                                                schedule.shuffle_seed)
        settings = await self.service.channel_settings(actor.space_id, actor.channel_id)
        hours = schedule.duration.total_seconds() / 3600
        lines = [
            f"Daily question at {schedule.at:%H:%M} {schedule.timezone}, {format_weekdays(schedule.weekdays)}.",
            f"Next post: {instant.astimezone(zone):%a} {when(instant, zone)} ({when(instant)}).",
            f"Next question: “{prompt.question}” ({prompt.id}).",
            f"Polls stay open {hours:g} h; results {'live' if settings.results_live else 'after close'}, "
            f"shown from {settings.min_votes} votes; deck in {schedule.deck_order} order.",
        ]
        if trouble:
            lines.append(f"Last problem ({when(trouble[0].at, zone)}): {trouble[0].text}")
        return Reply(text=(prefix + "\n" if prefix else "") + "\n".join(lines))

    async def off(self, actor: Actor) -> Reply:
        schedule = await self.service.store.get_schedule(actor.space_id, actor.channel_id)
        if schedule is None or not schedule.enabled:
            return Reply(text="No daily question was scheduled in this channel. Nothing changed.")
        await self.service.store.save_schedule(replace(schedule, enabled=False))
        return Reply(text="Daily questions stopped in this channel. Open polls stay open until they close.")
