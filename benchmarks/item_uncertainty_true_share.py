"""How much would the item parameters' uncertainty add to the estimated true share's interval?

Issue 14 item 1: the student-level bootstrap behind the estimated true share
(:func:`mentorlib.progress.true_share._bootstrap`) re-estimates the population model in every
replicate but holds the GRM item parameters at the full sample's fit. This measures, on
simulated schools with known item parameters (``tests/_true_share_sim.py``: 4 dimensions x 6
items), the variance of the share from four sets of ``B`` replicates of the same shape
(``BOOT_M`` plausible-value sets, ``BOOT_BURN_IN`` sweeps from a cold start each):

- ``fixed``: the report's bootstrap (students resampled, items fixed): ``vb``;
- ``refit``: the same with the item parameters refitted on each replicate's students;
- ``items_only``: the original students, item parameters refitted on a resample of them;
- ``chain_only``: the original students and item parameters (the replicates' own Monte Carlo
  and population-model noise).

``items_only - chain_only`` is the item parameters' own contribution; ``refit / fixed`` the
interval's variance ratio if the bootstrap refitted them. Run::

    python benchmarks/item_uncertainty_true_share.py [--n 1200 --schools 3 --boot 30]

Results: ``benchmarks/results/item_uncertainty_true_share.csv``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from mentorlib.progress.irt import blas_threads, fit_grm
from mentorlib.progress.pv_sampler import draw_joint
from mentorlib.progress.true_share import (
    BOOT_BURN_IN,
    BOOT_M,
    BOOT_THIN,
    BURN_IN,
    FIT_TOL,
    THIN,
    _above,
    _fit_joint,
)

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from tests._true_share_sim import simulate_items  # noqa: E402


def _share(responses, fits, x, rng, delta=0.5, k=1) -> float:
    jd = draw_joint(responses, fits, x, m=BOOT_M, burn_in=BOOT_BURN_IN, thin=BOOT_THIN, rng=rng)
    hit = _above(jd.draws, delta).sum(axis=2) >= k
    return float(hit.mean())


def _refit(responses, idx, fits):
    return [
        fit_grm(pre[idx], post[idx], n_categories=np.isfinite(f.b).sum(axis=1) + 1, tol=FIT_TOL)
        for (pre, post), f in zip(responses, fits, strict=True)
    ]


def one_school(n: int, seed: int, n_boot: int) -> dict:
    items, change = simulate_items(n=n, seed=seed)
    fj = _fit_joint(
        items, "assessment_primary", m=10, seed=seed, by=None, burn_in=BURN_IN, thin=THIN
    )
    fits, resp, x = list(fj.fits.values()), fj.responses, fj.x
    N = len(fj.students)
    rng = np.random.default_rng([seed, 99])
    out: dict[str, list[float]] = {"fixed": [], "refit": [], "items_only": [], "chain_only": []}
    t0 = time.perf_counter()
    with blas_threads(1):
        for _ in range(n_boot):
            idx = rng.choice(N, size=N, replace=True)
            boot_resp = [(pre[idx], post[idx]) for pre, post in resp]
            refits = _refit(resp, idx, fits)
            out["fixed"].append(_share(boot_resp, fits, x[idx], rng))
            out["refit"].append(_share(boot_resp, refits, x[idx], rng))
            out["items_only"].append(_share(resp, refits, x, rng))
            out["chain_only"].append(_share(resp, fits, x, rng))
    v = {key: float(np.var(val, ddof=1)) for key, val in out.items()}
    return {
        "n": n,
        "seed": seed,
        "boot": n_boot,
        "truth": float((change > 0.5).any(axis=1).mean()),
        **{f"var_{key}": val for key, val in v.items()},
        "item_part": v["items_only"] - v["chain_only"],
        "refit_over_fixed": v["refit"] / v["fixed"],
        "seconds": round(time.perf_counter() - t0, 1),
    }


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1200)
    ap.add_argument("--schools", type=int, default=3)
    ap.add_argument("--boot", type=int, default=30)
    ap.add_argument("--start", type=int, default=500)
    a = ap.parse_args(argv)
    rows = []
    for s in range(a.start, a.start + a.schools):
        r = one_school(a.n, s, a.boot)
        rows.append(r)
        print({k: (round(v, 6) if isinstance(v, float) else v) for k, v in r.items()}, flush=True)
    d = pd.DataFrame(rows)
    path = HERE / "results" / f"item_uncertainty_true_share_n{a.n}.csv"
    if path.exists():
        d = pd.concat([pd.read_csv(path), d], ignore_index=True).drop_duplicates(
            ["n", "seed", "boot"], keep="last"
        )
    d.to_csv(path, index=False)
    pooled = {c: d[c].mean() for c in d.columns if c.startswith("var_")}
    print({k: f"{v:.2e}" for k, v in pooled.items()})
    print(
        f"pooled: refit / fixed = {pooled['var_refit'] / pooled['var_fixed']:.3f}; item part / "
        f"fixed = {(pooled['var_items_only'] - pooled['var_chain_only']) / pooled['var_fixed']:.3f}"
    )


if __name__ == "__main__":
    main()
