"""`python -m benchmarks`: every benchmark in turn, a summary table of every target, and the wall time of the run."""

from __future__ import annotations

import asyncio
import importlib
import time

from benchmarks import pg, pg_votes, results, votes
from benchmarks.common import machine, summary_table

# Benchmarks that return their lines instead of printing; adapters' benchmarks join when they exist.
REPORTING = ("benchmarks.scheduler", "benchmarks.slack_ack", "benchmarks.discord_press", "benchmarks.charts")


async def main() -> None:
    started = time.perf_counter()
    await votes.main()
    print()
    try:  # results and pg_votes share one PostgreSQL cluster (when installed), gone before the rest run
        await results.main()
        print()
        print("\n".join(await pg_votes.main()))
    finally:
        pg.stop()
    for name in REPORTING:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        print()
        print("\n".join(await module.main()))
    print(f"\n== summary ({machine()})")
    print("\n".join(summary_table()))
    print(f"\n(benchmarks took {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    asyncio.run(main())
