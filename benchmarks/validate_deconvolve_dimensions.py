"""The deconvolution fallback's "at least k dimensions" against known truths (issue 14 item 1).

Synthetic schools of four dimensions whose true changes are correlated, observed with normal
error of SD 0.5 (latent SD units, delta 0.5, the error of a change score at reliability about
0.8): the bias of ``deconvolved_true_share`` for "at least k" of the four, and how often its
interval (the report's fallback: ``DECONV_N_BOOT`` bootstrap replicates, percentile) covers
the population share and the school's own (realised) share. Beside it, the share the earlier
fallback gave (the students' posterior probabilities combined as if the dimensions were
independent), computed here from the same per-dimension fits.

Truths (each dimension's true change; ``rho`` its correlation across dimensions):

- ``normal``: N(0.3, 0.6^2), jointly normal (the closed form is the multivariate normal's);
- ``skewed``: a common factor, as ``normal``, but a third of the students change 0.9 less in
  every dimension (a group that did not take part): non-normal margins, the copula's
  correlation only approximated by Pearson's. Its population share by simulation (10^6).

    python benchmarks/validate_deconvolve_dimensions.py              # 40 schools a cell
    python benchmarks/validate_deconvolve_dimensions.py --reps 100 --sizes 500 2000

Result in benchmarks/results/deconvolve_dimensions.csv and benchmarks/README.md.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from mentorlib.progress import deconvolve as dc  # noqa: E402
from mentorlib.progress.true_share_report import DECONV_N_BOOT  # noqa: E402

DELTA, ERROR_SD, D = 0.5, 0.5, 4


def draw(truth: str, n: int, rho: float, rng: np.random.Generator) -> np.ndarray:
    r = rho * np.ones((D, D)) + (1 - rho) * np.eye(D)
    t = 0.3 + 0.6 * rng.multivariate_normal(np.zeros(D), r, n)
    if truth == "skewed":
        t = t + 0.3 - 0.9 * (rng.random(n) < 1 / 3)[:, None]
    return t


def population(truth: str, rho: float, k: int) -> float:
    t = draw(truth, 1_000_000, rho, np.random.default_rng(12345))
    return float(np.mean((t > DELTA).sum(axis=1) >= k))


def independent_share(tab: pd.DataFrame, k: int) -> float:
    """The earlier fallback: per-dimension posterior probabilities, Poisson-binomial."""
    st = dc._Settings("gmodel", 100, None, 1.0, 1e-8)
    table, _ = dc._check_changes(tab)
    dims, n = dc._prepare(table, DELTA, st)
    p = np.column_stack([dc._posterior_above(d, d.weights, n) for d in dims])
    dist = np.zeros((n, D + 1))
    dist[:, 0] = 1.0
    for j in range(D):
        q = p[:, j : j + 1]
        dist[:, 1:] = dist[:, 1:] * (1 - q) + dist[:, :-1] * q
        dist[:, 0] *= 1 - q[:, 0]
    return float(dist[:, k:].sum(axis=1).mean())


def one_school(truth: str, n: int, rho: float, k: int, seed: int, n_boot: int) -> dict:
    rng = np.random.default_rng(seed)
    t = draw(truth, n, rho, rng)
    x = t + rng.normal(0, ERROR_SD, t.shape)
    tab = pd.DataFrame(
        {
            "student_id": np.repeat(np.arange(n), D).astype(str),
            "dimension": np.tile([f"d{j}" for j in range(D)], n),
            "change": x.ravel(),
            "se": ERROR_SD,
        }
    )
    r = dc.deconvolved_true_share(tab, delta=DELTA, k=k, n_boot=n_boot, seed=seed)
    return {
        "estimate": r.estimate,
        "ci_low": r.ci_low,
        "ci_high": r.ci_high,
        "realised": float(np.mean((t > DELTA).sum(axis=1) >= k)),
        "independent": independent_share(tab, k),
    }


def main(argv: list[str] | None = None) -> pd.DataFrame:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=40)
    ap.add_argument("--boot", type=int, default=DECONV_N_BOOT)
    ap.add_argument("--sizes", type=int, nargs="+", default=[500, 2000])
    ap.add_argument("--rhos", type=float, nargs="+", default=[0.3, 0.6])
    ap.add_argument("--ks", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--truths", nargs="+", default=["normal", "skewed"])
    args = ap.parse_args(argv)
    cells = []
    for truth in args.truths:
        for rho in args.rhos:
            for k in args.ks:
                pop = population(truth, rho, k)
                for n in args.sizes:
                    t0 = time.perf_counter()
                    rows = pd.DataFrame(
                        [
                            one_school(truth, n, rho, k, 7919 * n + s, args.boot)
                            for s in range(args.reps)
                        ]
                    )
                    err = rows["estimate"] - pop
                    cells.append(
                        {
                            "truth": truth,
                            "rho": rho,
                            "k": k,
                            "n": n,
                            "schools": len(rows),
                            "population": round(pop, 4),
                            "bias_points": round(100 * float(err.mean()), 2),
                            "bias_se_points": round(
                                100 * float(err.std(ddof=1) / np.sqrt(len(rows))), 2
                            ),
                            "independent_bias_points": round(
                                100 * float((rows["independent"] - pop).mean()), 2
                            ),
                            "width_points": round(
                                100 * float((rows["ci_high"] - rows["ci_low"]).mean()), 2
                            ),
                            "coverage_population": round(
                                float(((rows.ci_low <= pop) & (pop <= rows.ci_high)).mean()), 3
                            ),
                            "coverage_realised": round(
                                float(
                                    (
                                        (rows.ci_low <= rows.realised)
                                        & (rows.realised <= rows.ci_high)
                                    ).mean()
                                ),
                                3,
                            ),
                            "seconds": round(time.perf_counter() - t0, 1),
                        }
                    )
                    print(cells[-1], flush=True)
    out = pd.DataFrame(cells)
    path = HERE / "results" / "deconvolve_dimensions.csv"
    out.to_csv(path, index=False)
    print("saved", path)
    return out


if __name__ == "__main__":
    main()
