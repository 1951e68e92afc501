"""`mentorlib check`: the pre-flight of a study folder, before any cleaning."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import openpyxl
import pytest

from mentorlib.cli import main
from mentorlib.io.check import check_study

from conftest import SAMPLE


def test_check_passes_the_sample(capsys):
    assert main(["check", str(SAMPLE), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] and out["reasons"] == [] and out["missing_kinds"] == []
    assert all(s["readable"] for s in out["sources"])
    for s in out["sources"]:
        for sh in s["sheets"]:
            assert sh["missing_required"] == [], s["path"]
            assert sh["matched"], s["path"]
            assert sh["unused"] == [], s["path"]  # a mood chart's 1日 … 31日 are read too
    by_path = {s["path"]: s for s in out["sources"]}
    post = by_path["surveys/发展评估_2023学年_后测.csv"]["sheets"][0]
    assert post["encoding"] == "gb18030" and post["header_row"] == 1
    assert len(post["matched"]) == post["n_fields"] == 29
    assert main(["check", str(SAMPLE)]) == 0
    assert "clean can run" in capsys.readouterr().out


def _without_roster(tmp_path: Path) -> Path:
    """The sample with a garbage survey and no students roster listed in study.toml."""
    study = tmp_path / "study"
    shutil.copytree(SAMPLE, study, ignore=shutil.ignore_patterns("truth"))
    (study / "surveys" / "发展评估_2023学年_前测.xlsx").write_bytes(b"PK\x03\x04 not really" * 50)
    toml = (study / "study.toml").read_text(encoding="utf-8")
    entries = toml.split("[[sources]]")
    toml = "[[sources]]".join(e for e in entries if 'kind = "students"' not in e)
    (study / "study.toml").write_text(toml, encoding="utf-8")
    return study


def test_check_names_a_garbage_file_and_a_missing_roster(tmp_path, capsys):
    study = _without_roster(tmp_path)
    assert main(["check", str(study)]) == 2
    out = capsys.readouterr().out
    assert re.search(r"发展评估_2023学年_前测\.xlsx: .*(workbook|zip)", out)
    assert "no students source in study.toml" in out
    assert "clean cannot run: no student roster can be read" in out
    res = check_study(study)
    assert not res.ok and res.missing_kinds == ["students"]
    bad = [s for s in res.sources if not s["readable"]]
    assert [s["path"] for s in bad] == ["surveys/发展评估_2023学年_前测.xlsx"]


def test_check_exits_0_when_clean_can_run_partially(tmp_path, capsys):
    """An unreadable survey is listed, but the roster reads: clean would skip it (issue 13)."""
    study = tmp_path / "study"
    shutil.copytree(SAMPLE, study, ignore=shutil.ignore_patterns("truth"))
    (study / "surveys" / "发展评估_2023学年_前测.xlsx").write_bytes(b"PK\x03\x04 not really" * 50)
    assert main(["check", str(study)]) == 0
    out = capsys.readouterr().out
    assert "clean can run, partially" in out
    assert re.search(r"\n  surveys/发展评估_2023学年_前测\.xlsx: .*(workbook|zip)", out)
    res = check_study(study)
    assert res.ok and res.partial and len(res.reasons) == 1


def test_check_reports_missing_and_unused_columns(tmp_path):
    """A hand-typed rewards log: a missing required column and an extra one."""
    study = tmp_path / "study"
    study.mkdir()
    (study / "奖惩.csv").write_text(
        "日期,学籍号,姓名,事由,备注\n2024/10/12,G110101201501010012,张三,助人为乐,无\n",
        encoding="utf-8",
    )
    (study / "study.toml").write_text(
        '[study]\nlevel = "primary"\nyears = [2024]\n\n'
        '[[sources]]\nkind = "rewards"\npath = "奖惩.csv"\nyear = 2024\n',
        encoding="utf-8",
    )
    res = check_study(study)
    (src,) = res.sources
    # 奖/惩 (kind) is optional since the records part: the sign of the points says
    assert not src["readable"] and "points" in src["reason"] and "kind" not in src["reason"]
    assert "奖惩.csv" not in src["reason"]  # the report names the file once
    (sh,) = src["sheets"]
    assert sh["encoding"] == "utf-8" and sh["header_row"] == 1
    assert set(sh["matched"]) == {"date", "student_id", "name", "reason"}
    assert sh["unused"] == ["备注"]
    assert set(res.missing_kinds) == {"students", "staff", "groups", "assessment"}


@pytest.mark.parametrize("cmd", ["check", "init"])
def test_missing_folder_is_one_line(tmp_path, capsys, cmd):
    assert main([cmd, str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert "nope" in err and "Traceback" not in err


def test_one_reward_column_holding_points_is_read_as_points(tmp_path):
    """奖/惩 holding +2分 / -1分 and no 分值 column: the column is the points (the kind then
    comes from the sign); with a 分值 column too, 奖/惩 stays the kind."""
    study = tmp_path / "study"
    study.mkdir()
    (study / "奖惩.csv").write_text(
        "日期,学籍号,姓名,事由,奖/惩\n2024/10/12,G110101201501010012,张三,拾金不昧,+2分\n",
        encoding="utf-8",
    )
    (study / "奖惩2.csv").write_text(
        "日期,学籍号,姓名,奖/惩,分值\n2024/10/12,G110101201501010012,张三,奖,2\n",
        encoding="utf-8",
    )
    (study / "study.toml").write_text(
        '[study]\nlevel = "primary"\nyears = [2024]\n\n'
        '[[sources]]\nkind = "rewards"\npath = "奖惩.csv"\nyear = 2024\n\n'
        '[[sources]]\nkind = "rewards"\npath = "奖惩2.csv"\nyear = 2024\n',
        encoding="utf-8",
    )
    one, two = check_study(study).sources
    assert one["readable"] and "points" in one["sheets"][0]["matched"]
    assert one["sheets"][0]["missing"] == ["grade_class", "kind"]
    assert two["readable"] and {"kind", "points"} <= set(two["sheets"][0]["matched"])


def _book(path: Path, sheets: dict[str, list[list]]) -> None:
    """A workbook written by hand: sheet name -> rows (title rows and header included)."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append(r)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)


def test_check_reads_exam_books_by_their_layout(tmp_path):
    """A sheet per subject, a file per subject (records-system exports) and a sheet per class
    without 班级: the layouts ``clean`` reads (test_clean_exams) miss no question; a subject
    sheet naming no subject is said (clean quarantines its rows as unknown_subject)."""
    study = tmp_path / "study"
    head = ["姓名", "学籍号", "班级", "成绩", "班级排名"]
    _book(
        study / "exams/分科.xlsx",
        {
            "语文": [["七年级语文期末成绩"], head, ["张三", None, "七(1)班", 88, 1]],
            "数学": [head, ["张三", None, "七(1)班", 110, 1]],
        },
    )
    _book(study / "exams/英语.xlsx", {"英语": [["姓名", "班级", "分数"], ["张三", "七(1)班", 75]]})
    (study / "exams").mkdir(parents=True, exist_ok=True)
    (study / "exams/物理.csv").write_text(
        "七年级物理期末成绩（满分120）,,\n姓名,班级,得分\n张三,七(1)班,99\n", encoding="utf-8"
    )
    _book(
        study / "exams/分班.xlsx",
        {
            "七(1)班": [["姓名", "语文", "数学(120)", "总分"], ["张三", 88, 110, 198]],
            "Sheet2": [["七年级(2)班期末成绩单"], ["姓名", "语文", "数学(120)", "总分"]]
            + [["李四", 80, 100, 180]],
        },
    )
    _book(
        study / "exams/不明.xlsx", {"Sheet1": [["姓名", "班级", "成绩"], ["张三", "七(1)班", 60]]}
    )
    toml = '[study]\nlevel = "middle"\nyears = [2024]\n'
    for f in ("分科.xlsx", "英语.xlsx", "物理.csv", "分班.xlsx", "不明.xlsx"):
        toml += f'\n[[sources]]\nkind = "exams"\npath = "exams/{f}"\nyear = 2024\nterm = 1\n'
    (study / "study.toml").write_text(toml, encoding="utf-8")

    res = check_study(study)
    by = {Path(s["path"]).name: s for s in res.sources}
    assert all(s["readable"] for s in by.values())
    for name, subjects in (
        ("分科.xlsx", {"语文": "chinese", "数学": "math"}),
        ("英语.xlsx", {"英语": "english"}),
        ("物理.csv", {None: "physics"}),  # a CSV's subject from its title row
    ):
        (sh,) = by[name]["sheets"]
        assert "score" in sh["matched"] and sh["missing_required"] == [], name
        assert not {m for m in sh["missing"] if m.startswith("score")}, name
        assert sh["from_sheet"]["subject"] == subjects, name
    assert by["分科.xlsx"]["sheets"][0]["missing"] == []
    (sh,) = by["分班.xlsx"]["sheets"]
    assert {"score_chinese", "score_math"} <= set(sh["matched"])
    assert sh["missing"] == ["student_id"]  # truly absent: names are linked by 姓名 + class
    assert sh["from_sheet"]["class"] == {"七(1)班": "7-1", "Sheet2": "7-2"}
    (sh,) = by["不明.xlsx"]["sheets"]
    assert sh["from_sheet"]["subject"] == {"Sheet1": None}
    out = "\n".join(res.lines())
    assert "missing: score" not in out and "grade_class" not in out
    assert "no subject in the sheet name or title of Sheet1" in out


def _exam_study(tmp_path: Path) -> Path:
    """The sample's roster and three hand-written exam files: an unreadable CSV, a one-row
    sheet per subject, and a sheet naming no subject (clean quarantines its two rows as
    unknown_subject)."""
    study = tmp_path / "study"
    (study / "exams").mkdir(parents=True)
    roster = "roster/学生名册_2023学年.xlsx"
    (study / "roster").mkdir()
    shutil.copy(SAMPLE / roster, study / roster)
    (study / "exams/坏.csv").write_text('姓名,成绩\n"张三,88\n', encoding="utf-8")
    _book(study / "exams/语文.xlsx", {"语文": [["姓名", "班级", "成绩"], ["张三", "七(1)班", 88]]})
    _book(
        study / "exams/不明.xlsx",
        {"Sheet1": [["姓名", "班级", "成绩"], ["张三", "七(1)班", 60], ["李四", "七(1)班", 70]]},
    )
    toml = '[study]\nlevel = "middle"\nyears = [2024]\n'
    toml += f'\n[[sources]]\nkind = "students"\npath = "{roster}"\nyear = 2024\n'
    for f in ("坏.csv", "语文.xlsx", "不明.xlsx"):
        toml += f'\n[[sources]]\nkind = "exams"\npath = "exams/{f}"\nyear = 2024\nterm = 1\n'
    (study / "study.toml").write_text(toml, encoding="utf-8")
    return study


def test_check_names_an_unreadable_file_once(tmp_path, capsys):
    res = check_study(_exam_study(tmp_path))
    bad = next(s for s in res.sources if s["path"] == "exams/坏.csv")
    assert not bad["readable"] and bad["reason"].startswith("not a readable CSV"), bad["reason"]
    assert [r for r in res.reasons if "坏.csv" in r] == [f"exams/坏.csv: {bad['reason']}"]
    text = "\n".join(res.lines())
    assert text.count("exams/坏.csv") == 2  # its source line and its reason in the closing list
    assert "exams/坏.csv: exams/坏.csv" not in text


def test_check_says_1_row_not_1_rows(tmp_path):
    res = check_study(_exam_study(tmp_path))
    text = "\n".join(res.lines())
    assert "sheet 语文, header row 1, 1 row: " in text and "1 rows" not in text
    assert "sheet Sheet1, header row 1, 2 rows: " in text


def test_check_lists_a_sheet_naming_no_subject_among_the_warnings(tmp_path, capsys):
    study = _exam_study(tmp_path)
    res = check_study(study)
    want = (
        "exams/不明.xlsx: Sheet1: no subject in the sheet name or title: clean will quarantine "
        "all 2 rows (unknown_subject)"
    )
    assert res.warnings == [want]
    text = "\n".join(res.lines())
    assert "no subject in the sheet name or title of Sheet1" in text  # its own line, still
    assert text.endswith(f"clean will quarantine these rows (read, but not usable)\n  {want}")
    assert "!!  exams         exams/不明.xlsx" in text
    main(["check", str(study), "--json"])
    assert json.loads(capsys.readouterr().out)["warnings"] == [want]
