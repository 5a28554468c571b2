"""Process-wide settings for a long-running bot: how the interpreter shares its time.

Two defaults of CPython cost a busy bot most of its latency tail (measured by `make bench`, see
docs/scaling.md):
- The cyclic garbage collector's full passes walk every object the process holds. After start-up most
  of those (libraries, the content pack, connections) live as long as the process, so they are frozen
  out of the passes (`gc.freeze()`); garbage made later is collected as before.
- The GIL is handed to a waiting thread only every `sys.getswitchinterval()` (5 ms). The database
  thread waits for it around every statement while the event loop answers members, so a vote batch
  could wait 5 ms per statement; 1 ms bounds that wait without making the loop switch often when nothing
  else wants to run.
"""

from __future__ import annotations

import gc
import sys

SWITCH_INTERVAL_S = 0.001


def tune_runtime() -> None:
    """Call once the service is open and the platform libraries are imported (the runner does)."""
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    gc.freeze()
