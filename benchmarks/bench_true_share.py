"""Validation of the estimated share that truly progressed (issue 14, item 1).

Synthetic schools with known latent change (four dimensions x six graded-response items, the
generator's item table, pre traits correlated 0.5 across dimensions, true changes SD 0.4 and
correlated 0.6; tests/_true_share_sim.py, numpy only). Per school,
:func:`mentorlib.progress.true_share.estimated_true_share` (delta = 0.5, k = 1) against

- the school's realised share (students whose true change > delta in at least one dimension),
- the population probability (the same share in 1,000,000 simulated students).

Reported per scenario: bias, RMSE, coverage of the 95% interval against each truth, mean
interval width, seconds per school. Two change means: a true share near 0.6 and near 0.85.

    python benchmarks/bench_true_share.py            # 50 schools of 400, 20 of 1,200, both shares
    python benchmarks/bench_true_share.py --quick    # 6 schools of 400 per share
    python benchmarks/bench_true_share.py --students 1200 --schools 4
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from mentorlib.progress.true_share import N_BOOT, estimated_true_share  # noqa: E402
from tests._true_share_sim import simulate_items  # noqa: E402

from _measure import save  # noqa: E402

DELTA, K = 0.5, 1
#: change means giving a population share near 0.6 and near 0.85 (change SD 0.4, corr 0.6)
MEANS = {"share~0.6": 0.35, "share~0.85": 0.62}


def population_share(mean_change: float, change_sd: float = 0.4, n: int = 1_000_000) -> float:
    rng = np.random.default_rng(2024)
    c = 0.6 * np.ones((4, 4)) + 0.4 * np.eye(4)
    z = mean_change + change_sd * rng.multivariate_normal(np.zeros(4), c, size=n)
    return float(((z > DELTA).sum(axis=1) >= K).mean())


def one_school(
    n: int, seed: int, mean_change: float, m: int, n_boot: int = N_BOOT, level: str = "primary"
) -> dict:
    items, change = simulate_items(n=n, seed=seed, mean_change=mean_change, level=level)
    t = time.perf_counter()
    res = estimated_true_share(
        items, f"assessment_{level}", delta=DELTA, k=K, m=m, seed=seed, n_boot=n_boot
    )
    return {
        "realised": float(((change > DELTA).sum(axis=1) >= K).mean()),
        "estimate": res.estimate,
        "ci_low": res.ci_low,
        "ci_high": res.ci_high,
        "seconds": time.perf_counter() - t,
    }


def summarise(rows: list[dict], pop: float) -> dict:
    est = np.array([r["estimate"] for r in rows])
    real = np.array([r["realised"] for r in rows])
    lo = np.array([r["ci_low"] for r in rows])
    hi = np.array([r["ci_high"] for r in rows])
    return {
        "schools": len(rows),
        "population": round(pop, 4),
        "mean_realised": round(float(real.mean()), 4),
        "mean_estimate": round(float(est.mean()), 4),
        "bias_vs_realised": round(float((est - real).mean()), 4),
        "bias_vs_population": round(float(est.mean() - pop), 4),
        "rmse_vs_realised": round(float(np.sqrt(((est - real) ** 2).mean())), 4),
        "coverage_realised": round(float(((lo <= real) & (real <= hi)).mean()), 3),
        "coverage_population": round(float(((lo <= pop) & (pop <= hi)).mean()), 3),
        "mean_ci_width": round(float((hi - lo).mean()), 4),
        "seconds_per_school": round(float(np.mean([r["seconds"] for r in rows])), 1),
    }


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="6 schools of 400 per share")
    ap.add_argument("--m", type=int, default=10, help="plausible values per student")
    ap.add_argument(
        "--boot", type=int, default=N_BOOT, help="bootstrap replicates (0 = Rubin over PVs only)"
    )
    ap.add_argument("--students", type=int, help="one school size instead of 400 and 1,200")
    ap.add_argument("--schools", type=int, help="schools per scenario (with --students)")
    args = ap.parse_args(argv)
    designs = [(400, 6)] if args.quick else [(400, 50), (1200, 20)]
    if args.students:
        designs = [(args.students, args.schools or 10)]
    out: dict = {"quick": args.quick, "delta": DELTA, "k": K, "n_boot": args.boot, "scenarios": {}}
    header = (
        f"{'scenario':<12}{'n':>6}{'schools':>8}{'pop':>7}{'real':>7}{'est':>7}"
        f"{'bias_r':>8}{'bias_p':>8}{'rmse':>7}{'cov_r':>7}{'cov_p':>7}{'width':>7}{'s':>6}"
    )
    print(header)
    for label, mean in MEANS.items():
        pop = population_share(mean)
        for n, schools in designs:
            rows = [one_school(n, 1000 + s, mean, args.m, args.boot) for s in range(schools)]
            r = summarise(rows, pop)
            out["scenarios"][f"{label}|n={n}"] = r
            print(
                f"{label:<12}{n:>6}{schools:>8}{r['population']:>7.3f}{r['mean_realised']:>7.3f}"
                f"{r['mean_estimate']:>7.3f}{r['bias_vs_realised']:>8.3f}"
                f"{r['bias_vs_population']:>8.3f}{r['rmse_vs_realised']:>7.3f}"
                f"{r['coverage_realised']:>7.2f}{r['coverage_population']:>7.2f}"
                f"{r['mean_ci_width']:>7.3f}{r['seconds_per_school']:>6.1f}",
                flush=True,
            )
    name = "true_share_quick" if args.quick else "true_share"
    name = f"{name}_{args.students}" if args.students else name
    save(name if args.boot else f"{name}_noboot", out)
    return out


if __name__ == "__main__":
    main()
