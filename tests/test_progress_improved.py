"""Tests of mentorlib.progress.improved: the one per-student improvement rule."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mentorlib.grouping.outcome import _standardised_change
from mentorlib.grouping.roster import roster
from mentorlib.progress import improved_flags, improved_students, progress_report


def test_improved_students_contract_and_headline(primary):
    imp = improved_students(primary, 2024)
    assert imp.index.name == "student_id" and list(imp.columns) == [
        "improved",
        "n_evaluable",
        "n_improved",
    ]
    k = primary.rules.k_dimensions
    ev = imp["n_evaluable"] >= k
    assert imp.loc[~ev, "improved"].isna().all()
    assert (imp.loc[ev, "improved"] == (imp.loc[ev, "n_improved"] >= k)).all()
    # the headline's certified share is the mean over the programme's population
    rep = progress_report(primary, 2024, n_boot=0)
    head = rep.verdict.loc[rep.verdict["rule"] == "evaluable_only"].iloc[0]
    pop = rep.per_student["student_id"].astype(str)
    sub = imp.loc[pop, "improved"]
    assert int(sub.notna().sum()) == int(head["n"])
    assert int(sub.sum()) == int(head["successes"])


def test_improved_flags_k():
    per = pd.DataFrame({"n_evaluable": [4, 2, 1, 0], "n_improved": [2, 1, 1, 0]})
    np.testing.assert_array_equal(improved_flags(per, 2), [1.0, 0.0, np.nan, np.nan])


def test_grouping_outcome_model_counts_the_same_students(primary):
    # the grouping model's change in threshold units > 1 is the headline's "improved"
    students, _ = roster(primary, 2024)
    sid = students["student_id"].astype(str).to_numpy()
    dims = list(primary.dimensions)
    std, _ = _standardised_change(primary, 2024, sid, dims, primary.rules, None, "data")
    stack = np.column_stack([std[d] for d in dims])
    k = primary.rules.k_dimensions
    n_ev = np.isfinite(stack).sum(axis=1)
    with np.errstate(invalid="ignore"):
        n_imp = (stack > 1).sum(axis=1)
    flags = np.where(n_ev >= k, (n_imp >= k).astype(float), np.nan)
    imp = improved_students(primary, 2024)["improved"].reindex(sid).to_numpy()
    np.testing.assert_array_equal(flags, imp)
