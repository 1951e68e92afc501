"""``mentorlib demo``: generate the demo study and run every stage that exists, end to end.

The demo study is a primary school of about 1,200 students over three school years, written
to ``data/raw/demo``; each stage writes beside it (``data/processed/demo``, ``reports/demo``).
Each stage is a function below; a stage that lands adds itself to :data:`STAGES`.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

DEMO_NAME = "demo"


@dataclass
class DemoPaths:
    root: Path
    students: int
    seed: int

    @property
    def raw(self) -> Path:
        return self.root / "data" / "raw" / DEMO_NAME

    @property
    def processed(self) -> Path:
        return self.root / "data" / "processed" / DEMO_NAME

    @property
    def reports(self) -> Path:
        return self.root / "reports" / DEMO_NAME


def stage_synth(p: DemoPaths) -> dict:
    from .synth import synth

    out = synth(p.raw, level="primary", students=p.students, years=3, seed=p.seed, overwrite=True)
    return {
        "output": str(out),
        "detail": f"primary school, {p.students:,} students a year, 3 school years",
    }


def stage_clean(p: DemoPaths) -> dict:
    from .clean import clean_study

    res = clean_study(p.raw, p.processed)
    s = res.summary[["rows_in", "kept", "merged", "quarantined"]].sum()
    return {
        "output": str(p.processed),
        "detail": f"{int(s['rows_in']):,} rows: {int(s['kept']):,} kept, {int(s['merged']):,} merged, "
        f"{int(s['quarantined']):,} quarantined",
    }


STAGES = [("synth", stage_synth), ("clean", stage_clean)]


def run_demo(*, root: Path, students: int = 1200, seed: int = 2023, json_out: bool = False) -> int:
    p = DemoPaths(Path(root), students, seed)
    steps = []
    if not json_out:
        print("mentorlib demo: the synthetic demo school, end to end")
    for name, fn in STAGES:
        t0 = time.perf_counter()
        step = {"stage": name, **fn(p), "seconds": round(time.perf_counter() - t0, 1)}
        steps.append(step)
        if not json_out:
            print(f"  [{name}] {step['output']}  ({step['seconds']} s)")
            if step.get("detail"):
                print(f"      {step['detail']}")
    if json_out:
        print(json.dumps({"steps": steps}, ensure_ascii=False, indent=2))
    return 0
