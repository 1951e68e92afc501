"""Exam books as schools keep them (issue 13, item 5).

Two workbooks written by hand the way a 教务处 or a 班主任 fills them, cleaned inside a tiny
primary study (the sample's 2023 roster, staff and groups):

* 第1学期: one sheet per subject (语文, 数学, 英语), title rows above the header, one 成绩
  column, a 班级排名 column, 缺考/作弊/违纪/免考/缺 markers, a half point and a 数学 sheet out of
  120 with one score above it;
* 第2学期: one sheet per class with no 班级 column (the class in the title row, the sheet name,
  or only a class number whose grade the roster settles), 数学(120) and 英语（满分150） headers,
  总分 and 年级排名 columns.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from mentorlib.clean import clean_study
from mentorlib.clean.exams import class_in, full_mark_in, subject_in, subject_names
from mentorlib.io.check import check_study
from mentorlib.io.codebook import load_codebook

from conftest import SAMPLE

ROSTER = "roster/学生名册_2023学年.xlsx"
TERM1 = "exams/期末成绩_分科.xlsx"
TERM2 = "exams/期末成绩_分班.xlsx"


#: The sample's 2023 roster is one class of 一年级: its students are spread over grades 2-6
#: (class 1 of each), as a school's roster of several grades would be.
SPREAD = {3: range(0, 4), 4: range(4, 6), 5: range(6, 7), 6: range(7, 8), 2: range(8, 11)}
GRADES = "一二三四五六"


def spread_roster(root: Path) -> dict[int, list[tuple[str, str]]]:
    """Rewrite the copied roster's 班级 column; (学籍号, 姓名) of the moved students by grade."""
    path = root / ROSTER
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    head = [c.value for c in ws[1]]
    sid, name, cls = head.index("学籍号") + 1, head.index("姓名") + 1, head.index("班级") + 1
    out: dict[int, list[tuple[str, str]]] = {}
    for g, rows in SPREAD.items():
        for k in rows:
            r = k + 2
            ws.cell(r, cls).value = f"{GRADES[g - 1]}年级1班"
            out.setdefault(g, []).append((ws.cell(r, sid).value, ws.cell(r, name).value))
    wb.save(path)
    return out


def write_book(path: Path, sheets: list[tuple[str, list[str], list, list[list]]]) -> None:
    """A workbook: per sheet its name, title rows, header row and data rows."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, titles, header, rows in sheets:
        ws = wb.create_sheet(name)
        for t in titles:
            ws.append([t])
        ws.append(header)
        for r in rows:
            ws.append(r)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)


def subject_book(path: Path, g3: list[tuple[str, str]]) -> None:
    (a, na), (b, nb), (c, nc), (d, nd) = g3[:4]
    head = ["姓名", "学籍号", "班级", "成绩", "班级排名"]
    cls = "三(1)班"
    write_book(
        path,
        [
            (
                "语文",
                ["三年级语文期末成绩"],
                head,
                [
                    [na, a, cls, 88, 2],
                    [nb, None, cls, "缺考", None],
                    [nc, c, cls, 87.5, 3],
                    [nd, d, cls, 92, 1],
                ],
            ),
            (
                "数学",
                ["2023学年第一学期", "三年级数学期末成绩（满分120）"],
                head,
                [
                    [na, a, cls, 110, 1],
                    [nb, None, cls, "作弊", None],
                    [nc, c, cls, 130, 2],
                    [nd, d, cls, "违纪", None],
                ],
            ),
            (
                "英语",
                [],
                head,
                [
                    [na, a, cls, "免考", None],
                    [nb, None, cls, 75, 1],
                    [nc, c, cls, 60, 2],
                    [nd, d, cls, "缺", None],
                ],
            ),
        ],
    )


def class_book(path: Path, by: dict[int, list[tuple[str, str]]]) -> None:
    head = ["姓名", "语文", "数学(120)", "英语（满分150）", "总分", "年级排名"]
    (_, t0), (_, t1) = by[4][:2]
    write_book(
        path,
        [
            (
                "Sheet1",
                ["四年级(1)班期末成绩单"],
                head,
                [[t0, 90, 118, 140, 348, 1], [t1, "缺考", 130, 87.5, 217.5, 9]],
            ),
            ("1班", ["五年级期末成绩"], head, [[by[5][0][1], 80, 95, "免考", 175, 3]]),
            ("六(1)班", [], head, [[by[6][0][1], 70, 100, "作弊", 170, 5]]),
            (
                "(1)班",
                [],
                head,
                [[n, 60 + k, 70 + k, 80 + k, None, None] for k, (_, n) in enumerate(by[2][:3])],
            ),
        ],
    )


def make_study(root: Path) -> dict[int, list[tuple[str, str]]]:
    for rel in (ROSTER, "roster/教职工名册_2023学年.xlsx", "groups/导师分组_2023学年.xlsx"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(SAMPLE / rel, root / rel)
    by = spread_roster(root)
    subject_book(root / TERM1, by[3])
    class_book(root / TERM2, by)
    (root / "study.toml").write_text(
        f"""[study]
name = "exams"
level = "primary"
years = [2023]

[[sources]]
kind = "students"
path = "{ROSTER}"
year = 2023

[[sources]]
kind = "staff"
path = "roster/教职工名册_2023学年.xlsx"
year = 2023

[[sources]]
kind = "groups"
path = "groups/导师分组_2023学年.xlsx"
year = 2023

[[sources]]
kind = "exams"
path = "{TERM1}"
year = 2023
term = 1

[[sources]]
kind = "exams"
path = "{TERM2}"
year = 2023
term = 2
""",
        encoding="utf-8",
    )
    return by


@pytest.fixture(scope="module")
def cleaned(tmp_path_factory):
    root = tmp_path_factory.mktemp("exams") / "study"
    by = make_study(root)
    return clean_study(root), by


def result(res, term: int) -> dict[tuple[str, str], tuple[float | None, str]]:
    ex = res.tables["exams"]
    ex = ex[ex["term"] == term]
    out = {}
    for r in ex.itertuples():
        score = None if pd.isna(r.score) else float(r.score)
        out[(str(r.student_id), str(r.subject))] = (score, str(r.status))
    return out


def log_of(res, source: str) -> pd.DataFrame:
    log = res.log
    return log[log["source"].astype(str) == source]


def test_one_sheet_per_subject(cleaned):
    res, by = cleaned
    (a, _), (b, _), (c, _), (d, _) = by[3][:4]
    got = result(res, 1)
    assert got == {
        (a, "chinese"): (88.0, "sat"),
        (b, "chinese"): (None, "absent"),
        (c, "chinese"): (87.5, "sat"),  # a half point kept
        (d, "chinese"): (92.0, "sat"),
        (a, "math"): (110.0, "sat"),  # within the 120 of the title row
        (b, "math"): (None, "void"),  # 作弊
        (d, "math"): (None, "void"),  # 违纪
        (a, "english"): (None, "exempt"),
        (b, "english"): (75.0, "sat"),
        (c, "english"): (60.0, "sat"),
        (d, "english"): (None, "absent"),  # 缺
    }
    log = log_of(res, TERM1)
    subj = log[log["rule"] == "subject_from_sheet"]
    assert dict(zip(subj["sheet"].astype(str), subj["new"], strict=True)) == {
        "语文": "chinese",
        "数学": "math",
        "英语": "english",
    }
    full = log[log["rule"] == "full_marks"]
    assert dict(zip(full["sheet"].astype(str), full["new"], strict=True)) == {
        "语文": "100",
        "数学": "120",
        "英语": "100",
    }
    derived = log[log["rule"] == "derived_column_ignored"]
    assert set(derived["column"].astype(str)) == {"班级排名"}
    # the sheets are never merged as duplicates of one another: nothing merged at all
    rs = res.row_status
    rs = rs[rs["source"].astype(str) == TERM1]
    assert (rs["status"].astype(str) != "merged").all()


def test_a_score_above_full_marks_is_quarantined(cleaned):
    res, by = cleaned
    q = res.quarantine
    q = q[q["source"].astype(str) == TERM1]
    assert list(q["reason"].astype(str)) == ["score_above_full_marks"]
    assert str(q["sheet"].iloc[0]) == "数学"
    assert "130" in str(q["detail"].iloc[0]) and "120" in str(q["detail"].iloc[0])


def test_one_sheet_per_class(cleaned):
    res, by = cleaned
    (t0, _), (t1, _) = by[4][:2]
    u0, v0 = by[5][0][0], by[6][0][0]
    got = result(res, 2)
    want = {
        (t0, "chinese"): (90.0, "sat"),
        (t0, "math"): (118.0, "sat"),
        (t0, "english"): (140.0, "sat"),  # out of 150
        (t1, "chinese"): (None, "absent"),
        (t1, "math"): (None, "invalid"),  # 130 > 120: the cell, not the student's other scores
        (t1, "english"): (87.5, "sat"),
        (u0, "chinese"): (80.0, "sat"),
        (u0, "math"): (95.0, "sat"),
        (u0, "english"): (None, "exempt"),
        (v0, "chinese"): (70.0, "sat"),
        (v0, "math"): (100.0, "sat"),
        (v0, "english"): (None, "void"),
    }
    for k, (sid, _) in enumerate(by[2][:3]):
        want |= {
            (sid, "chinese"): (60.0 + k, "sat"),
            (sid, "math"): (70.0 + k, "sat"),
            (sid, "english"): (80.0 + k, "sat"),
        }
    assert got == want
    assert not (res.quarantine["source"].astype(str) == TERM2).any()
    log = log_of(res, TERM2)
    cls = log[log["rule"] == "class_from_sheet"]
    assert dict(zip(cls["sheet"].astype(str), cls["new"], strict=True)) == {
        "Sheet1": "4-1",  # the title row
        "1班": "5-1",  # the sheet's class, the title's grade
        "六(1)班": "6-1",  # the sheet name
        "(1)班": "2-1",  # a class number only: the grade where the roster has these names
    }
    full = log[log["rule"] == "full_marks"]
    assert set(zip(full["column"].astype(str), full["new"], strict=True)) == {
        ("语文", "100"),
        ("数学(120)", "120"),
        ("英语（满分150）", "150"),
    }
    derived = log[log["rule"] == "derived_column_ignored"]
    assert set(derived["column"].astype(str)) == {"总分", "年级排名"}
    assert (log["rule"].astype(str) == "out_of_range").sum() == 1


def test_full_marks_and_subjects_from_text(tmp_path):
    assert full_mark_in("数学(120)") == 120
    assert full_mark_in("数学（满分150）") == 150
    assert full_mark_in("三年级数学期末成绩 满分120") == 120
    assert full_mark_in("数学") is None
    known = subject_names(load_codebook("exams"))
    assert subject_in("七年级语文期末成绩", known) == "chinese"
    assert subject_in("道德与法治", known) == "politics"
    assert subject_in("语文数学", known) is None  # two subjects: neither
    assert class_in(["七年级(3)班期末成绩单"]) == ("7-3", None, None)
    assert class_in(["初一3班"]) == ("7-3", None, None)
    assert class_in(["3班", "七年级期末成绩"]) == ("7-3", None, None)
    assert class_in(["3班"]) == (None, 3, None)
    # a codebook field's full_marks
    cb = tmp_path / "exams_local.toml"
    cb.write_text(
        '[codebook]\nname = "exams_local"\nkind = "exams"\n\n'
        '[[fields]]\nvar = "name"\ntext = "姓名"\ntype = "name"\n\n'
        '[[fields]]\nvar = "score_math"\ntext = "数学"\ntype = "score"\nsubject = "math"\n'
        "full_marks = 150\nrequired = false\n",
        encoding="utf-8",
    )
    assert load_codebook(cb).field("score_math").full_marks == 150
    assert not math.isnan(150.0)


# ----------------------------------------------------------------------------- a trial's files

TRIAL_CSV = "exams/期末成绩_教务系统导出.csv"
TRIAL_BOOK = "exams/期末成绩_总分.xlsx"


def trial_study(root: Path) -> dict[int, list[tuple[str, str]]]:
    """The study with a trial's two exam files.

    Term 1: a workbook whose 语文 sheet has a 成绩 column, and whose 三(1)班 sheet has neither
    成绩 nor a subject (姓名, 学籍号, 班级, 总分, 班级排名). Term 2 as the records system exports
    it: a CSV (GBK, CRLF) whose first line is a title with no commas, then the header, the data.
    """
    by = make_study(root)
    (a, na), (b, nb), (c, nc) = by[3][:3]
    write_book(
        root / TRIAL_BOOK,
        [
            ("语文", [], ["姓名", "学籍号", "班级", "成绩"], [[na, a, "三(1)班", 81]]),
            (
                "三(1)班",
                ["三(1)班期末总分"],
                ["姓名", "学籍号", "班级", "总分", "班级排名"],
                [
                    [na, a, "三(1)班", 250, 2],
                    [nb, b, "三(1)班", 260, 1],
                    [nc, c, "三(1)班", 240, 3],
                ],
            ),
        ],
    )
    (t0, n0), (t1, n1) = by[4][:2]
    lines = [
        "2023学年第二学期期末成绩",
        "学号,姓名,班级,语文,数学,英语,总分",
        f"{t0},{n0},四年级1班,90,100,80,270",
        f"{t1},{n1},四年级1班,缺考,88,70,158",
    ]
    (root / TRIAL_CSV).write_bytes(("\r\n".join(lines) + "\r\n").encode("gb18030"))
    toml = root / "study.toml"
    text = toml.read_text(encoding="utf-8").replace(TERM2, TRIAL_CSV).replace(TERM1, TRIAL_BOOK)
    toml.write_text(text, encoding="utf-8")
    return by


@pytest.fixture(scope="module")
def trial(tmp_path_factory):
    root = tmp_path_factory.mktemp("trial") / "study"
    by = trial_study(root)
    return root, check_study(root), clean_study(root), by


def test_a_csv_with_a_title_row_is_checked_and_cleaned(trial):
    root, chk, res, by = trial
    src = next(s for s in chk.sources if s["path"] == TRIAL_CSV)
    assert src["readable"] and src["reason"] is None, src["reason"]
    [sh] = src["sheets"]
    assert sh["header_row"] == 2 and sh["rows"] == 2 and sh["missing_required"] == []
    (t0, _), (t1, _) = by[4][:2]
    assert result(res, 2) == {
        (t0, "chinese"): (90.0, "sat"),
        (t0, "math"): (100.0, "sat"),
        (t0, "english"): (80.0, "sat"),
        (t1, "chinese"): (None, "absent"),
        (t1, "math"): (88.0, "sat"),
        (t1, "english"): (70.0, "sat"),
    }
    assert TRIAL_CSV not in {f["path"] for f in res.failed_sources}
    summ = res.summary[res.summary["source"].astype(str) == TRIAL_CSV]
    assert summ[["rows_in", "kept"]].to_numpy().tolist() == [[2, 2]]


def test_a_sheet_with_no_score_column_is_quarantined_not_dropped(trial):
    root, chk, res, by = trial
    (a, _), (b, _), (c, _) = by[3][:3]
    assert result(res, 1) == {(a, "chinese"): (81.0, "sat")}  # the 语文 sheet's one row
    q = res.quarantine[res.quarantine["source"].astype(str) == TRIAL_BOOK]
    assert list(q["reason"].astype(str)) == ["no_score_column"] * 3
    assert set(q["sheet"].astype(str)) == {"三(1)班"} and sorted(q["row"].tolist()) == [3, 4, 5]
    assert "总分" in str(q["detail"].iloc[0])
    summ = res.summary[res.summary["source"].astype(str) == TRIAL_BOOK]
    by_sheet = {
        str(r.sheet): (r.rows_in, r.kept, r.merged, r.quarantined) for r in summ.itertuples()
    }
    assert by_sheet == {"语文": (1, 1, 0, 0), "三(1)班": (3, 0, 0, 3)}
    # check reads the source, and says clean will quarantine that sheet's rows
    src = next(s for s in chk.sources if s["path"] == TRIAL_BOOK)
    assert src["readable"]
    [warn] = src["warnings"]
    assert warn.startswith("三(1)班: no score column") and "3 rows (no_score_column)" in warn
    assert chk.warnings == [f"{TRIAL_BOOK}: {warn}"]
    text = "\n".join(chk.lines())
    assert f"!!  exams         {TRIAL_BOOK}" in text and f"ok  exams         {TRIAL_CSV}" in text
    assert "clean will quarantine these rows" in text and warn in text
    assert chk.to_dict()["warnings"] == chk.warnings


# ----------------------------------------------------------------------------- rows with no score


def blank_study(root: Path) -> dict[int, list[tuple[str, str]]]:
    """The study with its two books rewritten: rows with no score, and blank markers.

    Term 1, a sheet per subject: in 语文 one score, then a blank 成绩, a "/" and a "—"; in 数学
    缺考, 缺, 免考 and a score. Term 2, a sheet per class: a row with 语文 only (数学 blank, 英语
    "/"), a row whose every subject is blank (its 总分 filled: a teacher's leftover), a row
    whose every subject is a blank marker.
    """
    by = make_study(root)
    (a, na), (b, nb), (c, nc), (d, nd) = by[3][:4]
    head = ["姓名", "学籍号", "班级", "成绩"]
    cls = "三(1)班"
    write_book(
        root / TERM1,
        [
            (
                "语文",
                [],
                head,
                [[na, a, cls, 81], [nb, b, cls, None], [nc, c, cls, "/"], [nd, d, cls, "—"]],
            ),
            (
                "数学",
                [],
                head,
                [[na, a, cls, "缺考"], [nb, b, cls, "缺"], [nc, c, cls, "免考"], [nd, d, cls, 90]],
            ),
        ],
    )
    (_, t0), (_, t1) = by[4][:2]
    n2 = by[5][0][1]
    write_book(
        root / TERM2,
        [
            (
                "四(1)班",
                [],
                ["姓名", "语文", "数学", "英语", "总分"],
                [[t0, 90, None, "/", 90], [t1, None, None, None, 0]],
            ),
            ("五(1)班", [], ["姓名", "语文", "数学", "英语"], [[n2, "—", "/", "--"]]),
        ],
    )
    return by


@pytest.fixture(scope="module")
def blank(tmp_path_factory):
    root = tmp_path_factory.mktemp("blank") / "study"
    by = blank_study(root)
    return check_study(root), clean_study(root), by


def test_a_row_with_no_score_is_quarantined_not_kept_silently(blank):
    chk, res, by = blank
    (a, _), (b, _), (c, _), (d, _) = by[3][:4]
    t0 = by[4][0][0]
    # the markers keep their meaning; a blank or a / or — is never a 0, absent or invalid
    assert result(res, 1) == {
        (a, "chinese"): (81.0, "sat"),
        (a, "math"): (None, "absent"),
        (b, "math"): (None, "absent"),
        (c, "math"): (None, "exempt"),
        (d, "math"): (90.0, "sat"),
    }
    assert result(res, 2) == {(t0, "chinese"): (90.0, "sat")}
    q = res.quarantine[res.quarantine["source"].astype(str).str.startswith("exams/")]
    got = {(str(r.source), str(r.sheet), int(r.row), str(r.reason)) for r in q.itertuples()}
    assert got == {
        (TERM1, "语文", 3, "blank_score"),
        (TERM1, "语文", 4, "blank_score"),
        (TERM1, "语文", 5, "blank_score"),
        (TERM2, "四(1)班", 3, "blank_score"),
        (TERM2, "五(1)班", 2, "blank_score"),
    }
    details = set(q["detail"].astype(str))
    assert details == {
        "no score in the 成绩 column: blank, or a blank marker",
        "no score in any subject column (语文, 数学, 英语): blank, or a blank marker",
    }
    # every row accounted for: none kept without a score
    s = res.summary[res.summary["source"].astype(str).isin([TERM1, TERM2])]
    by_sheet = {str(r.sheet): (r.rows_in, r.kept, r.quarantined) for r in s.itertuples()}
    assert by_sheet == {
        "语文 … 数学 (2 sheets)": (8, 5, 3),  # one header: the two sheets read as one
        "四(1)班": (2, 1, 1),
        "五(1)班": (1, 0, 1),
    }
    assert (s["rows_in"] == s["kept"] + s["merged"] + s["quarantined"]).all()
    # the cleaning log: each blank marker read as blank, and each sheet's count of such rows
    log = res.log[res.log["source"].astype(str).isin([TERM1, TERM2])]
    marks = log[log["rule"].astype(str) == "skip_marker"]
    assert sorted(marks["old"].astype(str)) == sorted(["/", "—", "/", "—", "/", "--"])
    assert marks["new"].isna().all()
    notes = log[log["rule"].astype(str) == "blank_score"]
    assert {(str(r.sheet), r.new) for r in notes.itertuples()} == {
        ("语文", "3 rows"),
        ("四(1)班", "1 row"),
        ("五(1)班", "1 row"),
    }


def test_check_warns_of_the_rows_with_no_score(blank):
    chk, res, by = blank
    want = {
        f"{TERM1}: 语文: clean will quarantine 3 rows with no score in any score column "
        "(blank_score)",
        f"{TERM2}: 四(1)班: clean will quarantine 1 row with no score in any score column "
        "(blank_score)",
        f"{TERM2}: 五(1)班: clean will quarantine 1 row with no score in any score column "
        "(blank_score)",
    }
    assert set(chk.warnings) == want and chk.to_dict()["warnings"] == chk.warnings
    text = "\n".join(chk.lines())
    assert "clean will quarantine these rows" in text
    assert "warning: 语文: clean will quarantine 3 rows with no score" in text
    # what check counts is what clean quarantines
    q = res.quarantine
    assert int((q["reason"].astype(str) == "blank_score").sum()) == 3 + 1 + 1
