"""Bounded resources (issue 11, item 7): a workbook or CSV too big to read is refused, in one
line, before it is read: a zip bomb cannot take the machine's memory."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
import zipfile
import zlib
from pathlib import Path

import pytest

from mentorlib.errors import InputError
from mentorlib.io import limits as ingest
from mentorlib.io.limits import EXCEL_MAX_ROWS, check_workbook
from mentorlib.io.readers import read_file

ROOT = Path(__file__).resolve().parents[1]

PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
        'package/2006/content-types"><Default Extension="rels" ContentType="application/'
        'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
        'ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType='
        '"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
    ),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
        'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://'
        'schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
        'Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.'
        'org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/'
        '2006/relationships"><sheets><sheet name="名册" sheetId="1" r:id="rId1"/></sheets>'
        "</workbook>"
    ),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
        'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://'
        'schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
        'Target="worksheets/sheet1.xml"/></Relationships>'
    ),
}
HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
    'spreadsheetml/2006/main">{dim}<sheetData>'
)
ROW = "<row>" + "<c><v>12345</v></c>" * 6 + "</row>"  # 125 bytes
SHORT_ROW = "<row><c><v>1</v></c></row>"  # 26 bytes


def write_workbook(path: Path, rows: int, dim: str | None = None, row: str = ROW) -> Path:
    """A minimal xlsx whose one sheet repeats ROW ``rows`` times (deflated as it is written)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, text in PARTS.items():
            zf.writestr(name, text)
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
            f.write(HEAD.format(dim=f'<dimension ref="{dim}"/>' if dim else "").encode())
            block = (row * 10_000).encode()
            for _ in range(rows // 10_000):
                f.write(block)
            f.write((row * (rows % 10_000)).encode())
            f.write(b"</sheetData></worksheet>")
    return path


STUDY = textwrap.dedent(
    """
    [study]
    name = "bomb"
    level = "primary"
    years = [2023]

    [[sources]]
    kind = "students"
    path = "roster.xlsx"
    year = 2023
    """
)


def _bomb(tmp_path_factory, name, **kw):
    study = tmp_path_factory.mktemp(name)
    (study / "study.toml").write_text(STUDY, encoding="utf-8")
    write_workbook(study / "roster.xlsx", 5_000_000, **kw)
    return study


@pytest.fixture(scope="module")
def cells_bomb(tmp_path_factory):
    """~300 KB that unpacks to 130 MB: 5 million rows, a dimension of A1:Z5000000."""
    return _bomb(tmp_path_factory, "cells_bomb", dim="A1:Z5000000", row=SHORT_ROW)


@pytest.fixture(scope="module")
def size_bomb(tmp_path_factory):
    """~2 MB that unpacks to 625 MB: 5 million rows of six numbers, no dimension."""
    return _bomb(tmp_path_factory, "size_bomb")


def test_the_zip_bombs_are_small_and_expand_to_5m_rows(cells_bomb, size_bomb):
    for study, row, most in ((cells_bomb, SHORT_ROW, 600_000), (size_bomb, ROW, 2_500_000)):
        with zipfile.ZipFile(study / "roster.xlsx") as zf:
            zi = zf.getinfo("xl/worksheets/sheet1.xml")
        assert (study / "roster.xlsx").stat().st_size < most
        assert zi.file_size > 5_000_000 * len(row)


def _clean_in_a_subprocess(study, tmp_path):
    probe = textwrap.dedent(
        f"""
        import sys
        from mentorlib.cli import main
        rc = main(["clean", {str(study)!r}, "--out", {str(tmp_path / "out")!r}])
        # VmHWM, not ru_maxrss: Linux keeps ru_maxrss across exec, so it would report the
        # pytest worker's size at fork time rather than this process's own peak
        status = open("/proc/self/status").read()
        peak_kb = int(status.split("VmHWM:")[1].split()[0])
        print(rc, peak_kb)
        """
    )
    t0 = time.perf_counter()
    r = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    seconds = time.perf_counter() - t0
    rc, peak_kb = (int(x) for x in r.stdout.split())
    assert rc == 2
    assert seconds < 10
    assert peak_kb < 500 * 1024  # Linux reports kilobytes
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr
    assert "roster.xlsx" in lines[0] and "refused before reading" in lines[0]
    assert not (tmp_path / "out").exists()
    return lines[0]


def test_clean_refuses_a_cells_bomb_in_seconds_and_little_memory(cells_bomb, tmp_path):
    line = _clean_in_a_subprocess(cells_bomb, tmp_path)
    assert "unpacks 4" in line and "times its packed size (124 MB" in line
    assert "over the limit of 100 (a zip bomb?" in line
    # with the ratio check out of the way, its lying dimension refuses it
    with pytest.raises(InputError, match=r"about 130,000,000 cells \(its dimension says"):
        check_workbook(cells_bomb / "roster.xlsx", "roster.xlsx", {"ratio": 10**6})


def test_clean_refuses_a_size_bomb_in_seconds_and_little_memory(size_bomb, tmp_path):
    line = _clean_in_a_subprocess(size_bomb, tmp_path)
    assert "unpacks to 596 MB" in line and "over the limit of 500 MB" in line


def test_cells_limit_from_the_dimension(tmp_path):
    wb = write_workbook(tmp_path / "wide.xlsx", 10, dim="A1:Z5000000")
    with pytest.raises(
        InputError, match=r"about 130,000,000 cells \(its dimension says A1:Z5000000\)"
    ):
        check_workbook(wb, "wide.xlsx")
    # a small dimension is read normally, and the limit is configurable
    ok = write_workbook(tmp_path / "ok.xlsx", 10, dim="A1:F10")
    check_workbook(ok, "ok.xlsx")
    with pytest.raises(InputError, match="over the limit of 50 cells"):
        read_file(ok, "ok.xlsx", limits={"cells": 50})
    assert len(read_file(ok, "ok.xlsx", limits={"cells": 60})[0][1]) == 10


def test_cells_counted_without_a_dimension(tmp_path):
    wb = write_workbook(tmp_path / "nodim.xlsx", 1000)  # 6,000 cells
    check_workbook(wb, "nodim.xlsx", {"cells": 6000})
    with pytest.raises(
        InputError,
        match=r"part xl/worksheets/sheet1\.xml has more than 5,999 cells \(counted in its XML\)",
    ):
        check_workbook(wb, "nodim.xlsx", {"cells": 5999})
    with pytest.raises(InputError, match=r"unpacks to 0 MB .* over the limit of 0 MB|limit"):
        check_workbook(wb, "nodim.xlsx", {"sheet_mb": 0})


def test_csv_over_the_size_limit_is_refused(tmp_path):
    p = tmp_path / "big.csv"
    p.write_bytes(b"a,b\n" + b"1,2\n" * 300_000)  # 1.2 MB
    with pytest.raises(InputError, match="CSV of 1 MB is larger than the limit of 1 MB") as e:
        read_file(p, "big.csv", limits={"csv_mb": 1})
    assert str(e.value).startswith("big.csv: ")
    assert len(read_file(p, "big.csv", limits={"csv_mb": 2})[0][1]) == 300_001


def test_limits_from_study_toml_reach_the_reader(tmp_path):
    (tmp_path / "study.toml").write_text(STUDY + "\n[limits]\ncells = 30\n", encoding="utf-8")
    write_workbook(tmp_path / "roster.xlsx", 10, dim="A1:F10")
    from mentorlib.clean import clean_study

    with pytest.raises(InputError, match="over the limit of 30 cells"):
        clean_study(tmp_path)


def test_cells_add_up_over_the_sheets(tmp_path):
    wb = tmp_path / "two.xlsx"
    write_workbook(wb, 10, dim="A1:F10")
    with zipfile.ZipFile(wb, "a") as zf:
        zf.writestr(
            "xl/worksheets/sheet2.xml",
            HEAD.format(dim='<dimension ref="A1:A1"/>') + ROW * 10 + "</sheetData></worksheet>",
        )
    check_workbook(wb, "two.xlsx", {"cells": 120})
    with pytest.raises(
        InputError,
        match=r"its sheets have more than 100 cells together \(counted in their XML, up to "
        r"part xl/worksheets/sheet2\.xml\)",
    ):
        check_workbook(wb, "two.xlsx", {"cells": 100})


def test_a_broken_zip_is_one_line(tmp_path):
    wb = write_workbook(tmp_path / "cut.xlsx", 10, dim="A1:F10")
    with zipfile.ZipFile(wb) as zf:
        zi = zf.getinfo("xl/worksheets/sheet1.xml")
    raw = bytearray(wb.read_bytes())
    at = zi.header_offset + 30 + len(zi.filename) + 5
    raw[at : at + 40] = b"\xff" * 40  # damaged compressed data of the sheet
    wb.write_bytes(bytes(raw))
    with pytest.raises(InputError) as e:
        read_file(wb, "cut.xlsx")
    assert str(e.value).startswith("cut.xlsx: ") and "\n" not in str(e.value)


# --- red-team bombs (issue 11 item 7, second round) -----------------------------------------
# bomb_a: ~600 KB, one sheet of 5M rows x 2 cells (~200 MB of XML, ratio ~340, 10M cells): under
# the old per-sheet limits, and read by calamine (17 s, 1.26 GB). bomb_c: ~2.6 MB, 12 sheets of
# ~74 MB each (~890 MB together), each with a false <dimension ref="A1:B2"/>: each sheet under
# the old checks, read in 123 s and 3 GB.
TWO_CELLS = "<row><c><v>1</v></c><c><v>1</v></c></row>"  # 41 bytes


def write_sheets(path: Path, rows: int, sheets: int = 1, dim: str | None = None) -> Path:
    """An xlsx of ``sheets`` sheets, each a header row and ``rows`` rows of TWO_CELLS."""
    ids = range(1, sheets + 1)
    parts = dict(PARTS)
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>',
        "".join(
            f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            for i in ids
        ),
    )
    parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(
        '<sheet name="名册" sheetId="1" r:id="rId1"/>',
        "".join(f'<sheet name="S{i}" sheetId="{i}" r:id="rId{i}"/>' for i in ids),
    )
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/worksheet" Target="worksheets/sheet1.xml"/>',
        "".join(
            f'<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/'
            f'2006/relationships/worksheet" Target="worksheets/sheet{i}.xml"/>'
            for i in ids
        ),
    )
    block = (TWO_CELLS * 10_000).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, text in parts.items():
            zf.writestr(name, text)
        for i in ids:
            with zf.open(f"xl/worksheets/sheet{i}.xml", "w", force_zip64=True) as f:
                f.write(HEAD.format(dim=f'<dimension ref="{dim}"/>' if dim else "").encode())
                f.write(b'<row><c t="inlineStr"><is><t>ID</t></is></c></row>')
                for _ in range(rows // 10_000):
                    f.write(block)
                f.write((TWO_CELLS * (rows % 10_000)).encode())
                f.write(b"</sheetData></worksheet>")
    return path


def _study_of(tmp_path_factory, name, **kw):
    study = tmp_path_factory.mktemp(name)
    (study / "study.toml").write_text(STUDY, encoding="utf-8")
    write_sheets(study / "roster.xlsx", **kw)
    return study


@pytest.fixture(scope="module")
def bomb_a(tmp_path_factory):
    return _study_of(tmp_path_factory, "bomb_a", rows=5_000_000)


@pytest.fixture(scope="module")
def bomb_c(tmp_path_factory):
    return _study_of(tmp_path_factory, "bomb_c", rows=1_900_000, sheets=12, dim="A1:B2")


def _sizes(study):
    with zipfile.ZipFile(study / "roster.xlsx") as zf:
        return [zi.file_size for zi in zf.infolist() if zi.filename.startswith("xl/worksheets/")]


def test_bomb_a_one_sheet_of_5m_rows_is_refused(bomb_a, tmp_path):
    assert (bomb_a / "roster.xlsx").stat().st_size < 700_000
    assert _sizes(bomb_a)[0] > 5_000_000 * len(TWO_CELLS)  # ~196 MB: under the 500 MB limit
    line = _clean_in_a_subprocess(bomb_a, tmp_path)
    assert "part xl/worksheets/sheet1.xml unpacks 3" in line and "(196 MB from 0.6 MB)" in line
    assert "over the limit of 100 (a zip bomb?" in line
    # without the ratio check its rows are counted, and the count stops past Excel's maximum
    t0 = time.perf_counter()
    with pytest.raises(InputError) as e:
        check_workbook(bomb_a / "roster.xlsx", "roster.xlsx", {"ratio": 10**6})
    assert time.perf_counter() - t0 < 5
    assert str(e.value) == (
        "roster.xlsx: workbook refused before reading: part xl/worksheets/sheet1.xml has more "
        "than 1,048,576 rows (counted in its XML), more than an Excel worksheet can hold: this "
        "file was not saved by Excel (a zip bomb?)"
    )


def test_bomb_c_twelve_sheets_with_a_lying_dimension_is_refused(bomb_c, tmp_path):
    sizes = _sizes(bomb_c)
    assert len(sizes) == 12 and max(sizes) < 100 * 1024 * 1024  # each under the old threshold
    assert (bomb_c / "roster.xlsx").stat().st_size < 3_000_000
    line = _clean_in_a_subprocess(bomb_c, tmp_path)
    assert (
        "its worksheets and shared strings (12 parts) unpack to 891 MB together (from 2.6 MB), "
        "over the limit of 500 MB" in line
    )
    # with the size and ratio limits raised, the dimension A1:B2 is not believed: rows counted
    with pytest.raises(InputError, match=r"sheet1\.xml has more than 1,048,576 rows"):
        check_workbook(bomb_c / "roster.xlsx", "roster.xlsx", {"ratio": 10**6, "sheet_mb": 5000})


def test_excel_row_maximum_is_the_row_limit(tmp_path):
    lim = {"ratio": 10**6}
    ok = write_sheets(tmp_path / "max.xlsx", rows=EXCEL_MAX_ROWS - 1)  # + the header row
    check_workbook(ok, "max.xlsx", lim)
    over = write_sheets(tmp_path / "over.xlsx", rows=EXCEL_MAX_ROWS)
    with pytest.raises(InputError, match="more than 1,048,576 rows"):
        check_workbook(over, "over.xlsx", lim)


def test_tags_split_across_chunks_are_counted_once(tmp_path, monkeypatch):
    wb = write_sheets(tmp_path / "small.xlsx", rows=999)  # 1 + 999 * 2 = 1,999 cells
    for chunk in (3, 7, 13, 1 << 22):
        monkeypatch.setattr(ingest, "_SCAN_CHUNK", chunk)
        check_workbook(wb, "small.xlsx", {"cells": 1999})
        with pytest.raises(InputError, match="more than 1,998 cells"):
            check_workbook(wb, "small.xlsx", {"cells": 1998})


def test_prefixed_tags_are_counted(tmp_path):
    wb = write_workbook(tmp_path / "x.xlsx", 10)
    xml = (
        '<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<x:dimension ref="A1:A1"/><x:sheetData>'
        + '<x:row r="1"><x:c r="A1"><x:v>1</x:v></x:c><x:c r="B1"><x:v>2</x:v></x:c></x:row>' * 30
        + "</x:sheetData></x:worksheet>"
    )
    with zipfile.ZipFile(wb, "a") as zf:
        zf.writestr("xl/worksheets/sheet2.xml", xml)
    check_workbook(wb, "x.xlsx", {"cells": 120})
    with pytest.raises(InputError, match="more than 119 cells together"):
        check_workbook(wb, "x.xlsx", {"cells": 119})


def test_a_sheet_bigger_than_its_zip_directory_says_is_refused(tmp_path):
    """The zip directory can understate a member's size (zipfile then silently stops there,
    with a CRC made to match, while another reader inflates it all): the real bytes count."""
    wb = tmp_path / "liar.xlsx"
    sheet = (HEAD.format(dim="") + ROW * 1000 + "</sheetData></worksheet>").encode()
    with zipfile.ZipFile(wb, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in PARTS.items():
            zf.writestr(name, text)
        zf.writestr("xl/worksheets/sheet1.xml", sheet)
        zi = zf.getinfo("xl/worksheets/sheet1.xml")
    head = sheet[:1000]
    raw = bytearray(wb.read_bytes())
    crc = zlib.crc32(head).to_bytes(4, "little")
    size = (1000).to_bytes(4, "little")
    local = zi.header_offset
    name = zi.filename.encode()
    central = raw.index(b"PK\x01\x02")  # the central directory, entry by entry
    while raw[central + 46 : central + 46 + len(name)] != name:
        central = raw.index(b"PK\x01\x02", central + 4)
    raw[local + 14 : local + 18] = crc
    raw[central + 16 : central + 20] = crc
    raw[local + 22 : local + 26] = size
    raw[central + 24 : central + 28] = size
    wb.write_bytes(bytes(raw))
    with zipfile.ZipFile(wb) as zf:
        assert zf.read("xl/worksheets/sheet1.xml") == head  # zipfile believes the directory
    with pytest.raises(
        InputError,
        match=r"part xl/worksheets/sheet1\.xml unpacks to more than the 1,000 bytes its zip "
        r"directory declares",
    ):
        check_workbook(wb, "liar.xlsx")


def test_a_legitimate_workbook_still_reads(tmp_path):
    wb = write_workbook(tmp_path / "ok.xlsx", 20_000, dim="A1:F20000")
    sheets = read_file(wb, "ok.xlsx")
    assert len(sheets) == 1 and sheets[0][1].shape == (20_000, 6)  # every row and cell read
    sample = sorted((ROOT / "data" / "sample").rglob("*.xlsx"))
    assert sample
    for p in sample:
        check_workbook(p, p.name)


def test_a_sparse_grid_bomb_is_refused(tmp_path):
    """Two cells, at A1 and XFD1048576: a few hundred bytes, but a reader fills the grid from A1
    to the furthest cell (17 billion cells). The furthest reference counts, not the cells."""
    rows = (
        '<row r="1"><c r="A1" t="inlineStr"><is><t>学籍号</t></is></c></row>'
        '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
    )
    wb = write_workbook(tmp_path / "sparse.xlsx", 1, row=rows)
    assert wb.stat().st_size < 2_000
    with pytest.raises(InputError) as e:
        check_workbook(wb, "sparse.xlsx")
    msg = str(e.value)
    assert "sparse.xlsx" in msg and "1,048,576" in msg and "\n" not in msg
    # the same two cells near A1 are a legitimate (tiny) sheet
    ok = write_workbook(
        tmp_path / "ok.xlsx",
        1,
        row='<row r="1"><c r="A1"><v>1</v></c></row><row r="9"><c r="F9"><v>2</v></c></row>',
    )
    check_workbook(ok, "ok.xlsx")
