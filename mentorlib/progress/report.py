"""The year's progress report: the verdict on the target with its uncertainty and context.

:func:`progress_report` computes it with the study's rulebook (``processed.rules``: target,
k, interval method, alpha, rci z, mid, min_answered and min_cell), any of which a caller may
override; :class:`ProgressReport` holds the tables and follows the result protocol of
:mod:`mentorlib.results`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..labels import DIMENSION_LABELS, PROGRESS_VERDICTS, Lang
from ..privacy import Document, few_text
from ..results import plain, records
from ..rules import Rulebook
from . import disclosure
from .change import DEFINITION_SPECS, study_scores
from .comparison import compare_mentees, comparison_line
from .disclosure import WITHHELD
from .figures import (
    plot_dimensions_improved,
    plot_pre_post,
    plot_rate_by_group,
    plot_rate_by_year,
)
from .proportions import target_verdict, trend_test
from .text import headline, shared_items_note, true_share_lines
from .true_share_report import year_true_share
from .verdict import RULES, breakdowns, year_verdict
from .year import StudyYear, available_definitions, context_tables, sensitivity_table

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["ProgressReport", "progress_report"]

_TABLES = ("verdict", "sensitivity", "breakdowns", "trend")


@dataclass
class ProgressReport:
    """The verdict on the target of one year and everything a reader needs to trust it.

    Published tables (small cells suppressed with :mod:`mentorlib.privacy`):

    verdict
        One row per missing-data rule for the headline definition
        (:func:`~mentorlib.progress.year_verdict` columns plus ``year, definition`` and
        ``suppressed``).
    sensitivity
        The verdict for each definition x k x rule (``definition, k, rule, ...``,
        ``headline`` marks the row the headline uses).
    breakdowns
        :func:`~mentorlib.progress.breakdowns` for the headline definition, k and rule.
    trend
        The headline verdict per year of the study with post-wave data.
    context
        ``false_positive`` (the rule's rate under no true change beside the observed rate),
        ``threshold_sensitivity`` (the rate with the threshold moved by 5%),
        ``comparison_rates`` and ``comparison_means`` (mentees against non-mentees, when the
        school has both), ``trend_test``, ``reliability`` (alpha per wave and dimension).

    Internal (never published): ``per_student`` (:func:`~mentorlib.progress.student_progress`)
    and ``changes`` (:func:`~mentorlib.progress.change_scores`) for the headline definition,
    and ``internal``, the unsuppressed tables. ``rules`` is the rulebook the report used.
    """

    study: str
    level: str
    year: int
    k: int
    target: float
    method: str
    alpha: float
    definition: str
    rule: str
    min_cell: int
    verdict: pd.DataFrame
    sensitivity: pd.DataFrame
    breakdowns: pd.DataFrame
    trend: pd.DataFrame
    context: dict[str, pd.DataFrame]
    per_student: pd.DataFrame = field(repr=False)
    changes: pd.DataFrame = field(repr=False)
    rules: Rulebook = field(repr=False)
    notes: list[str] = field(default_factory=list)
    #: :func:`mentorlib.scales.shared_items` of the study: the items each year's change used.
    shared_items: pd.DataFrame | None = field(default=None, repr=False)
    #: The unsuppressed tables (``verdict, sensitivity, breakdowns, trend, context``):
    #: internal use and ``public=False`` output only.
    internal: dict = field(default_factory=dict, repr=False)
    #: The :class:`mentorlib.privacy.Document` the published tables were protected with.
    disclosure: Any = field(default=None, repr=False)
    #: The estimated share that truly progressed (:mod:`.true_share_report`): ``estimate,
    #: ci_low, ci_high, delta, k, method, n_students``; None when not estimated (see notes).
    true_share: dict | None = None
    #: Its breakdown: ``by`` ("grade", "focus_group"), ``group, estimate, ci_low, ci_high,
    #: n_students``; groups of fewer than ``min_cell`` students left out.
    true_share_by: pd.DataFrame | None = field(default=None, repr=False)
    #: Mentees against non-mentees (middle school; :func:`.comparison.compare_mentees`):
    #: ``{estimate, ci_low, ci_high, method, scale}`` of the headline design (AIPW, effect on
    #: the improvement rate); None for primary schools or when it cannot be estimated (notes).
    comparison: dict | None = None
    #: The whole :class:`~.comparison.Comparison` (estimators, balance, guidance); internal.
    comparison_detail: Any = field(default=None, repr=False)

    @property
    def mid(self) -> float:
        """The minimal important difference used (in pre-test SDs)."""
        return self.rules.mid

    # ------------------------------------------------------------------ disclosure control

    def register(self, doc) -> None:
        """Register every count and rate the published tables show (see
        :func:`mentorlib.progress.disclosure.register`)."""
        disclosure.register(self, doc)

    def apply(self, doc) -> None:
        """Replace the published tables by the raw ones with ``doc``'s suppressions."""
        disclosure.protect(self, doc)

    # ------------------------------------------------------------------ the result protocol

    def _view(self, public: bool) -> dict[str, Any]:
        """The published tables, or (``public=False``) the unsuppressed ones."""
        if not public and self.internal:
            return self.internal
        return {
            "verdict": self.verdict,
            "sensitivity": self.sensitivity,
            "breakdowns": self.breakdowns,
            "trend": self.trend,
            "context": self.context,
        }

    def headline_row(self, rule: str | None = None, *, public: bool = True) -> pd.Series:
        """The verdict row of a rule (default: the headline rule)."""
        v = self._view(public)["verdict"]
        return v.loc[v["rule"] == (rule or self.rule)].iloc[0]

    def summary_dict(self, *, public: bool = True) -> dict[str, Any]:
        """The headline numbers as plain Python values (the ``summary`` of the JSON)."""
        t = self._view(public)
        h = self.headline_row(public=public)
        other = next(r for r in RULES if r != self.rule)
        o = self.headline_row(other, public=public)
        fp = t["context"]["false_positive"]
        fp = fp.loc[(fp["definition"] == self.definition) & (fp["k"] == self.k)]
        # a withheld row's verdict is withheld too (counted as such): robustness is then unknown
        sens = t["sensitivity"]["verdict"].astype("object").fillna(WITHHELD).value_counts()
        ts = t["context"]["threshold_sensitivity"]
        ts = ts.loc[ts["level"] == "student"].set_index("factor")["rate"]
        cmp_ = t["context"].get("comparison_rates")
        keys = ["n_students", "n_evaluable", "n_not_evaluable", "n_progressing"]
        stats_ = ["proportion", "ci_low", "ci_high", "lower_bound", "p_value", "verdict"]
        boot = ["interval_method", *_BINOMIAL.values(), "exact_p_value"]
        return {
            "study": self.study,
            "level": self.level,
            "year": self.year,
            "definition": self.definition,
            "k": self.k,
            "target": self.target,
            "method": self.method,
            "confidence": 1 - self.alpha,
            "rule": self.rule,
            **{c: plain(h[c]) for c in keys + stats_},
            **{c: plain(h.get(c)) for c in boot},
            "other_rule": {"rule": other, **{c: plain(o[c]) for c in ["n", *stats_]}},
            "false_positive_rate": plain(fp["p_student"].iloc[0]) if len(fp) else None,
            "rate_threshold_minus5": plain(ts.get(0.95)),
            "rate_threshold_plus5": plain(ts.get(1.05)),
            "sensitivity_verdicts": {str(k): int(v) for k, v in sens.items()},
            "verdict_robust": None if WITHHELD in sens.index else bool(sens.size == 1),
            "comparison": dict(self.comparison) if self.comparison is not None else None,
            "comparison_naive": records(cmp_)[0] if cmp_ is not None and len(cmp_) else None,
            "estimated_true_share": _true_share_summary(self.true_share),
            "notes": list(self.notes),
        }

    def summary(self, lang: str = "zh") -> str:
        """The headline: verdict, interval, missing students (published counts)."""
        return headline(self, lang)

    def true_share_lines(self, lang: str = "zh", *, head: bool = False) -> list[str]:
        """The estimated true share as one line of text (none when it was not asked for);
        ``head=True`` puts the headline sentence first."""
        return [headline(self, lang)] * head + true_share_lines(self, lang)

    def comparison_lines(self, lang: str = "zh") -> list[str]:
        """The comparison of mentees with non-mentees as one line (none without one)."""
        return comparison_line(self.comparison, lang)

    def headline(self, lang: str = "zh") -> str:
        """The report sentence with the verdict (same as :meth:`summary`)."""
        return headline(self, lang)

    def tables(self, *, lang: str = "zh", public: bool = True) -> dict[str, pd.DataFrame]:
        """``verdict, sensitivity, breakdowns, trend`` and the context tables by name.

        ``public=False`` gives the unsuppressed tables plus ``per_student`` and ``changes``
        (never to leave the workbench). Tables with a ``verdict`` column get a
        ``verdict_label`` in ``lang``.
        """
        L = Lang(lang)
        t = self._view(public)
        out = {name: t[name] for name in _TABLES} | dict(t["context"])
        for name, df in out.items():
            if "verdict" in df.columns:
                lab = [
                    L.of(PROGRESS_VERDICTS, v) if isinstance(v, str) else None
                    for v in df["verdict"]
                ]
                out[name] = df.assign(verdict_label=lab)
        if not public:
            out |= {"per_student": self.per_student, "changes": self.changes}
        return out

    def figures(self, *, lang: str = "zh", public: bool = True) -> dict[str, Figure]:
        """The four figures: ``by_year``, ``by_grade``, ``dimensions``, ``pre_post``.

        ``public=True`` draws the published tables (suppressed groups marked, bars of fewer
        than ``min_cell`` students not drawn); ``public=False`` the unsuppressed ones.
        """
        L = Lang(lang)
        t = self._view(public)
        mc = self.min_cell if public else 1
        labels = {d: L.pair(p) for d, p in DIMENSION_LABELS.get(self.level, {}).items()}
        return {
            "by_year": plot_rate_by_year(
                t["trend"], target=self.target, lang=L.code, confidence=1 - self.alpha
            ),
            "by_grade": plot_rate_by_group(
                t["breakdowns"], by="grade", target=self.target, lang=L.code, min_cell=mc
            ),
            "dimensions": plot_dimensions_improved(self.per_student, min_cell=mc, lang=L.code),
            "pre_post": plot_pre_post(self.changes, lang=L.code, labels=labels),
        }

    def to_json_dict(self, *, public: bool = True) -> dict:
        """:meth:`summary_dict` plus every table as records (never per-student rows).

        ``public=False``: the unsuppressed tables (for the school's own use, never
        published).
        """
        t = self._view(public)
        by = self.true_share_by
        if public:
            by = public_true_share_by(by, t["breakdowns"])
        return {
            "summary": self.summary_dict(public=public),
            **{name: records(t[name]) for name in _TABLES},
            "true_share_by": records(by) if by is not None else None,
            "context": {k: records(v) for k, v in t["context"].items()},
        }


def public_true_share_by(by: pd.DataFrame | None, breakdowns: pd.DataFrame) -> pd.DataFrame | None:
    """The published breakdown of the estimated true share: no group counts of its own (the
    breakdowns table publishes them, with complementary suppression), and no group whose rate
    the breakdowns table suppressed (its size could otherwise be read off the estimate's)."""
    if by is None:
        return None
    shown = breakdowns.loc[breakdowns["proportion"].notna(), ["by", "group"]].astype("str")
    keep = pd.MultiIndex.from_frame(by[["by", "group"]].astype("str")).isin(
        pd.MultiIndex.from_frame(shown)
    )
    return by.loc[keep].drop(columns="n_students").reset_index(drop=True)


def _true_share_summary(ts: dict | None) -> dict | None:
    """The ``estimated_true_share`` entry of the summary."""
    if ts is None:
        return None
    return {c: plain(ts[c]) for c in ("estimate", "ci_low", "ci_high", "delta", "k", "method")}


# --------------------------------------------------------------------- computing it


def _resolve_rules(processed, rules: Rulebook | None, **given: Any) -> Rulebook:
    """The study's rulebook (or ``rules``) with the caller's explicit settings applied."""
    base = processed.rules if rules is None else rules
    names = {"k": "k_dimensions", "method": "ci_method", "min_cell": "min_cell"}
    names |= {"alpha": "alpha", "mid": "mid"}
    changes = {names[n]: v for n, v in given.items() if v is not None}
    if "k_dimensions" in changes:
        changes["k_dimensions"] = int(changes["k_dimensions"])
    return base.with_changes(**changes) if changes else base


def _check(processed, year: int, definition: str, rule: str, n_boot: int, k: int) -> None:
    if definition not in DEFINITION_SPECS:
        raise InputError(f"definition must be one of {list(DEFINITION_SPECS)}, got {definition!r}")
    if rule not in RULES:
        raise InputError(f"rule must be one of {list(RULES)}, got {rule!r}")
    if year not in processed.years:
        raise InputError(f"year {year} is not in study {processed.name!r} ({processed.years})")
    if n_boot < 0:
        raise InputError(f"n_boot must be 0 or more, got {n_boot}")
    if not 1 <= k <= len(processed.dimensions):
        raise InputError(f"k must be between 1 and {len(processed.dimensions)}, got {k}")


def _study_years(processed, scored, y: StudyYear, rules: Rulebook, sd_by, notes: list[str]):
    """Every year of the study (for the trend); years that cannot be read become notes."""
    years = {}
    for yy in sorted(processed.years):
        try:
            years[yy] = (
                y if yy == y.year else StudyYear(processed, scored, yy, rules=rules, sd_by=sd_by)
            )
        except InputError as e:
            notes.append(f"trend: year {yy} left out ({e})")
    return years


#: The binomial (threshold-as-known) columns kept beside a bootstrap verdict.
_BINOMIAL = {c: f"binomial_{c}" for c in ("ci_low", "ci_high", "lower_bound", "p_value")}


def _headline_verdict(y: StudyYear, sens, definition: str) -> pd.DataFrame:
    """The sensitivity rows of the headline definition and k (decided by the bootstrap when
    the report has one: :func:`_bootstrap_sensitivity`)."""
    k = y.rules.k_dimensions
    rows = sens.loc[(sens["definition"] == definition) & (sens["k"] == k)].drop(columns="headline")
    return rows.reset_index(drop=True)


def _bootstrap_decides(
    y: StudyYear, rows, definition: str, k: int, boot, ks: tuple[int, ...] = ()
) -> pd.DataFrame:
    """``rows`` (verdict-shaped, one per missing-data rule, of ``definition`` and ``k`` in year
    ``y``) decided by the bootstrap ``boot`` = (n_boot, seed, (cluster, interval)): its
    interval, bound and p-value fill ``ci_low, ci_high, lower_bound, p_value, verdict``, the
    binomial ones move to ``binomial_*`` (``exact_p_value`` stays), and ``interval_method``
    names the decider. With ``n_boot`` 0, or when no replicate is finite, the binomial
    interval decides and says so. ``ks``: the other k the caller will ask for (one pass of
    replicates, :meth:`StudyYear.bootstrap`)."""
    n_boot, seed, how = boot
    if not n_boot:
        return rows
    out = rows.copy()
    for c, b in _BINOMIAL.items():
        out[b] = out[c]
    res = y.bootstrap(definition, k, n_boot, seed, cluster=how[0], interval=how[1], ks=ks)
    res = res.set_index("rule").reindex(out["rule"])
    lb = res["boot_lower_bound"].to_numpy(dtype=float)
    ok = np.isfinite(lb)
    for c in ("ci_low", "ci_high", "lower_bound", "p_value"):
        out[c] = np.where(ok, res[f"boot_{c}"].to_numpy(dtype=float), out[c].to_numpy(float))
    out["interval_method"] = np.where(
        ok, res["interval_method"].to_numpy(dtype=object), out["interval_method"].to_numpy()
    )
    target = y.rules.target_share
    out["verdict"] = [
        target_verdict(p, b, target)
        for p, b in zip(out["proportion"], out["lower_bound"], strict=True)
    ]
    return out


def _bootstrap_sensitivity(y: StudyYear, sens: pd.DataFrame, boot) -> pd.DataFrame:
    """Every row of the sensitivity table decided by the headline's method (the bootstrap of
    ``boot``, threshold re-estimated in each replicate): one interval method per report."""
    ks = tuple(int(kk) for kk in sens["k"].unique())
    parts = []
    for (d, kk), part in sens.groupby(["definition", "k"], sort=False):
        parts.append(_bootstrap_decides(y, part, str(d), int(str(kk)), boot, ks))
    return pd.concat(parts).loc[sens.index]


def _trend(years: dict, definition: str, rule: str, rules: Rulebook, notes: list[str], boot):
    """The headline verdict of every year with post-wave data, each decided as that year's
    own report decides it (``boot``: :func:`_bootstrap_decides`)."""
    rows = []
    for yy, Y in years.items():
        if not Y.has_post or Y.pop.empty:
            continue
        try:
            v = year_verdict(
                Y.per_student(definition),
                k=rules.k_dimensions,
                target=rules.target_share,
                method=rules.ci_method,
                alpha=rules.alpha,
            )
            v = _bootstrap_decides(Y, v, definition, rules.k_dimensions, boot)
        except InputError as e:
            notes.append(f"trend: year {yy} left out ({e})")
            continue
        rows.append(v.loc[v["rule"] == rule].assign(year=yy))
    trend = pd.concat(rows, ignore_index=True)
    trend.insert(0, "year", trend.pop("year"))
    return trend


def progress_report(
    processed,
    year: int,
    *,
    k: int | None = None,
    method: str | None = None,
    min_cell: int | None = None,
    definition: str = "rci_data",
    rule: str = "evaluable_only",
    alpha: float | None = None,
    sd_by: str | None = None,
    mid: float | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    rules: Rulebook | None = None,
    boot_cluster: str = "mentor",
    boot_interval: str = "percentile",
    true_share: bool = True,
    comparison: bool = True,
) -> ProgressReport:
    """The verdict on the year's target with its uncertainty, robustness and context.

    Parameters
    ----------
    processed : mentorlib.data.Processed
        The study (needs ``students`` and ``assessment_items``; ``assignments`` for the
        mentor breakdown).
    year : int
        The school year (named by its first calendar year).
    k : int, optional
        Progressing = significant improvement in at least ``k`` dimensions (default: the
        rulebook's ``k_dimensions``).
    method : {"wilson", "clopper-pearson"}, optional
        Interval method (default: the rulebook's ``ci_method``).
    min_cell : int, optional
        Small-cell threshold for every published table (default: the rulebook's).
    definition : {"rci_data", "rci_published", "mid"}
        The headline definition of significant progress: the RCI with this year's pre-wave
        alpha (default), with the codebook's published alpha, or the minimal important
        difference (``mid`` pre-test SDs).
    rule : {"evaluable_only", "missing_not_progressing"}
        The headline missing-data rule (both are always reported).
    alpha : float, optional
        Error rate of intervals and tests (default: the rulebook's).
    sd_by : {None, "grade"}
        Scale change by the pre-test SD of the whole school or of each grade.
    mid : float, optional
        The minimal important difference, in pre-test SDs (default: the rulebook's).
    n_boot : int, default 1000
        Bootstrap replicates of the interval that decides the headline verdict, and with it
        every row of ``sensitivity`` and every year of ``trend`` (each year as its own report
        decides it), so a verdict never has two methods; the breakdowns keep the binomial
        interval (0: the binomial interval ``method`` decides everywhere).
    seed : int, default 0
        Seed of the bootstrap.
    rules : Rulebook, optional
        The rulebook to use instead of the study's (``processed.rules``); the target
        (``target_share``), ``rci_z`` and ``min_answered`` always come from it.
    boot_cluster : {"mentor", "student"}, default "mentor"
        What the bootstrap resamples: term-1 mentor groups (students without one alone)
        or students.
    boot_interval : {"percentile", "bca"}, default "percentile"
        The bootstrap interval (Efron & Tibshirani 1993, ch. 13-14).
    true_share : bool, default True
        Also estimate the share that truly progressed (latent change above the rulebook's
        ``true_delta`` in at least ``k`` dimensions; :mod:`.true_share_report`, seeded with
        ``seed``): ``ProgressReport.true_share`` and ``true_share_by``. False skips it
        (it takes ~10-30 s per school-year).
    comparison : bool, default True
        In a school with mentees and non-mentees (middle school), also compare them by the
        designs of :func:`~mentorlib.progress.comparison.compare_mentees` (seeded with
        ``seed``; ~15 s at 1,200 students): ``ProgressReport.comparison`` (the doubly robust
        headline) and ``comparison_detail``. The unadjusted comparison stays in
        ``context["comparison_rates"]`` (the summary's ``comparison_naive``).

    Returns
    -------
    ProgressReport
        See :class:`ProgressReport`.

    Notes
    -----
    The population judged is the programme's: every student in primary school, the
    mentees (``students.mentee``) in middle school, whose non-mentees become the comparison
    group. The pre-test SD and alpha come from the year's whole roster, so both groups are
    measured with the same ruler. Middle-school mentees are nominated for need, so part of
    their gain over non-mentees is regression to the mean; the comparison bounds maturation,
    not the programme effect.

    The Wilson (or Clopper-Pearson) interval treats the threshold as known. It is not: the
    pre-test SD and alpha are estimated from the same students, and because a scale mean
    moves in steps (1/6 of a point for six items) a small shift of the threshold can move
    a whole step of students in or out. So with ``n_boot`` the headline verdict is decided
    by a bootstrap that re-estimates SD, alpha and threshold in every replicate and resamples
    term-1 mentor groups (mentees of a mentor share the mentor's effect): its interval,
    one-sided lower bound and p-value (H0: rate <= target, the share of replicates at or
    below it, so p < alpha exactly when the bound is above the target) fill ``ci_low,
    ci_high, lower_bound, p_value, verdict``, ``interval_method`` names it, and the binomial
    ones stay as ``binomial_ci_low, binomial_ci_high, binomial_lower_bound,
    binomial_p_value`` (with ``exact_p_value``). Coverage of the population rate
    (``benchmarks/validate_verdict_interval.py``: 200 primary schools of 1,200 sharing the
    instrument of a 100,000-student population school, 400 replicates; Monte Carlo SE
    1.5 points): Wilson 89.5%, percentile bootstrap of students 94.5%, of mentor groups
    94.5% (the default), BCa 92.0-92.5%; middle school (100 schools, 300 replicates):
    Wilson 92%, mentor-group percentile 96% with its lower bound above the rate in 5%. The older 90.5% (1,000 replicates, 200,000-student
    population) was mostly the population value: the rate is a step function of the
    threshold, so a school's own-threshold rate sits above the population-threshold rate
    (60 schools: 28.62% against 28.38% with the population's threshold; population
    28.17%); that bias, not the width, is why the 95% lower bound lies above the
    population rate in 8.5-9.5% of schools rather than 5%. ``context["threshold_sensitivity"]``
    shows the rate with the threshold moved by 5%.
    """
    rules = _resolve_rules(
        processed, rules, k=k, method=method, min_cell=min_cell, alpha=alpha, mid=mid
    )
    _check(processed, year, definition, rule, n_boot, rules.k_dimensions)
    cb = processed.codebook("assessment")
    names = available_definitions(cb)
    if definition not in names:
        raise InputError(f"definition {definition!r} needs published alphas in the codebook")
    scored = study_scores(processed, rules=rules)
    y = StudyYear(processed, scored, year, rules=rules, sd_by=sd_by)
    if not y.has_post:
        raise InputError(f"year {year} has no post-wave assessment yet; no verdict possible")
    notes: list[str] = []
    years = _study_years(processed, scored, y, rules, sd_by, notes)
    if y.n_unmatched:
        off = few_text(y.n_unmatched, rules.min_cell)
        notes.append(f"{off} assessed student(s) are not on the {year} roster")
    if "rci_published" not in names:
        notes.append("the codebook gives no published alpha: that definition is left out")
    used = shared_items_note(scored.shared, cb, year, "en")
    if used:
        notes.append(used)
    how = (boot_cluster, boot_interval)
    raw = _raw_tables(processed, y, years, names, definition, rule, (n_boot, seed, how), notes)
    k = rules.k_dimensions
    ts, ts_by = year_true_share(y, rules, seed=seed, notes=notes) if true_share else (None, None)
    cmp_ = None
    if comparison and len(y.comparison) and bool(y.mentee.any()):
        cmp_ = compare_mentees(processed, year, seed=seed, rules=rules, study_year=y)
        notes.extend(cmp_.notes)
    rep = ProgressReport(
        study=processed.name,
        level=processed.level,
        year=year,
        k=k,
        target=rules.target_share,
        method=rules.ci_method,
        alpha=rules.alpha,
        definition=definition,
        rule=rule,
        min_cell=rules.min_cell,
        verdict=raw["verdict"],
        sensitivity=raw["sensitivity"],
        breakdowns=raw["breakdowns"],
        trend=raw["trend"],
        context=dict(raw["context"]),
        per_student=y.per_student(definition),
        changes=y.group_changes(definition),
        rules=rules,
        notes=notes,
        shared_items=scored.shared,
        internal=raw,
        true_share=ts,
        true_share_by=ts_by,
        comparison=None if cmp_ is None or cmp_.estimate is None else cmp_.as_dict(),
        comparison_detail=cmp_,
    )
    doc = Document(rules.min_cell, name=f"progress {processed.name} {year}")
    rep.register(doc)
    rep.apply(doc.protect())
    return rep


def _raw_tables(processed, y: StudyYear, years, names, definition, rule, boot, notes):
    """The report's unsuppressed tables: verdict, sensitivity, breakdowns, trend, context."""
    rules = y.rules
    k = rules.k_dimensions
    ks = sorted({1, 2, k})
    sens = _bootstrap_sensitivity(y, sensitivity_table(y, names, ks, (definition, k, rule)), boot)
    verdict = _headline_verdict(y, sens, definition)
    bd = breakdowns(
        y.per_student(definition),
        y.pop,
        assignments=processed.tables.get("assignments"),
        k=k,
        rule=rule,
        method=rules.ci_method,
        alpha=rules.alpha,
    )
    trend = _trend(years, definition, rule, rules, notes, boot)
    rel = y.scored.reliability
    assert rel is not None  # study_scores computed it
    rel_year = rel.loc[rel["year"] == y.year]
    ctx = context_tables(y, names, ks, sens, definition, k, rel_year)
    if len(trend) >= 2:
        ctx["trend_test"] = trend_test(trend["successes"], trend["n"], scores=trend["year"]).assign(
            note="years share students: the test's independence assumption is violated"
        )
    ctx["reliability"] = rel_year.reset_index(drop=True)
    return {
        "verdict": verdict.assign(year=y.year).reset_index(drop=True),
        "sensitivity": sens.reset_index(drop=True),
        "breakdowns": bd.reset_index(drop=True),
        "trend": trend.reset_index(drop=True),
        "context": ctx,
    }
