"""Logistic fits that say when the data cannot identify a coefficient.

A binary outcome and a covariate can be *separated*: every student with a flag improved (or none
did), or a combination of covariates splits improvers from the rest. The maximum-likelihood
estimate is then infinite; an iterative fit stops wherever its tolerance lets it (a coefficient
of -3792 with a standard error of 0, or NaN for the whole model). This module

* screens 0/1 covariates (a focus flag, a grade dummy) for *sparse* levels: fewer than the
  rulebook's ``min_cell`` events or non-events among the students with (or without) the flag;
  such a column is dropped (a dummy: its level merged into the reference level), with a note;
* detects complete and quasi-complete separation by the linear program of Konis (2007;
  Albert & Anderson 1984): a direction ``b`` with ``(2y - 1) x'b >= 0`` for every row and
  ``> 0`` for some exists exactly when the maximum-likelihood estimate does not; the covariate
  carrying that direction is dropped, with a note, and the check repeated;
* offers Firth's penalised likelihood (Firth 1993, Biometrika 80:27; Heinze & Schemper 2002,
  Stat Med 21:2409), whose estimates are finite under separation: :func:`firth_logistic`.
  For a single binary covariate it equals the log odds ratio of the 2x2 table with 0.5 added to
  every cell (the closed form the tests check). No maintained Python package gave the
  cluster-robust variance needed here, so it is written with numpy (Newton steps on the
  modified score, step-halving on the penalised log-likelihood).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linprog
from scipy.special import expit

__all__ = [
    "LogisticFit",
    "fit_logistic",
    "firth_logistic",
    "separating_direction",
    "SparseLevel",
    "sparse_columns",
]

#: Largest |linear predictor| an ordinary fit may reach before it counts as diverged.
_EDGE = 30.0


@dataclass
class LogisticFit:
    """A logistic fit with the columns it kept (returned by :func:`fit_logistic`).

    Attributes
    ----------
    beta, cov : ndarray
        Coefficients and their (robust) covariance, in the order of ``kept``.
    kept : list of int
        Indices of the design's columns used.
    method : {"gee", "firth"}
    notes : list of str
        Each column dropped and why; a fallback to Firth's fit and why. Publishable: a sparse
        level is described without its counts (:meth:`SparseLevel.describe`).
    sparse : list of SparseLevel
        The sparse levels with their exact counts (internal use only).
    """

    beta: np.ndarray
    cov: np.ndarray
    kept: list[int]
    method: str
    notes: list[str] = field(default_factory=list)
    sparse: list[SparseLevel] = field(default_factory=list)


def _is_binary(col: np.ndarray) -> bool:
    return bool(np.isin(col, (0.0, 1.0)).all())


@dataclass(frozen=True)
class SparseLevel:
    """A level of a 0/1 column with fewer than ``min_cell`` events or non-events.

    Attributes
    ----------
    column : str
    level : float
        0 or 1.
    n_students, n_improved : int
        The students at that level and those of them who improved (exact: internal only).
    """

    column: str
    level: float
    n_students: int
    n_improved: int

    @property
    def n_not(self) -> int:
        """The students at that level who did not improve."""
        return self.n_students - self.n_improved

    def describe(self, min_cell: int, *, exact: bool = False) -> str:
        """The level in words: ``exact=True`` gives every count (internal use); the default
        gives none, only which side has fewer than ``min_cell`` students, as a published
        ``"<5"`` would (the counts and their differences describe fewer than ``min_cell``).

        >>> s = SparseLevel("flag", 1.0, 10, 7)
        >>> s.describe(5, exact=True)
        'flag = 1: 10 students, 7 improved, 3 not'
        >>> s.describe(5)
        'flag = 1: fewer than 5 did not improve'
        """
        head = f"{self.column} = {self.level:g}: "
        if exact:
            return (
                head + f"{self.n_students} students, {self.n_improved} improved, {self.n_not} not"
            )
        small = [
            what
            for what, n in (("improved", self.n_improved), ("did not improve", self.n_not))
            if n < min_cell
        ]
        return head + " and ".join(f"fewer than {min_cell} {what}" for what in small)

    def record(self) -> dict:
        """One row of the internal table of sparse levels."""
        return {
            "column": self.column,
            "level": self.level,
            "n_students": self.n_students,
            "n_improved": self.n_improved,
            "n_not": self.n_not,
        }


def sparse_columns(
    X: np.ndarray, y: np.ndarray, names: Sequence[str], min_cell: int, skip: Sequence[int] = ()
) -> dict[int, SparseLevel]:
    """0/1 columns with fewer than ``min_cell`` events or non-events in a level: index -> level.

    >>> X = np.column_stack([np.ones(8), [1, 1, 1, 0, 0, 0, 0, 0]])
    >>> out = sparse_columns(X, np.array([1, 1, 1, 0, 1, 0, 1, 0]), ["1", "flag"], 2)
    >>> out[1].describe(2, exact=True)
    'flag = 1: 3 students, 3 improved, 0 not'
    >>> out[1].describe(2)
    'flag = 1: fewer than 2 did not improve'
    """
    out = {}
    for j in range(1, X.shape[1]):
        col = X[:, j]
        if j in skip or not _is_binary(col):
            continue
        for level in (1.0, 0.0):
            sel = col == level
            ev = int(y[sel].sum())
            if min(ev, int(sel.sum()) - ev) < min_cell:
                out[j] = SparseLevel(str(names[j]), level, int(sel.sum()), ev)
                break
    return out


def separating_direction(X: np.ndarray, y: np.ndarray, tol: float = 1e-7) -> np.ndarray | None:
    """A direction ``b`` separating the outcome (Konis 2007), or None when the MLE exists.

    Solves ``max sum_i s_i x_i'b`` subject to ``s_i x_i'b >= 0`` and ``-1 <= b <= 1`` with
    ``s = 2y - 1``, on columns scaled to unit SD; a positive optimum means complete or
    quasi-complete separation. The returned ``b`` is on that scaled basis.

    >>> X = np.column_stack([np.ones(6), [0, 0, 0, 1, 1, 1]])
    >>> separating_direction(X, np.array([0, 1, 0, 1, 1, 1])) is not None
    True
    >>> separating_direction(X, np.array([0, 1, 0, 1, 0, 1])) is None
    True
    """
    scale = X.std(axis=0)
    scale[scale == 0] = 1.0
    A = (2.0 * y - 1.0)[:, None] * (X / scale)
    res = linprog(
        -A.sum(axis=0),
        A_ub=-A,
        b_ub=np.zeros(len(y)),
        bounds=[(-1.0, 1.0)] * X.shape[1],
        method="highs",
    )
    if res.status != 0 or -res.fun <= tol * len(y):
        return None
    return np.asarray(res.x)


def firth_logistic(
    X: np.ndarray,
    y: np.ndarray,
    *,
    groups: np.ndarray | None = None,
    max_iter: int = 200,
    tol: float = 1e-10,
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Firth's penalised maximum likelihood for a logistic model: (beta, cov, converged).

    Maximises ``l(b) + 0.5 log det I(b)`` by Newton steps on the modified score
    ``X'(y - p + h (1/2 - p))`` (``h`` the hat values of ``W^{1/2} X``; Firth 1993,
    Heinze & Schemper 2002), halving a step that lowers the penalised likelihood. ``cov`` is
    ``I(b)^{-1}``, or with ``groups`` the cluster-robust sandwich
    ``I^{-1} (sum_g u_g u_g') I^{-1}`` of the modified score contributions.

    >>> X = np.column_stack([np.ones(10), [1] * 5 + [0] * 5])
    >>> b, _, ok = firth_logistic(X, np.array([1] * 5 + [1, 0, 0, 0, 0]))
    >>> round(float(b[1]), 6) == round(float(np.log(5.5 * 4.5 / (0.5 * 1.5))), 6) and ok
    True
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    beta = np.zeros(X.shape[1])

    def penalised(b: np.ndarray) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
        eta = X @ b
        p = expit(eta)
        w = p * (1 - p)
        info = X.T @ (w[:, None] * X)
        sign, logdet = np.linalg.slogdet(info)
        ll = float(np.sum(y * eta - np.logaddexp(0.0, eta)))
        return ll + 0.5 * logdet if sign > 0 else -np.inf, p, w, info

    value, p, w, info = penalised(beta)
    converged = False
    for _ in range(max_iter):
        inv = np.linalg.pinv(info)
        h = w * np.einsum("ij,jk,ik->i", X, inv, X)
        step = inv @ (X.T @ (y - p + h * (0.5 - p)))
        for _half in range(30):
            new_value, new_p, new_w, new_info = penalised(beta + step)
            if new_value >= value - 1e-12:
                break
            step = step / 2
        beta = beta + step
        value, p, w, info = new_value, new_p, new_w, new_info
        if np.max(np.abs(step)) < tol:
            converged = True
            break
    inv = np.linalg.pinv(info)
    if groups is None:
        return beta, inv, converged
    h = w * np.einsum("ij,jk,ik->i", X, inv, X)
    u = X * (y - p + h * (0.5 - p))[:, None]
    _, codes = np.unique(groups, return_inverse=True)
    ug = np.zeros((codes.max() + 1, X.shape[1]))
    np.add.at(ug, codes, u)
    return beta, inv @ (ug.T @ ug) @ inv, converged


def _gee(X: np.ndarray, y: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Logistic GEE, exchangeable within group: coefficients and robust covariance."""
    # statsmodels is imported on first use only: it takes about a second to load
    from statsmodels.genmod import cov_struct, families
    from statsmodels.genmod.generalized_estimating_equations import GEE

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = GEE(
            y, X, groups=groups, family=families.Binomial(), cov_struct=cov_struct.Exchangeable()
        ).fit()
    return np.asarray(r.params, dtype=float), np.asarray(r.cov_params(), dtype=float)


def _healthy(X: np.ndarray, beta: np.ndarray, cov: np.ndarray) -> bool:
    """Finite estimates, positive variances and no fitted probability pinned at 0 or 1."""
    if not (np.all(np.isfinite(beta)) and np.all(np.isfinite(cov))):
        return False
    if np.any(np.diag(cov) <= 0):
        return False
    return bool(np.max(np.abs(X @ beta)) < _EDGE)


def _screen(X, y, names, min_cell, firth, notes, sparse) -> list[int]:
    """Columns left after the sparse-level and separation checks (notes say what went, with
    no count of students; ``sparse`` gets the sparse levels with their counts)."""
    cols = list(range(X.shape[1]))
    for j, level in sparse_columns(X, y, names, min_cell).items():
        sparse.append(level)
        why = level.describe(min_cell)
        if firth:
            notes.append(f"{names[j]}: sparse ({why}); kept under Firth's penalty")
            continue
        cols.remove(j)
        merged = " (its level merged into the reference level)" if "[" in names[j] else ""
        notes.append(f"{names[j]} dropped{merged}: sparse ({why})")
    while not firth:
        b = separating_direction(X[:, cols], y)
        if b is None:
            break
        if len(cols) < 2 or np.max(np.abs(b[1:])) <= 1e-9:
            break  # only the intercept left: the outcome does not vary
        i = int(np.argmax(np.abs(b[1:]))) + 1
        notes.append(
            f"{names[cols[i]]} dropped: it separates improvers from the rest (no finite "
            "estimate; firth=True keeps it with Firth's penalised fit)"
        )
        cols.pop(i)
    if firth:
        b = separating_direction(X[:, cols], y)
        if b is not None:
            sep = [names[cols[i]] for i in range(1, len(cols)) if abs(b[i]) > 1e-6]
            notes.append(
                f"separation by {', '.join(sep)}: Firth's penalised fit keeps finite estimates"
            )
    return cols


def fit_logistic(
    X: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    names: Sequence[str],
    *,
    min_cell: int,
    firth: bool = False,
) -> LogisticFit:
    """A clustered logistic fit that never returns NaN or a runaway estimate silently.

    Sparse 0/1 columns (fewer than ``min_cell`` events or non-events in a level) and
    separating columns are dropped with a note (``firth=True``: kept, the fit penalised); the
    fit is a logistic GEE with exchangeable correlation within ``groups`` (robust SEs), or
    Firth's penalised fit with cluster-robust SEs. A GEE that fails, returns non-finite values,
    a zero variance or a fitted probability pinned at 0 or 1 is replaced by Firth's fit, with a
    note. Column 0 is the intercept (never dropped).
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    notes: list[str] = []
    sparse: list[SparseLevel] = []
    cols = _screen(X, y, list(names), min_cell, firth, notes, sparse)
    Xk = X[:, cols]
    if not firth:
        try:
            beta, cov = _gee(Xk, y, groups)
        except (ValueError, np.linalg.LinAlgError) as e:  # pragma: no cover - defensive
            beta, cov = np.full(len(cols), np.nan), np.full((len(cols), len(cols)), np.nan)
            notes.append(f"the GEE failed ({e})")
        if _healthy(Xk, beta, cov):
            return LogisticFit(beta, cov, cols, "gee", notes, sparse)
        notes.append("the GEE did not give finite, positive-variance estimates: Firth's fit used")
    beta, cov, ok = firth_logistic(Xk, y, groups=groups)
    if not ok:
        notes.append("Firth's fit did not converge in 200 steps: estimates are approximate")
    return LogisticFit(beta, cov, cols, "firth", notes, sparse)
