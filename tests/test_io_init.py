"""`mentorlib init`: a suggested study.toml recovers every source of a study folder."""

from __future__ import annotations

import csv
import shutil
import tomllib
from pathlib import Path

import openpyxl
import pytest

from mentorlib.cli import main
from mentorlib.io.check import check_study
from mentorlib.io.init import init_study, name_hints
from mentorlib.io.study import load_config
from mentorlib.synth import SynthParams, generate, write_study


def _recovered(study_dir: Path, tmp_path: Path) -> None:
    """Copy the study without its study.toml, init it, and compare every source."""
    old = tomllib.loads((study_dir / "study.toml").read_text(encoding="utf-8"))
    work = tmp_path / "copy"
    shutil.copytree(study_dir, work, ignore=shutil.ignore_patterns("study.toml"))
    res = init_study(work)
    assert res.path == work / "study.toml" and not res.suggested
    new = tomllib.loads(res.path.read_text(encoding="utf-8"))
    got = {s["path"]: s for s in new["sources"]}
    for s in old["sources"]:
        for key in ("kind", "year", "term", "wave"):
            assert got[s["path"]].get(key) == s.get(key), (s["path"], key)
    assert new["study"]["level"] == old["study"]["level"]
    assert new["study"]["years"] == old["study"]["years"]
    assert len(load_config(work).sources) == len(old["sources"])  # a valid study.toml


def test_init_recovers_a_primary_study(messy_dir, tmp_path):
    _recovered(messy_dir, tmp_path)


def test_init_recovers_a_middle_study(tmp_path):
    study = generate(SynthParams(level="middle", n_students=200, n_years=2, seed=5))
    _recovered(write_study(study, tmp_path / "middle", workers=1), tmp_path)


def test_init_never_overwrites_study_toml(tmp_path, capsys):
    folder = _hand_folder(tmp_path)
    (folder / "study.toml").write_text("# mine\n", encoding="utf-8")
    assert main(["init", str(folder)]) == 0
    assert (folder / "study.toml").read_text(encoding="utf-8") == "# mine\n"
    assert (folder / "study.toml.suggested").is_file()
    assert "left as it is" in capsys.readouterr().out


def _hand_folder(tmp_path: Path) -> Path:
    """A folder as a 班主任 hands it over: a roster with a title row, a GBK rewards CSV named by
    term, and a lunch menu nobody can place."""
    folder = tmp_path / "school"
    folder.mkdir()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "三(2)班"
    ws.append(["2024-2025学年 学生名册"])
    ws.append(["学籍号", "姓名", "性别", "年级", "班级", "出生日期", "是否转学生", "家庭结构",
               "留守儿童", "片区", "身高", "体重"])  # fmt: skip
    ws.append(["G110101201501010012", "张三", "男", "三年级", "三年级2班", "2015-01-01", "否",
               "双亲", "否", "城区", 131, 28.5])  # fmt: skip
    wb.save(folder / "2024-2025 三(2)班名册.xlsx")
    with open(folder / "奖惩_上学期.csv", "w", encoding="gb18030", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["日期", "学籍号", "姓名", "类别", "事由", "分值", "记录人工号"])
        w.writerow(["2024/10/12", "G110101201501010012", "张三", "奖励", "助人为乐", "2", "01201"])
        w.writerow(["2024/11/3", "G110101201501010012", "张三", "奖励", "值日认真", "1", "01201"])
    with open(folder / "午餐菜单.csv", "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([["星期", "主食", "汤"], ["一", "米饭", "紫菜汤"]])
    return folder


def test_init_on_a_hand_written_folder(tmp_path):
    folder = _hand_folder(tmp_path)
    res = init_study(folder)
    text = res.path.read_text(encoding="utf-8")
    by_path = {g.path: g for g in res.guesses}
    roster = by_path["2024-2025 三(2)班名册.xlsx"]
    assert (roster.kind, roster.year, roster.sure) == ("students", 2024, True)
    assert "year from the file name (2024-2025)" in text
    rewards = by_path["奖惩_上学期.csv"]  # no year in the name: the school year of its dates
    assert (rewards.kind, rewards.year, rewards.encoding, rewards.sure) == (
        "rewards",
        2024,
        "gb18030",
        True,
    )
    assert "year from its dates (2 of 2 in 2024学年)" in text
    menu = by_path["午餐菜单.csv"]
    assert not menu.sure and "which kind of file" in menu.questions[0]
    assert '# path = "午餐菜单.csv"' in text  # listed, commented out, with its question
    listed = {s["path"] for s in tomllib.loads(text)["sources"]}
    assert "午餐菜单.csv" not in listed and "2024-2025 三(2)班名册.xlsx" in listed


def test_dates_without_a_year_do_not_place_a_file(tmp_path):
    # a term's log written "9月15日" (no year): it places the file in no school year, and a
    # year from the file's name is not doubted on its account ("dates fall in 1学年" before)
    folder = _hand_folder(tmp_path)
    for name, dates in (
        ("奖惩_2024学年.csv", ["9月15日", "10月8日"]),
        ("奖惩_下学期.csv", ["3月2日"]),
    ):
        with open(folder / name, "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["日期", "学籍号", "姓名", "类别", "事由", "分值", "记录人工号"])
            for d in dates:
                w.writerow([d, "G110101201501010012", "张三", "奖励", "值日认真", "1", "01201"])
    res = init_study(folder)
    by_path = {g.path: g for g in res.guesses}
    named = by_path["奖惩_2024学年.csv"]
    assert named.year == 2024 and not any("dates fall in" in w for w in named.why)
    bare = by_path["奖惩_下学期.csv"]
    assert bare.year is None and any("which school year" in q for q in bare.questions)
    text = res.path.read_text(encoding="utf-8")
    assert "1学年" not in text
    assert "# ? school: the school's name" in text  # left empty: asked for


@pytest.mark.parametrize(
    "name, expected",
    [
        ("发展评估_2023学年_前测.csv", {"year": 2023, "wave": "pre"}),
        ("2023-2024/后测.xlsx", {"year": 2023, "wave": "post"}),
        ("满意度_2024春季.xlsx", {"year": 2023, "term": 2}),
        ("成绩_2023学年下学期.xlsx", {"year": 2023, "term": 2}),
        ("assessment_2024_pre.csv", {"bare_year": 2024, "wave": "pre"}),
        ("成绩_第一学期.xlsx", {"term": 1}),
        ("present.csv", {}),
    ],
)
def test_name_hints(name, expected):
    got = {k: v for k, v in name_hints(name).items() if k != "why"}
    assert got == expected


def _survey(path: Path, items: list[tuple[str, str]]) -> None:
    """A hand-made questionnaire export: name, student ID, class, then one column per item."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["姓名", "学籍号", "班级", *(f"{i}、{t}" for i, (_, t) in enumerate(items, 1))])
    ws.append(["张三", "G440106201101032180", "初一(1)班", *(["同意"] * len(items))])
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)


def test_init_writes_the_version_that_dropped_an_item(tmp_path, capsys):
    """A 2024 questionnaire that no longer asks one item is the same questionnaire, a later
    version: init writes the study's codebook with [[versions]] and both years read with it."""
    cb = tomllib.loads(
        (Path(__file__).parents[1] / "mentorlib/io/codebooks/assessment_middle.toml").read_text(
            encoding="utf-8"
        )
    )
    ident = {"name", "student_id", "grade_class"}
    items = [
        (f["var"], f["text"] if isinstance(f["text"], str) else f["text"][0])
        for f in cb["fields"]
        if f["var"] not in ident and f.get("required", True)
    ]
    dropped = [v for v, _ in items if v.startswith("life")][-1]
    folder = tmp_path / "school"
    _survey(folder / "问卷/成长评估_2023学年_前测.xlsx", items)
    _survey(folder / "问卷/成长评估_2024学年_前测.xlsx", [x for x in items if x[0] != dropped])
    assert main(["init", str(folder)]) == 0
    assert "?" not in capsys.readouterr().out
    toml = tomllib.loads((folder / "study.toml").read_text(encoding="utf-8"))
    assert {s["codebook"] for s in toml["sources"]} == {"codebooks/assessment_middle.toml"}
    assert {(s["year"], s["wave"]) for s in toml["sources"]} == {(2023, "pre"), (2024, "pre")}
    local = tomllib.loads((folder / "codebooks/assessment_middle.toml").read_text(encoding="utf-8"))
    assert local["versions"] == [{"from_year": 2024, "drop": [dropped]}]
    # the folder checks as clean would read it: each year with the version in force
    res = check_study(folder)
    assert all(s["readable"] for s in res.sources)
