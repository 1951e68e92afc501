"""The mentee comparison in SDs: ANCOVA on the latent scale, and difference-in-differences.

ANCOVA on the latent scale (:func:`ancova_latent`). Raw Likert means have a ceiling: mentees
start low, where the same true change shows as a larger observed change, so an unadjusted
comparison of changes favours them even with no programme effect. The plausible values of the
headline work (:func:`~mentorlib.progress.true_share.plausible_values`: an anchored graded
response model per dimension, a joint latent regression, draws of each student's latent pre and
post) put both waves on one interval scale in SDs of the pre-test population. They are drawn for
ALL students of the year, with the mentee flag, grade and focus-group flags in the latent
regression (conditioning model): a population model without the mentee flag would pull the
mentees' draws towards the school's mean and bias their difference towards 0 (Mislevy 1991).
Per draw and dimension, least squares of the latent post on the latent pre, the mentee flag,
grade and the flags; the mentee coefficient's variance is cluster-robust over classes (its
influence function), and the dimensions' mean coefficient uses the mean of their influence
functions, so their correlation is kept. The draws are combined with Rubin's (1987) rules
(Barnard & Rubin 1999 degrees of freedom).

Difference-in-differences (:func:`difference_in_differences`): students mentored this year but
not the year before, measured the year before, against students mentored in neither year. The
outcome is the change from last year's post-test (measured before the nomination, so its error
is independent of the pre-test that nominated them: no regression to the mean from nomination)
to this year's post-test, in SDs of last year's pre-test; the pre-trend check is the same
difference in last year's own change (pre to post). Welch intervals.

References: Mislevy, R. J. (1991). Psychometrika 56, 177-196. Rubin, D. B. (1987). Multiple
Imputation for Nonresponse in Surveys. Barnard, J. & Rubin, D. B. (1999). Biometrika 86,
948-955. Lord, F. M. (1967). Psychological Bulletin 68, 304-305.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import InputError
from ..privacy import few_text
from .comparison_data import FLAGS
from .proportions import mean_difference
from .true_share import plausible_values

__all__ = ["LATENT_M", "ancova_latent", "difference_in_differences", "rubin"]

#: Plausible values per student for the ANCOVA, and the chain's burn-in sweeps.
LATENT_M, LATENT_BURN_IN = 10, 20


def rubin(q: np.ndarray, u: np.ndarray, df_complete: float, alpha: float = 0.05):
    """Rubin's rules: ``(estimate, se, ci_low, ci_high)`` from per-draw estimates ``q`` and
    variances ``u`` (Barnard-Rubin degrees of freedom with ``df_complete``)."""
    m = len(q)
    qbar, w = float(np.mean(q)), float(np.mean(u))
    b = float(np.var(q, ddof=1)) if m > 1 else 0.0
    t = w + (1 + 1 / m) * b
    lam = (1 + 1 / m) * b / t if t > 0 else 0.0
    df_old = (m - 1) / max(lam, 1e-12) ** 2
    df_obs = (df_complete + 1) / (df_complete + 3) * df_complete * (1 - lam)
    df = 1 / (1 / df_old + 1 / max(df_obs, 1e-12))
    half = float(stats.t.ppf(1 - alpha / 2, df)) * np.sqrt(t)
    return qbar, float(np.sqrt(t)), qbar - half, qbar + half


def _conditioning(frame: pd.DataFrame) -> pd.DataFrame:
    """Mentee flag, grade dummies and the focus flags, indexed by student_id."""
    c = pd.DataFrame({"mentee": frame["mentee"].to_numpy(dtype=float)})
    g = pd.get_dummies(frame["grade"], prefix="grade", drop_first=True, dtype=float)
    c = pd.concat([c, g.reset_index(drop=True)], axis=1)
    for f in FLAGS:
        c[f] = frame[f].to_numpy(dtype=float)
    c.index = pd.Index(frame["student_id"].astype("str"))
    return c.loc[:, c.std(ddof=0) > 0]


def _ols_if(yv: np.ndarray, X: np.ndarray, j: int) -> tuple[float, np.ndarray]:
    """Coefficient ``j`` of least squares and its influence function per row (n x coef)."""
    xtx_inv = np.linalg.pinv(X.T @ X)
    beta = xtx_inv @ X.T @ yv
    resid = yv - X @ beta
    return float(beta[j]), (X @ xtx_inv[:, j]) * resid


def _cluster_sum_var(phi: np.ndarray, cluster: np.ndarray) -> float:
    sums = pd.Series(phi).groupby(cluster).sum().to_numpy()
    g = len(sums)
    return float(g / max(g - 1, 1) * (sums**2).sum())


def ancova_latent(
    y, frame: pd.DataFrame, *, m: int = LATENT_M, seed: int = 0, alpha: float = 0.05
) -> pd.DataFrame:
    """ANCOVA of the latent post-test on the latent pre-test, per dimension and their mean.

    ``y`` is the year (:class:`~mentorlib.progress.year.StudyYear`), ``frame`` its
    :func:`~mentorlib.progress.comparison_data.analysis_frame`. Returns ``dimension`` (each
    dimension, then "mean"), ``estimate, se, ci_low, ci_high`` (SDs of the pre-test population),
    ``n_treated, n_control``. InputError when the item model cannot be fitted.
    """
    items = y.scored.items
    ids = pd.Index(frame["student_id"])
    items = items.loc[
        (items["year"] == y.year) & items["student_id"].astype("str").isin(ids)
    ].assign(student_id=lambda d: d["student_id"].astype("str"))
    cond = _conditioning(frame)
    try:
        pv, _ = plausible_values(
            items, y.cb, m=m, seed=seed, covariates=cond, burn_in=LATENT_BURN_IN
        )
    except (np.linalg.LinAlgError, ValueError) as e:
        raise InputError(f"the item model could not be fitted ({e})") from None
    dims = list(pd.unique(pv["dimension"]))
    sid = pd.Index(pv.loc[(pv["dimension"] == dims[0]) & (pv["draw"] == 0), "student_id"])
    row = ids.get_indexer(sid)
    cov = cond.reindex(sid).fillna(0.0)
    X = np.column_stack([np.ones(len(sid)), np.zeros(len(sid)), cov.to_numpy(dtype=float)])
    j = 2 + list(cov.columns).index("mentee")
    cluster = frame["class"].to_numpy()[row]
    df_complete = len(sid) - X.shape[1] - 1
    pre = pv.pivot_table(index=["dimension", "draw"], columns="student_id", values="theta_pre")
    post = pv.pivot_table(index=["dimension", "draw"], columns="student_id", values="theta_post")
    q = np.zeros((m, len(dims) + 1))
    u = np.zeros_like(q)
    for k in range(m):
        phis = []
        for di, d in enumerate(dims):
            X[:, 1] = pre.loc[(d, k), sid].to_numpy(dtype=float)
            q[k, di], phi = _ols_if(post.loc[(d, k), sid].to_numpy(dtype=float), X, j)
            u[k, di] = _cluster_sum_var(phi, cluster)
            phis.append(phi)
        q[k, -1] = q[k, :-1].mean()
        u[k, -1] = _cluster_sum_var(np.mean(phis, axis=0), cluster)
    mentee = frame["mentee"].to_numpy()[row]
    rows = [
        (d, *rubin(q[:, i], u[:, i], df_complete, alpha), int(mentee.sum()), int((~mentee).sum()))
        for i, d in enumerate([*dims, "mean"])
    ]
    return pd.DataFrame(
        rows,
        columns=["dimension", "estimate", "se", "ci_low", "ci_high", "n_treated", "n_control"],
    )


def _did_frame(prev: pd.DataFrame, frame: pd.DataFrame, dims: list[str]) -> pd.DataFrame:
    """Per student on both rosters: group (new mentee / never), outcome and pre-trend per dim."""
    p = prev.set_index("student_id")
    c = frame.set_index("student_id")
    both = c.index.intersection(p.index)
    new = c.loc[both, "mentee"] & ~p.loc[both, "mentee"]
    never = ~c.loc[both, "mentee"] & ~p.loc[both, "mentee"]
    keep = both[(new | never).to_numpy()]
    out = pd.DataFrame({"treated": new.reindex(keep).to_numpy(dtype=bool)}, index=keep)
    for d in dims:
        sd = float(prev[f"pre_{d}"].std())
        out[f"out_{d}"] = (c.loc[keep, f"post_{d}"] - p.loc[keep, f"post_{d}"]) / sd
        out[f"trend_{d}"] = (p.loc[keep, f"post_{d}"] - p.loc[keep, f"pre_{d}"]) / sd
    out["out_mean"] = out[[f"out_{d}" for d in dims]].mean(axis=1)
    out["trend_mean"] = out[[f"trend_{d}" for d in dims]].mean(axis=1)
    return out


def difference_in_differences(
    prev: pd.DataFrame, frame: pd.DataFrame, dims: list[str], *, min_cell: int, alpha: float
) -> pd.DataFrame:
    """DiD of new mentees against students mentored in neither year, with the pre-trend.

    ``prev`` and ``frame`` are the :func:`analysis_frame` of the previous and this year.
    Returns per dimension and "mean": ``estimate, ci_low, ci_high`` (the DiD, SDs),
    ``pretrend, pretrend_ci_low, pretrend_ci_high``, ``n_treated, n_control``. InputError
    when fewer than ``min_cell`` students are in either group.
    """
    t = _did_frame(prev, frame, dims)
    rows = []
    for d in [*dims, "mean"]:
        a = t.loc[t["treated"], [f"out_{d}", f"trend_{d}"]].dropna()
        b = t.loc[~t["treated"], [f"out_{d}", f"trend_{d}"]].dropna()
        if len(a) < min_cell or len(b) < min_cell:
            # the message becomes a published note: the short group(s), never their count
            short = [
                f"{few_text(n, min_cell, zero=False)} {who}"
                for n, who in ((len(a), "new mentees"), (len(b), "never-mentored students"))
                if n < min_cell
            ]
            raise InputError(
                f"difference-in-differences: {' and '.join(short)} measured in both years "
                f"(each group needs at least {min_cell})"
            )
        est = mean_difference(a[f"out_{d}"], b[f"out_{d}"], alpha=alpha).iloc[0]
        pre = mean_difference(a[f"trend_{d}"], b[f"trend_{d}"], alpha=alpha).iloc[0]
        rows.append(
            (
                d,
                est["difference"],
                est["ci_low"],
                est["ci_high"],
                pre["difference"],
                pre["ci_low"],
                pre["ci_high"],
                len(a),
                len(b),
            )
        )
    return pd.DataFrame(
        rows,
        columns=[
            "dimension",
            "estimate",
            "ci_low",
            "ci_high",
            "pretrend",
            "pretrend_ci_low",
            "pretrend_ci_high",
            "n_treated",
            "n_control",
        ],
    )
