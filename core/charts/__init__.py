"""Pictures of results: a poll's result chart and a channel's trend, drawn with Pillow into PNG bytes.

Pure: data in (already redacted by core.visibility and worded from the catalogue), bytes out. No I/O
but the shipped font; callers run `draw_*` off the event loop (asyncio.to_thread). Same data, same
bytes: tests compare the output exactly with docs/renderings/*.png.
"""

from __future__ import annotations

from core.charts.alt import result_alt, trend_alt
from core.charts.data import BarData, ResultData, TrendData, TrendPoint
from core.charts.result import draw_result
from core.charts.trend import draw_trend

__all__ = ["BarData", "ResultData", "TrendData", "TrendPoint", "draw_result", "draw_trend", "result_alt",
           "trend_alt"]
