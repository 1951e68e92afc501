"""Benchmark: a whole district, one process against a two-worker Dask LocalCluster (issue 17).

In one run, on the same synthetic district (``mentorlib synth --district``; about 170 schools
of 200-2,500 students, 200,000 students a year, 3 years, primary and middle mixed):

- the floor: the time to merely read every raw file (``mentorlib.io.readers.read_file``:
  calamine for workbooks, the CSV reader for CSVs; no cleaning), one process;
- (a) one process, today's path: for each school in turn the same task a worker runs
  (:func:`mentorlib.district.tasks.school_task`: ``clean_study`` then ``progress_report``),
  no Dask;
- (b) :func:`mentorlib.district.run_district` on a LocalCluster of 2 workers (one thread
  each), the same stages;
- the outputs of (a) and (b) compared table by table and row by row (every school's parquet
  tables and its summary row, but for the seconds it took);
- the estimated true share's own cost on a sample of schools (the verdicts here are the
  certified ones, ``--no-true-share``; the estimate is added to the scaling model from it);
- a profile of one school's cleaning: where the time beyond reading goes.

Targets (issue 17): (b) under 180 s wall on 2 cores, peak memory per worker under 2.5 GB,
parallel efficiency (a) / (2 x (b)) at least 80%, identical outputs, cleaning within 2.5x of
reading. Figures go to ``benchmarks/out/bench_district.json`` and the per-school costs to
``benchmarks/results/district_school_costs.csv`` (the scaling model in README.md uses them).

    python benchmarks/bench_district.py                          # 170 schools, 200,000 students
    python benchmarks/bench_district.py --schools 10 --students 6000 --true-share-sample 2
    python benchmarks/bench_district.py --district data/raw/district   # an existing folder

The synthetic district is kept in ``benchmarks/out/district_<schools>_<students>`` (made once).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core per worker, as the cluster runs them
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import pandas as pd

from mentorlib.district import load_district, run_district
from mentorlib.district.synth import synth_district
from mentorlib.district.tasks import school_task
from mentorlib.io.readers import read_file
from mentorlib.io.study import load_config

from _measure import OUT, PeakMemory, ProcessPeaks, save

RESULTS = Path(__file__).resolve().parent / "results"
STAGES = ("clean", "progress")


# ----------------------------------------------------------------------------- the runs


def read_floor(cfg) -> dict:
    """Read every raw file of every school once (no cleaning): seconds and cells."""
    t = time.perf_counter()
    cells = files = 0
    per_school = {}
    for s in cfg.schools:
        ts = time.perf_counter()
        study = load_config(s.study_dir)
        enc = {src.path: src.encoding for src in study.sources}  # a file once, all its sheets
        for rel, encoding in enc.items():
            for _sheet, df, _enc in read_file(s.study_dir / rel, rel, encoding=encoding):
                cells += df.size
            files += 1
        per_school[s.school_id] = time.perf_counter() - ts
    return {"seconds": time.perf_counter() - t, "files": files, "cells": cells, "per": per_school}


def one_process(cfg, out: Path, true_share: bool) -> tuple[float, list[dict]]:
    """Today's path: every school's task in turn in this process."""
    t = time.perf_counter()
    done = [
        school_task(
            s.school_id, str(s.study_dir), str(out), stages=STAGES, seed=0, true_share=true_share
        )
        for s in cfg.schools
    ]
    return time.perf_counter() - t, done


def compare_outputs(a_root: Path, b_root: Path, a_rows: dict, b_rows: dict) -> dict:
    """Every school's tables equal between the two runs, and its summary row."""
    differ = []
    tables = 0
    for sid in sorted(a_rows):
        pa_ = sorted((a_root / "schools" / sid).glob("*.parquet"))
        pb_ = sorted((b_root / "schools" / sid).glob("*.parquet"))
        if [p.name for p in pa_] != [p.name for p in pb_]:
            differ.append(f"{sid}: table sets differ")
            continue
        for x, y in zip(pa_, pb_, strict=True):
            tables += 1
            if not pd.read_parquet(x).equals(pd.read_parquet(y)):
                differ.append(f"{sid}/{x.name}")
        ra = {k: v for k, v in a_rows[sid].items() if k != "seconds"}
        rb = {k: v for k, v in b_rows.get(sid, {}).items() if k in ra}
        if ra != rb:
            differ.append(f"{sid}: summary row {ra} != {rb}")
    return {"tables_compared": tables, "differences": differ[:20], "identical": not differ}


def true_share_sample(cfg, out: Path, k: int) -> list[dict]:
    """The progress stage with and without the estimated true share, on k schools of each
    level spread over the sizes (its cost is not in the headline runs)."""
    rows = []
    for level in ("primary", "middle"):
        sch = [s for s in cfg.schools if s.level == level]
        sch.sort(key=lambda s: _size(s.study_dir))
        pick = [sch[round(i * (len(sch) - 1) / max(k - 1, 1))] for i in range(k)] if sch else []
        for s in dict.fromkeys(pick):
            for ts in (False, True):
                r = school_task(
                    s.school_id,
                    str(s.study_dir),
                    str(out / ("ts" if ts else "cert")),
                    stages=STAGES,
                    seed=0,
                    true_share=ts,
                )
                rows.append(
                    {
                        "school_id": s.school_id,
                        "level": level,
                        "n": r["row"].get("n"),
                        "true_share": ts,
                        "seconds": r["row"].get("seconds"),
                    }
                )
                print(
                    f"  true-share sample {s.school_id} {level} n={rows[-1]['n']}: "
                    f"{'with' if ts else 'without'} {rows[-1]['seconds']} s",
                    flush=True,
                )
    return rows


def _size(study_dir: Path) -> int:
    return sum(p.stat().st_size for p in study_dir.rglob("*") if p.is_file())


def profile_clean(cfg, out: Path) -> list[tuple[str, float]]:
    """Where one median school's cleaning time goes (cumulative seconds, top functions)."""
    from mentorlib.clean import clean_study

    sch = sorted(cfg.schools, key=lambda s: _size(s.study_dir))
    s = sch[len(sch) // 2]
    prof = cProfile.Profile()
    prof.enable()
    clean_study(s.study_dir, out / "profile" / s.school_id)
    prof.disable()
    st = pstats.Stats(prof, stream=io.StringIO())
    rows = []
    for (file, _line, fn), (_cc, _nc, _tt, ct, _callers) in st.stats.items():  # type: ignore[attr-defined]
        if "mentorlib" in file or fn in ("read_parquet", "to_parquet", "validate"):
            rows.append((f"{Path(file).parent.name}/{Path(file).name}:{fn}", round(ct, 2)))
    rows.sort(key=lambda r: -r[1])
    return [(s.school_id, 0.0), *rows[:25]]


# ----------------------------------------------------------------------------- main


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--schools", type=int, default=170)
    ap.add_argument("--students", type=int, default=200_000)
    ap.add_argument("--district", type=Path, help="an existing district folder")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--true-share-sample", type=int, default=3, help="schools per level (0: none)")
    ap.add_argument("--skip-one-process", action="store_true", help="(b) only")
    ap.add_argument("--seed", type=int, default=17)
    args = ap.parse_args()

    res: dict = {"schools": args.schools, "students": args.students, "workers": args.workers}
    district = args.district or OUT / f"district_{args.schools}_{args.students}"
    if args.district is None and not (district / "district.toml").is_file():
        t = time.perf_counter()
        synth_district(
            district, args.schools, students=args.students, seed=args.seed, overwrite=True
        )
        res["synth_s"] = round(time.perf_counter() - t, 1)
        print(f"synthetic district written in {res['synth_s']} s", flush=True)
    cfg = load_district(district)
    res["district"] = str(district)
    res["levels"] = pd.Series([s.level for s in cfg.schools]).value_counts().to_dict()

    work = Path(tempfile.mkdtemp(prefix="bench-district-", dir=OUT))
    try:
        floor = read_floor(cfg)
        res["read_floor_s"] = round(floor["seconds"], 1)
        res["raw_files"], res["raw_cells"] = floor["files"], floor["cells"]
        print(
            f"floor: read {floor['files']} files ({floor['cells']:,} cells) in "
            f"{res['read_floor_s']} s",
            flush=True,
        )

        a_rows: dict = {}
        if not args.skip_one_process:
            with PeakMemory() as mem_a:
                ta, done_a = one_process(cfg, work / "a", true_share=False)
            res["one_process_s"] = round(ta, 1)
            res["one_process_peak_gb"] = round(mem_a.peak_gb, 2)
            a_rows = {d["school_id"]: d["row"] for d in done_a}
            res["failed_a"] = [d["school_id"] for d in done_a if not d["ok"]]
            print(
                f"(a) one process: {res['one_process_s']} s, peak {res['one_process_peak_gb']} GB",
                flush=True,
            )
            costs = pd.DataFrame(
                [
                    {
                        "school_id": sid,
                        "level": next(s.level for s in cfg.schools if s.school_id == sid),
                        "n": r.get("n"),
                        "read_s": round(floor["per"][sid], 2),
                        "task_s": r.get("seconds"),
                    }
                    for sid, r in a_rows.items()
                ]
            )
            RESULTS.mkdir(exist_ok=True)
            costs.to_csv(RESULTS / "district_school_costs.csv", index=False)
            res["clean_over_read"] = round(ta / floor["seconds"], 2)

        with ProcessPeaks() as peaks:
            t = time.perf_counter()
            rb = run_district(
                cfg, work / "b", workers=args.workers, stages=STAGES, true_share=False
            )
            tb = time.perf_counter() - t
        res["cluster_s"] = round(tb, 1)
        res["cluster_task_s"] = rb.seconds
        res["worker_peak_gb"] = round(peaks.largest_gb(), 2)
        res["failed_b"] = [f["school_id"] for f in rb.failed]
        print(
            f"(b) LocalCluster x{args.workers}: {res['cluster_s']} s, worker peak "
            f"{res['worker_peak_gb']} GB",
            flush=True,
        )

        if a_rows:  # each task's time on the cluster beside its time alone
            b_s = {r["school_id"]: r.get("seconds") for r in rb.rows}
            costs["task_s_cluster"] = costs["school_id"].map(b_s)
            costs.to_csv(RESULTS / "district_school_costs.csv", index=False)
            res["task_slowdown"] = round(
                costs["task_s_cluster"].sum() / max(costs["task_s"].sum(), 1e-9), 3
            )
            res["efficiency"] = round(res["one_process_s"] / (args.workers * tb), 3)
            b_rows = {r["school_id"]: r for r in rb.rows}
            res["compare"] = compare_outputs(work / "a", work / "b", a_rows, b_rows)
            print(
                f"efficiency {res['efficiency']:.0%}; outputs identical: "
                f"{res['compare']['identical']} ({res['compare']['tables_compared']} tables)",
                flush=True,
            )

        if args.true_share_sample:
            sample = true_share_sample(cfg, work / "ts", args.true_share_sample)
            pd.DataFrame(sample).to_csv(RESULTS / "district_true_share_costs.csv", index=False)
            res["true_share_sample"] = sample

        res["profile_clean"] = profile_clean(cfg, work)
        print("profile of one school's cleaning (cumulative s):", flush=True)
        for name, s in res["profile_clean"][:16]:
            print(f"  {s:8.2f}  {name}")
        res["targets"] = {
            "cluster_under_180s": res["cluster_s"] < 180,
            "worker_under_2_5gb": res["worker_peak_gb"] < 2.5,
            "efficiency_at_least_0_8": res.get("efficiency", 0) >= 0.8,
            "identical": res.get("compare", {}).get("identical"),
            "clean_within_2_5x_read": res.get("clean_over_read", 99) <= 2.5,
        }
        print(res["targets"])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    save("bench_district", res)


if __name__ == "__main__":
    main()
