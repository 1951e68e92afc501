"""The mentor model: a linear mixed model with a random mentor intercept, fitted fast and checked.

:func:`fit_mentor_model` fits ``outcome ~ pre + covariates + (1 | mentor)`` (optionally a random
slope or a second variance component) on any DataFrame and returns a :class:`MentorModel`:
fixed effects, variance components, ICC, the (restricted) log-likelihood, the boundary-corrected
likelihood-ratio test of the mentor variance (:func:`boundary_lrt`) and the empirical-Bayes
mentor effects with conditional or integrated intervals.

Random-intercept models use a direct profiled (RE)ML fit (benchmarks/bench_mixed.py); random
slopes and a second variance component (the class) use statsmodels ``MixedLM``, tried with every
optimiser; a fit that cannot be done falls back (:mod:`.fallback`).
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, stats
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from ..errors import InputError
from ..privacy import MIN_CELL
from .design import Design, prepare_design
from .fallback import fit_or_fallback, snap_boundary
from .rlrt import rlrt_null_sample, rlrt_pvalue

__all__ = [
    "LLF_TOL",
    "LRT_ZERO",
    "OPTIMIZERS",
    "Design",
    "MentorModel",
    "OptimizerWarning",
    "boundary_lrt",
    "fit_mentor_model",
    "prepare_design",
]

#: Optimisers tried, in order, on the statsmodels MixedLM path.
OPTIMIZERS: tuple[str, ...] = ("lbfgs", "bfgs", "cg", "nm", "powell")

#: Converged MixedLM fits whose log-likelihoods differ by more than this disagree.
LLF_TOL = 0.01

#: A likelihood-ratio statistic below this is 0 (a fit at the boundary, up to rounding).
LRT_ZERO = 1e-8


class OptimizerWarning(UserWarning):
    """The optimisers of a MixedLM fit disagree, or none of them converged."""


@dataclass
class MentorModel:
    """A fitted mentor model (returned by :func:`fit_mentor_model`).

    Attributes
    ----------
    outcome, group : str
        The outcome column and the grouping (mentor) column.
    reml : bool
        REML (True) or ML (False).
    method : str
        ``"profiled"`` (direct random-intercept fit), ``"mixedlm:<optimiser>"``, or ``"ols"``
        (the fallback: mentor variance, ICC and its test NaN, no effects; see Notes of
        :func:`fit_mentor_model`).
    n_obs, n_groups, n_dropped : int
        Rows used, mentors, and rows dropped for a missing value.
    fixed : DataFrame
        Index ``term``; columns coef, se, z, p, ci_low, ci_high (Wald, normal reference).
    variance : DataFrame
        Columns component, variance, sd: the mentor intercept (named by ``group``), a slope
        and its covariance with the intercept when fitted, the extra group when fitted, and
        ``residual``.
    icc : float
        Mentor intercept variance / (all variance components + residual).
    llf : float
        The maximised (restricted) log-likelihood.
    lrt : dict
        ``stat``, ``p``, ``llf_null``, ``mixture`` (see :func:`boundary_lrt`), ``tests``,
        ``null`` (the null distribution of the p-value: ``"chibar2"``, the 50:50 chi-square
        mixture of Self & Liang 1987, or ``"rlrt_sim"``, the exact (R)LRT by simulation),
        ``n_sim`` (draws; 0 for the mixture) and, when simulated, ``p_zero`` (the null
        probability of a statistic of 0).
    effects : DataFrame
        One row per mentor (and term for random slopes): ``group`` column (named by the group
        column), term, effect, se, ci_low, ci_high, n (mentees), reliability (shrinkage factor
        of the intercept: n lambda / (1 + n lambda)), raw (the mentor's mean residual from the
        fixed part: the unshrunk value added; profiled fit only).
    converged : bool
    optimizers : DataFrame or None
        MixedLM path: optimiser, converged, llf, note per optimiser tried.
    notes : list of str
        Dropped covariates, optimiser disagreements, boundary fits.
    cov_fixed : ndarray
        Covariance matrix of the fixed effects (order of ``fixed``).
    intervals : {"conditional", "integrated"}
        How the effects' SEs and intervals were computed (see :func:`fit_mentor_model`).
    """

    outcome: str
    group: str
    reml: bool
    method: str
    n_obs: int
    n_groups: int
    n_dropped: int
    fixed: pd.DataFrame
    variance: pd.DataFrame
    icc: float
    llf: float
    lrt: dict
    effects: pd.DataFrame
    converged: bool = True
    optimizers: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)
    cov_fixed: np.ndarray | None = field(default=None, repr=False)
    intervals: str = "integrated"

    def var(self, component: str) -> float:
        """The variance of one component (``"residual"``, the group name, ...)."""
        v = self.variance.set_index("component")["variance"]
        return float(v.get(component, np.nan))

    @property
    def var_group(self) -> float:
        return self.var(self.group)

    @property
    def var_resid(self) -> float:
        return self.var("residual")

    def summary_row(self) -> dict:
        """The model in one flat dict (for a models table)."""
        return {
            "outcome": self.outcome,
            "n_students": self.n_obs,
            "n_mentors": self.n_groups,
            "mean_mentees": self.n_obs / self.n_groups,
            "var_mentor": self.var_group,
            "var_resid": self.var_resid,
            "icc": self.icc,
            "llf": self.llf,
            "lrt_stat": self.lrt["stat"],
            "lrt_p": self.lrt["p"],
            "lrt_null": self.lrt.get("null", "chibar2"),
            "mean_reliability": float(self.effects["reliability"].mean()),
            "method": self.method,
            "intervals": self.intervals,
            "converged": self.converged,
        }


def boundary_lrt(
    llf_full: float, llf_null: float, *, q: int = 0, reml: bool = True
) -> tuple[float, float]:
    """Likelihood-ratio test of a variance on the boundary of its parameter space.

    Parameters
    ----------
    llf_full, llf_null : float
        Maximised (restricted) log-likelihoods with and without the variance(s) tested. With
        REML both models must have the same fixed effects.
    q : int
        Random effects kept under the null: 0 tests one random intercept against none; 1 tests
        a random slope (with its covariance) against a random intercept alone.
    reml : bool
        The log-likelihoods are restricted (default) or ML: only the p-value of a statistic
        of 0 depends on it (see Notes).

    Returns
    -------
    stat : float
        ``2 (llf_full - llf_null)``; below :data:`LRT_ZERO` (1e-8) it is 0 (a variance
        estimated at 1e-11 is the boundary, as lme4 reports it).
    p : float
        ``0.5 P(chi2_q >= stat) + 0.5 P(chi2_{q+1} >= stat)``, with chi2_0 the point mass at
        0: 1 for a statistic of 0 with REML; with ML and q = 0 a statistic of 0 gets
        ``P(stat > 0) = 0.5``.

    Notes
    -----
    Under the null the variance sits on the edge of its space (it cannot be negative), so the
    ordinary chi-square reference is too conservative. The statistic follows a 50:50 mixture of
    chi-square distributions with q and q + 1 degrees of freedom (Self & Liang 1987, JASA
    82:605; Stram & Lee 1994, Biometrics 50:1171). For q = 0 the 5% critical value is 2.706
    (chi2_1's 10% point) instead of 3.841.

    A statistic of 0 follows R's RLRsim: ``exactRLRT`` (REML) returns p = 1, ``exactLRT``
    (ML) returns ``mean(0 < sample)``, the null probability of a positive statistic, which
    for the mixture is 0.5. A statistic below :data:`LRT_ZERO` is rounding noise of a fit at
    the boundary (lme4 prints the variance as 0): it is set to 0 first.

    Examples
    --------
    >>> round(boundary_lrt(-100.0, -101.353)[1], 3)
    0.05
    >>> boundary_lrt(-100.0, -100.0 - 2e-11)
    (0.0, 1.0)
    >>> boundary_lrt(-100.0, -100.0, reml=False)
    (0.0, 0.5)
    """
    stat = 2.0 * (float(llf_full) - float(llf_null))
    if math.isnan(stat):  # no null fit (the OLS fallback): nothing to test
        return math.nan, math.nan
    stat = 0.0 if stat < LRT_ZERO else stat
    if q == 0:
        low = 1.0 if (stat == 0 and reml) else 0.0  # P(chi2_0 >= 0) = 1, P(chi2_0 > 0) = 0
    else:
        low = float(stats.chi2.sf(stat, q))
    return stat, float(0.5 * low + 0.5 * stats.chi2.sf(stat, q + 1))


# --------------------------------------------------------------------------- profiled fit


class _RandomIntercept:
    """Per-group sufficient statistics of ``y = X b + u_group + e`` (profiled (RE)ML).

    With lambda = var(u) / var(e) and w_j = lambda / (1 + n_j lambda), the GLS pieces are
    ``A = X'X - sum_j w_j s_j s_j'``, ``b = X'y - sum_j w_j s_j t_j``,
    ``c = y'y - sum_j w_j t_j^2`` (s_j, t_j the group sums of X and y), so one evaluation of
    the profiled likelihood costs O(groups * p^2) whatever the number of students.
    """

    def __init__(self, y: np.ndarray, X: np.ndarray, codes: np.ndarray, n_groups: int):
        self.n, self.p = X.shape
        self.nj = np.bincount(codes, minlength=n_groups).astype(float)
        self.sx = np.column_stack(
            [np.bincount(codes, weights=X[:, k], minlength=n_groups) for k in range(self.p)]
        )
        self.sy = np.bincount(codes, weights=y, minlength=n_groups)
        self.XX, self.Xy, self.yy = X.T @ X, X.T @ y, float(y @ y)

    def gls(self, lam: float):
        w = lam / (1.0 + self.nj * lam)
        sxw = self.sx * w[:, None]
        A = self.XX - sxw.T @ self.sx
        b = self.Xy - sxw.T @ self.sy
        c = self.yy - float((w * self.sy * self.sy).sum())
        L = np.linalg.cholesky(A)
        beta = np.linalg.solve(A, b)
        rss = max(c - float(b @ beta), 1e-300)
        return w, A, L, beta, rss

    def nll(self, lam: float, reml: bool) -> float:
        """Minus the profiled log-likelihood (REML: restricted) at variance ratio ``lam``."""
        _, _, L, _, rss = self.gls(lam)
        logdet_v = float(np.log1p(self.nj * lam).sum())
        if reml:
            m = self.n - self.p
            return 0.5 * (
                m * (np.log(2 * np.pi * rss / m) + 1) + logdet_v + 2 * np.log(np.diag(L)).sum()
            )
        return 0.5 * (self.n * (np.log(2 * np.pi * rss / self.n) + 1) + logdet_v)

    def fit(self, reml: bool) -> dict:
        lo, hi = -25.0, 12.0  # log lambda
        grid = np.linspace(lo, hi, 38)
        vals = np.array([self.nll(math.exp(t), reml) for t in grid])
        k = int(np.argmin(vals))
        a, b = grid[max(k - 1, 0)], grid[min(k + 1, len(grid) - 1)]
        res = optimize.minimize_scalar(
            lambda t: self.nll(math.exp(t), reml),
            bounds=(a, b),
            method="bounded",
            options={"xatol": 1e-10, "maxiter": 500},
        )
        lam, best = math.exp(res.x), float(res.fun)
        at_zero = self.nll(0.0, reml)
        if at_zero <= best:
            lam, best = 0.0, at_zero
        w, A, L, beta, rss = self.gls(lam)
        s2 = rss / (self.n - self.p if reml else self.n)
        return {
            "lam": lam,
            "llf": -best,
            "llf_null": -at_zero,
            "beta": beta,
            "cov_beta": s2 * np.linalg.inv(A),
            "sigma2": s2,
            "w": w,
            "converged": bool(res.success) or lam == 0.0,
        }

    def integrated(self, reml: bool, lam_hat: float, n_grid: int = 200):
        """Posterior mean and SD of each group effect, integrating over lambda.

        Flat prior on ``s = sqrt(lambda)`` (the mentor SD in residual SDs), weighted by the
        profiled (restricted) likelihood on a grid from 0 to where it has dropped by 20 log
        units; at each grid point the conditional mean and variance ``s_e^2 w_j`` (``b`` and
        ``s_e^2`` at their estimates given lambda).
        """
        best = self.nll(lam_hat, reml)
        top = max(2 * math.sqrt(lam_hat), 0.05)
        for _ in range(40):  # top capped at sqrt(e^12), the fit's largest lambda
            if top > 403 or self.nll(top * top, reml) - best > 20:
                break
            top *= 2
        grid = np.linspace(0.0, top, n_grid)
        nll = np.array([self.nll(g * g, reml) for g in grid])
        wt = np.exp(-(nll - nll.min()))
        wt /= wt.sum()
        m1 = np.zeros(len(self.nj))
        m2 = np.zeros(len(self.nj))
        for g, pk in zip(grid, wt, strict=True):
            if pk < 1e-12:
                continue
            w, A, _, beta, rss = self.gls(g * g)
            s2 = rss / (self.n - self.p if reml else self.n)
            u = w * (self.sy - self.sx @ beta)
            v = s2 * w
            m1 += pk * u
            m2 += pk * (v + u * u)
        return m1, np.sqrt(np.maximum(m2 - m1 * m1, 0.0))


#: What the mentor effects are when the variance is estimated at 0, by kind of interval.
_BOUNDARY_EFFECTS = {
    "conditional": "conditional effects all 0",
    "integrated": "effects near 0, averaged over the variance's uncertainty (integrated)",
}


def _fit_profiled(d: Design, reml: bool, intervals: str = "conditional"):
    G = len(d.labels)
    ri = _RandomIntercept(d.y, d.X, d.codes, G)
    f = ri.fit(reml)
    s2, lam, w = f["sigma2"], f["lam"], f["w"]
    resid_sum = ri.sy - ri.sx @ f["beta"]
    u = w * resid_sum
    se = np.sqrt(s2 * w)
    if intervals == "integrated":
        u, se = ri.integrated(reml, lam)
    eff = pd.DataFrame(
        {
            "label": d.labels,
            "term": "intercept",
            "effect": u,
            "se": se,
            "n": ri.nj.astype(int),
            "reliability": ri.nj * lam / (1 + ri.nj * lam),
            "raw": resid_sum / ri.nj,
        }
    )
    var = pd.DataFrame({"component": ["__group__", "residual"], "variance": [lam * s2, s2]})
    out = {
        "beta": f["beta"],
        "cov_beta": f["cov_beta"],
        "variance": var,
        "llf": f["llf"],
        "llf_null": f["llf_null"],
        "effects": eff,
        "converged": f["converged"],
        "method": "profiled",
        "q": 0,
        "optimizers": None,
        "notes": [f"mentor variance estimated at 0 (the boundary): {_BOUNDARY_EFFECTS[intervals]}"]
        if lam == 0
        else [],
    }
    return out


# --------------------------------------------------------------------------- MixedLM fit


def _components(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Connected components of the bipartite graph of two groupings (crossed effects)."""
    na, nb = a.max() + 1, b.max() + 1
    g = coo_matrix((np.ones(len(a)), (a, na + b)), shape=(na + nb, na + nb))
    _, lab = connected_components(g, directed=False)
    return pd.factorize(lab[a], sort=True)[0]


def _mixedlm_model(d: Design, group_name: str, extra_name: str | None):
    # statsmodels is imported on first use only: it takes about a second to load
    from statsmodels.regression.mixed_linear_model import MixedLM, VCSpec

    if d.extra_codes is None:
        re = (
            np.ones((len(d.y), 1))
            if d.slope is None
            else np.column_stack([np.ones(len(d.y)), d.slope])
        )
        re_names = ["intercept"] if d.slope is None else ["intercept", "slope"]
        model = MixedLM(d.y, d.X, groups=d.codes, exog_re=re)
        model.exog_re_names = re_names
        return model, None
    comp = _components(d.codes, d.extra_codes)
    names = [group_name, extra_name]
    colnames: list[list[list[str]]] = [[], []]
    mats: list[list[np.ndarray]] = [[], []]
    order = np.argsort(comp, kind="stable")
    for idx in np.split(order, np.flatnonzero(np.diff(comp[order])) + 1):
        for k, codes in enumerate((d.codes, d.extra_codes)):
            present = np.unique(codes[idx])
            mats[k].append((codes[idx][:, None] == present[None, :]).astype(float))
            colnames[k].append([f"{'mc'[k]}{j}" for j in present])
    model = MixedLM(
        d.y,
        d.X,
        groups=comp,
        exog_re=np.zeros((len(d.y), 0)),
        exog_vc=VCSpec(names, colnames, mats),
    )
    return model, comp


def _fit_mixedlm(d: Design, reml: bool, optimizers: Sequence[str], group_name, extra_name):
    model, comp = _mixedlm_model(d, group_name, extra_name)
    rows: list[dict[str, Any]] = []
    fits = []
    for meth in optimizers:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                r = model.fit(reml=reml, method=meth)
            except Exception as e:  # an optimiser that fails outright is just not kept
                rows.append({"optimizer": meth, "converged": False, "llf": np.nan, "note": str(e)})
                continue
        ok = bool(r.converged) and np.isfinite(r.llf) and np.all(np.isfinite(r.fe_params))
        msgs = sorted({str(w.message).split(".")[0] for w in caught})
        rows.append(
            {"optimizer": meth, "converged": ok, "llf": float(r.llf), "note": "; ".join(msgs)}
        )
        fits.append((ok, float(r.llf), meth, r))
    if not fits:
        raise InputError("MixedLM failed with every optimiser: " + rows[-1]["note"])
    table = pd.DataFrame(rows)
    notes = []
    good = [f for f in fits if f[0]]
    if good:
        ok, llf, meth, r = max(good, key=lambda f: f[1])
        spread = max(f[1] for f in good) - min(f[1] for f in good)
        if spread > LLF_TOL:
            msg = (
                f"MixedLM optimisers disagree (log-likelihoods differ by {spread:.3g}); "
                f"kept {meth}, the best converged fit"
            )
            warnings.warn(msg, OptimizerWarning, stacklevel=3)
            notes.append(msg)
    else:
        ok, llf, meth, r = max(fits, key=lambda f: f[1])
        msg = f"no MixedLM optimiser converged; kept {meth} (best log-likelihood), treat with care"
        warnings.warn(msg, OptimizerWarning, stacklevel=3)
        notes.append(msg)
    return r, comp, ok, meth, table, notes


def _vc_code(key: str) -> int | None:
    """Mentor code of a MixedLM variance-component effect named ``<vc>[m<code>]``."""
    m = re.search(r"\[m(\d+)\]$", key)
    return int(m.group(1)) if m else None


def _mixedlm_effects(d: Design, r, comp) -> tuple[pd.DataFrame, pd.DataFrame]:
    nj = np.bincount(d.codes, minlength=len(d.labels))
    rows = []
    if comp is None:
        cov_re = np.atleast_2d(r.cov_re)
        for code, label in enumerate(d.labels):
            ranef = r.random_effects.get(code)
            cv = r.random_effects_cov.get(code)
            if ranef is None:
                continue
            for k, term in enumerate(["intercept", "slope"][: len(ranef)]):
                v = float(np.asarray(cv)[k, k])
                rows.append((label, term, float(np.asarray(ranef)[k]), v, cov_re[k, k]))
        comps = [("__group__", cov_re[0, 0])]
        if cov_re.shape[0] == 2:
            comps += [("slope", cov_re[1, 1]), ("cov(intercept, slope)", cov_re[0, 1])]
    else:
        vg = float(r.vcomp[0])
        for c, ranef in r.random_effects.items():
            cv = np.asarray(r.random_effects_cov[c])
            for k, key in enumerate(ranef.index):
                vc = _vc_code(key)
                if vc is not None:
                    rows.append((d.labels[vc], "intercept", float(ranef.iloc[k]), cv[k, k], vg))
        comps = [("__group__", vg), ("__extra__", float(r.vcomp[1]))]
    eff = pd.DataFrame(rows, columns=["label", "term", "effect", "v", "prior"])
    code_of = {lab: i for i, lab in enumerate(d.labels)}
    eff["n"] = [int(nj[code_of[lab]]) for lab in eff["label"]]
    eff["se"] = np.sqrt(np.maximum(eff["v"], 0))
    eff["reliability"] = np.where(eff["prior"] > 0, 1 - eff["v"] / eff["prior"], 0.0)
    eff = eff.drop(columns=["v", "prior"])
    comps.append(("residual", float(r.scale)))
    return eff, pd.DataFrame(comps, columns=["component", "variance"])


def _fit_reference(d: Design, reml: bool, optimizers, group: str, extra: str | None) -> dict:
    """The MixedLM path, with the null fit of the boundary test done by the profiled code."""
    r, comp, converged, opt, table, notes = _fit_mixedlm(d, reml, optimizers, group, extra)
    k = d.X.shape[1]
    eff, var = _mixedlm_effects(d, r, comp)
    if d.extra_codes is not None and d.extra_labels is not None:  # null: the extra group alone
        llf_null = _RandomIntercept(d.y, d.X, d.extra_codes, len(d.extra_labels)).fit(reml)["llf"]
        q = 0
    elif d.slope is not None:  # null: a random intercept alone
        llf_null, q = _RandomIntercept(d.y, d.X, d.codes, len(d.labels)).fit(reml)["llf"], 1
    else:  # null: no mentor variance (lambda = 0)
        llf_null = _RandomIntercept(d.y, d.X, d.codes, len(d.labels)).fit(reml)["llf_null"]
        q = 0
    return {
        "beta": np.asarray(r.fe_params),
        "cov_beta": np.asarray(r.cov_params())[:k, :k],
        "variance": var,
        "llf": float(r.llf),
        "llf_null": llf_null,
        "effects": eff,
        "converged": converged,
        "method": f"mixedlm:{opt}",
        "q": q,
        "optimizers": table,
        "notes": notes,
    }


# --------------------------------------------------------------------------- public fit


def fit_mentor_model(
    data: pd.DataFrame,
    *,
    outcome: str,
    group: str,
    pre: str | None = None,
    covariates: Sequence[str] = (),
    random_slope: str | None = None,
    extra_group: str | None = None,
    reml: bool = True,
    method: str = "auto",
    optimizers: Sequence[str] = OPTIMIZERS,
    confidence: float = 0.95,
    intervals: str = "integrated",
    lrt: str = "auto",
    rlrt_min_mentees: float = 3.0,
    n_sim: int = 10000,
    seed: int | None = 0,
    min_cell: int = MIN_CELL,
) -> MentorModel:
    """Fit ``outcome ~ pre + covariates + (1 | group)`` and return shrunken group effects.

    Parameters
    ----------
    data : DataFrame
        One row per student (not modified). Rows with a missing value in any column used are
        dropped (counted in ``n_dropped``).
    outcome : str
        Numeric outcome column (e.g. the post-test score).
    group : str
        The mentor column.
    pre : str, optional
        The pre-test column (a covariate listed first).
    covariates : sequence of str
        More covariates: numeric and boolean columns enter as they are, text and categorical
        columns as dummies (first level the reference). Constant columns are dropped (noted
        without naming an empty group: "fewer than ``min_cell`` students differ").
    random_slope : str, optional
        A numeric column whose slope varies by mentor (intercept and slope correlated).
    extra_group : str, optional
        A second random intercept, e.g. the class, nested in or crossed with the mentors.
    reml : bool
        REML (default) or ML.
    method : {"auto", "profiled", "mixedlm"}
        ``auto``: the direct profiled fit for random-intercept models, MixedLM otherwise.
        ``mixedlm`` forces statsmodels (the reference path).
    optimizers : sequence of str
        MixedLM optimisers to try (default :data:`OPTIMIZERS`).
    confidence : float
        Level of the intervals (0.95).
    intervals : {"integrated", "conditional"}
        ``integrated`` (default; random-intercept models): posterior means and SDs averaged
        over the uncertainty of the mentor variance and of the fixed effects; they cover when
        the true mentor SD is small or mentors have 1-2 mentees (see Notes). ``conditional``:
        the empirical-Bayes effects and conditional SEs given the estimated variances (lme4's
        ``ranef`` / ``condVar``); models with a random slope or an extra group always use
        these (noted).
    lrt : {"auto", "chibar2", "rlrt_sim"}
        Null distribution of the test of the mentor variance (``lrt["null"]``): the 50:50
        chi-square mixture, or the exact finite-sample distribution simulated
        (:func:`~mentorlib.effectiveness.rlrt.rlrt_null_sample`; random-intercept models
        only). ``auto``: the simulation when mentors have fewer than ``rlrt_min_mentees``
        mentees on average, the mixture otherwise.
    rlrt_min_mentees : float
        See ``lrt`` (3: the rulebook's ``rlrt_min_mentees``).
    n_sim, seed : int
        Draws and seed of the simulated null distribution (10,000 as RLRsim; the rulebook's
        ``rlrt_n_sim``).
    min_cell : int, default 5
        The small-cell threshold the notes are worded by (the rulebook's ``min_cell``).

    Returns
    -------
    MentorModel
        See :class:`MentorModel` for every field and column.

    Raises
    ------
    InputError
        A missing column, a non-numeric or constant outcome, fewer than two groups, collinear
        covariates, too few rows.

    Notes
    -----
    The model is ``y_ij = x_ij' b + u_j (+ c_k) + e_ij`` with ``u_j ~ N(0, s_u^2)``,
    ``e_ij ~ N(0, s_e^2)``.

    *Profiled fit* (random intercept only). With ``lambda = s_u^2 / s_e^2`` the (restricted)
    log-likelihood profiled over b and s_e^2 is, up to constants,
    ``-(m/2) log(RSS(lambda)) - (1/2) sum_j log(1 + n_j lambda) [- (1/2) log|A(lambda)|]``
    with m = n - p (REML) or n (ML) and ``A = X'V^-1 X s_e^2``, all computed from per-mentor
    sums (see ``_RandomIntercept``); it is maximised over log lambda by Brent's method after a
    grid search, and at lambda = 0. This is the likelihood lme4 maximises (Bates et al. 2015,
    J Stat Softw 67(1), section 3); fixed-effect covariance ``s_e^2 A^-1``.

    *MixedLM path* (random slopes, an extra group, or ``method="mixedlm"``). statsmodels'
    default optimiser can stop unconverged or at a wrong optimum, so every optimiser in
    ``optimizers`` is run; the converged fit with the highest (restricted) log-likelihood is
    kept, and an :class:`OptimizerWarning` is issued when converged fits disagree by more than
    :data:`LLF_TOL` (0.01) in log-likelihood or when none converged. An extra group is fitted as two variance
    components within the connected components of the mentor-class graph.

    *Fallback* (:func:`~mentorlib.effectiveness.fallback.fit_or_fallback`). When no mentor has
    two or more mentees the mentor variance cannot be told from the residual; when the mixed
    fit fails numerically it is retried without nearly collinear covariates (noted). Failing
    that, or without such mentors, the model is ordinary least squares (``method="ols"``):
    fixed effects as usual, mentor variance, ICC and test NaN, no mentor effects, and the note
    "mentors have too few mentees to separate a mentor effect". A MixedLM mentor variance
    below 1e-8 of the residual variance is the boundary: set to 0 (effects 0).

    *Empirical-Bayes effects* are the conditional means ``u_j = w_j sum_i (y_ij - x_ij' b)``,
    ``w_j = lambda / (1 + n_j lambda)``, with conditional variance ``s_e^2 w_j`` (lme4's
    ``condVar``; given b and the variances), reliability ``n_j lambda / (1 + n_j lambda)``,
    and Wald intervals ``u_j +- z se_j`` (Raudenbush & Bryk 2002, ch. 3; Skrondal &
    Rabe-Hesketh 2009).

    *Integrated intervals.* Conditional SEs ignore that the mentor variance is estimated:
    with 1-2 mentees per mentor it is often estimated at 0, and then every interval collapses
    to a point. ``intervals="integrated"`` averages the conditional posteriors over a grid of
    ``s = sqrt(lambda)`` weighted by the profiled restricted likelihood (a flat prior on the
    mentor SD, Gelman 2006, Bayesian Anal 1:515), in the spirit of Kass & Steffey (1989,
    JASA 84:717); intervals are normal, from the mixture's mean and SD. Both kinds are
    *comparative* (Goldstein & Spiegelhalter 1996): they leave out the uncertainty of the
    overall mean, which moves every mentor alike, as effects are comparisons among the
    mentors fitted.

    *Test of the mentor variance*: :func:`boundary_lrt` against the model without it (OLS,
    or the extra group alone), 0.5 chi2_0 + 0.5 chi2_1 (``lrt["null"] = "chibar2"``); for a
    random slope, the slope model against the random intercept alone, 0.5 chi2_1 + 0.5
    chi2_2. The mixture is the large-sample null; in finite samples the null point mass at 0
    is not one half (one-way balanced design: ``P(F_{K-1, n-K} <= 1)`` for the RLRT,
    Crainiceanu & Ruppert 2004, JRSS B 66:165, section 3) and the tail differs, so with
    few mentees per mentor (the middle school's 1-2) a random-intercept model uses the exact
    (R)LRT by simulation (RLRsim's ``exactRLRT``; ``lrt["null"] = "rlrt_sim"``). A
    statistic below 1e-8 is 0: p = 1 with REML (RLRsim; lme4 prints such a variance as 0).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"m": np.repeat(np.arange(40), 6), "x": rng.normal(size=240)})
    >>> df["y"] = df["x"] + rng.normal(0, 0.5, 40)[df["m"]] + rng.normal(size=240)
    >>> fit = fit_mentor_model(df, outcome="y", group="m", pre="x")
    >>> fit.method, fit.n_groups, bool(abs(fit.fixed.loc["x", "coef"] - 1) < 0.2)
    ('profiled', 40, True)
    """
    if method not in ("auto", "profiled", "mixedlm"):
        raise InputError(f"unknown method {method!r}: expected auto, profiled or mixedlm")
    d = prepare_design(
        data, outcome, group, pre, covariates, random_slope, extra_group, min_cell=min_cell
    )
    simple = random_slope is None and extra_group is None
    if method == "profiled" and not simple:
        raise InputError("the profiled fit handles a random intercept only; use method='mixedlm'")
    if intervals not in ("conditional", "integrated"):
        raise InputError(f"unknown intervals {intervals!r}: expected conditional or integrated")
    if lrt not in ("auto", "chibar2", "rlrt_sim"):
        raise InputError(f"unknown lrt {lrt!r}: expected auto, chibar2 or rlrt_sim")

    def fit(dd: Design) -> dict:
        if simple and method != "mixedlm":
            return _fit_profiled(dd, reml, intervals)
        fr = _fit_reference(dd, reml, optimizers, group, extra_group)
        snap_boundary(fr)
        if intervals == "integrated":
            fr["notes"].append(
                "integrated intervals need a random-intercept model: conditional used"
            )
        return fr

    f, d = fit_or_fallback(d, fit, reml)
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    var = f["variance"].assign(
        component=f["variance"]["component"].replace(
            {"__group__": group, "__extra__": extra_group or ""}
        ),
        sd=np.sqrt(np.maximum(f["variance"]["variance"], 0)),
    )
    vv = var.set_index("component")["variance"]
    total = vv[group] + vv["residual"] + (vv[extra_group] if extra_group else 0.0)
    sim = {"lrt": lrt, "min_mentees": rlrt_min_mentees, "n_sim": n_sim, "seed": seed}
    test = _variance_test(f, d, reml, simple, sim)
    test["tests"] = "random slope" if random_slope else f"{group} variance"
    return MentorModel(
        outcome=outcome,
        group=group,
        reml=reml,
        method=f["method"],
        n_obs=len(d.y),
        n_groups=len(d.labels),
        n_dropped=d.n_dropped,
        fixed=_fixed_table(f["beta"], f["cov_beta"], d.names, z),
        variance=var.reset_index(drop=True),
        icc=float(vv[group] / total) if total > 0 else np.nan,
        llf=float(f["llf"]),
        lrt=test,
        effects=_effects_table(f["effects"], group, z),
        converged=bool(f["converged"]),
        optimizers=f["optimizers"],
        notes=d.notes + f["notes"],
        cov_fixed=f["cov_beta"],
        intervals=intervals if f["method"] == "profiled" else "conditional",
    )


def _variance_test(f: dict, d: Design, reml: bool, simple: bool, sim: dict) -> dict:
    """The ``lrt`` dict of a fit: the statistic, its p-value and the null distribution used."""
    q = f["q"]
    stat, p = boundary_lrt(f["llf"], f["llf_null"], q=q, reml=reml)
    out = {
        "stat": stat,
        "p": p,
        "llf_null": float(f["llf_null"]),
        "mixture": f"0.5 chi2_{q} + 0.5 chi2_{q + 1}",
        "null": "chibar2",
        "n_sim": 0,
    }
    few = len(d.y) / max(len(d.labels), 1) < sim["min_mentees"]
    want = sim["lrt"] == "rlrt_sim" or (sim["lrt"] == "auto" and few)
    if not want or math.isnan(stat) or not simple or f["method"] == "ols":
        if sim["lrt"] == "rlrt_sim" and not math.isnan(stat):
            f["notes"].append("exact RLRT needs a random-intercept model: chi-square mixture used")
        return out
    try:
        sample = rlrt_null_sample(
            d.X, d.codes, len(d.labels), reml=reml, n_sim=sim["n_sim"], seed=sim["seed"]
        )
    except (InputError, np.linalg.LinAlgError) as e:
        f["notes"].append(f"exact RLRT not possible ({e}): chi-square mixture used")
        return out
    return out | {
        "p": rlrt_pvalue(stat, sample, reml=reml),
        "null": "rlrt_sim",
        "n_sim": int(sim["n_sim"]),
        "p_zero": float(np.mean(sample == 0)),
    }


def _fixed_table(beta: np.ndarray, cov_beta: np.ndarray, names: list[str], z: float):
    """Fixed effects with Wald tests and intervals (normal reference), index ``term``."""
    se = np.sqrt(np.diag(cov_beta))
    return pd.DataFrame(
        {
            "coef": beta,
            "se": se,
            "z": beta / se,
            "p": 2 * stats.norm.sf(np.abs(beta / se)),
            "ci_low": beta - z * se,
            "ci_high": beta + z * se,
        },
        index=pd.Index(names, name="term"),
    )


def _effects_table(eff: pd.DataFrame, group: str, z: float) -> pd.DataFrame:
    """The mentor effects with Wald intervals, the group column named after the group."""
    eff = eff.assign(ci_low=eff["effect"] - z * eff["se"], ci_high=eff["effect"] + z * eff["se"])
    if "raw" not in eff.columns:
        eff = eff.assign(raw=np.nan)
    cols = [group, "term", "effect", "se", "ci_low", "ci_high", "n", "reliability", "raw"]
    return eff.rename(columns={"label": group})[cols].reset_index(drop=True)
