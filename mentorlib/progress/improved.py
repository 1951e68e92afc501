"""Who improved this year: the one per-student rule every stage calls.

:func:`improved_students` is the workbench's single answer to "did this student make
significant progress this year?": the reliable change index of :func:`~mentorlib.progress.
study_changes` (this year's pre-wave alpha, the rulebook's ``rci_z``) counted over the
dimensions by :func:`~mentorlib.progress.student_progress`, a student progressing with an
improvement in at least ``k`` dimensions (the rulebook's ``k_dimensions``) and evaluable when at
least ``k`` dimensions have both scores (the headline's ``evaluable_only`` denominator).
:func:`improved_flags` applies the same rule to a ``student_progress`` table already built (the
progress report's ``per_student``), so the headline, its breakdowns, the cohort tables, the
dose-response model and the exports count the same students.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import InputError
from ._common import need_columns
from .change import student_progress, study_changes

__all__ = ["improved_flags", "improved_students"]


def improved_flags(per_student: pd.DataFrame, k: int) -> np.ndarray:
    """1.0 improved in at least ``k`` dimensions, 0.0 not, NaN fewer than ``k`` evaluable.

    >>> per = pd.DataFrame({"n_evaluable": [3, 3, 0, 1], "n_improved": [2, 0, 0, 1]})
    >>> improved_flags(per, 1).tolist()
    [1.0, 0.0, nan, 1.0]
    >>> improved_flags(per, 2).tolist()
    [1.0, 0.0, nan, nan]
    """
    need_columns(per_student, {"n_evaluable", "n_improved"}, "per_student")
    if int(k) < 1:
        raise InputError(f"k must be at least 1, got {k}")
    ev = per_student["n_evaluable"].to_numpy(dtype=float)
    imp = per_student["n_improved"].to_numpy(dtype=float)
    return np.where(ev >= k, (imp >= k).astype(float), np.nan)


def improved_students(processed, year: int, *, k: int | None = None) -> pd.DataFrame:
    """Per student of the year's roster: improved (1.0 / 0.0 / NaN), dimensions evaluable and
    improved, by the study's resolved rules.

    Parameters
    ----------
    processed : Processed
        The study; its rulebook (``processed.rules``) gives ``rci_z``, ``min_answered`` and
        ``k_dimensions``; the reliability is this year's pre-wave Cronbach alpha (the headline's
        ``rci_data`` definition).
    year : int
    k : int, optional
        Improvement in at least ``k`` dimensions (default: the rulebook's ``k_dimensions``).

    Returns
    -------
    DataFrame
        Indexed by ``student_id`` (str, roster order): ``improved`` (1.0, 0.0, or NaN when
        fewer than ``k`` dimensions have both scores), ``n_evaluable``, ``n_improved`` (ints).
        The headline's certified share (``evaluable_only``) is ``improved.mean()`` over the
        programme's population (every student in primary school, the mentees in middle school).
    """
    k = processed.rules.k_dimensions if k is None else int(k)
    per = student_progress(study_changes(processed, year))
    out = pd.DataFrame(
        {
            "improved": improved_flags(per, k),
            "n_evaluable": per["n_evaluable"].to_numpy(dtype="int64"),
            "n_improved": per["n_improved"].to_numpy(dtype="int64"),
        },
        index=pd.Index(per["student_id"].astype(str).to_numpy(), name="student_id"),
    )
    return out
