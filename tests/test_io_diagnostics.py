"""Files that are not what their names say (issue 13, item 9), written by hand.

A password-protected workbook, an old .xls renamed .xlsx, a web page or CSV text "exported to
Excel" as .xls, a WPS .et file, a zip of several files: each is read as what it is (with a
note) when that is readable, else refused in one line, Chinese then English, saying what to do.
"""

from __future__ import annotations

import csv
import io
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from mentorlib.clean import clean_study
from mentorlib.errors import InputError
from mentorlib.io.formats import OLE_MAGIC, read_as, sniff
from mentorlib.io.readers import read_file

from conftest import SAMPLE

ROWS = [
    ["学籍号", "姓名", "班级"],
    ["G110101201501010011", "张三", "三年级2班"],
    ["G2", "李四", "3-2"],
]


def write_csv(path: Path, rows=ROWS, *, encoding="gb18030", delimiter=",") -> Path:
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter).writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, rows=ROWS) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    wb.save(path)  # openpyxl writes by content, whatever the name says
    return path


def write_encrypted(path: Path) -> Path:
    """What Excel writes for a workbook with a password: an OLE2 compound file whose
    directory holds the streams EncryptionInfo and EncryptedPackage (faked: the header, some
    sectors and the directory names)."""
    body = OLE_MAGIC + b"\x00" * 504
    body += "EncryptionInfo".encode("utf-16-le") + b"\x00" * 50
    body += "EncryptedPackage".encode("utf-16-le") + b"\x00" * 3000
    path.write_bytes(body)
    return path


def read(path: Path):
    notes: list[str] = []
    sheets = read_file(path, path.name, notes=notes)
    return sheets, notes


def refused(path: Path) -> str:
    with pytest.raises(InputError) as e:
        read_file(path, path.name)
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith(path.name)
    return msg


def test_encrypted_workbook(tmp_path):
    msg = refused(write_encrypted(tmp_path / "学生名册.xlsx"))
    assert msg == (
        "学生名册.xlsx: 加密的工作簿：请在Excel中另存为无密码文件 / "
        "encrypted workbook: save a copy without a password in Excel"
    )
    # the same file named .xls (Excel 97-2003 encryption looks the same from outside)
    assert "加密的工作簿" in refused(write_encrypted(tmp_path / "名册.xls"))


def test_html_named_xls(tmp_path):
    p = tmp_path / "成绩单.xls"
    p.write_text(
        "<!DOCTYPE html><html><head><meta charset='gbk'></head><body><table>"
        "<tr><td>学号</td><td>语文</td></tr></table></body></html>",
        encoding="utf-8",
    )
    msg = refused(p)
    assert "网页（HTML）文件" in msg and "an HTML page, not an Excel workbook" in msg
    p.write_text("\n  <html><body><table></table></body></html>", encoding="utf-8")
    assert sniff(p) == "html"


def test_csv_named_xls_is_read_as_csv(tmp_path):
    sheets, notes = read(write_csv(tmp_path / "学生名册.xls"))
    [(sheet, cells, enc)] = sheets
    assert sheet is None and enc == "gb18030"
    assert cells.iloc[1].tolist() == ROWS[1] and cells.shape == (3, 3)
    assert notes == [
        "文本（CSV）文件被命名为.xls：已按CSV读取 / a text (CSV) file named .xls: read as CSV"
    ]
    # a records system's "Excel export" that is tab-separated text
    sheets, notes = read(write_csv(tmp_path / "导出.xls", delimiter="\t", encoding="utf-8"))
    assert sheets[0][1].iloc[2].tolist() == ROWS[2] and notes


def test_text_that_is_not_a_table_named_xlsx(tmp_path):
    p = tmp_path / "x.xlsx"
    p.write_text("请见附件\n", encoding="utf-8")
    assert "not an Excel workbook" in refused(p)


def test_wps_et(tmp_path):
    p = tmp_path / "名册.et"
    p.write_bytes(OLE_MAGIC + b"\x00" * 1000)
    msg = refused(p)
    assert msg.startswith("名册.et: WPS表格文件（.et）：请在WPS中另存为.xlsx")
    assert "save it as .xlsx in WPS" in msg


def test_zip_that_is_not_a_workbook(tmp_path):
    p = tmp_path / "全部名册.xlsx"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("一班.csv", "学籍号,姓名\n")
        z.writestr("二班.csv", "学籍号,姓名\n")
    assert sniff(p) == "zip"
    msg = refused(p)
    assert "压缩包（zip）" in msg and "unzip it and list the files inside" in msg


def test_workbook_under_another_name_is_read(tmp_path):
    for name in ("名册.xls", "名册.csv"):
        sheets, notes = read(write_xlsx(tmp_path / name))
        assert sheets[0][1].iloc[1].tolist() == ROWS[1]
        assert len(notes) == 1 and "read as" in notes[0]
    sheets, notes = read(write_xlsx(tmp_path / "名册.xlsx"))
    assert notes == []  # as named: no note


def test_old_xls_named_xlsx_is_detected(tmp_path):
    p = tmp_path / "名册.xlsx"
    p.write_bytes(OLE_MAGIC + b"\x00" * 2000)  # an OLE file without EncryptedPackage
    assert sniff(p) == "xls"
    how, note = read_as(p, p.name)
    assert how == "workbook" and note and "old-format .xls workbook named .xlsx" in note


def test_real_xls_named_xlsx_is_read(tmp_path):
    xlwt = pytest.importorskip("xlwt", reason="xlwt (to write a real .xls) is not installed")
    wb = xlwt.Workbook()
    ws = wb.add_sheet("Sheet1")
    for i, r in enumerate(ROWS):
        for j, v in enumerate(r):
            ws.write(i, j, v)
    p = tmp_path / "名册.xlsx"
    wb.save(str(p))
    sheets, notes = read(p)
    assert sheets[0][1].iloc[1].tolist() == ROWS[1] and notes


def test_clean_reads_a_renamed_csv_and_logs_it(tmp_path):
    """A mood chart (CSV) saved as .xls: cleaned as the CSV it is, the log says so."""
    study = tmp_path / "study"
    shutil.copytree(SAMPLE, study, ignore=shutil.ignore_patterns("truth"))
    old = "records/心情晴雨表_2023学年.csv"
    (study / old).rename(study / old.replace(".csv", ".xls"))
    toml = study / "study.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8").replace(old, old.replace(".csv", ".xls")),
        encoding="utf-8",
    )
    res = clean_study(study)
    assert not res.partial
    log = res.log[res.log["rule"].astype(str) == "file_format"]
    assert log["source"].astype(str).tolist() == [old.replace(".csv", ".xls")]
    intact = clean_study(SAMPLE)
    pd.testing.assert_frame_equal(res.tables["mood"], intact.tables["mood"])
