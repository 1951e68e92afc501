"""Benchmark: a random-intercept mentor model at district scale.

Target (issue 5): ``post ~ pre + grade + gender + focus flags + (1 | mentor)`` on 100,000
students and 12,500 mentors (8 each) fast enough for notebook use (< 30 s). Measured in the same
run, each in its own child process (so the memory figures do not mix):

- ``fit_mentor_model`` (the direct profiled REML fit: per-mentor sums, one-dimensional search),
  including building the design from the DataFrame;
- statsmodels' ``MixedLM`` default path, ``MixedLM.from_formula(...).fit(reml=True)`` (its
  optimisers bfgs, then lbfgs, then cg), with a time limit.

Both report the REML log-likelihood they reached, and statsmodels' own ``loglike`` is
evaluated at our estimates, so a difference is a difference of optimum, not of formula.

    python benchmarks/bench_mixed.py                       # 100,000 students, 12,500 mentors
    python benchmarks/bench_mixed.py --students 20000 --mentors 2500
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
import pandas as pd

from _measure import save

FORMULA = "post ~ pre + C(grade) + gender + transfer + single_parent + reconstituted + left_behind"
COVARIATES = ["grade", "gender", "transfer", "single_parent", "reconstituted", "left_behind"]


def make_data(n: int, mentors: int, seed: int = 1) -> pd.DataFrame:
    """Students nested in mentors; a true mentor SD of 0.15 on a residual SD of 0.45."""
    rng = np.random.default_rng(seed)
    m = rng.permutation(np.arange(n) % mentors)
    pre = rng.normal(3.5, 0.6, n)
    grade = rng.integers(1, 7, n)
    df = pd.DataFrame(
        {
            "mentor_id": pd.Series([f"T{j:05d}" for j in m], dtype="str"),
            "pre": pre,
            "grade": pd.Categorical(grade),
            "gender": np.where(rng.random(n) < 0.52, "male", "female"),
            "transfer": rng.random(n) < 0.03,
            "single_parent": rng.random(n) < 0.12,
            "reconstituted": rng.random(n) < 0.05,
            "left_behind": rng.random(n) < 0.10,
        }
    )
    u = rng.normal(0, 0.15, mentors)
    df["post"] = 0.9 + 0.75 * pre + 0.02 * grade + u[m] + rng.normal(0, 0.45, n)
    return df


def _vm(field: str) -> float:
    """VmRSS / VmHWM of this process in GB."""
    with open(f"/proc/{os.getpid()}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024 / 1024
    return float("nan")


def _ours(df, q):
    from mentorlib.effectiveness import fit_mentor_model

    base = _vm("VmRSS")
    t = time.perf_counter()
    fit = fit_mentor_model(df, outcome="post", group="mentor_id", pre="pre", covariates=COVARIATES)
    sec = time.perf_counter() - t
    q.put(
        {
            "seconds": round(sec, 2),
            "peak_gb": round(_vm("VmHWM"), 3),
            "extra_gb": round(_vm("VmHWM") - base, 3),
            "llf": fit.llf,
            "var_mentor": fit.var_group,
            "var_resid": fit.var_resid,
            "pre_coef": float(fit.fixed.loc["pre", "coef"]),
            "method": fit.method,
            "converged": fit.converged,
        }
    )


def _mixedlm(df, q, at):
    from statsmodels.regression.mixed_linear_model import MixedLM, MixedLMParams

    base = _vm("VmRSS")
    t = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = MixedLM.from_formula(FORMULA, groups="mentor_id", data=df)
        r = model.fit(reml=True)
    sec = time.perf_counter() - t
    # statsmodels' own REML log-likelihood at our estimates (same formula, other optimum?)
    fe = np.array([at["fe"][n] for n in model.exog_names])
    p = MixedLMParams.from_components(fe_params=fe, cov_re=np.array([[at["lam"]]]))
    llf_at_ours = float(model.loglike(p, profile_fe=False))
    q.put(
        {
            "seconds": round(sec, 2),
            "peak_gb": round(_vm("VmHWM"), 3),
            "extra_gb": round(_vm("VmHWM") - base, 3),
            "llf": float(r.llf),
            "var_mentor": float(np.asarray(r.cov_re)[0, 0]),
            "var_resid": float(r.scale),
            "pre_coef": float(r.fe_params["pre"]),
            "converged": bool(r.converged),
            "warnings": sorted({str(w.message).split(".")[0][:80] for w in caught}),
            "statsmodels_llf_at_our_estimates": llf_at_ours,
        }
    )


def _run(target, args, timeout: float) -> dict:
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=target, args=(*args[:1], q, *args[1:]))
    p.start()
    t = time.perf_counter()
    while p.is_alive() and time.perf_counter() - t < timeout:
        p.join(1.0)
        if not q.empty():
            break
    if q.empty() and p.is_alive():
        p.terminate()
        p.join()
        return {"finished": False, "seconds": f"> {timeout:.0f} (stopped)"}
    out = q.get()
    p.join()
    return {"finished": True, **out}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser()
    ap.add_argument("--students", type=int, default=100_000)
    ap.add_argument("--mentors", type=int, default=12_500)
    ap.add_argument("--mixedlm-timeout", type=float, default=1800.0)
    ap.add_argument("--skip-mixedlm", action="store_true")
    args = ap.parse_args(argv)
    df = make_data(args.students, args.mentors)
    res: dict = {"students": args.students, "mentors": args.mentors, "target_s": 30}
    res["mentorlib_profiled"] = _run(_ours, (df,), 600)
    print("mentorlib:", res["mentorlib_profiled"], flush=True)
    if not args.skip_mixedlm:
        from mentorlib.effectiveness import fit_mentor_model

        fit = fit_mentor_model(
            df, outcome="post", group="mentor_id", pre="pre", covariates=COVARIATES
        )
        names = {"Intercept": "Intercept"}
        for n in fit.fixed.index:
            if n.startswith("grade["):
                names[n] = f"C(grade)[T.{n[6:-1]}]"
            elif n.startswith("gender["):
                names[n] = f"gender[T.{n[7:-1]}]"
            elif n in ("transfer", "single_parent", "reconstituted", "left_behind"):
                names[n] = f"{n}[T.True]"
            else:
                names[n] = n
        at = {
            "fe": {names[n]: v for n, v in fit.fixed["coef"].items()},
            "lam": fit.var_group / fit.var_resid,
        }
        res["statsmodels_mixedlm_default"] = _run(_mixedlm, (df, at), args.mixedlm_timeout)
        print("statsmodels:", res["statsmodels_mixedlm_default"], flush=True)
        sm = res["statsmodels_mixedlm_default"]
        if sm.get("finished"):
            res["speedup"] = round(sm["seconds"] / max(res["mentorlib_profiled"]["seconds"], 1e-3))
            res["llf_gain_over_statsmodels"] = round(
                res["mentorlib_profiled"]["llf"] - sm["llf"], 6
            )
    path = save("mixed_profiled_only" if args.skip_mixedlm else "mixed", res)
    print(f"saved {path}")
    return res


if __name__ == "__main__":
    main()
