"""Judge the 85% target: reliable change per student, the verdict with its uncertainty.

The programme's headline goal: every year at least 85% of students make significant progress
in 1-2 development dimensions. This module defines "significant", counts the students who
made it, puts an interval and a one-sided test on the share, shows whether the verdict depends
on the choices made, and sets it against what measurement error and maturation alone give.

Building blocks (plain arrays in, tidy DataFrames out)
------------------------------------------------------
reliable_change
    Jacobson & Truax (1991) reliable change index per student.
minimal_change
    Change of at least a minimal important difference (default half a pre-test SD).
standardised_gain
    Exam scores: z within year, term, subject and grade; the gain from term 1 to term 2.
proportion_ci, proportion_test
    Wilson / Clopper-Pearson intervals; the verdict on a target proportion.
rate_difference, mean_difference
    Newcombe (1998, method 10) interval for a difference of proportions; Welch's interval
    for a difference of means.
false_positive_rate
    The share a rule flags as improved when nobody truly changed (normal theory).
threshold_sensitivity
    The rate with the improvement threshold moved by a few percent.
trend_test
    Cochran-Armitage test for a linear trend in proportions across years.

A study's year (a :class:`mentorlib.data.Processed` in)
--------------------------------------------------------
change_scores
    Pre, post, change and the improved / deteriorated flags per student and dimension.
student_progress
    Per student: dimensions evaluable, improved, deteriorated, and a category.
year_verdict
    The verdict under each missing-data rule, never dropping the unevaluable silently.
breakdowns
    Rates by grade, class, gender, mentor and focus group.
progress_report
    Everything above for one year: verdict (Wilson and a bootstrap interval that re-estimates
    the threshold), sensitivity table, breakdowns, trend, context; :class:`ProgressReport` gives ``summary()``, ``to_json_dict()``, ``headline()`` and
    ``figures()``.

Figures (``lang="zh"`` or ``"en"``)
-----------------------------------
plot_rate_by_year, plot_rate_by_group, plot_dimensions_improved, plot_pre_post.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from . import scales
from .codebook import Codebook
from .errors import InputError
from .privacy import MIN_CELL, Document

#: Definitions of "significant progress" in the sensitivity table (code -> (zh, en)).
DEFINITIONS: dict[str, tuple[str, str]] = {
    "rci_data": ("可靠变化指数，α取本校前测", "reliable change, alpha of this pre-test"),
    "rci_published": ("可靠变化指数，α取量表公布值", "reliable change, published alpha"),
    "mid": ("最小重要差异，0.5个标准差", "minimal important difference, 0.5 SD"),
}

#: Missing-data rules (code -> (zh, en)).
RULES: dict[str, tuple[str, str]] = {
    "evaluable_only": ("仅计可评估学生", "evaluable students only"),
    "missing_not_progressing": ("缺测计为未进步", "missing counted as not progressing"),
}

#: Verdicts on the target (code -> zh).
VERDICTS: dict[str, str] = {
    "met": "达成",
    "met by point estimate only": "仅点估计达成（置信下限未达）",
    "not met": "未达成",
}

#: Per-student categories (code -> (zh, en)), in report order.
CATEGORIES: dict[str, tuple[str, str]] = {
    "improved_3plus": ("3个及以上维度显著进步", "improved in 3+ dimensions"),
    "improved_1_2": ("1-2个维度显著进步", "improved in 1-2 dimensions"),
    "no_change": ("无可靠变化", "no reliable change"),
    "deteriorated": ("显著退步且无进步", "deteriorated, no improvement"),
    "not_evaluable": ("无法评估（缺前测或后测）", "not evaluable (no pre or post)"),
}

#: Breakdowns of ``progress_report`` (focus groups: :data:`mentorlib.rules.FOCUS_GROUPS`).
BREAKDOWNS = ("grade", "class", "gender", "mentor", "focus_group")


# --------------------------------------------------------------------- change per student


def _arr(x, name: str) -> np.ndarray:
    try:
        a = np.asarray(
            x.to_numpy(dtype=float, na_value=np.nan) if isinstance(x, pd.Series) else x,
            dtype=float,
        )
    except (TypeError, ValueError):
        raise InputError(f"{name} must be numeric") from None
    return a


def _pair(pre, post) -> tuple[np.ndarray, np.ndarray]:
    x1, x2 = np.atleast_1d(_arr(pre, "pre")), np.atleast_1d(_arr(post, "post"))
    if x1.shape != x2.shape or x1.ndim != 1:
        raise InputError(f"pre and post must be 1-D and equally long ({x1.shape} vs {x2.shape})")
    return x1, x2


def _sign(direction: str) -> float:
    if direction not in ("up", "down"):
        raise InputError(f"direction must be 'up' or 'down', got {direction!r}")
    return 1.0 if direction == "up" else -1.0


def _flags(good: np.ndarray, bad: np.ndarray, ok: np.ndarray) -> tuple[pd.array, pd.array]:
    imp = pd.array(good, dtype="boolean")
    det = pd.array(bad, dtype="boolean")
    imp[~ok] = pd.NA
    det[~ok] = pd.NA
    return imp, det


def reliable_change(
    pre,
    post,
    *,
    sd_pre,
    reliability,
    direction: str = "up",
    z: float = 1.96,
) -> pd.DataFrame:
    """Reliable change index (Jacobson & Truax 1991) of each pre/post pair.

    Parameters
    ----------
    pre, post : array-like
        Scores before and after (same length; missing as NaN).
    sd_pre : float or array-like
        Standard deviation of the pre-test in the reference group (the cohort, or the
        student's grade).
    reliability : float or array-like
        Reliability of the scores, in (0, 1): Cronbach's alpha of the pre wave, or a
        published value.
    direction : {"up", "down"}
        Which way is improvement.
    z : float, default 1.96
        Critical value: improvement when the RCI passes ``z`` in the good direction.

    Returns
    -------
    DataFrame
        ``pre, post, change`` (post - pre), ``s_diff`` (standard error of the difference),
        ``rci``, ``improved``, ``deteriorated`` (nullable booleans, missing when a score is).

    Notes
    -----
    .. math::

        S_E = s_1\\sqrt{1 - r_{xx}},\\quad S_{diff} = \\sqrt{2 S_E^2},\\quad
        RC = \\frac{x_2 - x_1}{S_{diff}}

    where :math:`s_1` is the pre-test SD and :math:`r_{xx}` the reliability. A change is
    reliable when :math:`|RC| > 1.96`: under no true change and normal measurement error it
    happens with probability 0.05 (0.025 in each direction).

    Jacobson, N. S., & Truax, P. (1991). Clinical significance: a statistical approach to
    defining meaningful change in psychotherapy research. *Journal of Consulting and
    Clinical Psychology*, 59(1), 12-19.

    Examples
    --------
    >>> reliable_change([10, 10], [2, 18], sd_pre=5, reliability=0.8)["rci"].round(4).tolist()
    [-2.5298, 2.5298]
    """
    x1, x2 = _pair(pre, post)
    sd, r = _arr(sd_pre, "sd_pre"), _arr(reliability, "reliability")
    if not np.all((sd > 0) & np.isfinite(sd)):
        raise InputError("sd_pre must be positive and finite")
    if not np.all((r > 0) & (r < 1)):
        raise InputError(f"reliability must be in (0, 1), got {np.unique(r)[:3]}")
    s = _sign(direction)
    change = x2 - x1
    s_diff = np.broadcast_to(np.sqrt(2.0) * sd * np.sqrt(1.0 - r), change.shape)
    rci = change / s_diff
    ok = ~np.isnan(rci)
    imp, det = _flags(ok & (s * rci > z), ok & (s * rci < -z), ok)
    return pd.DataFrame(
        {
            "pre": x1,
            "post": x2,
            "change": change,
            "s_diff": s_diff,
            "rci": rci,
            "improved": imp,
            "deteriorated": det,
        }
    )


def minimal_change(pre, post, *, sd_pre, mid: float = 0.5, direction: str = "up") -> pd.DataFrame:
    """Change of at least a minimal important difference (a share of the pre-test SD).

    Parameters
    ----------
    pre, post : array-like
        Scores before and after (missing as NaN).
    sd_pre : float or array-like
        Pre-test standard deviation of the reference group.
    mid : float, default 0.5
        The minimal important difference in pre-test SDs.
    direction : {"up", "down"}
        Which way is improvement.

    Returns
    -------
    DataFrame
        ``pre, post, change, effect`` (change / sd_pre), ``threshold`` (mid * sd_pre),
        ``improved``, ``deteriorated`` (nullable booleans).

    Notes
    -----
    Improvement when :math:`\\pm(x_2 - x_1) \\ge \\text{mid} \\cdot s_1`. Half a standard
    deviation is the distribution-based rule of Norman, Sloan & Wyrwich (2003), *Medical
    Care* 41, 582-592. It ignores measurement error: with reliability :math:`r` a student with
    no true change passes it with probability :math:`1 - \\Phi(\\text{mid} / \\sqrt{2(1-r)})`
    (about 0.21 for :math:`r = 0.8`), see :func:`false_positive_rate`.
    """
    if not mid > 0:
        raise InputError(f"mid must be positive, got {mid}")
    x1, x2 = _pair(pre, post)
    sd = _arr(sd_pre, "sd_pre")
    if not np.all((sd > 0) & np.isfinite(sd)):
        raise InputError("sd_pre must be positive and finite")
    s = _sign(direction)
    change = x2 - x1
    thr = np.broadcast_to(mid * sd, change.shape)
    ok = ~np.isnan(change)
    imp, det = _flags(ok & (s * change >= thr), ok & (s * change <= -thr), ok)
    return pd.DataFrame(
        {
            "pre": x1,
            "post": x2,
            "change": change,
            "effect": change / sd,
            "threshold": thr,
            "improved": imp,
            "deteriorated": det,
        }
    )


def standardised_gain(
    exams: pd.DataFrame, students: pd.DataFrame, *, mid: float = 0.5
) -> pd.DataFrame:
    """Exam progress as standardised gain: z within year, term, subject and grade.

    Parameters
    ----------
    exams : DataFrame
        ``student_id, year, term, subject, score`` (missing when absent).
    students : DataFrame
        ``student_id, year, grade``: the grade each student was in that year.
    mid : float, default 0.5
        A gain of at least ``mid`` (in within-grade SDs) counts as improvement.

    Returns
    -------
    DataFrame
        One row per student and year with both terms: ``student_id, year, grade,
        n_subjects`` (sat in both terms), ``z_term1, z_term2`` (mean z over those subjects),
        ``gain`` (z_term2 - z_term1), ``improved``, ``deteriorated``.

    Notes
    -----
    :math:`z = (x - \\bar x_{g}) / s_{g}` within each year, term, subject and grade
    :math:`g`; the gain is the mean over subjects of :math:`z_{2} - z_{1}`. Exams differ in
    difficulty from term to term, so only relative standing is comparable: the gains sum to
    about zero within a grade and say who moved up *relative to peers*, not whether the
    grade as a whole progressed (Cronbach & Furby 1970 on raw gains; here the papers change,
    so a raw gain is not available at all).
    """
    need = {"student_id", "year", "term", "subject", "score"}
    if not need <= set(exams.columns):
        raise InputError(f"exams lack column(s) {sorted(need - set(exams.columns))}")
    if not {"student_id", "year", "grade"} <= set(students.columns):
        raise InputError("students need student_id, year and grade for standardised gains")
    e = exams.loc[:, ["student_id", "year", "term", "subject", "score"]].assign(
        student_id=lambda d: d["student_id"].astype("str"),
        subject=lambda d: d["subject"].astype("str"),
        score=lambda d: pd.to_numeric(d["score"], errors="coerce"),
    )
    g = students.loc[:, ["student_id", "year", "grade"]].assign(
        student_id=lambda d: d["student_id"].astype("str")
    )
    e = e.merge(g, on=["student_id", "year"], how="inner").dropna(subset=["score"])
    grp = e.groupby(["year", "term", "subject", "grade"])["score"]
    sd = grp.transform("std")
    e = e.assign(z=(e["score"] - grp.transform("mean")) / sd.where(sd > 0))
    w = e.pivot_table(
        index=["student_id", "year", "grade", "subject"], columns="term", values="z"
    ).dropna()
    if not {1, 2} <= set(w.columns):
        raise InputError("standardised gain needs exam scores from both terms")
    w = w.assign(gain=w[2] - w[1]).reset_index()
    out = w.groupby(["student_id", "year", "grade"], as_index=False).agg(
        n_subjects=("subject", "size"),
        z_term1=(1, "mean"),
        z_term2=(2, "mean"),
        gain=("gain", "mean"),
    )
    return out.assign(improved=out["gain"] >= mid, deteriorated=out["gain"] <= -mid)


# --------------------------------------------------------------------- proportions


def _check_counts(successes, n) -> tuple[np.ndarray, np.ndarray]:
    x, m = np.asarray(successes, dtype=float), np.asarray(n, dtype=float)
    if np.any(m < 1) or np.any(x < 0) or np.any(x > m) or np.any(x != np.round(x)):
        raise InputError("need whole numbers with 0 <= successes <= n and n >= 1")
    return x, m


def _wilson(x, n, z):
    c = (x + z * z / 2) / (n + z * z)
    h = z / (n + z * z) * np.sqrt(x * (n - x) / n + z * z / 4)
    return np.clip(c - h, 0, 1), np.clip(c + h, 0, 1)


def _clopper_pearson(x, n, a_low, a_high):
    """Limits at lower tail a_low and upper tail a_high (beta quantiles)."""
    with np.errstate(invalid="ignore"):
        lo = np.where(x > 0, stats.beta.ppf(a_low, x, n - x + 1), 0.0)
        hi = np.where(x < n, stats.beta.ppf(1 - a_high, x + 1, n - x), 1.0)
    return lo, hi


def _limits(x, n, method: str, alpha: float, sided: bool = False):
    if not 0 < alpha < 1:
        raise InputError(f"alpha must be in (0, 1), got {alpha}")
    tail = alpha if sided else alpha / 2
    if method == "wilson":
        return _wilson(x, n, stats.norm.isf(tail))
    if method in ("clopper-pearson", "exact"):
        return _clopper_pearson(x, n, tail, tail)
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
    x, m = _check_counts(successes, n)
    lo, hi = _limits(x, m, method, alpha)
    return pd.DataFrame(
        {
            "successes": np.atleast_1d(x).astype(np.int64),
            "n": np.atleast_1d(m).astype(np.int64),
            "proportion": np.atleast_1d(x / m),
            "ci_low": np.atleast_1d(lo),
            "ci_high": np.atleast_1d(hi),
        }
    )


def _verdict(proportion: float, lower: float, target: float) -> str:
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
        ``lower_bound`` (one-sided), ``p_value`` (exact binomial, H1: p > target),
        ``target``, ``method``, ``verdict``: "met" (lower bound above the target), "met by
        point estimate only" (proportion >= target, lower bound not above it) or "not met".

    Notes
    -----
    The p-value is :math:`P(X \\ge x \\mid X \\sim \\text{Bin}(n, p_0))`. The one-sided Wilson
    lower bound uses :math:`z_{1-\\alpha}`; the Clopper-Pearson one is the
    :math:`\\alpha` quantile of Beta(x, n-x+1), which is above the target exactly when the
    exact test rejects at level :math:`\\alpha`. The Wilson bound inverts the score test
    instead, so near the boundary the verdict and ``p_value < alpha`` can differ.

    Examples
    --------
    >>> t = proportion_test(90, 100)
    >>> round(float(t["p_value"].iloc[0]), 7), t["verdict"].iloc[0]
    (0.0994474, 'met by point estimate only')
    """
    x, m = _check_counts(successes, n)
    if x.ndim or m.ndim:
        raise InputError("proportion_test takes one count; use proportion_ci for many")
    if not 0 < target < 1:
        raise InputError(f"target must be in (0, 1), got {target}")
    lo, hi = _limits(x, m, method, alpha)
    lower = _limits(x, m, method, alpha, sided=True)[0]
    p = float(stats.binom.sf(x - 1, m, target))
    prop = float(x / m)
    return pd.DataFrame(
        {
            "successes": [int(x)],
            "n": [int(m)],
            "proportion": [prop],
            "ci_low": [float(lo)],
            "ci_high": [float(hi)],
            "lower_bound": [float(lower)],
            "p_value": [p],
            "target": [target],
            "method": [method],
            "verdict": [_verdict(prop, float(lower), target)],
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
    (a1, m1), (a2, m2) = _check_counts(x1, n1), _check_counts(x2, n2)
    z = stats.norm.isf(alpha / 2)
    l1, u1 = _wilson(a1, m1, z)
    l2, u2 = _wilson(a2, m2, z)
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
    x, y = _arr(a, "a"), _arr(b, "b")
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


def _at_least(p: np.ndarray, k: int) -> float:
    """P(at least k successes) for independent trials with probabilities p (Poisson-binomial)."""
    dist = np.zeros(len(p) + 1)
    dist[0] = 1.0
    for pi in p:
        dist[1:] = dist[1:] * (1 - pi) + dist[:-1] * pi
        dist[0] *= 1 - pi
    return float(dist[k:].sum())


def false_positive_rate(
    *,
    n_dimensions: int,
    k: int = 1,
    z: float = 1.96,
    mid: float | None = None,
    reliability=None,
) -> pd.DataFrame:
    """Share of students a rule flags as improved when nobody truly changed.

    Parameters
    ----------
    n_dimensions : int
        Dimensions measured (D).
    k : int, default 1
        A student counts as progressing with improvement in at least ``k`` dimensions.
    z : float, default 1.96
        RCI critical value (ignored when ``mid`` is given).
    mid : float, optional
        Give the minimal important difference (in pre-test SDs) to evaluate that rule instead.
    reliability : float or sequence of float, optional
        Reliability per dimension (one value for all, or D values); needed for ``mid``.

    Returns
    -------
    DataFrame
        One row: ``rule`` ("rci" or "mid"), ``n_dimensions, k, p_dimension`` (mean
        per-dimension rate), ``p_student`` (the student-level rate), ``assumption``.

    Notes
    -----
    Under no true change the observed change is the difference of two independent
    measurement errors, each :math:`N(0, s^2(1-r))` in classical test theory, so
    :math:`x_2 - x_1 \\sim N(0, 2 s^2 (1-r))`. Then per dimension

    - RCI rule: :math:`P(RC > z) = 1 - \\Phi(z)` (0.025 for z = 1.96), whatever r;
    - MID rule: :math:`P(x_2 - x_1 \\ge m s) = 1 - \\Phi(m / \\sqrt{2(1-r)})`.

    Assuming errors independent across the D dimensions (different items), the count of
    flagged dimensions is Poisson-binomial and :math:`P(\\text{at least } k)` follows; for
    equal rates it is the binomial tail, e.g. :math:`1 - 0.975^4 = 0.0963` for k = 1 of
    D = 4. Correlated errors would lower the k = 1 rate and raise the k = 2 rate. The
    estimate also assumes that sd_pre and the reliability used are the true ones.
    """
    if not 1 <= k <= n_dimensions:
        raise InputError(f"k must be between 1 and n_dimensions ({n_dimensions}), got {k}")
    if mid is None:
        p = np.full(n_dimensions, stats.norm.sf(z))
        rule = "rci"
    else:
        if reliability is None:
            raise InputError("the MID rule's false-positive rate needs the reliability")
        r = np.broadcast_to(np.asarray(reliability, dtype=float), (n_dimensions,))
        if not np.all((r > 0) & (r < 1)):
            raise InputError("reliability must be in (0, 1)")
        p = stats.norm.sf(mid / np.sqrt(2 * (1 - r)))
        rule = "mid"
    return pd.DataFrame(
        {
            "rule": [rule],
            "n_dimensions": [n_dimensions],
            "k": [k],
            "p_dimension": [float(p.mean())],
            "p_student": [_at_least(p, k)],
            "assumption": [
                "no true change; normal, independent measurement errors across waves and "
                "dimensions; sd_pre and reliability equal to the true values"
            ],
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
    x, m = _check_counts(successes, n)
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


# --------------------------------------------------------------------- a year of a study


def _roster(students: pd.DataFrame, year: int) -> pd.DataFrame:
    if "student_id" not in students.columns or "year" not in students.columns:
        raise InputError("the students table needs student_id and year")
    r = students.loc[students["year"] == year].assign(
        student_id=lambda d: d["student_id"].astype("str")
    )
    if r.empty:
        raise InputError(f"no students on the roster in year {year}")
    dup = r["student_id"].duplicated()
    if dup.any():
        raise InputError(
            f"{int(dup.sum())} student(s) listed twice in year {year}, "
            f"e.g. {r.loc[dup, 'student_id'].iloc[0]}"
        )
    return r.reset_index(drop=True)


def _reliability_map(reliability, year: int, cb: Codebook, dims) -> dict[str, float]:
    if isinstance(reliability, str):
        if reliability != "published":
            raise InputError(
                "reliability must be 'published', a number, a {dimension: value} mapping or "
                "the table from scales.reliability()"
            )
        rel = {d: cb.dimensions[d].published_alpha for d in dims}
        missing = [d for d, v in rel.items() if v is None]
        if missing:
            raise InputError(f"codebook {cb.name!r} gives no published alpha for {missing}")
        return {d: float(v) for d, v in rel.items()}
    if isinstance(reliability, pd.DataFrame):
        t = reliability.loc[(reliability["year"] == year) & (reliability["wave"] == "pre")]
        rel = dict(zip(t["dimension"].astype("str"), t["alpha"].astype(float), strict=True))
        missing = [d for d in dims if d not in rel]
        if missing:
            raise InputError(f"no pre-wave alpha for {missing} in year {year}")
        return {d: rel[d] for d in dims}
    if isinstance(reliability, Mapping):
        missing = [d for d in dims if d not in reliability]
        if missing:
            raise InputError(f"reliability mapping lacks {missing}")
        return {d: float(reliability[d]) for d in dims}
    return dict.fromkeys(dims, float(reliability))


def change_scores(
    scores: pd.DataFrame,
    *,
    year: int,
    codebook: Codebook | str,
    roster: pd.DataFrame | None = None,
    definition: str = "rci",
    reliability="published",
    sd_by: str | None = None,
    z: float = 1.96,
    mid: float = 0.5,
) -> pd.DataFrame:
    """Pre, post and the improvement flags of every student and dimension in a year.

    Parameters
    ----------
    scores : DataFrame
        Scale scores (:func:`mentorlib.scales.score_scales`): ``student_id, year, wave,
        dimension, score``.
    year : int
        The school year.
    codebook : Codebook or str
        The assessment codebook: dimensions, good direction, published alphas.
    roster : DataFrame, optional
        The year's students (``student_id``, plus ``grade`` for ``sd_by="grade"``). Every
        roster student gets a row per dimension, with missing scores when unmeasured; scored
        students not on it are left out (count them before). Default: the scored students.
    definition : {"rci", "mid"}
        Reliable change index, or a minimal important difference.
    reliability : "published", float, mapping or DataFrame
        For the RCI: the codebook's published alphas, one value, ``{dimension: value}``,
        or the table of :func:`mentorlib.scales.reliability` (its pre-wave alpha of
        ``year`` is used).
    sd_by : {None, "grade"}
        The pre-test SD of the whole roster (default), or of the student's grade.
    z : float, default 1.96
        RCI critical value.
    mid : float, default 0.5
        Minimal important difference in pre-test SDs.

    Returns
    -------
    DataFrame
        ``student_id, year, dimension, pre, post, change, sd_pre, reliability, s_diff, rci``
        (the last three NaN for MID), ``threshold`` (the change needed in the good
        direction), ``direction, evaluable`` (both scores present), ``improved,
        deteriorated`` (nullable booleans), ``definition``.

    Notes
    -----
    ``sd_pre`` is the SD (ddof = 1) of the pre scores of the reference group. See
    :func:`reliable_change` and :func:`minimal_change` for the rules.
    """
    cb = scales._codebook(codebook)
    dims = list(cb.dimensions)
    if definition not in ("rci", "mid"):
        raise InputError(f"definition must be 'rci' or 'mid', got {definition!r}")
    need = {"student_id", "year", "wave", "dimension", "score"}
    if not need <= set(scores.columns):
        raise InputError(f"scores lack column(s) {sorted(need - set(scores.columns))}")
    sc = scores.loc[scores["year"] == year, ["student_id", "wave", "dimension", "score"]]
    sc = sc.assign(
        student_id=sc["student_id"].astype("str"),
        wave=sc["wave"].astype("str"),
        dimension=sc["dimension"].astype("str"),
    )
    if sc.duplicated(["student_id", "wave", "dimension"]).any():
        raise InputError(f"scores: a student has two scores for one wave and dimension ({year})")
    wide = sc.set_index(["student_id", "dimension", "wave"])["score"].unstack("wave")
    ids = (
        pd.Index(roster["student_id"].astype("str").unique())
        if roster is not None
        else pd.Index(sc["student_id"].unique())
    )
    grid = pd.MultiIndex.from_product([ids, dims], names=["student_id", "dimension"])
    wide = wide.reindex(index=grid, columns=["pre", "post"])
    out = wide.reset_index()
    if sd_by is None:
        sd = out.groupby("dimension", sort=False)["pre"].transform("std")
    elif sd_by == "grade":
        if roster is None or "grade" not in roster.columns:
            raise InputError("sd_by='grade' needs a roster with a grade column")
        grade = roster.assign(student_id=roster["student_id"].astype("str")).set_index(
            "student_id"
        )["grade"]
        out = out.assign(_grade=grade.reindex(out["student_id"]).to_numpy())
        sd = out.groupby(["_grade", "dimension"], sort=False)["pre"].transform("std")
        out = out.drop(columns="_grade")
    else:
        raise InputError(f"sd_by must be None or 'grade', got {sd_by!r}")
    bad = sd.isna() | (sd <= 0)
    if bad.all():
        raise InputError(f"no pre-test spread to scale change by in year {year}")
    sd = sd.where(~bad)
    direction = out["dimension"].map({d: cb.dimensions[d].direction for d in dims})
    sign = np.where(direction == "down", -1.0, 1.0)
    x1, x2 = out["pre"].to_numpy(), out["post"].to_numpy()
    change = x2 - x1
    if definition == "rci":
        rel_map = _reliability_map(reliability, year, cb, dims)
        bad_r = {d: v for d, v in rel_map.items() if not 0 < v < 1}
        if bad_r:
            raise InputError(f"reliability outside (0, 1) for {bad_r} in year {year}")
        rel = out["dimension"].map(rel_map).to_numpy(dtype=float)
        s_diff = np.sqrt(2.0) * sd.to_numpy() * np.sqrt(1 - rel)
        rci = change / s_diff
        thr = z * s_diff
        good, worse = sign * rci > z, sign * rci < -z
    else:
        rel = s_diff = rci = np.full(len(out), np.nan)
        thr = mid * sd.to_numpy()
        good, worse = sign * change >= thr, sign * change <= -thr
    ok = ~np.isnan(change) & ~np.isnan(thr)
    imp, det = _flags(good & ok, worse & ok, ok)
    return out.assign(
        year=year,
        change=change,
        sd_pre=sd.to_numpy(),
        reliability=rel,
        s_diff=s_diff,
        rci=rci,
        threshold=thr,
        direction=direction.astype("str"),
        evaluable=ok,
        improved=imp,
        deteriorated=det,
        definition=definition,
    ).loc[
        :,
        [
            "student_id",
            "year",
            "dimension",
            "pre",
            "post",
            "change",
            "sd_pre",
            "reliability",
            "s_diff",
            "rci",
            "threshold",
            "direction",
            "evaluable",
            "improved",
            "deteriorated",
            "definition",
        ],
    ]


def study_changes(
    processed,
    year: int,
    *,
    definition: str = "rci_data",
    rules=None,
    sd_by: str | None = None,
) -> pd.DataFrame:
    """The workbench's one improvement rule, applied to a study's year: every stage calls this.

    The headline verdict, its breakdowns, the dose-response analysis and the grouping outcome
    model all call this function (or :func:`change_scores` with the arguments it resolves), so
    "improved" means the same thing in every table of every report.

    Parameters
    ----------
    processed : mentorlib.data.Processed
        The study (``students`` and ``assessment_items``).
    year : int
        The school year.
    definition : {"rci_data", "rci_published", "mid"}
        The RCI with this year's pre-wave alpha (the headline's), with the codebook's published
        alpha, or the minimal important difference.
    rules : Rulebook, optional
        Default: the study's resolved rulebook (``processed.rules``): ``rci_z``, ``mid`` and
        ``min_answered`` come from it.
    sd_by : {None, "grade"}
        Scale change by the pre-test SD of the whole roster (default) or of each grade.

    Returns
    -------
    DataFrame
        The columns of :func:`change_scores`, one row per roster student and dimension.
    """
    rules = processed.rules if rules is None else rules
    spec = dict(_DEF_SPECS[definition]) if definition in _DEF_SPECS else None
    if spec is None:
        raise InputError(f"definition must be one of {list(_DEF_SPECS)}, got {definition!r}")
    cb = processed.codebook("assessment")
    items = processed["assessment_items"]
    scores = scales.score_scales(items, cb, min_answered=rules.min_answered)
    if spec.get("reliability") == "data":
        spec["reliability"] = scales.reliability(items, cb, ci=1 - rules.alpha)
    return change_scores(
        scores,
        year=year,
        codebook=cb,
        roster=_roster(processed["students"], year),
        sd_by=sd_by,
        z=rules.rci_z,
        mid=rules.mid,
        **spec,
    )


def student_progress(changes: pd.DataFrame) -> pd.DataFrame:
    """One row per student: dimensions evaluable, improved, deteriorated, and a category.

    Parameters
    ----------
    changes : DataFrame
        The output of :func:`change_scores` (one definition).

    Returns
    -------
    DataFrame
        ``student_id, year, n_dimensions, n_evaluable, n_improved, n_deteriorated,
        dims_improved`` (";"-joined), ``improved_<dimension>`` (nullable boolean per
        dimension, missing when not evaluable), ``category``: "improved_3plus",
        "improved_1_2", "no_change", "deteriorated" (reliable deterioration and no
        improvement) or "not_evaluable" (no dimension with both scores). Improvement takes
        precedence: a student who improved in one dimension and deteriorated in another is
        "improved_1_2" (``n_deteriorated`` still says so).
    """
    need = {"student_id", "year", "dimension", "evaluable", "improved", "deteriorated"}
    if not need <= set(changes.columns):
        raise InputError(f"changes lack column(s) {sorted(need - set(changes.columns))}")
    if "definition" in changes.columns and changes["definition"].nunique() > 1:
        raise InputError("student_progress takes one definition at a time")
    c = changes.assign(
        _imp=changes["improved"].fillna(False).astype(bool),
        _det=changes["deteriorated"].fillna(False).astype(bool),
    )
    dims = list(pd.unique(c["dimension"].astype("str")))
    g = c.groupby(["student_id", "year"], sort=False)
    out = g.agg(
        n_dimensions=("dimension", "size"),
        n_evaluable=("evaluable", "sum"),
        n_improved=("_imp", "sum"),
        n_deteriorated=("_det", "sum"),
    ).reset_index()
    wide = c.pivot(index=["student_id", "year"], columns="dimension", values="improved")
    wide = wide.reindex(pd.MultiIndex.from_frame(out[["student_id", "year"]]))
    joined = np.full(len(out), "", dtype=object)
    for d in dims:
        col = wide[d].fillna(False).to_numpy(dtype=bool)
        joined = np.where(col, joined + np.where(joined == "", "", ";") + d, joined)
        out[f"improved_{d}"] = wide[d].astype("boolean").to_numpy()
    n_imp, n_det, n_ev = out["n_improved"], out["n_deteriorated"], out["n_evaluable"]
    category = np.select(
        [n_ev == 0, n_imp >= 3, n_imp >= 1, n_det >= 1],
        ["not_evaluable", "improved_3plus", "improved_1_2", "deteriorated"],
        default="no_change",
    )
    out.insert(6, "dims_improved", pd.array(joined, dtype="str"))
    return out.assign(category=pd.Categorical(category, categories=list(CATEGORIES)))


def _counts(per_student: pd.DataFrame, k: int) -> tuple[int, int, int]:
    n = len(per_student)
    evaluable = int((per_student["n_evaluable"] >= k).sum())
    progressing = int((per_student["n_improved"] >= k).sum())
    return n, evaluable, progressing


def year_verdict(
    per_student: pd.DataFrame,
    *,
    k: int = 1,
    target: float = 0.85,
    method: str = "wilson",
    alpha: float = 0.05,
) -> pd.DataFrame:
    """The verdict on the target under each missing-data rule.

    Parameters
    ----------
    per_student : DataFrame
        :func:`student_progress` output: every student of the population, evaluable or not.
    k : int, default 1
        Progressing = improvement in at least ``k`` dimensions.
    target, method, alpha
        As in :func:`proportion_test`.

    Returns
    -------
    DataFrame
        One row per rule (``evaluable_only``: the evaluable students are the denominator;
        ``missing_not_progressing``: every student is, the unevaluable counting as not
        progressing): ``rule, k, n_students, n_evaluable, n_not_evaluable, n_progressing``
        and the columns of :func:`proportion_test` (``successes, n, proportion, ...,
        verdict``).

    Notes
    -----
    A student is evaluable when at least ``k`` dimensions have both a pre and a post
    score (fewer could not reach ``k``). The two rules bracket the truth when the
    missing students would have progressed at any rate between 0 and the observed one;
    the first assumes missing completely at random (Little & Rubin 2002, ch. 1).
    """
    if k < 1:
        raise InputError(f"k must be at least 1, got {k}")
    n, ev, prog = _counts(per_student, k)
    rows = []
    for rule, denom in (("evaluable_only", ev), ("missing_not_progressing", n)):
        if denom == 0:
            raise InputError("no evaluable students: is the post-wave assessment in yet?")
        t = proportion_test(prog, denom, target=target, method=method, alpha=alpha)
        rows.append(
            pd.DataFrame(
                {
                    "rule": [rule],
                    "k": [k],
                    "n_students": [n],
                    "n_evaluable": [ev],
                    "n_not_evaluable": [n - ev],
                    "n_progressing": [prog],
                }
            ).join(t)
        )
    return pd.concat(rows, ignore_index=True)


def _mentor_term1(assignments: pd.DataFrame | None, year: int) -> pd.Series:
    if assignments is None or assignments.empty:
        return pd.Series(dtype="str")
    a = assignments.loc[(assignments["year"] == year) & (assignments["term"] == 1)]
    if "start_date" in a.columns:
        a = a.sort_values("start_date", kind="stable")
    a = a.assign(student_id=a["student_id"].astype("str"), mentor_id=a["mentor_id"].astype("str"))
    return a.drop_duplicates("student_id").set_index("student_id")["mentor_id"]


def _group_labels(roster: pd.DataFrame, by: str, mentors: pd.Series) -> pd.DataFrame:
    """Long (student_id, group) pairs for a breakdown; focus groups overlap."""
    sid = roster["student_id"].astype("str")
    if by == "class":
        if not {"grade", "class_no"} <= set(roster.columns):
            raise InputError("a class breakdown needs grade and class_no")
        lab = roster["grade"].astype("str") + "-" + roster["class_no"].astype("str")
        return pd.DataFrame({"student_id": sid, "group": lab})
    if by == "mentor":
        return pd.DataFrame(
            {"student_id": sid, "group": mentors.reindex(sid).fillna("none").to_numpy()}
        )
    if by == "focus_group":
        member = {
            "transfer": roster.get("transfer"),
            "single_parent": roster["family"].astype("str").eq("single_parent")
            if "family" in roster
            else None,
            "reconstituted": roster["family"].astype("str").eq("reconstituted")
            if "family" in roster
            else None,
            "left_behind": roster.get("left_behind"),
        }
        member = {k: v.fillna(False).astype(bool) for k, v in member.items() if v is not None}
        if not member:
            raise InputError("no focus-group columns (transfer, family, left_behind)")
        none = ~np.logical_or.reduce([v.to_numpy() for v in member.values()])
        parts = [
            pd.DataFrame({"student_id": sid[v.to_numpy()], "group": k}) for k, v in member.items()
        ]
        parts.append(pd.DataFrame({"student_id": sid[none], "group": "none"}))
        return pd.concat(parts, ignore_index=True)
    if by not in roster.columns:
        raise InputError(f"cannot break down by {by!r}: no such student column")
    return pd.DataFrame({"student_id": sid, "group": roster[by].astype("str")})


def breakdowns(
    per_student: pd.DataFrame,
    roster: pd.DataFrame,
    *,
    by: Sequence[str] = BREAKDOWNS,
    assignments: pd.DataFrame | None = None,
    k: int = 1,
    rule: str = "evaluable_only",
    method: str = "wilson",
    alpha: float = 0.05,
) -> pd.DataFrame:
    """The progress rate by grade, class, gender, mentor and focus group.

    Parameters
    ----------
    per_student : DataFrame
        :func:`student_progress` output for one year.
    roster : DataFrame
        That year's students (``student_id, grade, class_no, gender, transfer, family,
        left_behind``...).
    by : list of str
        Breakdowns: "grade", "class" (grade-class, e.g. "3-2"), "gender", "mentor" (the
        term-1 mentor; needs ``assignments``), "focus_group" (transfer, single_parent,
        reconstituted, left_behind, and "none"; groups overlap), or any roster column.
    assignments : DataFrame, optional
        The assignments table (for "mentor").
    k, rule, method, alpha
        As in :func:`year_verdict`.

    Returns
    -------
    DataFrame
        ``by, group, n_students, n_evaluable, n_progressing, proportion, ci_low, ci_high``
        (not yet suppressed: pass it through :func:`mentorlib.privacy.suppress_small_cells`
        before it leaves the workbench).
    """
    if rule not in RULES:
        raise InputError(f"rule must be one of {list(RULES)}, got {rule!r}")
    ps = per_student.assign(student_id=per_student["student_id"].astype("str")).set_index(
        "student_id"
    )
    if not ps.index.is_unique:
        raise InputError("breakdowns take one year of per-student rows, each student once")
    mentors = _mentor_term1(assignments, int(ps["year"].iloc[0])) if "mentor" in by else None
    frames = []
    for b in by:
        if b == "mentor" and assignments is None:
            raise InputError("a mentor breakdown needs the assignments table")
        lab = _group_labels(roster, b, mentors)
        pos = ps.index.get_indexer(lab["student_id"])
        lab, j = lab.loc[pos >= 0], ps.iloc[pos[pos >= 0]]
        t = (
            pd.DataFrame(
                {
                    "group": lab["group"].to_numpy(),
                    "ev": (j["n_evaluable"] >= k).to_numpy(),
                    "prog": (j["n_improved"] >= k).to_numpy(),
                }
            )
            .groupby("group", sort=True)
            .agg(
                n_students=("ev", "size"), n_evaluable=("ev", "sum"), n_progressing=("prog", "sum")
            )
            .reset_index()
        )
        frames.append(t.assign(by=b))
    out = pd.concat(frames, ignore_index=True)
    denom = out["n_evaluable"] if rule == "evaluable_only" else out["n_students"]
    has = denom > 0
    ci = proportion_ci(
        out.loc[has, "n_progressing"], denom[has], method=method, alpha=alpha
    ).set_index(out.index[has])
    out = out.assign(
        proportion=ci["proportion"],
        ci_low=ci["ci_low"],
        ci_high=ci["ci_high"],
    )
    cols = ["by", "group", "n_students", "n_evaluable", "n_progressing"]
    return out.loc[:, [*cols, "proportion", "ci_low", "ci_high"]].astype(
        {c: np.int64 for c in cols[2:]}
    )


# --------------------------------------------------------------------- the year's report


def _records(df: pd.DataFrame) -> list[dict]:
    """Rows as plain Python values (NaN and NA as None) for JSON."""
    out = []
    for row in df.astype("object").to_dict("records"):
        out.append({str(k): _plain(v) for k, v in row.items()})
    return out


def _plain(v):
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    return v


_K_ZH = {1: "一", 2: "两", 3: "三", 4: "四"}


@dataclass
class ProgressReport:
    """The 85% verdict of one year and everything a reader needs to trust it.

    Published tables (small cells suppressed with :mod:`mentorlib.privacy`):

    verdict
        One row per missing-data rule for the headline definition (:func:`year_verdict`
        columns plus ``year, definition`` and ``suppressed``).
    sensitivity
        The verdict for each definition x k x rule (``definition, k, rule, ...``,
        ``headline`` marks the row the headline uses).
    breakdowns
        :func:`breakdowns` for the headline definition, k and rule.
    trend
        The headline verdict per year of the study with post-wave data.
    context
        ``false_positive`` (the rule's rate under no true change beside the observed rate),
        ``threshold_sensitivity`` (:func:`threshold_sensitivity`: the rate with the threshold
        moved by 5%), ``comparison_rates`` and ``comparison_means`` (mentees against
        non-mentees, when the school has both), ``trend_test``, ``reliability`` (alpha per
        wave and dimension).

    Internal (never published): ``per_student`` (:func:`student_progress`) and ``changes``
    (:func:`change_scores`) for the headline definition.
    """

    study: str
    level: str
    year: int
    k: int
    target: float
    method: str
    alpha: float
    definition: str
    rule: str
    min_cell: int
    verdict: pd.DataFrame
    sensitivity: pd.DataFrame
    breakdowns: pd.DataFrame
    trend: pd.DataFrame
    context: dict[str, pd.DataFrame]
    per_student: pd.DataFrame = field(repr=False)
    changes: pd.DataFrame = field(repr=False)
    notes: list[str] = field(default_factory=list)
    #: The unsuppressed tables (``verdict, sensitivity, breakdowns, trend, context``):
    #: internal use and ``--internal`` output only.
    internal: dict = field(default_factory=dict, repr=False)
    #: The :class:`mentorlib.privacy.Document` the published tables were protected with.
    disclosure: object = field(default=None, repr=False)

    # ------------------------------------------------------------------ disclosure control

    def register(self, doc) -> None:
        """Register every count and rate the published tables show, with their relations.

        Keys: ``n_students``, ``n_evaluable``, ``n_not_evaluable``, ``n_progressing`` (the
        year's totals, headline definition and k), ``k.{definition}.k{k}`` (students
        progressing under other definitions), ``bd.{by}.{group}.{count}`` (breakdowns: each
        of grade, class, gender and mentor partitions the totals), ``y{year}.*`` (trend),
        ``cmp.*`` (mentees against non-mentees); rates ``rate.{definition}.k{k}.{rule}``,
        ``bd.{by}.{group}.rate``, ``y{year}.rate``, ``cmp.rate1`` / ``cmp.rate2``.
        ``doc``: a :class:`mentorlib.privacy.Document` or a prefixed view of one
        (:meth:`~mentorlib.privacy.Document.view`).
        """
        raw = self.internal
        v = raw["verdict"]
        h = v.iloc[0]
        for c in ("n_students", "n_evaluable", "n_not_evaluable", "n_progressing"):
            doc.count(c, h[c])
        doc.total("n_students", ["n_evaluable", "n_not_evaluable"], strict=False)
        head_n = "n_evaluable" if self.rule == "evaluable_only" else "n_students"
        for r in raw["sensitivity"].itertuples(index=False):
            kk = self._kkey(r.definition, r.k)
            doc.count(kk, r.n_progressing)
            n = "n_evaluable" if r.rule == "evaluable_only" else "n_students"
            doc.rate(f"rate.{r.definition}.k{r.k}.{r.rule}", kk, n)
        doc.keep(head_n, "n_progressing", f"rate.{self.definition}.k{self.k}.{self.rule}")
        bd = raw["breakdowns"]
        counts = ["n_students", "n_evaluable", "n_progressing"]
        for by, part in bd.groupby("by", sort=False):
            for r in part.itertuples(index=False):
                pre = f"bd.{by}.{r.group}"
                for c in counts:
                    doc.count(f"{pre}.{c}", getattr(r, c))
                n = "n_evaluable" if self.rule == "evaluable_only" else "n_students"
                doc.rate(f"{pre}.rate", f"{pre}.n_progressing", f"{pre}.{n}")
            if by == "focus_group":  # a student can be in several groups: no partition
                continue
            for c in counts:
                keys = [f"bd.{by}.{g}.{c}" for g in part["group"]]
                rest = doc.cells[c].value - int(part[c].fillna(0).sum())
                if rest < 0:
                    continue
                if rest:
                    keys.append(doc.count(f"bd.{by}.rest.{c}", rest, printed=False))
                doc.total(c, keys, strict=False)
        for r in raw["trend"].itertuples(index=False):
            if r.year == self.year:
                continue
            pre = f"y{r.year}"
            for c in ("n_students", "n_evaluable", "n_not_evaluable", "n_progressing"):
                doc.count(f"{pre}.{c}", getattr(r, c))
            doc.total(
                f"{pre}.n_students", [f"{pre}.n_evaluable", f"{pre}.n_not_evaluable"], strict=False
            )
            n = "n_evaluable" if self.rule == "evaluable_only" else "n_students"
            doc.rate(f"{pre}.rate", f"{pre}.n_progressing", f"{pre}.{n}")
        cr = raw["context"].get("comparison_rates")
        if cr is not None and len(cr):
            r = cr.iloc[0]
            for i in ("1", "2"):
                doc.count(f"cmp.n{i}", r[f"n{i}"])
                doc.count(f"cmp.x{i}", r[f"x{i}"])
                doc.rate(f"cmp.rate{i}", f"cmp.x{i}", f"cmp.n{i}")
        rel = raw["context"].get("reliability")
        if rel is not None:
            for r in rel.itertuples(index=False):
                doc.count(f"rel.{r.wave}.{r.dimension}.n", r.n)
        ts = raw["context"].get("threshold_sensitivity")
        n_key = "n_evaluable" if self.rule == "evaluable_only" else "n_students"
        if ts is not None and doc.cells[n_key].value > 0:
            for r in ts.loc[ts["level"] == "student"].itertuples(index=False):
                if pd.isna(r.rate):
                    continue
                kk = doc.count(
                    f"ts.{r.factor}.k", round(r.rate * doc.cells[n_key].value), printed=False
                )
                doc.rate(f"ts.{r.factor}.rate", kk, n_key)

    def _kkey(self, definition: str, k: int) -> str:
        return (
            "n_progressing"
            if (definition, k) == (self.definition, self.k)
            else (f"k.{definition}.k{k}")
        )

    def apply(self, doc) -> None:
        """Replace the published tables by the raw ones with ``doc``'s suppressions."""
        raw = self.internal
        self.disclosure = doc
        rate_cols = ["proportion", "ci_low", "ci_high", "lower_bound", "p_value"]
        rate_cols += ["boot_ci_low", "boot_ci_high", "boot_lower_bound"]

        def rows(df, rate_of, count_of):
            keys: dict[str, list] = {}
            for c in ("n_students", "n_evaluable", "n_not_evaluable", "n_progressing"):
                if c in df:
                    keys[c] = [count_of(r, c) for r in df.itertuples(index=False)]
            for c in ("successes", "n"):
                if c in df:
                    keys[c] = [
                        count_of(
                            r,
                            "n_progressing"
                            if c == "successes"
                            else ("n_evaluable" if r.rule == "evaluable_only" else "n_students"),
                        )
                        for r in df.itertuples(index=False)
                    ]
            rk = [rate_of(r) for r in df.itertuples(index=False)]
            return doc.mask_table(df, keys, rates=rk, rate_columns=rate_cols)

        def v_count(r, c):
            return self._kkey(r.definition, r.k) if c == "n_progressing" else c

        def v_rate(r):
            return f"rate.{r.definition}.k{r.k}.{r.rule}"

        self.verdict = rows(raw["verdict"], v_rate, v_count)
        self.sensitivity = rows(raw["sensitivity"], v_rate, v_count)
        self.breakdowns = rows(
            raw["breakdowns"],
            lambda r: f"bd.{r.by}.{r.group}.rate",
            lambda r, c: f"bd.{r.by}.{r.group}.{c}",
        )

        def y_key(r, c):
            if r.year == self.year:
                return self._kkey(self.definition, self.k) if c == "n_progressing" else c
            return f"y{r.year}.{c}"

        def y_rate(r):
            if r.year == self.year:
                return f"rate.{self.definition}.k{self.k}.{self.rule}"
            return f"y{r.year}.rate"

        self.trend = rows(raw["trend"], y_rate, y_key)
        ctx = dict(raw["context"])
        cr = ctx.get("comparison_rates")
        if cr is not None and len(cr):
            keys = {f"{c}{i}": [f"cmp.{c}{i}"] for i in "12" for c in ("n", "x")}
            keys.update({f"p{i}": [f"cmp.rate{i}"] for i in "12"})
            t = doc.mask_table(cr.reset_index(drop=True).iloc[:1], keys)
            if t["suppressed"].any():
                for c in ("difference", "ci_low", "ci_high", "p1", "p2"):
                    if c in t:
                        t[c] = np.nan
            ctx["comparison_rates"] = t
        fp = ctx.get("false_positive")
        if fp is not None and "observed" in fp:
            ok = [
                not doc.suppressed(f"rate.{r.definition}.k{r.k}.evaluable_only")
                if f"rate.{r.definition}.k{r.k}.evaluable_only" in doc.rates
                else False
                for r in fp.itertuples(index=False)
            ]
            ctx["false_positive"] = fp.assign(observed=fp["observed"].where(ok))
        rel = ctx.get("reliability")
        if rel is not None and len(rel):
            keys = {"n": [f"rel.{r.wave}.{r.dimension}.n" for r in rel.itertuples(index=False)]}
            ctx["reliability"] = doc.mask_table(rel, keys)
        ts = ctx.get("threshold_sensitivity")
        if ts is not None and len(ts):
            hide = [
                lvl == "student"
                and (f"ts.{f}.rate" not in doc.rates or doc.suppressed(f"ts.{f}.rate"))
                for lvl, f in zip(ts["level"], ts["factor"], strict=True)
            ]
            ctx["threshold_sensitivity"] = ts.assign(rate=ts["rate"].mask(hide))
        self.context = ctx

    def headline_row(self, rule: str | None = None) -> pd.Series:
        """The verdict row of a rule (default: the headline rule)."""
        t = self.verdict.loc[self.verdict["rule"] == (rule or self.rule)]
        return t.iloc[0]

    def summary(self) -> dict:
        """The headline numbers as plain Python values (for ``--json`` and report text)."""
        h = self.headline_row()
        other = next(r for r in RULES if r != self.rule)
        o = self.headline_row(other)
        fp = self.context["false_positive"]
        fp = fp.loc[(fp["definition"] == self.definition) & (fp["k"] == self.k)]
        sens = self.sensitivity["verdict"].value_counts()
        ts = self.context["threshold_sensitivity"]
        ts = ts.loc[ts["level"] == "student"].set_index("factor")["rate"]
        cmp_ = self.context.get("comparison_rates")
        keys = ["n_students", "n_evaluable", "n_not_evaluable", "n_progressing"]
        stats_ = ["proportion", "ci_low", "ci_high", "lower_bound", "p_value", "verdict"]
        boot = ["boot_ci_low", "boot_ci_high", "boot_lower_bound", "boot_verdict"]
        return {
            "study": self.study,
            "level": self.level,
            "year": self.year,
            "definition": self.definition,
            "k": self.k,
            "target": self.target,
            "method": self.method,
            "confidence": 1 - self.alpha,
            "rule": self.rule,
            **{c: _plain(h[c]) for c in keys + stats_},
            **{c: _plain(h.get(c)) for c in boot},
            "other_rule": {"rule": other, **{c: _plain(o[c]) for c in ["n", *stats_]}},
            "false_positive_rate": _plain(fp["p_student"].iloc[0]) if len(fp) else None,
            "rate_threshold_minus5": _plain(ts.get(0.95)),
            "rate_threshold_plus5": _plain(ts.get(1.05)),
            "sensitivity_verdicts": {str(k): int(v) for k, v in sens.items()},
            "verdict_robust": bool(sens.size == 1),
            "comparison": _records(cmp_)[0] if cmp_ is not None and len(cmp_) else None,
            "notes": list(self.notes),
        }

    def to_json_dict(self, *, internal: bool = False) -> dict:
        """``summary()`` plus every published table as records (never per-student rows).

        ``internal=True``: the unsuppressed tables (for the school's own use, never published).
        """
        if internal and self.internal:
            pub = (self.verdict, self.sensitivity, self.breakdowns, self.trend, self.context)
            raw = self.internal
            self.verdict, self.sensitivity = raw["verdict"], raw["sensitivity"]
            self.breakdowns, self.trend, self.context = (
                raw["breakdowns"],
                raw["trend"],
                raw["context"],
            )
            try:
                return self.to_json_dict()
            finally:
                self.verdict, self.sensitivity, self.breakdowns, self.trend, self.context = pub
        return {
            "summary": self.summary(),
            "verdict": _records(self.verdict),
            "sensitivity": _records(self.sensitivity),
            "breakdowns": _records(self.breakdowns),
            "trend": _records(self.trend),
            "context": {k: _records(v) for k, v in self.context.items()},
        }

    def headline(self, lang: str = "zh") -> str:
        """The report sentence with the verdict, its interval and the missing students."""
        s = self.summary()
        if s["proportion"] is None:
            return (
                f"{self.year}学年的显著进步比例涉及少于{self.min_cell}名学生，按小单元格规则不报告。"
                if lang == "zh"
                else f"The {self.year} progress rate rests on fewer than {self.min_cell} "
                "students (progressing or not): not reported."
            )
        doc = self.disclosure

        def cnt(key):
            return doc.text(key) if doc is not None and key in doc.cells else f"{s[key]:,}"

        o = s["other_rule"]
        conf = f"{1 - self.alpha:.0%}"
        def_zh, def_en = DEFINITIONS[self.definition]
        who = "受导学生" if self.level == "middle" else "学生"
        if lang == "zh":
            k_txt = _K_ZH.get(self.k, str(self.k))
            text = (
                f"{self.year}学年共评估{cnt('n_evaluable')}名{who}，其中{s['proportion']:.1%}"
                f"（{conf}置信区间{s['ci_low']:.1%}–{s['ci_high']:.1%}）至少在{k_txt}个发展维度"
                f"取得显著进步（判定标准：{def_zh}）"
            )
            if s["n_not_evaluable"] is None or s["n_not_evaluable"]:
                text += f"；另有{cnt('n_not_evaluable')}名{who}缺少前测或后测" + (
                    f"，若计为未进步，比例为{o['proportion']:.1%}（{o['ci_low']:.1%}–{o['ci_high']:.1%}）"
                    if o["proportion"] is not None
                    else ""
                )
            text += (
                f"。对照{self.target:.0%}的目标：{VERDICTS[s['verdict']]}"
                f"（单侧{conf}置信下限{s['lower_bound']:.1%}，精确二项检验 p = {s['p_value']:.3f}）。"
            )
            if s["boot_lower_bound"] is not None:
                text += (
                    f"计入阈值估计误差的自助法{conf}区间为{s['boot_ci_low']:.1%}–"
                    f"{s['boot_ci_high']:.1%}（判定：{VERDICTS[s['boot_verdict']]}）。"
                )
            if s["false_positive_rate"] is not None:
                text += (
                    f"若无任何真实变化，此规则也会判定约{s['false_positive_rate']:.1%}的学生进步。"
                )
            return text
        dims = "dimension" if self.k == 1 else "dimensions"
        text = (
            f"In the {self.year} school year {cnt('n_evaluable')} students were assessed; "
            f"{s['proportion']:.1%} ({conf} CI {s['ci_low']:.1%}–{s['ci_high']:.1%}) made "
            f"significant progress in at least {self.k} development {dims} ({def_en})"
        )
        if s["n_not_evaluable"] is None or s["n_not_evaluable"]:
            text += f"; {cnt('n_not_evaluable')} more lack a pre or post test" + (
                f", and counting them as not progressing gives {o['proportion']:.1%} "
                f"({o['ci_low']:.1%}–{o['ci_high']:.1%})"
                if o["proportion"] is not None
                else ""
            )
        text += (
            f". Against the {self.target:.0%} target: {s['verdict']} (one-sided {conf} lower "
            f"bound {s['lower_bound']:.1%}, exact binomial p = {s['p_value']:.3f})."
        )
        if s["boot_lower_bound"] is not None:
            text += (
                f" A bootstrap {conf} interval that also re-estimates the threshold gives "
                f"{s['boot_ci_low']:.1%}–{s['boot_ci_high']:.1%} (verdict: {s['boot_verdict']})."
            )
        if s["false_positive_rate"] is not None:
            text += (
                f" With no true change at all the rule would still flag about "
                f"{s['false_positive_rate']:.1%} of students."
            )
        return text

    def figures(self, lang: str = "zh") -> dict:
        """The four figures: ``by_year``, ``by_grade``, ``dimensions``, ``pre_post``."""
        from .rules import DIMENSION_LABELS_ZH

        labels = DIMENSION_LABELS_ZH[self.level] if lang == "zh" else None
        return {
            "by_year": plot_rate_by_year(
                self.trend, target=self.target, lang=lang, confidence=1 - self.alpha
            ),
            "by_grade": plot_rate_by_group(
                self.breakdowns, by="grade", target=self.target, lang=lang, min_cell=self.min_cell
            ),
            "dimensions": plot_dimensions_improved(
                self.per_student, min_cell=self.min_cell, lang=lang
            ),
            "pre_post": plot_pre_post(self.changes, lang=lang, labels=labels),
        }


_DEF_SPECS = {
    "rci_data": {"definition": "rci", "reliability": "data"},
    "rci_published": {"definition": "rci", "reliability": "published"},
    "mid": {"definition": "mid"},
}


def _weighted_alpha(W: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Cronbach's alpha of items X (N x k, NaN = missing; listwise) under frequency weights W."""
    c = ~np.isnan(X).any(axis=1)
    Xc = np.where(c[:, None], np.nan_to_num(X), 0.0)
    Wc = W * c
    n = Wc.sum(axis=1)[:, None]
    var_j = (Wc @ Xc**2 - (Wc @ Xc) ** 2 / n) / (n - 1)
    t = Xc.sum(axis=1)
    var_t = (Wc @ t**2 - (Wc @ t) ** 2 / n[:, 0]) / (n[:, 0] - 1)
    k = X.shape[1]
    return k / (k - 1) * (1 - var_j.sum(axis=1) / var_t)


def _bootstrap_rates(
    ch: pd.DataFrame,
    groups: np.ndarray,
    pop: np.ndarray,
    items: list[np.ndarray] | None,
    *,
    k: int,
    n_boot: int,
    seed: int,
    z: float,
    mid: float,
) -> dict[str, np.ndarray]:
    """Bootstrap replicates of the progress rate under both missing-data rules.

    Students of the roster are resampled with replacement; each replicate re-estimates the
    pre-test SD (per ``groups``: one group, or the grades), the pre-wave alpha when ``items``
    are given, and so the threshold, before counting. ``ch`` is :func:`change_scores` output
    in roster order (N students x D dimensions).
    """
    D = ch["dimension"].nunique()
    N = len(ch) // D
    pre = ch["pre"].to_numpy(dtype=float).reshape(N, D)
    sign = np.where(ch["direction"].to_numpy() == "down", -1.0, 1.0).reshape(N, D)
    change = sign * (ch["post"].to_numpy(dtype=float).reshape(N, D) - pre)
    n_ev = (~np.isnan(change)).sum(axis=1)
    has_pre = ~np.isnan(pre)
    pre0 = np.where(has_pre, pre, 0.0)
    rci = ch["definition"].iloc[0] == "rci"
    rel_fixed = ch["reliability"].to_numpy(dtype=float).reshape(N, D)[0]
    g_codes, g_uniq = pd.factorize(pd.Series(groups))
    rng = np.random.default_rng(seed)
    chunk = max(1, min(200, int(4e6 // max(N * D, 1))))
    ev_k, pop_f = ((n_ev >= k) & pop).astype(float), pop.astype(float)
    out = {"evaluable_only": [], "missing_not_progressing": []}
    for start in range(0, n_boot, chunk):
        b = min(chunk, n_boot - start)
        W = rng.multinomial(N, np.full(N, 1.0 / N), size=b).astype(float)
        sd = np.empty((b, len(g_uniq), D))
        for g in range(len(g_uniq)):
            Wg = W * (g_codes == g)
            sw, s1, s2 = Wg @ has_pre, Wg @ pre0, Wg @ pre0**2
            with np.errstate(invalid="ignore", divide="ignore"):
                sd[:, g, :] = np.sqrt((s2 - s1**2 / sw) / (sw - 1))
        if rci:
            if items is not None:
                rel = np.column_stack([_weighted_alpha(W, X) for X in items])
            else:
                rel = np.broadcast_to(rel_fixed, (b, D))
            thr = z * np.sqrt(2.0) * sd * np.sqrt(1 - rel)[:, None, :]
        else:
            thr = mid * sd
        thr_s = thr[:, g_codes, :]  # b x N x D
        with np.errstate(invalid="ignore"):
            imp = change[None] > thr_s if rci else change[None] >= thr_s
        prog = (imp.sum(axis=2) >= k) & pop
        num = (W * prog).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out["evaluable_only"].append(num / (W @ ev_k))
            out["missing_not_progressing"].append(num / (W @ pop_f))
    return {r: np.concatenate(v) for r, v in out.items()}


class _Year:
    """Scores and rosters of one year, and per-student tables per definition (cached).

    ``change_scores`` returns the roster's students in roster order, each with one row per
    dimension, and ``student_progress`` keeps that order, so the population and comparison
    rows are picked by position (no string matching on large rosters).
    """

    def __init__(self, processed, scores, rel, cb, year, sd_by, mid, z=1.96):
        self.year, self.cb, self.sd_by, self.mid, self.z = year, cb, sd_by, mid, z
        self.items = processed["assessment_items"]
        self.scores, self.rel = scores, rel
        self.roster = _roster(processed["students"], year)
        self.mentee = (
            self.roster["mentee"].fillna(False).to_numpy(dtype=bool)
            if "mentee" in self.roster.columns
            else np.ones(len(self.roster), dtype=bool)
        )
        self.pop = self.roster.loc[self.mentee]
        self.comparison = self.roster.loc[~self.mentee]
        sc = scores.loc[scores["year"] == year]
        self.has_post = bool((sc["wave"].astype("str") == "post").any())
        scored = pd.Index(sc["student_id"].astype("str").unique())
        self.n_unmatched = int((pd.Index(self.roster["student_id"]).get_indexer(scored) < 0).sum())
        self._cache: dict[tuple[str, str], pd.DataFrame] = {}

    def changes(self, name: str) -> pd.DataFrame:
        key = ("changes", name)
        if key not in self._cache:
            spec = dict(_DEF_SPECS[name])
            if spec.get("reliability") == "data":
                spec["reliability"] = self.rel
            self._cache[key] = change_scores(
                self.scores,
                year=self.year,
                codebook=self.cb,
                roster=self.roster,
                sd_by=self.sd_by,
                mid=self.mid,
                **spec,
            )
        return self._cache[key]

    def group_changes(self, name: str, group: str = "pop") -> pd.DataFrame:
        ch = self.changes(name)
        rows = np.repeat(self.mentee if group == "pop" else ~self.mentee, len(self.cb.dimensions))
        return ch.loc[rows].reset_index(drop=True)

    def per_student(self, name: str, group: str = "pop") -> pd.DataFrame:
        key = ("per", name)
        if key not in self._cache:
            per = student_progress(self.changes(name))
            ids = self.roster["student_id"].to_numpy(dtype=object)
            if len(per) != len(ids) or not (per["student_id"].to_numpy(dtype=object) == ids).all():
                raise RuntimeError("per-student rows out of roster order")  # pragma: no cover
            self._cache[key] = per
        rows = self.mentee if group == "pop" else ~self.mentee
        return self._cache[key].loc[rows].reset_index(drop=True)

    def pre_items(self) -> list[np.ndarray]:
        """Pre-wave recoded answers per dimension, as roster-aligned N x k matrices."""
        it = self.items
        it = it.loc[(it["year"] == self.year) & (it["wave"].astype("str") == "pre")]
        rec = scales.reverse_code(it, self.cb)
        row = pd.Index(self.roster["student_id"]).get_indexer(rec["student_id"].astype("str"))
        out = []
        for d in self.cb.dimensions:
            names = [f.var for f in self.cb.items_of(d)]
            m = (rec["dimension"] == d).to_numpy() & (row >= 0)
            col = pd.Index(names).get_indexer(rec.loc[m, "item"].astype("str"))
            X = np.full((len(self.roster), len(names)), np.nan)
            X[row[m], col] = rec.loc[m, "value"].to_numpy()
            out.append(X)
        return out

    def bootstrap(self, name: str, k: int, n_boot: int, seed: int, alpha: float) -> pd.DataFrame:
        """Percentile bootstrap interval of the rate that re-estimates the threshold."""
        groups = (
            self.roster["grade"].to_numpy()
            if self.sd_by == "grade"
            else np.zeros(len(self.roster), dtype=int)
        )
        items = self.pre_items() if name == "rci_data" else None
        reps = _bootstrap_rates(
            self.changes(name),
            groups,
            self.mentee,
            items,
            k=k,
            n_boot=n_boot,
            seed=seed,
            z=self.z,
            mid=self.mid,
        )
        rows = []
        for rule, r in reps.items():
            r = r[np.isfinite(r)]
            lo, hi, lb = (
                np.quantile(r, [alpha / 2, 1 - alpha / 2, alpha]) if len(r) else [np.nan] * 3
            )
            rows.append(
                {"rule": rule, "boot_ci_low": lo, "boot_ci_high": hi, "boot_lower_bound": lb}
            )
        return pd.DataFrame(rows)


def _available(cb: Codebook) -> list[str]:
    names = ["rci_data", "rci_published", "mid"]
    if any(d.published_alpha is None for d in cb.dimensions.values()):
        names.remove("rci_published")
    return names


def _sensitivity(y: _Year, names, ks, target, method, alpha, headline) -> pd.DataFrame:
    rows = []
    for name in names:
        ps = y.per_student(name)
        for kk in ks:
            v = year_verdict(ps, k=kk, target=target, method=method, alpha=alpha)
            rows.append(v.assign(definition=name))
    t = pd.concat(rows, ignore_index=True)
    t.insert(0, "definition", t.pop("definition"))
    d, k, rule = headline
    return t.assign(headline=(t["definition"] == d) & (t["k"] == k) & (t["rule"] == rule))


def threshold_sensitivity(
    changes: pd.DataFrame, *, k: int = 1, factors: Sequence[float] = (0.95, 1.0, 1.05)
) -> pd.DataFrame:
    """How the rate moves when the improvement threshold moves a little.

    Parameters
    ----------
    changes : DataFrame
        :func:`change_scores` output (one definition, one year).
    k : int, default 1
        Student level: improvement in at least ``k`` dimensions.
    factors : sequence of float
        Multiply every student's threshold by these factors.

    Returns
    -------
    DataFrame
        ``level`` (a dimension, or "student"), ``factor``, ``threshold`` (median threshold
        after scaling; NaN for the student row), ``rate`` (share of evaluable students
        improved).

    Notes
    -----
    A scale mean of six 1-5 items moves in steps of 1/6, so the rate is a step function of
    the threshold: when the estimated threshold sits next to a step, a few percent change in
    the pre-test SD or alpha moves every student on that step. A large jump between the
    factors warns that the verdict hangs on the third decimal of alpha.
    """
    need = {"dimension", "change", "threshold", "direction", "evaluable"}
    if not need <= set(changes.columns):
        raise InputError(f"changes lack column(s) {sorted(need - set(changes.columns))}")
    rci = "definition" not in changes or (changes["definition"] == "rci").all()
    dims = list(pd.unique(changes["dimension"].astype("str")))
    D = len(dims)
    if len(changes) % D:
        raise InputError("changes must have one row per student and dimension")
    ev = changes["evaluable"].to_numpy(dtype=bool)
    sign = np.where(changes["direction"].to_numpy() == "down", -1.0, 1.0)
    ch = sign * changes["change"].to_numpy(dtype=float)
    thr = changes["threshold"].to_numpy(dtype=float)
    dim = changes["dimension"].astype("str").to_numpy()
    n_ev = ev.reshape(-1, D).sum(axis=1)
    rows = []
    for f in factors:
        with np.errstate(invalid="ignore"):
            imp = (ch > f * thr) if rci else (ch >= f * thr)
        imp &= ev
        for d in dims:
            m = dim == d
            rows.append(
                {
                    "level": d,
                    "factor": f,
                    "threshold": float(np.nanmedian(thr[m]) * f) if m.any() else np.nan,
                    "rate": imp[m].sum() / max(ev[m].sum(), 1),
                }
            )
        prog = imp.reshape(-1, D).sum(axis=1) >= k
        rows.append(
            {
                "level": "student",
                "factor": f,
                "threshold": np.nan,
                "rate": prog.sum() / max((n_ev >= k).sum(), 1),
            }
        )
    return pd.DataFrame(rows)


def _context(y: _Year, names, ks, sens, definition, k, alpha, rel_year) -> dict:
    D = len(y.cb.dimensions)
    pre = rel_year.loc[rel_year["wave"] == "pre"].set_index("dimension")["alpha"]
    fp = []
    for name in names:
        for kk in ks:
            if name == "mid":
                r = pre.reindex(list(y.cb.dimensions)).to_numpy(dtype=float)
                t = false_positive_rate(n_dimensions=D, k=kk, mid=y.mid, reliability=r)
            else:
                t = false_positive_rate(n_dimensions=D, k=kk)
            obs = sens.loc[
                (sens["definition"] == name)
                & (sens["k"] == kk)
                & (sens["rule"] == "evaluable_only"),
                "proportion",
            ]
            fp.append(t.assign(definition=name, observed=float(obs.iloc[0])))
    fp = pd.concat(fp, ignore_index=True)
    fp.insert(0, "definition", fp.pop("definition"))
    ctx = {
        "false_positive": fp,
        "threshold_sensitivity": threshold_sensitivity(y.group_changes(definition), k=k),
    }
    comp = y.comparison
    if len(comp):
        a, b = y.per_student(definition), y.per_student(definition, "comparison")
        na, ea, pa = _counts(a, k)
        nb, eb, pb = _counts(b, k)
        if ea and eb:
            ctx["comparison_rates"] = rate_difference(pa, ea, pb, eb, alpha=alpha).assign(
                group1="mentees", group2="non_mentees", definition=definition, k=k
            )
        ch1, ch2 = y.group_changes(definition), y.group_changes(definition, "comparison")
        rows = []
        for d in y.cb.dimensions:
            x1 = ch1.loc[ch1["dimension"] == d, "change"]
            x2 = ch2.loc[ch2["dimension"] == d, "change"]
            if x1.notna().sum() >= 2 and x2.notna().sum() >= 2:
                rows.append(mean_difference(x1, x2, alpha=alpha).assign(dimension=d))
        if rows:
            m = pd.concat(rows, ignore_index=True)
            m.insert(0, "dimension", m.pop("dimension"))
            ctx["comparison_means"] = m
    return ctx


def progress_report(
    processed,
    year: int,
    *,
    k: int | None = None,
    method: str = "wilson",
    min_cell: int = MIN_CELL,
    definition: str = "rci_data",
    rule: str = "evaluable_only",
    alpha: float = 0.05,
    sd_by: str | None = None,
    mid: float = 0.5,
    n_boot: int = 1000,
    seed: int = 0,
) -> ProgressReport:
    """The 85% verdict of a school year with its uncertainty, robustness and context.

    Parameters
    ----------
    processed : mentorlib.data.Processed
        The study (needs ``students`` and ``assessment_items``; ``assignments`` for the
        mentor breakdown).
    year : int
        The school year (named by its first calendar year).
    k : int, optional
        Progressing = significant improvement in at least ``k`` dimensions (default: the
        rulebook's ``k_dimensions``, 1).
    method : {"wilson", "clopper-pearson"}
        Interval method.
    min_cell : int, default 5
        Small-cell threshold for every published table.
    definition : {"rci_data", "rci_published", "mid"}
        The headline definition of significant progress: the RCI with this year's pre-wave
        alpha (default), with the codebook's published alpha, or the minimal important
        difference (``mid`` pre-test SDs).
    rule : {"evaluable_only", "missing_not_progressing"}
        The headline missing-data rule (both are always reported).
    alpha : float, default 0.05
        Error rate of intervals and tests.
    sd_by : {None, "grade"}
        Scale change by the pre-test SD of the whole school or of each grade.
    mid : float, default 0.5
        The minimal important difference, in pre-test SDs.
    n_boot : int, default 1000
        Bootstrap replicates for the second interval of the headline verdict (0 to skip).
    seed : int, default 0
        Seed of the bootstrap.

    Returns
    -------
    ProgressReport
        See :class:`ProgressReport`.

    Notes
    -----
    The population judged is the programme's: every student in primary school, the
    mentees (``students.mentee``) in middle school, whose non-mentees become the comparison
    group. The pre-test SD and alpha come from the year's whole roster, so both groups are
    measured with the same ruler. The target comes from the rulebook (0.85).
    Middle-school mentees are nominated for need, so part of their gain over non-mentees is
    regression to the mean; the comparison bounds maturation, not the programme effect.

    The Wilson (or Clopper-Pearson) interval treats the threshold as known. It is not: the
    pre-test SD and alpha are estimated from the same students, and because a scale mean
    moves in steps (1/6 of a point for six items) a small shift of the threshold can move
    a whole step of students in or out. The verdict table therefore also carries a
    percentile bootstrap interval (``boot_ci_low, boot_ci_high, boot_lower_bound,
    boot_verdict``; Efron & Tibshirani 1993, ch. 13) that resamples students and
    re-estimates SD, alpha and threshold in every replicate. In the validation against the
    generator's truth (``benchmarks/validate_progress.py``: 200 schools of 1,200, the
    population value from a school of 200,000) the Wilson interval of the headline rate
    covered the population value in 70% of schools, the bootstrap interval in 90.5%; the
    MID rate, whose threshold sits in the bulk of the change distribution, was covered 94.5%
    by Wilson. ``context["threshold_sensitivity"]`` shows the rate with the threshold moved
    by 5%.
    """
    rules = processed.rules
    k = rules.k_dimensions if k is None else int(k)
    target = rules.target_share
    if definition not in _DEF_SPECS:
        raise InputError(f"definition must be one of {list(_DEF_SPECS)}, got {definition!r}")
    if rule not in RULES:
        raise InputError(f"rule must be one of {list(RULES)}, got {rule!r}")
    if year not in processed.years:
        raise InputError(f"year {year} is not in study {processed.name!r} ({processed.years})")
    if n_boot < 0:
        raise InputError(f"n_boot must be 0 or more, got {n_boot}")
    if not 1 <= k <= len(processed.dimensions):
        raise InputError(f"k must be between 1 and {len(processed.dimensions)}, got {k}")
    cb = processed.codebook("assessment")
    names = _available(cb)
    if definition not in names:
        raise InputError(f"definition {definition!r} needs published alphas in the codebook")
    items = processed["assessment_items"]
    scores = scales.score_scales(items, cb)
    rel = scales.reliability(items, cb, ci=1 - alpha)
    y = _Year(processed, scores, rel, cb, year, sd_by, mid)
    if not y.has_post:
        raise InputError(f"year {year} has no post-wave assessment yet; no verdict possible")
    notes = []
    years = {}
    for yy in sorted(processed.years):
        try:
            years[yy] = y if yy == year else _Year(processed, scores, rel, cb, yy, sd_by, mid)
        except InputError as e:
            notes.append(f"trend: year {yy} left out ({e})")
    if y.n_unmatched:
        notes.append(f"{y.n_unmatched} assessed student(s) are not on the {year} roster")
    if "rci_published" not in names:
        notes.append("the codebook gives no published alpha: that definition is left out")
    ks = sorted({1, 2, k})
    sens = _sensitivity(y, names, ks, target, method, alpha, (definition, k, rule))
    verdict = sens.loc[(sens["definition"] == definition) & (sens["k"] == k)].drop(
        columns="headline"
    )
    if n_boot:
        boot = y.bootstrap(definition, k, n_boot, seed, alpha)
        verdict = verdict.merge(boot, on="rule", how="left")
        verdict["boot_verdict"] = [
            _verdict(p, lb, target) if np.isfinite(lb) else None
            for p, lb in zip(verdict["proportion"], verdict["boot_lower_bound"], strict=True)
        ]
    per = y.per_student(definition)
    bd = breakdowns(
        per,
        y.pop,
        assignments=processed.tables.get("assignments"),
        k=k,
        rule=rule,
        method=method,
        alpha=alpha,
    )
    trend_rows = []
    for yy, Y in years.items():
        if not Y.has_post or Y.pop.empty:
            continue
        try:
            v = year_verdict(
                Y.per_student(definition), k=k, target=target, method=method, alpha=alpha
            )
        except InputError as e:
            notes.append(f"trend: year {yy} left out ({e})")
            continue
        trend_rows.append(v.loc[v["rule"] == rule].assign(year=yy))
    trend = pd.concat(trend_rows, ignore_index=True)
    trend.insert(0, "year", trend.pop("year"))
    ctx = _context(y, names, ks, sens, definition, k, alpha, rel.loc[rel["year"] == year])
    if len(trend) >= 2:
        ctx["trend_test"] = trend_test(trend["successes"], trend["n"], scores=trend["year"]).assign(
            note="years share students: the test's independence assumption is violated"
        )
    ctx["reliability"] = rel.loc[rel["year"] == year].reset_index(drop=True)
    raw = {
        "verdict": verdict.assign(year=year).reset_index(drop=True),
        "sensitivity": sens.reset_index(drop=True),
        "breakdowns": bd.reset_index(drop=True),
        "trend": trend.reset_index(drop=True),
        "context": ctx,
    }
    rep = ProgressReport(
        study=processed.name,
        level=processed.level,
        year=year,
        k=k,
        target=target,
        method=method,
        alpha=alpha,
        definition=definition,
        rule=rule,
        min_cell=min_cell,
        verdict=raw["verdict"],
        sensitivity=raw["sensitivity"],
        breakdowns=raw["breakdowns"],
        trend=raw["trend"],
        context=dict(ctx),
        per_student=per,
        changes=y.group_changes(definition),
        notes=notes,
        internal=raw,
    )
    doc = Document(min_cell, name=f"progress {processed.name} {year}")
    rep.register(doc)
    rep.apply(doc.protect())
    return rep


# --------------------------------------------------------------------- figures


def _pct_axis(ax) -> None:
    from matplotlib.ticker import PercentFormatter

    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))


def _target_line(ax, target: float, lang: str) -> None:
    from .plots import target_marker as _target_marker

    _target_marker(ax, target, lang, vertical=False)


def _interval_points(ax, x, t: pd.DataFrame, color) -> None:
    p = t["proportion"].to_numpy(dtype=float, na_value=np.nan)
    lo = t["ci_low"].to_numpy(dtype=float, na_value=np.nan)
    hi = t["ci_high"].to_numpy(dtype=float, na_value=np.nan)
    ax.errorbar(
        x, p, yerr=[p - lo, hi - p], fmt="o", color=color, ecolor=color, capsize=4, lw=1.5, ms=6
    )


def plot_rate_by_year(
    trend: pd.DataFrame,
    *,
    target: float = 0.85,
    lang: str = "zh",
    confidence: float = 0.95,
    ax=None,
):
    """The progress rate per year with its confidence interval, against the target line.

    Parameters
    ----------
    trend : DataFrame
        ``year, proportion, ci_low, ci_high`` (``ProgressReport.trend``).
    target : float, default 0.85
        Drawn as a dashed line.
    lang : {"zh", "en"}
        Label language.
    confidence : float, default 0.95
        The intervals' confidence level (for the title).
    ax : matplotlib Axes, optional
        Draw into it instead of a new figure.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    from .plots import PALETTE, label, use_style

    use_style()
    fig, ax = plt.subplots(figsize=(6, 3.6)) if ax is None else (ax.figure, ax)
    t = trend.sort_values("year")
    x = np.arange(len(t))
    _interval_points(ax, x, t, PALETTE[0])
    ax.set_xticks(x, [label(f"{y}学年", str(y), lang) for y in t["year"]])
    _target_line(ax, target, lang)
    lo = np.nanmin([t["ci_low"].min(), target]) if len(t) else target
    ax.set_ylim(max(0.0, float(lo) - 0.1), 1.0)
    _pct_axis(ax)
    ax.set_ylabel(label("取得显著进步的学生比例", "share of students progressing", lang))
    c = f"{confidence:.0%}"
    ax.set_title(
        label(f"各学年显著进步比例（{c}置信区间）", f"Progress rate by year ({c} CI)", lang)
    )
    return fig


def plot_rate_by_group(
    breakdown: pd.DataFrame,
    *,
    by: str = "grade",
    target: float = 0.85,
    lang: str = "zh",
    min_cell: int = MIN_CELL,
):
    """The progress rate per group (grade by default) with intervals; suppressed cells marked.

    Parameters
    ----------
    breakdown : DataFrame
        ``ProgressReport.breakdowns`` (``by, group, proportion, ci_low, ci_high``, and
        ``suppressed``).
    by : str, default "grade"
        Which breakdown to draw.
    target : float, default 0.85
        Drawn as a dashed line.
    lang : {"zh", "en"}
        Label language.
    min_cell : int, default 5
        The threshold the table was suppressed with (for the "<5" marks).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    from .plots import PALETTE, label, use_style

    use_style()
    t = breakdown.loc[breakdown["by"] == by].reset_index(drop=True)
    if t.empty:
        raise InputError(f"no {by!r} rows in the breakdown table")
    if by == "grade":
        t = t.assign(_o=pd.to_numeric(t["group"], errors="coerce")).sort_values("_o")
        names = [label(f"{g}年级", f"grade {g}", lang) for g in t["group"]]
    else:
        names = [str(g) for g in t["group"]]
    fig, ax = plt.subplots(figsize=(max(4.5, 0.7 * len(t) + 2), 3.6))
    x = np.arange(len(t))
    _interval_points(ax, x, t, PALETTE[0])
    sup = t["suppressed"].to_numpy(dtype=bool) if "suppressed" in t else np.zeros(len(t), bool)
    for xi in x[sup]:
        ax.annotate(f"<{min_cell}", xy=(xi, 0.02), xycoords=("data", "axes fraction"), ha="center")
    ax.set_xticks(x, names)
    _target_line(ax, target, lang)
    ax.set_ylim(max(0.0, float(np.nanmin([t["ci_low"].min(), target])) - 0.1), 1.0)
    _pct_axis(ax)
    title = {"grade": ("各年级", "by grade"), "gender": ("按性别", "by gender")}.get(
        by, (by, f"by {by}")
    )
    ax.set_ylabel(label("取得显著进步的学生比例", "share of students progressing", lang))
    ax.set_title(label(f"{title[0]}显著进步比例", f"Progress rate {title[1]}", lang))
    return fig


def plot_dimensions_improved(
    per_student: pd.DataFrame, *, min_cell: int = MIN_CELL, lang: str = "zh", texts=None
):
    """How many dimensions each student improved in (and how many were not evaluable).

    Parameters
    ----------
    per_student : DataFrame
        :func:`student_progress` output.
    min_cell : int, default 5
        Bars counting fewer students are not drawn; they read "<5".
    lang : {"zh", "en"}
        Label language.
    texts : list of str, optional
        What the document prints for each bar (0..D dimensions, then not evaluable) after
        disclosure control; a bar whose text is not a number is not drawn.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    from .plots import PALETTE, label, use_style

    use_style()
    D = int(per_student["n_dimensions"].max()) if len(per_student) else 0
    ev = per_student["n_evaluable"] > 0
    counts = per_student.loc[ev, "n_improved"].value_counts().reindex(range(D + 1), fill_value=0)
    n_not = int((~ev).sum())
    names = [str(i) for i in range(D + 1)] + [label("无法评估", "not evaluable", lang)]
    vals = np.append(counts.to_numpy(), n_not)
    colors = [PALETTE[7]] + [PALETTE[2]] * D + [PALETTE[1]]
    fig, ax = plt.subplots(figsize=(6, 3.6))
    shown = np.where(vals >= min_cell, vals, 0)
    if texts is not None:
        texts = [str(x) for x in texts]
        shown = np.where([x.replace(",", "").isdigit() for x in texts], vals, 0)
    ax.bar(np.arange(len(vals)), shown, color=colors)
    for i, v in enumerate(vals):
        txt = f"{v:,}" if v >= min_cell else (f"<{min_cell}" if v > 0 else "0")
        if texts is not None:
            txt = texts[i]
        ax.annotate(txt, (i, shown[i]), xytext=(0, 2), textcoords="offset points", ha="center")
    ax.set_xticks(np.arange(len(vals)), names)
    ax.set_xlabel(label("取得显著进步的维度数", "dimensions with significant improvement", lang))
    ax.set_ylabel(label("学生人数", "students", lang))
    ax.set_title(label("学生显著进步的维度数分布", "Number of dimensions improved", lang))
    return fig


def plot_pre_post(
    changes: pd.DataFrame,
    *,
    dimension: str | None = None,
    lang: str = "zh",
    labels: Mapping[str, str] | None = None,
    seed: int = 0,
    max_points: int = 20000,
):
    """Pre against post score with the reliable-change band, one panel per dimension.

    Parameters
    ----------
    changes : DataFrame
        :func:`change_scores` output (``dimension, pre, post, threshold, direction,
        improved, deteriorated``).
    dimension : str, optional
        One dimension; default all.
    lang : {"zh", "en"}
        Label language.
    labels : mapping, optional
        Dimension name -> panel title.
    seed : int, default 0
        Seed of the jitter (scale means sit on a grid) and of the subsample.
    max_points : int, default 20000
        At most this many students are drawn per panel (a seeded random subsample).

    Returns
    -------
    matplotlib.figure.Figure

    Notes
    -----
    Points outside the band :math:`post = pre \\pm` threshold changed reliably (the band of
    Jacobson & Truax 1991); when the threshold varies between students (``sd_by="grade"``)
    the band drawn is at the median threshold. No student is labelled.
    """
    import matplotlib.pyplot as plt

    from .plots import PALETTE, label, use_style

    use_style()
    rng = np.random.default_rng(seed)
    c = changes.loc[changes["evaluable"].astype(bool)]
    dims = [dimension] if dimension else list(pd.unique(c["dimension"].astype("str")))
    if not dims or c.empty:
        raise InputError("no evaluable students to draw")
    ncol = min(2, len(dims))
    nrow = math.ceil(len(dims) / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 4.0 * nrow), squeeze=False)
    for ax, d in zip(axes.ravel(), dims, strict=False):
        part = c.loc[c["dimension"] == d]
        if len(part) > max_points:
            part = part.iloc[np.sort(rng.choice(len(part), max_points, replace=False))]
        jit = rng.uniform(-0.04, 0.04, (2, len(part)))
        x, y = part["pre"].to_numpy() + jit[0], part["post"].to_numpy() + jit[1]
        imp = part["improved"].fillna(False).to_numpy(dtype=bool)
        det = part["deteriorated"].fillna(False).to_numpy(dtype=bool)
        for mask, col, name in (
            (~imp & ~det, PALETTE[7], label("无可靠变化", "no reliable change", lang)),
            (imp, PALETTE[2], label("显著进步", "improved", lang)),
            (det, PALETTE[3], label("显著退步", "deteriorated", lang)),
        ):
            ax.scatter(x[mask], y[mask], s=4, alpha=0.35, color=col, label=name, rasterized=True)
        lo = float(np.nanmin([part["pre"].min(), part["post"].min()])) - 0.2
        hi = float(np.nanmax([part["pre"].max(), part["post"].max()])) + 0.2
        thr = float(part["threshold"].median())
        line = np.array([lo, hi])
        ax.plot(line, line, color="black", lw=0.8)
        for s in (1, -1):
            ax.plot(line, line + s * thr, color="black", lw=0.8, ls="--")
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
        ax.set_aspect("equal")
        ax.set_title((labels or {}).get(d, d))
        ax.set_xlabel(label("前测", "pre", lang))
        ax.set_ylabel(label("后测", "post", lang))
    for ax in axes.ravel()[len(dims) :]:
        ax.set_visible(False)
    axes.ravel()[0].legend(loc="upper left", markerscale=3, fontsize=8)
    fig.suptitle(
        label("前后测得分与可靠变化区间", "Pre against post with the reliable-change band", lang)
    )
    fig.tight_layout()
    return fig
