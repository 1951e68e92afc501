"""The pilot review: goals, cohorts, stability, the recommendation, limitations; another school.

Inputs drafted once per test process: see ``_report_fixtures``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from mentorlib import report

from _report_fixtures import (
    GLYPH,
)


def test_review_has_goals_cohorts_stability_and_a_recommendation(drafted):
    rep = drafted["review", "zh", True]
    goals = rep.section("goals")
    heads = [b.text for b in goals.blocks if isinstance(b, report.Heading)]
    for word in ("全覆盖", "个性化", "协同化", "长效化"):
        assert any(word in h for h in heads)
    # every goal ends in a place for the researcher's judgement
    assert sum(isinstance(b, report.Todo) for b in goals.blocks) == 4
    cohort = next(b for b in rep.section("cohort").blocks if isinstance(b, report.Table))
    assert list(cohort.data.columns[-3:]) == ["2023学年", "2024学年", "2025学年"]
    assert any(isinstance(b, report.Table) for b in rep.section("stability").blocks)
    rec = rep.section("grouping")
    assert any(isinstance(b, report.Figure) for b in rec.blocks)
    text = rep.text()
    assert "区间" in text and "合成数据" in text  # uncertainty, and the synthetic caveat
    lim = drafted["review", "en", True].section("limitations")
    lim_text = " ".join(b.text for b in lim.blocks if isinstance(b, report.Para))
    for phrase in (
        "Accuracy of the rule",  # the school's certified share beside its estimated true share
        "certified",
        "Regression to the mean",
        "No randomisation",
        "synthetic",
    ):
        assert phrase in lim_text


# ------------------------------------------------------------------ another school


@pytest.mark.slow
def test_middle_school_reports(middle_study, tmp_path):
    from mentorlib.data import from_synth

    P = from_synth(middle_study)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.filterwarnings("error", message=r"Glyph .* missing")
        a = report.annual_summary(P, P.years[-1], lang="zh")
        r = report.pilot_review(P, lang="en", public=False, draws=2)
    assert not [w for w in caught if GLYPH.search(str(w.message))]
    assert a.section_keys == list(report.ANNUAL_SECTIONS)
    assert r.section_keys == list(report.REVIEW_SECTIONS)
    assert "受导学生" in a.text() and "合成数据" in a.text()
    keys = set(a.kpis["key"])
    assert {"parent_call", "home_visit", "student_report"} <= keys
    paths = a.write(tmp_path, formats=("docx", "html"))
    assert all(p.stat().st_size > 10_000 for p in paths)
    ids = set(P["students"]["student_id"].astype(str))
    text = a.text() + r.text()
    assert not [i for i in ids if i in text]
    assert np.isfinite(a.kpis.set_index("key").at["progress", "value"])
