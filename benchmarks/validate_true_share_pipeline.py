"""The estimated true share through the whole progress report, against the generator's truth.

benchmarks/coverage_true_share.py checks the estimator on item tables simulated directly; this
runs what a user runs: a synthetic study (mentorlib.synth, one school year) -> ``progress_report``
-> ``ProgressReport.true_share``, and compares it with the generator's truth of the same
estimand (:func:`mentorlib.synth.truth.true_share_in_pre_sd`: latent change above the
rulebook's ``true_delta`` SDs of the year's pre-test population in at least ``k_dimensions``
dimensions, over the report's students). One CSV row per school, written as it goes.

    python benchmarks/validate_true_share_pipeline.py --level primary --students 1200 --schools 20
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from mentorlib.data import from_synth  # noqa: E402
from mentorlib.progress import progress_report  # noqa: E402
from mentorlib.synth import SynthParams, generate  # noqa: E402
from mentorlib.synth.truth import true_share_in_pre_sd  # noqa: E402


def one_school(level: str, students: int, seed: int) -> dict:
    t0 = time.perf_counter()
    st = generate(SynthParams(level=level, n_students=students, n_years=1, seed=seed))
    P = from_synth(st)
    year = P.years[-1]
    rep = progress_report(P, year, n_boot=0, seed=seed)
    ts = rep.true_share or {}
    rules = P.rules
    truth = true_share_in_pre_sd(st.truth["latent"], rules.true_delta, rules.k_dimensions)
    return {
        "level": level,
        "n": students,
        "seed": seed,
        "truth": round(float(truth.loc[year]), 4),
        "certified": round(float(rep.verdict.iloc[0]["proportion"]), 4),
        **{k: round(float(ts.get(k, float("nan"))), 4) for k in ("estimate", "ci_low", "ci_high")},
        "method": ts.get("method", ""),
        "seconds": round(time.perf_counter() - t0, 1),
    }


def main(argv=None) -> Path:
    ap = argparse.ArgumentParser()
    ap.add_argument("--level", default="primary")
    ap.add_argument("--students", type=int, default=1200)
    ap.add_argument("--schools", type=int, default=20)
    ap.add_argument("--start", type=int, default=0, help="first school; > 0 appends")
    args = ap.parse_args(argv)
    out = HERE / "results" / f"true_share_pipeline_{args.level}_n{args.students}.csv"
    out.parent.mkdir(exist_ok=True)
    with out.open("a" if args.start else "w", newline="", encoding="utf-8") as fh:
        w = None
        for s in range(args.start, args.start + args.schools):
            row = one_school(args.level, args.students, 2000 + s)
            if w is None:
                w = csv.DictWriter(fh, fieldnames=list(row))
                if not args.start:
                    w.writeheader()
            w.writerow(row)
            fh.flush()
    return out


if __name__ == "__main__":
    print(main())
