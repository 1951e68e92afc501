"""Plausible values of every dimension's (pre, post) latent pair, drawn jointly by data augmentation.

The item parameters of each dimension come from its anchored graded-response fit
(:mod:`.irt`) and are held fixed; they also fix the scale (SDs of the pre-test population).
What is left is the population model: the ``2D`` latents of a student (``D`` pre values, then
``D`` post values) are multivariate normal with mean ``X B`` (``X`` = an intercept and, for a
breakdown, group dummies) and one covariance matrix ``Sigma`` across all dimensions, so the
correlation of true change across dimensions is estimated rather than lost. This is NAEP's
conditioning model (a latent regression with the item parameters fixed; Mislevy 1991; von
Davier, Gonzalez & Mislevy 2009), fitted here by data augmentation (Tanner & Wong 1987):

1. Gibbs sweep: for each dimension in turn, draw every student's (pre, post) pair from its
   posterior on a 2-D grid: the item likelihood of the two waves times the conditional normal
   of the pair given the student's current draws of the other dimensions (a grid node with its
   posterior weight). The draws are the nodes themselves (each student has their own grid, 25
   nodes over +-5 approximate posterior SDs): node weights proportional to the density are an
   accurate quadrature of the posterior's moments, and a uniform jitter within the cell, as
   an earlier version added to the kept draws, adds the cell's variance (width^2 / 12 per
   latent) on top: "at least one of four" came out 0.8 points above the population model's
   own share (16 schools of 400, share ~0.6: bias vs realised +2.9 -> +2.0 without it).
   Jitter inside the chain was worse still: the stochastic EM, whose rate for the change is
   the large fraction of missing information, amplified it into a much wider change
   distribution (change variance 0.28 for a true 0.17).
2. Between sweeps of the burn-in, ``B`` and ``Sigma`` are re-estimated from the current draws
   (stochastic EM, Celeux & Diebolt 1985); their average over the second half of the burn-in
   is the population model's estimate (the stochastic-EM estimator; Nielsen 2000), held fixed
   while the plausible values are drawn. Drawing ``Sigma`` from its posterior at every sweep
   instead (full data augmentation) was tried: the change's covariances are so weakly
   identified at n = 1,000 (a change reliability near 0.25) that their posterior spread pushed
   "at least one of four" up by 5-8 points in every simulated school.
3. After the burn-in, ``m`` draws are kept, ``thin`` sweeps apart.

Degenerate data (a dimension whose post answers nearly repeat its pre answers, so the fitted
pre-post correlation tends to 1 and the change variance to 0) cannot make the change
distribution collapse: ``Sigma`` carries a weak inverse-Wishart prior (``PRIOR_N`` pseudo
students) centred on a covariance whose change variance in every dimension is the mean over
the dimensions (at least ``MIN_CHANGE_SD`` squared) and whose cross-dimension covariances are
the disattenuated covariances of the per-dimension posterior means, and the conditional change SD used on the
grid is floored at half ``MIN_CHANGE_SD``.

The population covariance's eigenvalues are floored at ``EIG_FLOOR``: without it the
stochastic EM wandered into near-singular covariances, whose Gibbs regressions amplified the
other dimensions' noise until the change variance exploded.

References: Tanner, M. A. & Wong, W. H. (1987). JASA 82, 528-540. Celeux, G. & Diebolt, J.
(1985). Computational Statistics Quarterly 2, 73-82. Nielsen, S. F. (2000). Bernoulli 6,
457-489. Mislevy, R. J. (1991). Psychometrika 56,
177-196. von Davier, M., Gonzalez, E. & Mislevy, R. J. (2009). IERI Monograph Series 2, 9-36.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from .irt import GRID, GRMFit, wave_loglik

__all__ = [
    "EIG_FLOOR",
    "JointDraws",
    "MIN_CHANGE_SD",
    "PRIOR_N",
    "conditional_pair",
    "draw_joint",
    "population_update",
    "restricted_coef",
]

#: Pseudo-students of the inverse-Wishart prior on the population covariance.
PRIOR_N = 10
#: Smallest change SD (latent SDs) of the prior's centre and of the grid's conditional normal.
MIN_CHANGE_SD = 0.2
#: Sweeps with the start model held fixed before the stochastic EM: the first sweep draws the
#: first dimension given the others at their means, and updating the model right after it
#: would start the EM from near-zero cross-dimension correlations (it climbs back slowly).
WARM_UP = 5
_W, _SPAN, _FLOOR = 25, 5.0, 1e-300
#: Smallest eigenvalue of the population covariance. The Gibbs step regresses one dimension's
#: pair on the other ``2D - 2`` latents; a near-singular covariance (the stochastic EM reached
#: eigenvalues of 1e-4) gives regression weights summing to 80+ in absolute value, which
#: amplify the other draws' noise until the change variance explodes (0.4 -> 2-5 in 20 sweeps)
#: and the cross-dimension change correlation collapses (0.6 -> 0.1). The true covariance's
#: smallest eigenvalue is about half the change variance x (1 - its cross-dimension
#: correlation), ~0.03 for a change SD of 0.4 correlated 0.6.
EIG_FLOOR = (MIN_CHANGE_SD / 2) ** 2


@dataclass(frozen=True)
class JointDraws:
    """Kept draws ``(m, students, 2D)`` (pre of each dimension, then post) and the last model."""

    draws: np.ndarray
    coef: np.ndarray
    cov: np.ndarray


def _likelihood_normal(resp: np.ndarray, fit: GRMFit) -> np.ndarray:
    """A normal approximation of each student's likelihood of one wave: (n, 2) mean, precision.

    Moments of likelihood x N(0, 2^2) on a fixed grid, the weak prior divided out again (an
    answer pattern at the ceiling has a flat likelihood: its precision is floored at 0.01).
    Only used to place each student's grid, never as the likelihood itself.
    """
    grid = np.linspace(-7.0, 7.0, 141)
    ll = wave_loglik(resp, fit.a, fit.b, grid) - grid**2 / 8
    w = np.exp(ll - ll.max(axis=1, keepdims=True))
    w /= w.sum(axis=1, keepdims=True)
    mean = w @ grid
    var = np.maximum(w @ grid**2 - mean**2, 1e-4)
    prec = np.maximum(1 / var - 0.25, 0.01)
    return np.column_stack([(mean / var) / prec, prec])


def _loglik_at(resp: np.ndarray, fit: GRMFit, theta: np.ndarray) -> np.ndarray:
    """Log-likelihood of each student's answers at per-student points ``theta`` (n, W)."""
    out = np.zeros(theta.shape)
    for j in range(resp.shape[1]):
        b = fit.b[j][~np.isnan(fit.b[j])]
        b_ext = np.concatenate([[-np.inf], b, [np.inf]])
        r = resp[:, j]
        seen = r >= 0
        lo, hi = b_ext[r[seen]][:, None], b_ext[r[seen] + 1][:, None]
        t = theta[seen]
        p = expit(fit.a[j] * (t - lo)) - expit(fit.a[j] * (t - hi))
        out[seen] += np.log(np.maximum(p, _FLOOR))
    return out


def _prior_centre(fits: list[GRMFit]) -> np.ndarray:
    """Centre of the covariance prior: each dimension's pre and post variances from its own fit
    and a change variance pooled over the dimensions (their mean, at least ``MIN_CHANGE_SD``
    squared), no cross-dimension terms. Pooling borrows strength: a small school whose
    estimated change variance collapses in one dimension is pulled towards the others."""
    d = len(fits)
    sds = np.array([max(f.sd_post, 0.3) for f in fits])
    var_change = np.array([1 + s**2 - 2 * f.rho * s for f, s in zip(fits, sds, strict=True)])
    pooled = max(float(var_change.mean()), MIN_CHANGE_SD**2)
    psi = np.eye(2 * d)
    for j, sd in enumerate(sds):
        cpq = min((1 + sd**2 - pooled) / 2, 0.99 * sd)
        psi[d + j, d + j] = sd**2
        psi[j, d + j] = psi[d + j, j] = cpq
    return psi


def _moment_start(responses, fits: list[GRMFit], psi: np.ndarray) -> np.ndarray:
    """Cross-dimension covariances from the per-dimension posterior means (a start for the EM).

    With ``e_d = E[theta_d | answers_d]`` under dimension d's own fit (theta_d = its pre and
    post), ``Cov(e_d) = L_d Sigma_dd`` and ``Cov(e_d, e_e) ~ L_d Sigma_de L_e'``, so
    ``Sigma_de ~ L_d^-1 Cov(e_d, e_e) L_e'^-1``: the disattenuated covariance. Starting the
    stochastic EM from zero instead leaves the change's cross-dimension covariance far short
    after a few dozen sweeps (its fraction of missing information is large).
    """
    d = len(fits)
    grid = GRID
    eap, lam = [], []
    for i, ((pre, post), f) in enumerate(zip(responses, fits, strict=True)):
        w = f.population_weights(grid)
        lp = np.exp(_centre(wave_loglik(pre, f.a, f.b, grid)))
        lq = np.exp(_centre(wave_loglik(post, f.a, f.b, grid)))
        c = (lp * (lq @ w.T)).sum(axis=1)
        e = np.column_stack(
            [(lp * grid * (lq @ w.T)).sum(axis=1) / c, (lq * grid * (lp @ w)).sum(axis=1) / c]
        )
        eap.append(e)
        j = [i, d + i]
        lam.append(np.cov(e.T) @ np.linalg.inv(psi[np.ix_(j, j)]))
    out = psi.copy()
    for i in range(d):
        for k in range(i + 1, d):
            c_ik = np.cov(eap[i].T, eap[k].T)[:2, 2:]
            # pinv: a dimension answered identically at both waves has a singular L_d
            s_ik = np.linalg.pinv(lam[i]) @ c_ik @ np.linalg.pinv(lam[k]).T
            out[np.ix_([i, d + i], [k, d + k])] = s_ik
            out[np.ix_([k, d + k], [i, d + i])] = s_ik.T
    return _floor(out)


def _centre(ll: np.ndarray) -> np.ndarray:
    return ll - ll.max(axis=1, keepdims=True)


def conditional_pair(cov: np.ndarray, idx: list[int]):
    """Regression of the pair ``idx`` on the other coordinates and its residual covariance."""
    oth = [i for i in range(cov.shape[0]) if i not in idx]
    s_oo = cov[np.ix_(oth, oth)]
    s_io = cov[np.ix_(idx, oth)]
    reg = np.linalg.solve(s_oo, s_io.T).T if oth else np.zeros((2, 0))
    res = cov[np.ix_(idx, idx)] - reg @ s_io.T
    # floor: both variances and the variance of the difference (the change)
    vp, vq = max(res[0, 0], 1e-4), max(res[1, 1], 1e-4)
    cpq = min(res[0, 1], (vp + vq - MIN_CHANGE_SD**2 * 0.25) / 2, 0.999 * np.sqrt(vp * vq))
    return oth, reg, np.array([[vp, cpq], [cpq, vq]])


def _student_grids(mean, cov2, approx) -> tuple[np.ndarray, np.ndarray]:
    """Per-student nodes (n, W) of pre and post: +-5 approximate posterior SDs around the
    approximate posterior mean (conditional normal x the normal likelihood approximations)."""
    prec = np.linalg.inv(cov2)
    p11 = prec[0, 0] + approx[0][:, 1]
    p22 = prec[1, 1] + approx[1][:, 1]
    p12 = np.full_like(p11, prec[0, 1])
    det = p11 * p22 - p12**2
    h1 = prec[0, 0] * mean[:, 0] + prec[0, 1] * mean[:, 1] + approx[0][:, 0] * approx[0][:, 1]
    h2 = prec[0, 1] * mean[:, 0] + prec[1, 1] * mean[:, 1] + approx[1][:, 0] * approx[1][:, 1]
    centre = np.column_stack([(p22 * h1 - p12 * h2) / det, (p11 * h2 - p12 * h1) / det])
    sd = np.sqrt(np.column_stack([p22 / det, p11 / det]))
    u = np.linspace(-_SPAN, _SPAN, _W)
    return centre[:, :1] + sd[:, :1] * u, centre[:, 1:] + sd[:, 1:] * u


def _draw_pair(resp, fit, approx, mean, cov2, rng) -> np.ndarray:
    """One (pre, post) draw per student from the 2-D grid posterior (a node of its grid)."""
    gpre, gpost = _student_grids(mean, cov2, approx)
    prec = np.linalg.inv(cov2)
    dp, dq = gpre - mean[:, :1], gpost - mean[:, 1:]
    a = _loglik_at(resp[0], fit, gpre) - 0.5 * prec[0, 0] * dp**2
    c = _loglik_at(resp[1], fit, gpost) - 0.5 * prec[1, 1] * dq**2
    logw = a[:, :, None] + c[:, None, :] - prec[0, 1] * dp[:, :, None] * dq[:, None, :]
    n = logw.shape[0]
    logw = logw.reshape(n, -1)
    logw -= logw.max(axis=1, keepdims=True)
    cdf = np.cumsum(np.exp(logw), axis=1)
    cdf /= cdf[:, -1:]
    off = np.arange(n)[:, None]
    u = rng.random(n)[:, None]
    idx = np.searchsorted((cdf + off).ravel(), (u + off).ravel()) - off[:, 0] * _W * _W
    idx = np.clip(idx, 0, _W * _W - 1)
    rows = np.arange(n)
    return np.column_stack([gpre[rows, idx // _W], gpost[rows, idx % _W]])


def _sweep(z, x, coef, cov, dims, rng) -> None:
    """One Gibbs sweep over the dimensions, updating ``z`` in place."""
    d = z.shape[1] // 2
    mean_all = x @ coef
    for j, (resp, fit, approx) in enumerate(dims):
        idx = [j, d + j]
        oth, reg, cov2 = conditional_pair(cov, idx)
        mean = mean_all[:, idx] + (z[:, oth] - mean_all[:, oth]) @ reg.T
        z[:, idx] = _draw_pair(resp, fit, approx, mean, cov2, rng)


def restricted_coef(z: np.ndarray, x: np.ndarray, post_only: np.ndarray) -> np.ndarray:
    """Regression coefficients ``(p, 2D)`` with the columns ``post_only`` of ``x`` entering the
    post-test means only (their pre-test coefficients fixed at 0).

    The maximum-likelihood estimate of this restricted multivariate regression with a common
    residual covariance is the factorised one: the pre-test latents on the other columns
    (OLS), then the post-test latents on all columns plus the pre-test residuals (OLS); the
    coefficients of ``x`` in the second regression are the post-test means' (the pre-test
    residuals have mean zero given ``x``). The likelihood factors into the pre-test marginal
    and the post-test given the pre-test, whose parameters are variation-independent, so the
    separate fits are the joint maximum (a triangular system; Zellner 1962 for the
    unrestricted case). Per-column OLS of the post-test on the flag instead would read the
    flagged students' lower pre-test as an effect on the post-test mean.
    """
    d = z.shape[1] // 2
    keep = ~post_only
    coef = np.zeros((x.shape[1], 2 * d))
    coef[keep, :d] = np.linalg.lstsq(x[:, keep], z[:, :d], rcond=None)[0]
    resid_pre = z[:, :d] - x[:, keep] @ coef[keep, :d]
    both = np.linalg.lstsq(np.column_stack([x, resid_pre]), z[:, d:], rcond=None)[0]
    coef[:, d:] = both[: x.shape[1]]
    return coef


def population_update(z, x, psi, post_only: np.ndarray | None = None):
    """Population model from the current draws: regression and residual covariance, with the
    inverse-Wishart prior's pseudo-students, eigenvalues floored at ``EIG_FLOOR``.
    ``post_only``: boolean mask of the columns of ``x`` that enter the post-test means only
    (:func:`restricted_coef`)."""
    if post_only is None or not post_only.any():
        coef = np.linalg.lstsq(x, z, rcond=None)[0]
    else:
        coef = restricted_coef(z, x, post_only)
    resid = z - x @ coef
    scatter = resid.T @ resid + PRIOR_N * psi
    return coef, _floor(scatter / (z.shape[0] - x.shape[1] + PRIOR_N))


def _floor(cov: np.ndarray) -> np.ndarray:
    """``cov`` with its eigenvalues floored at ``EIG_FLOOR``."""
    val, vec = np.linalg.eigh(cov)
    return (vec * np.maximum(val, EIG_FLOOR)) @ vec.T


def draw_joint(
    responses: list[tuple[np.ndarray, np.ndarray]],
    fits: list[GRMFit],
    x: np.ndarray,
    *,
    m: int = 20,
    burn_in: int = 40,
    thin: int = 3,
    rng: np.random.Generator,
    post_only: np.ndarray | None = None,
) -> JointDraws:
    """Plausible values of all dimensions' (pre, post) latents, drawn jointly.

    Parameters
    ----------
    responses : list of (pre, post) arrays
        Per dimension, (students x items) answer categories (-1 = not answered), rows the same
        students in every dimension.
    fits : list of GRMFit
        The per-dimension item fits (item parameters held fixed).
    x : ndarray (students x covariates)
        Design of the latent regression; its first column is the intercept.
    m, burn_in, thin : int
        Draws kept, sweeps before the first kept draw, sweeps between kept draws.
    rng : numpy Generator
    post_only : boolean array (covariates), optional
        Columns of ``x`` that shift the post-test means only (a programme flag whose students
        were selected on their observed pre-test: :func:`restricted_coef`).

    Returns
    -------
    JointDraws
    """
    dims = [
        (resp, f, [_likelihood_normal(r, f) for r in resp])
        for resp, f in zip(responses, fits, strict=True)
    ]
    psi, coef, cov, z = _cold_start(responses, fits, x)
    for _ in range(WARM_UP):  # the start model held fixed until the draws carry its dependence
        _sweep(z, x, coef, cov, dims, rng)
    sum_coef, sum_cov, n_avg = np.zeros_like(coef), np.zeros_like(cov), 0
    for i in range(burn_in):
        coef, cov = population_update(z, x, psi, post_only)
        if i >= burn_in // 2:
            sum_coef, sum_cov, n_avg = sum_coef + coef, sum_cov + cov, n_avg + 1
        _sweep(z, x, coef, cov, dims, rng)
    if n_avg:
        coef, cov = sum_coef / n_avg, sum_cov / n_avg
    kept = np.empty((m, *z.shape))
    for i in range(m):
        for _ in range(thin):
            _sweep(z, x, coef, cov, dims, rng)
        kept[i] = z
    return JointDraws(kept, coef, cov)


def _cold_start(responses, fits: list[GRMFit], x: np.ndarray):
    """Prior centre, start model and start state of the chain from the per-dimension fits.

    Prior centre and start: pooled within-dimension blocks, disattenuated cross-dimension
    covariances. A prior centred on zero cross-covariances looks weak (PRIOR_N of n) but the
    change's covariances carry only ~5% of their complete-data information, so the EM's fixed
    point moved halfway to zero (true change correlation 0.6 estimated 0.3-0.5; "at least one
    of four" +6-9 points at n = 400).
    """
    d = len(fits)
    psi = _moment_start(responses, fits, _prior_centre(fits))
    coef = np.zeros((x.shape[1], 2 * d))
    coef[0, d:] = [f.mu_post for f in fits]
    return psi, coef, psi.copy(), np.tile(coef[0], (x.shape[0], 1))
