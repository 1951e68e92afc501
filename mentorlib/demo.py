"""``mentorlib demo``: generate the demo study and run every stage that exists, end to end.

The demo study is a primary school of about 1,200 students over three school years, written
to ``data/raw/demo``; each stage writes beside it (``data/processed/demo``, ``reports/demo``).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

DEMO_NAME = "demo"


def run_demo(*, root: Path, students: int = 1200, seed: int = 2023, json_out: bool = False) -> int:
    from .synth import synth

    root = Path(root)
    raw = root / "data" / "raw" / DEMO_NAME
    steps = []
    t0 = time.perf_counter()
    out = synth(raw, level="primary", students=students, years=3, seed=seed, overwrite=True)
    steps.append(
        {"stage": "synth", "output": str(out), "seconds": round(time.perf_counter() - t0, 1)}
    )
    if json_out:
        print(json.dumps({"steps": steps}, ensure_ascii=False, indent=2))
    else:
        print("mentorlib demo: the synthetic demo school, end to end")
        for s in steps:
            print(f"  [{s['stage']}] {s['output']}  ({s['seconds']} s)")
    return 0
