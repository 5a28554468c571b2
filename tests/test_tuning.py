"""bots/tuning.py: what `counterpoint run` changes in the interpreter once started (in a child process, since
the settings are process-wide)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_tuning_raises_the_youngest_gc_threshold_keeps_the_others_freezes_and_shortens_the_switch() -> None:
    code = ("import gc, json, sys\n"
            "before = gc.get_threshold()\n"
            "from bots.tuning import tune_runtime\n"
            "tune_runtime()\n"
            "print(json.dumps([before, gc.get_threshold(), sys.getswitchinterval(), gc.get_freeze_count() > 0]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    before, after, switch, frozen = json.loads(out.stdout)
    assert after == [10_000, before[1], before[2]]  # the older generations keep their thresholds
    assert switch == 0.001 and frozen
