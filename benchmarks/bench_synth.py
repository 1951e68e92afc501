"""Benchmark: the synthetic school at district scale.

Target (issue 2): 200,000 students over 3 years generated and written in under 2 minutes and
8 GB. Also measured in the same run, as a ratio: our xlsx writer against xlsxwriter (the usual
library) on the same roster sheet, the reason the generator has its own writer.

    python benchmarks/bench_synth.py                 # 200,000 students
    python benchmarks/bench_synth.py --students 20000
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mentorlib.io.xlsx import write_xlsx
from mentorlib.synth import SynthParams, generate, write_study

from _measure import PeakMemory, save


def xlsx_ratio(study, tmp: Path, rows: int = 100_000) -> dict:
    """Cells per second of mentorlib.io.xlsx and of xlsxwriter on the same roster rows."""
    import xlsxwriter

    s = study.tables["students"].head(rows)
    frame = {
        "学籍号": s["student_id"].to_numpy(dtype=object),
        "姓名": s["name"].to_numpy(dtype=object),
        "性别": s["gender"].astype(str).to_numpy(dtype=object),
        "年级": s["grade"].to_numpy(),
        "班级": s["class_no"].to_numpy(),
        "家庭住址片区": s["home_area"].astype(str).to_numpy(dtype=object),
        "身高(cm)": s["height_cm"].to_numpy(),
        "体重(kg)": s["weight_kg"].to_numpy(),
    }
    cells = len(s) * len(frame)
    t = time.perf_counter()
    write_xlsx(tmp / "ours.xlsx", {"Sheet1": frame})
    ours = time.perf_counter() - t
    t = time.perf_counter()
    wb = xlsxwriter.Workbook(str(tmp / "xlsxwriter.xlsx"), {"constant_memory": True})
    ws = wb.add_worksheet()
    ws.write_row(0, 0, list(frame))
    cols = list(frame.values())
    for r in range(len(s)):
        ws.write_row(r + 1, 0, [c[r] for c in cols])
    wb.close()
    theirs = time.perf_counter() - t
    return {
        "cells": cells,
        "mentorlib_cells_per_s": round(cells / ours),
        "xlsxwriter_cells_per_s": round(cells / theirs),
        "speedup_vs_xlsxwriter": round(theirs / ours, 1),
    }


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser()
    ap.add_argument("--students", type=int, default=200_000)
    ap.add_argument("--years", type=int, default=3)
    ap.add_argument("--workers", type=int, default=None)
    args = ap.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="bench_synth_"))
    res: dict = {"students_per_year": args.students, "years": args.years}
    try:
        with PeakMemory() as mem:
            t0 = time.perf_counter()
            study = generate(SynthParams(n_students=args.students, n_years=args.years, seed=1))
            t1 = time.perf_counter()
            write_study(study, tmp / "study", workers=args.workers)
            t2 = time.perf_counter()
        size = sum(p.stat().st_size for p in (tmp / "study").rglob("*") if p.is_file())
        res.update(
            {
                "generate_s": round(t1 - t0, 1),
                "write_s": round(t2 - t1, 1),
                "total_s": round(t2 - t0, 1),
                "peak_memory_gb": round(mem.peak_gb, 2),
                "output_gb": round(size / 1e9, 2),
                "student_years": len(study.tables["students"]),
                "target": "200,000 students x 3 years in < 120 s and < 8 GB",
            }
        )
        res["meets_target"] = (
            bool(res["total_s"] < 120 and res["peak_memory_gb"] < 8)
            if args.students >= 200_000
            else None
        )
        res["xlsx_writer"] = xlsx_ratio(study, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(
        f"synth {args.students:,} students x {args.years} years: generate {res['generate_s']} s + write "
        f"{res['write_s']} s = {res['total_s']} s; peak memory {res['peak_memory_gb']} GB; "
        f"{res['output_gb']} GB written"
    )
    x = res["xlsx_writer"]
    print(
        f"xlsx writer: {x['mentorlib_cells_per_s']:,} cells/s vs xlsxwriter {x['xlsxwriter_cells_per_s']:,} "
        f"cells/s ({x['speedup_vs_xlsxwriter']}x)"
    )
    save("synth", res)
    return res


if __name__ == "__main__":
    main()
