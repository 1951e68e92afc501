"""Proportions and their intervals: the share of students progressing against its target.

proportion_ci
    Wilson (1927) or Clopper-Pearson (1934) intervals of one or more proportions.
proportion_test
    Interval, one-sided lower bound, exact binomial test and the verdict on a target share.
rate_difference
    Newcombe (1998b, method 10) interval for a difference of two proportions.
mean_difference
    Welch's interval for a difference of two means.
trend_test
    Cochran-Armitage test for a linear trend in proportions across years.

The defaults (``method="wilson"``, ``alpha=0.05``, ``target=0.85``) are the published
conventions and the programme's stated target; the study-level path
(:func:`mentorlib.progress.progress_report`) always passes the study's rulebook values.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import InputError
from ._common import as_float, check_counts

__all__ = [
    "clopper_pearson_limits",
    "limits",
    "mean_difference",
    "proportion_ci",
    "proportion_test",
    "rate_difference",
    "target_verdict",
    "trend_test",
    "wilson_limits",
]


def wilson_limits(x, n, z):
    """Wilson (1927) score limits of x successes in n at critical value z (vectorised)."""
    c = (x + z * z / 2) / (n + z * z)
    h = z / (n + z * z) * np.sqrt(x * (n - x) / n + z * z / 4)
    return np.clip(c - h, 0, 1), np.clip(c + h, 0, 1)


def clopper_pearson_limits(x, n, a_low, a_high):
    """Clopper-Pearson (1934) limits at lower tail a_low and upper tail a_high (beta quantiles)."""
    with np.errstate(invalid="ignore"):
        lo = np.where(x > 0, stats.beta.ppf(a_low, x, n - x + 1), 0.0)
        hi = np.where(x < n, stats.beta.ppf(1 - a_high, x + 1, n - x), 1.0)
    return lo, hi


def limits(x, n, method: str, alpha: float, sided: bool = False):
    """Two-sided (or, ``sided=True``, one-sided) limits by ``method`` at error rate ``alpha``."""
    if not 0 < alpha < 1:
        raise InputError(f"alpha must be in (0, 1), got {alpha}")
    tail = alpha if sided else alpha / 2
    if method == "wilson":
        return wilson_limits(x, n, stats.norm.isf(tail))
    if method in ("clopper-pearson", "exact"):
        return clopper_pearson_limits(x, n, tail, tail)
    raise InputError(f"method must be 'wilson' or 'clopper-pearson', got {method!r}")


def proportion_ci(successes, n, *, method: str = "wilson", alpha: float = 0.05) -> pd.DataFrame:
    """Confidence interval of one or more proportions.

    Parameters
    ----------
    successes, n : int or array-like of int
        Counts (vectorised).
    method : {"wilson", "clopper-pearson"}
        Wilson (1927) score interval (default) or the Clopper-Pearson (1934) exact interval.
    alpha : float, default 0.05
        Two-sided error rate.

    Returns
    -------
    DataFrame
        ``successes, n, proportion, ci_low, ci_high``.

    Notes
    -----
    Wilson: :math:`\\frac{x + z^2/2}{n + z^2} \\pm \\frac{z}{n + z^2}
    \\sqrt{\\frac{x(n-x)}{n} + \\frac{z^2}{4}}`. Clopper-Pearson: the
    :math:`\\alpha/2` and :math:`1 - \\alpha/2` quantiles of Beta(x, n-x+1) and
    Beta(x+1, n-x). Newcombe (1998a) compares seven methods and recommends Wilson; its
    Table I gives the reference values this module is tested against.

    Newcombe, R. G. (1998a). Two-sided confidence intervals for the single proportion:
    comparison of seven methods. *Statistics in Medicine*, 17, 857-872.
    """
    x, m = check_counts(successes, n)
    lo, hi = limits(x, m, method, alpha)
    return pd.DataFrame(
        {
            "successes": np.atleast_1d(x).astype(np.int64),
            "n": np.atleast_1d(m).astype(np.int64),
            "proportion": np.atleast_1d(x / m),
            "ci_low": np.atleast_1d(lo),
            "ci_high": np.atleast_1d(hi),
        }
    )


def target_verdict(proportion: float, lower: float, target: float) -> str:
    """ "met" (lower bound above the target), "met by point estimate only" or "not met"."""
    if lower > target:
        return "met"
    if proportion >= target:
        return "met by point estimate only"
    return "not met"


def proportion_test(
    successes: int,
    n: int,
    *,
    target: float = 0.85,
    method: str = "wilson",
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Is a proportion above a target? Interval, one-sided exact test, and a verdict.

    Parameters
    ----------
    successes, n : int
        Students progressing, and the denominator.
    target : float, default 0.85
        The target share.
    method : {"wilson", "clopper-pearson"}
        Interval method for ``ci_low, ci_high`` and ``lower_bound``.
    alpha : float, default 0.05
        Error rate: a two-sided :math:`1-\\alpha` interval, a one-sided :math:`1-\\alpha`
        lower bound, and the test's level.

    Returns
    -------
    DataFrame
        One row: ``successes, n, proportion, ci_low, ci_high`` (two-sided),
        ``lower_bound`` (one-sided), ``p_value`` (H1: p > target, from the same method as
        the bound: the one-sided score test for Wilson, the exact binomial test for
        Clopper-Pearson), ``exact_p_value`` (the exact binomial test, whatever the method),
        ``target``, ``method``, ``verdict``: "met" (lower bound above the target), "met by
        point estimate only" (proportion >= target, lower bound not above it) or "not met".

    Notes
    -----
    The exact p-value is :math:`P(X \\ge x \\mid X \\sim \\text{Bin}(n, p_0))`; the score
    p-value is :math:`1 - \\Phi((\\hat p - p_0) / \\sqrt{p_0 (1 - p_0) / n})`. The one-sided
    Wilson lower bound (:math:`z_{1-\\alpha}`) inverts the score test, the Clopper-Pearson one
    (the :math:`\\alpha` quantile of Beta(x, n-x+1)) the exact test, so with either method
    ``p_value < alpha`` exactly when the bound is above the target. (Until issue 14 the
    Wilson bound was printed with the exact p: at 91/100 the bound said "met" with p =
    0.055.)

    Examples
    --------
    >>> t = proportion_test(90, 100)
    >>> round(float(t["p_value"].iloc[0]), 4), round(float(t["exact_p_value"].iloc[0]), 7)
    (0.0807, 0.0994474)
    """
    x, m = check_counts(successes, n)
    if x.ndim or m.ndim:
        raise InputError("proportion_test takes one count; use proportion_ci for many")
    if not 0 < target < 1:
        raise InputError(f"target must be in (0, 1), got {target}")
    lo, hi = limits(x, m, method, alpha)
    lower = limits(x, m, method, alpha, sided=True)[0]
    exact = float(stats.binom.sf(x - 1, m, target))
    prop = float(x / m)
    if method == "wilson":
        p = float(stats.norm.sf((prop - target) / math.sqrt(target * (1 - target) / m)))
    else:
        p = exact
    return pd.DataFrame(
        {
            "successes": [int(x)],
            "n": [int(m)],
            "proportion": [prop],
            "ci_low": [float(lo)],
            "ci_high": [float(hi)],
            "lower_bound": [float(lower)],
            "p_value": [p],
            "exact_p_value": [exact],
            "target": [target],
            "method": [method],
            "verdict": [target_verdict(prop, float(lower), target)],
        }
    )


def rate_difference(x1: int, n1: int, x2: int, n2: int, *, alpha: float = 0.05) -> pd.DataFrame:
    """Difference of two independent proportions with Newcombe's hybrid score interval.

    Parameters
    ----------
    x1, n1 : int
        Successes and size of group 1 (e.g. mentees).
    x2, n2 : int
        Successes and size of group 2 (e.g. non-mentees).
    alpha : float, default 0.05
        Two-sided error rate.

    Returns
    -------
    DataFrame
        One row: ``x1, n1, p1, x2, n2, p2, difference`` (p1 - p2), ``ci_low, ci_high``.

    Notes
    -----
    Newcombe (1998b), method 10: with Wilson limits :math:`(l_i, u_i)` of each proportion,

    .. math::

        L = \\hat d - \\sqrt{(\\hat p_1 - l_1)^2 + (u_2 - \\hat p_2)^2},\\quad
        U = \\hat d + \\sqrt{(u_1 - \\hat p_1)^2 + (\\hat p_2 - l_2)^2}.

    Newcombe, R. G. (1998b). Interval estimation for the difference between independent
    proportions: comparison of eleven methods. *Statistics in Medicine*, 17, 873-890.
    """
    (a1, m1), (a2, m2) = check_counts(x1, n1), check_counts(x2, n2)
    z = stats.norm.isf(alpha / 2)
    l1, u1 = wilson_limits(a1, m1, z)
    l2, u2 = wilson_limits(a2, m2, z)
    p1, p2 = a1 / m1, a2 / m2
    d = p1 - p2
    lo = d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    hi = d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return pd.DataFrame(
        {
            "x1": [int(a1)],
            "n1": [int(m1)],
            "p1": [float(p1)],
            "x2": [int(a2)],
            "n2": [int(m2)],
            "p2": [float(p2)],
            "difference": [float(d)],
            "ci_low": [float(lo)],
            "ci_high": [float(hi)],
        }
    )


def mean_difference(a, b, *, alpha: float = 0.05) -> pd.DataFrame:
    """Difference of two means with Welch's interval (unequal variances).

    Parameters
    ----------
    a, b : array-like
        The two samples (NaN dropped), e.g. score changes of mentees and non-mentees.
    alpha : float, default 0.05
        Two-sided error rate.

    Returns
    -------
    DataFrame
        One row: ``n1, n2, mean1, mean2, difference`` (mean1 - mean2), ``se, df, ci_low,
        ci_high, p_value`` (two-sided).

    Notes
    -----
    :math:`SE = \\sqrt{s_1^2/n_1 + s_2^2/n_2}` with the Welch-Satterthwaite degrees of
    freedom :math:`\\nu = SE^4 / [(s_1^2/n_1)^2/(n_1-1) + (s_2^2/n_2)^2/(n_2-1)]`
    (Welch 1947, *Biometrika* 34, 28-35).
    """
    x, y = as_float(a, "a"), as_float(b, "b")
    x, y = x[~np.isnan(x)], y[~np.isnan(y)]
    if len(x) < 2 or len(y) < 2:
        raise InputError("each group needs at least two values for a difference in means")
    v1, v2 = x.var(ddof=1) / len(x), y.var(ddof=1) / len(y)
    se = math.sqrt(v1 + v2)
    df = (v1 + v2) ** 2 / (v1**2 / (len(x) - 1) + v2**2 / (len(y) - 1)) if se > 0 else np.inf
    d = x.mean() - y.mean()
    half = stats.t.isf(alpha / 2, df) * se
    p = 2 * stats.t.sf(abs(d) / se, df) if se > 0 else np.nan
    return pd.DataFrame(
        {
            "n1": [len(x)],
            "n2": [len(y)],
            "mean1": [x.mean()],
            "mean2": [y.mean()],
            "difference": [d],
            "se": [se],
            "df": [df],
            "ci_low": [d - half],
            "ci_high": [d + half],
            "p_value": [p],
        }
    )


def trend_test(successes, n, *, scores=None) -> pd.DataFrame:
    """Cochran-Armitage test for a linear trend in proportions (e.g. across years).

    Parameters
    ----------
    successes, n : array-like of int
        Counts per ordered group (year).
    scores : array-like, optional
        Scores of the groups (default 0, 1, 2, ...; pass the years for uneven spacing).

    Returns
    -------
    DataFrame
        One row: ``groups, slope`` (least-squares change in proportion per score unit,
        weighted by n), ``z, p_value`` (two-sided).

    Notes
    -----
    With :math:`\\bar p = \\sum x_i / N`,
    :math:`T = \\sum t_i (x_i - n_i \\bar p)` and
    :math:`\\operatorname{Var}(T) = \\bar p (1 - \\bar p) [\\sum n_i t_i^2 - (\\sum n_i
    t_i)^2 / N]`; :math:`z = T / \\sqrt{\\operatorname{Var}(T)}` (Armitage 1955,
    *Biometrics* 11, 375-386; Agresti 2013, sec. 5.3.5). The test assumes independent
    groups: the same students appear in several years, which it ignores.
    """
    x, m = check_counts(successes, n)
    if x.ndim != 1 or len(x) < 2:
        raise InputError("a trend test needs at least two groups")
    t = np.arange(len(x), dtype=float) if scores is None else np.asarray(scores, dtype=float)
    N = m.sum()
    pbar = x.sum() / N
    T = np.sum(t * (x - m * pbar))
    sxx = np.sum(m * t**2) - np.sum(m * t) ** 2 / N
    var = pbar * (1 - pbar) * sxx
    zval = T / math.sqrt(var) if var > 0 else np.nan
    return pd.DataFrame(
        {
            "groups": [len(x)],
            "slope": [T / sxx if sxx > 0 else np.nan],
            "z": [zval],
            "p_value": [2 * stats.norm.sf(abs(zval)) if np.isfinite(zval) else np.nan],
        }
    )
