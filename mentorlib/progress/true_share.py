"""The estimated share of students who truly progressed: plausible values of the latent change.

The reliable-change rule certifies a student only when the measured change beats the
measurement error, so it counts far fewer students than truly improved. This module estimates
the share that truly improved the way NAEP and PISA estimate population distributions from
noisy individual measures (Mislevy 1991; von Davier, Gonzalez & Mislevy 2009):

1. Per dimension, an anchored graded-response model of the items (:mod:`.irt`) puts both waves
   on one latent scale in SDs of the pre-test population.
2. One population model across all dimensions, with the item parameters of step 1 held fixed
   (NAEP's conditioning model): the ``D`` pre and ``D`` post latents of a student are
   multivariate normal (mean from an intercept and, for a breakdown, the group dummies; one
   covariance across dimensions), so the correlation of true change across dimensions is
   estimated, not lost, and "at least k of D dimensions" is not inflated.
3. Plausible values drawn jointly by data augmentation (:mod:`.pv_sampler`): Gibbs sweeps over
   the dimensions, each student's (theta_pre, theta_post) of one dimension drawn from its 2-D
   grid posterior (item likelihood x the conditional normal given the other dimensions' current
   draws), the population model re-estimated between sweeps (stochastic EM during burn-in,
   drawn from its posterior afterwards); ``m`` draws kept a few sweeps apart. The latent change
   is ``post - pre``.
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
from ..scales import as_codebook
from .irt import GRMFit, blas_threads, fit_grm, prepare_dimension
from .pv_sampler import draw_joint

__all__ = ["TrueShare", "estimated_true_share", "plausible_values", "share_from_draws"]

METHOD = "grm_pv"
#: EM tolerance of the per-dimension item fits: item parameters move < 0.001 per iteration at
#: stop, far inside their standard errors (0.03-0.08 at n = 5,000; tests/test_progress_irt.py);
#: the population model is re-estimated jointly afterwards anyway.
FIT_TOL = 1e-3


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


def _design(students: pd.Index, by: pd.Series | None) -> np.ndarray:
    """Latent-regression design: an intercept and, for a breakdown, the group dummies."""
    x = pd.DataFrame({"const": 1.0}, index=students)
    if by is not None:
        g = by.reindex(students).astype("string").fillna("<NA>")
        x = x.join(pd.get_dummies(g, prefix="by", drop_first=True, dtype=float).set_axis(students))
    return x.to_numpy(dtype=float)


def plausible_values(
    items: pd.DataFrame,
    codebook: Codebook | str,
    *,
    m: int = 20,
    seed: int = 0,
    by: pd.Series | None = None,
    burn_in: int = 30,
    thin: int = 2,
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
        A grouping variable indexed by student_id (grade, focus group): its dummies enter the
        latent regression so group shares are not shrunk towards the school's.
    burn_in, thin : int
        Sweeps of the joint sampler before the first kept draw and between kept draws
        (:func:`.pv_sampler.draw_joint`).

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
    with blas_threads(1):
        fits = {
            d: fit_grm(v.pre, v.post, n_categories=v.n_categories, tol=FIT_TOL)
            for d, v in data.items()
        }
        responses = [
            (_expand(v.pre, v.students, students), _expand(v.post, v.students, students))
            for v in data.values()
        ]
        joint = draw_joint(
            responses,
            list(fits.values()),
            _design(students, by),
            m=m,
            burn_in=burn_in,
            thin=thin,
            rng=rng,
        )
    nd, ns = len(dims), len(students)
    frames = [
        pd.DataFrame(
            {
                "student_id": np.tile(students.to_numpy(), m),
                "dimension": d,
                "draw": np.repeat(np.arange(m), ns),
                "theta_pre": joint.draws[:, :, j].ravel(),
                "theta_post": joint.draws[:, :, nd + j].ravel(),
            }
        )
        for j, d in enumerate(dims)
    ]
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
) -> TrueShare:
    """The estimated share of students with true change > ``delta`` in at least ``k`` dimensions.

    Parameters are those of :func:`plausible_values`, plus ``delta`` (latent SDs of the pre-test
    population; the rulebook's ``true_delta``), ``k`` (the rulebook's ``k_dimensions``) and
    ``alpha`` (1 - the interval's level). Returns a :class:`TrueShare`; ``method`` is
    ``"grm_pv"``.
    """
    pv, fits = plausible_values(items, codebook, m=m, seed=seed, by=by)
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
