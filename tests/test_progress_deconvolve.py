"""Deconvolution fallback (issue 14 item 1): known answers from closed forms and exact counts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from mentorlib.errors import InputError
from mentorlib.progress.deconvolve import (
    at_least_k,
    change_error_se,
    changes_for_deconvolution,
    deconvolved_true_share,
)


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
    for k, emp in (
        (1, np.mean((a > delta) | (b > delta))),
        (2, np.mean((a > delta) & (b > delta))),
    ):
        r = deconvolved_true_share(both, delta=delta, k=k, n_boot=0, method=method)
        assert r.estimate == pytest.approx(emp, abs=1e-9)
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
    assert at_least_k(np.array([[0.5, 0.5, 0.5]]), 2)[0] == pytest.approx(0.5)
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
