"""compliance.measure: indicators counted against the truth, an independent recount and tiny
hand-made schools."""

from __future__ import annotations

from collections import Counter

import matplotlib
import numpy as np
import pandas as pd
import pytest

from mentorlib import compliance as C
from mentorlib.data import Processed, from_synth
from mentorlib.errors import InputError

from _compliance_fixtures import (
    CONTRACT,
    ind,
    make_tiny_middle,
    make_tiny_primary,
    months_of,
)

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def three_years(primary_study):
    return from_synth(primary_study)


@pytest.fixture
def tiny_primary() -> Processed:
    return make_tiny_primary()


@pytest.fixture
def tiny_middle() -> Processed:
    return make_tiny_middle()


# --------------------------------------------------------------------------- the truth


def _true_rate_per_student_month(P, st, year):
    """The generator's talk probability per student-month: the month's mentor's compliance,
    +0.08 for focus-group students (left-behind or not two-parent), capped at 0.99
    (``mentorlib.synth.model._Generator.activities``)."""
    mm = C.mentor_by_month(P, year)
    s = P["students"]
    s = s.loc[s["year"] == year]
    focus = s["left_behind"].astype(bool).to_numpy() | (s["family"].astype(str) != "two_parent")
    f = pd.DataFrame({"student_id": s["student_id"].astype(str).to_numpy(), "focus": focus})
    mm = mm.merge(f, on="student_id", how="left")
    comp = st.truth["mentors"].set_index("staff_id")["compliance"]
    return mm.assign(p=np.minimum(mm["mentor_id"].map(comp) + 0.08 * mm["focus"], 0.99))


def test_mentor_talk_share_estimates_true_compliance(truth_study, truth_report):
    P = from_synth(truth_study)
    bm = truth_report.by_mentor
    bm = bm.loc[bm["indicator"] == "talk"]
    g = bm.assign(k=bm["value"] * bm["n"]).groupby("mentor_id")[["k", "n"]].sum()
    est = g["k"] / g["n"]
    truth = truth_study.truth["mentors"].set_index("staff_id")["compliance"].reindex(est.index)
    assert len(est) > 150
    assert np.corrcoef(est, truth)[0, 1] > 0.85
    exp = _true_rate_per_student_month(P, truth_study, 2023).groupby("mentor_id")["p"].mean()
    exp = exp.reindex(est.index)
    se = np.sqrt(exp * (1 - exp) / g["n"])
    # binomial sampling only: E|est - p| = sqrt(2/pi) SE ~ 0.8 SE, E z^2 = 1
    assert (est - exp).abs().mean() < 1.1 * se.mean()
    z2 = float((((est - exp) / se) ** 2).mean())
    assert 0.7 < z2 < 1.4


def test_school_talk_share_close_to_mean_true_rate(truth_study, truth_report):
    P = from_synth(truth_study)
    sm = _true_rate_per_student_month(P, truth_study, 2023)
    p = sm["p"].mean()
    t = ind(truth_report).loc["talk"]
    assert t["n"] == len(sm)
    assert abs(t["value"] - p) < 3 * np.sqrt(p * (1 - p) / len(sm))
    # the focus-group bonus is real: ignoring it would put the truth visibly lower
    comp = truth_study.truth["mentors"].set_index("staff_id")["compliance"]
    assert sm["mentor_id"].map(comp).mean() < p


def test_other_truth_rates(truth_study, truth_report):
    """Three-party talks follow ``three_party_rate``; subject exchanges happen with p=0.85."""
    bm = truth_report.by_mentor
    tp = bm.loc[bm["indicator"] == "three_party"]
    g = tp.assign(k=tp["value"] * tp["n"]).groupby("mentor_id")[["k", "n"]].sum()
    rate = truth_study.truth["mentors"].set_index("staff_id")["three_party_rate"]
    assert np.corrcoef(g["k"] / g["n"], rate.reindex(g.index))[0, 1] > 0.85
    se = ind(truth_report).loc["subject_exchange"]
    assert abs(se["value"] - 0.85) < 3 * np.sqrt(0.85 * 0.15 / se["n"])


# --------------------------------------------------------------------------- independent recount


def _recount_monthly(P, year, kind, rule, grade=None):
    """Student-months meeting a per-student monthly rule, counted with dictionaries."""
    a = P["assignments"]
    a = a.loc[a["year"] == year]
    t1 = {
        str(s): str(m)
        for s, m, t in zip(a["student_id"], a["mentor_id"], a["term"], strict=True)
        if t == 1
    }
    t2 = {
        str(s): str(m)
        for s, m, t in zip(a["student_id"], a["mentor_id"], a["term"], strict=True)
        if t == 2
    }
    if grade is not None:
        s = P["students"]
        s = s.loc[(s["year"] == year) & (s["grade"] == grade)]
        keep = set(s["student_id"].astype(str))
        t1 = {k: v for k, v in t1.items() if k in keep}
    acts = P["activities"]
    acts = acts.loc[acts["activity"].astype(str) == kind]
    count = Counter(
        (str(s), str(m), f"{d.year}-{d.month:02d}")
        for s, m, d in zip(acts["student_id"], acts["mentor_id"], acts["date"], strict=True)
    )
    met = total = 0
    for sid, m1 in t1.items():
        for month, term in months_of(year):
            mentor = t2.get(sid, m1) if term == 2 else m1
            total += 1
            met += count[(sid, mentor, month)] >= rule
    return met / total, total


@pytest.mark.parametrize("year", [2024])
def test_indicators_equal_an_independent_recount(three_years, year):
    P = three_years
    rep = C.compliance_report(P, year)
    t = ind(rep)
    for kind in ("talk", "three_party"):
        value, total = _recount_monthly(P, year, kind, 1)
        assert t.loc[kind, "value"] == pytest.approx(value, abs=1e-12)
        assert t.loc[kind, "n"] == total
    # grade 3 only, against by_grade
    value, total = _recount_monthly(P, year, "talk", 1, grade=3)
    g = rep.by_grade.set_index(["grade", "indicator"]).loc[(3, "talk")]
    assert g["value"] == pytest.approx(value, abs=1e-12) and g["n"] == total

    # mood: every roster student has a row each month in the generator -> a plain ratio
    mood = P["mood"]
    mood = mood.loc[mood["year"] == year]
    assert t.loc["mood_participation", "value"] == pytest.approx(
        mood["days_recorded"].sum() / mood["school_days"].sum(), abs=1e-12
    )

    # group counselling per mentor and term, from the activities' own term column
    a = P["assignments"]
    a = a.loc[a["year"] == year]
    acts = P["activities"]
    gc = acts.loc[(acts["activity"].astype(str) == "group_counselling") & (acts["year"] == year)]
    sessions = Counter(zip(gc["mentor_id"].astype(str), gc["term"].astype(int), strict=True))
    t1 = a.loc[a["term"] == 1].set_index(a.loc[a["term"] == 1, "student_id"].astype(str))
    t1m = t1["mentor_id"].astype(str)
    t2m = t1m.copy()
    for s, m in zip(
        a.loc[a["term"] == 2, "student_id"], a.loc[a["term"] == 2, "mentor_id"], strict=True
    ):
        t2m[str(s)] = str(m)
    mentor_terms = {(m, 1) for m in t1m} | {(m, 2) for m in t2m}
    ok = sum(sessions[mt] >= 2 for mt in mentor_terms)
    assert t.loc["group_counselling", "value"] == pytest.approx(ok / len(mentor_terms))
    assert t.loc["group_counselling", "n"] == len(mentor_terms)

    # training hours and certificates of the year's mentors
    mentors = set(t1m) | set(t2m)
    st = P["staff"]
    st = st.loc[(st["year"] == year) & st["staff_id"].astype(str).isin(mentors)]
    assert t.loc["training_hours", "value"] == pytest.approx((st["training_hours"] >= 40).mean())
    assert t.loc["certified", "value"] == pytest.approx(st["certified"].astype(bool).mean())

    # regrouping: the start-of-year rows flagged regroup, and the term-2 changes
    moved1 = int(a.loc[a["term"] == 1, "regroup"].astype(bool).sum())
    moved2 = int((a["term"] == 2).sum())
    share = max(moved1, moved2) / len(t1m)
    assert moved1 > 0 and moved2 > 0
    assert t.loc["regroup_share", "value"] == pytest.approx(share)
    assert bool(t.loc["regroup_share", "passed"]) is (share <= 0.15)


def test_by_month_totals_add_up(three_years):
    rep = C.compliance_report(three_years, 2023)
    talk = rep.by_month.loc[rep.by_month["indicator"] == "talk"]
    assert talk["month"].tolist() == [m for m, _ in months_of(2023)]
    assert talk["n"].sum() == ind(rep).loc["talk", "n"]
    w = (talk["value"] * talk["n"].astype(float)).sum() / talk["n"].sum()
    assert w == pytest.approx(ind(rep).loc["talk", "value"])


# --------------------------------------------------------------------------- tiny hand-made studies


def test_tiny_primary_indicators(tiny_primary):
    rep = C.compliance_report(tiny_primary, 2023)
    assert rep.indicators["indicator"].tolist() == [
        "staff_coverage",
        "student_coverage",
        "group_size",
        "training_hours",
        "certified",
        "talk",
        "three_party",
        "subject_exchange",
        "group_counselling",
        "mood_participation",
        "regroup_share",
    ]
    t = ind(rep)
    expect = {
        "staff_coverage": (2 / 3, 3),
        "student_coverage": (10 / 11, 11),
        "group_size": (1 / 2, 2),  # A has 4 students in term 2
        "training_hours": (1 / 2, 2),
        "certified": (1 / 2, 2),
        # A: 5 students x 5 months + 4 x 4 (s05's term-2 talks by A are not B's); B: none
        "talk": (41 / 90, 90),
        "three_party": (np.nan, 0),  # no three-party record at all: not measured, not 0%
        "subject_exchange": (9 / 18, 18),
        "group_counselling": (1 / 4, 4),  # A term 1 only
        "mood_participation": (1 / 11, 99),  # s01 every day; no record = 0 days
        "regroup_share": (1 / 10, 10),
    }
    for code, (value, n) in expect.items():
        assert t.loc[code, "value"] == pytest.approx(value, nan_ok=True), code
        assert t.loc[code, "n"] == n, code
    assert t.loc["three_party", "unmeasured"] == "no_activity_kind"
    assert pd.isna(t.loc["three_party", "passed"])
    assert t["unmeasured"].notna().sum() == 1
    assert t.loc["regroup_share", "passed"]
    assert not t.loc["talk", "passed"] and not t.loc["staff_coverage", "passed"]
    assert t["passed"].dtype == "boolean"
    assert list(rep.indicators.columns) == CONTRACT["indicators"]


def test_tiny_regroup_counts_under_the_new_mentor(tiny_primary):
    mm = C.mentor_by_month(tiny_primary, 2023).set_index(["student_id", "month"])["mentor_id"]
    assert mm[("s05", "2023-12")] == "A" and mm[("s05", "2024-03")] == "B"
    rep = C.compliance_report(tiny_primary, 2023)
    bm = rep.by_mentor.set_index(["mentor_id", "month", "indicator"])
    assert bm.loc[("A", "2023-09", "talk"), "n"] == 5
    assert bm.loc[("A", "2024-03", "talk"), ["value", "n"]].tolist() == [1.0, 4]
    assert bm.loc[("B", "2024-03", "talk"), ["value", "n"]].tolist() == [0.0, 6]
    assert bm.loc[("A", "2024-06", "talk"), "value"] == 1.0  # the unrecorded-mentor talk
    # the mentor with no activity: zero in every month, present in every month
    b = rep.by_mentor.loc[(rep.by_mentor["mentor_id"] == "B")]
    # (three-party: no record of the kind, not measured: no 0% cells)
    assert set(b["indicator"]) == {"talk", "subject_exchange", "mood_participation"}
    assert (b.loc[b["indicator"] != "mood_participation", "value"] == 0).all()
    assert b["month"].nunique() == 9
    assert list(rep.by_mentor.columns) == CONTRACT["by_mentor"]


def test_start_date_later_in_term_and_larger_regroup(tiny_primary):
    """A row starting in November is in force from November; two moves of ten fail the cap."""
    t = dict(tiny_primary.tables)
    a = t["assignments"].copy()
    a.loc[a["student_id"] == "s10", "start_date"] = pd.Timestamp("2023-11-06")
    extra = a.iloc[[-1]].assign(student_id="s04")
    t["assignments"] = pd.concat([a, extra], ignore_index=True)
    P = Processed(name="tiny2", level="primary", years=(2023,), tables=t)
    mm = C.mentor_by_month(P, 2023)
    assert mm.loc[mm["student_id"] == "s10", "month"].tolist()[0] == "2023-11"
    r = ind(C.compliance_report(P, 2023))
    assert r.loc["regroup_share", "value"] == pytest.approx(2 / 10)
    assert not r.loc["regroup_share", "passed"]
    assert r.loc["talk", "n"] == 88


def test_small_grades_are_suppressed(tiny_primary):
    rep = C.compliance_report(tiny_primary, 2023)
    g = rep.by_grade
    assert list(g.columns[:6]) == CONTRACT["by_grade"]
    g2 = g.loc[g["grade"] == 2]
    assert len(g2) and g2["suppressed"].all()
    assert g2["value"].isna().all() and g2["n"].isna().all() and g2["passed"].isna().all()
    g1 = g.loc[g["grade"] == 1].set_index("indicator")
    # 6 of grade 1's 7 students have a mentor: "85.7%" would say one (s11) has none, a cell
    # of one student: the share is blanked (its complement); shown at min_cell 1
    assert g1["suppressed"].tolist() == [i == "student_coverage" for i in g1.index]
    assert pd.isna(g1.loc["student_coverage", "value"])
    one = C.compliance_report(tiny_primary, 2023, min_cell=1).by_grade
    one = one.loc[one["grade"] == 1].set_index("indicator")
    assert one.loc["student_coverage", "value"] == pytest.approx(6 / 7)  # s11 has no mentor
    assert g1.loc["talk", "value"] == pytest.approx(41 / 54)  # grade 1: s01-s06
    # a lower threshold shows grade 2 (B's four students, no talk)
    low = C.compliance_report(tiny_primary, 2023, min_cell=4).by_grade
    low = low.loc[low["grade"] == 2].set_index("indicator")
    assert low.loc["talk", "value"] == 0 and low.loc["talk", "n"] == 36
    # months describe all ten mentored students: shown
    assert not rep.by_month["suppressed"].any()
    assert list(rep.by_month.columns[:6]) == CONTRACT["by_month"]


def test_tiny_middle_school(tiny_middle):
    rep = C.compliance_report(tiny_middle, 2023)
    assert rep.level == "middle"
    codes = rep.indicators["indicator"].tolist()
    assert codes == [
        "staff_coverage",
        "student_coverage",
        "group_size",
        "talk",
        "parent_call",
        "home_visit",
        "student_report",
        "case_conference",  # issue 15 item 5: the middle rulebook asks for case conferences
        "regroup_share",
    ]
    for absent in ("three_party", "training_hours", "certified", "mood_participation"):
        assert absent not in codes
    t = ind(rep)
    assert t.loc["staff_coverage", "value"] == pytest.approx(2 / 3)  # the principal is not counted
    assert np.isnan(t.loc["staff_coverage", "target"]) and pd.isna(
        t.loc["staff_coverage", "passed"]
    )
    assert "no target" in t.loc["staff_coverage", "note"]
    assert t.loc["student_coverage", "value"] == 1.0 and t.loc["student_coverage", "n"] == 3
    assert t.loc["group_size", "value"] == 1.0
    assert t.loc["talk", "value"] == pytest.approx(10 / 27)  # 2 a month: m1 always, m3 once
    assert t.loc["talk", "target_en"] == ">= 2 a month"
    assert t.loc["parent_call", "value"] == pytest.approx(9 / 27)
    assert t.loc["home_visit", "value"] == pytest.approx(1 / 3)
    assert np.isnan(t.loc["student_report", "value"])  # no student report recorded at all
    assert t.loc["student_report", "unmeasured"] == "no_activity_kind"
    assert t.loc["regroup_share", "value"] == 0.0
    # a grade of three mentees is a small cell
    assert rep.by_grade["suppressed"].all()
    assert "初中" in rep.summary() and "Parent phone calls" in rep.summary("en")


def test_middle_synthetic_rules(middle_study):
    rep = C.compliance_report(from_synth(middle_study), 2024)
    t = ind(rep)
    assert {"parent_call", "home_visit", "student_report"} <= set(t.index)
    assert "three_party" not in t.index and "mood_participation" not in t.index
    assert t.loc["group_size", "value"] == 1.0  # the generator respects 1-2 per mentor
    assert 0.3 < t.loc["talk", "value"] < 0.95


def test_trend_one_row_per_indicator_and_year(three_years):
    tr = C.compliance_trend(three_years)
    assert list(tr.columns[:5]) == ["indicator", "year", "value", "target", "passed"]
    codes = C.required_indicators(three_years.rules)
    assert len(tr) == len(codes) * 3
    assert tr["indicator"].drop_duplicates().tolist() == codes
    one = ind(C.compliance_report(three_years, 2025))
    row = tr.loc[(tr["indicator"] == "talk") & (tr["year"] == 2025)].iloc[0]
    assert row["value"] == one.loc["talk", "value"]
    two = C.compliance_trend(three_years, years=[2024])
    assert set(two["year"]) == {2024}


def test_bad_input(three_years):
    with pytest.raises(InputError, match="2030"):
        C.compliance_report(three_years, 2030)
    with pytest.raises(InputError, match="min_cell"):
        C.compliance_report(three_years, 2023, min_cell=0)


def test_rules_override_drops_and_changes_indicators(tiny_primary):
    r = tiny_primary.rules.with_changes(mood_chart=False, talks_per_month=2)
    rep = C.compliance_report(tiny_primary, 2023, rules=r)
    t = ind(rep)
    assert "mood_participation" not in t.index
    assert t.loc["talk", "value"] == 0.0 and t.loc["talk", "target_zh"] == "≥2次/月"


# --------------------------------------------------------------------------- no records


def _roster_only(empty_tables: bool) -> Processed:
    """A school with a student roster and nothing else: the cleaner writes each kind without
    a source as a table without columns (``empty_tables``), a hand-built study may lack them."""
    students = pd.DataFrame(
        {"student_id": ["s1", "s2", "s3"], "year": 2024, "grade": [1, 1, 2], "mentee": True}
    )
    tables = {"students": students}
    if empty_tables:
        tables |= {k: pd.DataFrame() for k in ("staff", "assignments", "activities", "mood")}
    return Processed(name="roster-only", level="primary", years=(2024,), tables=tables)


@pytest.mark.parametrize("empty_tables", [True, False])
def test_roster_only_school_says_what_cannot_be_measured(empty_tables):
    """A roster alone (no groups, staff, activities): no KeyError, every indicator not
    measured, with its reason; nothing is 0%."""
    P = _roster_only(empty_tables)
    assert C.mentor_by_month(P, 2024).empty
    rep = C.compliance_report(P, 2024)
    t = ind(rep)
    assert t["value"].isna().all() and t["passed"].isna().all() and (t["n"] == 0).all()
    assert t.loc["talk", "unmeasured"] == "no_groups"
    assert "no groups source" in t.loc["talk", "note"]
    assert "no activity records for 2024" in t.loc["talk", "note"]
    assert "no staff roster" in t.loc["training_hours", "note"]
    assert t.loc["mood_participation", "unmeasured"] == "no_mood_records"
    assert rep.by_month.empty and rep.by_grade.empty and rep.by_mentor.empty
    js = rep.to_json_dict()["indicators"]
    assert all(r["value"] is None and r["passed"] is None and r["unmeasured"] for r in js)
    assert "无记录，未评估" in rep.summary() and "0.0%" not in rep.summary()


def test_no_activity_records_is_not_zero_percent(tiny_primary):
    """Groups and staff, but no activity record dated in the year: the activity rules are
    "no data" (value null with a reason), not 0% not met; the others are still measured."""
    t = dict(tiny_primary.tables)
    a = t["activities"]
    t["activities"] = a.assign(date=a["date"] - pd.DateOffset(years=1), year=2022)
    P = Processed(name="tiny-no-acts", level="primary", years=(2023,), tables=t)
    rep = C.compliance_report(P, 2023)
    r = ind(rep)
    for code in ("talk", "three_party", "subject_exchange", "group_counselling"):
        assert np.isnan(r.loc[code, "value"]) and pd.isna(r.loc[code, "passed"]), code
        assert r.loc[code, "unmeasured"] == "no_activity_records"
        assert r.loc[code, "n"] == 0
        assert "no activity records for 2023" in r.loc[code, "note"]
    assert not set(rep.by_month["indicator"]) & {"talk", "three_party", "subject_exchange"}
    assert not (rep.by_grade["indicator"] == "talk").any()
    assert r.loc["student_coverage", "value"] == pytest.approx(10 / 11)  # still measured
    assert pd.isna(r.loc["student_coverage", "unmeasured"])
    js = {x["indicator"]: x for x in rep.to_json_dict()["indicators"]}
    assert js["talk"]["value"] is None and js["talk"]["passed"] is None
    assert js["talk"]["unmeasured"] == "no_activity_records"
    assert js["student_coverage"]["unmeasured"] is None
    trend = C.compliance_trend(P).set_index("indicator")
    assert trend.loc["talk", "unmeasured"] == "no_activity_records"


def test_a_published_note_prints_no_small_count_of_students(tiny_primary):
    # s11 has no mentor: one student, named by no number in the public note
    rep = C.compliance_report(tiny_primary, 2023)
    note = rep.indicators.set_index("indicator").loc["student_coverage", "note"]
    assert "fewer than 5 without a mentor" in note and "1 without" not in note
