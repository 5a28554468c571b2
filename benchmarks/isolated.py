"""Run benchmark modules in this fresh interpreter, print their lines, and hand their summary rows back.

`python -m benchmarks.isolated ROWS_FILE MODULE...`: each MODULE's `main()` in turn (lines it returns
are printed; modules that print their own return None), then the rows they recorded (common.SUMMARY)
written to ROWS_FILE as JSON for `python -m benchmarks` to put in its table. Modules in one call share
this process (results and pg_votes share a PostgreSQL cluster, stopped at the end).
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import json
import sys
from pathlib import Path

from benchmarks import pg
from benchmarks.common import SUMMARY


async def run(modules: list[str]) -> None:
    for i, name in enumerate(modules):
        if i:
            print()
        lines = await importlib.import_module(name).main()
        if lines:
            print("\n".join(lines))


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print("usage: python -m benchmarks.isolated ROWS_FILE MODULE...", file=sys.stderr)
        return 2
    rows_file, modules = Path(argv[0]), argv[1:]
    try:
        asyncio.run(run(modules))
    except KeyboardInterrupt:  # Ctrl-C: the parent says so once
        return 130
    finally:
        pg.stop()
        # Whole or not at all: a file cut short by a kill would read as a damaged group.
        partial = rows_file.with_suffix(".partial")
        partial.write_text(json.dumps([dataclasses.asdict(row) for row in SUMMARY]))
        partial.replace(rows_file)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
