"""Tests of mentorlib.effectiveness.dose: process frequency against improvement."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pandas as pd

from mentorlib import effectiveness as E
from mentorlib.effectiveness.dose import _left_out
from mentorlib.progress import improved_students, progress_report, student_progress, study_changes
from mentorlib.rules import rulebook

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
    imp = improved_students(primary, 2024)["improved"]
    assert imp.index.equals(per.index.astype(str))
    ev = per["n_evaluable"].to_numpy() >= 1
    assert np.isnan(imp.to_numpy()[~ev]).all()
    assert (imp.to_numpy()[ev] == (per["n_improved"].to_numpy()[ev] >= 1)).all()
    # k from the rulebook: two dimensions is a stricter rule
    two = improved_students(with_rules(primary, k_dimensions=2), 2024)["improved"]
    assert np.nanmean(two) < np.nanmean(imp)
    assert (two.fillna(0) <= imp.fillna(0)).all()


def test_dose_response_gee_uses_the_rule(primary):
    d = E.dose_response(primary, 2024)
    assert d.outcome == "improved_any" and d.k == primary.rules.k_dimensions
    assert (d.table["ratio_low"] <= d.table["ratio"]).all()
    # the observed rates are rates of the headline's improvement among the students modelled
    talk = d.observed[d.observed["exposure"] == "talk"]
    assert talk["n"].sum() == d.n_students
    rate = (talk["mean"] * talk["n"]).sum() / talk["n"].sum()
    assert abs(rate - d.outcome_rate) < 1e-12


def test_dose_outcome_is_the_certified_share(primary):
    # one rule: the dose-response outcome's rate is the headline's certified share, over the
    # same students (every evaluable student of the population is modelled here)
    rep = progress_report(primary, 2024, n_boot=0)
    head = rep.verdict.loc[rep.verdict["rule"] == "evaluable_only"].iloc[0]
    d = E.dose_response(primary, 2024)
    assert d.n_students == int(head["n"])
    assert abs(d.outcome_rate - float(head["proportion"])) < 1e-12
    assert d.fit == "gee"


def _separated_study(study, year):
    """The study with family structure rewritten by hand: exactly five mentees, all of them
    improved, live in a reconstituted family (a perfectly separated flag)."""
    imp = improved_students(study, year)["improved"]
    s = study["students"].copy()
    this = s["year"] == year
    s.loc[this, "family"] = "two_parent"
    mentored = set(E.mentor_data(study, year)["student_id"])
    five = [i for i in imp.index[imp == 1.0] if i in mentored][:5]
    s.loc[this & s["student_id"].astype(str).isin(five), "family"] = "reconstituted"
    return replace(study, tables={**study.tables, "students": s})


def test_dose_response_separated_flag_is_finite_with_a_note(middle):
    year = middle.years[-1]
    sep = _separated_study(middle, year)
    d = E.dose_response(sep, year)
    assert len(d.table) and np.isfinite(d.table[["estimate", "se", "p"]].to_numpy()).all()
    assert (d.table["se"] > 0).all() and (d.table["estimate"].abs() < 20).all()
    assert any(n.startswith("reconstituted dropped: sparse") for n in d.notes)
    # the note is published: no count of the five (nor of the 0 not improved); the counts
    # are in the internal table
    note = next(n for n in d.notes if n.startswith("reconstituted dropped"))
    assert "5 students" not in note and "0 not" not in note and "fewer than 5" in note
    row = d.sparse.set_index("column").loc["reconstituted"]
    assert (row["level"], row["n_students"], row["n_improved"], row["n_not"]) == (1.0, 5, 5, 0)
    f = E.dose_response(sep, year, firth=True)
    assert f.fit == "firth" and np.isfinite(f.table[["estimate", "se"]].to_numpy()).all()
    assert any("reconstituted" in n and "Firth" in n for n in f.notes)


def test_sparse_counts_only_in_internal_output():
    # the public JSON (mentors --json) has the notes without counts and no table of them;
    # --internal has the exact counts
    empty = pd.DataFrame()
    sparse = pd.DataFrame(
        [{"column": "left_behind", "level": 1.0, "n_students": 10, "n_improved": 7, "n_not": 3}]
    )
    rep = E.MentorReport(
        "hand", "middle", 2023, 0, rulebook("middle"), *([empty] * 15), dose_sparse=sparse
    )
    rep = replace(rep, effects=pd.DataFrame(columns=["outcome"]))
    public, internal = rep.to_json_dict(), rep.to_json_dict(public=False)
    assert "dose_sparse" not in public["tables"] and "dose_sparse" not in rep.tables()
    assert internal["tables"]["dose_sparse"] == sparse.to_dict("records")
    assert "dose_sparse" in internal["internal_tables"]


def test_students_left_out_are_not_counted_below_min_cell():
    data = pd.DataFrame({"y": [1.0] * 12 + [0.0] * 10})
    assert _left_out(data, SimpleNamespace(y=np.zeros(19)), 5) == [
        "fewer than 5 evaluable student(s) left out of the model: a covariate is missing"
    ]
    assert _left_out(data, SimpleNamespace(y=np.zeros(16)), 5)[0].startswith("6 evaluable")
    assert _left_out(data, SimpleNamespace(y=np.zeros(22)), 5) == []
