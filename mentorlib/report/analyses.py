"""The analyses behind a report, computed once: :func:`analyse_year` (one annual summary) and
:func:`analyse_pilot` (the pilot review).

Each calls the stages (progress, effectiveness, grouping, compliance), builds the report's own
tables (:mod:`~mentorlib.report.sources`), registers every student count in a disclosure
document (:mod:`~mentorlib.report.disclosure`), protects it, and keeps the tables as the
protected document prints them. Reusable for several languages or versions
(``annual_summary(..., analyses=a)``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..compliance import (
    STUDENT_INDICATORS,
    ComplianceReport,
    compliance_report,
    compliance_trend,
)
from ..data import Processed
from ..effectiveness import MentorReport, Stability, mentor_report, mentor_stability
from ..errors import InputError
from ..grouping import OutcomeModel, PolicyComparison, compare_policies
from ..labels import level_text
from ..privacy import Document
from ..progress import ProgressReport, progress_report
from ..rules import DEFAULT_SEED
from .disclosure import (
    CLEANING_COUNTS,
    cleaning_key,
    register_cleaning,
    register_compliance,
    register_pilot,
    register_stages,
    register_year,
    tie_same_students,
)
from .narrative_facts import school_facts, stage_table
from .sources import (
    cleaning_summary,
    cohort_tables,
    data_coverage,
    is_synthetic,
    regrouping,
    satisfaction_table,
    staff_trend,
)

__all__ = ["PilotAnalyses", "YearAnalyses", "analyse_pilot", "analyse_year", "resolve_min_cell"]


@dataclass
class YearAnalyses:
    """The analyses behind one annual summary (computed once by :func:`analyse_year`).

    Attributes
    ----------
    progress : mentorlib.progress.ProgressReport
    mentors : mentorlib.effectiveness.MentorReport or None
        None when the mentor models could not be fitted (the reason is in ``notes``).
    compliance : mentorlib.compliance.ComplianceReport or None
    satisfaction : DataFrame
        term (0 = whole year), n, mean, sd, ci_low, ci_high, n_answer, n_want, want,
        want_low, want_high (small cells blanked).
    reasons : DataFrame
        reason, n: why students want to change mentor.
    regroup : dict
        n_students (with a term-1 mentor), n_start (regrouped at the start), n_term2.
    regroup_reasons : DataFrame
        reason, n: recorded reasons of the changes.
    coverage : DataFrame
        source, n: students (rows for activities) per source in the year.
    cleaning : DataFrame or None
        Rows per source kind from the cleaner's ``source_summary.csv`` (kind, rows_in, kept,
        merged, quarantined, suppressed), as the protected document prints them (counts
        ``clean.{kind}.{column}``: fewer than ``min_cell`` rows, or one that would give such
        a count back by subtraction, blank).
    """

    processed: Processed
    year: int
    min_cell: int
    seed: int
    progress: ProgressReport
    mentors: MentorReport | None
    compliance: ComplianceReport | None
    satisfaction: pd.DataFrame
    reasons: pd.DataFrame
    regroup: dict
    regroup_reasons: pd.DataFrame
    coverage: pd.DataFrame
    cleaning: pd.DataFrame | None
    synthetic: bool = False
    notes: list[str] = field(default_factory=list)
    #: Every student count and rate the annual summary prints, with the relations among them
    #: (:class:`mentorlib.privacy.Document`), protected; builders print ``disclosure.text``.
    disclosure: Document | None = None

    @property
    def level(self) -> str:
        """The confidence level of the report's intervals as printed ("95%"): ``1 - alpha``
        of the study's rules (``processed.rules.alpha``)."""
        return level_text(self.processed.rules.alpha)


def resolve_min_cell(processed, min_cell: int | None) -> int:
    """``min_cell`` as given, or the study's rule (``processed.rules.min_cell``) when None."""
    mc = processed.rules.min_cell if min_cell is None else min_cell
    if mc < 1:
        raise InputError(f"min_cell must be at least 1, got {mc}")
    return int(mc)


def _mentor_report(processed, year: int, seed: int, notes: list[str], **kw):
    """The year's mentor report, or None with the reason in ``notes``."""
    try:
        return mentor_report(processed, year, seed=seed, **kw)
    except (InputError, ValueError, np.linalg.LinAlgError) as e:
        notes.append(f"mentor effectiveness not estimated: {e}")
        return None


def _mask_compliance(doc: Document, ind: pd.DataFrame, keys: list[str | None]) -> pd.DataFrame:
    """The compliance indicators with each student-based indicator's n, value and pass mark
    as the protected document prints them (``keys``: its cell prefix, None for the others;
    an indicator left unregistered, with no value to publish, is printed as it is)."""
    keys = [None if k is None or f"{k}.n" not in doc.cells else k for k in keys]
    return doc.mask_table(
        ind,
        {"n": [None if k is None else f"{k}.n" for k in keys]},
        rates=[None if k is None else f"{k}.rate" for k in keys],
        rate_columns=["value", "passed"],
    )


def analyse_year(
    processed,
    year: int,
    *,
    min_cell: int | None = None,
    seed: int = DEFAULT_SEED,
    mentors: bool = True,
) -> YearAnalyses:
    """Run every analysis an annual summary needs, once.

    Parameters
    ----------
    processed : mentorlib.data.Processed
    year : int
        A school year with a post-wave assessment.
    min_cell : int, optional
        Small-cell threshold of every published number; default the study's rule
        (``processed.rules.min_cell``, 5).
    seed : int, default :data:`mentorlib.rules.DEFAULT_SEED`
        Seeds the bootstrap of the verdict and the mentor ranking simulation.

    Only the data up to ``year`` are used (:meth:`~mentorlib.data.Processed.up_to`): adding a
    later year's data leaves the year's analyses, and its summary, unchanged.
    mentors : bool, default True
        Fit the mentor-effectiveness models (False skips them, e.g. for quick drafts).

    Returns
    -------
    YearAnalyses
    """
    min_cell = resolve_min_cell(processed, min_cell)
    if year not in processed.years:
        raise InputError(f"year {year} is not in study {processed.name!r} ({processed.years})")
    processed = processed.up_to(year)  # a year's summary never sees a later year
    notes: list[str] = []
    prog = progress_report(processed, year, min_cell=min_cell, seed=seed)
    mrep = _mentor_report(processed, year, seed, notes) if mentors else None
    try:
        comp = compliance_report(processed, year, min_cell=min_cell)
    except InputError as e:
        comp = None
        notes.append(f"compliance not measured: {e}")
    sat, reasons = satisfaction_table(processed, year, min_cell)
    counts, rreasons = regrouping(processed, year)
    coverage = data_coverage(processed, year)
    doc = Document(min_cell, name=f"annual summary {processed.name} {year}")
    facts = school_facts(processed, year)
    register_year(doc, prog, sat, reasons, counts, rreasons, coverage, facts)
    if comp is not None:
        register_compliance(doc, comp.indicators)
    tie_same_students(doc)
    cleaning = cleaning_summary(processed)
    register_cleaning(doc, cleaning)
    doc.protect()
    prog.apply(doc)
    if comp is not None and len(comp.indicators):
        # the student-based indicators' value and pass mark go where their rate is hidden
        keys = [
            f"comp.{i}" if i in STUDENT_INDICATORS else None for i in comp.indicators["indicator"]
        ]
        comp = dataclasses.replace(comp, indicators=_mask_compliance(doc, comp.indicators, keys))
    sat = doc.mask_table(
        sat,
        {c: [f"sat.{t}.{c}" for t in sat["term"]] for c in ("n", "n_answer", "n_want")},
        rates=[f"sat.{t}.want" for t in sat["term"]],
        rate_columns=["want", "want_low", "want_high"],
    )
    if cleaning is not None:
        cleaning = doc.mask_table(
            cleaning, {c: [cleaning_key(k, c) for k in cleaning["kind"]] for c in CLEANING_COUNTS}
        )
    return YearAnalyses(
        processed=processed,
        year=year,
        min_cell=min_cell,
        seed=seed,
        progress=prog,
        mentors=mrep,
        compliance=comp,
        satisfaction=sat,
        reasons=reasons,
        regroup=counts,
        regroup_reasons=rreasons,
        coverage=coverage,
        cleaning=cleaning,
        synthetic=is_synthetic(processed),
        notes=notes,
        disclosure=doc,
    )


@dataclass
class PilotAnalyses:
    """The analyses behind the pilot review (computed once by :func:`analyse_pilot`).

    Attributes
    ----------
    years : tuple of int
        The years with a verdict (a post-wave assessment).
    progress : dict
        Year -> :class:`~mentorlib.progress.ProgressReport`.
    compliance : DataFrame
        :func:`mentorlib.compliance.compliance_trend`.
    satisfaction : DataFrame
        year, n, mean, ci_low, ci_high, n_answer, n_want, want, want_low, want_high.
    stability : Stability or None
        :func:`mentorlib.effectiveness.mentor_stability` (composite).
    mentors : MentorReport or None
        The last year's mentor report (models, dose-response; no stability refit).
    comparison : PolicyComparison or None
        :func:`mentorlib.grouping.compare_policies` on the last year.
    cohort : DataFrame
        cohort (first-year grade, or "all"), year, n_students, n_evaluable, n_progressing,
        proportion, ci_low, ci_high, suppressed: the students assessed in every year.
    persistence : DataFrame
        years_progressed (0..number of years), n, share: among the cohort evaluable every year.
    staff : DataFrame
        year, n_mentors, n_backbone, n_certified, retained (mentors who also mentored in
        the first year).
    stages : DataFrame
        The pilot year by year (:func:`~mentorlib.report.narrative_facts.stage_table`): true
        numbers; the review prints its student counts as ``disclosure`` does
        (``stage.{year}.*``).
    """

    processed: Processed
    years: tuple[int, ...]
    min_cell: int
    seed: int
    progress: dict[int, ProgressReport]
    compliance: pd.DataFrame
    satisfaction: pd.DataFrame
    stability: Stability | None
    mentors: MentorReport | None
    comparison: PolicyComparison | None
    cohort: pd.DataFrame
    persistence: pd.DataFrame
    staff: pd.DataFrame
    stages: pd.DataFrame = field(default_factory=pd.DataFrame)
    synthetic: bool = False
    notes: list[str] = field(default_factory=list)
    #: The review's student counts and rates with their relations, protected.
    disclosure: Document | None = None

    @property
    def level(self) -> str:
        """The confidence level of the report's intervals as printed ("95%"): ``1 - alpha``
        of the study's rules (``processed.rules.alpha``)."""
        return level_text(self.processed.rules.alpha)


def _pilot_progress(processed, years, min_cell: int, seed: int, notes: list[str]) -> dict:
    """Year -> progress report, for every year with a verdict (the others noted)."""
    progress = {}
    for y in years or processed.years:
        try:
            progress[y] = progress_report(processed, y, min_cell=min_cell, seed=seed)
        except InputError as e:
            notes.append(f"{y}: no verdict ({e})")
    if not progress:
        raise InputError("no study year has a post-wave assessment: nothing to review")
    return progress


def _satisfaction_trend(processed, years, min_cell: int) -> pd.DataFrame:
    """The whole-year satisfaction row of each year (``year`` instead of ``term``)."""
    sats = []
    for y in years:
        sat, _ = satisfaction_table(processed, y, min_cell)
        row = sat.loc[sat["term"] == 0]
        if len(row):
            sats.append(row.drop(columns="term").assign(year=y))
    return pd.concat(sats, ignore_index=True) if sats else pd.DataFrame()


def _policy_comparison(processed, year: int, draws: int | None, seed: int, notes: list[str]):
    """The grouping policies compared on ``year``'s roster, or None with the reason."""
    try:
        try:
            model = OutcomeModel.from_fitted(processed, year)
        except (InputError, ValueError, np.linalg.LinAlgError) as e:
            model = None
            notes.append(f"no outcome model for the policy comparison: {e}")
        return compare_policies(processed, year, model=model, draws=draws, seed=seed)
    except (InputError, ValueError) as e:
        notes.append(f"grouping policies not compared: {e}")
        return None


def _mask_pilot(doc: Document, sat, comp, cohort, pers):
    """The review's tables as the protected document prints them."""
    if len(sat):
        sk = [f"sat.{y}" for y in sat["year"]]
        nk = [f"{k}.n" for k in sk]
        sat = doc.mask_table(
            sat,
            {
                "n": nk,
                "n_answer": [f"{k}.n_answer" for k in sk],
                "n_want": [f"{k}.n_want" for k in sk],
                # a mean of students the document does not count is not shown either
                **{c: nk for c in ("mean", "sd", "ci_low", "ci_high")},
            },
            rates=[f"{k}.want" for k in sk],
            rate_columns=["want", "want_low", "want_high"],
        )
    if len(comp):
        keys = [
            f"comp.{r.year}.{r.indicator}" if r.indicator in STUDENT_INDICATORS else None
            for r in comp.itertuples(index=False)
        ]
        comp = _mask_compliance(doc, comp, keys)
    rows = list(cohort.itertuples(index=False))
    ck: dict[str, Sequence[str | None]] = {
        c: [
            f"cohort.{r.cohort}.n_students"
            if c == "n_students"
            else f"cohort.{r.cohort}.{r.year}.{c}"
            for r in rows
        ]
        for c in ("n_students", "n_evaluable", "n_progressing")
    }
    cohort = doc.mask_table(
        cohort,
        ck,
        rates=[f"cohort.{r.cohort}.{r.year}.rate" for r in rows],
        rate_columns=["proportion", "ci_low", "ci_high"],
    )
    pers = doc.mask_table(
        pers,
        {"n": [f"pers.{i}" for i in pers["years_progressed"]]},
        rates=[f"pers.share.{i}" for i in pers["years_progressed"]],
        rate_columns=["share"],
    )
    return sat, comp, cohort, pers


def analyse_pilot(
    processed,
    *,
    min_cell: int | None = None,
    seed: int = DEFAULT_SEED,
    draws: int | None = None,
    years: Sequence[int] | None = None,
) -> PilotAnalyses:
    """Run every analysis the pilot review needs, once.

    Parameters
    ----------
    processed : mentorlib.data.Processed
    min_cell : int, optional
        Default the study's rule (``processed.rules.min_cell``, 5).
    seed : int, default :data:`mentorlib.rules.DEFAULT_SEED`
    draws : int, optional
        Simulation draws of the grouping-policy comparison; default (None) as many as its
        Monte Carlo precision needs (:func:`mentorlib.grouping.compare`: ``sim_draws_min`` to
        ``sim_draws_max`` of the rulebook).
    years : sequence of int, optional
        Default: every study year with a post-wave assessment.

    Returns
    -------
    PilotAnalyses
    """
    min_cell = resolve_min_cell(processed, min_cell)
    notes: list[str] = []
    progress = _pilot_progress(processed, years, min_cell, seed, notes)
    ys = tuple(sorted(progress))
    last = ys[-1]
    comp = compliance_trend(processed, years=ys, min_cell=min_cell)
    sat = _satisfaction_trend(processed, ys, min_cell)
    stab = None
    if len(ys) > 1:
        try:
            stab = mentor_stability(processed, years=ys, seed=seed)
        except (InputError, ValueError, np.linalg.LinAlgError) as e:
            notes.append(f"mentor stability not estimated: {e}")
    mrep = _mentor_report(processed, last, seed, notes, stability=False)
    cmp_ = _policy_comparison(processed, last, draws, seed, notes)
    cohort, pers = cohort_tables(progress, processed["students"], min_cell, processed.rules)
    stages = stage_table(processed, ys, min_cell)
    doc = Document(min_cell, name=f"pilot review {processed.name}")
    register_pilot(doc, progress, cohort, pers, sat=sat, comp=comp)
    register_stages(doc, stages, award_year=last if processed.level == "middle" else None)
    doc.protect()
    sat, comp, cohort, pers = _mask_pilot(doc, sat, comp, cohort, pers)
    for y, R in progress.items():
        R.apply(doc.view(f"{y}:"))
    return PilotAnalyses(
        processed=processed,
        years=ys,
        min_cell=min_cell,
        seed=seed,
        progress=progress,
        compliance=comp,
        satisfaction=sat,
        stability=stab,
        mentors=mrep,
        comparison=cmp_,
        cohort=cohort,
        persistence=pers,
        staff=staff_trend(processed, ys),
        stages=stages,
        synthetic=is_synthetic(processed),
        notes=notes,
        disclosure=doc,
    )
