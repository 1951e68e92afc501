"""A planner for the target: can this design show that a school meets it?

Issue 14 item 7. Given a design (students, items per dimension, answer categories,
reliability) and an assumed truth (the share of students whose true change exceeds ``delta``
latent SDs in at least ``k`` of the ``D`` dimensions), :func:`plan_target` simulates the
study many times from the measurement model the workbench assumes and reports

- the share the reliable-change rule would certify (mean and spread over simulated schools),
  and the probability that its verdict says "met" (the lower bound of the rulebook's interval
  above the target);
- the estimated true share, by the estimator the school's report would use (the
  graded-response plausible values of
  :func:`~mentorlib.progress.true_share.estimated_true_share` on item answers; the
  scale-score deconvolution of :func:`~mentorlib.progress.deconvolve.deconvolved_true_share`
  for continuous items), its bias and error against each simulated school's true share, the
  probability that the report's interval would lie above the target, and the students it
  would need for that (:func:`students_for_estimate`);
- the smallest design (items per dimension, and the reliability that gives; or students)
  for which "met" has probability at least ``power`` when the true share is ``design_share``.

The measurement model
---------------------
Latent traits :math:`\\theta_{id} \\sim N(0, 1)` (correlated ``dim_corr`` across dimensions),
a true change :math:`t_{id} = \\mu + \\sigma_t z_{id}` (``change_sd``, correlated
``change_corr``), and ``n_items`` graded-response items per dimension answered at the pre and
the post wave (Samejima 1969): :math:`P(Y \\ge c + 1 \\mid \\theta) =
\\text{logistic}(a(\\theta - b_c))`, the same discrimination :math:`a` for every item.
The thresholds :math:`b_c` give each category its share of answers (``category_shares``,
equal by default) in the pre-test population; :math:`a` is solved so that Cronbach's alpha of
the sum score equals the given reliability. With identical items alpha has a closed form in
the item-level moments (computed by Gauss-Hermite quadrature): an item's variance
:math:`V = E[Var(Y|\\theta)] + Var(E[Y|\\theta])`, two items' covariance
:math:`C = Var(E[Y|\\theta])`, :math:`\\alpha_J = J C / (V + (J - 1) C)` (Spearman-Brown of the
item reliability :math:`C/V`). More items with the same :math:`a` raise the reliability by the
Spearman-Brown formula: that is how the design search trades items for reliability.
:math:`\\mu` is solved so that :math:`P(\\#\\{d: t_d > \\delta\\} \\ge k)` equals the assumed
true share exactly (a one-factor representation of equicorrelated normals, integrated by
quadrature).

Each simulated school then goes through the workbench's own rules: the pre-test SD and
Cronbach's alpha are estimated from its pre wave, a student improves in a dimension when the
change of the sum score exceeds ``rci_z`` times :func:`~mentorlib.progress.change.change_se`,
the certified share is the share improving in at least ``k`` dimensions, and its verdict is
:func:`~mentorlib.progress.proportions.proportion_test`'s (the rulebook's ``ci_method`` and
``alpha``). The estimated true share is fitted without its bootstrap (``n_boot = 0``, for
speed; about 5 s a school of 1,200) on the first ``n_true_sims`` schools. Its "met"
probability is that of the report's interval, :math:`\\hat p - t_{df}\\,\\hat\\sigma >`
target, with :math:`\\hat\\sigma^2` distributed as the error's mean square over the simulated
schools times :math:`\\chi^2_{df}/df` (:func:`p_met_estimated`; ``df`` the report's bootstrap
replicates less one). Before, the planner read the graded-response answers by the scale-score
deconvolution: its sum scores are not linear in the trait, and at a true share of 90% it
averaged 85.7% where the item model averages the truth.

What it leaves out: missing answers and absent students (every student is evaluable), item
parameters that differ between items, grades and focus groups in the population model, and
the item parameters' own uncertainty (which the report's bootstrap also leaves out).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .. import scales
from ..errors import InputError
from ..labels import Lang
from ..labels_plan import PLAN_LABELS
from ..results import jsonable, records
from ..rules import Rulebook, rulebook
from ._common import year_roster
from .change import student_progress, study_scores, year_changes
from .plan_model import (
    Design,
    ItemModel,
    calibrate_items,
    change_mean_for_share,
    normal_items,
    share_at_least_k,
    simulate_design,
    uses_items,
)
from .true_share_report import DECONV_N_BOOT, REPORT_N_BOOT

__all__ = [
    "Design",
    "ItemModel",
    "PlanResult",
    "calibrate_items",
    "change_mean_for_share",
    "normal_items",
    "plan_target",
    "share_at_least_k",
    "simulate_design",
    "study_design",
]


def _report_df(ds: Design) -> int:
    """Degrees of freedom of the interval the report would print around the estimate: its
    bootstrap replicates less one (the item model's, or the deconvolution's)."""
    return (REPORT_N_BOOT if uses_items(ds) else DECONV_N_BOOT) - 1


def p_met_estimated(
    estimates: np.ndarray, sigma: float, target: float, alpha: float, df: int
) -> float:
    """Probability that the report's interval around an estimate lies above ``target``.

    The report prints :math:`\\hat p \\pm t_{1-\\alpha/2,\\,df}\\,\\hat\\sigma`, where
    :math:`\\hat\\sigma^2` (the bootstrap of ``df + 1`` replicates) is modelled as
    :math:`\\sigma^2 \\chi^2_{df} / df` around the estimate's true error variance (the
    validation found the report's variance 0.96 x the error's mean square in the primary
    school). Given an estimate :math:`\\hat p > t`, the bound is above the target when
    :math:`\\chi^2_{df}/df < ((\\hat p - t) / (t_{crit}\\,\\sigma))^2`; averaged over the
    simulated estimates.
    """
    e = np.asarray(estimates, dtype=float)
    if not len(e) or not np.isfinite(sigma) or sigma <= 0:
        return np.nan
    crit = float(stats.t.ppf(1 - alpha / 2, df))
    x = np.clip(e - target, 0.0, None) / (crit * sigma)
    return float(np.mean(np.where(e > target, stats.chi2.cdf(df * x**2, df), 0.0)))


def students_for_estimate(
    sims: pd.DataFrame, n_students: int, rules: Rulebook, power: float, df: int, cap: int
) -> int | None:
    """Smallest number of students with which the estimated true share shows the target met
    with probability ``power``, at the simulated schools' true share.

    An extrapolation from the simulated schools: the estimate keeps its bias and its error SD
    falls as :math:`1/\\sqrt{n}` (the population model's parameters are means over students).
    None when the true share is not above the target, or more than ``cap`` students are
    needed; ``n_students`` itself when the present design is enough.
    """
    ok = sims["estimated_share"].notna()
    if ok.sum() < 2:
        return None
    truth = sims.loc[ok, "true_share"].to_numpy()
    e = sims.loc[ok, "estimated_share"].to_numpy()
    sigma0, centre = _error_sd(e, truth), float(e.mean())
    if centre <= rules.target_share or sigma0 <= 0:
        return None
    z = stats.norm.ppf((np.arange(200) + 0.5) / 200)

    def p_met(n: int) -> dict:
        sigma = sigma0 * np.sqrt(n_students / n)
        return {
            "p_met": p_met_estimated(centre + sigma * z, sigma, rules.target_share, rules.alpha, df)
        }

    found, _ = _smallest(
        n_students,
        max(n_students, cap),
        p_met,
        lambda r: r["p_met"] >= power,
        lambda lo: max(10, lo // 50),
    )
    return found


def _error_sd(estimates: np.ndarray, truth: np.ndarray) -> float:
    """Root mean square of estimate - the school's true share (the report's interval's
    variance was 0.96 x that square in the validation)."""
    return float(np.sqrt(np.mean((estimates - truth) ** 2))) if len(estimates) else np.nan


def _verdict_rows(sims: pd.DataFrame, rules: Rulebook, df: int) -> pd.DataFrame:
    """One row per verdict rule: P(met), mean, SD and 5-95% range of its share, and its mean
    distance from the simulated schools' realised true share. The estimate's "met" follows
    the report's interval (:func:`p_met_estimated`, its error SD from the simulated schools)."""
    rows = []
    for rule, col in (
        ("rci_certified", "certified_share"),
        ("estimated_true_share", "estimated_share"),
    ):
        ok = sims[col].notna()
        v = sims.loc[ok, col].to_numpy()
        truth = sims.loc[ok, "true_share"].to_numpy()
        if rule == "rci_certified":
            met = float(sims["met"].mean())
        elif len(v) > 1:
            met = p_met_estimated(v, _error_sd(v, truth), rules.target_share, rules.alpha, df)
        else:
            met = np.nan
        q = np.quantile(v, [0.05, 0.95]) if len(v) else (np.nan, np.nan)
        rows.append(
            {
                "rule": rule,
                "p_met": met,
                "mean": float(v.mean()) if len(v) else np.nan,
                "sd": float(v.std(ddof=1)) if len(v) > 1 else np.nan,
                "q05": float(q[0]),
                "q95": float(q[1]),
                "minus_truth": float((v - truth).mean()) if len(v) else np.nan,
                "error_sd": _error_sd(v, truth),
                "n_sims": len(v),
            }
        )
    return pd.DataFrame(rows)


# ---- the design search -------------------------------------------------------------------


def _evaluate(ds: Design, rules: Rulebook, n_sims: int, seed: int | None) -> dict[str, Any]:
    s = simulate_design(ds, rules=rules, n_sims=n_sims, seed=seed)
    return {
        "n_items": int(max(m.n_items for m in ds.items)),
        "reliability": float(np.mean([m.reliability() for m in ds.items])),
        "n_students": ds.n_students,
        "p_met": float(s["met"].mean()),
        "certified_mean": float(s["certified_share"].mean()),
    }


def _smallest(value0: int, cap: int, make, ok, tol) -> tuple[int | None, list[dict]]:
    """Smallest value in [value0, cap] where ``ok(make(value))``: doubling, then bisection."""
    seen: dict[int, dict] = {}

    def check(v: int) -> bool:
        if v not in seen:
            seen[v] = make(v)
        return ok(seen[v])

    lo, hi = None, None
    v = value0
    while True:
        if check(v):
            hi = v
            break
        lo = v
        if v >= cap:
            break
        v = min(cap, 2 * v)
    if hi is None:
        return None, [seen[x] for x in sorted(seen)]
    while lo is not None and hi - lo > tol(lo):
        mid = (lo + hi) // 2
        if check(mid):
            hi = mid
        else:
            lo = mid
    return hi, [seen[x] for x in sorted(seen)]


def _search(ds: Design, rules: Rulebook, st: _Search) -> tuple[pd.DataFrame, dict, list[str]]:
    """The smallest number of items per dimension, then of students, with P(met) >= power."""
    base = replace(ds, true_share=st.design_share)
    notes: list[str] = []

    def ok(r: dict) -> bool:
        return r["p_met"] >= st.power

    def with_items(j: int) -> dict:
        d = replace(base, items=tuple(m.with_items(j) for m in base.items))
        return {"axis": "items", **_evaluate(d, rules, st.n_sims, st.seed)}

    def with_students(n: int) -> dict:
        return {
            "axis": "students",
            **_evaluate(replace(base, n_students=n), rules, st.n_sims, st.seed),
        }

    j0 = max(m.n_items for m in base.items)
    items, rows = _smallest(j0, max(j0, st.max_items), with_items, ok, lambda lo: 1)
    first = rows[0]
    students = None
    if first["certified_mean"] > rules.target_share:
        students, more = _smallest(
            base.n_students,
            max(base.n_students, st.max_students),
            with_students,
            ok,
            lambda lo: max(10, lo // 20),
        )
        rows += more
    else:
        notes.append("students")
    needed = {
        "items": items,
        "reliability": None
        if items is None
        else next(r["reliability"] for r in rows if r["axis"] == "items" and r["n_items"] == items),
        "students": students,
    }
    return pd.DataFrame(rows), needed, notes


# ---- a study's own design ----------------------------------------------------------------


def study_design(processed, *, year: int | None = None, rules: Rulebook | None = None) -> dict:
    """What a study's own data say about its design, for :func:`plan_target`.

    Returns
    -------
    dict
        ``year, n_students`` (the year's roster), ``dimensions``, ``n_items`` and
        ``reliability`` (per dimension: items and Cronbach's alpha of the pre wave),
        ``n_categories``, ``category_shares`` (pre-wave answers per category, reverse-keyed
        items recoded, all dimensions pooled), ``certified_share`` (the RCI rule's share
        progressing in at least ``k_dimensions``, every roster student in the denominator:
        the ``missing_not_progressing`` rule) and ``n_evaluable``.
    """
    rules = processed.rules if rules is None else rules
    assessed = processed.assessed_years
    if not assessed:
        raise InputError("the study has no year with a post-wave assessment to plan from")
    year = assessed[-1] if year is None else int(year)
    if year not in assessed:
        raise InputError(f"{year} has no post-wave assessment (assessed: {list(assessed)})")
    scored = study_scores(processed, rules=rules)
    roster = year_roster(processed["students"], year)
    changes = year_changes(scored, roster, year, definition="rci_data", rules=rules)
    per = student_progress(changes)
    rel = scored.reliability
    assert rel is not None
    pre = rel.loc[(rel["year"] == year) & (rel["wave"] == "pre")]
    pre = pre.assign(dimension=pre["dimension"].astype("str")).set_index("dimension")
    dims = [d for d in rules.dimensions if d in pre.index]
    if not dims or pre.loc[dims, "alpha"].isna().any():
        raise InputError(f"no pre-wave Cronbach's alpha for every dimension in {year}")
    answers = scales.reverse_code(scored.items, scored.codebook)
    vals = answers.loc[(answers["year"] == year) & (answers["wave"] == "pre"), "value"].dropna()
    scale = scored.codebook.scale_of(scored.codebook.items_of(dims[0])[0]).values
    counts = (
        vals.round().value_counts().reindex(np.arange(min(scale), max(scale) + 1), fill_value=0)
    )
    n = len(per)
    certified = int((per["n_improved"] >= rules.k_dimensions).sum())
    evaluable = int((per["n_evaluable"] >= rules.k_dimensions).sum())
    return {
        "year": year,
        "n_students": n,
        "dimensions": dims,
        "n_items": [int(x) for x in pre.loc[dims, "k"]],
        "reliability": [float(x) for x in pre.loc[dims, "alpha"]],
        "n_categories": len(counts),
        "category_shares": ((counts + 0.5) / (counts + 0.5).sum()).tolist(),
        # the study's own counts, published: None where they or their complement fall below
        # min_cell (as the progress report's headline would suppress them)
        "certified_share": certified / n if _publishable(certified, n, rules.min_cell) else None,
        "n_evaluable": evaluable if _publishable(evaluable, n, rules.min_cell) else None,
    }


def _publishable(count: int, n: int, min_cell: int) -> bool:
    """A count of ``n`` students and its complement are each 0 or at least ``min_cell``."""
    return all(c == 0 or c >= min_cell for c in (count, n - count))


# ---- the planner -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Search:
    design_share: float
    power: float
    n_sims: int
    max_items: int
    max_students: int
    seed: int | None


def _pct(x) -> str:
    return "—" if x is None or not np.isfinite(x) else f"{x:.1%}"


def _points(x, t: Lang, signed: bool = True) -> str:
    """A difference of shares (or its SD) in percentage points ("0.0", never "-0.0", as the
    reports' ``pts``)."""
    if x is None or not np.isfinite(x):
        return "—"
    txt = f"{100 * x:{'+' if signed else ''}.1f}"
    return t.pair(PLAN_LABELS["points"]).format(x="0.0" if txt in ("+0.0", "-0.0") else txt)


@dataclass
class PlanResult:
    """What :func:`plan_target` found (the result protocol of :mod:`mentorlib.results`).

    Attributes
    ----------
    settings : dict
        The design and assumptions simulated: ``n_students, dimensions, n_items, n_categories,
        reliability`` (per dimension), ``true_share, delta, k, target, change_sd,
        change_corr, dim_corr, design_share, power, n_sims, seed``.
    verdicts : DataFrame
        ``rule`` ("rci_certified", "estimated_true_share"), ``p_met`` (probability that the
        rule shows the target met), ``mean, sd, q05, q95`` (its share over simulated schools),
        ``minus_truth`` (mean of share - the school's realised true share: the RCI rule's
        shortfall, the estimate's bias), ``error_sd`` (root mean square of that difference),
        ``n_sims``.
    sims : DataFrame
        :func:`simulate_design`'s schools at the assumed true share.
    design : DataFrame
        Every design the search evaluated at ``design_share``: ``axis`` ("items" or
        "students"), ``n_items, reliability, n_students, p_met, certified_mean``.
    needed : dict
        ``items`` (smallest items per dimension with ``p_met >= power``), ``reliability``
        (what those items give), ``students`` (smallest number with the present items), all
        by the certified share; None when none within the search's limits.
        ``students_estimated``: the students the estimated true share needs at the assumed
        true share (:func:`students_for_estimate`; None when it is not above the target or
        no school was fitted).
    study : dict or None
        :func:`study_design` when planned from a study.
    """

    settings: dict
    verdicts: pd.DataFrame
    sims: pd.DataFrame
    design: pd.DataFrame
    needed: dict
    study: dict | None = None
    notes: list[str] = field(default_factory=list)

    def verdict(self, rule: str) -> dict:
        return self.verdicts.set_index("rule").loc[rule].to_dict()

    def lines(self, lang: str = "zh") -> list[str]:
        t, s = Lang(lang), self.settings
        rel = "、".join(f"{r:.2f}" for r in s["reliability"])
        out = [
            t.pair(PLAN_LABELS["design"]).format(
                n=f"{s['n_students']:,}",
                dims=len(s["dimensions"]),
                items="/".join(map(str, s["n_items"])),
                cats=s["n_categories"],
                rel=rel if t.zh else rel.replace("、", ", "),
                share=_pct(s["true_share"]),
                delta=s["delta"],
                k=s["k"],
                sims=s["n_sims"],
                seed=s["seed"],
            )
        ]
        for rule, key in (("rci_certified", "rci"), ("estimated_true_share", "true")):
            v = self.verdict(rule)
            if v["n_sims"]:
                out.append(
                    t.pair(PLAN_LABELS[key]).format(
                        mean=_pct(v["mean"]),
                        q05=_pct(v["q05"]),
                        q95=_pct(v["q95"]),
                        p=_pct(v["p_met"]),
                        target=_pct(s["target"]),
                        bias=_points(v["minus_truth"], t),
                        err=_points(v.get("error_sd"), t, signed=False),
                        n=int(v["n_sims"]),
                    )
                )
        n_est = self.needed.get("students_estimated")
        if n_est is not None:
            key = "true_students_enough" if n_est == s["n_students"] else "true_students"
            out.append(
                t.pair(PLAN_LABELS[key]).format(
                    n=f"{n_est:,}", share=_pct(s["true_share"]), power=_pct(s["power"])
                )
            )
        return out + self.design_lines(lang)

    def design_lines(self, lang: str = "zh") -> list[str]:
        """The design search's sentences (items needed, students needed)."""
        t, s, nd = Lang(lang), self.settings, self.needed
        if not len(self.design):
            return []
        common = {
            "share": _pct(s["design_share"]),
            "power": _pct(s["power"]),
            "target": _pct(s["target"]),
        }
        if nd["items"] is None:
            out = [t.pair(PLAN_LABELS["no_items"]).format(max=s["max_items"], **common)]
        else:
            out = [
                t.pair(PLAN_LABELS["need_items"]).format(
                    items=nd["items"], rel=f"{nd['reliability']:.2f}", **common
                )
            ]
        if nd["students"] is not None:
            out.append(t.pair(PLAN_LABELS["need_students"]).format(n=f"{nd['students']:,}"))
        elif "students" in self.notes:
            first = self.design.iloc[0]
            out.append(
                t.pair(PLAN_LABELS["no_students"]).format(
                    mean=_pct(first["certified_mean"]), target=_pct(s["target"])
                )
            )
        else:
            out.append(t.pair(PLAN_LABELS["no_students_cap"]).format(max=f"{s['max_students']:,}"))
        return out

    def summary(self, lang: str = "zh") -> str:
        return ("" if Lang(lang).zh else " ").join(self.lines(lang))

    def tables(self, *, lang: str = "zh", public: bool = True) -> dict[str, pd.DataFrame]:
        return {"verdicts": self.verdicts, "design": self.design}

    def figures(self, *, lang: str = "zh", public: bool = True) -> dict:
        return {}

    def to_json_dict(self, *, public: bool = True) -> dict[str, Any]:
        return {
            "settings": jsonable(self.settings),
            "verdicts": records(self.verdicts),
            "design": records(self.design),
            "needed": jsonable(self.needed),
            "study": jsonable(self.study),
        }


def _per_dim(value, n_dims: int, name: str) -> list:
    v = list(np.atleast_1d(value))
    if len(v) == 1:
        v = v * n_dims
    if len(v) != n_dims:
        raise InputError(f"{name} needs one value or one per dimension ({n_dims})")
    return v


def _inputs(study, rules, level, year, given: dict) -> tuple[Rulebook, dict, dict | None]:
    """Resolve the design: explicit arguments over the study's own values."""
    info = None
    if study is not None:
        rules = study.rules if rules is None else rules
        info = study_design(study, year=year, rules=rules)
    rules = rulebook(level) if rules is None else rules
    base = dict(info or {})
    base.setdefault("dimensions", list(rules.dimensions))
    base.setdefault("n_categories", 5)
    base.update({key: v for key, v in given.items() if v is not None})
    missing = [key for key in ("n_students", "n_items", "reliability") if key not in base]
    if missing:
        raise InputError(f"give {', '.join(missing)} (or a study to read them from)")
    if given.get("n_dims") is not None:
        base["dimensions"] = [f"d{i + 1}" for i in range(int(given["n_dims"]))]
    d = len(base["dimensions"])
    base["n_items"] = [int(x) for x in _per_dim(base["n_items"], d, "n_items")]
    base["reliability"] = [float(x) for x in _per_dim(base["reliability"], d, "reliability")]
    if int(base["n_students"]) < rules.min_cell:
        raise InputError(f"n_students must be at least min_cell ({rules.min_cell})")
    return rules, base, info


def plan_target(
    study=None,
    *,
    n_students: int | None = None,
    n_items=None,
    n_categories: int | None = None,
    reliability=None,
    n_dims: int | None = None,
    true_share: float | None = None,
    delta: float | None = None,
    k: int | None = None,
    rules: Rulebook | None = None,
    level: str = "primary",
    year: int | None = None,
    design_share: float = 0.9,
    power: float = 0.8,
    change_sd: float = 0.6,
    change_corr: float = 0.3,
    dim_corr: float = 0.4,
    model: str = "grm",
    n_sims: int = 200,
    n_true_sims: int = 20,
    n_design_sims: int = 100,
    max_items: int = 60,
    max_students: int = 20000,
    search: bool = True,
    seed: int | None = 0,
) -> PlanResult:
    """Can a design show that the target is met? Simulated from the workbench's own model.

    Parameters
    ----------
    study : mentorlib.data.Processed, optional
        A study whose last assessed year (or ``year``) gives the students, dimensions, items
        per dimension, answer categories and their shares, and the pre-wave alphas
        (:func:`study_design`); its rulebook gives ``delta, k``, the target and the interval.
    n_students, n_items, n_categories, reliability, n_dims
        The design (they override the study's values). ``n_items`` and ``reliability``: one
        value or one per dimension; ``n_dims`` default the rulebook's dimensions.
    true_share : float, optional
        The assumed share of students whose true change exceeds ``delta`` latent SDs in at
        least ``k`` dimensions (default ``design_share``).
    delta, k : optional
        Default the rulebook's ``true_delta`` and ``k_dimensions``.
    rules : Rulebook, optional
        Default the study's, else ``rulebook(level)``.
    design_share, power : float, default 0.9 and 0.8
        The design search looks for the smallest design that shows the target met with
        probability ``power`` when the true share is ``design_share``.
    change_sd, change_corr, dim_corr : float
        SD of the true change (latent SDs), its correlation across dimensions, and the
        traits' correlation (the synthetic generator draws traits with correlation 0.4).
    model : {"grm", "normal"}, default "grm"
        Graded-response items (:func:`calibrate_items`) or continuous parallel items
        (:func:`normal_items`, classical test theory).
    n_sims, n_true_sims, n_design_sims : int
        Simulated schools at the assumed share, of them with the estimated true share fitted
        (about 5 s each at 1,200 students), and per design in the search.
    max_items, max_students : int
        Limits of the design search; ``search=False`` skips it.
    seed : int or None, default 0

    Returns
    -------
    PlanResult

    Notes
    -----
    See the module docstring for the measurement model. The RCI rule's certified share tends,
    as items grow, to the share whose true change exceeds 0 (not ``delta``) in ``k``
    dimensions: a near-perfect test certifies every real improvement, however small.
    """
    rules, d, info = _inputs(
        study,
        rules,
        level,
        year,
        {
            "n_students": n_students,
            "n_items": n_items,
            "n_categories": n_categories,
            "reliability": reliability,
            "n_dims": n_dims,
        },
    )
    if not 0 < power < 1 or n_sims < 2 or n_design_sims < 2 or not 0 <= n_true_sims <= n_sims:
        raise InputError(
            "power must be in (0, 1), n_sims and n_design_sims at least 2, 0 <= n_true_sims <= n_sims"
        )
    delta = rules.true_delta if delta is None else float(delta)
    k = rules.k_dimensions if k is None else int(k)
    if not 1 <= k <= len(d["dimensions"]):
        raise InputError(
            f"k must be between 1 and the number of dimensions ({len(d['dimensions'])})"
        )
    shares = d.get("category_shares")
    if shares is not None and len(shares) != d["n_categories"]:
        shares = None
    if model not in ("grm", "normal"):
        raise InputError(f"model must be 'grm' or 'normal', got {model!r}")
    items = tuple(
        calibrate_items(r, n_items=j, n_categories=int(d["n_categories"]), category_shares=shares)
        if model == "grm"
        else normal_items(r, n_items=j)
        for j, r in zip(d["n_items"], d["reliability"], strict=True)
    )
    true_share = design_share if true_share is None else float(true_share)
    ds = Design(int(d["n_students"]), items, true_share, delta, k, change_sd, change_corr, dim_corr)
    sims = simulate_design(ds, rules=rules, n_sims=n_sims, seed=seed, n_true_sims=n_true_sims)
    st = _Search(design_share, power, n_design_sims, max_items, max_students, seed)
    design, needed, notes = (
        _search(ds, rules, st)
        if search
        else (pd.DataFrame(), {"items": None, "reliability": None, "students": None}, [])
    )
    settings = {
        "n_students": ds.n_students,
        "dimensions": list(d["dimensions"]),
        "n_items": list(d["n_items"]),
        "n_categories": int(d["n_categories"]),
        "reliability": list(d["reliability"]),
        "discrimination": [m.a for m in items],
        "true_share": true_share,
        "delta": delta,
        "k": k,
        "target": rules.target_share,
        "ci_method": rules.ci_method,
        "alpha": rules.alpha,
        "rci_z": rules.rci_z,
        "change_sd": change_sd,
        "change_corr": change_corr,
        "dim_corr": dim_corr,
        "change_mean": ds.change_mean(),
        "design_share": design_share,
        "power": power,
        "model": model,
        "n_sims": n_sims,
        "n_true_sims": n_true_sims,
        "n_design_sims": n_design_sims,
        "max_items": max_items,
        "max_students": max_students,
        "seed": seed,
    }
    df = _report_df(ds)
    needed["students_estimated"] = students_for_estimate(
        sims, ds.n_students, rules, power, df, max_students
    )
    settings["estimator"] = "grm_pv" if uses_items(ds) else "deconvolution"
    return PlanResult(settings, _verdict_rows(sims, rules, df), sims, design, needed, info, notes)
