"""The progress report's estimated true share against the generator's truth (issue 14 item 1)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from mentorlib.data import from_synth
from mentorlib.progress import progress_report, true_share_report
from mentorlib.progress.true_share_report import SELECTION_NOTE
from mentorlib.results import to_json

from _progress_fixtures import true_share_study

KEYS = {"estimate", "ci_low", "ci_high", "delta", "k", "method"}


@pytest.fixture(scope="module")
def report():
    processed, truth, threshold = true_share_study()
    rules = processed.rules.with_changes(min_cell=40)
    rep = progress_report(processed, processed.years[0], n_boot=0, rules=rules)
    return rep, truth, threshold


def test_estimate_near_the_generators_truth(report):
    rep, truth, threshold = report
    ts = rep.true_share
    assert ts is not None, rep.notes
    assert ts["delta"] == pytest.approx(threshold)  # the rulebook's true_delta = the generator's
    assert ts["method"] == "grm_pv_boot" and 380 <= ts["n_students"] <= 400
    # 400 students: the estimate's spread over schools is ~0.06; 0.12 is two of them
    assert abs(ts["estimate"] - truth) < 0.12
    assert ts["ci_low"] < ts["estimate"] < ts["ci_high"]
    assert ts["ci_low"] - 0.03 < truth < ts["ci_high"] + 0.03


def test_breakdown_respects_min_cell(report):
    rep, _, _ = report
    by = rep.true_share_by
    assert list(by.columns) == ["by", "group", "estimate", "ci_low", "ci_high", "n_students"]
    assert set(by["by"]) <= {"grade", "focus_group"} and "grade" in set(by["by"])
    assert (by["n_students"] >= 40).all()
    assert any("fewer than 40 students not shown" in n for n in rep.notes)


def test_json_carries_the_keys(report):
    rep, _, _ = report
    out = json.loads(to_json(rep))
    assert set(out["summary"]["estimated_true_share"]) == KEYS
    assert out["true_share_by"]
    # published: no group counts of its own, only groups the breakdowns table shows
    assert all("n_students" not in r for r in out["true_share_by"])
    shown = rep.tables(public=True)["breakdowns"].dropna(subset=["proportion"])
    pairs = set(zip(shown["by"].astype(str), shown["group"].astype(str), strict=True))
    assert {(r["by"], str(r["group"])) for r in out["true_share_by"]} <= pairs
    internal = rep.to_json_dict(public=False)["true_share_by"]
    assert len(internal) >= len(out["true_share_by"]) and "n_students" in internal[0]
    assert rep.true_share_lines("en")[0].startswith("Estimated share that truly progressed")


def test_switched_off():
    processed, _, _ = true_share_study()
    rep = progress_report(processed, processed.years[0], n_boot=0, true_share=False)
    assert rep.true_share is None and rep.true_share_by is None
    assert rep.summary_dict()["estimated_true_share"] is None
    assert rep.true_share_lines("en") == []


def test_falls_back_to_the_deconvolution_when_the_item_model_fails(monkeypatch):
    from mentorlib.errors import InputError
    from mentorlib.progress import true_share_report

    def fail(*args, **kwargs):
        raise InputError("no categorical items")

    monkeypatch.setattr(true_share_report, "estimated_true_share", fail)
    processed, truth, _ = true_share_study()
    rep = progress_report(processed, processed.years[0], n_boot=0)
    ts = rep.true_share
    assert ts is not None and ts["method"] == "gmodel_deconvolution"
    assert any("deconvolved from the scale-score changes" in n for n in rep.notes)
    assert abs(ts["estimate"] - truth) < 0.15
    assert set(rep.true_share_by["by"]) <= {"grade", "focus_group"}


def _item_model_fails(monkeypatch):
    from mentorlib.errors import InputError
    from mentorlib.progress import true_share_report

    def fail(*args, **kwargs):
        raise InputError("every item needs answers in at least two categories")

    monkeypatch.setattr(true_share_report, "estimated_true_share", fail)
    monkeypatch.setattr(true_share_report, "_CACHE", {})  # results of the real model stay out
    return true_share_report


def test_no_deconvolution_of_a_handful_of_students(monkeypatch):
    # 24 mentees of a hand-made school came out 98.8% [98.0%, 99.4%] with 13 certified: too
    # few students for the g-model, and "at least 1 of 4" combined as if independent
    mod = _item_model_fails(monkeypatch)
    processed, _, _ = true_share_study()
    monkeypatch.setattr(mod, "MIN_STUDENTS", 390)  # the study's ~385 report students: too few
    rep = progress_report(processed, processed.years[0], n_boot=0)
    assert rep.true_share is None
    note = next(n for n in rep.notes if n.startswith("estimated true share: not estimated"))
    assert "fewer than 390" in note and "two categories" in note


def test_no_deconvolution_of_nominees_changes(monkeypatch, middle_study):
    # the mentees were nominated on the same pre-test: their changes regress to the mean
    _item_model_fails(monkeypatch)
    P = from_synth(middle_study)
    rep = progress_report(P, P.years[-1], n_boot=0)
    assert rep.true_share is None
    assert any("regression to the mean" in n for n in rep.notes)
    assert not any("deconvolved from the scale-score" in n for n in rep.notes)


def test_middle_school_nominees_share_from_the_selection_aware_model(middle_study):
    # nominated on the same test's observed pre-test: fitted on every student assessed, the
    # mentee flag shifting the post-test only; the share is the mentees'
    P = from_synth(middle_study)
    year = P.years[-1]
    rep = progress_report(P, year, n_boot=0)
    ts = rep.true_share
    assert ts is not None and SELECTION_NOTE in rep.notes
    roster = P["students"]
    mentees = set(
        roster.loc[
            (roster["year"] == year) & roster["mentee"].fillna(False).astype(bool), "student_id"
        ].astype(str)
    )
    assert ts["n_students"] <= len(mentees) and ts["n_students"] >= 0.9 * len(mentees)
    lat = middle_study.truth["latent"]
    sd = lat[lat["year"] == year].groupby("dimension", observed=True)["theta_pre"].std()
    mine = lat[(lat["year"] == year) & lat["student_id"].astype(str).isin(mentees)]
    above = mine["delta"] > rep.rules.true_delta * mine["dimension"].map(sd).to_numpy()
    truth = float((above.groupby(mine["student_id"]).sum() >= rep.rules.k_dimensions).mean())
    assert ts["ci_low"] <= truth <= ts["ci_high"]
    assert rep.comparison is not None or any("comparison" in n for n in rep.notes)


# ---------------------------------------------------------------- notes: no small counts


def test_a_handful_of_mentees_is_not_counted_in_the_note(middle_study):
    # a middle school whose last year has 3 mentees: the share is theirs, so not estimated,
    # and the note (published in progress --json) says "fewer than min_cell", not 3
    tables = middle_study.canonical_tables()
    st = tables["students"]
    year = max(st["year"])
    mentees = st.index[(st["year"] == year) & st["mentee"].fillna(False).astype(bool)]
    st = st.copy()
    st.loc[mentees[3:], "mentee"] = False
    tables["students"] = st
    P = from_synth(middle_study, tables, rules={"min_cell": 5})
    rep = progress_report(P, year, n_boot=0, comparison=False)
    assert rep.true_share is None
    note = next(n for n in rep.notes if n.startswith("estimated true share: not estimated"))
    assert note == (
        "estimated true share: not estimated (fewer than 5 students of the report with item "
        "answers; it needs 5)"
    )


def test_too_few_students_for_the_item_model_are_not_counted_in_the_note(monkeypatch):
    # the roster's count of students with item answers, printed, would give back the students
    # of the published count without any (a small number): the note gives the threshold only
    monkeypatch.setattr(true_share_report, "MIN_STUDENTS", 1000)
    monkeypatch.setattr(true_share_report, "_CACHE", {})
    processed, _, _ = true_share_study()
    rep = progress_report(processed, processed.years[0], n_boot=0, comparison=False)
    assert rep.true_share is None
    note = next(n for n in rep.notes if n.startswith("estimated true share: not estimated"))
    assert note == (
        "estimated true share: not estimated (fewer than 1000 students with item answers; it "
        "needs 1000)"
    )


def test_no_deconvolution_note_prints_no_count():
    # 3 students with scale-score changes (fewer than min_cell): the reason gives no count
    class Year:
        def changes(self, name):
            return pd.DataFrame({"student_id": ["a", "b", "c"], "change": [0.1, 0.2, 0.3]})

    why = true_share_report._no_deconvolution(Year(), pd.Index(["a", "b", "c"]), None)
    assert why == f"fewer than {true_share_report.MIN_STUDENTS} students have scale-score changes"
