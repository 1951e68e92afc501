"""Validation of the deconvolution fallback (issue 14 item 1) against known truths.

Synthetic schools whose students' true changes come from a known distribution, observed with
normal error of SD 0.5 (latent SD units, delta 0.5): for each truth and school size, over
many replications, the bias of ``deconvolved_true_share`` against the population share, its
RMSE, the mean width of the 95% percentile-bootstrap interval, and how often that interval
covers (a) the population share :math:`G(t > \\delta)` and (b) the school's own share of
students whose true change exceeds delta (the headline's quantity).

Truths:

- ``normal``: N(0.3, 0.6^2), share 1 - Phi(1/3) = 0.3694 (the closed-form known answer);
- ``mixture``: 60% at 0, 40% at 1.2, share 0.40 (a smooth g-model's hardest case);
- ``normal85``: N(1.1, 0.6^2), share Phi(1) = 0.8413 (a school near the 85% goal).

    python benchmarks/bench_deconvolve.py --quick        # 40 replications, 100 bootstrap draws
    python benchmarks/bench_deconvolve.py                # 100 replications, 200 draws
    python benchmarks/bench_deconvolve.py --method npmle # the NPMLE instead of the g-model
"""

from __future__ import annotations

import os

# small matrix products: threads fight over the cores and slow each refit tenfold
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import norm

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mentorlib.progress.deconvolve import deconvolved_true_share

from _measure import save

DELTA, ERROR_SD = 0.5, 0.5


def draw_truth(name: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` true changes from the named distribution."""
    if name == "normal":
        return rng.normal(0.3, 0.6, n)
    if name == "normal85":
        return rng.normal(1.1, 0.6, n)
    if name == "mixture":
        return np.where(rng.random(n) < 0.6, 0.0, 1.2)
    raise ValueError(name)


POPULATION_SHARE = {
    "normal": float(1 - norm.cdf((DELTA - 0.3) / 0.6)),
    "normal85": float(1 - norm.cdf((DELTA - 1.1) / 0.6)),
    "mixture": 0.4,
}


def one_school(truth: str, n: int, seed: int, n_boot: int, method: str) -> dict:
    rng = np.random.default_rng(seed)
    t = draw_truth(truth, n, rng)
    d = t + rng.normal(0.0, ERROR_SD, n)
    tab = pd.DataFrame(
        {"student_id": np.arange(n).astype(str), "dimension": "d1", "change": d, "se": ERROR_SD}
    )
    r = deconvolved_true_share(tab, delta=DELTA, n_boot=n_boot, seed=seed, method=method)
    return {
        "estimate": r.estimate,
        "ci_low": r.ci_low,
        "ci_high": r.ci_high,
        "sample_share": float(np.mean(t > DELTA)),
    }


def summarise(rows: pd.DataFrame, pop: float) -> dict:
    err = rows["estimate"] - pop
    cover_pop = (rows["ci_low"] <= pop) & (pop <= rows["ci_high"])
    cover_smp = (rows["ci_low"] <= rows["sample_share"]) & (rows["sample_share"] <= rows["ci_high"])
    return {
        "population_share": round(pop, 4),
        "bias_points": round(100 * float(err.mean()), 2),
        "bias_mc_se_points": round(100 * float(err.std(ddof=1) / np.sqrt(len(rows))), 2),
        "rmse_points": round(100 * float(np.sqrt(np.mean(err**2))), 2),
        "mean_ci_width_points": round(100 * float((rows["ci_high"] - rows["ci_low"]).mean()), 2),
        "coverage_population": round(float(cover_pop.mean()), 3),
        "coverage_sample_share": round(float(cover_smp.mean()), 3),
    }


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="40 replications, 100 bootstrap draws")
    ap.add_argument("--reps", type=int, default=None)
    ap.add_argument("--boot", type=int, default=None)
    ap.add_argument("--sizes", type=int, nargs="+", default=[500, 2000])
    ap.add_argument("--truths", nargs="+", default=["normal", "mixture", "normal85"])
    ap.add_argument("--method", default="gmodel", choices=["gmodel", "npmle"])
    args = ap.parse_args(argv)
    reps = args.reps or (40 if args.quick else 100)
    n_boot = args.boot or (100 if args.quick else 200)
    res: dict = {"reps": reps, "n_boot": n_boot, "method": args.method, "delta": DELTA}
    res["error_sd"], res["cells"] = ERROR_SD, []
    print(f"{reps} replications, {n_boot} bootstrap draws, method {args.method}")
    hdr = "truth      n      share  bias(se)      rmse   width  cover(pop)  cover(sample)  sec"
    print(hdr)
    for truth in args.truths:
        for n in args.sizes:
            t0 = time.perf_counter()
            rows = pd.DataFrame(
                [one_school(truth, n, 1000 * n + s, n_boot, args.method) for s in range(reps)]
            )
            cell = {"truth": truth, "n": n, **summarise(rows, POPULATION_SHARE[truth])}
            cell["seconds"] = round(time.perf_counter() - t0, 1)
            res["cells"].append(cell)
            print(
                f"{truth:9s} {n:5d}  {cell['population_share']:.3f}  "
                f"{cell['bias_points']:+5.2f}({cell['bias_mc_se_points']:.2f})  "
                f"{cell['rmse_points']:5.2f}  {cell['mean_ci_width_points']:6.2f}  "
                f"{cell['coverage_population']:9.3f}  {cell['coverage_sample_share']:12.3f}  "
                f"{cell['seconds']:5.1f}",
                flush=True,
            )
    name = (
        "deconvolve"
        + ("_quick" if args.quick else "")
        + ("_npmle" if args.method == "npmle" else "")
    )
    print("saved", save(name, res))
    return res


if __name__ == "__main__":
    main()
