"""District analysis against known answers: the funnel's limits against the binomial
distribution written out by hand (math.comb), and the school-effects model on a simulated
district (numpy, students in mentors in schools) with known school effects: the school SD is
recovered, effects shrink toward the mean (more for small schools), and the ranking
probabilities find the truly best and worst schools and say when they cannot."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mentorlib.district.analysis import funnel_limits, funnel_table, school_rates
from mentorlib.district.multilevel import fit_school_effects, school_rank_probabilities
from mentorlib.errors import InputError

pytestmark = pytest.mark.xdist_group("district")

SD_SCHOOL, SD_MENTOR, BASE = 0.08, 0.04, 0.45


def _cdf(r: int, n: int, p: float) -> float:
    return sum(math.comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(r + 1)) if r >= 0 else 0.0


def _limit_by_hand(n: int, p0: float, q: float) -> float:
    r = next(r for r in range(n + 1) if _cdf(r, n, p0) >= q)  # the q quantile
    a = (_cdf(r, n, p0) - q) / (_cdf(r, n, p0) - _cdf(r - 1, n, p0))
    return (r - a) / n


@pytest.mark.parametrize(("n", "p0"), [(20, 0.5), (57, 0.3), (250, 0.62)])
@pytest.mark.parametrize("coverage", [0.95, 0.998])
def test_funnel_limits_are_the_binomial_quantiles(n, p0, coverage):
    lo, hi = funnel_limits([n], p0, coverage)
    assert lo[0] == pytest.approx(_limit_by_hand(n, p0, (1 - coverage) / 2), abs=1e-9)
    assert hi[0] == pytest.approx(_limit_by_hand(n, p0, (1 + coverage) / 2), abs=1e-9)


def test_funnel_limits_approach_the_normal_and_narrow_with_size():
    from scipy.stats import norm

    n = np.array([100, 1000, 20000])
    lo, hi = funnel_limits(n, 0.4, 0.998)
    half = norm.ppf(0.999) * np.sqrt(0.4 * 0.6 / n)
    assert np.all(np.abs(hi - 0.4 - half) <= 2 / n + 0.01 * half)
    assert np.all(np.diff(hi - lo) < 0)


def test_funnel_positions():
    rates = pd.DataFrame({"school_id": ["a", "b", "c"], "n": [400, 400, 400]})
    rates["successes"] = [200, 290, 200]  # b far above the district rate, a and c alike
    rates["rate"] = rates["successes"] / rates["n"]
    t, p0 = funnel_table(rates)
    assert p0 == pytest.approx(690 / 1200)
    pos = t.set_index("school_id")["position"]
    assert pos["b"] == "above" and pos["a"] in ("below_warning", "below")


def simulate(seed: int, n_schools: int = 60, sd_school: float = SD_SCHOOL):
    """Students in mentors (about 12 each) in schools of 60-1,500, improved with probability
    BASE + school effect + mentor effect (a linear probability model, the fitted one)."""
    rng = np.random.default_rng(seed)
    u = rng.normal(0, sd_school, n_schools)
    sizes = np.exp(rng.uniform(np.log(60), np.log(1500), n_schools)).astype(int)
    rows = []
    for s, n in enumerate(sizes):
        m = max(1, n // 12)
        mentor = rng.integers(0, m, n)
        p = np.clip(BASE + u[s] + rng.normal(0, SD_MENTOR, m)[mentor], 0.01, 0.99)
        rows.append(
            pd.DataFrame(
                {"school_id": f"s{s:02d}", "mentor_id": mentor, "improved": rng.random(n) < p}
            )
        )
    df = pd.concat(rows, ignore_index=True)
    df["improved"] = df["improved"].astype(float)
    return df, pd.Series(u, index=[f"s{s:02d}" for s in range(n_schools)])


@pytest.fixture(scope="module")
def fitted():
    df, u = simulate(7)
    fit = fit_school_effects(df)
    return df, u, fit, school_rank_probabilities(fit, n_sims=3000, seed=1)


def test_school_sd_recovered(fitted):
    _, u, fit, _ = fitted
    # the SD of 60 draws is itself uncertain (about 9%); the estimate is within 25% of truth
    assert fit.sd_school == pytest.approx(SD_SCHOOL, rel=0.25)
    assert fit.sd_mentor == pytest.approx(SD_MENTOR, rel=0.5)
    assert fit.mean == pytest.approx(BASE + u.mean(), abs=0.02)
    eff = fit.effects.set_index("school_id")
    assert np.corrcoef(eff["effect"], u.reindex(eff.index))[0, 1] > 0.9


def test_effects_shrink_toward_the_mean_more_for_small_schools(fitted):
    _, u, fit, _ = fitted
    e = fit.effects
    assert ((e["shrinkage"] > 0) & (e["shrinkage"] < 1)).all()
    assert (e["effect"].abs() <= e["raw"].abs() + 0.005).all()  # pooled toward the mean
    assert np.corrcoef(e["n"], e["shrinkage"])[0, 1] > 0.5
    # shrinkage pays: the BLUPs are closer to the truth than the raw rates
    truth = u.reindex(e["school_id"]).to_numpy() - u.mean()
    assert np.mean((e["effect"] - truth) ** 2) < np.mean((e["raw"] - truth) ** 2)
    # intervals cover the true effects at about their level
    cover = ((e["ci_low"] <= truth) & (truth <= e["ci_high"])).mean()
    assert cover >= 0.85


def test_rank_probabilities_find_the_extremes_and_admit_noise(fitted):
    _, u, _, r = fitted
    k = math.ceil(0.25 * len(r))
    assert r["p_top"].sum() == pytest.approx(k) and r["p_bottom"].sum() == pytest.approx(k)
    truth = u.reindex(r["school_id"]).to_numpy()
    top = truth >= np.sort(truth)[-k]
    assert r.loc[top, "p_top"].mean() > 0.6 > r.loc[~top, "p_top"].mean()
    assert r.loc[np.argmax(truth), "p_top"] > 0.8
    # with no school effect at all, no school is surely in the top quarter
    df0, _ = simulate(8, n_schools=30, sd_school=0.0)
    r0 = school_rank_probabilities(fit_school_effects(df0), n_sims=2000, seed=1)
    assert r0["p_top"].max() < 0.9


@pytest.mark.parametrize("n_schools, districts", [(3, 60), (20, 30)])
def test_integrated_intervals_cover_where_conditional_ones_did_not(n_schools, districts):
    """With few schools the school SD is barely estimated: intervals given its estimate
    under-cover (67% with 3 schools in benchmarks/validate_district_effects.py), averaged over
    it they hold their level. The target: each school's deviation from the district's own
    mean (the summary's "rate minus the district mean")."""
    cover = {"integrated": [], "given": []}
    sure, width = [], []
    for seed in range(districts):
        df, u = simulate(100 + seed, n_schools=n_schools)
        e = fit_school_effects(df).effects
        truth = u.reindex(e["school_id"]).to_numpy()
        truth = truth - truth.mean()
        cover["integrated"] += list((e["ci_low"] <= truth) & (truth <= e["ci_high"]))
        width += list(e["ci_high"] - e["ci_low"])
        c = fit_school_effects(df, intervals="conditional").effects
        cover["given"] += list((c["ci_low"] <= truth) & (truth <= c["ci_high"]))
        r = school_rank_probabilities(fit_school_effects(df), n_sims=1000, seed=seed)
        top = truth >= np.sort(truth)[-math.ceil(0.25 * n_schools)]
        sure += list(top[(r["p_top"] > 0.9).to_numpy()])
    assert 0.93 <= np.mean(cover["integrated"]) <= 0.99
    # 3 schools: the estimate's uncertainty matters; 20 schools with a school SD of 8 points:
    # the two agree
    gap = 0.02 if n_schools < 5 else -0.005
    assert np.mean(cover["given"]) < np.mean(cover["integrated"]) - gap
    # bounded: 3 schools of a few hundred students give intervals of a few points, not the
    # +-280 points an unbounded grid of the school SD gave
    assert max(width) < 0.6
    # "surely in the top quarter" (p > 0.9) is wrong for at most about 1 school in 10
    assert len(sure) > 10 and np.mean(sure) >= 0.85


def test_integrated_and_conditional_agree_when_the_school_sd_is_well_determined(fitted):
    df, _, fit, r = fitted
    c = fit_school_effects(df, intervals="conditional").effects
    assert np.abs(fit.effects["effect"] - c["effect"]).max() < 0.1 * fit.sd_school
    assert np.allclose(fit.effects["se"], c["se"], rtol=0.15)
    assert np.allclose(r["se"], fit.effects["se"])
    with pytest.raises(InputError, match="unknown intervals"):
        fit_school_effects(df, intervals="bayes")


def test_school_effects_need_two_schools():
    df = pd.DataFrame({"school_id": ["a"] * 5, "mentor_id": 1, "improved": 1.0})
    with pytest.raises(InputError, match="two schools"):
        fit_school_effects(df)


def test_school_rates_count_evaluable_students_only():
    df = pd.DataFrame({"school_id": ["a"] * 4 + ["b"] * 2, "improved": [1, 0, np.nan, 1, 0, 0]})
    t = school_rates(df).set_index("school_id")
    assert t.loc["a", "n"] == 3 and t.loc["a", "successes"] == 2 and t.loc["b", "rate"] == 0


def test_analyse_district_refuses_a_folder_that_is_no_district_output(tmp_path):
    from mentorlib.district.report import analyse_district

    with pytest.raises(InputError, match="district.json"):
        analyse_district(tmp_path)
