"""mentorlib templates: the workbooks a school fills in are read back by clean without repairs."""

from __future__ import annotations

import datetime as dt
import tomllib

import openpyxl
import pytest

from mentorlib.clean.pipeline import clean_study
from mentorlib.errors import InputError
from mentorlib.io.codebook import load_codebook
from mentorlib.io.study import load_config
from mentorlib.io.templates import wjx_text, workbooks, write_templates


def _sid(body17: str) -> str:
    """A 学籍号 with its GB 11643 check digit, computed by hand."""
    w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return (
        "G" + body17 + "10X98765432"[sum(int(c) * k for c, k in zip(body17, w, strict=True)) % 11]
    )


S1, S2, S3 = _sid("11010120160101001"), _sid("11010120160315002"), _sid("11010120150720003")


def _fill(path, rows: list[dict]) -> None:
    """Type rows under the headers the way a 班主任 would (dates as Excel dates, IDs as text)."""
    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[0]
    headers = [c.value for c in ws[1]]
    for r in rows:
        ws.append([r.get(h) for h in headers])
    wb.save(path)


ROWS = {
    "学生名册": [
        {
            "学籍号": S1,
            "姓名": "张小明",
            "性别": "男",
            "出生日期": dt.datetime(2016, 1, 1),
            "年级": "三年级",
            "班级": "三年级2班",
            "是否转入生": "否",
            "家庭结构": "双亲",
            "是否留守儿童": "否",
            "家庭住址片区": "城东",
            "是否受导学生": "是",
            "身高(cm)": 130,
            "体重(kg)": 28,
        },
        {
            "学籍号": S2,
            "姓名": "李𠮷",
            "性别": "女",
            "出生日期": dt.datetime(2016, 3, 15),
            "年级": "三年级",
            "班级": "三年级2班",
            "是否转入生": "是",
            "家庭结构": "单亲",
            "是否留守儿童": "是",
            "家庭住址片区": "城西",
            "是否受导学生": "是",
            "身高(cm)": 128.5,
            "体重(kg)": 26,
        },
        {
            "学籍号": S3,
            "姓名": "买买提·艾力",
            "性别": "男",
            "出生日期": dt.datetime(2015, 7, 20),
            "年级": "四年级",
            "班级": "四年级1班",
            "是否转入生": "否",
            "家庭结构": "重组",
            "是否留守儿童": "否",
            "家庭住址片区": "城南",
            "是否受导学生": "否",
            "身高(cm)": 135,
            "体重(kg)": 31,
        },
    ],
    "教职工名册": [
        {
            "工号": "01201",
            "姓名": "王芳",
            "性别": "女",
            "岗位": "班主任",
            "任教学科": "语文",
            "所在年级组": "三年级",
            "导师培训学时": 12,
            "是否取得导师证书": "是",
            "是否骨干导师": "否",
            "特长": "阅读;书法",
        },
        {
            "工号": "01202",
            "姓名": "陈刚",
            "性别": "男",
            "岗位": "科任教师",
            "任教学科": "数学",
            "所在年级组": "四年级",
            "导师培训学时": 8,
            "是否取得导师证书": "否",
            "是否骨干导师": "是",
            "特长": "体育运动",
        },
    ],
    "导师分组": [
        {
            "学年": "2024-2025",
            "学期": "第一学期",
            "导师工号": "01201",
            "导师姓名": "王芳",
            "学籍号": S1,
            "学生姓名": "张小明",
            "班级": "三年级2班",
            "开始日期": dt.datetime(2024, 9, 2),
        },
        {
            "学年": "2024-2025",
            "学期": "第一学期",
            "导师工号": "01201",
            "导师姓名": "王芳",
            "学籍号": S2,
            "学生姓名": "李𠮷",
            "班级": "三年级2班",
            "开始日期": dt.datetime(2024, 9, 2),
        },
        {
            "学年": "2024-2025",
            "学期": "第一学期",
            "导师工号": "01202",
            "导师姓名": "陈刚",
            "学籍号": S3,
            "学生姓名": "买买提·艾力",
            "班级": "四年级1班",
            "开始日期": dt.datetime(2024, 9, 2),
        },
    ],
    "导师工作记录": [
        {
            "日期": dt.datetime(2024, 9, 12),
            "导师工号": "01201",
            "导师姓名": "王芳",
            "学生姓名": "张小明",
            "学籍号": S1,
            "活动类型": "谈心谈话",
            "方式": "面谈",
            "时长(分钟)": 20,
            "记录摘要": "适应新班级",
        },
        {
            "日期": dt.datetime(2024, 10, 8),
            "导师工号": "01202",
            "导师姓名": "陈刚",
            "学生姓名": "买买提·艾力",
            "学籍号": S3,
            "活动类型": "家访",
            "方式": "上门",
            "时长(分钟)": 45,
        },
    ],
    "心情晴雨表": [
        {
            "学籍号": S1,
            "姓名": "张小明",
            "班级": "三年级2班",
            "月份": "2024-09",
            "2日": "红",
            "3日": "黄",
            "4日": "蓝",
        },
        {
            "学籍号": S2,
            "姓名": "李𠮷",
            "班级": "三年级2班",
            "月份": "2024-09",
            "2日": "灰",
            "3日": "红",
        },
    ],
    "奖惩记录": [
        {
            "日期": dt.datetime(2024, 10, 8),
            "学籍号": S1,
            "姓名": "张小明",
            "班级": "三年级2班",
            "类别": "奖励",
            "事由": "拾金不昧",
            "分值": 2,
        },
        {
            "日期": dt.datetime(2024, 11, 20),
            "学籍号": S3,
            "姓名": "买买提·艾力",
            "班级": "四年级1班",
            "类别": "惩戒",
            "事由": "迟到",
            "分值": -1,
        },
    ],
}


@pytest.fixture
def filled(tmp_path):
    out = tmp_path / "模板"
    write_templates(out, "primary", year=2024)
    for s in workbooks("primary"):
        _fill(out / s.file, ROWS[s.file.split("/")[-1].removesuffix(".xlsx")])
    return out


def test_filled_templates_clean_without_repairs(filled):
    cfg = load_config(filled)
    assert {s.kind for s in cfg.sources} == {
        "students",
        "staff",
        "groups",
        "activities",
        "mood",
        "rewards",
    }
    res = clean_study(filled)
    assert res.quarantine.empty, res.quarantine[["source", "reason", "detail"]]
    # No repair: the log holds only the unavoidable conventions (a label such as 三年级2班,
    # 第一学期, 2024-2025 turned into its canonical code 3-2, 1, 2024) and the mood chart's note
    # that its day columns are not codebook fields (they are read by the day pattern).
    rules = res.log["rule"].astype(str).str.split(" ").str[0]
    conventions = rules.isin(["grade_label", "school_year_label", "term_label"]) | (
        rules.str.startswith("grade_class:")
    )
    day_note = (rules == "columns_ignored") & res.log["old"].astype(str).str.startswith("1日; 2日")
    repairs = res.log[~(conventions | day_note)]
    assert repairs.empty, repairs[["source", "column", "old", "new", "rule"]]
    t = res.tables
    assert len(t["students"]) == 3 and len(t["staff"]) == 2
    assert len(t["assignments"]) == 3 and len(t["activities"]) == 2
    assert len(t["rewards"]) == 2 and len(t["mood"]) == 2
    assert set(t["staff"]["staff_id"]) == {"01201", "01202"}
    assert sorted(t["rewards"]["points"]) == [-1.0, 2.0]
    assert set(t["activities"]["activity"].astype(str)) == {"talk", "home_visit"}
    assert t["students"].set_index("student_id").loc[S2, "family"] == "single_parent"
    mood = t["mood"].set_index("student_id")
    assert mood.loc[S1, "days_recorded"] == 3 and mood.loc[S2, "n_angry"] == 1
    assert res.summary["rows_in"].sum() == res.summary["kept"].sum() == 14


def test_workbook_has_dropdowns_frozen_header_and_text_ids(tmp_path):
    write_templates(tmp_path / "t", "middle")
    wb = openpyxl.load_workbook(tmp_path / "t" / "名册" / "学生名册.xlsx")
    ws = wb.worksheets[0]
    assert ws.freeze_panes == "A2"
    headers = [c.value for c in ws[1]]
    assert headers[:3] == ["学籍号", "姓名", "性别"]
    assert ws.column_dimensions["A"].number_format == "@"  # typed IDs stay text
    lists = wb["选项"]
    col = {h: i for i, h in enumerate(headers, 1)}
    dvs = {str(dv.sqref).split(":")[0]: dv.formula1 for dv in ws.data_validations.dataValidation}
    letter = openpyxl.utils.get_column_letter(col["性别"])
    assert f"{letter}2" in dvs
    assert [lists.cell(i, col["性别"]).value for i in (1, 2)] == ["男", "女"]
    grade = [lists.cell(i, col["年级"]).value for i in (1, 2, 3)]
    assert grade == ["七年级", "八年级", "九年级"]
    assert "填写说明" in wb.sheetnames
    assert not (tmp_path / "t" / "记录" / "心情晴雨表.xlsx").exists()  # primary only


def test_study_toml_lists_surveys_commented_and_is_valid(tmp_path):
    write_templates(tmp_path / "t", "middle", year=2025)
    text = (tmp_path / "t" / "study.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    assert data["study"]["level"] == "middle" and data["study"]["years"] == [2025]
    assert '# codebook = "assessment_middle"' in text and '# wave = "post"' in text
    uncommented = "\n".join(
        line[2:]
        if line.startswith("# [[")
        or line.startswith("# kind")
        or line.startswith("# path")
        or line.startswith("# year")
        or line.startswith("# wave")
        or line.startswith("# term")
        or line.startswith("# codebook")
        else line
        for line in text.splitlines()
    )
    assert len(tomllib.loads(uncommented)["sources"]) == len(data["sources"]) + 4


def test_wjx_text_numbers_questions_one_option_a_line():
    cb = load_codebook("needs_primary")
    lines = wjx_text(cb).splitlines()
    assert lines[0] == cb.title
    i = lines.index("5. 你觉得自己在哪些方面最需要帮助[多选题]")
    assert lines[i + 1 : i + 8] == [
        "学习方法",
        "作业习惯",
        "情绪管理",
        "与同学相处",
        "文明礼仪",
        "时间管理",
        "其他〖〗",
    ]
    assert "4. 你的性别[单选题]" in lines


def test_refuses_a_non_empty_folder(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="not empty|not a mentorlib"):
        write_templates(tmp_path / "x", "primary")
    with pytest.raises(InputError, match="level"):
        write_templates(tmp_path / "y", "high")
    assert (tmp_path / "x" / "notes.txt").read_text() == "mine"
