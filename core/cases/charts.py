"""Charts as use cases: the result chart on outcomes and on request, and the channel's trend.

Every figure comes from core.visibility: a chart is drawn from the redacted Results, so it cannot show
more than the text does (no chart while results are hidden, no trend point below k or before a close
where results wait for it, first votes only when the shift may be shown). Drawing runs in a thread; a
drawing that fails leaves the words, never an exception.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import Any

from core.cases.base import ServiceBase
from core.catalogue import count, t
from core.charts import BarData, ResultData, TrendData, TrendPoint, draw_result, draw_trend, result_alt, trend_alt
from core.models import Results
from core.render import Attachment, Card, Reply
from core.roles import Access
from core.usecase import Actor, UserError, answers_errors
from core.visibility import may_see, rule_for, visible_results

log = logging.getLogger("core.service")

PNG = "image/png"
TREND_MAX = 60  # points on one trend; older polls need a date range
CACHE_MAX = 64  # drawn charts kept: Home and retries ask again for the same closed poll


def result_data(results: Results, low: str, high: str) -> ResultData:
    """What the result chart may show: only what `results` (already redacted) carries."""
    total = results.total
    bars = tuple(
        BarData(r.option.label, r.count, r.share,
                first_count=r.first_count if results.shift_shown else None,
                first_share=(r.first_count / total if total else 0.0) if results.shift_shown else None)
        for r in results.options)
    state = t("charts.state.final" if results.final else "charts.state.so_far")
    return ResultData(
        question=results.prompt.question,
        caption=t("charts.caption.poll", poll_id=results.poll.id, voters=count(total, "voter"), state=state),
        bars=bars, total=total, low=low, high=high, mean=results.mean_lean,
        first_mean=results.first_mean_lean if results.shift_shown else None, final=results.final)


def _day(d: date) -> str:
    return t("charts.date", day=d.day, month=t("charts.months").split()[d.month - 1])


def _parse_day(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise UserError(t("charts.trend.bad_date", value=value[:20], example="2025-07-15")) from None


class ChartCases(ServiceBase):
    _charts: OrderedDict[Any, bytes]

    async def _drawn(self, key: Any, draw: Callable[[Any], bytes]) -> bytes | None:
        """PNG bytes for `key`, drawn off the event loop; None (logged) if drawing failed."""
        cache = self.__dict__.setdefault("_charts", OrderedDict())
        if key in cache:
            cache.move_to_end(key)
            return cache[key]
        try:
            data = await asyncio.to_thread(draw, key)
        except Exception as exc:  # a chart is extra: the words are always there
            log.warning("drawing a chart failed: %s: %s", type(exc).__name__, exc)
            return None
        cache[key] = data
        if len(cache) > CACHE_MAX:
            cache.popitem(last=False)
        return data

    async def result_image(self, results: Results) -> Attachment | None:
        """The result chart for results that may be shown; None while they are hidden (or drawing failed)."""
        if not results.visible or results.total == 0:
            return None
        data = result_data(results, self.content.axis.low, self.content.axis.high)
        png = await self._drawn(data, draw_result)
        if png is None:
            return None
        return Attachment(f"counterpoint-poll-{results.poll.id}.png", png, PNG, result_alt(data, results.poll.id))

    async def outcome_card(self, poll_id: int) -> Card:
        """The outcome post, carrying its result chart (the scheduler posts it; adapters attach the image)."""
        card = await super().outcome_card(poll_id)
        poll = await self.store.get_poll(poll_id)
        if poll is None:
            return card
        return replace(card, image=await self.result_image(await self.results_for(poll)))

    @answers_errors
    async def results_chart(self, actor: Actor, poll_ref: str | None = None) -> Reply:
        """`results chart=on`: the results card with its chart, or why there is no chart yet."""
        reply: Reply = await self.results(actor, poll_ref)  # type: ignore[attr-defined]
        if reply.error or reply.card is None:
            return reply
        results = await self.results_for(await self._pick_poll(actor, poll_ref))
        if not results.visible:
            why = (t("charts.results.hidden_close") if results.hidden_until_close
                   else t("charts.results.hidden_votes", n=results.votes_needed))
            return replace(reply, text=t("charts.results.hidden", poll_id=results.poll.id, why=why))
        image = await self.result_image(results)
        if image is None:
            return replace(reply, text=t("charts.unavailable"))
        return replace(reply, card=replace(reply.card, image=image))

    @answers_errors
    async def trend(self, actor: Actor, start: str | None = None, end: str | None = None) -> Reply:
        """The channel's mean lean per closed scale poll; facilitators may give a date range (local dates)."""
        if (start or end) and await self.access(actor) < Access.FACILITATOR:
            raise UserError(t("charts.trend.range_facilitators"))
        first, last = _parse_day(start), _parse_day(end)
        if first and last and last < first:
            raise UserError(t("charts.trend.bad_range", start=first.isoformat(), end=last.isoformat()))
        zone = await self.zone(actor.space_id, actor.channel_id)
        settings = await self.channel_settings(actor.space_id, actor.channel_id)
        now = self.clock()
        points: list[tuple[date, TrendPoint]] = []
        for poll, tally in await self.store.polls_with_tallies(actor.space_id):
            if poll.channel_id != actor.channel_id or poll.is_open(now):
                continue
            if not await may_see(poll, actor.space_id, actor.channel_id, actor.can_view):
                continue
            prompt = await self.find_prompt(poll.prompt_id)
            day = poll.opened_at.astimezone(zone).date()
            if prompt is None or not prompt.uses_scale or (first and day < first) or (last and day > last):
                continue
            results = visible_results(poll, prompt, tally, rule_for(poll, settings), now)
            if not results.visible or results.mean_lean is None:
                continue  # below k: no point at all, not even an empty one
            share = results.changed / results.total if results.shift_shown else None
            points.append((day, TrendPoint(_day(day), round(results.mean_lean, 2), results.total, share)))
        if not points:
            if first or last:
                return Reply(text=t("charts.trend.none_in_range", start=(first or "…"), end=(last or "…")))
            return Reply(text=t("charts.trend.none"))
        points.sort(key=lambda p: p[0])
        total = len(points)
        points = points[-TREND_MAX:]
        low, high = self.content.axis.low, self.content.axis.high
        span = {"start": points[0][0].isoformat(), "end": points[-1][0].isoformat()}
        data = TrendData(t("charts.trend.title"),
                         t("charts.trend.caption", polls=count(len(points), "poll"), low=low, high=high, **span),
                         tuple(p for _, p in points), low, high)
        text = t("charts.trend.summary", n=len(points), **span)
        if total > len(points):
            text += " " + t("charts.trend.capped", shown=len(points), n=total,
                            example=self.cmd(actor, "trend", **{"from": "2026-01-01", "to": "2026-03-31"}))
        png = await self._drawn(data, draw_trend)
        alt = trend_alt(data)
        if png is None:
            return Reply(card=Card(title=data.title, text=f"{t('charts.unavailable')}\n{alt}"))
        return Reply(card=Card(title=data.title, text=text,
                               image=Attachment("counterpoint-trend.png", png, PNG, alt)))
