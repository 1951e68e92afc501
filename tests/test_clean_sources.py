"""Data that would put impossible numbers in a report is caught at cleaning (issue 11, item 8)."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from mentorlib.clean import clean_study

from conftest import SAMPLE

MOOD = "records/心情晴雨表_2025学年.csv"


def _sources_of(toml: str, path: str) -> str:
    start = toml.index(f'path = "{path}"')
    start = toml.rindex("[[sources]]", 0, start)
    end = toml.find("\n\n", start)
    return toml[start : end + 2 if end >= 0 else None]


@pytest.fixture(scope="module")
def triplicated(tmp_path_factory):
    """The sample with its 2025 mood file handed over three times (two copies, three sources)."""
    study = tmp_path_factory.mktemp("tri") / "study"
    shutil.copytree(SAMPLE, study)
    toml = (study / "study.toml").read_text(encoding="utf-8")
    block = _sources_of(toml, MOOD)
    for k in (2, 3):
        copy = MOOD.replace(".csv", f"_副本{k}.csv")
        shutil.copy(study / MOOD, study / copy)
        toml += "\n" + block.replace(MOOD, copy)
    (study / "study.toml").write_text(toml, encoding="utf-8")
    return clean_study(study, None)


@pytest.fixture(scope="module")
def single():
    return clean_study(SAMPLE, None)


def test_triplicated_mood_file_gives_the_same_mood_table(triplicated, single):
    a = triplicated.tables["mood"].sort_values(["student_id", "month"], ignore_index=True)
    b = single.tables["mood"].sort_values(["student_id", "month"], ignore_index=True)
    pd.testing.assert_frame_equal(a, b)
    rs = triplicated.row_status
    copies = rs[rs["source"].astype(str).str.contains("副本")]
    n2025 = int((single.row_status["source"].astype(str) == MOOD).sum())
    assert len(copies) == 2 * n2025
    kept_first = single.row_status[single.row_status["source"].astype(str) == MOOD]
    n_alive = int((kept_first["status"] == "kept").sum())
    dup = copies[copies["reason"].astype(str) == "exact_duplicate"]
    assert len(dup) == 2 * n_alive and (dup["status"] == "merged").all()
    assert dup["merged_into"].str.startswith(MOOD + "#").all()
    log = triplicated.log
    notes = log[log["rule"].astype(str).eq("exact_duplicate") & log["source"].str.contains("副本")]
    assert len(notes) == 2 and notes["old"].eq(f"{n_alive} rows").all()


def test_triplicated_mood_file_keeps_rates_at_most_one(triplicated, single):
    from mentorlib.compliance import compliance_report

    tri = compliance_report(triplicated.processed(), 2025).indicators
    one = compliance_report(single.processed(), 2025).indicators
    pd.testing.assert_frame_equal(tri, one)
    mood = tri.loc[tri["indicator"] == "mood_participation", "value"]
    assert len(mood) == 1 and 0 < float(mood.iloc[0]) <= 1
    shares = pd.to_numeric(tri.loc[tri["unit"] == "share", "value"], errors="coerce").dropna()
    assert len(shares) and shares.between(0, 1).all()


def test_the_same_rows_repeated_in_one_file(tmp_path, single):
    study = tmp_path / "study"
    shutil.copytree(SAMPLE, study)
    raw = (study / MOOD).read_bytes()
    lines = raw.split(b"\n")
    body = [ln for ln in lines[1:] if ln.strip()]
    (study / MOOD).write_bytes(b"\n".join([lines[0], *body, *body[:40]]) + b"\n")
    res = clean_study(study, None)
    a = res.tables["mood"].sort_values(["student_id", "month"], ignore_index=True)
    b = single.tables["mood"].sort_values(["student_id", "month"], ignore_index=True)
    pd.testing.assert_frame_equal(a, b)
    rs = res.row_status[res.row_status["source"].astype(str) == MOOD]
    dup = rs[rs["reason"].astype(str) == "exact_duplicate"]
    first_alive = (
        single.row_status[single.row_status["source"].astype(str) == MOOD]
        .head(40)["status"]
        .eq("kept")
        .sum()
    )
    assert len(dup) == first_alive and (dup["status"] == "merged").all()
    # each repeat points at its own first copy, 40 body lines above (header is row 1)
    rows = dup["row"].to_numpy()
    assert (dup["merged_into"] == [f"{MOOD}#{r - len(body)}" for r in rows]).all()


ROSTER = """序号,学籍号,姓名,性别,出生日期,班级,是否转入生,家庭结构,是否留守儿童,家庭住址片区,身高(cm),体重(kg)
1,G44010620161218723X,潘阳,男,2016-12-18,一年级1班,否,双亲,否,西城片区,129.7,30.9
2,G330106201611174802,余欣妍,女,2021-01-05,一年级1班,否,双亲,否,城郊村,115.1,21.8
3,G440106201702067856,李天,男,1983-02-06,一年级1班,否,双亲,否,北湖片区,121.8,19.7
4,G440106201604049654,朱瑞馨,男,2016-04-04,一年级2班,否,双亲,否,北湖片区,135.6,30.5
5,G440106201604049654,朱瑞馨,男,2016-04-04,一年级1班,否,双亲,否,北湖片区,135.6,30.5
6,G330106201606087659,曹俊,男,2016-06-08,一年级2班,否,双亲,否,城郊村,126.8,31.1
7,G330106201606087659,曹俊,男,2016-06-08,一年级2班,否,双亲,否,城郊村,126.8,31.1
"""
STAFF = """工号,姓名,性别,岗位,任教学科,联系班级,班主任班级,任教班级,导师培训学时,是否取得导师证书,是否骨干导师,特长
20006,程馨,女,班主任,数学,一年级1班,一年级1班,一年级1班,32,否,是,思想教育
"""
ACTS = """日期,导师工号,导师姓名,学生姓名,学籍号,活动类型,方式,时长(分钟),记录摘要
2023/9/1,20006,程馨,潘阳,G44010620161218723X,谈心谈话,面谈,24,了解近期学习情况
2099/9/1,20006,程馨,潘阳,G44010620161218723X,谈心谈话,面谈,25,了解近期学习情况
1900/1/1,20006,程馨,潘阳,G44010620161218723X,谈心谈话,面谈,26,了解近期学习情况
2023/9/1,20006,程馨,潘阳,G44010620161218723X,谈心谈话,面谈,24,了解近期学习情况
45000,20006,程馨,潘阳,G44010620161218723X,谈心谈话,面谈,27,了解近期学习情况
"""
TOML = """[study]
name = "hand"
level = "primary"
years = [2023]

[[sources]]
kind = "students"
path = "roster.csv"
year = 2023

[[sources]]
kind = "staff"
path = "staff.csv"
year = 2023

[[sources]]
kind = "activities"
path = "acts.csv"
year = 2023
"""


@pytest.fixture(scope="module")
def hand(tmp_path_factory):
    d = tmp_path_factory.mktemp("hand")
    for name, text in (
        ("study.toml", TOML),
        ("roster.csv", ROSTER),
        ("staff.csv", STAFF),
        ("acts.csv", ACTS),
    ):
        (d / name).write_text(text, encoding="utf-8")
    return clean_study(d, None)


def test_implausible_birth_dates_are_logged_and_set_missing(hand):
    s = hand.tables["students"].set_index("student_id")
    assert pd.isna(s.loc["G330106201611174802", "birth_date"])  # 2 years old
    assert pd.isna(s.loc["G440106201702067856", "birth_date"])  # 40 years old
    assert s.loc["G44010620161218723X", "birth_date"] == pd.Timestamp("2016-12-18")
    log = hand.log[hand.log["rule"].astype(str) == "implausible_birth_date"]
    assert sorted(log["old"]) == ["1983-02-06", "2021-01-05"]
    assert sorted(log["row"]) == [3, 4] and (log["column"].astype(str) == "出生日期").all()


def test_a_student_in_two_classes_is_quarantined_naming_both(hand):
    q = hand.quarantine
    two = q[q["reason"] == "two_classes_in_roster"]
    assert sorted(two["row"]) == [5, 6]
    assert (two["detail"] == "学籍号 listed in classes 1-1 and 1-2 of this roster").all()
    assert "G440106201604049654" not in set(hand.tables["students"]["student_id"])
    # the same class twice is still a repeated submission, merged
    rs = hand.row_status
    rs = rs[rs["source"].astype(str) == "roster.csv"].set_index("row")
    assert rs.loc[7, "status"] == "merged" and rs.loc[8, "status"] == "kept"


def test_dates_outside_the_study_are_logged_and_set_missing(hand):
    log = hand.log[hand.log["rule"].astype(str) == "date_outside_study"]
    # 45000 is Excel's serial for 2023-03-15: the spring before the study's first school year
    assert sorted(log["old"].astype(str)) == ["1900/1/1", "2099/9/1", "45000"]
    assert sorted(log["row"]) == [3, 4, 6] and log["new"].isna().all()
    a = hand.tables["activities"]
    assert len(a) == 1 and a["date"].iloc[0] == pd.Timestamp("2023-09-01")
    rs = hand.row_status
    rs = rs[rs["source"].astype(str) == "acts.csv"].set_index("row")
    assert list(rs.loc[[3, 4, 6], "reason"]) == ["no_date"] * 3
    # an exact repeat of a log line is merged into its first copy
    assert rs.loc[5, "status"] == "merged" and rs.loc[5, "reason"] == "exact_duplicate"
    assert rs.loc[5, "merged_into"] == "acts.csv#2"
