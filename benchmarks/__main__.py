"""`python -m benchmarks`: every benchmark in turn, with the wall time of the whole run."""

from __future__ import annotations

import asyncio
import importlib
import time

from benchmarks import results, votes

# Benchmarks that return their lines instead of printing; adapters' benchmarks join when they exist.
REPORTING = ("benchmarks.scheduler", "benchmarks.slack_ack", "benchmarks.discord_press", "benchmarks.charts")


async def main() -> None:
    started = time.perf_counter()
    await votes.main()
    print()
    await results.main()
    for name in REPORTING:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        print()
        print("\n".join(await module.main()))
    print(f"\n(benchmarks took {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    asyncio.run(main())
