"""The result chart of one poll: the question, a bar per option with count and share, the mean lean on the axis.

Layout is measured first and drawn second, so the picture is exactly as tall as its content: a long
question wraps onto more lines and is never cut.
"""

from __future__ import annotations

from PIL import ImageDraw

from core.catalogue import t
from core.charts import canvas as c
from core.charts.data import BarData, ResultData

TITLE = 40
CAPTION = 26
LABEL = 28
VALUE = 26
BAR = 34  # final votes
FIRST_BAR = 20  # first votes, above the final bar of the same option
GAP = 26
VALUE_SPACE = 220  # right of the longest possible bar: "100% (1000)"
AXIS_HEIGHT = 170


def _percent(share: float) -> str:
    return str(round(share * 100))


def _value(count: int, share: float) -> str:
    return t("charts.bar.value", percent=_percent(share), count=count)


def _legend(draw: ImageDraw.ImageDraw, y: float, data: ResultData) -> float:
    face = c.font(VALUE)
    x = float(c.PAD)
    items = [(c.ORANGE, t("charts.legend.first"))] if data.shows_first else []
    items.append((c.BLUE, t("charts.legend.final" if data.final else "charts.legend.now")))
    for colour, text in items:
        draw.rectangle((x, y + 6, x + 24, y + 30), fill=colour)
        draw.text((x + 34, y + 2), text, font=face, fill=c.INK)
        x += 34 + c.text_width(text, face) + 40
    return y + c.line_height(face) + 12


def _bar_block_height(label_lines: int, with_first: bool) -> int:
    return label_lines * c.line_height(c.font(LABEL)) + (FIRST_BAR + 6 if with_first else 0) + BAR + GAP


def _draw_bar(draw: ImageDraw.ImageDraw, y: float, bar: BarData, lines: list[str], with_first: bool) -> float:
    value_face = c.font(VALUE)
    y = c.draw_lines(draw, c.PAD, y, lines, c.font(LABEL))
    track = c.WIDTH - 2 * c.PAD - VALUE_SPACE
    if with_first:
        share = bar.first_share or 0.0
        draw.rectangle((c.PAD, y, c.PAD + track, y + FIRST_BAR), fill=c.TRACK)
        if share > 0:
            draw.rectangle((c.PAD, y, c.PAD + max(3.0, track * share), y + FIRST_BAR), fill=c.ORANGE)
        draw.text((c.PAD + track + 16, y - 3), _value(bar.first_count or 0, share), font=c.font(22), fill=c.MUTED)
        y += FIRST_BAR + 6
    draw.rectangle((c.PAD, y, c.PAD + track, y + BAR), fill=c.TRACK)
    if bar.share > 0:
        draw.rectangle((c.PAD, y, c.PAD + max(3.0, track * bar.share), y + BAR), fill=c.BLUE)
    draw.text((c.PAD + track + 16, y + 2), _value(bar.count, bar.share), font=value_face, fill=c.INK)
    return y + BAR + GAP


def _marker(draw: ImageDraw.ImageDraw, x: float, y: float, colour: tuple[int, int, int], up: bool,
            hollow: bool = False) -> None:
    """A triangle whose tip touches the axis at y: from below pointing up, or from above pointing down."""
    base = y + 26 if up else y - 26
    points = [(x, y), (x - 14, base), (x + 14, base)]
    if hollow:
        draw.polygon(points, fill=c.PAPER, outline=colour, width=4)
    else:
        draw.polygon(points, fill=colour)


def _draw_axis(draw: ImageDraw.ImageDraw, y: float, data: ResultData) -> float:
    """The -2..+2 line between the pack's poles, the mean marked below it (and the first-votes mean above)."""
    face = c.font(VALUE)
    low, high = t("charts.axis.low", low=data.low), t("charts.axis.high", high=data.high)
    left, right = c.PAD + 20, c.WIDTH - c.PAD - 20
    line_y = y + 80
    draw.text((c.PAD, y), low, font=face, fill=c.INK)
    draw.text((c.WIDTH - c.PAD - c.text_width(high, face), y), high, font=face, fill=c.INK)
    draw.line((left, line_y, right, line_y), fill=c.MUTED, width=3)
    small = c.font(22)
    for step in range(-2, 3):
        x = left + (right - left) * (step + 2) / 4
        draw.line((x, line_y - 10, x, line_y + 10), fill=c.MUTED, width=3)
        label = f"{step:+d}" if step else "0"
        draw.text((x - c.text_width(label, small) / 2, line_y - 36), label, font=small, fill=c.MUTED)

    def place(value: float) -> float:
        return left + (right - left) * (max(-2.0, min(2.0, value)) + 2) / 4

    if data.first_mean is not None:
        x = place(data.first_mean)
        _marker(draw, x, line_y - 12, c.ORANGE, up=False, hollow=True)
    if data.mean is not None:
        x = place(data.mean)
        _marker(draw, x, line_y + 6, c.BLUE, up=True)
        text = t("charts.mean.marker", mean=f"{data.mean:+.1f}")
        if data.first_mean is not None:
            text += "   " + t("charts.mean.first_marker", mean=f"{data.first_mean:+.1f}")
        width = c.text_width(text, face)
        tx = min(max(c.PAD, x - width / 2), c.WIDTH - c.PAD - width)
        draw.text((tx, line_y + 40), text, font=face, fill=c.INK)
    return y + AXIS_HEIGHT


def draw_result(data: ResultData) -> bytes:
    """The chart as PNG bytes."""
    inner = c.WIDTH - 2 * c.PAD
    title_lines = c.wrap(data.question, c.font(TITLE, bold=True), inner)
    caption_lines = c.wrap(data.caption, c.font(CAPTION), inner)
    label_lines = [c.wrap(b.label, c.font(LABEL), inner - VALUE_SPACE) for b in data.bars]
    with_first = data.shows_first
    height = (c.PAD + len(title_lines) * c.line_height(c.font(TITLE, bold=True)) + 8
              + len(caption_lines) * c.line_height(c.font(CAPTION)) + 20
              + c.line_height(c.font(VALUE)) + 12
              + sum(_bar_block_height(len(lines), with_first) for lines in label_lines)
              + (AXIS_HEIGHT + 10 if data.mean is not None else 0) + c.PAD - GAP)
    image, draw = c.canvas(height)
    y = c.draw_lines(draw, c.PAD, c.PAD, title_lines, c.font(TITLE, bold=True)) + 8
    y = c.draw_lines(draw, c.PAD, y, caption_lines, c.font(CAPTION), fill=c.MUTED) + 20
    y = _legend(draw, y, data)
    for bar, lines in zip(data.bars, label_lines, strict=True):
        y = _draw_bar(draw, y, bar, lines, with_first)
    if data.mean is not None:
        draw.line((c.PAD, y - GAP / 2, c.WIDTH - c.PAD, y - GAP / 2), fill=c.RULE, width=2)
        _draw_axis(draw, y + 10, data)
    return c.png(image)
