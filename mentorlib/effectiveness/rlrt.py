"""The exact (restricted) likelihood-ratio test of one mentor variance, by simulation.

:func:`rlrt_null_sample` draws the finite-sample null distribution of the (R)LRT statistic of
``H0: var(mentor) = 0`` in ``y = X b + Z u + e`` from its spectral representation
(Crainiceanu & Ruppert 2004); :func:`rlrt_pvalue` reads a p-value from it with the convention
of R's RLRsim. :func:`~mentorlib.effectiveness.model.fit_mentor_model` uses it instead of the
50:50 chi-square mixture when mentors have few mentees.

Checked against the closed form of the balanced one-way design (Crainiceanu & Ruppert 2004,
section 3) and against RLRsim 3.1.8 with lme4 1.1.31 (tests/results/make_rlrsim.R: the same
statistics to 1e-6, p-values within Monte Carlo error). At a singular fit lme4's REML
statistic is rounding noise (1.1e-13) for which exactRLRT prints p = 0.498; the model sets
such a statistic to 0, where RLRsim's own rule gives p = 1.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError

__all__ = ["RLRT_GRID", "rlrt_eigenvalues", "rlrt_null_sample", "rlrt_pvalue"]

#: Grid of the variance ratio lambda searched for the supremum: 0 and log-spaced values from
#: e^-10 to e^8 (times the largest eigenvalue's inverse), as RLRsim's ``RLRTSim``.
RLRT_GRID: np.ndarray = np.concatenate([[0.0], np.exp(np.linspace(-10.0, 8.0, 199))])


def rlrt_eigenvalues(X: np.ndarray, codes: np.ndarray, n_groups: int) -> tuple:
    """Eigenvalues ``mu`` of ``Z' P0 Z`` and ``xi`` of ``Z'Z`` for a random intercept.

    ``Z`` is the (n x groups) indicator matrix of ``codes`` and ``P0 = I - X (X'X)^-1 X'``;
    computed from group sums, never forming ``Z``.
    """
    nj = np.bincount(codes, minlength=n_groups).astype(float)
    sx = np.column_stack(
        [np.bincount(codes, weights=X[:, k], minlength=n_groups) for k in range(X.shape[1])]
    )
    ztpz = np.diag(nj) - sx @ np.linalg.solve(X.T @ X, sx.T)
    mu = np.clip(np.linalg.eigvalsh((ztpz + ztpz.T) / 2), 0.0, None)
    return mu[::-1], nj[np.argsort(-nj)]


def rlrt_null_sample(
    X: np.ndarray,
    codes: np.ndarray,
    n_groups: int,
    *,
    reml: bool = True,
    n_sim: int = 10000,
    seed: int | None = 0,
) -> np.ndarray:
    """Simulated null distribution of the (R)LRT of a random-intercept variance.

    Parameters
    ----------
    X : ndarray
        Fixed-effects design (n x p, full column rank).
    codes : ndarray of int
        Group (mentor) of each row, ``0 .. n_groups - 1``.
    n_groups : int
    reml : bool
        The restricted LRT (default, RLRsim's ``RLRTSim``) or the ML LRT (``LRTSim`` with
        no fixed effect tested).
    n_sim : int
        Draws (10,000 as RLRsim).
    seed : int, optional

    Returns
    -------
    ndarray
        ``n_sim`` draws of the statistic under ``var(mentor) = 0`` (a point mass at 0 and a
        continuous part).

    Notes
    -----
    Crainiceanu & Ruppert (2004, JRSS B 66:165, Theorem 1 and section 3): with ``mu_s`` the
    eigenvalues of ``Z' P0 Z``, ``w_s ~ chi2_1`` (s = 1..K) and ``w ~ chi2_{n-p-K}``
    independent, the RLRT under the null is the supremum over ``lambda >= 0`` of
    ``(n - p) log(1 + N(lambda) / D(lambda)) - sum_s log(1 + lambda mu_s)``, with
    ``N = sum_s lambda mu_s w_s / (1 + lambda mu_s)`` and
    ``D = sum_s w_s / (1 + lambda mu_s) + w``. The ML LRT uses ``n`` for ``n - p`` and the
    eigenvalues ``xi_s`` of ``Z'Z`` in the log term. The supremum is taken on
    :data:`RLRT_GRID`, the grid RLRsim uses (Scheipl, Greven & Kuechenhoff 2008, CSDA
    52:3283).
    """
    n, p = X.shape
    if n - p - n_groups < 0:
        raise InputError(f"exact RLRT: {n_groups} mentors and {p} fixed effects for {n} rows")
    mu, xi = rlrt_eigenvalues(X, codes, n_groups)
    scale = max(float(mu.max()), 1e-300)
    mu, xi = mu / scale, xi / scale
    xi = mu if reml else xi
    n0 = n - p if reml else n
    lam = RLRT_GRID[:, None]
    f_num = lam * mu / (1 + lam * mu)  # grid x K
    f_den = 1 / (1 + lam * mu)
    penalty = np.log1p(lam * xi).sum(axis=1)  # grid
    rng = np.random.default_rng(seed)
    out = np.empty(n_sim)
    for start in range(0, n_sim, 2000):  # blocks keep the (draws x grid) arrays small
        m = min(2000, n_sim - start)
        w = rng.chisquare(1, size=(m, len(mu)))
        rest = rng.chisquare(n - p - n_groups, size=m) if n - p - n_groups > 0 else 0.0
        num = w @ f_num.T
        den = w @ f_den.T + np.asarray(rest).reshape(-1, 1)
        lr = n0 * np.log1p(num / den) - penalty[None, :]
        out[start : start + m] = np.maximum(lr.max(axis=1), 0.0)
    return out


def rlrt_pvalue(stat: float, sample: np.ndarray, *, reml: bool = True) -> float:
    """The p-value of an observed (R)LRT statistic against a simulated null sample.

    RLRsim's conventions: ``exactRLRT`` (REML) returns 1 for a statistic of 0 and
    ``mean(stat < sample)`` otherwise; ``exactLRT`` (ML) returns ``mean(stat < sample)``
    always, so an ML statistic of 0 gets the null probability of a positive statistic (about
    0.5).
    """
    if reml and stat == 0:
        return 1.0
    return float(np.mean(stat < np.asarray(sample)))
