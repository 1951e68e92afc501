"""Monte Carlo error of the grouping-policy comparison (issue 16 item 1).

:func:`~mentorlib.grouping.compare` summarises each policy's paired difference from the
reference by its mean over draws and a percentile interval. Those three numbers are estimates
from a finite number of draws; this module measures how far they could move with more draws
(their Monte Carlo standard errors) and decides when the comparison has drawn enough.

- The mean: the standard error of a mean, computed over clusters of draws (draws that share a
  policy's grouping, see ``sim_assignments`` in the rulebook, are one cluster; with one draw a
  cluster it is the ordinary ``sd / sqrt(n)``).
- An interval bound (a quantile ``p``): the large-sample standard error of a quantile,
  ``sqrt(p (1 - p) / n) / f(x_p)``, with a normal density of the draws' spread
  (``f(x_p) = phi(z_p) / sd``), multiplied by the square root of the clustering's design
  effect on the mean (Kish 1965).

The Monte Carlo error of a difference (``mc_error``) is the largest of the three standard
errors. The comparison stops when, on every compared difference of the outcome measure, it is
at most ``sim_mc_ratio`` (0.1) of the interval's half-width, or at ``sim_draws_max`` draws.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import norm

__all__ = ["cluster_se", "mc_error", "next_draws", "quantile_se", "shortfall"]


def quantile_se(x: np.ndarray, p: float) -> float:
    """Standard error of the ``p`` quantile of the draws ``x`` (nan below 2 draws).

    The large-sample form ``sqrt(p (1 - p) / n) / f(x_p)`` with the density ``f`` of a normal
    distribution of the draws' standard deviation, ``phi(z_p) / sd``: a paired difference of
    shares is a sum over students, close to normal, and on a few hundred students its draws
    take few distinct values, where order-statistic estimates jump by whole steps.
    """
    v = np.asarray(x, dtype=float)
    v = v[np.isfinite(v)]
    n = len(v)
    if n < 2:
        return math.nan
    sd = float(np.std(v, ddof=1))
    return math.sqrt(p * (1 - p) / n) * sd / float(norm.pdf(norm.ppf(p)))


def cluster_se(x: np.ndarray, clusters: np.ndarray) -> tuple[float, float]:
    """(standard error of the mean of ``x`` over clusters, design effect >= 1).

    The between-cluster (sandwich) variance of a mean, ``G / (G - 1) sum_g (S_g - n_g
    mean)^2 / n^2``; the design effect is its ratio to the independent-draws variance.
    """
    x = np.asarray(x, dtype=float)
    ok = np.isfinite(x)
    x, c = x[ok], np.asarray(clusters)[ok]
    n = len(x)
    if n < 2:
        return math.nan, 1.0
    iid = float(np.var(x, ddof=1)) / n
    _, inv = np.unique(c, return_inverse=True)
    g = int(inv.max()) + 1
    if g < 2 or g == n:
        return math.sqrt(iid), 1.0
    resid = np.bincount(inv, weights=x - x.mean(), minlength=g)
    var = g / (g - 1) * float(np.sum(resid**2)) / n**2
    deff = max(var / iid, 1.0) if iid > 0 else 1.0
    return math.sqrt(max(var, iid)), deff


def mc_error(x: np.ndarray, clusters: np.ndarray, q: float) -> float:
    """The Monte Carlo error of a difference: the largest standard error of its mean and of
    its percentile interval's bounds (quantiles ``q`` and ``1 - q``) over the draws ``x``."""
    se_mean, deff = cluster_se(x, clusters)
    if math.isnan(se_mean):
        return math.nan
    k = math.sqrt(deff)
    return max(se_mean, k * quantile_se(x, q), k * quantile_se(x, 1 - q))


def shortfall(mc: np.ndarray, lo: np.ndarray, hi: np.ndarray, ratio: float) -> float:
    """How far the comparison is from precise enough: the largest ``mc_error / (ratio x
    half-width)`` over the differences (at most 1: enough draws; 0 when every difference is
    exact; inf when a zero-width interval still has an error)."""
    mc = np.asarray(mc, dtype=float)
    hw = (np.asarray(hi, dtype=float) - np.asarray(lo, dtype=float)) / 2
    ok = np.isfinite(mc) & np.isfinite(hw)
    mc, hw = mc[ok], hw[ok]
    if not len(mc):
        return 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(mc <= 0, 0.0, mc / (ratio * hw))
    return float(np.max(r))


def next_draws(done: int, short: float, most: int) -> int:
    """Draws to reach next: Monte Carlo errors fall as ``1 / sqrt(n)``, so ``done x short^2``
    with a tenth to spare, at least half as many again as done, at most ``most``."""
    if not math.isfinite(short):
        return most
    need = math.ceil(done * short**2 * 1.1)
    return int(min(most, max(need, math.ceil(done * 1.5))))
