"""Do the district summary's school effects, rank intervals and quarter probabilities hold?

Issue 17 item 4: "school effects from a multilevel model ... with shrinkage and ranking
uncertainty (the probability that a school is in the top or bottom quarter), so a district does
not rank schools on noise". This simulates districts with known school effects (students in
mentors in schools, a 0/1 "improved" outcome: p = mu + u_school + v_mentor), fits them with
:func:`mentorlib.district.fit_school_effects` and :func:`school_rank_probabilities` exactly as
``mentorlib district`` does, and measures against the truth:

- coverage of each school's 95% effect interval: of its true deviation from the district's
  own mean (``u_i - mean(u)``, the summary's "rate minus the district mean"), and, for
  reference, of ``u_i`` (the deviation from the model's mean, a population of schools);
- coverage of each school's 95% rank interval (its true rank among the schools' u);
- calibration of ``p_top``/``p_bottom``: in bins of the stated probability, the share of
  schools truly in the top (bottom) quarter, and how many schools the summary calls "sure"
  (p > 0.9) that are not truly there.

Scenarios: the number of schools (3, 5, 10, 20, 40, 170), the school SD on the rate scale (2 and 4
percentage points), mentor SD 5 points, mentor groups of 6-20, schools of 200-2,500 students
with an outcome (the district synthesiser's range). Run::

    python benchmarks/validate_district_effects.py [--districts 200] [--quick]

Results in ``benchmarks/results/district_effects_validation.csv`` (one row per scenario),
``district_effects_calibration.csv`` (the quarter probabilities by bin) and
``benchmarks/out/validate_district_effects.json``; the table is in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from mentorlib.district.multilevel import fit_school_effects, school_rank_probabilities

HERE = Path(__file__).resolve().parent
SURE = 0.9  # mentorlib.district.report.SURE


def simulate(rng, n_schools: int, sd_school: float, sd_mentor: float, mu: float = 0.3):
    """One district's students (school_id, mentor_id, improved) and the true school effects."""
    sizes = rng.integers(200, 2501, n_schools)
    u = rng.normal(0.0, sd_school, n_schools)
    rows = []
    for i, n in enumerate(sizes):
        groups = []
        left = int(n)
        while left > 0:
            g = min(left, int(rng.integers(6, 21)))
            groups.append(g)
            left -= g
        v = rng.normal(0.0, sd_mentor, len(groups))
        mentor = np.repeat(np.arange(len(groups)), groups)
        p = np.clip(mu + u[i] + v[mentor], 0.0, 1.0)
        rows.append(
            pd.DataFrame(
                {
                    "school_id": f"s{i:03d}",
                    "mentor_id": mentor,
                    "improved": (rng.random(int(n)) < p).astype(float),
                }
            )
        )
    truth = pd.DataFrame({"school_id": [f"s{i:03d}" for i in range(n_schools)], "u": u})
    return pd.concat(rows, ignore_index=True), truth


def one_district(rng, n_schools, sd_school, sd_mentor, n_sims, intervals):
    df, truth = simulate(rng, n_schools, sd_school, sd_mentor)
    seed = int(rng.integers(1 << 31))
    out = {}
    for kind in intervals:
        fit = fit_school_effects(df, intervals=kind)
        r = school_rank_probabilities(fit, n_sims=n_sims, seed=seed)
        r = r.merge(truth, on="school_id")
        S = len(r)
        k = int(np.ceil(0.25 * S))
        true_rank = pd.Series(-r["u"].to_numpy()).rank(method="first").to_numpy()
        # the effect's target: the school's deviation from the district's own schools' mean
        # (u - mean u), and from the model's mean (u, drawn around 0)
        centred = r["u"] - r["u"].mean()
        out[kind] = pd.DataFrame(
            {
                "covered": (r["ci_low"] <= centred) & (centred <= r["ci_high"]),
                "covered_model_mean": (r["ci_low"] <= r["u"]) & (r["u"] <= r["ci_high"]),
                "rank_covered": (r["rank_low"] <= true_rank) & (true_rank <= r["rank_high"]),
                "p_top": r["p_top"],
                "p_bottom": r["p_bottom"],
                "in_top": true_rank <= k,
                "in_bottom": true_rank > S - k,
                "sd_school_hat": fit.sd_school,
                "width": r["ci_high"] - r["ci_low"],
            }
        )
    return out


def calibration(p: pd.Series, hit: pd.Series) -> list[dict]:
    bins = [0, 0.1, 0.5, 0.9, 1.0001]
    out = []
    cut = pd.cut(p, bins, right=False)
    for b, g in hit.groupby(cut, observed=True):
        out.append(
            {
                "bin": str(b),
                "n": int(len(g)),
                "stated": float(p[g.index].mean()),
                "observed": float(g.mean()),
            }
        )
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--districts", type=int, default=200)
    ap.add_argument("--sims", type=int, default=2000, help="rank draws per district")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--seed", type=int, default=17)
    a = ap.parse_args(argv)
    scen = [(s, sd) for s in (3, 5, 10, 20, 40, 170) for sd in (0.02, 0.04)]
    rows, detail = [], {}
    t0 = time.perf_counter()
    for S, sd in scen:
        n_d = max(5, a.districts // (8 if S == 170 else 1)) if not a.quick else 5
        rng = np.random.default_rng([a.seed, S, int(sd * 1000)])
        kinds = ("integrated", "conditional")
        runs = [one_district(rng, S, sd, 0.05, a.sims, kinds) for _ in range(n_d)]
        for kind in kinds:
            x = pd.concat([r[kind] for r in runs], ignore_index=True)
            sure_top = x["p_top"] > SURE
            sure_bot = x["p_bottom"] > SURE
            row = {
                "schools": S,
                "sd_school": sd,
                "intervals": kind,
                "districts": n_d,
                "school_rows": len(x),
                "sd_school_hat_mean": round(float(x["sd_school_hat"].mean()), 4),
                "effect_coverage": round(float(x["covered"].mean()), 4),
                "coverage_of_model_mean": round(float(x["covered_model_mean"].mean()), 4),
                "mean_width": round(float(x["width"].mean()), 4),
                "rank_coverage": round(float(x["rank_covered"].mean()), 4),
                "p_top_brier": round(float(((x["p_top"] - x["in_top"]) ** 2).mean()), 4),
                "sure_top_per_district": float(sure_top.sum() / n_d),
                "sure_top_wrong": round(float((~x.loc[sure_top, "in_top"]).mean()), 4)
                if sure_top.any()
                else float("nan"),
                "sure_bottom_wrong": round(float((~x.loc[sure_bot, "in_bottom"]).mean()), 4)
                if sure_bot.any()
                else float("nan"),
            }
            rows.append(row)
            detail[f"{S}_{sd}_{kind}"] = {
                "top": calibration(x["p_top"], x["in_top"]),
                "bottom": calibration(x["p_bottom"], x["in_bottom"]),
            }
            print(json.dumps(row), flush=True)
    res = pd.DataFrame(rows)
    if not a.quick:
        res.to_csv(HERE / "results" / "district_effects_validation.csv", index=False)
        cal = [
            {"scenario": k, "quarter": q, **c}
            for k, v in detail.items()
            for q, cs in v.items()
            for c in cs
        ]
        pd.DataFrame(cal).round(4).to_csv(
            HERE / "results" / "district_effects_calibration.csv", index=False
        )
    (HERE / "out").mkdir(exist_ok=True)
    (HERE / "out" / "validate_district_effects.json").write_text(
        json.dumps(
            {"rows": rows, "calibration": detail, "seconds": time.perf_counter() - t0}, indent=1
        ),
        encoding="utf-8",
    )
    print(res.to_string(index=False))
    print(f"{time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
