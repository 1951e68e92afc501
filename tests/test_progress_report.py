"""The year's report (mentorlib.progress.report): tables, counts, text, the rulebook."""

from __future__ import annotations

import json

import pytest
from scipy import stats

from mentorlib import progress, results
from mentorlib.data import Processed, from_synth
from mentorlib.errors import InputError
from mentorlib.rules import rulebook

from _progress_fixtures import primary_report


@pytest.fixture(scope="module")
def report(primary_study):
    return primary_report(primary_study)


def test_report_tables(report):
    assert report.verdict["rule"].tolist() == list(progress.RULES)
    s = report.sensitivity
    assert len(s) == 3 * 2 * 2  # definitions x k x rules
    assert s["headline"].sum() == 1
    h = s.loc[s["headline"]].iloc[0]
    assert (h["definition"], h["k"], h["rule"]) == ("rci_data", 1, "evaluable_only")
    v = report.headline_row()
    assert v["proportion"] == h["proportion"]
    assert v["n_students"] == v["n_evaluable"] + v["n_not_evaluable"]
    assert report.trend["year"].tolist() == [2023, 2024, 2025]
    assert set(report.breakdowns["by"]) == set(progress.BREAKDOWNS)
    fp = report.context["false_positive"]
    assert len(fp) == 3 * 2 and "observed" in fp
    assert "comparison_rates" not in report.context  # primary school: everyone is a mentee
    assert len(report.context["reliability"]) == 8


def test_report_counts_add_up(report, primary_study):
    roster = primary_study.tables["students"]
    n = int((roster["year"] == 2024).sum())
    v = report.headline_row()
    assert v["n_students"] == n == len(report.per_student)
    bd = report.breakdowns
    grade = bd.loc[bd["by"] == "grade"]
    assert grade["n_students"].sum() == n
    assert grade["n_progressing"].sum() == v["n_progressing"]
    gender = bd.loc[bd["by"] == "gender"]
    assert gender["n_evaluable"].sum() == v["n_evaluable"]
    # mentors have 5-8 students: small groups are blanked, never shown
    m = bd.loc[bd["by"] == "mentor"]
    assert m["suppressed"].any() or (m["n_students"] >= 5).all()
    assert m.loc[m["suppressed"], "proportion"].isna().all()
    assert (m.loc[~m["suppressed"], "n_evaluable"] >= 5).all()
    a = primary_study.tables["assignments"]
    term1 = a.loc[(a["year"] == 2024) & (a["term"] == 1), "mentor_id"].astype(str)
    assert set(m["group"]) == set(term1)
    focus = bd.loc[bd["by"] == "focus_group"].set_index("group")
    lb = int((roster.loc[roster["year"] == 2024, "left_behind"]).sum())
    assert focus.loc["left_behind", "n_students"] == lb


def test_report_json_and_headline(report):
    d = report.to_json_dict()
    text = json.dumps(d, allow_nan=False)  # plain types only, no NaN
    assert "per_student" not in text
    s = report.summary_dict()
    assert isinstance(s["n_evaluable"], int) and isinstance(s["proportion"], float)
    assert s["verdict"] in progress.VERDICTS
    zh = report.headline("zh")
    assert f"{s['n_evaluable']:,}名学生" in zh and f"{s['proportion']:.1%}" in zh
    assert f"{s['ci_low']:.1%}–{s['ci_high']:.1%}" in zh
    assert "at least 1 development dimension" in report.headline("en")


def test_report_middle_school_comparison(middle_study):
    r = progress.progress_report(from_synth(middle_study), 2024, k=1)
    students = middle_study.tables["students"]
    mentees = int(((students["year"] == 2024) & students["mentee"]).sum())
    # the internal view (the public one blanks n_students when the few not evaluable are
    # fewer than min_cell: complementary suppression)
    assert r.headline_row(public=False)["n_students"] == mentees
    c = r.context["comparison_rates"].iloc[0]
    assert c["n1"] <= mentees and c["n2"] > c["n1"]
    assert c["ci_low"] < c["difference"] < c["ci_high"]
    assert len(r.context["comparison_means"]) == 4


def test_report_bad_input(primary_study):
    P = from_synth(primary_study)
    with pytest.raises(InputError, match="not in study"):
        progress.progress_report(P, 2030)
    items = P["assessment_items"]
    P.tables["assessment_items"] = items.loc[~((items["year"] == 2025) & (items["wave"] == "post"))]
    with pytest.raises(InputError, match="no post-wave"):
        progress.progress_report(P, 2025)
    with pytest.raises(InputError, match="definition"):
        progress.progress_report(P, 2024, definition="magic")


def test_report_follows_the_result_protocol(report):
    assert isinstance(report, results.Result)
    assert report.summary() == report.headline("zh") and "学年" in report.summary()
    assert "school year" in report.summary("en")
    with pytest.raises(InputError, match="lang"):
        report.summary("fr")
    pub, raw = report.tables(), report.tables(lang="en", public=False)
    assert {"verdict", "sensitivity", "breakdowns", "trend", "false_positive"} <= set(pub)
    assert "per_student" not in pub and "per_student" in raw
    assert (
        pub["verdict"]["verdict_label"].iloc[0]
        == progress.VERDICTS[pub["verdict"]["verdict"].iloc[0]][0]
    )
    assert raw["verdict"]["verdict_label"].iloc[0] == raw["verdict"]["verdict"].iloc[0]
    d = report.to_json_dict(public=False)
    assert "suppressed" not in d["breakdowns"][0]
    json.dumps(d, allow_nan=False)
    assert report.to_json_dict() == report.to_json_dict(public=True) != d


def test_report_follows_the_study_rulebook(primary_study, monkeypatch):
    # a study whose [rules] set the target, k, the RCI's z and min_cell: the verdict, the
    # flags, the suppression and the sentence all follow
    P = from_synth(primary_study)
    default = progress.progress_report(P, 2024, n_boot=0)
    own = rulebook(
        "primary", {"target_share": 0.9, "k_dimensions": 2, "rci_z": 2.5, "min_cell": 10}
    )
    monkeypatch.setattr(Processed, "rules", property(lambda self: own))
    r = progress.progress_report(P, 2024, n_boot=0)
    assert (r.target, r.k, r.min_cell, r.rules.rci_z) == (0.9, 2, 10, 2.5)
    v = r.internal["verdict"]
    assert (v["target"] == 0.9).all() and (v["k"] == 2).all()
    assert r.changes["improved"].sum() < default.changes["improved"].sum()
    assert set(r.sensitivity["k"]) == {1, 2}
    fp = r.context["false_positive"]
    rci = fp.loc[fp["definition"] == "rci_data"]
    assert rci["p_dimension"].tolist() == pytest.approx([stats.norm.sf(2.5)] * len(rci))
    # mentors have 5-8 students: with min_cell 10 every mentor row is blanked
    m = r.breakdowns.loc[r.breakdowns["by"] == "mentor"]
    assert m["suppressed"].all() and m["proportion"].isna().all()
    shown = r.breakdowns.loc[~r.breakdowns["suppressed"]]
    assert (shown["n_evaluable"] >= 10).all()
    # z = 2.5 and k = 2: only a handful progress, fewer than min_cell, so the rate is blanked
    assert 0 < v["n_progressing"].iloc[0] < 10 and r.verdict["suppressed"].all()
    assert r.summary() == "2024学年的显著进步比例涉及少于10名学生，按小单元格规则不报告。"
    # an explicit argument still overrides the rulebook; the rest still comes from it
    r1 = progress.progress_report(P, 2024, n_boot=0, k=1)
    assert (r1.k, r1.target, r1.min_cell) == (1, 0.9, 10)
    assert "对照90%的目标" in r1.summary() and "至少在一个发展维度" in r1.summary()


@pytest.mark.parametrize(("off", "said"), [(2, "fewer than 5"), (7, "7")])
def test_assessed_students_not_on_the_roster_are_counted_only_from_min_cell(
    primary_study, off, said
):
    # `off` assessed students taken off the 2024 roster: a published note (progress --json)
    tables = primary_study.canonical_tables()
    st = tables["students"]
    gone = st.loc[st["year"] == 2024, "student_id"].iloc[:off]
    tables["students"] = st.loc[~((st["year"] == 2024) & st["student_id"].isin(gone))]
    P = from_synth(primary_study, tables, rules={"min_cell": 5})
    r = progress.progress_report(P, 2024, n_boot=0, true_share=False)
    note = next(n for n in r.notes if "not on the 2024 roster" in n)
    assert note == f"{said} assessed student(s) are not on the 2024 roster"
    assert note in r.to_json_dict()["summary"]["notes"]
