"""The planner's measurement model: graded-response items matched to a reliability, a true
change matched to a true share, and one simulated school through the workbench's own rules.

See :mod:`mentorlib.progress.plan` for the model and its references; this module is its
simulation half (split to keep modules short).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from ..errors import InputError
from ..io.codebook import Codebook, Dimension, Field, Scale
from ..rules import Rulebook
from .change import change_se
from .deconvolve import changes_for_deconvolution, deconvolved_true_share
from .proportions import limits
from .true_share import estimated_true_share
from .true_share_report import REPORT_M

__all__ = [
    "Design",
    "ItemModel",
    "calibrate_items",
    "change_mean_for_share",
    "normal_items",
    "share_at_least_k",
    "simulate_design",
    "uses_items",
]

_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(61)
_WEIGHTS = _WEIGHTS / _WEIGHTS.sum()

# ---- the measurement model ---------------------------------------------------------------


@dataclass(frozen=True)
class ItemModel:
    """Graded-response items of one dimension: discrimination ``a``, thresholds ``b`` (K - 1).

    With ``error_sd`` set instead, the items are continuous and parallel, :math:`Y_j = \\theta
    + e_j`, :math:`e_j \\sim N(0, \\text{error\\_sd}^2)` (classical test theory: the sum score
    is linear in the trait, so the reliable change index follows its normal closed form).
    """

    a: float
    b: np.ndarray
    n_items: int
    error_sd: float | None = None

    @property
    def n_categories(self) -> int:
        return len(self.b) + 1

    def item_moments(self) -> tuple[float, float]:
        """(V, C): one item's variance and two items' covariance in the N(0, 1) population."""
        if self.error_sd is not None:
            return 1.0 + self.error_sd**2, 1.0
        star = special.expit(self.a * (_NODES[:, None] - self.b[None, :]))  # P(Y > c)
        mean = 1.0 + star.sum(1)
        # E[Y^2] = sum_c (2c + 1) P(Y > c) + 1 for Y in 1..K (sum of P(Y >= c) (2c - 1))
        ey2 = 1.0 + (star * (2 * np.arange(1, len(self.b) + 1) + 1)).sum(1)
        cond_var = ey2 - mean**2
        m = _WEIGHTS @ mean
        between = _WEIGHTS @ (mean - m) ** 2
        return float(_WEIGHTS @ cond_var + between), float(between)

    def reliability(self, n_items: int | None = None) -> float:
        """Cronbach's alpha of the sum of ``n_items`` (default: this model's) such items."""
        j = self.n_items if n_items is None else n_items
        v, c = self.item_moments()
        return j * c / (v + (j - 1) * c)

    def with_items(self, n_items: int) -> ItemModel:
        return replace(self, n_items=int(n_items))


def _thresholds(a: float, shares: np.ndarray) -> np.ndarray:
    """Thresholds giving each category its marginal share of answers in N(0, 1)."""
    above = 1.0 - np.cumsum(shares)[:-1]  # P(Y > c), c = 1..K-1

    def marginal(b: float, target: float) -> float:
        return float(_WEIGHTS @ special.expit(a * (_NODES - b))) - target

    edge = 30.0 + 40.0 / a  # wide enough for any share when the items discriminate little
    return np.array([optimize.brentq(marginal, -edge, edge, args=(p,)) for p in above])


def calibrate_items(
    reliability: float,
    *,
    n_items: int,
    n_categories: int = 5,
    category_shares=None,
) -> ItemModel:
    """The graded-response items whose sum score has Cronbach's alpha ``reliability``.

    Parameters
    ----------
    reliability : float
        Alpha of the sum of ``n_items`` items in the N(0, 1) population, in (0, 1).
    n_items : int
        Items in the dimension (at least 2).
    n_categories : int, default 5
        Answer categories of each item (a 1-5 Likert item: 5).
    category_shares : sequence of float, optional
        Share of the pre-test answers in each category (default equal).

    Returns
    -------
    ItemModel

    Raises
    ------
    InputError
        When no discrimination reaches the reliability with these items (too few items or
        categories for it).

    Examples
    --------
    >>> m = calibrate_items(0.8, n_items=6)
    >>> round(m.reliability(), 6), round(m.reliability(12), 3)
    (0.8, 0.889)
    """
    if n_items < 2 or n_categories < 2:
        raise InputError("a dimension needs at least 2 items of at least 2 categories")
    if not 0 < reliability < 1:
        raise InputError(f"reliability must be in (0, 1), got {reliability}")
    shares = _category_shares(category_shares, n_categories)

    def gap(log_a: float) -> float:
        a = float(np.exp(log_a))
        return ItemModel(a, _thresholds(a, shares), n_items).reliability() - reliability

    lo, hi = np.log(0.05), np.log(40.0)
    if gap(hi) < 0 or gap(lo) > 0:
        raise InputError(
            f"{n_items} items of {n_categories} categories cannot reach a reliability of "
            f"{reliability:.2f} under the graded-response model: give more items"
        )
    a = float(np.exp(optimize.brentq(gap, lo, hi, xtol=1e-10)))
    return ItemModel(a, _thresholds(a, shares), n_items)


def normal_items(reliability: float, *, n_items: int) -> ItemModel:
    """Continuous parallel items whose sum has reliability ``reliability`` (see :class:`ItemModel`).

    Item reliability :math:`\\rho_1 = r / (J - (J - 1) r)` (Spearman-Brown inverted), error
    variance :math:`1/\\rho_1 - 1`.

    >>> round(normal_items(0.8, n_items=6).reliability(), 12)
    0.8
    """
    if n_items < 2 or not 0 < reliability < 1:
        raise InputError("normal items need n_items >= 2 and a reliability in (0, 1)")
    rho1 = reliability / (n_items - (n_items - 1) * reliability)
    return ItemModel(np.inf, np.array([]), int(n_items), float(np.sqrt(1.0 / rho1 - 1.0)))


def _category_shares(shares, n_categories: int) -> np.ndarray:
    if shares is None:
        return np.full(n_categories, 1.0 / n_categories)
    s = np.asarray(shares, dtype=float)
    if len(s) != n_categories or np.any(s <= 0) or not np.isfinite(s).all():
        raise InputError(f"category_shares needs {n_categories} positive shares")
    return s / s.sum()


# ---- the true change ---------------------------------------------------------------------


def share_at_least_k(mu: float, *, sd: float, corr: float, delta: float, k: int, n_dims: int):
    """P(at least ``k`` of ``n_dims`` equicorrelated N(mu, sd^2) changes exceed ``delta``).

    One-factor form: :math:`t_d = \\mu + \\sigma(\\sqrt\\rho Z + \\sqrt{1-\\rho} E_d)`; given
    Z the count is binomial. Exact up to quadrature.

    >>> round(share_at_least_k(0.5, sd=1.0, corr=0.3, delta=0.5, k=1, n_dims=1), 6)
    0.5
    """
    if sd <= 0:
        return float(np.mean(mu > delta) if k <= n_dims else 0.0)
    p = stats.norm.sf((delta - mu - sd * np.sqrt(corr) * _NODES) / (sd * np.sqrt(1.0 - corr)))
    return float(_WEIGHTS @ stats.binom.sf(k - 1, n_dims, p))


def change_mean_for_share(
    share: float, *, sd: float, corr: float, delta: float, k: int, n_dims: int
):
    """The mean true change that makes :func:`share_at_least_k` equal ``share``."""
    if not 0 < share < 1:
        raise InputError(f"the true share must be in (0, 1), got {share}")

    def gap(mu: float) -> float:
        return share_at_least_k(mu, sd=sd, corr=corr, delta=delta, k=k, n_dims=n_dims) - share

    return float(optimize.brentq(gap, delta - 20.0 * sd - 5.0, delta + 20.0 * sd + 5.0))


# ---- one design, simulated ---------------------------------------------------------------


@dataclass(frozen=True)
class Design:
    """What is simulated: students, items per dimension (one :class:`ItemModel` each), truth."""

    n_students: int
    items: tuple[ItemModel, ...]
    true_share: float
    delta: float
    k: int
    change_sd: float = 0.6
    change_corr: float = 0.3
    dim_corr: float = 0.4

    @property
    def n_dims(self) -> int:
        return len(self.items)

    def change_mean(self) -> float:
        return change_mean_for_share(
            self.true_share,
            sd=self.change_sd,
            corr=self.change_corr,
            delta=self.delta,
            k=self.k,
            n_dims=self.n_dims,
        )


def _correlated(rng: np.random.Generator, n: int, d: int, corr: float) -> np.ndarray:
    common = rng.standard_normal((n, 1))
    return np.sqrt(corr) * common + np.sqrt(1.0 - corr) * rng.standard_normal((n, d))


def _answers(rng: np.random.Generator, theta: np.ndarray, m: ItemModel) -> np.ndarray:
    """(n, J) graded-response answers 1..K: one uniform per answer against the nested P(Y > c)."""
    if m.error_sd is not None:
        return theta[:, None] + m.error_sd * rng.standard_normal((len(theta), m.n_items))
    star = special.expit(m.a * (theta[:, None] - m.b[None, :]))  # (n, K-1)
    u = rng.random((len(theta), m.n_items))
    return 1 + (u[:, :, None] < star[:, None, :]).sum(2)


def _alpha(y: np.ndarray) -> float:
    j = y.shape[1]
    return j / (j - 1) * (1.0 - y.var(0, ddof=1).sum() / y.sum(1).var(ddof=1))


def _one_school(
    rng: np.random.Generator, ds: Design, mu: float, rule: Rulebook, want_changes: bool
):
    n, d = ds.n_students, ds.n_dims
    theta = _correlated(rng, n, d, ds.dim_corr)
    change = mu + ds.change_sd * _correlated(rng, n, d, ds.change_corr)
    improved = np.zeros((n, d), dtype=bool)
    rows = []
    for j, m in enumerate(ds.items):
        pre, post = _answers(rng, theta[:, j], m), _answers(rng, theta[:, j] + change[:, j], m)
        s_pre, diff = pre.sum(1), post.sum(1) - pre.sum(1)
        sd, rel = float(s_pre.std(ddof=1)), float(np.clip(_alpha(pre), 1e-6, 1 - 1e-6))
        improved[:, j] = diff > rule.rci_z * change_se(sd, rel)
        if want_changes:
            rows.append((diff, sd, rel, pre, post))
    truth = float(np.mean((change > ds.delta).sum(1) >= ds.k))
    certified = int(((improved.sum(1)) >= ds.k).sum())
    return certified, truth, rows


def uses_items(ds: Design) -> bool:
    """Whether the design's estimated true share is the item model's (graded-response items
    every dimension) rather than the scale-score deconvolution (continuous items)."""
    return all(m.error_sd is None for m in ds.items)


def _codebook(ds: Design) -> Codebook:
    """A questionnaire of the design: ``n_items`` Likert items a dimension, answers 1..K."""
    k = max(m.n_categories for m in ds.items)
    scale = Scale(tuple(str(c) for c in range(1, k + 1)), tuple(range(1, k + 1)))
    fields = tuple(
        Field(f"d{j}_{i}", (f"d{j}_{i}",), "likert", scale="answers", dimension=f"d{j}")
        for j, m in enumerate(ds.items)
        for i in range(m.n_items)
    )
    dims = {f"d{j}": Dimension(f"d{j}", f"d{j}") for j in range(ds.n_dims)}
    return Codebook("plan", "assessment", "plan", fields, {"answers": scale}, dims)


def _estimated_share(rows, ds: Design, seed: int) -> float:
    """The school's estimated true share, by the estimator its report would use: the
    graded-response plausible values of :func:`~mentorlib.progress.true_share.
    estimated_true_share` (``REPORT_M`` draws, no bootstrap) on item answers, the scale-score
    deconvolution on continuous items."""
    n = ds.n_students
    ids = np.array([f"s{i}" for i in range(n)])
    if uses_items(ds):
        long = [
            pd.DataFrame(
                {
                    "student_id": ids,
                    "year": 0,
                    "wave": wave,
                    "item": f"d{j}_{i}",
                    "value": y[:, i].astype(float),
                }
            )
            for j, (*_, pre, post) in enumerate(rows)
            for wave, y in (("pre", pre), ("post", post))
            for i in range(y.shape[1])
        ]
        return estimated_true_share(
            pd.concat(long, ignore_index=True),
            _codebook(ds),
            delta=ds.delta,
            k=ds.k,
            m=REPORT_M,
            seed=seed,
            n_boot=0,
        ).estimate
    parts = [
        pd.DataFrame(
            {
                "student_id": ids,
                "dimension": f"d{j}",
                "change": diff.astype(float),
                "sd_pre": sd,
                "reliability": rel,
            }
        )
        for j, (diff, sd, rel, *_) in enumerate(rows)
    ]
    table = changes_for_deconvolution(pd.concat(parts, ignore_index=True))
    return deconvolved_true_share(table, delta=ds.delta, k=ds.k, n_boot=0).estimate


def simulate_design(
    ds: Design, *, rules: Rulebook, n_sims: int, seed: int | None, n_true_sims: int = 0
) -> pd.DataFrame:
    """Simulate ``n_sims`` schools of one design.

    Returns
    -------
    DataFrame
        One row per school: ``sim, true_share`` (the school's realised share),
        ``certified`` (students), ``certified_share``, ``lower_bound`` (the rulebook's
        one-sided bound), ``met`` (bound above the target), ``estimated_share`` (NaN beyond
        ``n_true_sims``).
    """
    mu = ds.change_mean()
    rng = np.random.default_rng(seed)
    out = np.full((n_sims, 3), np.nan)
    for s in range(n_sims):
        want = s < n_true_sims
        x, truth, rows = _one_school(rng, ds, mu, rules, want)
        out[s, :2] = x, truth
        if want:
            out[s, 2] = _estimated_share(rows, ds, seed=s)
    x = out[:, 0]
    lower = limits(x, ds.n_students, rules.ci_method, rules.alpha, sided=True)[0]
    return pd.DataFrame(
        {
            "sim": np.arange(n_sims),
            "true_share": out[:, 1],
            "certified": x.astype(np.int64),
            "certified_share": x / ds.n_students,
            "lower_bound": lower,
            "met": lower > rules.target_share,
            "estimated_share": out[:, 2],
        }
    )
