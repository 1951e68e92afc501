"""Case conferences from a hand-kept log (issue 15 item 5): a tiny middle school written by hand
as a grade group keeps its 个案分析 rows, one student a row: names typed with spaces and no
学籍号, a student discussed twice, a student the roster does not know (quarantined, with its
reason). The coverage of the students needing one is computed from what the cleaner linked."""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from mentorlib import compliance as C
from mentorlib.clean import clean_study
from mentorlib.ids import check_digit
from mentorlib.labels import Lang
from mentorlib.report.document import Para
from mentorlib.report.sections_cases import case_conference_blocks
from mentorlib.rules import rulebook

Y = 2024


def sid(k: int) -> str:
    body = f"11010120110{k:02d}1012"[:17].ljust(17, "0")
    return "G" + body + check_digit(body)


#: name, family, left-behind; the first six are mentees (groups), 周八 is not
STUDENTS = [
    ("张三", "单亲家庭", "否"),  # flagged, discussed (typed 张 三, no ID)
    ("李四", "双亲家庭", "是"),  # flagged, discussed twice
    ("王五", "重组家庭", "否"),  # flagged, never discussed
    ("赵六", "双亲家庭", "是"),  # flagged, discussed (ID with spaces)
    ("钱七", "双亲家庭", "否"),  # not flagged, discussed: not in the denominator
    ("孙九", "双亲家庭", "否"),  # not flagged, not discussed
    ("周八", "单亲家庭", "否"),  # flagged but not a mentee
]


def write_xlsx(path: Path, rows: list[list]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = openpyxl.Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    wb.save(path)


def build(root: Path) -> Path:
    head = ["学籍号", "姓名", "性别", "出生日期", "年级", "班级", "家庭结构", "是否留守儿童"]
    head += ["是否转入生", "家庭住址片区", "身高", "体重"]
    write_xlsx(
        root / "roster/学生名册.xlsx",
        [head]
        + [
            [sid(k), n, "男", "2011-05-01", "初一", "初一(1)班", fam, lb, "否", "城区", 150, 40]
            for k, (n, fam, lb) in enumerate(STUDENTS)
        ],
    )
    write_xlsx(
        root / "roster/教职工名册.xlsx",
        [
            ["工号", "姓名", "性别", "岗位", "任教学科", "所在年级组", "班主任班级"]
            + ["导师培训学时", "是否取得导师证书", "是否骨干导师", "特长"],
            ["20001", "刘洋", "男", "班主任", "语文", "初一", "初一(1)班", 10, "是", "否", "阅读"],
            ["20002", "陈静", "女", "科任教师", "数学", "初一", None, 10, "是", "否", "书法"],
        ],
    )
    g = ["学年", "学期", "导师工号", "导师姓名", "学籍号", "学生姓名", "开始日期"]
    write_xlsx(
        root / "groups/导师分组.xlsx",
        [g]
        + [
            ["2024学年", "第一学期", "20002", "陈静", sid(k), n, "2024-09-02"]
            for k, (n, _f, _l) in enumerate(STUDENTS[:6])
        ],
    )
    rows = [
        ["日期", "导师工号", "导师姓名", "学生姓名", "学籍号", "活动类型", "时长(分钟)"],
        ["2024/10/15", "20001", "刘洋", "张 三", "", "个案分析", "60"],
        ["2024/10/15", "20001", "刘洋", " 钱七 ", sid(4), "个案分析", "60"],
        ["2024/10/15", "20001", "刘洋", "李四", sid(1), "个案分析", "60"],
        ["2024年12月3日", "20001", "刘洋", "李四", sid(1), "个案研讨", "45"],  # again
        [
            "2025/3/11",
            "20001",
            "刘洋",
            "赵六",
            " " + sid(3)[:9] + " " + sid(3)[9:],
            "个案分析",
            "50",
        ],
        ["2025/3/11", "20001", "刘洋", "孙悟空", "", "个案分析", "50"],  # not on the roster
        ["2025/4/8", "20002", "陈静", "孙九", sid(5), "谈心谈话", "20"],
    ]
    path = root / "records/个案分析记录.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f).writerows(rows)
    srcs = [
        ("students", "roster/学生名册.xlsx"),
        ("staff", "roster/教职工名册.xlsx"),
        ("groups", "groups/导师分组.xlsx"),
        ("activities", "records/个案分析记录.csv"),
    ]
    toml = f'[study]\nname = "cases"\nlevel = "middle"\nyears = [{Y}]\n'
    for kind, p in srcs:
        toml += f'\n[[sources]]\nkind = "{kind}"\npath = "{p}"\nyear = {Y}\n'
    (root / "study.toml").write_text(toml, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def cleaned(tmp_path_factory):
    root = build(tmp_path_factory.mktemp("cases") / "study")
    res = clean_study(root)
    return res, res.processed()


def test_rows_link_by_name_and_the_unknown_student_is_quarantined(cleaned):
    res, _ = cleaned
    a = res.tables["activities"]
    cc = a.loc[a["activity"] == "case_conference"]
    named = list(cc["student_id"].astype(str))
    assert sorted(named) == sorted([sid(0), sid(4), sid(1), sid(1), sid(3)])
    q = res.quarantine
    q = q.loc[q["source"].astype(str) == "records/个案分析记录.csv"]
    assert len(q) == 1
    assert "孙悟空" in q["raw"].iloc[0]
    assert q["reason"].iloc[0] == "unknown_student"
    assert "孙悟空" in q["detail"].iloc[0]


def test_coverage_of_the_students_needing_one(cleaned):
    _, P = cleaned
    rep = C.compliance_report(P, Y, min_cell=1)
    r = rep.indicators.set_index("indicator").loc["case_conference"]
    # needing: the flagged mentees 张三, 李四, 王五, 赵六 (周八 is no mentee; no assessment,
    # so no decline is measured); covered: 张三, 李四 (twice: once), 赵六
    assert r["n"] == 4
    assert r["value"] == pytest.approx(3 / 4)
    # one conference per leader and day: 15 October discussed three students in one meeting;
    # grade 7 from the leader 刘洋's grade group
    c = rep.case_conferences
    assert set(c["grade"].astype(int)) == {7}
    assert int(c["n_conferences"].sum()) == 3
    assert dict(zip(c["month"], c["n_conferences"], strict=True)) == {
        "2024-10": 1,
        "2024-12": 1,
        "2025-03": 1,
    }
    for lang, want in (("zh", "75.0%"), ("en", "75.0%")):
        blocks = case_conference_blocks(rep, rulebook("middle"), Lang(lang), 1)
        text = " ".join(b.text for b in blocks if isinstance(b, Para))
        assert want in text
        assert "not available" not in text and "无法计算" not in text


def test_coverage_by_grade_respects_min_cell(cleaned):
    _, P = cleaned
    g = C.compliance_report(P, Y, min_cell=5).by_grade
    g = g.loc[g["indicator"] == "case_conference"].set_index("grade")
    assert bool(g.loc[7, "suppressed"]) and pd.isna(g.loc[7, "value"])
    g = C.compliance_report(P, Y, min_cell=1).by_grade
    g = g.loc[g["indicator"] == "case_conference"].set_index("grade")
    assert g.loc[7, "value"] == pytest.approx(0.75)
