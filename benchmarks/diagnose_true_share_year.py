"""Why a year's estimated true share misses the generator's truth: the answers, or the model?

The estimated true share (mentorlib.progress.true_share) reads the latent change from the
students' item answers. When a year's estimate misses the truth by more than its usual error,
there are two suspects: the model (it reads the answers wrongly), or the answers themselves
(their measurement noise happens to show less, or more, change than truly happened: nothing
that reads only the answers can see through that).

This script separates the two on a synthetic study, where the generator knows every student's
true latents and the true item parameters. Per year and dimension it reports:

- ``z_pre``, ``z_post``, ``z_change``: how far the answers sit from what the true latents
  predict. Per student the sum over the dimension's items of (answer - its expectation given
  the student's true latent, under the generator's item parameters); the column is the mean
  over students divided by its standard error. Under the generator's own model these are
  standard normal: ``z_change`` = -2.8 means the answers show less change than truly happened,
  by 2.8 standard errors of the measurement noise;
- ``mml_change_mean``, ``mml_change_sd`` against ``true_change_mean``, ``true_change_sd``
  (latent SDs of the year's pre-test): the change's mean and SD that maximum likelihood finds
  in the answers when it is handed the generator's TRUE item parameters and the realised
  pre-test mean and SD (only the post-test mean, SD and the pre-post correlation free), against
  the realised ones. Where these miss, the answers themselves carry the miss: no model that
  reads them can do better than a perfectly known measurement model. ``mml_share``: the share
  above ``true_delta`` that population implies (normal change);
- ``truth`` and ``estimate``: the share with true change above ``true_delta`` in this
  dimension, and the report's estimate of it (m = 10 plausible values, no bootstrap);
- the same for "at least k dimensions" (``dimension`` = "any").

The answers are the generator's own (:func:`mentorlib.data.from_synth`: the tables before any
export defect), so the cleaning is not a suspect either. On the demo's cleaned folder the
same year's answers give the same picture (z_change -2.25 for academic 2024, against -2.5
here; the cleaning drops a few attention-check failures and duplicates).

    python benchmarks/diagnose_true_share_year.py                 # the demo's school
    python benchmarks/diagnose_true_share_year.py --students 800 --seed 7

Result (the demo school: seed 2023, 1,200 students, 3 years) in
benchmarks/results/true_share_diagnosis_demo.csv and benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from scipy import stats  # noqa: E402
from scipy.optimize import minimize  # noqa: E402

from mentorlib.data import from_synth  # noqa: E402
from mentorlib.progress import study_scores  # noqa: E402
from mentorlib.progress.irt import grm_probabilities, prepare_dimension  # noqa: E402
from mentorlib.progress.true_share import estimated_true_share  # noqa: E402
from mentorlib.progress.true_share_report import REPORT_M, _groups  # noqa: E402
from mentorlib.progress.year import StudyYear  # noqa: E402
from mentorlib.synth import SynthParams, generate  # noqa: E402


def answer_z(data, latent: pd.DataFrame, items: pd.DataFrame) -> dict[str, float]:
    """``z_pre, z_post, z_change`` of one dimension's answers (``data``: a
    :class:`~mentorlib.progress.irt.DimensionData`) against the true latents (``latent``: the
    generator's rows of that year and dimension, indexed by student) and item parameters."""
    lat = latent.reindex(data.students)
    sums = {}
    for wave in ("pre", "post"):
        theta = lat[f"theta_{wave}"].to_numpy(dtype=float)
        answers = getattr(data, wave)
        total = np.zeros(len(theta))
        for j, var in enumerate(data.items):
            a = float(items.loc[var, "a"])
            b = items.loc[var, ["b1", "b2", "b3", "b4"]].to_numpy(dtype=float)
            p = grm_probabilities(a, b, theta)
            expected = p @ np.arange(p.shape[1])
            seen = answers[:, j] >= 0
            total += np.where(seen, answers[:, j] - expected, 0.0)
        sums[wave] = total
    sums["change"] = sums["post"] - sums["pre"]
    return {f"z_{k}": float(v.mean() / v.std(ddof=1) * np.sqrt(len(v))) for k, v in sums.items()}


#: Quadrature grid of the latent (generator units) for the true-item-parameter likelihood.
GRID = np.linspace(-5, 5, 61)


def _wave_likelihood(answers: np.ndarray, names, items: pd.DataFrame) -> np.ndarray:
    """Each student's likelihood of one wave's answers at each grid point (true items),
    scaled per student (the scale cancels in the maximisation)."""
    ll = np.zeros((answers.shape[0], len(GRID)))
    for j, var in enumerate(names):
        b = items.loc[var, ["b1", "b2", "b3", "b4"]].to_numpy(dtype=float)
        p = grm_probabilities(float(items.loc[var, "a"]), b, GRID)
        x = answers[:, j]
        seen = x >= 0
        ll[seen] += np.log(p[:, x[seen]].T)
    return np.exp(ll - ll.max(axis=1, keepdims=True))


def true_item_change(data, latent: pd.DataFrame, items: pd.DataFrame) -> dict[str, float]:
    """``mml_change_mean, mml_change_sd``: the bivariate-normal (pre, post) population whose
    marginal likelihood of the answers is highest, with the generator's item parameters and
    the realised pre-test mean and SD held fixed, its change in SDs of the pre-test; and the
    realised ``true_change_mean, true_change_sd`` (same units)."""
    lat = latent.reindex(data.students)
    m0, s0 = float(lat["theta_pre"].mean()), float(lat["theta_pre"].std())
    lpre = _wave_likelihood(data.pre, data.items, items)
    lpost = _wave_likelihood(data.post, data.items, items)
    w_pre = np.exp(-0.5 * ((GRID - m0) / s0) ** 2)
    w_pre /= w_pre.sum()

    def nll(par):
        mp, sp, r = par[0], np.exp(par[1]), np.tanh(par[2])
        mean = mp + r * sp * (GRID[:, None] - m0) / s0
        w = np.exp(-0.5 * ((GRID[None, :] - mean) / (sp * np.sqrt(1 - r * r))) ** 2)
        w = w_pre[:, None] * w / w.sum(axis=1, keepdims=True)
        return -np.log(np.einsum("ia,ab,ib->i", lpre, w, lpost) + 1e-300).sum()

    fit = minimize(
        nll,
        [m0 + 0.3, np.log(s0), 1.5],
        method="Nelder-Mead",
        options={"xatol": 1e-4, "fatol": 1e-4, "maxiter": 2000},
    )
    mp, sp, r = fit.x[0], np.exp(fit.x[1]), np.tanh(fit.x[2])
    change = (lat["theta_post"] - lat["theta_pre"]) / s0
    return {
        "mml_change_mean": float((mp - m0) / s0),
        "mml_change_sd": float(np.sqrt(sp**2 + s0**2 - 2 * r * sp * s0) / s0),
        "true_change_mean": float(change.mean()),
        "true_change_sd": float(change.std()),
    }


def diagnose(students: int, seed: int, years: int, level: str = "primary") -> pd.DataFrame:
    st = generate(SynthParams(level=level, n_students=students, n_years=years, seed=seed))
    P = from_synth(st)
    rules = P.rules
    scored = study_scores(P, rules=rules)
    latent = st.truth["latent"].assign(student_id=lambda d: d["student_id"].astype(str))
    item_pars = st.truth["items"].set_index("var")
    rows = []
    for year in P.years:
        y = StudyYear(P, scored, year, rules=rules)
        everyone = set(y.roster["student_id"].astype(str))
        items = y.scored.items
        items = items.loc[
            (items["year"] == year) & items["student_id"].astype(str).isin(everyone)
        ].assign(student_id=lambda d: d["student_id"].astype(str))
        _, cov = _groups(y.roster)
        est = estimated_true_share(
            items,
            y.cb,
            delta=rules.true_delta,
            k=rules.k_dimensions,
            m=REPORT_M,
            seed=0,
            n_boot=0,
            covariates=cov,
        )
        lat_y = latent.loc[latent["year"] == year]
        sd = lat_y.groupby("dimension", observed=True)["theta_pre"].std()
        answered = set(items["student_id"])
        lat_r = lat_y.loc[lat_y["student_id"].isin(answered)]
        above = lat_r["delta"] > rules.true_delta * lat_r["dimension"].map(sd).to_numpy()
        per_dim = est.per_dimension.set_index("dimension")["estimate"]
        for dim in per_dim.index:
            data = prepare_dimension(items, y.cb, dim)
            lat_d = lat_y.loc[lat_y["dimension"] == dim].set_index("student_id")
            rows.append(
                {
                    "year": year,
                    "dimension": dim,
                    **answer_z(data, lat_d, item_pars),
                    **(tic := true_item_change(data, lat_d, item_pars)),
                    "mml_share": float(
                        stats.norm.sf(
                            rules.true_delta, tic["mml_change_mean"], tic["mml_change_sd"]
                        )
                    ),
                    "truth": float(above[lat_r["dimension"] == dim].mean()),
                    "estimate": float(per_dim[dim]),
                }
            )
        n_above = above.groupby(lat_r["student_id"]).sum()
        rows.append(
            {
                "year": year,
                "dimension": "any",
                "truth": float((n_above >= rules.k_dimensions).mean()),
                "estimate": est.estimate,
            }
        )
    out = pd.DataFrame(rows)
    out["miss_points"] = 100 * (out["estimate"] - out["truth"])
    return out.round(4)


def main(argv=None) -> Path:
    ap = argparse.ArgumentParser()
    ap.add_argument("--students", type=int, default=1200)
    ap.add_argument("--seed", type=int, default=2023, help="the demo's seed by default")
    ap.add_argument("--years", type=int, default=3)
    ap.add_argument("--level", default="primary")
    args = ap.parse_args(argv)
    res = diagnose(args.students, args.seed, args.years, args.level)
    demo = (args.students, args.seed, args.years, args.level) == (1200, 2023, 3, "primary")
    tag = "demo" if demo else f"{args.level}_n{args.students}_s{args.seed}"
    out = HERE / "results" / f"true_share_diagnosis_{tag}.csv"
    res.to_csv(out, index=False)
    print(res.to_string(index=False))
    return out


if __name__ == "__main__":
    print(main())
