"""Propensity scores for the mentee comparison: ATT weights, balance, IPW and doubly robust AIPW.

The estimand is the average effect of being mentored on the mentored (ATT). With ``d`` the mentee
flag, ``x`` the covariates (first column the intercept) and ``y`` the outcome (the headline rule's
improvement flag):

- the propensity ``e(x) = P(d = 1 | x)`` is a logistic regression (statsmodels, Newton);
- ATT weights: 1 for a mentee, ``e / (1 - e)`` for a non-mentee (Hirano, Imbens & Ridder 2003),
  normalised within the non-mentees (Hajek), so the weighted non-mentees stand for what the
  mentees would have done unmentored;
- IPW: mean outcome of the mentees minus the weighted mean of the non-mentees;
- AIPW (doubly robust; Moodie, Saarela & Stephens 2018, Sant'Anna & Zhao 2020 for the ATT): an
  outcome regression ``m0(x)`` fitted on the non-mentees (logistic for a 0/1 outcome, least
  squares otherwise); the estimate is the mentees' mean residual ``y - m0`` minus the weighted
  non-mentees' mean residual. It is consistent when either model is right.

Intervals come from the influence function of the stacked estimating equations (the ATT, the
propensity's score equations and the outcome regression's), so the estimation of both models is
accounted for (M-estimation sandwich; Stefanski & Boos 2002), summed within clusters (classes:
students of a class share a class teacher who nominates and a mentor) for a cluster-robust
variance with the ``G / (G - 1)`` small-sample factor and the t quantile with ``G - 1`` degrees
of freedom (normal quantiles for independent students). Cameron, A. C. & Miller, D. L. (2015).
Journal of Human Resources 50, 317-372. The cluster-robust variance is never taken below the
independent students' one (Angrist & Pischke 2009, section 8.2.3: with few clusters, the larger
of the two): with a handful of classes, whose mean pre-test is a covariate of both models, the
class sums of the influence function nearly vanish, and a hand-made school of 4 classes with 6
mentees each got +21.4% [+17.0%, +25.7%] for 24 mentees, where the unadjusted difference's
interval is 38 points wide.

Balance: standardised mean differences of every covariate, mentees against non-mentees, before
and after weighting, over the pooled unweighted SD (Austin 2009); below 0.1 counts as balanced.
Overlap: mentees with ``e > TRIM`` have no comparable non-mentees and are left out (the note
says how many; the estimand becomes the ATT among the remaining mentees).

References: Hirano, K., Imbens, G. W. & Ridder, G. (2003). Econometrica 71, 1161-1189.
Austin, P. C. (2009). Statistics in Medicine 28, 3083-3107. Sant'Anna, P. H. C. & Zhao, J.
(2020). Journal of Econometrics 219, 101-122. Stefanski, L. A. & Boos, D. D. (2002). The
American Statistician 56, 29-38.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import InputError
from ..labels import Lang
from ..labels_comparison import COMPARISON_LOVE_PLOT

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "SMD_BALANCED",
    "TRIM",
    "Effect",
    "att_estimate",
    "balance_table",
    "fit_propensity",
    "plot_balance",
]

#: Mentees with a propensity above this have no comparable non-mentees: left out (overlap).
TRIM = 0.95
#: |standardised mean difference| below which a covariate counts as balanced (Austin 2009).
SMD_BALANCED = 0.1
#: Columns of the balance table (:func:`balance_table`; the notebook display reads them).
BALANCE_COLUMNS = [
    "covariate",
    "mean_mentees",
    "mean_others",
    "mean_others_weighted",
    "smd_before",
    "smd_after",
    "balanced",
]
#: Linear predictor beyond which a logistic fit is treated as separated.
_SEPARATED = 25.0


@dataclass(frozen=True)
class Effect:
    """An estimate with its standard error and 95% (``1 - alpha``) interval."""

    estimate: float
    se: float
    ci_low: float
    ci_high: float


def _logit_fit(y: np.ndarray, x: np.ndarray, what: str) -> np.ndarray:
    """Logistic regression coefficients (Newton); InputError on separation or no variation."""
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import PerfectSeparationWarning

    if y.min() == y.max():
        raise InputError(f"{what}: the outcome does not vary")
    with warnings.catch_warnings():
        warnings.simplefilter("error", PerfectSeparationWarning)
        warnings.simplefilter("ignore")
        try:
            res = sm.Logit(y, x).fit(method="newton", maxiter=100, disp=0, warn_convergence=False)
        except (PerfectSeparationWarning, np.linalg.LinAlgError, ValueError) as e:
            raise InputError(f"{what}: the logistic model cannot be fitted ({e})") from None
    beta = np.asarray(res.params, dtype=float)
    if not np.isfinite(beta).all() or np.abs(x @ beta).max() > _SEPARATED:
        raise InputError(f"{what}: the logistic model separates the groups")
    return beta


def fit_propensity(d: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Logistic propensity coefficients of ``d`` (0/1) on ``x`` (intercept first)."""
    return _logit_fit(np.asarray(d, dtype=float), np.asarray(x, dtype=float), "propensity")


def _expit(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _outcome_model(y, d, x, binary: bool):
    """``m0`` on everyone from a fit on the non-mentees, its derivative factor and IF pieces."""
    c = d == 0
    if binary and y[c].min() != y[c].max():
        gamma = _logit_fit(y[c], x[c], "outcome regression")
        m0 = _expit(x @ gamma)
        dm = m0 * (1 - m0)
    else:
        gamma = np.linalg.lstsq(x[c], y[c], rcond=None)[0]
        m0 = x @ gamma
        dm = np.ones_like(m0)
    hess = (x[c] * dm[c, None]).T @ x[c] / len(y)
    return m0, dm, hess


def _cluster_var(phi: np.ndarray, cluster: np.ndarray | None) -> float:
    """The variance of the mean of the influence function ``phi``: independent students, or
    cluster-robust (never below the independent one: the module docstring)."""
    n = len(phi)
    independent = float((phi**2).sum() / n**2)
    if cluster is None:
        return independent
    sums = pd.Series(phi).groupby(pd.Series(cluster).to_numpy()).sum().to_numpy()
    g = len(sums)
    factor = g / (g - 1) if g > 1 else 1.0
    return max(float(factor * (sums**2).sum() / n**2), independent)


def _quantile(alpha: float, cluster) -> float:
    """Normal quantile for independent students; with clusters, the t quantile with ``G - 1``
    degrees of freedom (Cameron & Miller 2015: a cluster-robust variance from a few dozen
    classes is itself noisy; with the normal quantile the AIPW interval covered the known ATT
    in 91.9% of 100 synthetic middle schools of 30 classes, with t(29) 93.0%)."""
    g = 0 if cluster is None else len(pd.unique(np.asarray(cluster)))
    if g > 1:
        return float(stats.t.ppf(1 - alpha / 2, g - 1))
    return float(stats.norm.ppf(1 - alpha / 2))


def att_estimate(
    y,
    d,
    x,
    *,
    doubly_robust: bool = True,
    cluster=None,
    alpha: float = 0.05,
    binary: bool | None = None,
    x_outcome=None,
) -> Effect:
    """ATT by IPW (``doubly_robust=False``) or AIPW, with a sandwich (cluster-robust) interval.

    Parameters
    ----------
    y : array (n,)
        Outcome (0/1 or continuous), no NaN.
    d : array (n,)
        1 for the mentored, 0 for the comparison group.
    x : array (n, p)
        Covariates of both models, the intercept in the first column.
    doubly_robust : bool, default True
        AIPW (outcome regression on the non-mentees) or plain ATT-weighted IPW.
    cluster : array (n,), optional
        Cluster labels for the variance (classes); None = independent students.
    binary : bool, optional
        Logistic outcome regression (default: when ``y`` is 0/1).
    x_outcome : array (n, q), optional
        Covariates of the outcome regression when they differ from the propensity's.

    Returns
    -------
    Effect
    """
    y, d, x = (np.asarray(a, dtype=float) for a in (y, d, x))
    n = len(y)
    if binary is None:
        binary = bool(np.isin(y, (0.0, 1.0)).all())
    beta = fit_propensity(d, x)
    e = _expit(x @ beta)
    w = e / (1 - e)
    pi = d.mean()
    xo = x if x_outcome is None else np.asarray(x_outcome, dtype=float)
    if doubly_robust:
        m0, dm, hess_g = _outcome_model(y, d, xo, binary)
    else:
        m0, dm, hess_g = np.zeros(n), np.zeros(n), None
    r = y - m0
    cw = (1 - d) * w
    sw = cw.mean()
    a_t = (d * r).sum() / d.sum()
    b_c = (cw * r).sum() / cw.sum()
    tau = a_t - b_c
    phi = d * (r - a_t) / pi - cw * (r - b_c) / sw
    # the propensity's estimation: d tau / d beta = -(1/n) sum cw x (r - b) / sw
    g_beta = -(x * (cw * (r - b_c))[:, None]).sum(axis=0) / n / sw
    hess_b = (x * (e * (1 - e))[:, None]).T @ x / n
    phi += x @ np.linalg.solve(hess_b, g_beta) * (d - e)
    if hess_g is not None:
        g_gamma = (
            -(xo * (d * dm)[:, None]).sum(axis=0) / n / pi
            + (xo * (cw * dm)[:, None]).sum(axis=0) / n / sw
        )
        phi += xo @ np.linalg.solve(hess_g, g_gamma) * (1 - d) * (y - m0)
    se = float(np.sqrt(_cluster_var(phi, None if cluster is None else np.asarray(cluster))))
    z = _quantile(alpha, cluster)
    return Effect(float(tau), se, float(tau - z * se), float(tau + z * se))


def att_weights(d, x) -> tuple[np.ndarray, np.ndarray]:
    """``(propensity, weight)``: weight 1 for the mentored, ``e / (1 - e)`` for the others."""
    d, x = np.asarray(d, dtype=float), np.asarray(x, dtype=float)
    e = _expit(x @ fit_propensity(d, x))
    return e, np.where(d == 1, 1.0, e / (1 - e))


def _wmean_var(v: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    m = float(np.average(v, weights=w))
    return m, float(np.average((v - m) ** 2, weights=w))


def balance_table(covariates: pd.DataFrame, d, weights) -> pd.DataFrame:
    """Standardised mean differences, mentees minus non-mentees, before and after weighting.

    ``covariates`` has one column per covariate (no intercept); the SMD divides by the pooled
    unweighted SD ``sqrt((s1^2 + s0^2) / 2)`` both times (Austin 2009), so only the means move.
    Returns ``covariate, mean_mentees, mean_others, mean_others_weighted, smd_before,
    smd_after, balanced`` (``|smd_after| < SMD_BALANCED``).
    """
    d = np.asarray(d, dtype=bool)
    w = np.asarray(weights, dtype=float)
    rows = []
    for col in covariates.columns:
        v = covariates[col].to_numpy(dtype=float)
        m1, v1 = float(v[d].mean()), float(v[d].var())
        m0, v0 = float(v[~d].mean()), float(v[~d].var())
        mw, _ = _wmean_var(v[~d], w[~d])
        sd = np.sqrt((v1 + v0) / 2)
        before = (m1 - m0) / sd if sd > 0 else 0.0
        after = (m1 - mw) / sd if sd > 0 else 0.0
        rows.append((str(col), m1, m0, mw, before, after, abs(after) < SMD_BALANCED))
    return pd.DataFrame(rows, columns=BALANCE_COLUMNS)


def plot_balance(balance: pd.DataFrame, *, lang: str = "zh", labels=None) -> Figure:
    """Love plot: |SMD| of each covariate before (hollow) and after (filled) weighting, with
    the 0.1 line; ``labels`` maps covariate names to display names."""
    import matplotlib.pyplot as plt  # lazy: matplotlib is slow to import

    from ..plots import PALETTE, use_style

    L = Lang(lang)
    t = balance.iloc[::-1]
    names = [(labels or {}).get(c, c) for c in t["covariate"]]
    use_style()
    fig, ax = plt.subplots(figsize=(6.0, 0.3 * len(t) + 1.5))
    pos = np.arange(len(t))
    before = L.pair(COMPARISON_LOVE_PLOT["before"])
    ax.scatter(t["smd_before"].abs(), pos, facecolors="none", edgecolors="0.3", label=before)
    ax.scatter(
        t["smd_after"].abs(), pos, color=PALETTE[0], label=L.pair(COMPARISON_LOVE_PLOT["after"])
    )
    ax.axvline(SMD_BALANCED, color="0.4", linestyle="--", linewidth=1)
    ax.set_yticks(pos)
    ax.set_yticklabels(names)
    ax.set_xlabel(L.pair(COMPARISON_LOVE_PLOT["xlabel"]))
    ax.set_title(L.pair(COMPARISON_LOVE_PLOT["title"]))
    ax.legend(loc="lower right")
    fig.tight_layout()
    return fig
