"""Mentees against non-mentees in the middle school: a comparison design that survives the null.

In the middle school only students nominated by their class teachers (low, noisy pre-tests) are
mentored. An unadjusted comparison (the "naive" rows: Newcombe's difference of improvement
rates, Welch's difference of score changes) finds mentees 8-11 points ahead when the programme
does nothing: a ceiling on the 5-point scale (the same true change shows as a larger observed
change low on the scale) and, with real nomination on a noisy score, regression to the mean.
:func:`compare_mentees` puts five designs side by side, each with its 95% interval:

``naive_rate`` / ``naive_change``
    Unadjusted (:func:`~mentorlib.progress.proportions.rate_difference`,
    :func:`~mentorlib.progress.proportions.mean_difference`), kept to show the artefact.
``ancova_latent``
    ANCOVA on the latent scale from plausible values of all students (:mod:`.comparison_latent`),
    per dimension and their mean, scale "sd" (pre-test SDs).
``ipw``
    Propensity-score weighting with ATT weights (:mod:`.comparison_ps`): logistic propensity on
    the pre-test scale scores, grade, the class mean pre-test and the focus flags; balance
    (standardised mean differences before and after) and overlap (mentees above
    :data:`.comparison_ps.TRIM` left out).
``aipw``
    Doubly robust AIPW for the ATT (outcome regression on the non-mentees + the propensity),
    sandwich variance clustered by class: the headline (``method="aipw"``, scale "rate": the
    effect on the share that improved by the headline rule).
``did``
    Difference-in-differences for students measured the year before they became mentees, with
    the pre-trend check; omitted with a note when there is no such year.

``guidance`` says what each design assumes, what the data say about it and its estimate.
Every failure (too few mentees or non-mentees, no variation, separation, an item model that
cannot be fitted) becomes a note and a missing row, never an exception; the headline is None
when its own row is missing.

Measured (benchmarks/validate_comparison.py, middle schools of 1,200 students, ~160 mentees,
the issue-15 generator: class teachers nominate on the observed pre-test plus impressions;
~23 s per school with the latent ANCOVA). Under the null (``--null``, 100 schools): the naive
rate difference +12.0 points on average, its interval excluding 0 in 96% of schools; AIPW
-2.0 points (SE 0.8), excluding 0 in 5.1% (99 schools; one not estimable); IPW -0.9 points,
5.0%; difference-in-differences +0.018 SD, 8%; the latent ANCOVA +0.084 SD, 75%: biased (cause not
established; a suspect: the plausible values' conditioning model gives the selected mentees the
covariance of the whole year), so it is computed only on request (``latent=True``). Against a known effect
(``--twin``: the same one-year school generated without effects, so the mentees'
counterfactual on the headline's own rule is known; 100 schools, true effect +13.9 points):
AIPW +0.3 points off (SE 0.8), its interval covering in 91.9% of the 99 estimable schools; the
naive difference +14.8 points off, covering in 4%. Propensity covariates: the pre-test scores, their rank in the
class (teachers nominate the weakest few of their class) and last year's, grade, class mean and
the focus flags; "mentored last year" is not one (it is part of the treatment and left no
overlap).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..errors import InputError
from ..labels import DIMENSION_LABELS, Lang
from ..labels_comparison import (
    COMPARISON_COVARIATES,
    COMPARISON_ESTIMATORS,
    COMPARISON_LINE,
    COMPARISON_LINE_SD,
)
from ..privacy import few_text
from ..rules import Rulebook
from .change import study_scores
from .comparison_data import analysis_frame, design, pre_composite
from .comparison_guide import guidance_table
from .comparison_latent import LATENT_M, ancova_latent, difference_in_differences
from .comparison_ps import TRIM, att_estimate, att_weights, balance_table, plot_balance
from .proportions import mean_difference, rate_difference
from .year import StudyYear

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["METHODS", "Comparison", "compare_mentees", "comparison_line"]

#: Estimators that can head the comparison, and the scale of their headline row.
METHODS = {"aipw": "rate", "ipw": "rate", "ancova_latent": "sd", "naive": "rate", "did": "sd"}
_COLUMNS = [
    "estimator",
    "dimension",
    "scale",
    "estimate",
    "ci_low",
    "ci_high",
    "n_treated",
    "n_control",
]


@dataclass(frozen=True)
class Comparison:
    """The comparison of mentees with non-mentees of one year.

    ``estimate, ci_low, ci_high`` are the headline estimator's (``method``; None when it could
    not be estimated, see ``notes``), on ``scale`` ("rate": difference of the share improved by
    the headline rule; "sd": pre-test SDs). Tables: ``estimators`` (every estimator's rows:
    ``estimator, dimension`` ("any" for the rate, each dimension and "mean" in SDs),
    ``scale, estimate, ci_low, ci_high, n_treated, n_control``; plus the DiD's pre-trend
    columns), ``balance`` (:func:`.comparison_ps.balance_table`), ``guidance`` (one row per
    estimator: assumption, diagnostic, supported, estimate, interval).
    """

    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    method: str
    scale: str
    n_treated: int
    n_control: int
    notes: list[str] = field(default_factory=list)
    estimators: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=_COLUMNS))
    balance: pd.DataFrame | None = None
    guidance: pd.DataFrame | None = None
    year: int | None = None
    level: str = "middle"
    #: Overlap facts of the weighting (``n_trimmed``, ``max_control_ps``, ``max_mentee_ps``,
    #: ``ess_control``), so the guidance can be rebuilt in either language.
    facts: dict = field(default_factory=dict)

    def as_dict(self) -> dict[str, float | str | None]:
        """``progress --json``'s ``comparison``: ``{estimate, ci_low, ci_high, method, scale}``."""

        def num(v):
            return None if v is None or not np.isfinite(v) else float(v)

        return {
            "estimate": num(self.estimate),
            "ci_low": num(self.ci_low),
            "ci_high": num(self.ci_high),
            "method": self.method,
            "scale": self.scale,
        }

    def love_plot(self, lang: str = "zh") -> Figure | None:
        """The balance before and after weighting (None without a balance table)."""
        if self.balance is None or not len(self.balance):
            return None
        return plot_balance(self.balance, lang=lang, labels=self.covariate_labels(lang))

    def covariate_labels(self, lang: str = "zh") -> dict[str, str]:
        """The readable name of each covariate of the balance table (``pre_academic`` ->
        "前测：学业辅导", ``grade_8`` -> "年级 8")."""
        L = Lang(lang)
        dims = DIMENSION_LABELS.get(self.level, {})
        pre = L.pair(COMPARISON_COVARIATES["pre"])
        sep = "：" if L.zh else ": "
        labels = {f"pre_{d}": f"{pre}{sep}{L.pair(p)}" for d, p in dims.items()}
        labels |= {k: L.pair(v) for k, v in COMPARISON_COVARIATES.items()}
        covs = [] if self.balance is None else list(self.balance["covariate"])
        for c in covs:
            if c.startswith("grade_"):
                labels[c] = f"{L.pair(COMPARISON_COVARIATES['grade'])} {c[6:]}"
        return labels


def _sd_rows(name: str, t: pd.DataFrame, extra: tuple[str, ...] = ()) -> list[dict]:
    """One estimator row per dimension of a per-dimension table on the SD scale."""
    return [
        _row(
            name,
            r["dimension"],
            "sd",
            r["estimate"],
            r["ci_low"],
            r["ci_high"],
            r["n_treated"],
            r["n_control"],
            **{k: r[k] for k in extra},
        )
        for r in t.to_dict("records")
    ]


def _row(name, dim, scale, est, lo, hi, nt, nc, **extra) -> dict:
    return dict(
        estimator=name,
        dimension=dim,
        scale=scale,
        estimate=float(est),
        ci_low=float(lo),
        ci_high=float(hi),
        n_treated=int(nt),
        n_control=int(nc),
        **extra,
    )


def _naive(frame: pd.DataFrame, dims: list[str], alpha: float) -> list[dict]:
    ev = frame.loc[frame["improved"].notna()]
    t, c = ev.loc[ev["mentee"], "improved"], ev.loc[~ev["mentee"], "improved"]
    r = rate_difference(int(t.sum()), len(t), int(c.sum()), len(c), alpha=alpha).iloc[0]
    rows = [
        _row(
            "naive_rate", "any", "rate", r["difference"], r["ci_low"], r["ci_high"], len(t), len(c)
        )
    ]
    ch = frame[[f"change_{d}" for d in dims]].set_axis(dims, axis=1)
    ch["mean"] = ch.mean(axis=1)
    for d in [*dims, "mean"]:
        a, b = ch.loc[frame["mentee"], d].dropna(), ch.loc[~frame["mentee"], d].dropna()
        if len(a) >= 2 and len(b) >= 2:
            m = mean_difference(a, b, alpha=alpha).iloc[0]
            rows.append(
                _row(
                    "naive_change",
                    d,
                    "sd",
                    m["difference"],
                    m["ci_low"],
                    m["ci_high"],
                    len(a),
                    len(b),
                )
            )
    return rows


def _weighted(
    frame, dims, alpha, notes, min_cell: int
) -> tuple[list[dict], pd.DataFrame | None, dict]:
    """IPW and AIPW on the evaluable students, with the balance table and overlap facts (the
    notes print no count of fewer than ``min_cell`` mentees, nor one whose rest is)."""
    ev = frame.loc[frame["improved"].notna()].reset_index(drop=True)
    X, more = design(ev, dims, min_cell=min_cell)
    notes.extend(more)
    d = ev["mentee"].to_numpy(dtype=float)
    x = np.column_stack([np.ones(len(ev)), X.to_numpy(dtype=float)])
    facts: dict = {}
    try:
        e, _ = att_weights(d, x)
    except InputError as err:
        notes.append(f"comparison: propensity weighting not estimated ({err})")
        return [], None, facts
    trim = (d == 1) & (e > TRIM)
    facts = {
        "n_trimmed": int(trim.sum()),
        "max_control_ps": float(e[d == 0].max()),
        "max_mentee_ps": float(e[d == 1].max()),
    }
    if trim.any():
        # the evaluable mentees are counted elsewhere: neither the trimmed nor the rest small
        n = few_text(int(trim.sum()), min_cell, total=int(d.sum()), zero=False)
        notes.append(
            f"comparison: {n} mentee(s) with a propensity above {TRIM} have no "
            "comparable non-mentees and are left out of the weighted estimates (their ATT is "
            "that of the remaining mentees)"
        )
    keep = ~trim
    ev, x, d = ev.loc[keep].reset_index(drop=True), x[keep], d[keep]
    rows, bal = [], None
    yv, cl = ev["improved"].to_numpy(dtype=float), ev["class"].to_numpy()
    nt, nc = int(d.sum()), int((d == 0).sum())
    try:
        _, w = att_weights(d, x)
        bal = balance_table(X.loc[keep].reset_index(drop=True), d, w)
        cw = w[d == 0]
        facts["ess_control"] = float(cw.sum() ** 2 / (cw**2).sum())
        for name, dr in (("ipw", False), ("aipw", True)):
            eff = att_estimate(yv, d, x, doubly_robust=dr, cluster=cl, alpha=alpha)
            rows.append(
                _row(
                    name,
                    "any",
                    "rate",
                    eff.estimate,
                    max(eff.ci_low, -1.0),
                    min(eff.ci_high, 1.0),
                    nt,
                    nc,
                )
            )
    except (InputError, np.linalg.LinAlgError) as err:
        notes.append(f"comparison: weighted estimates not estimated ({err})")
    return rows, bal, facts


def _latent(y, frame, m, seed, alpha, notes) -> list[dict]:
    try:
        t = ancova_latent(y, frame, m=m, seed=seed, alpha=alpha)
    except InputError as err:
        notes.append(f"comparison: latent ANCOVA not estimated ({err})")
        return []
    return _sd_rows("ancova_latent", t)


def _did(processed, scored, y, frame, dims, rules, notes) -> list[dict]:
    prev_year = y.year - 1
    if prev_year not in processed.years:
        notes.append(
            "comparison: difference-in-differences omitted (no earlier year measured the "
            "mentees before they were mentored)"
        )
        return []
    try:
        py = StudyYear(processed, scored, prev_year, rules=rules, sd_by=y.sd_by)
        if not py.has_post:
            raise InputError(f"year {prev_year} has no post-test")
        prev = analysis_frame(py, rules.k_dimensions)
        t = difference_in_differences(prev, frame, dims, min_cell=rules.min_cell, alpha=rules.alpha)
    except InputError as err:
        notes.append(f"comparison: difference-in-differences omitted ({err})")
        return []
    return _sd_rows("did", t, ("pretrend", "pretrend_ci_low", "pretrend_ci_high"))


def _headline(est: pd.DataFrame, method: str) -> pd.Series | None:
    name = "naive_rate" if method == "naive" else method
    dim = "mean" if METHODS[method] == "sd" else "any"
    hit = est.loc[(est["estimator"] == name) & (est["dimension"] == dim)]
    return None if hit.empty else hit.iloc[0]


def _too_few(nt: int, nc: int, min_cell: int) -> str:
    """The note of a comparison not estimated: only the short group(s), never their count (nor
    the other group's, which a published total would turn into the short one's)."""
    short = [
        f"{few_text(n, min_cell, zero=False)} evaluable {who}"
        for n, who in ((nt, "mentees"), (nc, "non-mentees"))
        if n < min_cell
    ]
    return (
        f"comparison: not estimated ({' and '.join(short)}; each group needs at least {min_cell})"
    )


def _empty(method, nt, nc, notes, year, level) -> Comparison:
    return Comparison(
        None, None, None, method, METHODS[method], nt, nc, notes, year=year, level=level
    )


def compare_mentees(
    processed,
    year: int,
    *,
    method: str = "aipw",
    seed: int = 0,
    rules: Rulebook | None = None,
    latent: bool = False,
    m: int = LATENT_M,
    study_year: StudyYear | None = None,
) -> Comparison:
    """Mentees against non-mentees of ``year`` by five designs; the headline is ``method``.

    Parameters
    ----------
    processed : mentorlib.data.Processed
        The study (``students.mentee`` marks the mentored).
    year : int
    method : {"aipw", "ipw", "ancova_latent", "naive", "did"}, default "aipw"
        The estimator whose row heads the comparison (``Comparison.estimate``).
    seed : int
        Seed of the plausible values.
    rules : Rulebook, optional
        Default: the study's (``k_dimensions``, ``rci_z``, ``alpha``, ``min_cell``).
    latent : bool, default False
        Also the latent ANCOVA (a plausible-value chain over all students: ~10-20 s at 1,200).
        Off by default: it fails the null check (see the module docstring), so it is shown
        only to a researcher who asks for it.
    m : int
        Plausible values for the ANCOVA.
    study_year : StudyYear, optional
        The year already built (the progress report passes its own).

    Returns
    -------
    Comparison
    """
    if method not in METHODS:
        raise InputError(f"method must be one of {list(METHODS)}, got {method!r}")
    if year not in processed.years:
        raise InputError(f"year {year} is not in study {processed.name!r} ({processed.years})")
    rules = processed.rules if rules is None else rules
    sd_by = getattr(study_year, "sd_by", None)
    key = _fingerprint(processed, year, rules, method, seed, latent, m, sd_by)
    if key not in _CACHE:
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = _compare(processed, year, method, seed, rules, latent, m, study_year)
    c = _CACHE[key]
    return replace(c, notes=list(c.notes))


def _compare(processed, year, method, seed, rules, latent, m, study_year) -> Comparison:
    """:func:`compare_mentees` without the cache."""
    y = study_year
    if y is None:
        y = StudyYear(processed, study_scores(processed, rules=rules), year, rules=rules)
    level = str(getattr(processed, "level", "middle"))
    notes: list[str] = []
    if not y.has_post:
        notes.append(f"comparison: year {year} has no post-test")
        return _empty(method, 0, 0, notes, year, level)
    prev = pre_composite(y.scored.scores, year - 1)
    frame = analysis_frame(y, rules.k_dimensions, prev)
    dims = list(y.cb.dimensions)
    ev = frame.loc[frame["improved"].notna()]
    nt, nc = int(ev["mentee"].sum()), int((~ev["mentee"]).sum())
    if min(nt, nc) < rules.min_cell:
        notes.append(_too_few(nt, nc, rules.min_cell))
        return _empty(method, nt, nc, notes, year, level)
    rows = _naive(frame, dims, rules.alpha)
    if latent:
        rows += _latent(y, frame, m, seed, rules.alpha, notes)
    w_rows, bal, facts = _weighted(frame, dims, rules.alpha, notes, rules.min_cell)
    rows += w_rows
    rows += _did(processed, y.scored, y, frame, dims, rules, notes)
    est = pd.DataFrame(rows)
    guide = guidance_table(est, bal, facts)
    h = _headline(est, method)
    if h is None:
        notes.append(f"comparison: the headline estimator {method!r} could not be estimated")
        out = _empty(method, nt, nc, notes, year, level)
        return Comparison(
            **{**out.__dict__, "estimators": est, "balance": bal, "guidance": guide, "facts": facts}
        )
    return Comparison(
        float(h["estimate"]),
        float(h["ci_low"]),
        float(h["ci_high"]),
        method,
        METHODS[method],
        int(h["n_treated"]),
        int(h["n_control"]),
        notes,
        est,
        bal,
        guide,
        year,
        level,
        facts,
    )


def comparison_line(cmp_: dict | None, lang: str = "zh") -> list[str]:
    """The headline comparison (``Comparison.as_dict()``) as one line; none when None."""
    if cmp_ is None or cmp_.get("estimate") is None:
        return []
    L = Lang(lang)
    method = str(cmp_["method"])
    key = "naive_rate" if method == "naive" else method
    line = COMPARISON_LINE if cmp_["scale"] == "rate" else COMPARISON_LINE_SD
    return [
        L.pair(line).format(
            label=L.of(COMPARISON_ESTIMATORS, key),
            estimate=cmp_["estimate"],
            ci_low=cmp_["ci_low"],
            ci_high=cmp_["ci_high"],
        )
    ]


#: Comparisons by a fingerprint of their inputs (the annual summary and the review ask for the
#: same school-year several times in one process; the latent chain takes ~15 s at 1,200).
_CACHE: dict[tuple, Comparison] = {}
_CACHE_SIZE = 8


def _fingerprint(processed, year: int, rules: Rulebook, *args) -> tuple:
    yrs = (year - 1, year)
    items = processed["assessment_items"]
    items = items.loc[items["year"].isin(yrs)].reset_index(drop=True)
    st = processed["students"]
    st = st.loc[st["year"].isin(yrs)].reset_index(drop=True).astype("str")
    h_items = int(pd.util.hash_pandas_object(items, index=False).sum())
    h_st = int(pd.util.hash_pandas_object(st, index=False).sum())
    return (year, h_items, h_st, repr(rules), repr(processed.codebook("assessment")), *args)
