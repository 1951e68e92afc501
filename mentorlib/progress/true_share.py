"""The estimated share of students who truly progressed: plausible values of the latent change.

The reliable-change rule certifies a student only when the measured change beats the
measurement error, so it counts far fewer students than truly improved. This module estimates
the share that truly improved the way NAEP and PISA estimate population distributions from
noisy individual measures (Mislevy 1991; von Davier, Gonzalez & Mislevy 2009):

1. Per dimension, an anchored graded-response model of the items (:mod:`.irt`) puts both waves
   on one latent scale in SDs of the pre-test population.
2. Conditioning (a latent regression, with the item parameters fixed, as NAEP's conditioning
   model): each dimension's (theta_pre, theta_post) is bivariate normal around a linear function
   of the other dimensions' observed pre and post scale scores (and of the grouping variable
   when a breakdown is asked for), so draws for different dimensions carry the students'
   correlation across dimensions and the groups' differences.
3. Plausible values: per student ``m`` draws of (theta_pre, theta_post) from the posterior on a
   fine 2-D grid (a node drawn with its posterior weight, then a uniform jitter within its cell);
   the latent change is ``post - pre``.
4. The share with true change > ``delta`` in at least ``k`` dimensions is computed per draw; the
   estimate is their mean and the variance follows Rubin's (1987) rules: the mean binomial
   sampling variance ``p(1-p)/n`` of the share plus ``(1 + 1/m)`` times the between-draw
   variance, with Barnard & Rubin's (1999) degrees of freedom.

Functions
---------
plausible_values
    Long table of draws per student, dimension and draw.
share_from_draws
    The share and its Rubin interval from a (draws x students) indicator matrix.
estimated_true_share
    The whole estimate, with an optional breakdown by a grouping column.

References: Mislevy, R. J. (1991). Psychometrika 56, 177-196. von Davier, M., Gonzalez, E. &
Mislevy, R. J. (2009). IERI Monograph Series 2, 9-36. Rubin, D. B. (1987). Multiple Imputation
for Nonresponse in Surveys. Barnard, J. & Rubin, D. B. (1999). Biometrika 86, 948-955.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import InputError
from ..io.codebook import Codebook
from ..scales import as_codebook, score_scales
from .irt import GRMFit, fit_grm, prepare_dimension, wave_loglik

__all__ = ["TrueShare", "estimated_true_share", "plausible_values", "share_from_draws"]

METHOD = "grm_pv"
_COARSE, _FINE, _SPAN = 25, 81, 5.0
_CHUNK = 400


@dataclass(frozen=True)
class TrueShare:
    """The estimated share of students whose true change exceeds ``delta`` in >= ``k`` dimensions.

    ``per_dimension`` has the share per dimension (same interval rule); ``breakdown`` the share
    per group of the ``by`` column (or None); ``fits`` the item model per dimension.
    """

    estimate: float
    ci_low: float
    ci_high: float
    delta: float
    k: int
    method: str
    n_students: int
    m: int
    per_dimension: pd.DataFrame
    breakdown: pd.DataFrame | None = None
    fits: dict[str, GRMFit] = field(default_factory=dict)

    def as_dict(self) -> dict[str, float | int | str]:
        """The ``estimated_true_share`` entry of ``progress --json``."""
        return {
            "estimate": self.estimate,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "delta": self.delta,
            "k": self.k,
            "method": self.method,
        }


def share_from_draws(hit: np.ndarray, alpha: float = 0.05) -> tuple[float, float, float]:
    """Share and Rubin interval from a (draws x students) boolean matrix."""
    m, n = hit.shape
    if n == 0:
        return np.nan, np.nan, np.nan
    p = hit.mean(axis=1)
    est = float(p.mean())
    within = float((p * (1 - p)).mean() / n)
    between = float(p.var(ddof=1)) if m > 1 else 0.0
    total = within + (1 + 1 / m) * between
    if total <= 0:
        return est, est, est
    r = (1 + 1 / m) * between / max(within, 1e-12)
    df_m = (m - 1) * (1 + 1 / max(r, 1e-12)) ** 2 if m > 1 else np.inf
    lam = (1 + 1 / m) * between / total
    df_obs = (n - 1 + 1) / (n - 1 + 3) * (n - 1) * (1 - lam)
    df = 1 / (1 / df_m + 1 / max(df_obs, 1e-12))
    half = float(stats.t.ppf(1 - alpha / 2, df)) * np.sqrt(total)
    return est, max(est - half, 0.0), min(est + half, 1.0)


def _covariates(
    items: pd.DataFrame, cb: Codebook, students: pd.Index, by: pd.Series | None
) -> pd.DataFrame:
    """Observed scale scores per wave and dimension (standardised, mean-imputed) and dummies."""
    sc = score_scales(items, cb, min_answered=1e-9)
    wide = sc.pivot_table(index="student_id", columns=["dimension", "wave"], values="score")
    wide.columns = pd.Index([f"{c[0]}|{c[1]}" for c in wide.columns])
    wide = wide.reindex(students)
    z = (wide - wide.mean()) / wide.std(ddof=0).replace(0, 1)
    x = z.fillna(0.0)
    if by is not None:
        g = by.reindex(students).astype("string").fillna("<NA>")
        x = x.join(pd.get_dummies(g, prefix="by", drop_first=True, dtype=float).set_axis(students))
    return x


def _grids(fit: GRMFit, q: int) -> tuple[np.ndarray, np.ndarray]:
    pre = np.linspace(-_SPAN, _SPAN, q)
    return pre, fit.mu_post + fit.sd_post * pre


def _log_prior(mean: np.ndarray, prec: np.ndarray, gpre: np.ndarray, gpost: np.ndarray):
    """log BVN density (up to a constant) on the grid per student: (n, Q, Q)."""
    dp = gpre[None, :] - mean[:, :1]
    dq = gpost[None, :] - mean[:, 1:]
    return -0.5 * (
        prec[0, 0] * dp[:, :, None] ** 2
        + 2 * prec[0, 1] * dp[:, :, None] * dq[:, None, :]
        + prec[1, 1] * dq[:, None, :] ** 2
    )


def _posterior(llpre, llpost, mean, cov, gpre, gpost) -> np.ndarray:
    """Normalised posterior weights on the 2-D grid for a chunk of students: (n, Q, Q)."""
    logw = (
        llpre[:, :, None] + llpost[:, None, :] + _log_prior(mean, np.linalg.inv(cov), gpre, gpost)
    )
    logw -= logw.max(axis=(1, 2), keepdims=True)
    w = np.exp(logw)
    return w / w.sum(axis=(1, 2), keepdims=True)


def _condition(lls, x: np.ndarray, fit: GRMFit, grids, max_iter: int = 200, tol: float = 1e-4):
    """Latent regression of (theta_pre, theta_post) on x, item parameters fixed: (B, Sigma)."""
    gpre, gpost = grids
    n = x.shape[0]
    beta = np.zeros((x.shape[1], 2))
    beta[0] = [0.0, fit.mu_post]
    cov = np.array(
        [[1.0, fit.rho * fit.sd_post], [fit.rho * fit.sd_post, fit.sd_post**2]], dtype=float
    )
    for _ in range(max_iter):
        mean = x @ beta
        e1, e2 = np.zeros((n, 2)), np.zeros((n, 3))
        for s in range(0, n, _CHUNK):
            sl = slice(s, s + _CHUNK)
            w = _posterior(lls[0][sl], lls[1][sl], mean[sl], cov, gpre, gpost)
            wp, wq = w.sum(axis=2), w.sum(axis=1)
            e1[sl] = np.column_stack([wp @ gpre, wq @ gpost])
            cross = np.einsum("iqr,q,r->i", w, gpre, gpost)
            e2[sl] = np.column_stack([wp @ gpre**2, cross, wq @ gpost**2])
        new_beta = np.linalg.lstsq(x, e1, rcond=None)[0]
        m = x @ new_beta
        s_pp = (e2[:, 0] - 2 * m[:, 0] * e1[:, 0] + m[:, 0] ** 2).mean()
        s_pq = (e2[:, 1] - m[:, 0] * e1[:, 1] - m[:, 1] * e1[:, 0] + m[:, 0] * m[:, 1]).mean()
        s_qq = (e2[:, 2] - 2 * m[:, 1] * e1[:, 1] + m[:, 1] ** 2).mean()
        new_cov = _floor_cov(np.array([[s_pp, s_pq], [s_pq, s_qq]]))
        moved = max(np.abs(new_beta - beta).max(), np.abs(new_cov - cov).max())
        beta, cov = new_beta, new_cov
        if moved < tol:
            break
    return beta, cov


def _floor_cov(cov: np.ndarray, floor: float = 1e-3) -> np.ndarray:
    """Keep the residual covariance positive definite (eigenvalues at least ``floor``)."""
    val, vec = np.linalg.eigh(cov)
    return (vec * np.maximum(val, floor)) @ vec.T


def _draw(lls, mean, cov, grids, m: int, rng: np.random.Generator) -> np.ndarray:
    """m plausible (pre, post) pairs per student: (n, m, 2)."""
    gpre, gpost = grids
    q = len(gpre)
    hp, hq = gpre[1] - gpre[0], gpost[1] - gpost[0]
    n = mean.shape[0]
    out = np.empty((n, m, 2))
    for s in range(0, n, _CHUNK):
        sl = slice(s, s + _CHUNK)
        w = _posterior(lls[0][sl], lls[1][sl], mean[sl], cov, gpre, gpost).reshape(-1, q * q)
        nc = w.shape[0]
        cdf = np.cumsum(w, axis=1)
        cdf /= cdf[:, -1:]
        off = np.arange(nc)[:, None]
        u = rng.random((nc, m))
        idx = np.searchsorted((cdf + off).ravel(), (u + off).ravel()).reshape(nc, m) - off * q * q
        idx = np.clip(idx, 0, q * q - 1)
        jit = rng.random((nc, m, 2)) - 0.5
        out[sl, :, 0] = gpre[idx // q] + jit[:, :, 0] * hp
        out[sl, :, 1] = gpost[idx % q] + jit[:, :, 1] * hq
    return out


def plausible_values(
    items: pd.DataFrame,
    codebook: Codebook | str,
    *,
    m: int = 20,
    seed: int = 0,
    by: pd.Series | None = None,
    condition: bool = True,
) -> tuple[pd.DataFrame, dict[str, GRMFit]]:
    """Plausible values of (theta_pre, theta_post) per student, dimension and draw.

    Parameters
    ----------
    items : DataFrame
        The canonical ``assessment_items`` table of one year (``student_id, year, wave,
        dimension, item, value``), reverse-keyed items as answered.
    codebook : Codebook or str
        The assessment codebook (items, dimensions, reverse keys, answer scales).
    m : int, default 20
        Draws per student.
    seed : int
    by : Series, optional
        A grouping variable indexed by student_id (grade, focus group): used as conditioning
        covariates so group shares are not shrunk towards the school's.
    condition : bool, default True
        Condition each dimension on the other dimensions' observed scores (False: each dimension
        alone; the draws then lose the correlation across dimensions).

    Returns
    -------
    (DataFrame, dict)
        ``student_id, dimension, draw, theta_pre, theta_post, change`` and the item fits.
    """
    if m < 2:
        raise InputError(f"m = {m}: plausible values need at least 2 draws")
    cb = as_codebook(codebook)
    rng = np.random.default_rng(seed)
    dims = [
        d
        for d in cb.dimensions
        if (items["item"].astype(str).isin([f.var for f in cb.items_of(d)])).any()
    ]
    data = {d: prepare_dimension(items, cb, d) for d in dims}
    students = pd.Index(sorted(set().union(*(set(v.students) for v in data.values()))))
    cov_all = _covariates(items, cb, students, by)
    frames, fits = [], {}
    for d in dims:
        dd = data[d]
        fit = fit_grm(dd.pre, dd.post, n_categories=dd.n_categories)
        fits[d] = fit
        own = [c for c in cov_all.columns if c.startswith(f"{d}|")]
        cols = [c for c in cov_all.columns if c not in own] if condition else []
        x = np.column_stack([np.ones(len(students)), cov_all[cols].to_numpy(dtype=float)])
        pre = _expand(dd.pre, dd.students, students)
        post = _expand(dd.post, dd.students, students)
        coarse, fine = _grids(fit, _COARSE), _grids(fit, _FINE)
        lls_c = [wave_loglik(r, fit.a, fit.b, g) for r, g in zip((pre, post), coarse, strict=True)]
        beta, cov = _condition(lls_c, x, fit, coarse)
        lls_f = [wave_loglik(r, fit.a, fit.b, g) for r, g in zip((pre, post), fine, strict=True)]
        pv = _draw(lls_f, x @ beta, cov, fine, m, rng)
        frames.append(
            pd.DataFrame(
                {
                    "student_id": np.repeat(students.to_numpy(), m),
                    "dimension": d,
                    "draw": np.tile(np.arange(m), len(students)),
                    "theta_pre": pv[:, :, 0].ravel(),
                    "theta_post": pv[:, :, 1].ravel(),
                }
            )
        )
    out = pd.concat(frames, ignore_index=True)
    out["change"] = out["theta_post"] - out["theta_pre"]
    return out, fits


def _expand(resp: np.ndarray, have: pd.Index, students: pd.Index) -> np.ndarray:
    out = np.full((len(students), resp.shape[1]), -1, dtype=np.int64)
    out[students.get_indexer(have)] = resp
    return out


def estimated_true_share(
    items: pd.DataFrame,
    codebook: Codebook | str,
    *,
    delta: float = 0.5,
    k: int = 1,
    m: int = 20,
    seed: int = 0,
    by: pd.Series | None = None,
    alpha: float = 0.05,
    condition: bool = True,
) -> TrueShare:
    """The estimated share of students with true change > ``delta`` in at least ``k`` dimensions.

    Parameters are those of :func:`plausible_values`, plus ``delta`` (latent SDs of the pre-test
    population; the rulebook's ``true_delta``), ``k`` (the rulebook's ``k_dimensions``) and
    ``alpha`` (1 - the interval's level). Returns a :class:`TrueShare`; ``method`` is
    ``"grm_pv"``.
    """
    pv, fits = plausible_values(items, codebook, m=m, seed=seed, by=by, condition=condition)
    dims = list(fits)
    if not 1 <= k <= len(dims):
        raise InputError(f"k = {k}: must be between 1 and the {len(dims)} dimensions measured")
    wide = pv.pivot_table(
        index=["draw", "student_id"], columns="dimension", values="change", observed=True
    )[dims]
    students = wide.index.get_level_values("student_id").unique()
    above = (wide.to_numpy() > delta).reshape(m, len(students), len(dims))
    hit = above.sum(axis=2) >= k
    est, lo, hi = share_from_draws(hit, alpha)
    per_dim = pd.DataFrame(
        [(d, *share_from_draws(above[:, :, j], alpha)) for j, d in enumerate(dims)],
        columns=["dimension", "estimate", "ci_low", "ci_high"],
    )
    breakdown = None
    if by is not None:
        g = by.reindex(students).astype("string").fillna("<NA>").to_numpy()
        rows = []
        for level in pd.unique(g):
            sel = g == level
            rows.append((level, int(sel.sum()), *share_from_draws(hit[:, sel], alpha)))
        breakdown = pd.DataFrame(
            rows, columns=[by.name or "group", "n", "estimate", "ci_low", "ci_high"]
        )
    return TrueShare(
        est, lo, hi, float(delta), int(k), METHOD, len(students), m, per_dim, breakdown, fits
    )
