"""Identity as students really give it (issue 13, item 5).

A tiny middle school, written by hand the way its 班主任 keep their sheets: two years of rosters
(one student on a temporary L number in 2024 and her G number in 2025, classes written by cohort,
a Uyghur name with a middle dot, rare name characters), and an assessment survey where students
typed 姓名 + 班级 + their seat 学号, a class split after September and a student who joined late.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from mentorlib.clean import clean_study
from mentorlib.clean import normalise as nz
from mentorlib.data import load_processed
from mentorlib.ids import check_digit
from mentorlib.io.codebook import load_codebook


def gid(body: str, prefix: str = "G") -> str:
    return prefix + body + check_digit(body)


WANG = gid("44010620120301123")
MAIMAITI = gid("65010220120415234")
JI = gid("44010620120707345")  # 𠮷堃
ZHANG = gid("44010620121109456")  # 张喆㛃
LIU_A, LIU_B = gid("44010620120202567"), gid("44010620120808678")  # two 刘洋 in 7-2
CHEN = gid("44010620120606789")
LINA_G = gid("44010620120506111")
LINA_BODY = "44010620120506222"
LINA_L = "L" + LINA_BODY + ("0" if check_digit(LINA_BODY) != "0" else "1")  # check digit off
ZHAO = gid("44010620121212333")  # joined in spring 2025: only on the 2025 roster

ROSTER_HEADER = [
    "序号",
    "学籍号",
    "姓名",
    "性别",
    "出生日期",
    "班级",
    "是否转入生",
    "家庭结构",
    "是否留守儿童",
    "家庭住址片区",
    "身高(cm)",
    "体重(kg)",
]
# (学籍号, 姓名, 性别, 出生日期, 2024 班级, 2025 班级)
STUDENTS = [
    (WANG, "王小明", "男", "2012-03-01", "初一(1)班", "八年级1班"),
    (MAIMAITI, "买买提·艾力", "男", "2012-04-15", "七年级1班", "8-1"),
    (JI, "𠮷堃", "男", "2012-07-07", "2024级3班", "2024级3班"),
    (ZHANG, "张喆㛃", "女", "2012-11-09", "初2024级3班", "初2024级3班"),
    (LIU_A, "刘洋", "男", "2012-02-02", "7-2", "8.2"),
    (LIU_B, "刘洋", "男", "2012-08-08", "7-2", "8.2"),
    (CHEN, "陈静", "女", "2012-06-06", "7-2", "8.2"),
]


def write_xlsx(path: Path, header: list, rows: list) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(header)
    for r in rows:
        ws.append(list(r))
    wb.save(path)


def roster_rows(year: int) -> list:
    out = []
    for k, (sid, name, sex, birth, c24, c25) in enumerate(STUDENTS, 1):
        out.append([k, sid, name, sex, birth, c24 if year == 2024 else c25])
    if year == 2024:
        out.append([len(out) + 1, LINA_L, "李娜", "女", "2012-05-06", "7-1"])
    else:
        out.append([len(out) + 1, LINA_G, "李娜", "女", "2012-05-06", "8-1"])
        out.append([len(out) + 1, ZHAO, "赵雷", "男", "2012-12-12", "8-4"])
    return [r + ["否", "双亲", "否", "城区", 150, 40] for r in out]


CB = load_codebook("assessment_middle")
IDENTITY = {"name": "姓名", "student_id": "学号", "grade_class": "班级", "gender": "性别"}


def survey_header() -> list:
    return ["序号"] + [IDENTITY.get(f.var, f.label) for f in CB.fields]


def survey_row(k: int, name: str, seat, cls: str, sex: str = "男") -> list:
    ident = {"name": name, "student_id": seat, "grade_class": cls, "gender": sex}
    answers = []
    for f in CB.fields:
        if f.var in ident:
            answers.append(ident[f.var])
        elif f.attention is not None:
            answers.append(f.attention)
        else:
            answers.append("比较符合")
    return [k, *answers]


PRE = [  # 2024 pre test: 姓名 + 班级 + the seat number as 学号
    ("王小明", 5, "初一(1)班"),
    ("买买提 艾力", 12, "7-1"),
    ("𠮷堃", "3", "7.3"),
    ("刘洋", 8, "7-2"),  # two 刘洋 in 7-2, and the roster has no seat numbers
    ("陈静", 9, "7-9"),  # 7-9 split off 7-2 after the September roster
    ("赵雷", 1, "7-4"),  # on the 2025 roster only
    ("李娜", LINA_L, "7-1"),
    ("周杰", 2, "7-1"),  # nobody of that name
    ("张喆㛃", 4, "初2024级3班"),
]
POST = [  # 2025 post test
    ("李娜", LINA_G, "8-1"),
    ("买买提•艾力", MAIMAITI, "8-1"),
    ("张喆㛃", 4, "初2024级3班"),
    ("𠮷堃", JI, "2024级3班"),
]

TOML = """[study]
name = "identity"
level = "middle"
years = [2024, 2025]

[[sources]]
kind = "students"
path = "名册_2024.xlsx"
year = 2024

[[sources]]
kind = "students"
path = "名册_2025.xlsx"
year = 2025

[[sources]]
kind = "assessment"
path = "评估_2024_前测.xlsx"
year = 2024
wave = "pre"
codebook = "assessment_middle"

[[sources]]
kind = "assessment"
path = "评估_2025_后测.xlsx"
year = 2025
wave = "post"
codebook = "assessment_middle"
"""


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    top = tmp_path_factory.mktemp("identity")
    d = top / "study"
    d.mkdir()
    (d / "study.toml").write_text(TOML, encoding="utf-8")
    write_xlsx(d / "名册_2024.xlsx", ROSTER_HEADER, roster_rows(2024))
    write_xlsx(d / "名册_2025.xlsx", ROSTER_HEADER, roster_rows(2025))
    sex = {"李娜": "女", "陈静": "女", "张喆㛃": "女"}
    for path, rows in (("评估_2024_前测.xlsx", PRE), ("评估_2025_后测.xlsx", POST)):
        body = [survey_row(k, n, s, c, sex.get(n, "男")) for k, (n, s, c) in enumerate(rows, 1)]
        write_xlsx(d / path, survey_header(), body)
    return clean_study(d, top / "out"), top / "out"


def linked(res, source: str) -> dict[str, str]:
    """姓名 as typed -> the 学籍号 its row linked to (kept rows of one source)."""
    rs = res.row_status
    rs = rs[(rs["source"].astype(str) == source) & (rs["status"] == "kept")]
    rows = PRE if "2024" in source else POST
    return {rows[int(r) - 2][0]: sid for r, sid in zip(rs["row"], rs["student_id"], strict=True)}


def rules(res, source: str) -> dict[int, set[str]]:
    log = res.log[res.log["source"].astype(str) == source].dropna(subset=["row"])
    out: dict[int, set[str]] = {}
    for r, rule in zip(log["row"], log["rule"].astype(str), strict=True):
        out.setdefault(int(r), set()).add(rule)
    return out


def test_seat_numbers_link_by_name_and_class(study):
    res, _ = study
    ids = linked(res, "评估_2024_前测.xlsx")
    assert ids["王小明"] == WANG and ids["𠮷堃"] == JI and ids["张喆㛃"] == ZHANG
    r = rules(res, "评估_2024_前测.xlsx")
    assert "linked_by_seat_number" in r[2] and "linked_by_seat_number" in r[4]
    log = res.log
    assert not log["rule"].astype(str).str.startswith("id_sci").any()  # not Excel damage
    q = res.quarantine
    liu = q[q["row"] == 5].iloc[0]
    assert liu["reason"] == "ambiguous_student"
    assert LIU_A in liu["detail"] and LIU_B in liu["detail"] and "seat number" in liu["detail"]
    assert "Excel" not in " ".join(q["detail"].astype(str))
    assert nz.student_id(5)[2] == "seat" and nz.student_id("12号")[2] == "seat"
    assert nz.student_id("1.10101E+17")[2] == "mangled"


def test_temporary_id_is_replaced_by_the_later_g_number(study):
    res, _ = study
    s = res.tables["students"]
    assert not s["student_id"].astype(str).str.startswith("L").any()
    lina = s[s["name"] == "李娜"]
    assert sorted(lina["year"]) == [2024, 2025] and set(lina["student_id"]) == {LINA_G}
    log = res.log
    rule = log["rule"].astype(str)
    assert ((rule == "temp_id") & (log["old"] == LINA_L)).sum() == 1
    rep = log[rule == "temp_id_replaced"]
    assert set(rep["source"].astype(str)) == {"名册_2024.xlsx", "评估_2024_前测.xlsx"}
    assert set(rep["old"]) == {LINA_L} and set(rep["new"]) == {LINA_G}
    # her pre and post link: one student with both waves
    a = res.tables["assessment_items"]
    assert set(a.loc[a["student_id"] == LINA_G, "wave"]) == {"pre", "post"}


def test_name_variants_match_the_roster(study):
    res, _ = study
    assert linked(res, "评估_2024_前测.xlsx")["买买提 艾力"] == MAIMAITI
    assert linked(res, "评估_2025_后测.xlsx")["买买提•艾力"] == MAIMAITI
    assert "name_variant" in rules(res, "评估_2024_前测.xlsx")[3]
    assert "name_variant" in rules(res, "评估_2025_后测.xlsx")[3]
    assert "name_differs_from_roster" not in set(res.log["rule"].astype(str))
    for a, b in (
        ("买买提·艾力", "买买提艾力"),
        ("买买提・艾力", "买买提 艾力"),
        ("买买提．艾力", "买买提･艾力"),
    ):
        assert nz.name_key(a) == nz.name_key(b)


def test_rare_characters_survive_cleaning_and_parquet(study):
    res, out = study
    names = set(res.tables["students"]["name"])
    assert {"𠮷堃", "张喆㛃", "买买提·艾力"} <= names
    back = load_processed(out)
    assert {"𠮷堃", "张喆㛃"} <= set(back.tables["students"]["name"])
    assert "𠮷堃" in pd.read_parquet(out / "students.parquet")["name"].tolist()


def test_cohort_class_labels(study):
    res, _ = study
    s = res.tables["students"].set_index(["student_id", "year"])
    assert (s.loc[(JI, 2024), "grade"], s.loc[(JI, 2024), "class_no"]) == (7, 3)
    assert (s.loc[(JI, 2025), "grade"], s.loc[(JI, 2025), "class_no"]) == (8, 3)
    assert (s.loc[(ZHANG, 2025), "grade"], s.loc[(ZHANG, 2025), "class_no"]) == (8, 3)
    assert (s.loc[(WANG, 2024), "grade"], s.loc[(CHEN, 2025), "grade"]) == (7, 8)
    rule = res.log["rule"].astype(str)
    assert rule.str.startswith("cohort_class").any()
    # the 2025 survey's 初2024级3班 is 8-3 in 2025: 张喆㛃 links by name + class
    assert linked(res, "评估_2025_后测.xlsx")["张喆㛃"] == ZHANG
    assert nz.cohort_grade("", 2020, 2020, "primary") == 1
    assert nz.cohort_grade("", 2024, 2025, "middle") == 8


def test_split_class_links_within_the_grade(study):
    res, _ = study
    assert linked(res, "评估_2024_前测.xlsx")["陈静"] == CHEN
    assert "linked_in_grade" in rules(res, "评估_2024_前测.xlsx")[6]


def test_late_joiner_is_kept_and_noted(study):
    res, _ = study
    assert linked(res, "评估_2024_前测.xlsx")["赵雷"] == ZHAO
    assert "late_joiner" in rules(res, "评估_2024_前测.xlsx")[7]
    q = res.quarantine
    assert list(q.loc[q["row"] == 9, "reason"]) == ["unknown_student"]  # 周杰: nobody
    assert set(q["reason"]) == {"ambiguous_student", "unknown_student"}
