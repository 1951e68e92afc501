"""Tests of mentorlib.effectiveness.dose: process frequency against improvement."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from mentorlib import effectiveness as E
from mentorlib.progress import improved_students, progress_report, student_progress, study_changes

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
    assert any(n.startswith("reconstituted dropped: sparse") and "0 not" in n for n in d.notes)
    f = E.dose_response(sep, year, firth=True)
    assert f.fit == "firth" and np.isfinite(f.table[["estimate", "se"]].to_numpy()).all()
    assert any("reconstituted" in n and "Firth" in n for n in f.notes)
