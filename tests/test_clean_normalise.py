"""Normalisers: every spelling a real export holds, and no exception on anything at all."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mentorlib.clean import normalise as nz
from mentorlib.clean import when
from mentorlib.ids import check_digit

LIKERT = ("完全不符合", "比较不符合", "不确定", "比较符合", "完全符合")


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        ("三年级2班", "3-2"),
        ("3年级2班", "3-2"),
        ("三年级(2)班", "3-2"),
        ("三年级（2）班", "3-2"),
        ("3-2", "3-2"),
        ("3－2", "3-2"),
        ("三(2)班", "3-2"),
        ("３年级２班", "3-2"),
        ("三年级二班", "3-2"),
        ("初一(3)班", "7-3"),
        ("初三3班", "9-3"),
        ("七年级（1）班", "7-1"),
        ("高一(2)班", "10-2"),
        ("六年级十二班", "6-12"),
        (" 三年级 2班 ", "3-2"),
        ("3.2", "3-2"),
    ],
)
def test_grade_class_spellings(raw, want):
    assert nz.grade_class(raw)[0] == want


@pytest.mark.parametrize("raw", ["三年级", "abc", "0-2", "13年级1班", "", None, 3.5])
def test_grade_class_rejects(raw):
    assert nz.grade_class(raw)[0] is None


def test_grade_and_class_apart():
    assert nz.grade("三年级")[0] == 3 and nz.grade("初二")[0] == 8 and nz.grade(7)[0] == 7
    assert (
        nz.class_number("2班")[0] == 2
        and nz.class_number("（12）班")[0] == 12
        and nz.class_number("十班")[0] == 10
    )


def test_chinese_numerals():
    assert [
        nz.chinese_numeral(x)
        for x in ("一", "十", "十一", "二十三", "一百", "一百零五", "两千零二十四")
    ] == [1, 10, 11, 23, 100, 105, 2024]
    assert nz.chinese_numeral("三x") is None


@pytest.mark.parametrize(
    ("raw", "want", "rule"),
    [
        ("2024-09-01", "2024-09-01", None),
        ("2024/9/1", "2024-09-01", "date_slash"),
        ("2024年9月1日", "2024-09-01", "date_cn"),
        ("2024.09.01", "2024-09-01", "date_dot"),
        ("20240901", "2024-09-01", "date_compact"),
        (45536, "2024-09-01", "excel_serial"),
        ("45536", "2024-09-01", "excel_serial"),
        (dt.datetime(2024, 9, 1, 8), "2024-09-01", None),
        ("２０２４年９月１日", "2024-09-01", "date_cn"),
    ],
)
def test_dates(raw, want, rule):
    assert when.date_(raw) == (want, rule)


def test_dates_reject_impossible():
    assert (
        when.date_("2024-02-30")[0] is None
        and when.date_("2024-13-01")[0] is None
        and when.date_("昨天")[0] is None
    )


def test_excel_serial_against_known_dates():
    # Excel (1900 system): 1 = 1900-01-01 in Excel's own count is offset by the 1900 leap bug;
    # serial 45536 = 2024-09-01 and 44927 = 2023-01-01 (both from Excel's DATE())
    assert when.date_(44927)[0] == "2023-01-01"
    assert when.date_(45536)[0] == "2024-09-01"


def test_durations():
    assert when.duration_seconds("152秒") == (152, "duration")
    assert when.duration_seconds("2分32秒")[0] == 152
    assert when.duration_seconds("1小时2分")[0] == 3720
    assert when.duration_minutes("20分钟")[0] == 20 and when.duration_minutes("20")[0] == 20
    assert when.duration_minutes("90秒")[0] == 1.5


def test_numbers_and_ranges():
    assert nz.number("135.5cm") == (135.5, "number_text")
    assert nz.number("40学时")[0] == 40
    assert nz.number("＋２")[0] == 2 and nz.number("-3")[0] == -3 and nz.number("８５")[0] == 85
    assert nz.number(850, lo=0, hi=100) == (None, "fail:out_of_range")
    assert nz.number("八十五")[0] is None


def test_gender_bool_text():
    assert nz.gender("男") == ("male", None) and nz.gender(" 女 ") == ("female", "gender_label")
    assert (
        nz.gender("A.男")[0] == "male"
        and nz.gender("F")[0] == "female"
        and nz.gender("x")[0] is None
    )
    assert [nz.boolean(x)[0] for x in ("是", "否", "√", "×", "Y", "0", "")] == [
        True,
        False,
        True,
        False,
        True,
        False,
        None,
    ]
    assert nz.name("张 伟") == ("张伟", "whitespace") and nz.name("张伟")[1] is None
    assert nz.text("（２）")[0] == "(2)"


def test_name_strips_control_characters():
    assert nz.name("张\x07三") == ("张三", "control_chars")
    assert nz.name("李四\u200b") == ("李四", "control_chars")
    assert nz.name("\u202e王五\ufeff") == ("王五", "control_chars")
    assert nz.name(" 张\x00 伟 ") == ("张伟", "control_chars")
    assert nz.name("\u200b") == (None, "control_chars")
    # a rare character kept in the private-use area (生僻字 in GB18030-era rosters) stays
    assert nz.name("王\ue000明") == ("王\ue000明", None)


def test_likert_all_forms():
    v = (1, 2, 3, 4, 5)
    assert nz.likert("比较符合", LIKERT, v) == (4, None)
    assert nz.likert("D.比较符合", LIKERT, v) == (4, "option_letter")  # 腾讯问卷
    assert nz.likert("4", LIKERT, v) == (4, None) and nz.likert(4.0, LIKERT, v) == (
        4,
        None,
    )  # 按序号
    assert nz.likert("(跳过)", LIKERT, v) == (None, "skip_marker") and nz.likert(
        "-2", LIKERT, v
    ) == (None, "skip_marker")
    assert (
        nz.likert("6", LIKERT, v) == (None, "fail:out_of_range")
        and nz.likert(0, LIKERT, v)[0] is None
    )
    assert nz.likert("很好", LIKERT, v) == (None, "fail:label")


def _id(prefix="G", body="44010620150512346"):
    return prefix + body + check_digit(body)


def test_student_id_statuses():
    good = _id()
    assert nz.student_id(good) == (good, None, "ok")
    assert nz.student_id(f" {good}\u3000")[2] == "ok"
    fw = good[0] + good[1:].translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert nz.student_id(fw) == (good, "id_fullwidth", "ok")
    assert nz.student_id(good[1:]) == (good[1:], "id_prefix", "no_prefix")
    assert nz.student_id("4.40106E+17") == ("440106", "id_sci", "mangled")
    assert nz.student_id(float(round(int(good[1:]), -3)))[2] == "mangled"
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    assert nz.student_id(bad)[2] == "invalid"
    assert nz.student_id(None)[2] == "missing" and nz.student_id("  ")[2] == "missing"


def test_staff_id_from_number_cell():
    assert nz.staff_id(20003.0) == ("20003", None) and nz.staff_id(" 20003 ")[0] == "20003"


def test_school_year_term_month():
    assert when.school_year("2023-2024学年")[0] == 2023 and when.school_year("2023学年")[0] == 2023
    assert when.school_year("2023-2025学年")[0] is None
    assert (
        when.term("第一学期")[0] == 1
        and when.term("下学期")[0] == 2
        and when.term("第三学期")[0] is None
    )
    assert (
        when.month("2023年9月") == ("2023-09", "month_label") and when.month("2023-13")[0] is None
    )


def test_other_text():
    assert (
        nz.other_text("学习方法┋其他〖想学画画〗") == "想学画画" and nz.other_text("1〖x〗") == "x"
    )
    assert nz.other_text("学习方法") is None


def test_apply_once_per_distinct_value_keeps_text_and_numbers_apart():
    calls = []

    def fn(x):
        calls.append(x)
        return nz.staff_id(x)

    s = pd.Series(["85", 85.0, "85", None, 85.0], dtype=object)
    vals, rules = nz.apply(s, fn)
    assert list(vals) == ["85", "85", "85", None, "85"]
    assert len([c for c in calls if c is not None]) == 2  # "85" and 85.0 are read once each


NORMALISERS = [
    nz.text,
    nz.name,
    nz.number,
    when.duration_seconds,
    when.duration_minutes,
    nz.gender,
    nz.boolean,
    nz.grade_class,
    nz.grade,
    nz.class_number,
    when.date_,
    when.school_year,
    when.term,
    when.month,
    nz.staff_id,
    nz.student_id,
    lambda x: nz.likert(x, LIKERT, (1, 2, 3, 4, 5)),
]
ANYTHING = st.one_of(
    st.none(),
    st.text(),
    st.binary(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.text(alphabet="0123456789年月日班级()（）-/.一二三初高EＧG+ ").map(str),
)


@settings(max_examples=300, deadline=None)
@given(ANYTHING)
def test_no_normaliser_ever_raises(x):
    for fn in NORMALISERS:
        out = fn(x)
        assert isinstance(out, tuple)
        rule = out[1]
        assert rule is None or isinstance(rule, str)
