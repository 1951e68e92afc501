"""Question wording drift (issue 13, item 4) and `mentorlib codebook suggest`.

Header lists are written by hand the way a school's questionnaire changes between years
(hints, section prefixes, numbering, rewordings); the end-to-end checks rewrite the header row
of the sample study's 问卷星 CSV by hand and clean a small copy of the study.
"""

from __future__ import annotations

import csv
import shutil

import pytest

from mentorlib.clean import clean_study
from mentorlib.errors import InputError
from mentorlib.io.codebook import FUZZY_THRESHOLD, header_forms, load_codebook, norm_text
from mentorlib.io.readers import match_columns
from mentorlib.io.suggest import write_suggestion

from conftest import SAMPLE

CB = load_codebook("assessment_primary")
POST = "surveys/发展评估_2023学年_后测.csv"
ATTEND = "上课时我能专心听讲"  # an item of the academic dimension


def _var(text: str) -> str:
    return next(f.var for f in CB.fields if text in f.text)


def _header(**replace: str) -> list[str]:
    """A 问卷星 按文本 header for the primary assessment, with some questions replaced."""
    out = ["序号", "提交答卷时间", "所用时间"]
    for i, f in enumerate(CB.fields, 1):
        out.append(replace.get(f.var, f"{i}、{f.label}"))
    return out


@pytest.mark.parametrize(
    "var, drifted",
    [
        ("student_id", "2、你的学籍号（以G开头，不清楚请问班主任）："),
        ("gender", "4、你的性别(单选)"),
        ("name", "【必填】你的姓名"),
        (_var(ATTEND), "学习情况—上课时我能专心听讲"),
        (_var(ATTEND), "学习情况-上课时我能专心听讲"),
        (_var(ATTEND), "【学习情况】上课时我能专心听讲"),
        (_var(ATTEND), "6、学习情况：上课时我能专心听讲"),
        (_var(ATTEND), "Q6. 学习情况—上课时我能专心听讲"),
        (_var(ATTEND), "第6题 上课时我能专心听讲？"),
    ],
)
def test_hints_prefixes_and_numbering_match_exactly(var, drifted):
    header = _header(**{var: drifted})
    cm = match_columns(header, CB)
    assert header[cm.single[var]] == drifted
    assert var not in cm.approx  # hints, prefixes and numbers are normalisation, not guesses
    assert drifted not in cm.unmatched


def test_rewording_matches_with_its_score():
    var = _var(ATTEND)
    header = _header(**{var: "6、学习情况—上课时我能够专心听讲"})
    cm = match_columns(header, CB)
    assert header[cm.single[var]] == "6、学习情况—上课时我能够专心听讲"
    h, score = cm.approx[var]
    assert h == "6、学习情况—上课时我能够专心听讲"
    assert FUZZY_THRESHOLD <= score < 100
    assert list(cm.approx) == [var]  # every other question matched exactly


def test_a_different_question_sharing_words_is_not_matched():
    var = _var(ATTEND)
    header = _header(**{var: "6、学习情况—上课时我能专心做笔记"})
    with pytest.raises(InputError, match=rf"questions not found: {var} \(上课时我能专心听讲\)"):
        match_columns(header, CB)


def test_two_reworded_columns_for_one_question_are_not_guessed():
    var = _var(ATTEND)
    header = [*_header(**{var: "上课时我能够专心听讲"}), "上课时我总能专心听讲"]
    with pytest.raises(InputError, match="several headers resemble it") as e:
        match_columns(header, CB)
    assert var in str(e.value)


def test_one_column_like_two_questions_equally_is_not_guessed(tmp_path):
    p = tmp_path / "cb.toml"
    p.write_text(
        """
[codebook]
name = "tiny"
kind = "assessment"
[scales.s]
labels = ["否", "是"]
[[fields]]
var = "chinese"
text = "我喜欢上语文课"
type = "likert"
scale = "s"
required = false
[[fields]]
var = "maths"
text = "我喜欢上数学课"
type = "likert"
scale = "s"
required = false
""",
        encoding="utf-8",
    )
    cm = match_columns(["我喜欢上语数课"], load_codebook(p))
    assert cm.single == {} and cm.approx == {}
    assert set(cm.ambiguous) == {"chinese", "maths"}
    assert "equally" in cm.ambiguous["chinese"]
    assert cm.unmatched == ["我喜欢上语数课"]


def test_exact_match_wins_over_a_similar_one():
    var = _var(ATTEND)
    # the exact question and a reworded copy: the exact one is taken, the copy is left over
    header = [*_header(), "6、学习情况—上课时我能够专心听讲"]
    cm = match_columns(header, CB)
    assert header[cm.single[var]].endswith(ATTEND)
    assert var not in cm.approx
    assert "6、学习情况—上课时我能够专心听讲" in cm.unmatched


def test_header_forms_drop_hints_and_prefixes():
    assert header_forms("2、你的学籍号（以G开头）：")[-1] == "你的学籍号"
    assert header_forms("【学习情况】上课时我能专心听讲")[-1] == ATTEND


# ----------------------------------------------------------------------------- end to end


def _small_study(root, codebook: str = "assessment_primary") -> None:
    """A copy of the sample study's 2023 roster, staff, groups and post assessment."""
    for rel in (
        "roster/学生名册_2023学年.xlsx",
        "roster/教职工名册_2023学年.xlsx",
        "groups/导师分组_2023学年.xlsx",
        POST,
    ):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(SAMPLE / rel, root / rel)
    (root / "study.toml").write_text(
        f"""[study]
name = "drift"
level = "primary"
years = [2023]

[[sources]]
kind = "students"
path = "roster/学生名册_2023学年.xlsx"
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
kind = "assessment"
path = "{POST}"
year = 2023
wave = "post"
encoding = "gb18030"
codebook = "{codebook}"
""",
        encoding="utf-8",
    )


def _rewrite_header(path, fn) -> None:
    """Rewrite the header row of a GB18030 问卷星 CSV, as a teacher editing it would."""
    with open(path, encoding="gb18030", newline="") as fh:
        rows = list(csv.reader(fh))
    rows[0] = [fn(h) for h in rows[0]]
    with open(path, "w", encoding="gb18030", newline="") as fh:
        csv.writer(fh, quoting=csv.QUOTE_ALL).writerows(rows)


DRIFT = {
    "2、你的学籍号": "2、你的学籍号（以G开头，不清楚请问班主任）：",
    "4、你的性别": "4、你的性别(单选)",
    "6、学习情况—上课时我能专心听讲": "6、学习情况—上课时我能够专心听讲",
    "7、心理状况—我大多数时候心情愉快": "【心理状况】我大多数时候心情愉快",
    "8、行为习惯—我吃饭不挑食": "Q8. 行为习惯-我吃饭不挑食",
}


@pytest.fixture(scope="module")
def original(tmp_path_factory):
    root = tmp_path_factory.mktemp("orig")
    _small_study(root)
    return clean_study(root)


def _items(res):
    a = res.tables["assessment_items"]
    return a.sort_values(["student_id", "item"]).reset_index(drop=True)


def test_drifted_csv_cleans_to_the_same_scores(tmp_path, original):
    _small_study(tmp_path)
    _rewrite_header(tmp_path / POST, lambda h: DRIFT.get(h, h))
    res = clean_study(tmp_path)
    assert len(_items(original)) > 1000
    assert _items(res).equals(_items(original))
    log = res.log[res.log["rule"].astype(str) == "header_approx"]
    assert list(log["column"].astype(str)) == [_var(ATTEND)]
    assert log["old"].iloc[0] == "6、学习情况—上课时我能够专心听讲"


def test_suggested_codebook_cleans_like_the_builtin(tmp_path, original):
    _small_study(tmp_path)
    dest = write_suggestion(tmp_path, POST)
    text = dest.read_text(encoding="utf-8")
    assert "TODO" in text and "#> dimension" in text
    with pytest.raises(InputError, match="already exists"):
        write_suggestion(tmp_path, POST)
    dest.write_text(text.replace("#> ", ""), encoding="utf-8")  # the researcher accepts
    cb = load_codebook(dest.name, base=tmp_path)
    assert len(cb.items) == len(CB.items)
    assert [f.var for f in cb.attention_checks] and cb.attention_checks[0].attention == 4
    assert {d.stem for d in cb.dimensions.values()} == {d.stem for d in CB.dimensions.values()}
    _small_study(tmp_path, codebook=dest.name)
    res = clean_study(tmp_path)
    mine, theirs = _items(res), _items(original)
    # same students, same answers; the draft names its items item_N: pair them by their text
    order = {f.var: norm_text(f.label) for f in CB.items}
    order_mine = {f.var: header_forms(f.label)[-1] for f in cb.items}
    mine["k"], theirs["k"] = mine["item"].map(order_mine), theirs["item"].map(order)
    cols = ["student_id", "k", "value"]
    a = sorted(map(tuple, mine[cols].astype(str).to_numpy()))
    b = sorted(map(tuple, theirs[cols].astype(str).to_numpy()))
    assert len(a) > 1000 and a == b
