"""Grouping students with mentors: fit, matching policies, the rulebook checker, a simulator.

The programme forms groups (分组, PROGRAMME.md) from a growth-needs questionnaire: mentors are
matched to students by the fit between a mentor's strengths and a student's needs (two-way
selection, 双向选择), the class teacher adjusts for gender balance and home address, and after
each term's satisfaction survey at most the rulebook's ``max_regroup_share`` of students are
regrouped. This package lets a researcher run candidate grouping policies on a real roster,
check each against the rulebook and compare what each would likely yield.

Modules
-------
:mod:`~mentorlib.grouping.roster`
    :func:`roster` (a processed study's year -> ``(students, mentors)``), :func:`fit_scores`,
    :func:`student_preferences`, :func:`mentor_preferences`, and the problem builder.
:mod:`~mentorlib.grouping.policies`
    :data:`POLICIES`, :func:`make_policy`: policies, scikit-learn style (``__init__`` stores
    parameters, ``assign(students, mentors, rules, *, seed)`` returns an assignment table:
    student_id, mentor_id, fit, source).
:mod:`~mentorlib.grouping.check`
    :func:`check`: any assignment against the rulebook, a tidy table (rule, value, target,
    pass, hard); :func:`hard_rules_met`.
:mod:`~mentorlib.grouping.outcome`
    :class:`OutcomeModel` (fitted with the headline's improvement rule,
    :func:`mentorlib.progress.study_changes`), :func:`simulate_outcomes`.
:mod:`~mentorlib.grouping.simulate`
    :func:`compare`, :func:`compare_policies` -> :class:`PolicyComparison`: predicted
    improvement rates under each policy over random draws, with intervals.
:mod:`~mentorlib.grouping.report`
    :func:`run_policy` -> :class:`PolicyRun` (one policy on one year: the ``mentorlib groups``
    command), the side-by-side table and the summary sentences.
:mod:`~mentorlib.grouping.figures`
    :func:`plot_comparison`.

Every setting (group sizes, ``gender_tol``, ``max_regroup_share``, ``target_share``,
``rci_z``, ``min_cell``) comes from the study's rulebook (:mod:`mentorlib.rules`). Low level, in
:mod:`mentorlib.matching`: :func:`~mentorlib.matching.deferred_acceptance` (Gale-Shapley with
capacities) and :func:`~mentorlib.matching.solve_assignment` (the exact maximum-fit assignment
under the side constraints).

Examples
--------
>>> from mentorlib.synth import generate, SynthParams
>>> from mentorlib.data import from_synth
>>> P = from_synth(generate(SynthParams(n_students=300, n_years=1, seed=3)))
>>> assignment, table = run_policy(P, 2023, "optimal")
>>> bool(table.loc[table["hard"], "pass"].all())
True
"""

from __future__ import annotations

from ..labels import POLICY_LABELS, POLICY_LABELS_ZH, RULE_LABELS, RULE_LABELS_ZH
from ..matching import deferred_acceptance  # compatibility: its home is mentorlib.matching
from .advice import DECISIONS, Recommendation, recommend
from .check import COUNT_RULES, SHARE_RULES, check, hard_rules_met
from .figures import plot_comparison
from .outcome import OutcomeModel, simulate_outcomes
from .policies import (
    POLICIES,
    ClassDefaultPolicy,
    OptimalPolicy,
    Policy,
    RandomPolicy,
    RecordedPolicy,
    RegroupPolicy,
    TwoWayPolicy,
    make_policy,
)
from .report import PolicyRun, run_policy
from .roster import (
    DEFAULT_WEIGHTS,
    FROM_RULES,
    HELP_DIMENSIONS,
    SCOPES,
    fit_scores,
    mentor_preferences,
    roster,
    student_preferences,
)
from .simulate import DEFAULT_COMPARISON, PolicyComparison, compare, compare_policies

__all__ = [
    "COUNT_RULES",
    "DECISIONS",
    "DEFAULT_COMPARISON",
    "DEFAULT_WEIGHTS",
    "FROM_RULES",
    "HELP_DIMENSIONS",
    "POLICIES",
    "POLICY_LABELS",
    "POLICY_LABELS_ZH",
    "RULE_LABELS",
    "RULE_LABELS_ZH",
    "SCOPES",
    "SHARE_RULES",
    "ClassDefaultPolicy",
    "OptimalPolicy",
    "OutcomeModel",
    "Policy",
    "PolicyComparison",
    "PolicyRun",
    "RandomPolicy",
    "Recommendation",
    "RecordedPolicy",
    "RegroupPolicy",
    "TwoWayPolicy",
    "check",
    "compare",
    "compare_policies",
    "deferred_acceptance",
    "fit_scores",
    "hard_rules_met",
    "make_policy",
    "mentor_preferences",
    "plot_comparison",
    "recommend",
    "roster",
    "run_policy",
    "simulate_outcomes",
    "student_preferences",
]
