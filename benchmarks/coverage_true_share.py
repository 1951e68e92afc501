"""Coverage run of the estimated true share with the progress report's settings, as CSV.

One row per simulated school (tests/_true_share_sim.py; benchmarks/bench_true_share.py's
scenarios): realised share, estimate, interval, seconds. Written row by row so a run that is
stopped keeps what it measured.

    python benchmarks/coverage_true_share.py --students 400 --schools 20 --boot 6 --m 10
    python benchmarks/coverage_true_share.py --students 400 --schools 20 --start 20  # 20 more
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from bench_true_share import MEANS, one_school, population_share  # noqa: E402


def main(argv=None) -> Path:
    ap = argparse.ArgumentParser()
    ap.add_argument("--students", type=int, default=400)
    ap.add_argument("--schools", type=int, default=20)
    ap.add_argument("--boot", type=int, default=6)
    ap.add_argument("--m", type=int, default=10)
    ap.add_argument("--level", default="primary", help="item table: primary or middle")
    ap.add_argument("--tag", default="", help="suffix of the CSV's name (a method version)")
    ap.add_argument(
        "--start", type=int, default=0, help="first school (seed 1000 + start); > 0 appends"
    )
    args = ap.parse_args(argv)
    tag = f"_{args.tag}" if args.tag else ""
    lv = "" if args.level == "primary" else f"_{args.level}"
    out = HERE / "results" / f"true_share_coverage{lv}_n{args.students}_b{args.boot}{tag}.csv"
    out.parent.mkdir(exist_ok=True)
    cols = ["scenario", "n", "seed", "population", "realised", "estimate", "ci_low", "ci_high"]
    with out.open("a" if args.start else "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        if not args.start:
            w.writerow([*cols, "seconds"])
        pops = {label: population_share(mean) for label, mean in MEANS.items()}
        for s in range(
            args.start, args.start + args.schools
        ):  # scenarios interleaved: a stopped run keeps both
            for label, mean in MEANS.items():
                pop = pops[label]
                r = one_school(args.students, 1000 + s, mean, args.m, args.boot, args.level)
                w.writerow(
                    [label, args.students, 1000 + s, round(pop, 4)]
                    + [
                        round(r[c], 4)
                        for c in ("realised", "estimate", "ci_low", "ci_high", "seconds")
                    ]
                )
                fh.flush()
    return out


if __name__ == "__main__":
    print(main())
