"""The mentor model with 1-2 mentees per mentor: the OLS fallback, the retry, the boundary.

Data sets are made here by hand (not by the synthetic generator): a middle school where only
nominated students are mentored, so most mentors have one mentee.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from mentorlib.effectiveness import MentorReport, fit_mentor_model
from mentorlib.effectiveness.design import prepare_design
from mentorlib.effectiveness.fallback import (
    FALLBACK_NOTE,
    fit_or_fallback,
    near_collinear,
    ols_fit,
)
from mentorlib.labels import MENTOR_FALLBACK_LABEL
from mentorlib.rules import rulebook

COVS = ("grade", "gender", "transfer", "single_parent", "reconstituted", "left_behind")


def middle_school(seed: int, n_mentors: int = 60, *, pairs: bool = True, sd_mentor=0.3):
    """60 mentors with 1-2 nominated mentees each (only 1 each when ``pairs`` is False)."""
    rng = np.random.default_rng(seed)
    sizes = rng.choice([1, 2], size=n_mentors) if pairs else np.ones(n_mentors, dtype=int)
    m = np.repeat(np.arange(n_mentors), sizes)
    n = len(m)
    pre = rng.normal(3.0, 0.6, n)
    df = pd.DataFrame(
        {
            "mentor_id": [f"T{i:03d}" for i in m],
            "grade": pd.Categorical(rng.choice([7, 8, 9], size=n_mentors)[m]),
            "gender": rng.choice(["男", "女"], n),
            "transfer": rng.random(n) < 0.05,
            "single_parent": rng.random(n) < 0.1,
            "reconstituted": rng.random(n) < 0.05,
            "left_behind": rng.random(n) < 0.1,
            "pre": pre,
        }
    )
    u = rng.normal(0, sd_mentor, n_mentors)[m]
    df["post"] = 0.5 + 0.8 * pre + u + rng.normal(0, 0.4, n)
    return df


def fit(df, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fit_mentor_model(
            df, outcome="post", group="mentor_id", pre="pre", covariates=COVS, **kw
        )


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(
    "kw", [{"intervals": "integrated"}, {"intervals": "conditional"}, {"method": "mixedlm"}]
)
def test_one_mentee_each_falls_back_to_ols_with_the_note(seed, kw):
    # before: intervals="integrated" (the report's default) raised
    # LinAlgError "Matrix is not positive definite"; the others returned an arbitrary variance
    df = middle_school(seed, pairs=False)
    m = fit(df, **kw)
    assert m.method == "ols"
    assert FALLBACK_NOTE in m.notes
    assert "too few mentees to separate a mentor effect" in FALLBACK_NOTE
    assert math.isnan(m.var_group) and math.isnan(m.icc)
    assert math.isnan(m.lrt["p"]) and math.isnan(m.lrt["stat"])
    assert m.effects.empty  # no mentor ranking
    assert m.n_groups == 60 and m.n_obs == 60
    row = m.summary_row()
    assert row["method"] == "ols" and row["mean_mentees"] == 1.0
    assert np.isfinite(m.fixed.loc["pre", "coef"]) and np.isfinite(m.fixed.loc["pre", "se"])


def test_ols_fallback_pre_coefficient_is_least_squares():
    df = middle_school(3, pairs=False)
    m = fit(df, intervals="integrated")
    X = np.column_stack(
        [
            np.ones(len(df)),
            df["pre"],
            df["grade"].astype(int) == 8,
            df["grade"].astype(int) == 9,
            df["gender"] == "男",  # levels sorted: 女 first (reference)
            *(df[c].astype(float) for c in COVS[2:] if df[c].any()),
        ]
    ).astype(float)
    beta, rss = np.linalg.lstsq(X, df["post"].to_numpy(), rcond=None)[:2]
    assert_allclose(m.fixed.loc["pre", "coef"], beta[1], rtol=1e-10)
    n, p = X.shape
    se = math.sqrt(float(rss[0]) / (n - p) * np.linalg.inv(X.T @ X)[1, 1])
    assert_allclose(m.fixed.loc["pre", "se"], se, rtol=1e-8)
    assert_allclose(m.var_resid, float(rss[0]) / (n - p), rtol=1e-10)  # REML: RSS / (n - p)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_one_or_two_mentees_still_fit_the_mixed_model(seed):
    df = middle_school(seed, pairs=True)
    m = fit(df, intervals="integrated")
    assert m.method == "profiled" and FALLBACK_NOTE not in m.notes
    assert m.var_group >= 0 and len(m.effects) == df["mentor_id"].nunique()
    ref = fit(df, method="mixedlm")
    assert ref.method.startswith("mixedlm:")
    assert_allclose(ref.fixed.loc["pre", "coef"], m.fixed.loc["pre", "coef"], atol=1e-3)


def test_a_mixedlm_variance_at_the_boundary_is_snapped_to_zero():
    hits = 0
    for seed in range(6):
        df = middle_school(seed, sd_mentor=1e-6)
        m = fit(df, method="mixedlm")
        assert m.var_group == 0 or m.var_group > 1e-8 * m.var_resid
        if m.var_group == 0:
            hits += 1
            assert any("boundary" in n for n in m.notes)
            assert (m.effects["effect"] == 0).all() and m.icc == 0
    assert hits >= 1


def test_a_failing_fit_is_retried_without_nearly_collinear_covariates_then_ols():
    df = middle_school(4)
    df["older"] = df["pre"] * 2 + 1e-9 * np.arange(len(df))  # passes the rank check
    d = prepare_design(df, "post", "mentor_id", "pre", [*COVS, "older"])
    assert [d.names[k] for k in near_collinear(d.X)] == ["older"]
    seen = []

    def flaky(dd):
        seen.append(list(dd.names))
        if "older" in dd.names:
            raise np.linalg.LinAlgError("Matrix is not positive definite")
        return {"notes": [], "ok": True}

    f, d2 = fit_or_fallback(d, flaky, True)
    assert f["ok"] and "older" not in d2.names and len(seen) == 2
    assert any("older" in n and "collinear" in n for n in d2.notes)

    def broken(dd):
        raise np.linalg.LinAlgError("Matrix is not positive definite")

    f, d3 = fit_or_fallback(d, broken, True)
    assert f["method"] == "ols" and f["fallback"]
    assert f["notes"][0].startswith(FALLBACK_NOTE) and "positive definite" in f["notes"][0]
    assert_allclose(f["beta"], ols_fit(d.y, d.X, True)["beta"])


def test_the_report_summary_carries_the_fallback_line():
    df = middle_school(5, pairs=False)
    m = fit(df)
    m.outcome = "composite"
    empty = pd.DataFrame()
    rep = MentorReport(
        "hand",
        "middle",
        2024,
        0,
        rulebook("middle"),
        pd.DataFrame([m.summary_row()]),
        *([empty] * 14),
    )
    zh, en = rep.summary("zh"), rep.summary("en")
    assert MENTOR_FALLBACK_LABEL[0] in zh and MENTOR_FALLBACK_LABEL[1] in en
    assert sum(MENTOR_FALLBACK_LABEL[1] in line for line in en.splitlines()) == 1
