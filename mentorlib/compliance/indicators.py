"""The compliance indicators: which a rulebook asks for, their targets and the pass rule.

Every target and every target in words is formatted from the study's
:class:`~mentorlib.rules.Rulebook`; the indicator names live in
:data:`mentorlib.labels.COMPLIANCE_INDICATORS`.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..labels import COMPLIANCE_INDICATORS
from ..labels_cases import CASE_CONFERENCE_INDICATOR, CASE_CONFERENCE_RULE
from ..rules import Rulebook

__all__ = [
    "INDICATORS",
    "INDICATOR_COLUMNS",
    "MONTHLY",
    "STUDENT_INDICATORS",
    "STUDENT_MONTHLY",
    "passed",
    "passed_vec",
    "required_indicators",
    "target_of",
]


def _with_cases(labels: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
    """The indicator labels with ``case_conference`` (:mod:`mentorlib.labels_cases`) after
    ``student_report``."""
    out: dict[str, tuple[str, str]] = {}
    for code, pair in labels.items():
        out[code] = pair
        if code == "student_report":
            out["case_conference"] = CASE_CONFERENCE_INDICATOR
    return out


#: Indicator codes in report order, with their (zh, en) labels (kept in :mod:`mentorlib.labels`
#: and :mod:`mentorlib.labels_cases`).
INDICATORS: dict[str, tuple[str, str]] = _with_cases(COMPLIANCE_INDICATORS)

#: Indicators whose ``n`` counts students and whose value is a share of them (the students
#: with a mentor, the mentees visited at home, the students needing a case conference who had
#: one, the students regrouped): published with their
#: numerator and complement under disclosure control (:mod:`mentorlib.privacy`).
STUDENT_INDICATORS = ("student_coverage", "home_visit", "case_conference", "regroup_share")

#: Per-student monthly rules: indicator (= activity kind) -> rulebook attribute.
STUDENT_MONTHLY: dict[str, str] = {
    "talk": "talks_per_month",
    "three_party": "three_party_per_month",
    "parent_call": "parent_calls_per_month",
    "student_report": "student_reports_per_month",
}

#: Indicators with a value per month (``by_month``) and per mentor and month (``by_mentor``).
MONTHLY = (
    "talk",
    "three_party",
    "subject_exchange",
    "parent_call",
    "student_report",
    "mood_participation",
)

INDICATOR_COLUMNS = [
    "indicator",
    "label_zh",
    "label_en",
    "value",
    "target",
    "target_zh",
    "target_en",
    "unit",
    "passed",
    "n",
    "note",
    "unmeasured",
]

#: Tolerance of the pass rule (a share computed as a ratio may miss the target by rounding).
TOL = 1e-12


# --------------------------------------------------------------------------- rules


def required_indicators(rules: Rulebook) -> list[str]:
    """The indicator codes a rulebook asks for, in report order."""
    need = {
        "staff_coverage": True,
        "student_coverage": True,
        "group_size": True,
        "training_hours": bool(rules.training_hours),
        "certified": bool(rules.training_hours),
        "talk": rules.talks_per_month > 0,
        "three_party": rules.three_party_per_month > 0,
        "subject_exchange": rules.subject_exchanges_per_month > 0,
        "group_counselling": rules.group_counselling_per_term > 0,
        "parent_call": rules.parent_calls_per_month > 0,
        "home_visit": rules.home_visits_per_year > 0,
        "student_report": rules.student_reports_per_month > 0,
        "case_conference": bool(rules.case_conferences),
        "mood_participation": bool(rules.mood_chart),
        "regroup_share": rules.max_regroup_share is not None,
    }
    return [code for code in INDICATORS if need[code]]


def target_of(code: str, rules: Rulebook) -> tuple[float, str, str]:
    """Target share and the rule in words (zh, en) of an indicator, from the rulebook."""
    r = rules
    if code == "staff_coverage" and not r.all_students_mentored:
        return math.nan, "不适用（按需配备）", "not applicable (as needed)"
    if code == "case_conference":  # "held regularly": no number, no target
        return math.nan, *CASE_CONFERENCE_RULE
    if code == "regroup_share":
        return (
            float(r.max_regroup_share),
            f"≤{r.max_regroup_share:.0%}",
            f"<= {r.max_regroup_share:.0%}",
        )
    words = {
        "staff_coverage": ("全员100%", "100% of staff"),
        "student_coverage": ("100%", "100%"),
        "group_size": (
            f"每位导师{r.group_min}–{r.group_max}人",
            f"{r.group_min}-{r.group_max} students per mentor",
        ),
        "training_hours": (
            f"≥{r.training_hours or 0:g}学时",
            f">= {r.training_hours or 0:g} hours",
        ),
        "certified": ("持证上岗", "certified"),
        "subject_exchange": (
            f"≥{r.subject_exchanges_per_month}次/月",
            f">= {r.subject_exchanges_per_month} a month",
        ),
        "group_counselling": (
            f"≥{r.group_counselling_per_term}次/学期",
            f">= {r.group_counselling_per_term} a term",
        ),
        "home_visit": (f"≥{r.home_visits_per_year}次/学年", f">= {r.home_visits_per_year} a year"),
        "mood_participation": ("每人每天", "every student, every day"),
    }
    if code in STUDENT_MONTHLY:
        k = getattr(r, STUDENT_MONTHLY[code])
        words[code] = (f"≥{k}次/月", f">= {k} a month")
    zh, en = words[code]
    return 1.0, zh, en


def passed(code: str, value: float, target: float):
    """Whether value meets target (missing when either is missing)."""
    if value is None or target is None or not np.isfinite(value) or not np.isfinite(target):
        return pd.NA
    if code == "regroup_share":
        return bool(value <= target + TOL)
    return bool(value >= target - TOL)


def passed_vec(code: pd.Series, value: pd.Series, target: pd.Series) -> pd.Series:
    """:func:`passed` for columns (a nullable boolean Series)."""
    v = pd.to_numeric(value, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    t = pd.to_numeric(target, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    upper = (code == "regroup_share").to_numpy()
    ok = np.where(upper, v <= t + TOL, v >= t - TOL)
    out = pd.array(ok, dtype="boolean")
    out[np.isnan(v) | np.isnan(t)] = pd.NA
    return pd.Series(out, index=value.index)
