"""Chart drawing time: the result chart of a 5-option poll and a 60-poll trend, PNG bytes included.

Targets (issue 14): <= 50 ms for the result chart, <= 150 ms for the trend, on this machine, as the
median of repeated drawings of the same data (the draw functions keep no cache of their own).
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable

from benchmarks.common import record
from core.charts import BarData, ResultData, TrendData, TrendPoint, draw_result, draw_trend

RUNS = 40
RESULT_TARGET_MS = 50.0
TREND_TARGET_MS = 150.0

RESULT = ResultData(
    question="Before we get into the details: when police bring AI into their work, where does your instinct lie "
             "between public safety and personal privacy?",
    caption="Poll #12 · 140 voters · final",
    bars=tuple(BarData(label, n, n / 140, n + d, (n + d) / 140) for label, n, d in (
        ("Security first", 20, 4), ("Lean security", 35, 6), ("Balanced", 30, -2), ("Lean privacy", 33, -5),
        ("Privacy first", 22, -3))),
    total=140, low="security", high="privacy", mean=-0.1, first_mean=-0.3)
TREND = TrendData(
    "Where this channel stands, poll by poll", "60 polls · 2026-01-05 to 2026-03-27", tuple(
        TrendPoint(f"{1 + i % 28} Mar", round(math.sin(i / 4) * 1.5, 2), 20 + (i * 7) % 40,
                   None if i % 6 == 0 else (i % 9) / 20) for i in range(60)),
    "security", "privacy")


def _median_ms(draw: Callable[[], bytes]) -> tuple[float, int]:
    size = len(draw())  # warm: fonts loaded once per process
    samples = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        draw()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples) * 1000, size


async def main() -> list[str]:
    lines = [f"Charts (Pillow, drawn and encoded as PNG; median of {RUNS} runs)"]
    for label, draw, target in (("result chart, 5 options, first votes", lambda: draw_result(RESULT),
                                 RESULT_TARGET_MS),
                                ("trend, 60 polls", lambda: draw_trend(TREND), TREND_TARGET_MS)):
        median, size = _median_ms(draw)
        verdict = "ok" if median <= target else "OVER TARGET"
        record(f"Chart: {label.split(',')[0]} (median)", f"{median:.1f} ms", f"<= {target:.0f} ms", median <= target)
        lines.append(f"  {label:<40} {median:6.1f} ms  (target <= {target:.0f} ms: {verdict}), {size / 1024:.0f} KiB")
    return lines


if __name__ == "__main__":
    import asyncio

    print("\n".join(asyncio.run(main())))
