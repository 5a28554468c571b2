"""What a chart shows, already redacted and worded: the drawing code never sees a poll, a store or a member."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BarData:
    label: str
    count: int
    share: float
    first_count: int | None = None  # None: first votes may not be shown (fewer than k changed)
    first_share: float | None = None


@dataclass(frozen=True)
class ResultData:
    question: str
    caption: str  # e.g. "Poll #12 · 14 voters · final"
    bars: tuple[BarData, ...]
    total: int
    low: str  # the pack's pole names, for the lean axis
    high: str
    mean: float | None = None  # scale prompts only
    first_mean: float | None = None  # only when the shift may be shown
    final: bool = True  # closed: "final votes"; open: "votes now"

    @property
    def shows_first(self) -> bool:
        return any(b.first_count is not None for b in self.bars)


@dataclass(frozen=True)
class TrendPoint:
    label: str  # the poll's local date, short ("15 Jul")
    mean: float
    voters: int
    changed_share: float | None  # None: fewer than k changed, so only "some" may be said


@dataclass(frozen=True)
class TrendData:
    title: str
    caption: str
    points: tuple[TrendPoint, ...]
    low: str
    high: str
