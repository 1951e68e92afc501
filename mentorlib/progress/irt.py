"""A graded-response model of the assessment items, anchored across the pre and post waves.

Samejima's (1969) graded-response model (GRM) for an item :math:`j` with ordered categories
:math:`0, \\dots, K_j - 1` gives

.. math:: P(Y_{ij} \\ge k \\mid \\theta_i) = \\operatorname{logistic}(a_j(\\theta_i - b_{jk})),
   \\quad k = 1, \\dots, K_j - 1,

(no scaling constant D, as ``mirt`` and our generator write it). One dimension is fitted at a
time. The same item parameters hold at both waves (anchoring: the items measure the same trait
on the same scale in September and in June), and the students' pair
:math:`(\\theta^{pre}, \\theta^{post})` follows a bivariate normal population whose pre margin
is :math:`N(0, 1)` (this fixes the scale: every latent number is in SDs of the pre-test
population) and whose post mean, post SD and pre-post correlation are free. Estimation is
marginal maximum likelihood by EM (Bock & Aitkin 1981) on a rectangular quadrature grid
(61 points on [-6, 6] per wave, as ``mirt``'s default for one dimension); the 2-D posterior
of each student is never stored: with a common population weight matrix :math:`W` on the
grid, the E-step needs only products of (students x nodes) likelihood matrices with :math:`W`.

Why our own code: the Python IRT packages (``girth`` 0.8, last released 2021, fits a
unidimensional GRM by MML but has no multi-group / anchored design and no population model;
``py-irt`` is variational Bayes for dichotomous models; ``mirt`` on PyPI is not the R
package) do not fit an anchored two-wave GRM with a bivariate population, which is what the
latent change needs. The algorithm here is the textbook one, checked in
tests/test_progress_irt.py against known parameters (simulated, two anchored waves) and
against another package: R's ``mirt`` 1.47 on its own ``Science`` data (4 items x 4
categories, n = 392; the reference numbers are mirt's unit test ``test-02-mirtTwo.R``, kept
with the data in tests/results/mirt_science*). Our one-wave fit (``post=None``) agrees with
mirt's converged run (TOL 1e-5) to within 0.0002 in every slope and 0.0009 in every threshold
(e.g. Future: a = 2.300, b = -2.280, -0.964, 0.855), and with mirt's default run to within
0.004 / 0.002; the test asserts 0.005 (2 decimals). This also confirms the metric: our ``a``
is mirt's ``a1`` (logistic, no 1.702).

Functions
---------
grm_probabilities
    Category probabilities of one item on a grid of theta.
prepare_dimension
    Response matrices (students x items, per wave) of one dimension from the long items table.
fit_grm
    The anchored two-wave (or one-wave) GRM by EM; returns :class:`GRMFit`.
wave_loglik
    Log-likelihood of every student's answers at every grid node (for plausible values).

References: Samejima, F. (1969). Psychometrika Monograph 17. Bock, R. D. & Aitkin, M. (1981).
Psychometrika 46, 443-459. Chalmers, R. P. (2012). mirt. Journal of Statistical Software 48(6).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit

from ..errors import InputError

try:  # optional: cap BLAS threads inside the fit (the matrices are small; threads only contend)
    from threadpoolctl import threadpool_limits  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - depends on the environment
    threadpool_limits = None
from ..io.codebook import Codebook
from ..scales import as_codebook, reverse_code

__all__ = [
    "GRID",
    "blas_threads",
    "DimensionData",
    "GRMFit",
    "fit_grm",
    "grm_probabilities",
    "prepare_dimension",
    "wave_loglik",
]

#: Quadrature nodes of the EM (per wave): 61 equally spaced points on [-6, 6].
GRID = np.linspace(-6.0, 6.0, 61)
_FLOOR = 1e-300


@dataclass(frozen=True)
class DimensionData:
    """One dimension's answers as integer categories (-1 = not answered).

    ``pre`` and ``post`` are (students x items) arrays over the same students (``students``)
    and items (``items``); ``n_categories`` is the number of categories used per item (answer
    values nobody gave are collapsed so every category is observed).
    """

    dimension: str
    students: pd.Index
    items: tuple[str, ...]
    pre: np.ndarray
    post: np.ndarray
    n_categories: np.ndarray


@dataclass(frozen=True)
class GRMFit:
    """An anchored GRM fit: item parameters and the (pre, post) population.

    Attributes
    ----------
    a : ndarray (items,)
        Discriminations.
    b : ndarray (items, max categories - 1)
        Thresholds (NaN past an item's own number of categories).
    mu_post, sd_post, rho : float
        Mean and SD of theta_post and its correlation with theta_pre (theta_pre ~ N(0, 1)).
    loglik : float
        Marginal log-likelihood at the estimate.
    iterations : int
    converged : bool
    """

    a: np.ndarray
    b: np.ndarray
    mu_post: float
    sd_post: float
    rho: float
    loglik: float
    iterations: int
    converged: bool

    def population_weights(self, grid: np.ndarray = GRID) -> np.ndarray:
        """The population's bivariate normal weights on grid x grid (rows pre, columns post)."""
        return _population_weights(grid, self.mu_post, self.sd_post, self.rho)

    def table(self, items: tuple[str, ...] | None = None) -> pd.DataFrame:
        """Item parameters as a table: ``item, a, b1, b2, ...``."""
        names = list(items) if items else [f"item_{j + 1}" for j in range(len(self.a))]
        cols = {f"b{k + 1}": self.b[:, k] for k in range(self.b.shape[1])}
        return pd.DataFrame({"item": names, "a": self.a, **cols})


@contextmanager
def blas_threads(n: int = 1) -> Iterator[None]:
    """Limit BLAS threads within the block (a no-op without ``threadpoolctl``)."""
    if threadpool_limits is None:
        yield
        return
    with threadpool_limits(limits=n, user_api="blas"):
        yield


def grm_probabilities(a: float, b: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """Category probabilities P(Y = k | theta) of one GRM item, shape (len(theta), len(b) + 1)."""
    b = np.asarray(b, dtype=float)
    b = b[~np.isnan(b)]
    star = expit(a * (np.asarray(theta, dtype=float)[:, None] - b[None, :]))
    ones = np.ones((star.shape[0], 1))
    cum = np.hstack([ones, star, np.zeros_like(ones)])
    return np.clip(cum[:, :-1] - cum[:, 1:], _FLOOR, None)


def prepare_dimension(
    items: pd.DataFrame, codebook: Codebook | str, dimension: str
) -> DimensionData:
    """One dimension's answers of one year as (students x items) category matrices per wave.

    Reverse-keyed items are recoded through the codebook (:func:`mentorlib.scales.reverse_code`),
    answers become categories 0.. (value minus the scale's minimum) and, per item, values nobody
    gave are collapsed onto the observed ones (a GRM threshold between two categories is only
    estimable when both occur).
    """
    cb = as_codebook(codebook)
    years = list(pd.unique(items["year"])) if "year" in items.columns else []
    if len(years) > 1:
        raise InputError(f"the IRT model is fitted one year at a time; found years {years}")
    rec = reverse_code(items, cb)
    rec = rec[(rec["dimension"] == dimension) & rec["value"].notna()]
    names = tuple(f.var for f in cb.items_of(dimension))
    if rec.empty:
        raise InputError(f"no answers for dimension {dimension!r}")
    if rec.duplicated(["student_id", "wave", "item"]).any():
        raise InputError("duplicate answers: a student answered an item twice in a wave")
    students = pd.Index(pd.unique(rec["student_id"].astype(str)), name="student_id")
    row = students.get_indexer(pd.Index(rec["student_id"].astype(str)))
    col = pd.Index(names).get_indexer(pd.Index(rec["item"].astype(str)))
    lo = np.array([cb.scale_of(f).range[0] for f in cb.items_of(dimension)], dtype=float)
    cat = (rec["value"].to_numpy(dtype=float) - lo[col]).round().astype(np.int64)
    n_cat = np.zeros(len(names), dtype=np.int64)
    for j in range(len(names)):
        here = col == j
        uniq = np.unique(cat[here])
        cat[here] = np.searchsorted(uniq, cat[here])
        n_cat[j] = len(uniq)
    mats = {}
    is_pre = (rec["wave"] == "pre").to_numpy()
    for wave, mask in (("pre", is_pre), ("post", ~is_pre)):
        m = np.full((len(students), len(names)), -1, dtype=np.int64)
        m[row[mask], col[mask]] = cat[mask]
        mats[wave] = m
    return DimensionData(dimension, students, names, mats["pre"], mats["post"], n_cat)


def wave_loglik(resp: np.ndarray, a: np.ndarray, b: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Log-likelihood of each student's answers (students x items, -1 missing) at each node."""
    out = np.zeros((resp.shape[0], len(grid)))
    for j in range(resp.shape[1]):
        logp = np.log(grm_probabilities(a[j], b[j], grid))  # (Q, K)
        r = resp[:, j]
        seen = r >= 0
        out[seen] += logp[:, r[seen]].T
    return out


def _population_weights(grid: np.ndarray, mu: float, sd: float, rho: float) -> np.ndarray:
    pre = np.exp(-0.5 * grid**2)
    beta = rho * sd
    tau = sd * np.sqrt(max(1 - rho**2, 1e-6))
    post = np.exp(-0.5 * ((grid[None, :] - mu - beta * grid[:, None]) / tau) ** 2)
    w = pre[:, None] * post
    return w / w.sum()


def _scaled(ll: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    top = ll.max(axis=1, keepdims=True)
    return np.exp(ll - top), top[:, 0]


def _estep(lpre, lpost, w, grid):
    """Posterior node weights per wave, the population moments and the log-likelihood."""
    a_mat = lpost @ w.T  # sum over post nodes of W[q, q'] Lpost[i, q']
    c = (lpre * a_mat).sum(axis=1)
    r_pre = lpre * a_mat / c[:, None]
    r_post = lpost * (lpre @ w) / c[:, None]
    cross = ((lpre * grid) * ((lpost * grid) @ w.T)).sum(axis=1) / c
    moments = (
        (r_pre @ grid).mean(),
        (r_pre @ grid**2).mean(),
        (r_post @ grid).mean(),
        (r_post @ grid**2).mean(),
        cross.mean(),
    )
    return r_pre, r_post, moments, np.log(c)


def _population_mstep(moments) -> tuple[float, float, float]:
    """theta_pre ~ N(0, 1) fixed; the regression of post on pre from the expected moments."""
    mp, mpp, mo, moo, mpo = moments
    beta = (mpo - mp * mo) / max(mpp - mp**2, 1e-9)
    alpha = mo - beta * mp
    tau2 = max(moo - mo**2 - beta * (mpo - mp * mo), 1e-6)
    sd = float(np.sqrt(beta**2 + tau2))
    return float(alpha), sd, float(beta / sd)


def _item_nll(x: np.ndarray, counts: np.ndarray, grid: np.ndarray):
    """Negative expected log-likelihood of one item and its gradient.

    Parameters ``x = (log a, d_1, log(d_1 - d_2), ...)`` with intercepts ``d_k = -a b_k``
    decreasing (so the thresholds stay ordered); ``counts`` is (K, Q).
    """
    a = np.exp(x[0])
    d = x[1] - np.concatenate([[0.0], np.cumsum(np.exp(x[2:]))])
    star = expit(a * grid[:, None] + d[None, :])  # (Q, K-1)
    ones = np.ones((len(grid), 1))
    cum = np.hstack([ones, star, 0 * ones])
    p = np.clip(cum[:, :-1] - cum[:, 1:], _FLOOR, None)  # (Q, K)
    nll = -(counts.T * np.log(p)).sum()
    dstar = np.hstack([0 * ones, star * (1 - star), 0 * ones])  # d cum / d eta
    g = counts.T / p  # (Q, K)
    # d log p_k / d eta_k = dstar_k / p_k ; d log p_k / d eta_{k+1} = -dstar_{k+1} / p_k
    g_eta = (g * dstar[:, :-1])[:, 1:] - (g * dstar[:, 1:])[:, :-1]  # (Q, K-1)
    g_d = g_eta.sum(axis=0)
    g_a = (g_eta * grid[:, None]).sum() * a
    tail = np.cumsum(g_d[::-1])[::-1]  # sum over m >= k of g_d[m]
    g_x = np.concatenate([[g_a, g_d.sum()], -np.exp(x[2:]) * tail[1:]])
    return nll, -g_x


def _to_x(a: float, b: np.ndarray) -> np.ndarray:
    d = -a * b
    return np.concatenate([[np.log(a), d[0]], np.log(np.maximum(-np.diff(d), 1e-6))])


def _from_x(x: np.ndarray) -> tuple[float, np.ndarray]:
    a = float(np.exp(x[0]))
    d = x[1] - np.concatenate([[0.0], np.cumsum(np.exp(x[2:]))])
    return a, -d / a


def _start_values(data: list[np.ndarray], n_cat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """a = 1 and thresholds at the normal quantiles of the cumulative category shares."""
    resp = np.vstack(data)
    b = np.full((len(n_cat), int(n_cat.max()) - 1), np.nan)
    for j, k in enumerate(n_cat):
        r = resp[:, j][resp[:, j] >= 0]
        share = np.array([(r >= c).mean() for c in range(1, k)])
        b[j, : k - 1] = -np.log(np.clip(share, 0.01, 0.99) / (1 - np.clip(share, 0.01, 0.99)))
        b[j, : k - 1] = np.maximum.accumulate(b[j, : k - 1] + np.arange(k - 1) * 1e-3)
    return np.ones(len(n_cat)), b


def _hessian(x: np.ndarray, counts: np.ndarray, grid: np.ndarray, g0: np.ndarray) -> np.ndarray:
    """Hessian of :func:`_item_nll` by forward differences of its analytic gradient."""
    h = 1e-5
    hess = np.empty((len(x), len(x)))
    for i in range(len(x)):
        step = x.copy()
        step[i] += h
        hess[:, i] = (_item_nll(step, counts, grid)[1] - g0) / h
    return 0.5 * (hess + hess.T)


def _newton_item(x: np.ndarray, counts: np.ndarray, grid: np.ndarray, steps: int = 2):
    """A few damped Newton steps on one item's expected log-likelihood (never uphill)."""
    f0, g0 = _item_nll(x, counts, grid)
    for _ in range(steps):
        hess = _hessian(x, counts, grid, g0)
        lam = 0.0
        while True:
            try:
                np.linalg.cholesky(hess + lam * np.eye(len(x)))
                break
            except np.linalg.LinAlgError:
                lam = max(2 * lam, 1e-3 * np.abs(np.diag(hess)).max() + 1e-6)
        move = np.linalg.solve(hess + lam * np.eye(len(x)), g0)
        for _ in range(20):
            f1, g1 = _item_nll(x - move, counts, grid)
            if f1 <= f0:
                break
            move = move / 2
        else:
            return x
        x, f0, g0 = x - move, f1, g1
    return x


def _population_start(pre: np.ndarray, post: np.ndarray) -> tuple[float, float, float]:
    """Start values of (mu_post, sd_post, rho) from the item-mean scores of the two waves.

    The correlation is disattenuated with a nominal reliability of 0.8 (capped at 0.95): the
    EM moves rho slowly (the change is mostly missing information), so a start near the
    answer saves most of its iterations.
    """
    s_pre = np.where(pre >= 0, pre, np.nan)
    s_post = np.where(post >= 0, post, np.nan)
    both = ~np.isnan(s_pre).all(axis=1) & ~np.isnan(s_post).all(axis=1)
    if both.sum() < 3:
        return 0.0, 1.0, 0.5
    x, y = np.nanmean(s_pre[both], axis=1), np.nanmean(s_post[both], axis=1)
    sx = max(float(x.std()), 1e-6)
    r = float(np.corrcoef(x, y)[0, 1]) if y.std() > 0 else 0.5
    rho = float(np.clip(r / 0.8, 0.0, 0.95))
    return float((y.mean() - x.mean()) / sx / 0.9), float(max(y.std() / sx, 0.3)), rho


def _item_mstep(a, b, counts, grid):
    a_new, b_new = a.copy(), b.copy()
    for j in range(len(a)):
        k = counts[j].shape[0]
        x = _newton_item(_to_x(a[j], b[j, : k - 1]), counts[j], grid)
        a_new[j], b_new[j, : k - 1] = _from_x(x)
    return a_new, b_new


def _counts(resp: np.ndarray, r: np.ndarray, n_cat: np.ndarray) -> list[np.ndarray]:
    """Expected (category x node) counts per item from one wave's posterior node weights."""
    out = []
    for j, k in enumerate(n_cat):
        y = resp[:, j]
        out.append(np.stack([r[y == c].sum(axis=0) for c in range(k)]))
    return out


def fit_grm(
    pre: np.ndarray,
    post: np.ndarray | None = None,
    *,
    n_categories: np.ndarray | None = None,
    grid: np.ndarray = GRID,
    max_iter: int = 2000,
    tol: float = 1e-4,
) -> GRMFit:
    """Fit the anchored GRM by marginal maximum likelihood (EM with quadrature).

    Parameters
    ----------
    pre, post : ndarray (students x items) of int
        Answer categories 0..K-1 (-1 = not answered) at the two waves, rows the same students.
        ``post=None`` fits the ordinary one-wave GRM with theta ~ N(0, 1).
    n_categories : ndarray of int, optional
        Categories per item (default: the highest category seen + 1).
    grid : ndarray
        Quadrature nodes per wave.
    max_iter, tol : int, float
        EM stops when no parameter moves more than ``tol`` in an iteration.

    Returns
    -------
    GRMFit
    """
    waves = [pre] if post is None else [pre, post]
    if n_categories is None:
        n_categories = np.vstack(waves).max(axis=0) + 1
    n_cat = np.asarray(n_categories, dtype=np.int64)
    if (n_cat < 2).any():
        raise InputError("every item needs answers in at least two categories")
    a, b = _start_values(waves, n_cat)
    mu, sd, rho = (0.0, 1.0, 0.5) if post is None else _population_start(pre, post)
    converged, n_iter, ll = False, 0, np.zeros(1)
    while n_iter < max_iter:
        n_iter += 1
        w = _population_weights(grid, mu, sd, rho)
        lpre, top_pre = _scaled(wave_loglik(pre, a, b, grid))
        if post is None:
            lpost, top_post = np.ones_like(lpre), np.zeros(len(lpre))
            w = np.diag(w.sum(axis=1))
        else:
            lpost, top_post = _scaled(wave_loglik(post, a, b, grid))
        r_pre, r_post, moments, logc = _estep(lpre, lpost, w, grid)
        ll = logc + top_pre + top_post
        counts = _counts(pre, r_pre, n_cat)
        if post is not None:
            counts = [c + d for c, d in zip(counts, _counts(post, r_post, n_cat), strict=True)]
            new_pop = _population_mstep(moments)
        else:
            new_pop = (mu, sd, rho)
        a_new, b_new = _item_mstep(a, b, counts, grid)
        moved = max(
            np.nanmax(np.abs(b_new - b)),
            np.abs(a_new - a).max(),
            np.abs(np.subtract(new_pop, (mu, sd, rho))).max(),
        )
        a, b, (mu, sd, rho) = a_new, b_new, new_pop
        if moved < tol:
            converged = True
            break
    return GRMFit(a, b, mu, sd, rho, float(ll.sum()), n_iter, converged)
