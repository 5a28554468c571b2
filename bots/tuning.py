"""Process-wide settings for a long-running bot: how the interpreter shares its time.

Three defaults of CPython cost a busy bot (measured by `make bench`, see docs/scaling.md):
- The cyclic garbage collector's full passes walk every object the process holds. After start-up most
  of those (libraries, the content pack, connections) live as long as the process, so they are frozen
  out of the passes (`gc.freeze()`); garbage made later is collected as before.
- Its youngest generation is collected every 700 allocations. A vote allocates a few hundred objects,
  nearly all gone by the time it is answered, so those passes found little; every 10,000 they cost about
  6% less of a rush's votes per second, and each pass still only looks at young objects.
- The GIL is handed to a waiting thread only every `sys.getswitchinterval()` (5 ms). The database
  threads (reads; with SQLITE_SYNCHRONOUS=FULL also the writes; checkpoints) wait for it around every
  statement while the event loop answers members; 1 ms bounds that wait without making the loop switch
  often when nothing else wants to run.
"""

from __future__ import annotations

import gc
import sys

SWITCH_INTERVAL_S = 0.001
YOUNGEST_GENERATION_THRESHOLD = 10_000


def tune_runtime() -> None:
    """Call once the service is open and the platform libraries are imported (the runner does)."""
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNGEST_GENERATION_THRESHOLD, older, oldest)
    gc.freeze()
