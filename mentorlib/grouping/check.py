"""The rulebook checker: any assignment scored against the programme's rules.

:func:`check` returns a tidy table (``rule``, ``value``, ``target``, ``pass``, ``hard``);
:func:`hard_rules_met` says whether every hard rule passes. :data:`COUNT_RULES` and
:data:`SHARE_RULES` say which rows count students (for small-cell protection).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..rules import Rulebook
from .roster import (
    FROM_RULES,
    GenderTol,
    Problem,
    build_problem,
    gender_applies,
    require_columns,
    resolve_gender_tol,
    stated_choices,
)

__all__ = [
    "COUNT_RULES",
    "SHARE_RULES",
    "as_mapping",
    "assignment_columns",
    "blocking_pairs",
    "check",
    "hard_rules_met",
]

#: Checker rules whose value counts students (suppressed in public output when small).
COUNT_RULES = ("assignment_valid", "group_min", "group_max", "blocking_pairs")

#: Checker rules whose value is a share of the year's students.
SHARE_RULES = ("students_assigned", "in_scope", "first_choice", "top3_choice", "changed_share")

_COLUMNS = ["rule", "value", "target", "pass", "hard"]


def as_mapping(prev: Any, what: str) -> dict[str, str]:
    """Groups given as a frame (``student_id``, ``mentor_id``), a Series or a mapping -> dict."""
    if prev is None:
        return {}
    if isinstance(prev, pd.DataFrame):
        require_columns(prev, ("student_id", "mentor_id"), what)
        d = prev.dropna(subset=["mentor_id"])
        return dict(zip(d["student_id"].astype(str), d["mentor_id"].astype(str), strict=True))
    if isinstance(prev, pd.Series):
        prev = prev.dropna()
        return dict(zip(prev.index.astype(str), prev.astype(str), strict=True))
    return {str(k): str(v) for k, v in dict(prev).items() if v is not None and not pd.isna(v)}


def assignment_columns(pb: Problem, assignment: pd.DataFrame) -> tuple[np.ndarray, int]:
    """Mentor column per student (-1 unassigned) and the number of invalid rows."""
    require_columns(assignment, ("student_id", "mentor_id"), "assignment")
    spos = {s: i for i, s in enumerate(pb.sid)}
    mpos = {s: j for j, s in enumerate(pb.mid)}
    a_s = assignment["student_id"].astype(str).to_numpy(dtype=object)
    a_m = assignment["mentor_id"].to_numpy(dtype=object)
    dup = pd.Index(a_s).duplicated(keep=False)
    col = np.full(pb.n, -1)
    invalid = 0
    for s, mm, d in zip(a_s, a_m, dup, strict=True):
        i = spos.get(s)
        if pd.isna(mm):
            invalid += i is None
            continue
        j = mpos.get(str(mm))
        if i is None or j is None or d:
            invalid += 1
            continue
        col[i] = j
    return col, invalid


def blocking_pairs(pb: Problem, col: np.ndarray) -> int:
    """Pairs (s, m) who both strictly prefer each other to what they have (Gale-Shapley)."""
    stated = stated_choices(pb)
    if stated is not None:
        rank = np.full((pb.n, pb.m), np.inf)
        for i, lst in enumerate(stated):
            rank[i, lst] = np.arange(len(lst))
    else:
        rank = np.where(pb.allowed, -pb.fit, np.inf)
    view = np.where(pb.allowed, -pb.fit, np.inf)  # the mentor's view (smaller = preferred)
    a = np.flatnonzero(col >= 0)
    own = np.full(pb.n, np.inf)
    own[a] = rank[a, col[a]]
    load = np.bincount(col[a], minlength=pb.m)
    worst = np.full(pb.m, -np.inf)
    np.maximum.at(worst, col[a], view[a, col[a]])
    room = load < pb.upper
    block = (rank < own[:, None]) & np.isfinite(view) & (room[None, :] | (view < worst[None, :]))
    return int(block.sum())


class _Rows:
    """The rows of a check table as they are added."""

    def __init__(self) -> None:
        self.rows: list[tuple] = []

    def add(self, rule: str, value: Any, target: str, ok: Any, hard: bool = False) -> None:
        v = float(value) if value is not None else np.nan
        self.rows.append((rule, v, target, ok, hard))

    def frame(self) -> pd.DataFrame:
        out = pd.DataFrame(self.rows, columns=_COLUMNS)
        out["rule"] = out["rule"].astype("str")
        out["target"] = out["target"].astype("str")
        out["pass"] = out["pass"].astype("boolean")
        out["hard"] = out["hard"].astype(bool)
        return out


def _size_rows(rows: _Rows, pb: Problem, col: np.ndarray, invalid: int) -> None:
    """Validity, coverage, staff mentoring and group sizes."""
    rules = pb.rules
    a = np.flatnonzero(col >= 0)
    load = np.bincount(col[a], minlength=pb.m)
    groups = load[load > 0]
    lo, hi = rules.group_min, rules.group_max
    rows.add("assignment_valid", invalid, "0", invalid == 0, True)
    rows.add("students_assigned", len(a) / pb.n if pb.n else 1.0, "1", len(a) == pb.n, True)
    staff = (load > 0).mean() if pb.m else 1.0
    if rules.all_students_mentored:
        rows.add("staff_mentoring", staff, "1", bool((load > 0).all()), True)
    else:
        rows.add("staff_mentoring", staff, "not required", pd.NA)
    gmin = groups.min() if len(groups) else np.nan
    gmax = groups.max() if len(groups) else np.nan
    rows.add("group_min", gmin, f">= {lo}", bool(not len(groups) or gmin >= lo), True)
    rows.add("group_max", gmax, f"<= {hi}", bool(not len(groups) or gmax <= hi), True)
    spm = len(a) / len(groups) if len(groups) else np.nan
    rows.add("students_per_mentor", spm, f"{lo}-{hi}", bool(len(groups) and lo <= spm <= hi))


def _gender_row(
    rows: _Rows, pb: Problem, col: np.ndarray, tol: float | None, gender_ref: str
) -> None:
    if not gender_applies(pb.rules) or tol is None:
        rows.add("gender_balance", None, "n/a (groups of 1-2)", pd.NA)
        return
    a = np.flatnonzero(col >= 0)
    load = np.bincount(col[a], minlength=pb.m)
    r = np.broadcast_to(np.asarray(pb.ratio(gender_ref)), (pb.m,))
    fem = np.bincount(col[a], weights=pb.female[a].astype(float), minlength=pb.m)
    big = load >= 3
    dev = np.abs(fem[big] / load[big] - r[big]).max() if big.any() else 0.0
    rows.add("gender_balance", dev, f"<= {tol:g}", bool(dev <= tol + 1e-9))


def _choice_rows(rows: _Rows, pb: Problem, col: np.ndarray) -> None:
    """In scope, first and top-three choices, blocking pairs."""
    a = np.flatnonzero(col >= 0)
    inside = pb.allowed[a, col[a]]
    rows.add("in_scope", inside.mean() if len(a) else 1.0, "1", bool(inside.all()))
    stated = stated_choices(pb)
    if stated is not None:
        first = np.array([bool(lst) and col[i] == lst[0] for i, lst in enumerate(stated)])
        top3 = np.array([col[i] in lst[:3] for i, lst in enumerate(stated)])
        how = "stated choices"
    else:
        best = np.where(pb.allowed, pb.fit, -np.inf)
        srt = -np.sort(-best, axis=1)
        own = np.where(col >= 0, pb.fit[np.arange(pb.n), np.maximum(col, 0)], -np.inf)
        first = own >= srt[:, 0] - 1e-12
        third = srt[:, min(2, pb.m - 1)] if pb.m else np.zeros(pb.n)
        top3 = own >= np.where(np.isfinite(third), third, srt[:, 0]) - 1e-12
        how = "best fit in scope"
    rows.add("first_choice", first.mean() if pb.n else np.nan, f"- ({how})", pd.NA)
    rows.add("top3_choice", top3.mean() if pb.n else np.nan, f"- ({how})", pd.NA)
    bp = blocking_pairs(pb, col)
    rows.add("blocking_pairs", bp, "0 (stable)", bp == 0)


def _change_row(rows: _Rows, pb: Problem, col: np.ndarray, previous: Any, adjustment: bool):
    prev = as_mapping(previous, "previous")
    had = [i for i, s in enumerate(pb.sid) if s in prev]
    changed = sum(col[i] < 0 or pb.mid[col[i]] != prev[pb.sid[i]] for i in had)
    share = changed / len(had) if had else 0.0
    cap = pb.rules.max_regroup_share
    if adjustment:
        rows.add("changed_share", share, f"<= {cap:g}", bool(share <= cap + 1e-12), True)
    else:
        rows.add("changed_share", share, "- (a new grouping)", pd.NA)


def check(
    assignment: pd.DataFrame,
    students: pd.DataFrame,
    mentors: pd.DataFrame,
    rules: Rulebook,
    *,
    previous: Any = None,
    adjustment: bool = False,
    gender_tol: GenderTol = FROM_RULES,
    gender_ref: str = "school",
    scope: str | None = None,
    weights: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Score an assignment against the rulebook.

    Parameters
    ----------
    assignment : DataFrame
        ``student_id``, ``mentor_id`` (any policy's output, or recorded groups).
    students, mentors : DataFrame
        As returned by :func:`~mentorlib.grouping.roster`.
    rules : Rulebook
    previous : DataFrame, Series or mapping, optional
        The groups before (student -> mentor), for the change ratio.
    adjustment : bool
        The assignment is an adjustment of ``previous``: the change ratio must then stay
        within ``rules.max_regroup_share`` (a hard rule).
    gender_tol : float, "rules" or None
        Tolerance of the gender-balance row: default the rulebook's ``gender_tol``; None
        leaves the row without a target.
    gender_ref : {"school", "unit"}
        Balance around the school's female share, or that of the students in each mentor's
        scope (:class:`~mentorlib.grouping.OptimalPolicy`).
    scope : {"class", "grade", "school"}, optional
        For the in-scope share and the acceptable mentors of fit-based preferences.

    Returns
    -------
    DataFrame
        One row per rule: ``rule``, ``value``, ``target`` (text), ``pass`` (nullable
        boolean; missing where the rule has no target), ``hard`` (a rule of the programme
        that every grouping must meet). Rules: ``assignment_valid`` (rows with an unknown
        student or mentor, or a student listed twice), ``students_assigned`` (share with
        exactly one mentor), ``staff_mentoring`` (share of eligible staff with students;
        required in primary), ``group_min`` / ``group_max`` (smallest / largest group),
        ``students_per_mentor``, ``gender_balance`` (largest gap between a group's female
        share and the school's, groups of 3+), ``in_scope`` (share with a mentor of their
        class or grade), ``first_choice`` / ``top3_choice`` (share given their first / a
        top-three choice: stated choices, else the best fit in scope), ``blocking_pairs``,
        ``changed_share`` (against ``previous``), ``total_fit``, ``mean_fit``.

    Notes
    -----
    A blocking pair is a student and a mentor who both strictly prefer each other to their
    assignment: the mentor has room or ranks the student above one of their students (Gale
    & Shapley 1962). Students rank by stated choices (unlisted mentors unacceptable) or by
    fit; mentors rank by fit. Zero blocking pairs means the grouping is stable.
    """
    pb = build_problem(students, mentors, rules, weights=weights, scope=scope)
    col, invalid = assignment_columns(pb, assignment)
    rows = _Rows()
    _size_rows(rows, pb, col, invalid)
    _gender_row(rows, pb, col, resolve_gender_tol(gender_tol, rules), gender_ref)
    _choice_rows(rows, pb, col)
    if previous is not None:
        _change_row(rows, pb, col, previous, adjustment)
    a = np.flatnonzero(col >= 0)
    total = pb.fit[a, col[a]].sum()
    rows.add("total_fit", total, "-", pd.NA)
    rows.add("mean_fit", total / len(a) if len(a) else np.nan, "-", pd.NA)
    return rows.frame()


def hard_rules_met(check_table: pd.DataFrame) -> bool:
    """Whether every hard rule of a :func:`check` table passes."""
    hard = check_table.loc[check_table["hard"], "pass"]
    return bool(hard.fillna(False).all())
