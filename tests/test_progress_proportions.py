"""Proportions (mentorlib.progress.proportions): published tables and other packages."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from mentorlib import progress
from mentorlib.errors import InputError


@pytest.mark.parametrize(
    ("x", "n", "wilson", "cp"),
    [
        # Newcombe (1998a), Statistics in Medicine 17:857-872, Table I (methods 3 and 5)
        (81, 263, (0.2553, 0.3662), (0.2527, 0.3676)),
        (15, 148, (0.0624, 0.1605), (0.0578, 0.1617)),
        (0, 20, (0.0, 0.1611), (0.0, 0.1684)),
    ],
)
def test_intervals_newcombe_table_1(x, n, wilson, cp):
    w = progress.proportion_ci(x, n, method="wilson")
    c = progress.proportion_ci(x, n, method="clopper-pearson")
    assert (round(w.loc[0, "ci_low"], 4), round(w.loc[0, "ci_high"], 4)) == wilson
    assert (round(c.loc[0, "ci_low"], 4), round(c.loc[0, "ci_high"], 4)) == cp


def test_proportion_ci_vectorised():
    t = progress.proportion_ci([81, 15], [263, 148])
    assert t["ci_low"].round(4).tolist() == [0.2553, 0.0624]
    with pytest.raises(InputError):
        progress.proportion_ci(5, 4)
    with pytest.raises(InputError, match="method"):
        progress.proportion_ci(5, 10, method="wald")


def test_exact_binomial_p_value():
    # P(X >= 90 | n = 100, p = 0.85), e.g. R: binom.test(90, 100, 0.85, "greater")$p.value
    t = progress.proportion_test(90, 100, target=0.85)
    assert t.loc[0, "exact_p_value"] == pytest.approx(0.0994474, abs=1e-7)
    # Wilson's p is the one-sided score test's (what prop.test(90, 100, 0.85, "greater",
    # correct = FALSE) computes): 1 - pnorm(0.05 / sqrt(0.85 * 0.15 / 100)) = 0.0807147
    assert t.loc[0, "p_value"] == pytest.approx(stats.norm.sf(0.05 / np.sqrt(0.1275 / 100)))
    assert t.loc[0, "p_value"] == pytest.approx(0.0807147, abs=1e-7)
    cp = progress.proportion_test(90, 100, method="clopper-pearson")
    assert cp.loc[0, "p_value"] == cp.loc[0, "exact_p_value"]
    assert t.loc[0, "proportion"] == 0.9
    assert t.loc[0, "verdict"] == "met by point estimate only"
    assert t.loc[0, "lower_bound"] < 0.85 < t.loc[0, "proportion"]


def test_verdicts():
    assert progress.proportion_test(95, 100).loc[0, "verdict"] == "met"
    assert progress.proportion_test(85, 100).loc[0, "verdict"] == "met by point estimate only"
    assert progress.proportion_test(84, 100).loc[0, "verdict"] == "not met"
    # one-sided Wilson lower bound uses z_.95 = 1.644854: 95/100 -> 0.9006 by the formula
    z = stats.norm.isf(0.05)
    lb = (95 + z * z / 2 - z * np.sqrt(95 * 5 / 100 + z * z / 4)) / (100 + z * z)
    assert progress.proportion_test(95, 100).loc[0, "lower_bound"] == pytest.approx(lb)


def test_clopper_pearson_bound_is_dual_to_exact_test():
    # The one-sided CP lower bound exceeds p0 exactly when the exact test rejects at alpha
    for x in range(160, 201):
        t = progress.proportion_test(x, 200, method="clopper-pearson")
        assert (t.loc[0, "lower_bound"] > 0.85) == (t.loc[0, "p_value"] < 0.05), x
    # closed form for x = n: lower bound alpha^(1/n) = 0.05^(1/20) = 0.860891
    t = progress.proportion_test(20, 20, method="clopper-pearson")
    assert t.loc[0, "lower_bound"] == pytest.approx(0.05 ** (1 / 20))
    assert t.loc[0, "verdict"] == "met"


def test_wilson_bound_is_dual_to_score_test():
    # issue 14: at 91/100 the Wilson bound said "met" beside an exact p of 0.055. Now the
    # p-value comes from the test the bound inverts, over a grid of counts, sizes and levels
    for n in (20, 100, 1117):
        for x in range(int(0.75 * n), n + 1):
            for a in (0.01, 0.05, 0.1):
                t = progress.proportion_test(x, n, alpha=a)
                assert (t.loc[0, "lower_bound"] > 0.85) == (t.loc[0, "p_value"] < a), (x, n, a)
    t = progress.proportion_test(91, 100)
    assert t.loc[0, "verdict"] == "met" and t.loc[0, "p_value"] < 0.05
    assert t.loc[0, "exact_p_value"] == pytest.approx(0.0550, abs=5e-4)  # kept, secondary


def test_proportion_test_bad_input():
    with pytest.raises(InputError):
        progress.proportion_test(0, 0)
    with pytest.raises(InputError, match="target"):
        progress.proportion_test(5, 10, target=85)


def test_newcombe_difference_table_2():
    # Newcombe (1998b), Statistics in Medicine 17:873-890, Table II, example (a) 56/70 - 48/80,
    # method 10 (score interval, hybrid): +0.0524 to +0.3339
    t = progress.rate_difference(56, 70, 48, 80)
    assert t.loc[0, "difference"] == pytest.approx(0.2)
    assert round(t.loc[0, "ci_low"], 4) == 0.0524
    assert round(t.loc[0, "ci_high"], 4) == 0.3339


def test_mean_difference_matches_scipy_welch():
    rng = np.random.default_rng(5)
    a, b = rng.normal(0.3, 1, 40), rng.normal(0, 2, 25)
    t = progress.mean_difference(a, b)
    ref = stats.ttest_ind(a, b, equal_var=False)  # another package: scipy's Welch test
    ci = ref.confidence_interval(0.95)
    assert t.loc[0, "p_value"] == pytest.approx(ref.pvalue)
    assert (t.loc[0, "ci_low"], t.loc[0, "ci_high"]) == pytest.approx((ci.low, ci.high))
    assert t.loc[0, "df"] == pytest.approx(ref.df)


def test_trend_test_matches_statsmodels():
    from statsmodels.stats.contingency_tables import Table

    x, n = np.array([10, 15, 25]), np.array([50, 50, 50])
    t = progress.trend_test(x, n)
    ref = Table(np.c_[x, n - x]).test_ordinal_association(
        row_scores=np.arange(3.0), col_scores=np.array([1.0, 0.0])
    )
    # statsmodels uses the conditional (hypergeometric) variance, which is (N-1)/N times
    # the Cochran-Armitage one: z_CA = z_sm * sqrt(N / (N - 1))
    assert t.loc[0, "z"] == pytest.approx(ref.zscore * np.sqrt(150 / 149))
    assert t.loc[0, "slope"] == pytest.approx(0.15)  # (0.5 - 0.2) / 2 for equal n
