"""Mentor effectiveness: shrunken mentor effects with intervals, and an audit of the school's scheme.

With 5-8 mentees per mentor (primary) or 1-2 (middle), a mentor's raw average is mostly the
luck of who the mentees were. This package estimates mentor effects the way the value-added
literature does (a linear mixed model with a random mentor intercept, empirical-Bayes
shrinkage, intervals, ranking uncertainty, a placebo outcome) and sets the school's own
"normal-score" scheme (按正态分布计算, the rulebook's ``award_per_mentee_term`` per mentee per
term) beside it.

Layers (each imports only the ones above it)
--------------------------------------------
:mod:`.model` — the model, on any DataFrame
    :func:`fit_mentor_model` (column names as arguments) -> :class:`MentorModel`: fixed
    effects, variance components, ICC, (RE)ML log-likelihood, the boundary-corrected
    likelihood-ratio test of the mentor variance (:func:`boundary_lrt`) and the empirical-Bayes
    mentor effects (intervals integrated over the uncertainty of the mentor variance by default,
    or conditional ones). Random-intercept models use a direct profiled (RE)ML fit (per-mentor
    sufficient statistics, one-dimensional search; 0.3 s for 100,000 students and 12,500
    mentors, where statsmodels' default path took 5 minutes and stopped unconverged,
    benchmarks/bench_mixed.py); random slopes and a second variance component (the class) use
    statsmodels ``MixedLM``, tried with every optimiser.
:mod:`.rlrt` — the exact test of the mentor variance
    :func:`rlrt_null_sample` (the finite-sample null of the (R)LRT, Crainiceanu & Ruppert
    2004, by simulation), :func:`rlrt_pvalue` (RLRsim's conventions); the model uses it when
    mentors have few mentees.
:mod:`.flags` — many mentors at once
    :func:`flag_mentors` (verdicts, the posterior chance of the other sign, Sidak-simultaneous
    verdicts), :func:`false_flags` (flagged, expected false flags, the no-difference bound).
:mod:`.study` — the mentor study of one school
    :func:`study_scores` (the scale scores, from :func:`mentorlib.scales.score_scales`, computed
    once and passed down), :func:`mentor_data` (one row per student: outcome score pre and post,
    mentor, covariates), :func:`study_models` (per dimension and the composite),
    :func:`mentor_stability` (year-to-year correlation), :func:`rank_probabilities`,
    :func:`placebo_check` (height).
:mod:`.scheme` — the school's award scheme
    :func:`normal_scores`, :func:`scheme_components`, :func:`school_scheme` (normal scores,
    composite, bands and award from the rulebook's ``award_bands`` / ``award_multipliers``),
    :func:`scheme_reliability`, :func:`audit_scheme`.
:mod:`.award` — the award as paid
    :func:`award_table` (whole yuan per mentor and term adding up exactly to the pool, by
    :func:`round_to_total`, with :func:`band_credibility`), :func:`award_totals`,
    :func:`award_distribution` (public), :func:`mentee_rewards` (seed 001 section 5.1),
    :func:`year_award` (a year's award from the scheme alone, for the review).
:mod:`.dose` — process
    :func:`dose_response` (talk and parent-contact frequency against improvement; GEE).
    "Improved" is the headline's rule: :func:`mentorlib.progress.study_changes` and
    :func:`mentorlib.progress.student_progress`, at least the rulebook's ``k_dimensions``.
:mod:`.figures`
    :func:`plot_caterpillar`, :func:`plot_naive_vs_shrunk`, :func:`plot_dose_response`.
:mod:`.report` — entry point
    :func:`mentor_report` -> :class:`MentorReport` (the result protocol of
    :mod:`mentorlib.results`: ``summary``, ``tables``, ``figures``, ``to_json_dict``; a
    ``public`` switch: tables that name mentors are internal only, small cells protected with
    the rulebook's ``min_cell``).

Every setting (alpha of the intervals, min_cell, the RCI's z, k, min_answered, the award
scheme) comes from the study's rulebook (``processed.rules``); functions keep parameters that
default to ``None`` meaning "the study's rulebook".
"""

from __future__ import annotations

from .award import (
    award_distribution,
    award_table,
    award_totals,
    band_credibility,
    band_outcomes,
    mentee_rewards,
    reward_k,
    round_to_total,
    year_award,
)
from .dose import DOSE_WARNING, EXPOSURE_LABELS, EXPOSURES, DoseResponse, dose_response
from .figures import (
    plot_band_outcomes,
    plot_caterpillar,
    plot_dose_response,
    plot_naive_vs_shrunk,
)
from .flags import false_flags, flag_mentors, sidak_z
from .model import (
    LLF_TOL,
    OPTIMIZERS,
    MentorModel,
    OptimizerWarning,
    boundary_lrt,
    fit_mentor_model,
)
from .report import MentorReport, mentor_report
from .rlrt import rlrt_null_sample, rlrt_pvalue
from .scheme import (
    COMPONENTS,
    WEIGHTS,
    allocate_award,
    assign_bands,
    audit_scheme,
    normal_scores,
    scheme_components,
    scheme_reliability,
    school_scheme,
)
from .study import (
    COVARIATES,
    FOCUS_COVARIATES,
    Stability,
    mentor_data,
    mentor_stability,
    placebo_check,
    rank_probabilities,
    study_models,
    study_scores,
)

__all__ = [
    "COMPONENTS",
    "COVARIATES",
    "DOSE_WARNING",
    "EXPOSURES",
    "EXPOSURE_LABELS",
    "FOCUS_COVARIATES",
    "LLF_TOL",
    "OPTIMIZERS",
    "WEIGHTS",
    "DoseResponse",
    "MentorModel",
    "MentorReport",
    "OptimizerWarning",
    "Stability",
    "allocate_award",
    "assign_bands",
    "audit_scheme",
    "award_distribution",
    "award_table",
    "award_totals",
    "band_credibility",
    "band_outcomes",
    "boundary_lrt",
    "dose_response",
    "false_flags",
    "flag_mentors",
    "fit_mentor_model",
    "mentee_rewards",
    "mentor_data",
    "mentor_report",
    "mentor_stability",
    "normal_scores",
    "placebo_check",
    "plot_band_outcomes",
    "plot_caterpillar",
    "plot_dose_response",
    "plot_naive_vs_shrunk",
    "rank_probabilities",
    "reward_k",
    "rlrt_null_sample",
    "rlrt_pvalue",
    "round_to_total",
    "scheme_components",
    "scheme_reliability",
    "school_scheme",
    "sidak_z",
    "study_models",
    "study_scores",
    "year_award",
]
