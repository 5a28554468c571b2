"""`python -m benchmarks`: every benchmark in turn, with the wall time of the whole run."""

from __future__ import annotations

import asyncio
import time

from benchmarks import results, votes


async def main() -> None:
    started = time.perf_counter()
    await votes.main()
    print()
    await results.main()
    print(f"\n(benchmarks took {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    asyncio.run(main())
