"""Benchmark: cleaning a district-sized study end to end, and the xlsx readers side by side.

Issue 3 asks for the time and peak memory of cleaning the generator's 200,000-student, 3-year
study, the rows per second of normalise + link alone, and a comparison of the xlsx readers
available (openpyxl against python-calamine) in the same run, using the faster where it reads
the files correctly.

    python benchmarks/bench_clean.py                  # 200,000 students (generates the study first)
    python benchmarks/bench_clean.py --students 20000
    python benchmarks/bench_clean.py --study data/raw/demo   # an existing study folder
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pandas as pd

import mentorlib.clean as C
from mentorlib.io.readers import read_file
from mentorlib.io.study import load_config
from mentorlib.synth import synth

from _measure import PeakMemory, save


def compare_readers(study: Path, limit: int = 4) -> dict:
    """Read the same workbooks with both readers: seconds each, and whether the cells agree."""
    cfg = load_config(study)
    files = [s.path for s in cfg.sources if s.path.endswith(".xlsx")]
    picked = [f for f in files if "成绩单" in f][:1] + [f for f in files if "成绩单" not in f][
        : limit - 1
    ]
    out = {"files": picked, "calamine_s": 0.0, "openpyxl_s": 0.0, "same_cells": True}
    for rel in picked:
        t = time.perf_counter()
        a = read_file(study / rel, rel, reader="calamine")
        out["calamine_s"] += time.perf_counter() - t
        t = time.perf_counter()
        b = read_file(study / rel, rel, reader="openpyxl")
        out["openpyxl_s"] += time.perf_counter() - t
        for (_, ca, _), (_, cb, _) in zip(a, b, strict=True):
            norm = lambda v: float(v) if isinstance(v, int | float) else v  # noqa: E731
            if not ca.map(norm).reset_index(drop=True).equals(cb.map(norm).reset_index(drop=True)):
                out["same_cells"] = False
    out["calamine_s"], out["openpyxl_s"] = round(out["calamine_s"], 2), round(out["openpyxl_s"], 2)
    out["speedup"] = round(out["openpyxl_s"] / max(out["calamine_s"], 1e-9), 1)
    return out


def timed_clean(study: Path, out_dir: Path) -> tuple[dict, dict]:
    """Clean with timers on the normalise + link steps."""
    spent = {"normalise_link_s": 0.0}
    originals = {
        name: getattr(C, name) for name in ("_decode", "_link", "_gc_series", "_single", "_multi")
    }

    def wrap(fn):
        def inner(*a, **k):
            t = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                spent["normalise_link_s"] += time.perf_counter() - t

        return inner

    depth = {"n": 0}

    def outer_only(fn):  # count time once when these call each other
        w = wrap(fn)

        def inner(*a, **k):
            depth["n"] += 1
            try:
                return w(*a, **k) if depth["n"] == 1 else fn(*a, **k)
            finally:
                depth["n"] -= 1

        return inner

    for name, fn in originals.items():
        setattr(C, name, outer_only(fn))
    try:
        with PeakMemory() as mem:
            t = time.perf_counter()
            res = C.clean_study(study, out_dir)
            total = time.perf_counter() - t
    finally:
        for name, fn in originals.items():
            setattr(C, name, fn)
    rows = int(res.summary["rows_in"].sum())
    return {
        "clean_s": round(total, 1),
        "peak_memory_gb": round(mem.peak_gb, 2),
        "rows_in": rows,
        "rows_per_s": round(rows / total),
        "normalise_link_s": round(spent["normalise_link_s"], 1),
        "normalise_link_rows_per_s": round(rows / max(spent["normalise_link_s"], 1e-9)),
        "kept": int(res.summary["kept"].sum()),
        "merged": int(res.summary["merged"].sum()),
        "quarantined": int(res.summary["quarantined"].sum()),
    }, res.meta


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser()
    ap.add_argument("--students", type=int, default=200_000)
    ap.add_argument(
        "--study", type=Path, default=None, help="clean this study instead of generating one"
    )
    args = ap.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="bench_clean_"))
    try:
        study = args.study
        res: dict = {}
        if study is None:
            t = time.perf_counter()
            study = synth(tmp / "study", students=args.students, seed=1)
            res["synth_s"] = round(time.perf_counter() - t, 1)
        res["students_per_year"] = args.students if args.study is None else None
        res["readers"] = compare_readers(study)
        clean, _ = timed_clean(study, tmp / "processed")
        res.update(clean)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    r = res["readers"]
    print(
        f"clean: {res['rows_in']:,} rows in {res['clean_s']} s ({res['rows_per_s']:,} rows/s), peak memory "
        f"{res['peak_memory_gb']} GB; normalise + link {res['normalise_link_s']} s "
        f"({res['normalise_link_rows_per_s']:,} rows/s)"
    )
    print(
        f"xlsx readers on {len(r['files'])} workbooks: calamine {r['calamine_s']} s, openpyxl {r['openpyxl_s']} s "
        f"({r['speedup']}x), same cells: {r['same_cells']}"
    )
    save("clean", res)
    return res


if __name__ == "__main__":
    pd.set_option("display.width", 120)
    main()
