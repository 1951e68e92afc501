"""Bounded resources (issue 11, item 7): a workbook or CSV too big to read is refused, in one
line, before it is read: a zip bomb cannot take the machine's memory."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import pytest

from mentorlib.errors import InputError
from mentorlib.ingest import check_workbook, read_file

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
        import resource, sys
        from mentorlib.cli import main
        rc = main(["clean", {str(study)!r}, "--out", {str(tmp_path / "out")!r}])
        peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
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
    assert seconds < 30
    assert peak_kb < 500 * 1024  # Linux reports kilobytes
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr
    assert "roster.xlsx" in lines[0] and "refused before reading" in lines[0]
    assert not (tmp_path / "out").exists()
    return lines[0]


def test_clean_refuses_a_cells_bomb_in_seconds_and_little_memory(cells_bomb, tmp_path):
    line = _clean_in_a_subprocess(cells_bomb, tmp_path)
    assert "130,000,000 cells" in line and "over the limit of 50,000,000 cells" in line


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


def test_cells_estimated_without_a_dimension(tmp_path):
    wb = write_workbook(tmp_path / "nodim.xlsx", 1000)
    with pytest.raises(InputError, match="estimated from its"):
        check_workbook(wb, "nodim.xlsx", {"cells": 1000})
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
            HEAD.format(dim='<dimension ref="A1:F10"/>') + "</sheetData></worksheet>",
        )
    check_workbook(wb, "two.xlsx", {"cells": 120})
    with pytest.raises(InputError, match="its sheets have about 120 cells together"):
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
