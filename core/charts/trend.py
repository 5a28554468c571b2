"""The series trend: the channel's mean lean per scale poll, with voters and the share who changed their mind.

Three panels share one x axis (one slot per poll, oldest left): the lean as a line between the poles,
voters as bars, and the share who changed as bars (a dash where fewer than k changed, so it may not
be shown). Polls sit at equal steps rather than by calendar distance: a gap of a weekend is not news.
"""

from __future__ import annotations

from PIL import ImageDraw

from core.catalogue import t
from core.charts import canvas as c
from core.charts.data import TrendData, TrendPoint

HEIGHT = 900
TITLE = 38
CAPTION = 24
LABEL = 22
LEFT = 170  # room for the pole names and panel names left of the plot
LEAN_H = 330
VOTERS_H = 110
CHANGED_H = 110
PANEL_GAP = 46
MAX_VALUE_LABELS = 16  # with more points, only some bars carry their number


def _x(i: int, n: int, left: float, right: float) -> float:
    step = (right - left) / n
    return left + step * (i + 0.5)


def _every(n: int, most: int) -> int:
    return max(1, -(-n // most))


def _spaced(xs: list[float], widths: list[float], every: int) -> list[bool]:
    """Which labels to draw: every `every`-th and the last, skipping any that would touch the one before."""
    shown: list[bool] = []
    edge = float("-inf")
    for i, (x, width) in enumerate(zip(xs, widths, strict=True)):
        wanted = i % every == 0 or i == len(xs) - 1
        ok = wanted and x - width / 2 > edge + 8
        if ok:
            edge = x + width / 2
        shown.append(ok)
    return shown


def _panel_name(draw: ImageDraw.ImageDraw, y: float, text: str) -> None:
    face = c.font(LABEL)
    lines = c.wrap(text, face, LEFT - c.PAD - 10)
    c.draw_lines(draw, c.PAD, y, lines, face, fill=c.MUTED)


def _lean_panel(draw: ImageDraw.ImageDraw, top: float, points: tuple[TrendPoint, ...], data: TrendData,
                left: float, right: float) -> None:
    small = c.font(LABEL)
    bottom = top + LEAN_H

    def y_of(lean: float) -> float:
        return bottom - (max(-2.0, min(2.0, lean)) + 2) / 4 * LEAN_H

    column = left - 12 - c.PAD
    for step in range(-2, 3):
        y = y_of(step)
        draw.line((left, y, right, y), fill=c.MUTED if step == 0 else c.TRACK, width=2)
        if abs(step) == 2:  # the ends carry the pack's pole names instead of numbers
            lines = c.wrap(t("charts.axis.up" if step > 0 else "charts.axis.down", high=data.high, low=data.low),
                           small, column)
            y -= 13 if step > 0 else 13 + (len(lines) - 1) * c.line_height(small)
            for line in lines:
                draw.text((left - 12 - c.text_width(line, small), y), line, font=small, fill=c.INK)
                y += c.line_height(small)
            continue
        label = f"{step:+d}" if step else "0"
        draw.text((left - 12 - c.text_width(label, small), y - 13), label, font=small, fill=c.MUTED)
    n = len(points)
    xy = [(_x(i, n, left, right), y_of(p.mean)) for i, p in enumerate(points)]
    if len(xy) > 1:
        draw.line(xy, fill=c.BLUE, width=4)
    radius = 9 if n <= 30 else 6
    for x, y in xy:
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=c.BLUE, outline=c.PAPER, width=2)
    if n <= MAX_VALUE_LABELS:
        for (x, y), p in zip(xy, points, strict=True):
            label = f"{p.mean:+.1f}"
            ly = y - 38 if y > top + 40 else y + 14
            draw.text((x - c.text_width(label, small) / 2, ly), label, font=small, fill=c.INK)


def _bar_panel(draw: ImageDraw.ImageDraw, top: float, height: int, values: list[float | None], labels: list[str],
               colour: tuple[int, int, int], left: float, right: float) -> None:
    small = c.font(LABEL)
    bottom = top + height
    draw.line((left, bottom, right, bottom), fill=c.MUTED, width=2)
    n = len(values)
    width = (right - left) / n * 0.6
    peak = max((v for v in values if v is not None), default=0.0) or 1.0
    xs = [_x(i, n, left, right) for i in range(n)]
    shown = _spaced(xs, [c.text_width(label, small) for label in labels], _every(n, MAX_VALUE_LABELS))
    for i, (value, label) in enumerate(zip(values, labels, strict=True)):
        x = xs[i]
        if value is None:
            mark = t("charts.trend.changed_hidden")
            draw.text((x - c.text_width(mark, small) / 2, bottom - 28), mark, font=small, fill=c.MUTED)
            continue
        bar_top = bottom - (height - 28) * value / peak
        if value > 0:
            draw.rectangle((x - width / 2, bar_top, x + width / 2, bottom - 1), fill=colour)
        if shown[i]:
            draw.text((x - c.text_width(label, small) / 2, bar_top - 26), label, font=small, fill=c.INK)


def draw_trend(data: TrendData) -> bytes:
    """The trend as PNG bytes; `data.points` must not be empty (the caller answers in words instead)."""
    points = data.points
    left, right = float(LEFT + 20), float(c.WIDTH - c.PAD)
    inner = c.WIDTH - 2 * c.PAD
    title_lines = c.wrap(data.title, c.font(TITLE, bold=True), inner)
    caption_lines = c.wrap(data.caption, c.font(CAPTION), inner)
    head = (len(title_lines) * c.line_height(c.font(TITLE, bold=True))
            + len(caption_lines) * c.line_height(c.font(CAPTION)) + 30)
    image, draw = c.canvas(HEIGHT + head - 100)
    y = c.draw_lines(draw, c.PAD, c.PAD, title_lines, c.font(TITLE, bold=True))
    y = c.draw_lines(draw, c.PAD, y, caption_lines, c.font(CAPTION), fill=c.MUTED) + 30
    _panel_name(draw, y + LEAN_H / 2 - 14, t("charts.trend.lean"))
    _lean_panel(draw, y, points, data, left, right)
    y += LEAN_H + PANEL_GAP
    _panel_name(draw, y + VOTERS_H - 30, t("charts.trend.voters"))
    _bar_panel(draw, y, VOTERS_H, [float(p.voters) for p in points], [str(p.voters) for p in points], c.SKY,
               left, right)
    y += VOTERS_H + PANEL_GAP
    _panel_name(draw, y + CHANGED_H - 56, t("charts.trend.changed"))
    shares = [p.changed_share for p in points]
    _bar_panel(draw, y, CHANGED_H, shares, [f"{round((s or 0) * 100)}%" for s in shares], c.ORANGE, left, right)
    y += CHANGED_H + 10
    small = c.font(LABEL)
    xs = [_x(i, len(points), left, right) for i in range(len(points))]
    widths = [c.text_width(p.label, small) for p in points]
    for x, width, p, show in zip(xs, widths, points, _spaced(xs, widths, _every(len(points), 8)), strict=True):
        if show:
            draw.text((min(max(x - width / 2, left - 10), c.WIDTH - c.PAD - width), y), p.label, font=small,
                      fill=c.MUTED)
    return c.png(image)
