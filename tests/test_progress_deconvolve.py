"""Deconvolution fallback (issue 14 item 1): known answers from closed forms and exact counts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.stats import norm

from mentorlib.errors import InputError
from mentorlib.progress.deconvolve import (
    change_error_se,
    changes_for_deconvolution,
    deconvolved_true_share,
)
from mentorlib.progress.deconvolve_joint import copula_share, true_correlation


def _table(d: np.ndarray, se, dim: str = "d1") -> pd.DataFrame:
    n = len(d)
    return pd.DataFrame(
        {"student_id": [f"s{i}" for i in range(n)], "dimension": dim, "change": d, "se": se}
    )


def test_normal_truth_gives_closed_form_share_over_seeds():
    # closed form 1 - Phi((0.5 - 0.3) / 0.6) = 0.3694; measured g-model errors over seeds 0-7:
    # -0.8 to +1.2 points (the NPMLE's: -5.8 to +3.5)
    n, mu, tau, delta = 20_000, 0.3, 0.6, 0.5
    truth = 1 - norm.cdf((delta - mu) / tau)
    for seed in (11, 0, 1, 5):
        rng = np.random.default_rng(seed)
        d = rng.normal(mu, tau, n) + rng.normal(0.0, 0.5, n)
        r = deconvolved_true_share(_table(d, 0.5), delta=delta, n_boot=0)
        assert abs(r.estimate - truth) < 0.015, seed
        assert r.method == "gmodel_deconvolution" and r.k == 1 and r.delta == delta
        assert bool(r.dimensions["converged"].iloc[0])
        assert r.dimensions["df"].iloc[0] in (5, 6, 7, 8)  # chosen by AIC
    fixed = deconvolved_true_share(_table(d, 0.5), delta=delta, n_boot=0, df=6)
    assert fixed.dimensions["df"].iloc[0] == 6 and abs(fixed.estimate - truth) < 0.015


def test_npmle_option_within_its_measured_error():
    truth = 1 - norm.cdf((0.5 - 0.3) / 0.6)  # closed form: 0.3694
    for seed in (0, 1):
        rng = np.random.default_rng(seed)
        d = rng.normal(0.3, 0.6, 20_000) + rng.normal(0.0, 0.5, 20_000)
        r = deconvolved_true_share(_table(d, 0.5), delta=0.5, n_boot=0, method="npmle")
        assert r.method == "npmle_deconvolution"
        assert abs(r.estimate - truth) < 0.06  # measured worst case over 8 seeds: 5.8 points


def test_two_point_truth_recovered_where_normal_shortcut_fails():
    # 60% at 0, 40% truly improved by 1.2: the smooth g-model spreads the two masses across
    # delta, a smoothing bias (fixed df 6: -1.3 to +2.1 points over 6 seeds; about +1 point
    # with df by AIC at 500-2,000 students, benchmarks/bench_deconvolve.py); allowed 2.5 here
    n, delta = 20_000, 0.5
    for seed in (12, 2, 4):
        rng = np.random.default_rng(seed)
        t = np.where(rng.random(n) < 0.6, 0.0, 1.2)
        d = t + rng.normal(0.0, 0.5, n)
        r = deconvolved_true_share(_table(d, 0.5), delta=delta, n_boot=0)
        assert abs(r.estimate - 0.4) < 0.025, seed
        shortcut = 1 - norm.cdf((delta - d.mean()) / np.sqrt(d.var() - 0.25))
        assert abs(shortcut - 0.4) > 0.05  # a normal assumption would be wrong here


@pytest.mark.parametrize("method", ["gmodel", "npmle"])
def test_zero_error_equals_empirical_share_one_and_several_dimensions(method):
    rng = np.random.default_rng(13)
    n, delta = 300, 0.5
    a, b = rng.normal(0.4, 1.0, n), rng.normal(0.2, 1.0, n)
    both = pd.concat([_table(a, 0.0, "d1"), _table(b, 0.0, "d2")])
    one = deconvolved_true_share(_table(a, 0.0), delta=delta, n_boot=0, method=method)
    assert one.estimate == pytest.approx(np.mean(a > delta), abs=1e-9)
    # several dimensions: the copula's share, from the exact marginal shares and the sample
    # correlation, is the population's; it differs from these 300 students' empirical share
    # by the sampling error of their dependence (a and b independent here: |corr| ~ 0.06)
    for k, emp in (
        (1, np.mean((a > delta) | (b > delta))),
        (2, np.mean((a > delta) & (b > delta))),
    ):
        r = deconvolved_true_share(both, delta=delta, k=k, n_boot=0, method=method)
        assert r.estimate == pytest.approx(emp, abs=2.5 * np.sqrt(emp * (1 - emp) / n))
    shares = r.dimensions.set_index("dimension")["share"]
    assert shares["d1"] == pytest.approx(np.mean(a > delta), abs=1e-9)
    assert shares["d2"] == pytest.approx(np.mean(b > delta), abs=1e-9)


def test_bootstrap_interval_seeded_and_brackets_estimate():
    rng = np.random.default_rng(14)
    n = 500
    d = rng.normal(0.3, 0.6, n) + rng.normal(0.0, 0.5, n)
    tab = _table(d, 0.5)
    r1 = deconvolved_true_share(tab, delta=0.5, n_boot=20, seed=3)
    r2 = deconvolved_true_share(tab, delta=0.5, n_boot=20, seed=3)
    assert r1.ci_low == r2.ci_low and r1.ci_high == r2.ci_high
    assert 0 <= r1.ci_low <= r1.estimate <= r1.ci_high <= 1
    js = r1.to_json_dict()
    assert {"estimate", "ci_low", "ci_high", "delta", "k", "method"} <= set(js)


def test_bootstrap_width_matches_binomial_closed_form_at_zero_error():
    # with no error the estimate is the sample proportion, so the percentile interval's
    # width is about 2 * 1.96 * sqrt(p (1 - p) / n); measurement error can only widen it
    # (df fixed: the bootstrap machinery is under test, not the AIC choice, and it is faster)
    rng = np.random.default_rng(15)
    n, delta = 800, 0.5
    t = rng.normal(0.3, 0.6, n)
    r0 = deconvolved_true_share(_table(t, 0.0), delta=delta, n_boot=200, seed=1, df=6)
    p = np.mean(t > delta)
    closed = 2 * 1.96 * np.sqrt(p * (1 - p) / n)
    assert r0.ci_high - r0.ci_low == pytest.approx(closed, rel=0.15)
    d = t + rng.normal(0.0, 0.5, n)
    r1 = deconvolved_true_share(_table(d, 0.5), delta=delta, n_boot=200, seed=1, df=6)
    assert r1.ci_high - r1.ci_low > 1.1 * closed
    assert r1.ci_low <= r1.estimate <= r1.ci_high


def test_missing_rows_dropped_and_counted_and_bad_input_rejected():
    tab = _table(np.array([0.1, 0.9, np.nan, 1.5]), 0.0)
    r = deconvolved_true_share(tab, delta=0.5, n_boot=0)
    assert r.n_dropped == 1 and r.estimate == pytest.approx(2 / 3)
    with pytest.raises(InputError, match="twice"):
        deconvolved_true_share(pd.concat([tab, tab]), n_boot=0)
    with pytest.raises(InputError, match="se"):
        deconvolved_true_share(tab.assign(se=-1.0), n_boot=0)
    with pytest.raises(InputError, match="k must"):
        deconvolved_true_share(tab, k=2, n_boot=0)
    with pytest.raises(InputError, match="method must"):
        deconvolved_true_share(tab, n_boot=0, method="kde")


def test_helpers():
    # CTT: error var of a score SD^2 (1 - r); of a change the sum: sqrt(25*0.2 + 16*0.1)
    assert float(change_error_se(5.0, 0.8, 4.0, 0.9)) == pytest.approx(np.sqrt(6.6))
    # three independent dimensions at 50%: at least 2 of 3 is 1/2 (the copula at R = I)
    assert copula_share(np.full(3, 0.5), np.eye(3), 2) == pytest.approx(0.5, abs=0.004)
    ch = pd.DataFrame(
        {
            "student_id": ["a", "b"],
            "dimension": "d1",
            "change": [2.0, 2.0],
            "sd_pre": 4.0,
            "reliability": 0.64,
            "direction": ["up", "down"],
        }
    )
    out = changes_for_deconvolution(ch)
    assert out["change"].tolist() == pytest.approx([2.0 / 3.2, -2.0 / 3.2])  # true SD 4*0.8
    assert out["se"].iloc[0] == pytest.approx(np.sqrt(2 * 0.36 / 0.64))


def _mvn_at_least_k(mu, sd, corr, delta, k, d):
    """P(at least k of d equicorrelated normal true changes exceed delta), closed form for
    k = 1 and d (the multivariate normal CDF) and by a huge simulation otherwise."""
    r = corr * np.ones((d, d)) + (1 - corr) * np.eye(d)
    c = np.full(d, (delta - mu) / sd)
    if k == 1:
        return 1.0 - stats.multivariate_normal(np.zeros(d), r).cdf(c)
    if k == d:
        return stats.multivariate_normal(np.zeros(d), r).cdf(-c)
    z = np.random.default_rng(99).multivariate_normal(np.zeros(d), r, 1_000_000)
    return float(np.mean((z > c).sum(axis=1) >= k))


@pytest.mark.parametrize("k", [1, 2, 4])
def test_at_least_k_dimensions_with_correlated_true_changes(k):
    """Four dimensions, true changes N(0.3, 0.6^2) correlated 0.6, errors SD 0.5 (as large
    as a change score's): the share in at least k dimensions is the multivariate normal's.
    Combined as if independent (the fallback before) "at least 1" came out near 0.78 for a
    truth of 0.64."""
    n, d, mu, sd, corr, delta = 6000, 4, 0.3, 0.6, 0.6, 0.5
    rng = np.random.default_rng(7)
    r = corr * np.ones((d, d)) + (1 - corr) * np.eye(d)
    t = mu + sd * rng.multivariate_normal(np.zeros(d), r, n)
    x = t + rng.normal(0, 0.5, t.shape)
    tab = pd.DataFrame(
        {
            "student_id": np.repeat(np.arange(n), d).astype(str),
            "dimension": np.tile([f"d{j}" for j in range(d)], n),
            "change": x.ravel(),
            "se": 0.5,
        }
    )
    truth = _mvn_at_least_k(mu, sd, corr, delta, k, d)
    res = deconvolved_true_share(tab, delta=delta, k=k, n_boot=0)
    assert res.estimate == pytest.approx(truth, abs=0.02)
    one = stats.norm.sf((delta - mu) / sd)
    independent = stats.binom.sf(k - 1, d, one)
    if k != 2:  # "at least 1 of 4" and "all 4": the correlation matters most
        assert abs(independent - truth) > 0.05


def test_true_correlation_corrects_for_the_errors_and_stays_positive_definite():
    rng = np.random.default_rng(3)
    t = rng.multivariate_normal([0, 0, 0], [[1, 0.5, 0.5], [0.5, 1, 0.5], [0.5, 0.5, 1]], 40_000)
    x = t + rng.normal(0, 1.0, t.shape)
    x[rng.random(x.shape) < 0.1] = np.nan  # a tenth of the answers missing at random
    r = true_correlation(x, np.ones_like(x))
    assert r[np.triu_indices(3, 1)] == pytest.approx(np.full(3, 0.5), abs=0.03)
    # errors larger than the data say (true variance < 0): no correlation, still a correlation
    bad = true_correlation(x, np.full_like(x, 5.0))
    assert np.allclose(bad, np.eye(3))
    # an inconsistent matrix (pairwise corrections beyond +-1) is made positive definite
    y = rng.multivariate_normal(
        [0, 0, 0], [[1, 0.9, -0.9], [0.9, 1, 0.9], [-0.9, 0.9, 1]], 200, check_valid="ignore"
    )
    rr = true_correlation(y, np.full_like(y, 0.3))
    assert np.linalg.eigvalsh(rr).min() > 0 and np.allclose(np.diag(rr), 1)
