"""Case conferences (个案分析, issue 15 item 5): counts by grade and month, the coverage of the
students who needed one (hand-built activity tables, with and without student IDs), its
disclosure control, the report blocks; and the middle school's figures without a target line."""

from __future__ import annotations

import dataclasses

import matplotlib
import numpy as np
import pandas as pd
import pytest

from mentorlib import compliance as C
from mentorlib.data import Processed, from_synth
from mentorlib.labels import Lang
from mentorlib.privacy import Document
from mentorlib.progress import plot_rate_by_group, plot_rate_by_year, study_changes
from mentorlib.report.analyses import _mask_compliance
from mentorlib.report.disclosure import register_compliance
from mentorlib.report.document import Para, Table
from mentorlib.report.levels import figure_target
from mentorlib.report.sections_cases import case_conference_blocks
from mentorlib.rules import rulebook
from mentorlib.synth import SynthParams, generate

from _compliance_fixtures import acts, day, months_of

matplotlib.use("Agg")

Y = 2023


def _middle(case_rows, *, focus=True) -> Processed:
    """Six grade-7 mentees and two grade-8 mentees, one non-mentee; class teacher T2 leads
    grade 7's conferences, the head of year H (no grade) one of grade 8's.

    Flags: m1 transfer, m2 left-behind, m3 single-parent, m4 reconstituted (grade 7), g1
    left-behind (grade 8); m5, m6, g2 and the non-mentee n1 (left-behind) are not needing one
    (no assessment: the decline cannot be measured, only the flags count).
    """
    sids = ["m1", "m2", "m3", "m4", "m5", "m6", "g1", "g2", "n1"]
    students = pd.DataFrame(
        {
            "student_id": sids,
            "year": Y,
            "name": list("甲乙丙丁戊己庚辛壬"),
            "grade": [7] * 6 + [8, 8, 7],
            "mentee": [True] * 8 + [False],
        }
    )
    if focus:
        students["transfer"] = [True] + [False] * 8
        students["left_behind"] = [False, True, False, False, False, False, True, False, True]
        students["family"] = ["two_parent", "two_parent", "single_parent", "reconstituted"] + [
            "two_parent"
        ] * 5
    staff = pd.DataFrame(
        {
            "staff_id": ["T1", "T2", "T3", "T4", "H"],
            "year": Y,
            "name": ["一", "二", "三", "四", "五"],
            "role": [
                "subject_teacher",
                "class_teacher",
                "subject_teacher",
                "subject_teacher",
                "admin",
            ],
            "grade": ["7", "7", "7", "8", None],
            "training_hours": 0.0,
            "certified": False,
        }
    )
    mentors = ["T1", "T1", "T2", "T2", "T3", "T3", "T4", "T4"]
    assignments = pd.DataFrame(
        {
            "student_id": sids[:8],
            "year": Y,
            "term": 1,
            "mentor_id": mentors,
            "start_date": pd.Timestamp(f"{Y}-09-01"),
            "reason": None,
            "regroup": False,
        }
    )
    rows = [["T1", "m1", day(m), "talk"] for m, _ in months_of(Y)] + case_rows
    tables = {
        "students": students,
        "staff": staff,
        "assignments": assignments,
        "activities": acts(rows),
    }
    return Processed(name="cases", level="middle", years=(Y,), tables=tables)


#: Grade 7 (T2): October naming m1 and m5, again m2 in October, November naming nobody;
#: grade 8 (H, no grade: the student's grade): March naming g1.
NAMED = [
    ["T2", "m1", "2023-10-12", "case_conference"],
    ["T2", "m5", "2023-10-12", "case_conference"],
    ["T2", "m2", "2023-10-26", "case_conference"],
    ["T2", None, "2023-11-09", "case_conference"],
    ["H", "g1", "2024-03-14", "case_conference"],
]
UNNAMED = [[m, None, d, k] for m, _s, d, k in NAMED]


def _row(rep, code="case_conference"):
    return rep.indicators.set_index("indicator").loc[code]


def test_counts_by_grade_and_month():
    rep = C.compliance_report(_middle(NAMED), Y, min_cell=1)
    c = rep.case_conferences
    assert list(c.columns) == C.CASE_COUNT_COLUMNS
    got = {(int(g), m): int(n) for g, m, n in c.itertuples(index=False)}
    # grade 8's conference is led by staff with no grade: the named student's grade; T2's
    # rows of 12 October (m1, m5) are one conference that discussed two students
    assert got == {(7, "2023-10"): 2, (7, "2023-11"): 1, (8, "2024-03"): 1}
    # the counts do not depend on whether the rows name students
    c2 = C.compliance_report(_middle(UNNAMED), Y, min_cell=1).case_conferences
    assert c2.loc[c2["grade"] == 7, "n_conferences"].sum() == 3
    assert c2["grade"].isna().sum() == 1  # no leader grade and no student: grade unknown
    assert c2["n_conferences"].sum() == 4
    pd.testing.assert_frame_equal(C.case_conference_table(_middle(NAMED), Y), c)


def test_coverage_when_the_records_name_students():
    rep = C.compliance_report(_middle(NAMED), Y, min_cell=1)
    r = _row(rep)
    # needing: m1-m4 and g1 (the flagged mentees; n1 is flagged but not a mentee);
    # covered: m1, m2, g1 (m5 was discussed but did not need it)
    assert r["n"] == 5
    assert r["value"] == pytest.approx(3 / 5)
    assert np.isnan(r["target"]) and pd.isna(r["passed"])
    assert r["target_en"] == "held regularly by the grade group"
    assert "4 case conferences held" in r["note"]
    assert "decline not measured" in r["note"]  # no assessment in this study
    g = rep.by_grade.loc[rep.by_grade["indicator"] == "case_conference"].set_index("grade")
    assert g.loc[7, "value"] == pytest.approx(2 / 4) and g.loc[7, "n_students"] == 4
    assert g.loc[8, "value"] == pytest.approx(1.0) and g.loc[8, "n_students"] == 1
    assert "case_conference" not in set(rep.by_month["indicator"])
    assert "case_conferences" in rep.to_json_dict()


def test_coverage_not_available_without_student_ids():
    rep = C.compliance_report(_middle(UNNAMED), Y, min_cell=1)
    r = _row(rep)
    assert np.isnan(r["value"]) and pd.isna(r["passed"])
    assert r["note"].count("not available: the records name no student") == 1
    assert r["n"] == 5  # those needing one are still known
    assert "case_conference" not in set(rep.by_grade["indicator"])
    blocks = case_conference_blocks(rep, rulebook("middle"), Lang("en"), 1)
    text = " ".join(b.text for b in blocks if isinstance(b, Para))
    assert "not available, the records name no student" in text
    assert "4 case conferences were recorded" in text
    table = next(b for b in blocks if isinstance(b, Table)).data
    assert table.iloc[-1, -1] == "4"  # the total of the grade x month table


def test_no_records_is_not_measured():
    """No case-conference record in the year: the coverage is not measured (not 0%)."""
    rep = C.compliance_report(_middle([]), Y, min_cell=1)
    r = _row(rep)
    assert np.isnan(r["value"]) and r["n"] == 0 and pd.isna(r["passed"])
    assert r["unmeasured"] == "no_activity_kind"  # other activities recorded, none of this kind
    assert "not measured" in r["note"]
    assert rep.case_conferences.empty
    blocks = case_conference_blocks(rep, rulebook("middle"), Lang("zh"), 1)
    text = [b.text for b in blocks if isinstance(b, Para)]
    assert any("没有个案分析记录" in x for x in text)
    assert any("无记录，未评估" in x for x in text) and not any("0人" in x for x in text)


def test_nobody_needing_one():
    rep = C.compliance_report(_middle(NAMED, focus=False), Y, min_cell=1)
    r = _row(rep)
    assert r["n"] == 0 and np.isnan(r["value"])


def test_only_where_the_rulebook_asks():
    assert "case_conference" in C.required_indicators(rulebook("middle"))
    assert "case_conference" not in C.required_indicators(rulebook("primary"))
    assert "case_conference" in C.required_indicators(
        rulebook("primary", {"case_conferences": True})
    )
    rep = C.compliance_report(
        _middle(NAMED), Y, rules=rulebook("middle").with_changes(case_conferences=False)
    )
    assert "case_conference" not in set(rep.indicators["indicator"])
    assert case_conference_blocks(rep, rep_rules := rulebook("primary"), Lang("zh"), 5) == []
    assert not rep_rules.case_conferences


def test_coverage_cells_below_min_cell_are_suppressed():
    rep = C.compliance_report(_middle(NAMED), Y, min_cell=2)
    g = rep.by_grade.loc[rep.by_grade["indicator"] == "case_conference"].set_index("grade")
    assert not g.loc[7, "suppressed"] and g.loc[7, "value"] == pytest.approx(0.5)
    assert g.loc[8, "suppressed"] and pd.isna(g.loc[8, "value"]) and pd.isna(g.loc[8, "n"])
    # the school-wide coverage is a share of students: registered and protected like the
    # other student indicators: 5 students needing one < min_cell 10 hides it; at 5 the 2 not
    # covered (the complement) hide it; at 2 every cell is large enough
    for mc, hidden in ((10, True), (5, True), (2, False)):
        rep = C.compliance_report(_middle(NAMED), Y, min_cell=mc)
        doc = Document(mc)
        register_compliance(doc, rep.indicators)
        assert "comp.case_conference.n" in doc.cells
        doc.protect()
        keys = [
            f"comp.{i}" if i in C.STUDENT_INDICATORS else None for i in rep.indicators["indicator"]
        ]
        masked = _mask_compliance(doc, rep.indicators, keys).set_index("indicator")
        assert pd.isna(masked.loc["case_conference", "value"]) is hidden
        blocks = case_conference_blocks(
            dataclasses.replace(rep, indicators=masked.reset_index()),
            rulebook("middle"),
            Lang("en"),
            mc,
        )
        text = " ".join(b.text for b in blocks if isinstance(b, Para))
        assert ("60.0%" in text) is not hidden


@pytest.fixture(scope="module")
def synth_study():
    return generate(SynthParams(level="middle", n_students=300, n_years=1, seed=4))


@pytest.fixture(scope="module")
def synth_middle(synth_study):
    return from_synth(synth_study)


def _needing_recount(P, y) -> tuple[set, set, pd.Series]:
    """Mentees with a reliable decline in some dimension or a focus flag, recounted from the
    per-dimension change table; also the mentees who declined, and every mentee's grade."""
    s = P["students"]
    s = s.loc[(s["year"] == y) & s["mentee"].astype(bool)]
    ch = study_changes(P, y)
    det = set(ch.loc[ch["deteriorated"].fillna(False).astype(bool), "student_id"].astype(str))
    flag = s["transfer"].astype(bool) | s["left_behind"].astype(bool)
    flag |= s["family"].astype(str).isin(["single_parent", "reconstituted"])
    ids = s["student_id"].astype(str)
    grade = pd.Series(s["grade"].astype(int).to_numpy(), index=ids.to_numpy())
    return set(ids[flag]) | (set(ids) & det), set(ids) & det, grade


def test_coverage_on_a_synthetic_school_matches_the_generator_truth(synth_study, synth_middle):
    """The generator's grade groups name the mentees they discuss, one row each; the coverage
    is the share of the students needing one (recounted) whom the truth says were discussed,
    school-wide and by grade."""
    P, y = synth_middle, synth_middle.years[0]
    rep = C.compliance_report(P, y, min_cell=1)
    need, declined, grade = _needing_recount(P, y)
    tr = synth_study.truth["case_conferences"]
    discussed = set(tr.loc[tr["year"] == y, "student_id"].astype(str))
    assert discussed <= set(grade.index)  # the grade groups discuss mentees only
    r = _row(rep)
    assert r["n"] == len(need) > 0
    assert len(declined) > 0  # some mentees declined
    want = len(need & discussed) / len(need)
    assert 0 < want < 1  # some were discussed, some missed
    assert r["value"] == pytest.approx(want)
    assert "not available" not in r["note"]
    g = rep.by_grade.loc[rep.by_grade["indicator"] == "case_conference"].set_index("grade")
    for gr, ids in pd.Series(sorted(need)).groupby(grade.reindex(sorted(need)).to_numpy()):
        assert g.loc[gr, "value"] == pytest.approx(len(set(ids) & discussed) / len(ids))
    # one record per student discussed: the counts by grade and month are the truth's rows
    c = rep.case_conferences
    # one conference per grade group and day, however many mentees it discussed
    assert int(c["n_conferences"].sum()) == len(
        tr.loc[tr["year"] == y, ["grade", "date"]].drop_duplicates()
    )
    assert set(c["grade"].dropna()) <= set(rulebook("middle").grades)


# --------------------------------------------------------------------------- figures


def _has_target(fig) -> bool:
    ax = fig.axes[0]
    lines = [ln for ln in ax.lines if ln.get_linestyle() == "--"]
    texts = [t.get_text() for t in ax.texts] + [
        t.get_text() for leg in [ax.get_legend()] if leg for t in leg.get_texts()
    ]
    return bool(lines) or any("目标" in x or "target" in x for x in texts)


@pytest.mark.parametrize("level", ["primary", "middle"])
def test_target_line_only_where_the_plan_sets_one(level):
    rules = rulebook(level)
    tgt = figure_target(rules, rules.target_share)
    trend = pd.DataFrame(
        {
            "year": [2023, 2024],
            "proportion": [0.6, 0.7],
            "ci_low": [0.5, 0.6],
            "ci_high": [0.7, 0.8],
        }
    )
    groups = pd.DataFrame(
        {
            "by": "grade",
            "group": ["7", "8"],
            "proportion": [0.6, 0.7],
            "ci_low": [0.5, 0.6],
            "ci_high": [0.7, 0.8],
            "suppressed": False,
        }
    )
    for lang in ("zh", "en"):
        figs = (
            plot_rate_by_year(trend, target=tgt, lang=lang),
            plot_rate_by_group(groups, target=tgt, lang=lang, min_cell=5),
        )
        for fig in figs:
            assert _has_target(fig) is (level == "primary")
            if level == "primary":
                ys = [ln.get_ydata()[0] for ln in fig.axes[0].lines if ln.get_linestyle() == "--"]
                assert ys == [pytest.approx(rules.target_share)]
            matplotlib.pyplot.close(fig)
    assert rulebook("middle", {"show_target": True}).show_target
    assert figure_target(rulebook("middle", {"show_target": True}), 0.85) == 0.85
