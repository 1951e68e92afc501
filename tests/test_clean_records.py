"""Hand-kept records (issue 13, item 5): a tiny primary study written by hand as a 班主任 keeps
it: 工号 that Excel stripped of zeros, mentors named without 工号 (two 王芳), a 导师工作记录 with
merged date cells, 全班 rows, dates without a year and durations in words, and a 奖惩记录 with
奖/惩 in one column and points as text."""

from __future__ import annotations

import csv
from pathlib import Path
from types import SimpleNamespace

import openpyxl
import pandas as pd
import pytest

from mentorlib.clean import clean_study, when
from mentorlib.clean.records import StaffIndex, parse_mentor_cell
from mentorlib.ids import check_digit


def sid(k: int) -> str:
    body = f"11010120160{k:02d}1012"[:17].ljust(17, "0")
    return "G" + body + check_digit(body)


STUDENTS = ["张三", "李四", "王五", "赵六", "钱七"]


def write_xlsx(path: Path, rows: list[list], merge: str | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = openpyxl.Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    if merge:
        ws.merge_cells(merge)  # openpyxl keeps the top-left value, blanks the rest
    wb.save(path)


def build(root: Path) -> Path:
    write_xlsx(
        root / "roster/学生名册.xlsx",
        [
            ["学籍号", "姓名", "性别", "出生日期", "年级", "班级", "家庭结构", "家庭住址片区"]
            + ["是否转入生", "是否留守儿童", "身高", "体重"]
        ]
        + [
            [sid(k), n, "男", "2016-05-01", 3, 2, "双亲家庭", "城区", "否", "否", 130, 28]
            for k, n in enumerate(STUDENTS)
        ],
    )
    head = ["工号", "姓名", "性别", "岗位", "任教学科", "班主任班级", "导师培训学时"]
    head += ["是否取得导师证书", "是否骨干导师", "特长"]
    write_xlsx(
        root / "roster/教职工名册.xlsx",
        [
            head,
            ["01201", "王芳", "女", "科任教师", "语文", None, 10, "是", "否", "阅读"],
            ["01305", "王芳", "女", "科任教师", "数学", None, 10, "是", "否", "阅读"],
            ["00888", "刘洋", "男", "班主任", "英语", "3(2)班", 10, "是", "是", "阅读"],
        ],
    )
    g = ["学年", "学期", "导师工号", "导师姓名", "学籍号", "学生姓名", "班级", "开始日期"]
    write_xlsx(
        root / "groups/导师分组.xlsx",
        [
            g,
            ["2024学年", "第一学期", 1201, None, sid(0), "张三", "三(2)班", "9月2日"],
            ["2024学年", "第一学期", None, "语文-王芳", sid(1), "李四", "三(2)班", "9月2日"],
            ["2024学年", "第一学期", None, "王芳(数学)", sid(2), "王五", "三(2)班", "9.2"],
            ["2024学年", "第一学期", None, "王芳", sid(3), "赵六", "三(2)班", "9.2"],
            ["2024学年", "第一学期", None, "孙悟空", sid(4), "钱七", "三(2)班", "9.2"],
        ],
    )
    write_xlsx(  # no 学籍号 column: students by name; the date of rows 2-4 merged
        root / "records/导师工作记录.xlsx",
        [
            ["日期", "导师姓名", "学生姓名", "活动类型", "时长"],
            ["10月10日(周四)", "刘洋", "张三", "谈心谈话", "半小时"],
            [None, "刘洋", "李四", "谈心谈话", "1.5h"],
            [None, "刘洋", "全班", "团体辅导", "40分钟"],
            ["10.15", "语文-王芳", "三(2)班", "团体辅导", "一个半小时"],
            ["11/10", "王芳", "王五", "谈心谈话", "1h20m"],
            ["11月10日", "刘洋", None, "团体辅导", "两小时"],
            [None, "刘洋", "钱七", "家访", "20"],  # blank, not merged: not filled
        ],
        merge="A2:A4",
    )
    write_xlsx(
        root / "records/奖惩记录.xlsx",
        [
            ["日期", "学籍号", "姓名", "奖/惩", "分值", "事由"],
            ["10.20", sid(0), "张三", "奖", "+2分", "拾金不昧"],
            [None, sid(1), "李四", "惩", 1, "迟到"],
            ["11月3日", sid(2), "王五", None, "扣1分", "打架"],
            ["11月5日", sid(3), "赵六", "表扬", "加2分", "值日认真"],
        ],
        merge="A2:A3",
    )
    with open(root / "records/奖惩记录_二班.csv", "w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f).writerows(  # no 类别 column; a CSV has no merged cells: blanks filled
            [
                ["日期", "学籍号", "姓名", "分值", "事由"],
                ["12月1日", sid(4), "钱七", "+3分", "作文获奖"],
                ["", sid(0), "张三", "-2分", "作业未交"],
                ["", "", "", "", ""],
                ["", sid(1), "李四", "", "备注"],
            ]
        )
    srcs = [
        ("students", "roster/学生名册.xlsx"),
        ("staff", "roster/教职工名册.xlsx"),
        ("groups", "groups/导师分组.xlsx"),
        ("activities", "records/导师工作记录.xlsx"),
        ("rewards", "records/奖惩记录.xlsx"),
        ("rewards", "records/奖惩记录_二班.csv"),
    ]
    toml = '[study]\nname = "records"\nlevel = "primary"\nyears = [2024]\n'
    for kind, path in srcs:
        toml += f'\n[[sources]]\nkind = "{kind}"\npath = "{path}"\nyear = 2024\n'
    (root / "study.toml").write_text(toml, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def res(tmp_path_factory):
    return clean_study(build(tmp_path_factory.mktemp("records") / "study"))


def rules_of(res, source: str) -> pd.DataFrame:
    log = res.log
    return log[log["source"].astype(str) == source]


def quarantined(res, source: str) -> pd.DataFrame:
    q = res.quarantine
    return q[q["source"].astype(str) == source]


def test_groups_restore_zeros_and_find_mentors_by_name(res):
    a = res.tables["assignments"].set_index("student_id")
    assert a.loc[sid(0), "mentor_id"] == "01201"  # 1201 with its zero back
    assert a.loc[sid(1), "mentor_id"] == "01201"  # 语文-王芳
    assert a.loc[sid(2), "mentor_id"] == "01305"  # 王芳(数学)
    assert (a["start_date"] == pd.Timestamp("2024-09-02")).all()
    log = rules_of(res, "groups/导师分组.xlsx")
    assert "staff_id_zero_restored" in set(log["rule"])
    assert (log["rule"] == "mentor_by_name").sum() == 2
    assert log["rule"].astype(str).str.startswith("date_year_from_term").any()
    q = quarantined(res, "groups/导师分组.xlsx").set_index("reason")
    assert "01201" in q.loc["ambiguous_mentor", "detail"]
    assert "01305" in q.loc["ambiguous_mentor", "detail"]
    assert "孙悟空" in q.loc["unknown_mentor", "detail"]


def test_activity_log_dates_groups_and_durations(res):
    act = res.tables["activities"].sort_values(["date", "duration_min"]).reset_index(drop=True)
    assert len(act) == 5  # the ambiguous 王芳 row is quarantined
    assert list(act["duration_min"]) == [30, 40, 90, 90, 120]
    assert list(act["date"].dt.strftime("%m-%d")) == ["10-10", "10-10", "10-10", "10-15", "11-10"]
    assert (act["year"] == 2024).all()
    by_dur = act.set_index("duration_min")
    assert by_dur.loc[30, "student_id"] == sid(0)  # linked by name, no 学籍号 column
    assert pd.isna(by_dur.loc[40, "student_id"])  # 全班: class-level, the mentor's
    assert by_dur.loc[120, "mentor_id"] == "00888"
    cls = act[act["student_id"].isna()]
    assert len(cls) == 3
    row = cls[cls["mentor_id"] == "01201"].iloc[0]  # 语文-王芳 with 三(2)班
    assert (row["grade"], row["class_no"]) == (3, 2)
    log = rules_of(res, "records/导师工作记录.xlsx")
    rules = log["rule"].astype(str)
    assert (rules == "date_filled_down").sum() == 2
    assert (rules == "group_session").sum() == 3
    assert rules.str.startswith("duration_text").any()
    assert rules.str.startswith("date_year_from_term").any()
    assert (rules == "mentor_by_name").sum() >= 4
    q = quarantined(res, "records/导师工作记录.xlsx")
    assert list(q["reason"]) == ["ambiguous_mentor", "no_date"]


def test_rewards_kind_and_points_as_text(res):
    rw = res.tables["rewards"]
    rw = rw[rw["date"] < pd.Timestamp("2024-12-01")].set_index("student_id")
    assert rw.loc[sid(0), "kind"] == "reward" and rw.loc[sid(0), "points"] == 2
    assert rw.loc[sid(1), "kind"] == "penalty" and rw.loc[sid(1), "points"] == -1
    assert rw.loc[sid(1), "date"] == pd.Timestamp("2024-10-20")  # the merged date
    assert rw.loc[sid(2), "kind"] == "penalty" and rw.loc[sid(2), "points"] == -1
    assert rw.loc[sid(3), "kind"] == "reward" and rw.loc[sid(3), "points"] == 2
    rules = rules_of(res, "records/奖惩记录.xlsx")["rule"].astype(str)
    assert (rules == "reward_kind_from_sign").sum() == 1
    assert rules.str.startswith("points_text").any()
    assert (rules == "date_filled_down").sum() == 1


def test_row_accounting_adds_up(res):
    s = res.summary
    assert (s["rows_in"] == s[["kept", "merged", "quarantined", "not_read"]].sum(axis=1)).all()


def test_duration_parser():
    cases = {
        "半小时": 30,
        "一小时": 60,
        "1小时": 60,
        "两小时": 120,
        "一个半小时": 90,
        "40分钟": 40,
        "1.5h": 90,
        "1.5小时": 90,
        "90min": 90,
        "1h20m": 80,
    }
    for text, minutes in cases.items():
        assert when.duration_minutes(text) == (minutes, "duration_text"), text
    assert when.duration_minutes(25) == (25, None)
    assert when.duration_minutes("很久")[1] == "fail:duration"


def test_points_and_dates_without_a_year():
    assert [when.points(x)[0] for x in ("+2分", "-1分", "2", "扣1分", "加2分")] == [2, -1, 2, -1, 2]
    assert when.points("+2分")[1] == "points_text" and when.points("2")[1] is None
    assert when.points("扣30分", lo=-20, hi=20) == (None, "fail:out_of_range")
    for x in ("10.12", "10/12", "10月12日", "10月12日(周四)"):
        assert when.date_in_year(x, 2024) == ("2024-10-12", "date_year_from_term"), x
    assert when.date_in_year("3月5日", 2024)[0] == "2025-03-05"
    assert when.date_in_year("3月5日", 2024, 1) == (None, "fail:date_outside_term")
    assert when.date_in_year("10.12", None) == (None, "fail:date_without_year")
    assert when.date_in_year("2024-10-12", 2023) == ("2024-10-12", None)


def test_mentor_cells():
    assert parse_mentor_cell("语文-王芳") == ("王芳", "chinese", None)
    assert parse_mentor_cell("王芳(语文)") == ("王芳", "chinese", None)
    assert parse_mentor_cell("王芳（数学）") == ("王芳", "math", None)
    assert parse_mentor_cell("王芳 3班") == ("王芳", None, "3")
    assert parse_mentor_cell("王芳 三(2)班") == ("王芳", None, "3-2")
    assert parse_mentor_cell("阿依古丽·买买提") == ("阿依古丽·买买提", None, None)


def test_rewards_without_a_kind_column_and_blank_dates_in_a_csv(res):
    rw = res.tables["rewards"]
    rw = rw[rw["date"] >= pd.Timestamp("2024-12-01")].set_index("student_id")
    assert rw.loc[sid(4), "kind"] == "reward" and rw.loc[sid(4), "points"] == 3
    assert rw.loc[sid(0), "kind"] == "penalty" and rw.loc[sid(0), "points"] == -2
    assert rw.loc[sid(0), "date"] == pd.Timestamp("2024-12-01")
    rules = rules_of(res, "records/奖惩记录_二班.csv")["rule"].astype(str)
    assert (rules == "reward_kind_from_sign").sum() == 2
    assert (rules == "date_filled_down").sum() == 1  # 李四's row has no points: not filled
    q = quarantined(res, "records/奖惩记录_二班.csv")
    assert set(q["reason"]) == {"no_date"}


def test_zeros_restored_both_ways_and_only_when_one_fits():
    ctx = SimpleNamespace(staff_ids={2024: {"1201", "01305", "0777", "00777"}}, parts={})
    ctx.staff_by_name = {}
    idx = StaffIndex(ctx, 2024)  # type: ignore[arg-type]
    assert idx.restore("01201") == "1201"  # the roster lost its zero, the log kept it
    assert idx.restore("1305") == "01305"
    assert idx.restore("777") is None  # two roster 工号 fit
    assert idx.restore("9999") is None
