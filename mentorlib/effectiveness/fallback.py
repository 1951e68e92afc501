"""When the mentor model cannot be fitted: retry without near-collinear covariates, then OLS.

With 1-2 mentees per mentor (a middle school where only nominated students are mentored) the
mentor variance can be impossible to separate from the residual (every mentor has one mentee)
or the fit can fail numerically ("Matrix is not positive definite"). :func:`fit_or_fallback`
runs the mixed fit; if it raises, it drops covariates that are nearly collinear with the
others (with a note) and tries again; when no mixed fit succeeds, or no mentor has two or more
mentees, it fits ordinary least squares (:func:`ols_fit`): the fixed effects stay estimable,
the mentor variance, ICC and its test are reported as not estimable (NaN) and there are no
mentor effects (no ranking), with the note :data:`FALLBACK_NOTE`. :func:`snap_boundary` sets a
mentor variance estimated at the boundary (below :data:`BOUNDARY_VAR` times the residual
variance, an optimiser's rounding of 0) to exactly 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..labels import MENTOR_FALLBACK_LABEL

__all__ = [
    "BOUNDARY_VAR",
    "COLLINEAR_TOL",
    "FALLBACK_NOTE",
    "fit_or_fallback",
    "near_collinear",
    "ols_fit",
    "snap_boundary",
]

#: The note of an OLS fallback (English; the report shows the (zh, en) label).
FALLBACK_NOTE = MENTOR_FALLBACK_LABEL[1]

#: A mentor variance below this share of the residual variance is the boundary: set to 0.
BOUNDARY_VAR = 1e-8

#: A covariate whose part not explained by the other columns is below this share of its
#: (centred) norm is nearly collinear with them.
COLLINEAR_TOL = 1e-6

#: Numerical failures of a mixed fit (a singular or non-positive-definite matrix, an
#: optimiser's overflow; MixedLM failing with every optimiser raises InputError).
FIT_ERRORS = (np.linalg.LinAlgError, ValueError, FloatingPointError, OverflowError, InputError)


def separable(codes: np.ndarray, n_groups: int) -> bool:
    """A mentor variance is identified only when at least one mentor has 2 or more mentees."""
    return bool((np.bincount(codes, minlength=n_groups) >= 2).any())


def near_collinear(X: np.ndarray) -> list[int]:
    """Columns of ``X`` (never the first, the intercept) nearly in the span of earlier columns.

    Each column in turn is regressed on the columns kept so far; it is dropped when the norm
    of its residual is below :data:`COLLINEAR_TOL` times the norm of the column centred.
    """
    keep, drop = [0], []
    for k in range(1, X.shape[1]):
        col = X[:, k]
        scale = float(np.linalg.norm(col - col.mean()))
        coef = np.linalg.lstsq(X[:, keep], col, rcond=None)[0]
        if scale == 0 or float(np.linalg.norm(col - X[:, keep] @ coef)) < COLLINEAR_TOL * scale:
            drop.append(k)
        else:
            keep.append(k)
    return drop


def ols_fit(y: np.ndarray, X: np.ndarray, reml: bool) -> dict[str, Any]:
    """Ordinary least squares: ``beta`` (numpy lstsq), ``cov_beta`` (s^2 (X'X)^-1 with
    s^2 = RSS / (n - p)), ``sigma2`` (the (RE)ML residual variance) and ``llf`` (the (RE)ML
    log-likelihood, the mixed model's at mentor variance 0)."""
    n, p = X.shape
    beta = np.linalg.lstsq(X, y, rcond=None)[0]
    rss = max(float(((y - X @ beta) ** 2).sum()), 1e-300)
    xtx = X.T @ X
    m = n - p if reml else n
    llf = -0.5 * m * (math.log(2 * math.pi * rss / m) + 1)
    if reml:
        llf -= 0.5 * float(np.linalg.slogdet(xtx)[1])
    cov = rss / (n - p) * np.linalg.pinv(xtx)
    return {"beta": beta, "cov_beta": cov, "sigma2": rss / m, "llf": llf}


def _fallback(d, reml: bool, why: str | None) -> dict[str, Any]:
    """The fit dict of :func:`fit_or_fallback` for OLS (mentor variance, ICC, test: NaN)."""
    o = ols_fit(d.y, d.X, reml)
    comps = ["__group__", *(["__extra__"] if d.extra_codes is not None else []), "residual"]
    var = [math.nan] * (len(comps) - 1) + [o["sigma2"]]
    cols = ["label", "term", "effect", "se", "n", "reliability", "raw"]
    return {
        "beta": o["beta"],
        "cov_beta": o["cov_beta"],
        "variance": pd.DataFrame({"component": comps, "variance": var}),
        "llf": o["llf"],
        "llf_null": math.nan,
        "effects": pd.DataFrame({c: pd.Series(dtype=float) for c in cols}),
        "converged": True,
        "method": "ols",
        "q": 0,
        "optimizers": None,
        "notes": [FALLBACK_NOTE + (f" (the mixed model failed: {why})" if why else "")],
        "fallback": True,
    }


def fit_or_fallback(d, fit: Callable[[Any], dict], reml: bool) -> tuple[dict, Any]:
    """Run ``fit(d)``; on a numerical failure drop near-collinear covariates and retry; else OLS.

    Parameters
    ----------
    d : Design
        The design (:func:`mentorlib.effectiveness.model.prepare_design`).
    fit : callable
        The mixed fit: design -> the fit dict of the model module.
    reml : bool

    Returns
    -------
    (dict, Design)
        The fit dict (``fallback`` True for OLS) and the design actually fitted (without the
        dropped covariates).
    """
    if not separable(d.codes, len(d.labels)):
        return _fallback(d, reml, None), d
    try:
        return fit(d), d
    except FIT_ERRORS as e:
        why = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    drop = near_collinear(d.X)
    if drop:
        names = [d.names[k] for k in drop]
        d2 = replace(
            d,
            X=np.delete(d.X, drop, axis=1),
            names=[n for k, n in enumerate(d.names) if k not in drop],
            notes=[*d.notes, f"dropped {', '.join(names)}: nearly collinear with other covariates"],
        )
        try:
            return fit(d2), d2
        except FIT_ERRORS:
            pass
    return _fallback(d, reml, why), d


def snap_boundary(f: dict) -> None:
    """A mentor variance below :data:`BOUNDARY_VAR` x the residual variance: 0 (in place).

    Its conditional effects and their SEs are then 0 too (the profiled fit's boundary).
    """
    v = f["variance"]
    at = v["component"] == "__group__"
    g = float(v.loc[at, "variance"].iloc[0])
    resid = float(v.loc[v["component"] == "residual", "variance"].iloc[0])
    if not (0 < g < BOUNDARY_VAR * resid or -BOUNDARY_VAR * resid < g < 0):
        return
    f["variance"] = v.assign(variance=np.where(at, 0.0, v["variance"]))
    e = f["effects"]
    icpt = e["term"] == "intercept"
    f["effects"] = e.assign(
        effect=np.where(icpt, 0.0, e["effect"]),
        se=np.where(icpt, 0.0, e["se"]),
        reliability=np.where(icpt, 0.0, e["reliability"]),
    )
    f["notes"].append(f"mentor variance at the boundary ({g:.2g}): set to 0, effects all 0")
