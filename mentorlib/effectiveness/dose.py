"""Dose-response: do talk and parent-contact frequencies go with more improvement?

:func:`dose_response` relates each student's process frequencies (activities per month of the
school year) to improvement: the headline's improvement rule (:func:`mentorlib.progress.
improved_students`: this year's alpha, the rulebook's ``rci_z``, improvement in at least the
rulebook's ``k_dimensions`` dimensions), with the number of evaluable dimensions as a covariate
(a student measured in fewer dimensions has fewer chances to improve), by a logistic GEE
clustered by mentor (sparse and separating covariates dropped with a note, or Firth's penalised
fit: :mod:`mentorlib.effectiveness.logistic`); or to the post composite score by the mentor
model. The frequencies were not randomised: every number here is an association
(:data:`DOSE_WARNING`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import expit

from ..calendar import TERM_MONTHS
from ..errors import InputError
from ..labels import EFFECTIVENESS_TEXTS, EXPOSURE_LABELS
from ..privacy import few_text
from ..progress import improved_students, proportion_ci
from .design import Design
from .logistic import fit_logistic
from .model import fit_mentor_model, prepare_design
from .study import COVARIATES, mentor_data, study_scores, wide_scores

__all__ = [
    "DOSE_WARNING",
    "EXPOSURES",
    "EXPOSURE_LABELS",
    "DoseResponse",
    "dose_response",
]

#: The not-randomised warning printed with every dose-response result ({"zh": ..., "en": ...}).
_WARN_ZH, _WARN_EN = EFFECTIVENESS_TEXTS["dose_warning"]
DOSE_WARNING: dict[str, str] = {"zh": _WARN_ZH, "en": _WARN_EN}

#: Activity kinds counted as each exposure, per school level.
EXPOSURES: dict[str, dict[str, tuple[str, ...]]] = {
    "primary": {"talk": ("talk",), "parent_contact": ("three_party",)},
    "middle": {"talk": ("talk",), "parent_contact": ("parent_call", "home_visit")},
}


@dataclass
class DoseResponse:
    """Process frequency against improvement (returned by :func:`dose_response`).

    Attributes
    ----------
    outcome : str
        ``improved_any`` (GEE: improved in at least one dimension; ``improved_<k>plus`` when
        the rulebook's ``k_dimensions`` is k > 1) or ``post_composite`` (mixed model).
    method : {"gee", "mixed"}
    table : DataFrame
        term, estimate, se, ci_low, ci_high, p, ratio, ratio_low, ratio_high (odds ratios per
        one more contact a month for GEE; missing for the mixed model), unit.
    curve : DataFrame
        exposure, value, predicted, ci_low, ci_high: the population-average prediction with
        the exposure set to ``value`` for every student (others as observed).
    observed : DataFrame
        exposure, bin, value (mean exposure in the bin), n, mean (observed rate or mean),
        ci_low, ci_high (a rate's interval by the rulebook's ``ci_method``, Wilson by default).
    n_students, n_mentors : int
    warning : dict
        :data:`DOSE_WARNING` (zh, en): frequency is not randomised.
    notes : list of str
        What was dropped and why; publishable (no count below ``min_cell``).
    k : int, optional
        GEE: improvement in at least this many dimensions (for the figure's label).
    fit : {"gee", "firth", "mixed"}
        The fit used: the logistic GEE, Firth's penalised logistic fit (asked for, or the
        fallback when the GEE diverged: ``notes`` says which), or the mixed model.
    outcome_rate : float
        GEE: the share improved among the students modelled (the headline's certified share
        when every evaluable student of the population is modelled); the mixed model: the
        mean post composite.
    """

    outcome: str
    method: str
    table: pd.DataFrame
    curve: pd.DataFrame
    observed: pd.DataFrame
    n_students: int
    n_mentors: int
    warning: dict = field(default_factory=lambda: dict(DOSE_WARNING))
    notes: list[str] = field(default_factory=list)
    k: int | None = None
    fit: str = "gee"
    outcome_rate: float = math.nan
    #: The sparse covariate levels dropped (GEE) with their exact counts: column, level,
    #: n_students, n_improved, n_not (internal use only: the counts can be below min_cell).
    sparse: pd.DataFrame = field(default_factory=pd.DataFrame)


def _exposure_rates(processed, year: int, exposures: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    months = sum(len(m) for m in TERM_MONTHS.values())
    act = processed["activities"]
    act = act[(act["year"] == year) & act["student_id"].notna()]
    kind = act["activity"].astype(str)
    sid = act["student_id"].astype(str)
    out = {}
    for name, kinds in exposures.items():
        out[name] = sid[kind.isin(list(kinds)).to_numpy()].value_counts() / months
    return pd.DataFrame(out).fillna(0.0)


def dose_response(
    processed,
    year: int,
    *,
    method: str = "gee",
    exposures: Mapping[str, Sequence[str]] | None = None,
    confidence: float | None = None,
    n_draws: int = 400,
    seed: int | None = 0,
    mentor_term: int = 1,
    scores: pd.DataFrame | None = None,
    firth: bool = False,
) -> DoseResponse:
    """Do talk and parent-contact frequencies predict improvement?

    Parameters
    ----------
    processed : Processed
    year : int
    method : {"gee", "mixed"}
        ``gee``: significant improvement in at least the rulebook's ``k_dimensions``
        dimensions (binary, :func:`mentorlib.progress.improved_students`, the headline's
        rule) by a logistic GEE, exchangeable correlation within mentor, adjusted for the
        number of evaluable dimensions. ``mixed``: the post composite score by the mentor model
        (:func:`~mentorlib.effectiveness.model.fit_mentor_model`) with the frequencies as
        covariates.
    exposures : mapping, optional
        Name -> activity kinds counted (per student, per month of the school year). Default:
        ``talk``; ``parent_contact`` = three-party talks (primary) or parent calls and home
        visits (middle).
    confidence : float, optional
        Level of the intervals; default ``1 - alpha`` of the study's rulebook.
    n_draws : int
        Draws of the coefficients for the intervals of the prediction curve.
    seed : int, optional
    mentor_term : {1, 2}
    scores : DataFrame, optional
        :func:`~mentorlib.effectiveness.study.study_scores` output (to score the study once).
    firth : bool, default False
        ``gee`` only: Firth's penalised logistic fit (independence, cluster-robust SEs by
        mentor) instead of the GEE; separating covariates are then kept (finite estimates)
        rather than dropped.

    Returns
    -------
    DoseResponse

    Notes
    -----
    Both models adjust for the pre composite score, grade, gender and the focus flags (the
    GEE: the mean of the pre scores the student has, and the number of evaluable dimensions).
    A 0/1 covariate with fewer than the rulebook's ``min_cell`` events or non-events in a
    level, or one that separates improvers from the rest, is dropped with a note (a grade
    dummy: its grade merged into the reference grade), never a NaN year or a runaway estimate.
    GEE: Liang & Zeger (1986, Biometrika 73:13), robust (sandwich) standard errors; the
    odds ratio is per one more contact a month. Improvement is the headline's: the reliable
    change index of Jacobson & Truax (1991) above the rulebook's ``rci_z``, with this year's
    pre-wave alpha (:func:`mentorlib.progress.study_changes`). The frequencies were not
    randomised (mentor quality drives both talking and progress; needier students may get more
    talks), so every number here is an association: see :data:`DOSE_WARNING`.
    """
    if method not in ("gee", "mixed"):
        raise InputError(f"unknown method {method!r}: expected 'gee' or 'mixed'")
    confidence = 1 - processed.rules.alpha if confidence is None else confidence
    exposures = dict(exposures or EXPOSURES[processed.level])
    data, outcome = _dose_data(processed, year, method, exposures, mentor_term, scores)
    extra = ["n_evaluable"] if method == "gee" else []
    covs = [*exposures, *extra, *COVARIATES]
    d = prepare_design(data, "y", "mentor_id", "pre", covs, min_cell=processed.rules.min_cell)
    notes = list(d.notes)
    if method == "gee":
        fitted = fit_logistic(
            d.X, d.y, d.codes, d.names, min_cell=processed.rules.min_cell, firth=firth
        )
        d = replace(d, X=d.X[:, fitted.kept], names=[d.names[i] for i in fitted.kept])
        beta, cov, fit = fitted.beta, fitted.cov, fitted.method
        notes += fitted.notes
        notes += _left_out(data, d, processed.rules.min_cell)
        sparse = pd.DataFrame([lv.record() for lv in fitted.sparse])
    else:
        m = fit_mentor_model(
            data,
            outcome="y",
            group="mentor_id",
            pre="pre",
            covariates=covs,
            confidence=confidence,
            min_cell=processed.rules.min_cell,
        )
        beta = m.fixed["coef"].to_numpy()
        cov = m.cov_fixed if m.cov_fixed is not None else np.full((len(beta), len(beta)), np.nan)
        notes += m.notes
        fit = "mixed"
        sparse = pd.DataFrame()
    used = [e for e in exposures if e in d.names]
    notes += [f"exposure {e} dropped" for e in exposures if e not in used]
    table, curve, observed = _dose_tables(
        d, used, beta, cov, method == "gee", confidence, n_draws, seed, processed.rules, notes
    )
    return DoseResponse(
        outcome=outcome,
        method=method,
        table=table,
        curve=curve,
        observed=observed,
        n_students=len(d.y),
        n_mentors=len(d.labels),
        notes=notes,
        k=processed.rules.k_dimensions if method == "gee" else None,
        fit=fit,
        outcome_rate=float(np.mean(d.y)),
        sparse=sparse,
    )


def _left_out(data: pd.DataFrame, d: Design, min_cell: int) -> list[str]:
    """A note when evaluable students of the year's mentees are not in the model (their
    number printed only when it is ``min_cell`` or more)."""
    n = int(data["y"].notna().sum()) - len(d.y)
    if n <= 0:
        return []
    return [
        f"{few_text(n, min_cell)} evaluable student(s) left out of the model: a covariate is "
        "missing"
    ]


def _dose_tables(d: Design, used, beta, cov, logistic, confidence, n_draws, seed, rules, notes):
    """Per exposure: the coefficient row, the prediction curve and the observed bins."""
    rng = np.random.default_rng(seed)
    if np.all(np.isfinite(cov)) and np.all(np.isfinite(beta)):
        draws = rng.multivariate_normal(beta, cov, size=n_draws, method="eigh")
    else:
        draws = np.full((n_draws, len(beta)), np.nan)
        notes.append("the model's covariance is not finite (too few students?): no intervals")
    table, curve, observed = [], [], []
    for e in used:
        j = d.names.index(e)
        table.append(_dose_row(e, beta[j], math.sqrt(cov[j, j]), confidence, logistic))
        curve += _dose_curve(d, j, e, beta, draws, confidence, logistic)
        observed += _dose_bins(d.X[:, j], d.y, e, confidence, logistic, rules.ci_method)
    return pd.DataFrame(table), pd.DataFrame(curve), pd.DataFrame(observed)


def _dose_data(processed, year, method, exposures, mentor_term, scores):
    """The mentor data with the exposures and the outcome ``y``; the outcome's name."""
    scores = study_scores(processed, [year]) if scores is None else scores
    data = mentor_data(processed, year, outcome="composite", mentor_term=mentor_term, scores=scores)
    rates = _exposure_rates(processed, year, exposures).reindex(data["student_id"]).fillna(0.0)
    data = data.assign(**{k: rates[k].to_numpy() for k in exposures})
    if method == "mixed":
        return data.assign(y=data["post"]), "post_composite"
    k = processed.rules.k_dimensions
    imp = improved_students(processed, year, k=k).reindex(data["student_id"])
    outcome = "improved_any" if k == 1 else f"improved_{k}plus"
    wide = wide_scores(processed, year, scores=scores).reindex(data["student_id"])
    pre = wide[[f"pre_{dim}" for dim in processed.dimensions]].mean(axis=1, skipna=True)
    return data.assign(
        y=imp["improved"].to_numpy(),
        n_evaluable=imp["n_evaluable"].to_numpy(dtype=float),
        pre=pre.to_numpy(dtype=float),
    ), outcome


def _dose_row(term: str, b: float, s: float, confidence: float, logistic: bool) -> dict:
    z = stats.norm.ppf(0.5 + confidence / 2)
    row = {
        "term": term,
        "estimate": float(b),
        "se": s,
        "ci_low": b - z * s,
        "ci_high": b + z * s,
        "p": float(2 * stats.norm.sf(abs(b / s))) if s > 0 else np.nan,
        "ratio": math.exp(b) if logistic else np.nan,
        "ratio_low": math.exp(b - z * s) if logistic else np.nan,
        "ratio_high": math.exp(b + z * s) if logistic else np.nan,
        "unit": "odds ratio per one more a month"
        if logistic
        else "score points per one more a month",
    }
    return row


def _dose_curve(d: Design, k: int, name: str, beta, draws, confidence, logistic) -> list[dict]:
    """Population-average prediction with column k set to each grid value (2%-98% range)."""
    x = d.X[:, k]
    lo_x, hi_x = (float(q) for q in np.quantile(x, [0.02, 0.98]))
    grid = np.linspace(lo_x, hi_x if hi_x > lo_x else lo_x + 1, 25)
    link = expit if logistic else (lambda t: t)
    out = []
    for v in grid:
        Xv = d.X.copy()
        Xv[:, k] = v
        pred, sims = link(Xv @ beta).mean(), link(Xv @ draws.T).mean(axis=0)
        lo, hi = np.percentile(sims, [50 * (1 - confidence), 50 * (1 + confidence)])
        out.append({"exposure": name, "value": v, "predicted": pred, "ci_low": lo, "ci_high": hi})
    return out


def _dose_bins(x, y, name: str, confidence: float, logistic: bool, ci_method: str) -> list[dict]:
    """Observed outcome by quintile of the exposure (a rate's interval by ``ci_method``)."""
    z = stats.norm.ppf(0.5 + confidence / 2)
    bins = pd.qcut(x, q=5, duplicates="drop") if np.ptp(x) > 0 else np.zeros(len(x))
    frame = pd.DataFrame({"x": x, "y": y, "bin": bins})
    out = []
    for b, g in frame.groupby("bin", observed=True, sort=True):
        n, mu = len(g), float(g["y"].mean())
        if logistic:
            ci = proportion_ci(int(g["y"].sum()), n, method=ci_method, alpha=1 - confidence)
            lo, hi = float(ci["ci_low"].iloc[0]), float(ci["ci_high"].iloc[0])
        else:
            h = z * g["y"].std(ddof=1) / math.sqrt(n) if n > 1 else np.nan
            lo, hi = mu - h, mu + h
        out.append(
            {
                "exposure": name,
                "bin": str(b),
                "value": float(g["x"].mean()),
                "n": n,
                "mean": mu,
                "ci_low": float(lo),
                "ci_high": float(hi),
            }
        )
    return out
