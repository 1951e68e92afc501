"""The district summary speaks one language and tells "not computed" from "withheld".

Hand-made district outputs (no cluster): a zh summary has no English sentence (the notes on
small schools and on the school effects, the status column), and a value never computed (no
progress stage, no true-share estimate, a school not done, an indicator of the other level)
reads "未计算" / "n/a", explained in the footnote, while "—" stays the privacy mark."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from mentorlib.district.report import analyse_district, district_report
from mentorlib.district.verdicts import school_verdicts

from conftest import report_table

pytestmark = pytest.mark.xdist_group("district")

#: school -> (students, evaluable, improved, level, status)
SCHOOLS = {
    "a": (300, 120, 50, "primary", "ok"),
    "b": (250, 100, 45, "middle", "partial"),
    "c": (200, 20, 8, "primary", "ok"),  # 20 evaluable: fewer than min_cell 30
}
MIN_CELL = 30


def _rows(progress: bool) -> list[dict]:
    rows = []
    for sid, (n, ev, k, level, status) in SCHOOLS.items():
        row = {"school_id": sid, "school": f"School {sid.upper()}", "level": level, "n": n}
        row |= {"status": status, "year": 2025, "clean": "ok"}
        if status == "partial":
            row["reason"] = "compliance: 无记录"
        if progress:  # --no-true-share: no true share estimated
            row |= {"progress": "ok", "n_evaluable": ev, "certified_share": k / ev}
            row |= {"certified_ci_low": k / ev - 0.1, "certified_ci_high": k / ev + 0.1}
            row["verdict"] = "not met"
        rows.append(row)
    rows.append({"school_id": "d", "school": "d", "status": "failed", "reason": "study.toml: 无效"})
    return rows


def _outcomes(ids) -> list[pd.DataFrame]:
    parts = []
    for sid in ids:
        _, ev, k, _, _ = SCHOOLS[sid]
        y = np.r_[np.ones(k), np.zeros(ev - k)]
        mentors = [f"{sid}-m{i % 4}" for i in range(ev)]
        students = [f"{sid}-{i}" for i in range(ev)]
        parts.append(
            pd.DataFrame(
                {"school_id": sid, "year": 2025, "student_id": students}
                | {"mentor_id": mentors, "improved": y}
            )
        )
    return parts


def _indicator(name: str, value: float, n: int) -> dict:
    return {"indicator": name, "label_zh": name, "label_en": name, "value": value}


def _write(tmp_path, *, progress: bool = True) -> None:
    stages = ["clean", "progress", "compliance"] if progress else ["clean"]
    meta = {"name": "T", "stages": stages, "schools": [*SCHOOLS, "d"]}
    (tmp_path / "district.json").write_text(json.dumps(meta), encoding="utf-8")
    for sid, (n, *_) in SCHOOLS.items():
        (tmp_path / "schools" / sid).mkdir(parents=True)
        roster = pd.DataFrame({"student_id": [f"{sid}-{i}" for i in range(n)], "year": 2025})
        roster.to_parquet(tmp_path / "schools" / sid / "students.parquet")
    school_verdicts(_rows(progress)).to_csv(tmp_path / "district_schools.csv", index=False)
    if progress:  # a primary-only indicator at a, a middle-only one at b, a small one at b
        for sid, inds in {
            "a": [("training_hours", 0.9, 40)],
            "b": [("parent_call", 0.8, 60), ("home_visit", 0.5, 12)],
        }.items():
            rows = [
                {"indicator": i, "label_zh": i, "label_en": i, "value": v, "target": 1.0}
                | {"passed": False, "n": n}
                for i, v, n in inds
            ]
            (tmp_path / "results" / sid).mkdir(parents=True)
            f = tmp_path / "results" / sid / "compliance_2025.json"
            f.write_text(json.dumps({"indicators": rows}), encoding="utf-8")


#: Four English words in a row: an English sentence (school names and the quoted reasons of
#: the hand-made rows are not).
ENGLISH = re.compile(r"[A-Za-z]+,? [a-z]+ [a-z]+ [a-z]+")


def test_zh_summary_has_no_english_sentence(tmp_path):
    _write(tmp_path)
    a = analyse_district(tmp_path, min_cell=MIN_CELL, outcomes=_outcomes(["a", "b", "c"]))
    zh = district_report(a, lang="zh").text()
    assert not ENGLISH.findall(zh), ENGLISH.findall(zh)
    assert f"1 所学校的可评估学生少于 {MIN_CELL} 人" in zh
    status = report_table(district_report(a, lang="zh"), "schools")["状态"].tolist()
    assert status == ["完成", "部分完成：compliance: 无记录", "完成", "未完成：study.toml: 无效"]
    en = district_report(a, lang="en").text()
    assert f"1 school(s) with fewer than {MIN_CELL} evaluable students" in en
    assert report_table(district_report(a, lang="en"), "schools")["Status"].iloc[0] == "done"


def test_effects_not_estimated_said_in_the_summary_language(tmp_path):
    _write(tmp_path)
    missing = pd.DataFrame(columns=["school_id", "year", "student_id", "mentor_id", "improved"])
    missing.attrs |= {"school_id": "b", "reason": "no students on the roster in year 2025"}
    a = analyse_district(tmp_path, min_cell=MIN_CELL, outcomes=[*_outcomes(["a"]), missing])
    zh = district_report(a, lang="zh").text()
    assert "学校效应无法估计：学校效应模型至少需要两所有学生结果的学校（本次 1 所）" in zh
    assert "School B：没有可用的学生结果" in zh
    assert "needs at least two schools" not in zh and "no student outcome" not in zh
    en = district_report(a, lang="en").text()
    assert "needs at least two schools with student outcomes (1 here)" in en


@pytest.mark.parametrize("lang, na", [("zh", "未计算"), ("en", "n/a")])
def test_not_computed_is_not_the_privacy_mark(tmp_path, lang, na):
    _write(tmp_path)
    a = analyse_district(tmp_path, min_cell=MIN_CELL, outcomes=_outcomes(["a", "b", "c"]))
    rep = district_report(a, lang=lang)
    t = report_table(rep, "schools")
    true_share = t.iloc[:, 5].tolist()
    assert true_share == [na] * 4  # --no-true-share: never estimated, not withheld
    assert t.iloc[3, 1:6].tolist() == [na] * 5  # the school not done: nothing computed
    assert t.iloc[2, 3] == f"<{MIN_CELL}" and t.iloc[2, 4] == "—"  # c: withheld for privacy
    c = report_table(rep, "compliance").set_index(t.columns[0])
    assert c.loc["School A", "parent_call"] == na  # a middle-school indicator
    assert c.loc["School B", "training_hours"] == na  # a primary-school indicator
    assert c.loc["School B", "home_visit"] == "—"  # 12 students: withheld
    notes = [b.note for s in rep.sections for b in s.blocks if getattr(b, "key", "") == "schools"]
    assert na in notes[0] and "—" in notes[0]


def test_no_progress_stage_not_computed(tmp_path):
    _write(tmp_path, progress=False)
    a = analyse_district(tmp_path, min_cell=MIN_CELL, outcomes=_outcomes(["a", "b", "c"]))
    t = report_table(district_report(a, lang="en"), "schools")
    assert (t.iloc[:3, 3:6] == "n/a").all().all()  # evaluable, certified, true share
    assert t.iloc[:3, 2].tolist() == ["300", "250", "200"]
