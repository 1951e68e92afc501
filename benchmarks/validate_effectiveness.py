"""Validation: do the mentor effects recover the generator's truth, and do the intervals cover?

For each replication (a synthetic school, :mod:`mentorlib.synth`, seed = replication) and level:

1. **Method check on the latent scale.** ``theta_post ~ theta_pre + covariates + (1 | mentor)``
   on the generator's latent traits (no measurement error). The estimand of mentor j is the
   realised mentor-driven part of its mentees' change, centred over mentors::

       m_i = (5/9) u_{term-1 mentor} + (4/9) u_{term-2 mentor}
             + fit_effect * fit_i + dose_effect * (talks per month_i - rule)
       target_j = mean of m_i over j's mentees - mean over mentors

   (see :mod:`mentorlib.synth.model`, "Outcomes"). Reported: the correlation of the
   empirical-Bayes effects with the target and with the true ``u``, and the share of 95%
   intervals that contain the target (coverage).
2. **What a user gets**, the observed scale scores (:func:`mentorlib.effectiveness.study_models`):
   correlation with the truth, and coverage of the truth put on the score scale (the slope of
   the post score on the latent trait, an approximation: the score is a non-linear function of
   the trait and the pre score carries measurement error).
3. **The school's scheme against the truth**: Spearman correlation with the true composite
   mentor effect of the naive annual score, of its satisfaction component alone, and of the
   shrunken composite effect (conditional and integrated).
4. **Placebo**: how often height is flagged (nominal 5%).
5. **Stability**: the estimated year-to-year correlation of true effects (``r_true``) against
   the generator's (drift ``mentor_drift_sd``).

    python benchmarks/validate_effectiveness.py                # 20 replications, both levels
    python benchmarks/validate_effectiveness.py --reps 5 --levels primary
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
import pandas as pd

from mentorlib import effectiveness as E
from mentorlib.data import from_synth
from mentorlib.rules import rulebook
from mentorlib.synth import SynthParams, generate

from _measure import save

W1 = 5 / 9  # share of the year under the term-1 mentor (5 of 9 months), as in the generator


def _targets(st, P, year: int) -> pd.DataFrame:
    """Per student and dimension: the mentor-driven part of the true change (m_i)."""
    p = st.params
    lat = st.truth["latent"]
    lat = lat[(lat["year"] == year) & lat["mentor_id"].notna()].copy()
    lat["mentor_id"] = lat["mentor_id"].astype(str)
    lat["student_id"] = lat["student_id"].astype(str)
    lat["dimension"] = lat["dimension"].astype(str)
    u = st.truth["mentor_effects"]
    u = u[u["year"] == year].assign(
        mentor_id=lambda d: d["mentor_id"].astype(str),
        dimension=lambda d: d["dimension"].astype(str),
    )
    u = u.set_index(["mentor_id", "dimension"])["effect"]
    a = P["assignments"]
    t2 = a[(a["year"] == year) & (a["term"] == 2)]
    m2 = pd.Series(t2["mentor_id"].astype(str).to_numpy(), index=t2["student_id"].astype(str))
    m2 = m2[~m2.index.duplicated(keep="last")]
    lat["mentor2"] = (
        m2.reindex(lat["student_id"]).fillna(lat.set_index("student_id")["mentor_id"]).to_numpy()
    )
    u1 = u.reindex(pd.MultiIndex.from_frame(lat[["mentor_id", "dimension"]])).to_numpy()
    u2 = u.reindex(pd.MultiIndex.from_frame(lat[["mentor2", "dimension"]])).to_numpy()
    target = rulebook(p.level).talks_per_month
    lat["m"] = (
        W1 * u1
        + (1 - W1) * u2
        + p.fit_effect * lat["fit"]
        + p.dose_effect * (lat["talks_per_month"] - target)
    )
    lat["u1"] = u1
    return lat


def _coverage(eff: pd.DataFrame, target: pd.Series, scale: float = 1.0) -> dict:
    e = eff.set_index("mentor_id")
    t = scale * target.reindex(e.index)
    t = t - t.mean()
    inside = (e["ci_low"] <= t) & (t <= e["ci_high"])
    return {
        "corr_target": float(np.corrcoef(e["effect"], t)[0, 1])
        if e["effect"].std() > 0
        else np.nan,
        "coverage": float(inside.mean()),
        "n_mentors": len(e),
    }


def one(level: str, seed: int, students: int) -> list[dict]:
    st = generate(SynthParams(level=level, n_students=students, n_years=2, seed=seed))
    P = from_synth(st)
    year = P.years[0]
    lat = _targets(st, P, year)
    cov = E.mentor_data(P, year)
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        models = E.study_models(P, year, intervals="conditional")
        models_int = E.study_models(P, year, intervals="integrated")
    for dim in [*P.dimensions, "composite"]:
        if dim == "composite":
            g = lat.groupby("student_id", sort=False)
            li = pd.DataFrame(
                {
                    "theta_pre": g["theta_pre"].mean(),
                    "theta_post": g["theta_post"].mean(),
                    "m": g["m"].mean(),
                    "u1": g["u1"].mean(),
                    "mentor_id": g["mentor_id"].first(),
                }
            ).reset_index()
        else:
            li = lat[lat["dimension"] == dim]
        li = li.merge(cov.drop(columns=["mentor_id", "pre", "post"]), on="student_id")
        target = li.groupby("mentor_id")["m"].mean()
        true_u = li.groupby("mentor_id")["u1"].first()
        # 1. latent scale
        fit = E.fit_mentor_model(
            li,
            outcome="theta_post",
            group="mentor_id",
            pre="theta_pre",
            covariates=E.COVARIATES,
            intervals="conditional",
        )
        row = {"level": level, "seed": seed, "dimension": dim}
        c = _coverage(fit.effects, target)
        row |= {f"latent_{k}": v for k, v in c.items()}
        row["latent_corr_true_u"] = (
            float(
                np.corrcoef(fit.effects["effect"], true_u.reindex(fit.effects["mentor_id"]))[0, 1]
            )
            if fit.effects["effect"].std() > 0
            else np.nan
        )
        fit_i = E.fit_mentor_model(
            li,
            outcome="theta_post",
            group="mentor_id",
            pre="theta_pre",
            covariates=E.COVARIATES,
            intervals="integrated",
        )
        row["latent_coverage_integrated"] = _coverage(fit_i.effects, target)["coverage"]
        row["latent_sd_mentor_est"] = float(np.sqrt(fit.var_group))
        row["latent_sd_target"] = float(target.std())
        # 2. observed scores
        m = models[dim]
        d = E.mentor_data(P, year, outcome=dim)
        th = li.set_index("student_id")["theta_post"].reindex(d["student_id"]).to_numpy()
        ok = np.isfinite(th) & d["post"].notna().to_numpy()
        slope = float(np.polyfit(th[ok], d["post"].to_numpy()[ok], 1)[0])
        eff = m.effects.assign(mentor_id=m.effects["mentor_id"].astype(str))
        c = _coverage(eff, target, scale=slope)
        row |= {f"score_{k}": v for k, v in c.items() if k != "n_mentors"}
        row["score_corr_true_u"] = (
            float(np.corrcoef(eff["effect"], true_u.reindex(eff["mentor_id"]))[0, 1])
            if eff["effect"].std() > 0
            else np.nan
        )
        mi = models_int[dim]
        eff_i = mi.effects.assign(mentor_id=mi.effects["mentor_id"].astype(str))
        row["score_coverage_integrated"] = _coverage(eff_i, target, scale=slope)["coverage"]
        row["score_corr_target_integrated"] = _coverage(eff_i, target, scale=slope)["corr_target"]
        row["score_icc"] = m.icc
        row["score_var_at_zero"] = bool(m.var_group == 0)
        row["score_mean_reliability"] = float(eff["reliability"].mean())
        rows.append(row)
    # 3. the school's scheme vs truth (composite), 4. placebo, 5. stability
    sch = E.school_scheme(P, year)
    naive = sch.groupby("mentor_id")["score"].mean()
    comp_truth = lat.groupby("mentor_id")["m"].mean()
    eb = models["composite"].effects.set_index("mentor_id")["effect"]
    eb.index = eb.index.astype(str)
    ebi = models_int["composite"].effects.set_index("mentor_id")["effect"]
    ebi.index = ebi.index.astype(str)
    sat = sch.groupby("mentor_id")["ns_satisfaction"].mean()
    both = pd.DataFrame(
        {"naive": naive, "eb": eb, "ebi": ebi, "sat": sat, "truth": comp_truth}
    ).dropna(subset=["naive", "ebi", "truth"])

    def rho(col):
        return float(both[col].corr(both["truth"], method="spearman"))

    rows[-1]["spearman_naive_truth"] = rho("naive")
    rows[-1]["spearman_eb_truth"] = rho("eb")
    rows[-1]["spearman_eb_integrated_truth"] = rho("ebi")
    rows[-1]["spearman_satisfaction_truth"] = rho("sat")
    rows[-1]["placebo_flagged"] = bool(E.placebo_check(P, P.years[1])["flagged"].iloc[0])
    stab = E.mentor_stability(P, outcome="composite", n_boot=0).correlation.iloc[0]
    u = st.truth["mentor_effects"]
    uc = u.groupby(["mentor_id", "year"], observed=True)["effect"].mean().unstack()
    rows[-1]["r_true_estimated"] = float(stab["r_true"])
    rows[-1]["r_eb"] = float(stab["r_eb"])
    rows[-1]["r_true_generator"] = float(uc[P.years[0]].corr(uc[P.years[1]]))
    return rows


def summarise(df: pd.DataFrame) -> pd.DataFrame:
    cols = [
        "latent_corr_target",
        "latent_corr_true_u",
        "latent_coverage",
        "latent_coverage_integrated",
        "score_corr_target",
        "score_corr_true_u",
        "score_coverage",
        "score_coverage_integrated",
        "score_corr_target_integrated",
        "score_var_at_zero",
        "score_icc",
        "score_mean_reliability",
    ]
    out = df.groupby(["level", "dimension"], sort=False)[cols].mean()
    out["mentor_intervals"] = df.groupby(["level", "dimension"], sort=False)[
        "latent_n_mentors"
    ].sum()
    return out.round(3)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--students", type=int, default=1200)
    ap.add_argument("--levels", nargs="+", default=["primary", "middle"])
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    rows = []
    for level in args.levels:
        for seed in range(1, args.reps + 1):
            rows += one(level, seed, args.students)
            print(f"{level} seed {seed} done ({time.perf_counter() - t0:.0f} s)", flush=True)
    df = pd.DataFrame(rows)
    summ = summarise(df)
    comp = df[df["dimension"] == "composite"].groupby("level", sort=False)
    extra = (
        comp[
            [
                "spearman_naive_truth",
                "spearman_eb_truth",
                "spearman_eb_integrated_truth",
                "spearman_satisfaction_truth",
                "placebo_flagged",
                "r_true_estimated",
                "r_eb",
                "r_true_generator",
            ]
        ]
        .mean()
        .round(3)
    )
    pd.set_option("display.width", 200)
    print(summ.to_string())
    print(extra.to_string())
    res = {
        "replications": args.reps,
        "students": args.students,
        "seconds": round(time.perf_counter() - t0, 1),
        "by_dimension": summ.reset_index().to_dict("records"),
        "scheme_placebo_stability": extra.reset_index().to_dict("records"),
    }
    path = save("validate_effectiveness", res)
    print(f"saved {path}")
    return res


if __name__ == "__main__":
    main()
