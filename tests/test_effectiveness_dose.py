"""Tests of mentorlib.effectiveness.dose: process frequency against improvement."""

from __future__ import annotations

import numpy as np

from mentorlib import effectiveness as E
from mentorlib.effectiveness.dose import improved_students
from mentorlib.progress import student_progress, study_changes

from _effectiveness_fixtures import with_rules


def test_dose_response_mixed(primary):
    d = E.dose_response(primary, 2024, method="mixed")
    assert d.outcome == "post_composite" and d.table["ratio"].isna().all()
    assert (d.table["ci_low"] <= d.table["estimate"]).all()
    assert "not randomised" in d.warning["en"]


def test_improvement_is_the_headlines(primary):
    # one improvement rule: the headline's RCI (this year's alpha, the rulebook's z), at least
    # k dimensions, evaluable when k dimensions have both scores
    per = student_progress(study_changes(primary, 2024)).set_index("student_id")
    imp = improved_students(primary, 2024)
    assert imp.index.equals(per.index.astype(str))
    ev = per["n_evaluable"].to_numpy() >= 1
    assert np.isnan(imp.to_numpy()[~ev]).all()
    assert (imp.to_numpy()[ev] == (per["n_improved"].to_numpy()[ev] >= 1)).all()
    # k from the rulebook: two dimensions is a stricter rule
    two = improved_students(with_rules(primary, k_dimensions=2), 2024)
    assert np.nanmean(two) < np.nanmean(imp)
    assert (two.fillna(0) <= imp.fillna(0)).all()


def test_dose_response_gee_uses_the_rule(primary):
    d = E.dose_response(primary, 2024)
    assert d.outcome == "improved_any" and d.k == primary.rules.k_dimensions
    assert (d.table["ratio_low"] <= d.table["ratio"]).all()
    # the observed rates are rates of the headline's improvement among the students modelled
    imp = improved_students(primary, 2024)
    talk = d.observed[d.observed["exposure"] == "talk"]
    assert talk["n"].sum() == d.n_students
    rate = (talk["mean"] * talk["n"]).sum() / talk["n"].sum()
    assert 0 < rate < 1 and abs(rate - np.nanmean(imp)) < 0.1
