"""Alt text: what each chart shows, in words, for screen readers and for anyone whose client hides images."""

from __future__ import annotations

from core.catalogue import count, t
from core.charts.data import ResultData, TrendData

ALT_MAX = 1000  # Slack's alt_txt limit; Discord allows 1024
ALT_POINTS = 12  # a longer series names its latest points and counts the rest


def _percent(share: float) -> int:
    return round(share * 100)


def result_alt(data: ResultData, poll_id: int) -> str:
    bars = []
    for b in data.bars:
        if b.first_count is not None:
            bars.append(t("charts.alt.bar_first", label=b.label, count=b.count, percent=_percent(b.share),
                          first=b.first_count))
        else:
            bars.append(t("charts.alt.bar", label=b.label, count=b.count, percent=_percent(b.share)))
    state = t("charts.state.final" if data.final else "charts.state.so_far")
    text = t("charts.alt.result", poll_id=poll_id, state=state, question=data.question,
             voters=count(data.total, "voter"), bars="; ".join(bars))
    if data.mean is not None:
        text += t("charts.alt.mean", mean=f"{data.mean:+.1f}", low=data.low, high=data.high)
    if data.first_mean is not None:
        text += t("charts.alt.first_mean", mean=f"{data.first_mean:+.1f}")
    return _fit(text)


def trend_alt(data: TrendData) -> str:
    points = data.points[-ALT_POINTS:]
    words = []
    for p in points:
        if p.changed_share is None:
            words.append(t("charts.alt.point", label=p.label, mean=f"{p.mean:+.1f}", voters=count(p.voters, "voter")))
        else:
            words.append(t("charts.alt.point_changed", label=p.label, mean=f"{p.mean:+.1f}",
                           voters=count(p.voters, "voter"), percent=_percent(p.changed_share)))
    if len(data.points) > len(points):
        words.insert(0, t("charts.alt.more", n=len(data.points) - len(points)))
    first, last = data.points[0], data.points[-1]
    return _fit(t("charts.alt.trend", polls=count(len(data.points), "poll"), start=first.label, end=last.label,
                  low=data.low, high=data.high, points="; ".join(words)))


def _fit(text: str) -> str:
    return text if len(text) <= ALT_MAX else text[: ALT_MAX - 1].rstrip() + "…"
