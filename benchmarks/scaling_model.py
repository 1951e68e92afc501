"""A scaling model for a city or province, from the per-school costs bench_district.py measured.

Inputs (written by ``bench_district.py``): ``results/district_school_costs.csv`` (each school's
level, students and task seconds in one process: clean + certified verdict) and, when present,
``results/district_true_share_costs.csv`` (the progress stage with and without the estimated
true share on a sample of schools), and ``out/bench_district.json`` (the measured walls).

The model:

- a school's task time is linear in its students: ``t = a + b * n`` per level (least squares
  on the measured schools); the estimated true share adds ``c * n`` (from the sample);
- a run is list scheduling: tasks go, in the district's order, to whichever worker frees
  first (what ``client.submit`` + a LocalCluster do with one thread per worker); its wall is
  the last finish, times the slowdown of a task when both cores of a machine are busy
  (measured: the 2-worker wall over the schedule of the one-process task times; the client
  process is idle meanwhile, py-spy: its event loop waits);
- a city is the measured district's schools resampled (sizes and levels as measured) until
  it has the target number of students a year, on N machines of 2 workers each.

Students: ``n`` in the costs is a school's students over the study's 3 years (IDs); the
district's size is students a year (``synth --district --students``); the model converts with
the measured district's ratio.

Check: the one-process wall is the sum of the task times; the 2-worker wall is the schedule
times the slowdown (the factor is fitted on this one run: it is a measurement, not a check).

    python benchmarks/scaling_model.py            # prints the check and the markdown table
"""

from __future__ import annotations

import heapq
import json
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def fit_costs(costs: pd.DataFrame) -> dict[str, tuple[float, float]]:
    """Per level, (a, b) of ``task_s = a + b * n`` by least squares."""
    out = {}
    for level, d in costs.groupby("level"):
        X = np.column_stack([np.ones(len(d)), d["n"].to_numpy(float)])
        a, b = np.linalg.lstsq(X, d["task_s"].to_numpy(float), rcond=None)[0]
        out[str(level)] = (float(a), float(b))
    return out


def true_share_slope(path: Path) -> dict[str, float]:
    """Per level, seconds the estimated true share adds per student (from the sample)."""
    if not path.is_file():
        return {}
    s = pd.read_csv(path)
    w = s.pivot_table(index=["school_id", "level", "n"], columns="true_share", values="seconds")
    w = w.reset_index()
    w["extra"] = w[True] - w[False]
    return {str(lv): float(d["extra"].sum() / d["n"].sum()) for lv, d in w.groupby("level")}


def schedule(times, workers: int) -> float:
    """List scheduling in the given order: each task to the first free worker; the makespan."""
    free = [0.0] * workers
    heapq.heapify(free)
    end = 0.0
    for t in times:
        start = heapq.heappop(free)
        heapq.heappush(free, start + t)
        end = max(end, start + t)
    return end


def city(costs: pd.DataFrame, students: int, seed: int = 0) -> pd.DataFrame:
    """The measured schools resampled until the total reaches ``students``."""
    rng = np.random.default_rng(seed)
    per = costs["n"].mean()
    k = int(np.ceil(students / per * 1.2)) + 10
    pick = costs.iloc[rng.integers(0, len(costs), size=k)].reset_index(drop=True)
    keep = pick["n"].cumsum() <= students
    return pick[keep | (keep.shift(fill_value=True) & ~keep)]


def main() -> None:
    costs = pd.read_csv(RESULTS / "district_school_costs.csv")
    bench = json.loads((HERE / "out" / "bench_district.json").read_text(encoding="utf-8"))
    fit = fit_costs(costs)
    extra = true_share_slope(RESULTS / "district_true_share_costs.csv")
    workers = int(bench.get("workers", 2))
    model_b = schedule(costs["task_s"], workers)
    slow = bench["cluster_s"] / model_b
    per_year = bench["students"] / costs["n"].sum()  # students a year per student-ID
    print(f"fit per level (a s + b s/student): {fit}")
    print(f"true share adds (s/student): {extra}")
    print(
        f"check: one process measured {bench.get('one_process_s')} s = sum of tasks "
        f"{costs['task_s'].sum():.1f} s; {workers} workers: list schedule {model_b:.1f} s, "
        f"measured {bench['cluster_s']} s: slowdown x{slow:.2f} with both cores busy; "
        f"{per_year:.3f} students a year per ID"
    )
    rows = []
    for students in (200_000, 1_000_000, 2_000_000, 5_000_000):
        c = city(costs, students / per_year)
        a_b = np.array([fit[str(lv)] for lv in c["level"]])
        t = a_b[:, 0] + a_b[:, 1] * c["n"].to_numpy(float)
        ts = t + np.array([extra.get(str(lv), 0.0) for lv in c["level"]]) * c["n"].to_numpy(float)
        for machines in (1, 4, 16, 64):
            w = machines * 2
            rows.append(
                {
                    "students a year": students,
                    "schools": len(c),
                    "machines (2 cores)": machines,
                    "certified: wall min": round(schedule(t, w) * slow / 60, 1),
                    "with true share: wall min": round(schedule(ts, w) * slow / 60, 1)
                    if extra
                    else None,
                    "task CPU h (certified)": round(t.sum() / 3600, 1),
                }
            )
    table = pd.DataFrame(rows)
    cols = list(table.columns)
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for r in table.itertuples(index=False):
        print("| " + " | ".join("" if v is None else f"{v:,}" for v in r) + " |")


if __name__ == "__main__":
    main()
