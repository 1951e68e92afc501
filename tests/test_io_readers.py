"""Readers and header matching: every export form, and one clear line for every bad file."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mentorlib.errors import InputError
from mentorlib.io.codebook import load_codebook
from mentorlib.io.readers import detect_encoding, match_columns, read_file, to_raw_sheet
from mentorlib.io.xlsx import write_xlsx

CB = load_codebook("assessment_primary")
ROSTER = load_codebook("students")


def test_encodings_detected():
    text = "学籍号,姓名\nG1,张三\n"
    assert detect_encoding(text.encode("gb18030")) == "gb18030"
    assert detect_encoding(b"\xef\xbb\xbf" + text.encode()) == "utf-8-sig"
    assert detect_encoding(text.encode()) == "utf-8"
    with pytest.raises(InputError, match="binary"):
        detect_encoding(b"\x00\x01\x02abc", file="x.csv")
    with pytest.raises(InputError, match="does not decode as utf-8"):
        detect_encoding(text.encode("gb18030"), "utf-8", file="x.csv")


def test_csv_read_as_text_ids_untouched(tmp_path):
    p = tmp_path / "a.csv"
    p.write_bytes("学籍号,分\n440106201505123456,085\n".encode("gb18030"))
    [(sheet, cells, enc)] = read_file(p, "a.csv")
    assert enc == "gb18030" and sheet is None
    assert cells.iloc[1, 0] == "440106201505123456" and cells.iloc[1, 1] == "085"  # never numbers


@pytest.mark.parametrize(
    ("name", "content", "needle"),
    [
        ("x.xlsx", b"this is not a workbook", "not an Excel workbook"),
        ("x.csv", b"", "empty file"),
        ("x.csv", b"\x00\x00\xff\xfe\x00garbage", "binary"),
        ("x.pdf", b"%PDF-1.4", "unsupported file type"),
    ],
)
def test_bad_files_one_line(tmp_path, name, content, needle):
    p = tmp_path / name
    p.write_bytes(content)
    with pytest.raises(InputError) as e:
        read_file(p, name)
    assert needle in str(e.value) and name in str(e.value) and "\n" not in str(e.value)


def test_empty_workbook(tmp_path):
    p = write_xlsx(tmp_path / "e.xlsx", {"Sheet1": {}})
    with pytest.raises(InputError, match="empty workbook"):
        read_file(p, "e.xlsx")


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="not found"):
        read_file(tmp_path / "nope.xlsx", "nope.xlsx")


def test_title_rows_skipped_and_header_found(tmp_path):
    p = write_xlsx(
        tmp_path / "r.xlsx",
        {"三(2)班": {"学籍号": ["G1"], "姓名": ["张三"], "性别": ["男"]}},
        pre_rows={"三(2)班": [["2023学年第一学期期末成绩 三(2)班"], []]},
    )
    [(sheet, cells, _)] = read_file(p, "r.xlsx")
    rs = to_raw_sheet(cells, "r.xlsx", sheet, None, ROSTER)
    assert rs.header_row == 3 and list(rs.rows) == [4] and rs.header[:2] == ["学籍号", "姓名"]


def _wjx_header(form):
    base = [
        "序号",
        "提交答卷时间",
        "所用时间",
        "来源",
        "来源详情",
        "来自IP",
        "1、你的姓名",
        "2、你的学籍号",
        "3、你所在的班级",
        "4、你的性别",
    ]
    stems = {d: CB.dimensions[d].stem for d in CB.dimensions}
    items = []
    for f in CB.fields:
        if f.type == "likert":
            stem = stems.get(f.dimension or f.stem_of)
            items.append(f"5、{stem}—{f.label}" if form == "wjx" else f"Q5.{stem}_{f.label}")
    return base + items


@pytest.mark.parametrize("form", ["wjx", "tencent"])
def test_matrix_headers_match_every_item(form):
    cm = match_columns(_wjx_header(form), CB)
    assert set(cm.single) >= {f.var for f in CB.items} | {"name", "student_id", "grade_class"}
    assert cm.system["submitted_at"] == 1


def test_number_form_multi_select_columns():
    cb = load_codebook("needs_primary")
    header = [
        "1、你的姓名",
        "2、你的学籍号",
        "3、你所在的班级",
        "4、你的性别",
        "5(学习方法)",
        "5(作业习惯)",
        "5(情绪管理)",
        "5(与同学相处)",
        "5(文明礼仪)",
        "5(时间管理)",
        "5(其他)",
        "6(谈心交流)",
        "6(学习辅导)",
        "6(兴趣培养)",
        "6(生活关心)",
        "6(与家长沟通)",
        "6(其他)",
        "7(阅读)",
        "7(体育运动)",
        "7(美术)",
        "7(音乐)",
        "7(科学探究)",
        "7(手工制作)",
        "7(书法)",
        "7(舞蹈)",
        "7(其他)",
        "8、你最想对导师说的话",
    ]
    cm = match_columns(header, cb)
    assert len(cm.options["weak_areas"]) == 7 and len(cm.options["interests"]) == 9
    assert cm.options["weak_areas"]["其他"] == 10


def test_codebook_that_does_not_fit_lists_what_is_missing():
    header = [
        "序号",
        "1、你的姓名",
        "2、你的学籍号",
        "3、你所在的班级",
        "5、品德发展情况—我会主动帮助有困难的同学",
        "9、你喜欢哪个季节",
    ]
    with pytest.raises(InputError) as e:
        match_columns(header, CB, file="s.xlsx")
    msg = str(e.value)
    assert (
        "s.xlsx" in msg and "does not fit" in msg and "moral_2" in msg and "你喜欢哪个季节" in msg
    )
    assert "\n" not in msg


def test_header_matching_tolerates_numbering_width_punctuation():
    header = ["Q1. 你的姓名", "第2题 你的学籍号：", "３、你所在的班级", "4.你的性别"]
    likert = [f for f in CB.fields if f.type == "likert"]
    cm = match_columns(
        header + [f"5、{CB.dimensions[f.dimension or f.stem_of].stem}—{f.label}" for f in likert],
        CB,
    )
    assert cm.single["name"] == 0 and cm.single["student_id"] == 1 and cm.single["grade_class"] == 2


@settings(max_examples=60)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_as_csv_never_crash(tmp_path_factory, data):
    p = tmp_path_factory.mktemp("b") / "x.csv"
    p.write_bytes(data)
    try:
        for sheet, cells, _ in read_file(p, "x.csv"):
            if not cells.empty:
                try:
                    to_raw_sheet(cells, "x.csv", sheet, None, ROSTER)
                except InputError:
                    pass
    except InputError:
        pass


@settings(max_examples=40)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_as_xlsx_never_crash(tmp_path_factory, data):
    p = tmp_path_factory.mktemp("b") / "x.xlsx"
    p.write_bytes(b"PK\x03\x04" + data)
    with pytest.raises(InputError):
        read_file(p, "x.xlsx")


def test_openpyxl_and_calamine_read_the_same(tmp_path):
    from conftest import SAMPLE

    for rel in ("roster/学生名册_2023学年.xlsx", "exams/成绩单_2023学年_第1学期.xlsx"):
        a = read_file(SAMPLE / rel, rel, reader="calamine")
        b = read_file(SAMPLE / rel, rel, reader="openpyxl")
        for (sa, ca, _), (sb, cb_, _) in zip(a, b, strict=True):
            assert sa == sb
            ca = ca.map(lambda v: float(v) if isinstance(v, int | float) else v)
            cb_ = cb_.map(lambda v: float(v) if isinstance(v, int | float) else v)
            pd.testing.assert_frame_equal(
                ca.reset_index(drop=True), cb_.reset_index(drop=True), check_dtype=False
            )


EXAMS = load_codebook("exams")
TITLED = [  # (file name, codebook, separator, encoding): a records system's exports
    ("期末成绩.csv", EXAMS, ",", "utf-8"),
    ("学生名册.csv", ROSTER, ",", "gb18030"),
    ("学生名册.tsv", ROSTER, "\t", "utf-8"),
    ("学生名册.xls", ROSTER, "\t", "gb18030"),  # its "Excel export": tab-separated text
]


@pytest.mark.parametrize(("name", "cb", "sep", "enc"), TITLED)
def test_csv_title_row_above_the_header(tmp_path, name, cb, sep, enc):
    # the trial's file: a title line with no separators, then the header, then the data
    title = "2023学年第一学期期末成绩"
    header = ["学号", "姓名", "班级", "语文", "数学", "英语"]
    if cb is ROSTER:
        header = ["学籍号", "姓名", "性别", "班级"]
    data = [["0440106201505123456", "张三", "三(2)班", "88", "92.5", "缺考"][: len(header)]]
    data.append(["G440106201505123457", "李四", "三(2)班", "", "", ""][: len(header)])
    lines = [title, sep.join(header), *(sep.join(r) for r in data)]
    p = tmp_path / name
    p.write_bytes(("\r\n".join(lines) + "\r\n").encode(enc))
    [(sheet, cells, got_enc)] = read_file(p, name)
    rs = to_raw_sheet(cells, name, sheet, got_enc, cb)
    assert rs.header_row == 2 and list(rs.rows) == [3, 4]
    assert rs.header == header and rs.title == title
    assert rs.col(0).tolist() == [data[0][0], data[1][0]]  # IDs as text, leading 0 kept
    assert rs.col(2).tolist() == [data[0][2], data[1][2]]


MANY = "".join(f"G{k},学生{k}\n" for k in range(20))  # lines 3-22: below the lines read ahead


@pytest.mark.parametrize(
    ("body", "line", "needle"),
    [
        ("学号,姓名\nG1,张三\nG2,李,四\n", 4, "3 fields, more than the 2 of the header"),
        (f"学号,姓名\n{MANY}G2,李,四\n", 23, "3 fields, more than the 2"),
        ('学号,姓名\nG1,"张三\nG2,李四\n', 3, "never closed"),
    ],
)
def test_unreadable_csv_one_line_naming_the_line(tmp_path, body, line, needle):
    # below a title row as above: a line wider than the header is refused, never shifted
    p = tmp_path / "成绩.csv"
    p.write_text("期末成绩\n" + body, encoding="utf-8")
    with pytest.raises(InputError) as e:
        for sheet, cells, enc in read_file(p, "成绩.csv"):
            to_raw_sheet(cells, "成绩.csv", sheet, enc, EXAMS)
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith("成绩.csv: not a readable CSV")
    assert f"line {line} " in msg and needle in msg and "C error" not in msg
