"""The mentee comparison's data: one row per roster student, and the propensity design.

:func:`analysis_frame` lays out, in roster order, what every estimator of
:mod:`mentorlib.progress.comparison` reads: the mentee flag, grade and class, the focus-group
flags, per dimension the observed pre- and post-test scale scores and the change in pre-test SDs
(the report's ``rci_data`` changes, so the ruler is the report's), and the headline rule's
improvement flag (:func:`~mentorlib.progress.improved.improved_flags`). :func:`design` turns it
into the propensity / outcome-regression covariates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..privacy import MIN_CELL
from .change import student_progress
from .improved import improved_flags

__all__ = ["FLAGS", "analysis_frame", "design", "pre_composite"]

#: Focus-group flags (students.transfer / family / left_behind) and gender, as 0/1 columns.
#: Whether a student was mentored the year before is NOT a covariate: it is part of the
#: treatment (continuing mentees), and as a covariate it left no overlap (propensities near 1,
#: a third of the mentees trimmed). What chose them, last year's pre-test, is used instead.
FLAGS = ("transfer", "single_parent", "reconstituted", "left_behind", "male")


def pre_composite(scores: pd.DataFrame, year: int) -> pd.Series:
    """Each student's observed pre-test composite of ``year``: the mean over dimensions of the
    scale scores standardised within the year (what a class teacher sees when nominating)."""
    s = scores.loc[(scores["year"] == year) & (scores["wave"].astype("str") == "pre")]
    if s.empty:
        return pd.Series(dtype=float)
    z = s.groupby("dimension", observed=True)["score"].transform(
        lambda v: (v - v.mean()) / v.std() if v.std() > 0 else v * 0.0
    )
    return z.groupby(s["student_id"].astype("str").to_numpy()).mean()


def _flags(roster: pd.DataFrame) -> pd.DataFrame:
    n = len(roster)
    fam = roster["family"].astype("str") if "family" in roster else pd.Series([""] * n)
    cols = {
        "transfer": roster["transfer"] if "transfer" in roster else None,
        "single_parent": fam.eq("single_parent"),
        "reconstituted": fam.eq("reconstituted"),
        "left_behind": roster["left_behind"] if "left_behind" in roster else None,
        "male": roster["gender"].astype("str").eq("male") if "gender" in roster else None,
    }
    return pd.DataFrame(
        {
            k: (np.zeros(n) if v is None else pd.Series(v).fillna(False).to_numpy(dtype=float))
            for k, v in cols.items()
        }
    )


def analysis_frame(y, k: int, previous: pd.Series | None = None) -> pd.DataFrame:
    """Per roster student of a :class:`~mentorlib.progress.year.StudyYear` (roster order).

    Columns: ``student_id, mentee`` (bool), ``grade, class`` ("grade-class_no"), the
    :data:`FLAGS`, and per dimension ``pre_<d>, post_<d>`` (scale scores) and ``change_<d>``
    (change in pre-test SDs of the year's roster); ``improved`` (1.0 / 0.0 / NaN when fewer than
    ``k`` dimensions are evaluable), and ``prev_pre`` (the year before's observed pre-test
    composite, :func:`pre_composite`, given as ``previous``; NaN for a student not measured
    then): continuing mentees were nominated on last year's scores, so this year's alone do
    not explain who is mentored.
    """
    roster = y.roster.reset_index(drop=True)
    ch = y.changes("rci_data")
    dims = list(y.cb.dimensions)
    out = pd.DataFrame(
        {
            "student_id": roster["student_id"].astype("str").to_numpy(),
            "mentee": np.asarray(y.mentee, dtype=bool),
            "grade": roster["grade"].astype("str").to_numpy()
            if "grade" in roster
            else np.array(["all"] * len(roster)),
        }
    )
    cls = (
        roster["class_no"].astype("str") if "class_no" in roster else pd.Series(["1"] * len(roster))
    )
    out["class"] = out["grade"] + "-" + cls.to_numpy()
    out = pd.concat([out, _flags(roster)], axis=1)
    out["prev_pre"] = (
        np.full(len(out), np.nan)
        if previous is None or previous.empty
        else previous.reindex(out["student_id"]).to_numpy(dtype=float)
    )
    pos = pd.Index(out["student_id"])
    for d in dims:
        c = ch.loc[ch["dimension"] == d]
        row = pos.get_indexer(c["student_id"].astype("str"))
        keep = row >= 0
        for col, src in (("pre", "pre"), ("post", "post")):
            v = np.full(len(out), np.nan)
            v[row[keep]] = c[src].to_numpy(dtype=float)[keep]
            out[f"{col}_{d}"] = v
        v = np.full(len(out), np.nan)
        v[row[keep]] = (c["change"] / c["sd_pre"]).to_numpy(dtype=float)[keep]
        out[f"change_{d}"] = v
    per = student_progress(ch)
    flag = pd.Series(improved_flags(per, k), index=per["student_id"].astype("str").to_numpy())
    out["improved"] = flag.groupby(level=0).first().reindex(pos).to_numpy(dtype=float)
    return out


def design(
    frame: pd.DataFrame, dims: list[str], *, min_cell: int = MIN_CELL
) -> tuple[pd.DataFrame, list[str]]:
    """Covariates of the propensity and outcome models (no intercept) and notes.

    Per dimension the pre-test scale score (a missing one replaced by the mean of the others,
    with a ``pre_missing`` indicator when any is missing), grade dummies (the first grade the
    reference), the class mean of the pre-test composite over all its students (class fixed
    effects would separate classes with no mentee or only mentees; the class mean carries the
    class teacher's reference point) and the composite's percentile rank within the class (the
    teachers nominate the weakest few of their class), last year's observed composite and its
    rank (continuing mentees were chosen on it; with a ``prev_missing`` indicator), and the
    focus-group flags that vary. A 0/1 covariate
    with no mentee (or no non-mentee) in one of its categories is left out with a note that
    names no empty group ("fewer than ``min_cell``", the study's small-cell threshold).
    """
    notes: list[str] = []
    pre = frame[[f"pre_{d}" for d in dims]].astype(float)
    miss = pre.isna().any(axis=1)
    X = pre.apply(lambda c: c.fillna(c.mean())).fillna(0.0)
    if miss.any():
        X["pre_missing"] = miss.to_numpy(dtype=float)
    grades = pd.get_dummies(frame["grade"], prefix="grade", drop_first=True, dtype=float)
    X = pd.concat([X, grades.set_axis(X.index)], axis=1)
    composite = pre.mean(axis=1)
    X["class_mean_pre"] = (
        composite.groupby(frame["class"]).transform("mean").fillna(composite.mean())
    )
    # class teachers nominate the weakest few of their own class: the rank within the class
    X["class_rank_pre"] = composite.groupby(frame["class"]).rank(pct=True).fillna(0.5)
    prev = frame["prev_pre"].astype(float) if "prev_pre" in frame else pd.Series(dtype=float)
    if prev.notna().any():
        X["prev_pre"] = prev.fillna(prev.mean()).to_numpy()
        X["prev_class_rank"] = prev.groupby(frame["class"]).rank(pct=True).fillna(0.5).to_numpy()
        if prev.isna().any():
            X["prev_missing"] = prev.isna().to_numpy(dtype=float)
    by_class = frame.groupby("class")["mentee"].agg(["mean", "size"])
    none, every = int((by_class["mean"] == 0).sum()), int((by_class["mean"] == 1).sum())
    if none or every:
        notes.append(
            f"comparison: {none} class(es) with no mentee and {every} with only mentees; "
            "class enters the propensity through its mean pre-test (fixed effects would separate)"
        )
    for f in FLAGS:
        v = frame[f].to_numpy(dtype=float)
        if v.std() > 0:
            X[f] = v
    X = X.loc[:, X.std(ddof=0) > 0]
    m = frame["mentee"].to_numpy(dtype=bool)
    empty = [
        c
        for c in X.columns
        if set(np.unique(X[c])) <= {0.0, 1.0}
        and pd.crosstab(m, X[c].to_numpy()).to_numpy().min() == 0
    ]
    if empty:
        notes.append(
            # "no mentee in a category" would say who is in it: a group of 0
            f"comparison: {', '.join(empty)} left out of the propensity (fewer than {min_cell} "
            "mentees or non-mentees in one of its categories: it could separate the groups)"
        )
    return X.drop(columns=empty), notes
