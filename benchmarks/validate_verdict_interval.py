"""Coverage of the verdict interval of the headline rate (issue 14 item 2).

Over synthetic schools sharing the population's instrument (as in
``validate_progress.py``), how often does each candidate interval of the headline rate
(rci_data, k = 1, evaluable only) cover the population value, the rate measured in one very
large school with the same parameters? Candidates: Wilson (threshold taken as known), the
percentile and BCa bootstrap resampling students, and the same resampling term-1 mentor
groups; every bootstrap re-estimates the pre-test SD and alpha in each replicate. Also the
one-sided error: how often the 95% lower bound lies above the population value (should be
5%).

    python benchmarks/validate_verdict_interval.py --schools 150 --population 50000 --boot 400
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from validate_progress import generate_with_items

from mentorlib.data import from_synth
from mentorlib.progress.change import study_scores
from mentorlib.progress.proportions import proportion_test
from mentorlib.progress.verdict import counts
from mentorlib.progress.year import StudyYear
from mentorlib.synth import SynthParams

from _measure import save

CANDIDATES = [
    ("student", "percentile"),
    ("student", "bca"),
    ("mentor", "percentile"),
    ("mentor", "bca"),
]
RULE = "evaluable_only"


def study_year(params: SynthParams, items=None):
    study, used = generate_with_items(params, items)
    pr = from_synth(study)
    y = StudyYear(pr, study_scores(pr, rules=pr.rules), params.start_year, rules=pr.rules)
    return y, used


def population_rate(y: StudyYear) -> float:
    _, ev, prog = counts(y.per_student("rci_data"), y.rules.k_dimensions)
    return prog / ev


def one_school(y: StudyYear, n_boot: int, seed: int) -> list[dict]:
    k, r = y.rules.k_dimensions, y.rules
    _, ev, prog = counts(y.per_student("rci_data"), k)
    w = proportion_test(prog, ev, target=r.target_share, alpha=r.alpha).iloc[0]
    rows = [
        {
            "method": "wilson",
            "lo": w["ci_low"],
            "hi": w["ci_high"],
            "lb": w["lower_bound"],
            "est": prog / ev,
        }
    ]
    for cluster, interval in CANDIDATES:
        b = y.bootstrap("rci_data", k, n_boot, seed, cluster=cluster, interval=interval)
        b = b.set_index("rule").loc[RULE]
        rows.append(
            {
                "method": b["interval_method"],
                "lo": b["boot_ci_low"],
                "hi": b["boot_ci_high"],
                "lb": b["boot_lower_bound"],
                "est": prog / ev,
            }
        )
    return rows


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser()
    ap.add_argument("--schools", type=int, default=150)
    ap.add_argument("--students", type=int, default=1200)
    ap.add_argument("--population", type=int, default=50_000)
    ap.add_argument("--boot", type=int, default=400)
    ap.add_argument("--level", default="primary")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    ypop, items = study_year(
        SynthParams(level=args.level, n_students=args.population, n_years=1, seed=10_001)
    )
    pop = population_rate(ypop)
    del ypop
    rows = []
    for seed in range(1, args.schools + 1):
        p = SynthParams(level=args.level, n_students=args.students, n_years=1, seed=seed)
        y, _ = study_year(p, items)
        rows += [d | {"seed": seed} for d in one_school(y, args.boot, seed)]
        if seed % 25 == 0:
            print(f"  {seed} schools, {time.perf_counter() - t0:.0f} s", flush=True)
    d = pd.DataFrame(rows)
    d = d.assign(
        covered=(d["lo"] <= pop) & (pop <= d["hi"]),
        lb_above=d["lb"] > pop,
        width=d["hi"] - d["lo"],
    )
    cov = d.groupby("method", sort=False).agg(
        coverage=("covered", "mean"),
        lower_bound_above=("lb_above", "mean"),
        mean_width=("width", "mean"),
    )
    sd = d.loc[d["method"] == "wilson", "est"].std()
    res = {
        "level": args.level,
        "schools": args.schools,
        "students_per_school": args.students,
        "population_students": args.population,
        "n_boot": args.boot,
        "population_rate": round(pop, 4),
        "sd_school_rate": round(float(sd), 4),
        "mean_school_rate": round(float(d.loc[d["method"] == "wilson", "est"].mean()), 4),
        "monte_carlo_se": round(float(np.sqrt(0.95 * 0.05 / args.schools)), 4),
        "coverage": cov.round(4).reset_index().to_dict("records"),
        "total_seconds": round(time.perf_counter() - t0, 1),
    }
    print(f"population rate {pop:.4f}; school rates mean {res['mean_school_rate']} sd {sd:.4f}")
    print(cov.round(4).to_string())
    save("validate_verdict_interval", res)
    return res


if __name__ == "__main__":
    main()
