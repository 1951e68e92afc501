"""The test of the mentor variance: boundary conventions and the exact (R)LRT by simulation.

Known answers: the balanced one-way design of Crainiceanu & Ruppert (2004, JRSS B 66:165,
section 3), where the RLRT is a function of the ANOVA F statistic alone,
``RLRT(F) = (n - 1) log((a F + b) / (n - 1)) - a log F`` for F > 1 (0 otherwise) with
a = K - 1, b = n - K, so ``P(RLRT = 0) = P(F_{a,b} <= 1)`` and ``P(RLRT > c) = P(F_{a,b} > F_c)``
with ``RLRT(F_c) = c``; for the ML LRT ``P(LRT = 0) = P(F_{a,b} <= K / (K - 1))``. R's RLRsim
conventions for a statistic of 0 (exactRLRT: p = 1; exactLRT: p = mean(0 < sample)) are read
from its source (R/exactRLRT.R, R/exactLRT.R).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

from mentorlib.effectiveness import (
    boundary_lrt,
    fit_mentor_model,
    rlrt_null_sample,
    rlrt_pvalue,
    study_models,
)

from _effectiveness_fixtures import with_rules

RESULTS = Path(__file__).parent / "results"


def one_way(K: int, J: int, seed: int, sd: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(K), J)
    return pd.DataFrame({"g": g, "y": rng.normal(0, sd, K)[g] + rng.normal(size=K * J)})


def rlrt_of_f(F: float, K: int, n: int) -> float:
    a, b = K - 1, n - K
    return 0.0 if F <= 1 else (n - 1) * np.log((a * F + b) / (n - 1)) - a * np.log(F)


def anova_f(df: pd.DataFrame) -> float:
    K, n = df["g"].nunique(), len(df)
    means = df.groupby("g")["y"].transform("mean")
    between = ((means - df["y"].mean()) ** 2).sum() / (K - 1)
    within = ((df["y"] - means) ** 2).sum() / (n - K)
    return float(between / within)


def test_boundary_conventions():
    # a variance of 4e-11 gives a statistic of rounding size: 0, p = 1 (was 0.5)
    assert boundary_lrt(-100.0, -100.0 - 1e-11) == (0.0, 1.0)
    # ML at exactly 0: RLRsim's exactLRT gives mean(0 < sample), 0.5 under the mixture (was 1)
    assert boundary_lrt(-100.0, -100.0, reml=False) == (0.0, 0.5)
    assert boundary_lrt(-100.0, -100.0, reml=True) == (0.0, 1.0)
    # a positive statistic: the mixture, 0.5 P(chi2_1 > 2.706) = 0.05, either way
    for reml in (True, False):
        assert boundary_lrt(0.0, -1.353, reml=reml)[1] == pytest.approx(0.05, abs=1e-3)
    # the slope test (q = 1) at 0: 1 under both conventions (no point mass)
    assert boundary_lrt(-5.0, -5.0, q=1, reml=False)[1] == pytest.approx(1.0)
    assert rlrt_pvalue(0.0, np.array([0.0, 0.0, 1.0, 2.0])) == 1.0
    assert rlrt_pvalue(0.0, np.array([0.0, 0.0, 1.0, 2.0]), reml=False) == 0.5
    assert rlrt_pvalue(1.5, np.array([0.0, 0.0, 1.0, 2.0])) == 0.25


@pytest.mark.parametrize("K,J", [(20, 5), (60, 2), (180, 6)])
def test_null_sample_matches_one_way_closed_form(K, J):
    n = K * J
    X, codes = np.ones((n, 1)), np.repeat(np.arange(K), J)
    n_sim = 20000
    se = 4 * np.sqrt(0.25 / n_sim)  # 4 Monte Carlo SEs of a probability
    s = rlrt_null_sample(X, codes, K, reml=True, n_sim=n_sim, seed=3)
    assert np.mean(s == 0) == pytest.approx(stats.f.cdf(1, K - 1, n - K), abs=se)
    for c in (0.5, 1.0, 2.7):
        fc = optimize.brentq(lambda f, c=c: rlrt_of_f(f, K, n) - c, 1 + 1e-12, 1e3)
        assert np.mean(s > c) == pytest.approx(stats.f.sf(fc, K - 1, n - K), abs=se)
    ml = rlrt_null_sample(X, codes, K, reml=False, n_sim=n_sim, seed=4)
    assert np.mean(ml == 0) == pytest.approx(stats.f.cdf(K / (K - 1), K - 1, n - K), abs=se)


def test_observed_statistic_is_the_anova_one():
    """The fitted model's REML statistic equals RLRT(F) of the one-way ANOVA."""
    df = one_way(30, 3, seed=7, sd=0.6)
    m = fit_mentor_model(df, outcome="y", group="g", intervals="conditional")
    F = anova_f(df)
    assert F > 1 and m.lrt["stat"] == pytest.approx(rlrt_of_f(F, 30, 90), rel=1e-6)
    # 3 mentees a mentor is not fewer than 3: the mixture; with 2, the simulation
    assert m.lrt["null"] == "chibar2" and m.lrt["n_sim"] == 0
    m2 = fit_mentor_model(one_way(45, 2, seed=8, sd=0.6), outcome="y", group="g")
    assert m2.lrt["null"] == "rlrt_sim" and m2.lrt["n_sim"] == 10000
    # the exact p-value: P(F_{a,b} > F_obs) of the closed form, to Monte Carlo error
    df2 = one_way(45, 2, seed=8, sd=0.6)
    F2 = anova_f(df2)
    if F2 > 1:
        assert m2.lrt["p"] == pytest.approx(stats.f.sf(F2, 44, 45), abs=0.02)
    else:
        assert m2.lrt["p"] == 1.0
    forced = fit_mentor_model(df, outcome="y", group="g", lrt="rlrt_sim", n_sim=20000)
    assert forced.lrt["null"] == "rlrt_sim"
    assert forced.lrt["p"] == pytest.approx(stats.f.sf(F, 29, 60), abs=0.015)


def test_simulated_p_is_uniform_under_the_null():
    """With no mentor variance, P(p <= 0.05) and P(p <= 0.5) match their levels."""
    ps = []
    for r in range(150):
        m = fit_mentor_model(
            one_way(40, 2, seed=100 + r),
            outcome="y",
            group="g",
            intervals="conditional",
            n_sim=2000,
        )
        ps.append(m.lrt["p"])
    ps = np.array(ps)
    assert 0.0 <= np.mean(ps <= 0.05) <= 0.12
    assert 0.37 <= np.mean(ps <= 0.5) <= 0.63  # 0.5 +- 3.7 SE of a proportion of 150


def test_rlrt_options_and_notes():
    df = one_way(20, 2, seed=9, sd=0.5)
    with pytest.raises(Exception, match="unknown lrt"):
        fit_mentor_model(df, outcome="y", group="g", lrt="bootstrap")
    chi = fit_mentor_model(df, outcome="y", group="g", lrt="chibar2")
    assert chi.lrt["null"] == "chibar2" and chi.summary_row()["lrt_null"] == "chibar2"
    # a random slope: the simulation tests one variance only, the mixture is used, said so
    df["x"] = np.random.default_rng(1).normal(size=len(df))
    sl = fit_mentor_model(
        df, outcome="y", group="g", random_slope="x", lrt="rlrt_sim", method="mixedlm"
    )
    assert sl.lrt["null"] == "chibar2"
    assert any("exact RLRT needs a random-intercept model" in n for n in sl.notes)


def test_the_rulebook_sets_the_test(middle):
    """The middle school's 1-2 mentees a mentor: the simulated test, unless the rules say so."""
    m = study_models(middle, 2024, outcomes=["composite"])["composite"]
    assert m.n_obs / m.n_groups < 3 and m.lrt["null"] == "rlrt_sim"
    assert m.lrt["n_sim"] == middle.rules.rlrt_n_sim and m.intervals == "integrated"
    P = with_rules(middle, rlrt_min_mentees=1.0, rlrt_n_sim=500)
    assert study_models(P, 2024, outcomes=["composite"])["composite"].lrt["null"] == "chibar2"
    P = with_rules(middle, rlrt_n_sim=500)
    assert study_models(P, 2024, outcomes=["composite"])["composite"].lrt["n_sim"] == 500


def test_against_rlrsim():
    """R's RLRsim 3.1.8 / lme4 1.1.31 (tests/results/make_rlrsim.R, 100,000 draws each).

    Statistics to 1e-6; p-values and null point masses within 4.5 Monte Carlo SEs of the
    difference of two simulations of 100,000 (0.0045 at p = 0.5). The case at the boundary:
    lme4's REML statistic is 1.1e-13 (rounding) and RLRsim's exactRLRT returns 0.498 for it
    (its code returns 1 only for an exact 0); ours snaps it to 0, so p = 1 as RLRsim's rule
    for 0. ML at 0: exactLRT's mean(0 < sample), 0.464 in R.
    """
    ref = json.loads((RESULTS / "rlrsim.json").read_text())
    data = pd.read_csv(RESULTS / "rlrsim_cases.csv")
    tol = 4.5 * np.sqrt(2 * 0.25 / 100000)
    for case in ("pos", "zero"):
        r, s = ref[case], data[data["case"] == case]
        kw = dict(outcome="y", group="g", pre="x", lrt="rlrt_sim", n_sim=100000)
        reml = fit_mentor_model(s, intervals="conditional", **kw)
        ml = fit_mentor_model(s, intervals="conditional", reml=False, **kw)
        assert reml.var_group == pytest.approx(r["var_mentor_reml"], rel=1e-6, abs=1e-9)
        assert ml.lrt["stat"] == pytest.approx(r["lrt_stat"], rel=1e-6, abs=1e-9)
        assert ml.lrt["p"] == pytest.approx(r["lrt_p"], abs=tol)
        assert ml.lrt["p_zero"] == pytest.approx(r["lrt_p_zero"], abs=tol)
        assert reml.lrt["p_zero"] == pytest.approx(r["rlrt_p_zero"], abs=tol)
        if r["rlrt_stat"] > 1e-8:
            assert reml.lrt["stat"] == pytest.approx(r["rlrt_stat"], rel=1e-6)
            assert reml.lrt["p"] == pytest.approx(r["rlrt_p"], abs=tol)
        else:  # R's rounding-size statistic: 0 here, p = 1
            assert reml.lrt["stat"] == 0 and reml.lrt["p"] == 1.0
            assert r["rlrt_p"] == pytest.approx(0.5, abs=0.01)  # what R printed for it
