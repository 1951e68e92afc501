"""Resource limits of the readers: a workbook too big to read is refused before it is read.

The limits are ``[limits]`` of study.toml (:data:`mentorlib.io.study.DEFAULT_LIMITS`).
"""

from __future__ import annotations

import re
import struct
import zipfile
import zlib
from pathlib import Path

from ..errors import InputError
from .study import DEFAULT_LIMITS

MB = 1 << 20

_DIMENSION = re.compile(rb'<dimension\s+ref="\$?([A-Z]{1,3})\$?(\d+)(?::\$?([A-Z]{1,3})\$?(\d+))?"')
_MIN_CELL_XML = (
    16  # bytes of the shortest cell a sheet's XML can hold with its row: <c><v>1</v></c>
)
EXCEL_MAX_ROWS = 1_048_576  # rows of an Excel worksheet: an .xlsx with more was not made by Excel
_RATIO_FROM_MB = 20  # the compression ratio of a part is checked from this unpacked size
_SCAN_CHUNK = 1 << 22  # bytes of sheet XML decompressed at a time by the row and cell count
_ROOT = re.compile(rb"<([A-Za-z_][\w.-]*:)?worksheet[\s>]")


def _col_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ch - 64)
    return n


def _refuse(msg: str, rel: str) -> InputError:
    return InputError(f"workbook refused before reading: {msg}", file=rel)


def _unpacked(path: Path, zf: zipfile.ZipFile, zi: zipfile.ZipInfo):
    """Yield the uncompressed bytes of one zip member, :data:`_SCAN_CHUNK` at most at a time.

    A deflated member is inflated from its raw bytes to the end of its deflate stream, not cut
    at the size the zip directory declares (which :mod:`zipfile` does, and which a crafted
    file can understate while another reader inflates everything): the caller sees every byte.
    """
    if zi.compress_type != zipfile.ZIP_DEFLATED or zi.flag_bits & 1:
        with zf.open(zi) as f:  # stored (or a method the readers hardly support): as declared
            while chunk := f.read(_SCAN_CHUNK):
                yield chunk
        return
    with open(path, "rb") as fh:
        fh.seek(zi.header_offset)
        local = fh.read(30)
        if len(local) < 30 or local[:4] != b"PK\x03\x04":
            raise zipfile.BadZipFile(f"bad local header of {zi.filename}")
        name_len, extra_len = struct.unpack("<HH", local[26:30])
        fh.seek(zi.header_offset + 30 + name_len + extra_len)
        left = zi.compress_size
        d = zlib.decompressobj(-15)
        while True:
            if d.unconsumed_tail:
                raw = d.unconsumed_tail
            elif left > 0:
                raw = fh.read(min(left, 1 << 20))
                left -= len(raw)
                if not raw:
                    left = 0
            else:
                raw = b""
            out = d.decompress(raw, _SCAN_CHUNK)
            if out:
                yield out
            if d.eof or (not raw and not out):
                return


def _check_dimension(buf: bytes, what: str, lim: dict, rel: str) -> None:
    """Refuse a sheet whose ``<dimension>`` (it comes first in a sheet) is over ``cells``."""
    m = _DIMENSION.search(buf, 0, 1 << 16)
    if not (m and m.group(3)):
        return
    said = (int(m.group(4)) - int(m.group(2)) + 1) * (
        _col_number(m.group(3)) - _col_number(m.group(1)) + 1
    )
    if said > lim["cells"]:
        a = (m.group(1) + m.group(2)).decode()
        b = (m.group(3) + m.group(4)).decode()
        raise _refuse(
            f"{what} has about {said:,} cells (its dimension says {a}:{b}), over "
            f"the limit of {lim['cells']:,} cells (raise [limits] cells in "
            "study.toml if this file is genuine)",
            rel,
        )


def _tags(buf: bytes) -> tuple[list[bytes], re.Pattern]:
    """The row and cell tags of a sheet (with its namespace prefix), and its cell references.

    Every <c...> tag is a cell but a handful (<cols>, <cfRule>), every <row...> a row but
    <rowBreaks>: two passes over the bytes, and a count never below the truth."""
    m = _ROOT.search(buf, 0, 1 << 16)
    p = (m.group(1) or b"") if m else b""  # a namespace prefix (<x:row>) is counted
    tokens = [b"<" + p + b"row", b"<" + p + b"c"]
    refs = re.compile(b"<" + re.escape(p) + rb"c\s+r=\"([A-Z]{1,3})(\d{1,7})\"")
    return tokens, refs


def _furthest_cell(
    found: list, far_row: int, far_col: int, what: str, lim: dict, rel: str
) -> tuple[int, int]:
    """The furthest cell referenced so far: a reader fills the grid from A1 to it."""
    if not found:
        return far_row, far_col
    far_col = max(far_col, max(_col_number(c) for c in {c for c, _ in found}))
    far_row = max(far_row, max(int(r) for _, r in found))
    if far_row * far_col > lim["cells"]:
        raise _refuse(
            f"{what} references a cell at row {far_row:,}, column {far_col:,}: a reader "
            f"fills the grid up to it ({far_row * far_col:,} cells), over the limit of "
            f"{lim['cells']:,} cells (a sparse-grid zip bomb? raise [limits] cells in "
            "study.toml if this file is genuine)",
            rel,
        )
    return far_row, far_col


def _scan_part(chunks, zi, cells_left: int, rel: str, lim: dict) -> int:
    """Count the rows and cells of one worksheet's XML as it is unpacked; return its cells.

    ``chunks`` are the unpacked bytes (:func:`_unpacked`). Nothing in the sheet is trusted: its
    ``<dimension>`` may say A1:B2 over millions of rows (a dimension over the ``cells`` limit
    is refused at once), so the ``<row`` and ``<c`` tags are counted chunk by chunk (a tag split
    across two chunks is counted once), and the count stops as soon as the sheet has more than
    :data:`EXCEL_MAX_ROWS` rows, the workbook more than ``cells_left`` further cells, or the
    part more bytes than the zip directory declares. The shared strings are only measured.

    Raises
    ------
    InputError
        One line naming the file, the part and the limit it exceeds.
    """
    what = f"part {zi.filename}"
    sheet = "sharedStrings" not in zi.filename
    tokens: list[bytes] = []
    keep = 0
    rows = cells = size = 0
    far_row = far_col = 0  # the furthest cell referenced: readers fill the grid from A1 to it
    refs = re.compile(rb"<c\s+r=\"([A-Z]{1,3})(\d{1,7})\"")
    tail = b""
    for buf in chunks:
        if not size and sheet:
            _check_dimension(buf, what, lim, rel)
            tokens, refs = _tags(buf)
            keep = max(len(t) for t in tokens) - 1  # the end of a chunk may start a split tag
        size += len(buf)
        if size > zi.file_size:
            raise _refuse(
                f"{what} unpacks to more than the {zi.file_size:,} bytes its zip directory "
                "declares (a zip bomb?)",
                rel,
            )
        if not sheet:
            continue
        data = tail + buf
        # a tag lying wholly in ``tail`` was counted with the previous chunk
        rows += data.count(tokens[0]) - tail.count(tokens[0])
        cells += data.count(tokens[1]) - tail.count(tokens[1])
        if rows > EXCEL_MAX_ROWS:
            raise _refuse(
                f"{what} has more than {EXCEL_MAX_ROWS:,} rows (counted in its XML), more than "
                "an Excel worksheet can hold: this file was not saved by Excel (a zip bomb?)",
                rel,
            )
        if cells > cells_left:
            many = (
                f"{what} has more than {lim['cells']:,} cells (counted in its XML)"
                if cells_left == lim["cells"]
                else f"its sheets have more than {lim['cells']:,} cells together (counted in "
                f"their XML, up to {what})"
            )
            raise _refuse(
                f"{many}, over the limit of {lim['cells']:,} cells (raise [limits] cells in "
                "study.toml if this file is genuine)",
                rel,
            )
        far_row, far_col = _furthest_cell(refs.findall(data), far_row, far_col, what, lim, rel)
        tail = data[-max(keep, 24) :]
    return cells


def _check_sizes(parts: list[zipfile.ZipInfo], lim: dict, rel: str) -> None:
    """Refuse from the zip directory alone: each part's and all parts' unpacked size, and the
    compression ratio of each part over 20 MB."""
    for zi in parts:
        what = f"part {zi.filename}"
        if zi.file_size > lim["sheet_mb"] * MB:
            raise _refuse(
                f"{what} unpacks to {zi.file_size / MB:,.0f} MB (from "
                f"{zi.compress_size / MB:,.1f} MB), over the limit of "
                f"{lim['sheet_mb']:,} MB (raise [limits] sheet_mb in study.toml if this "
                "file is genuine)",
                rel,
            )
    total = sum(zi.file_size for zi in parts)
    if total > lim["sheet_mb"] * MB:
        raise _refuse(
            f"its worksheets and shared strings ({len(parts)} parts) unpack to "
            f"{total / MB:,.0f} MB together (from {sum(zi.compress_size for zi in parts) / MB:,.1f} MB), over "
            f"the limit of {lim['sheet_mb']:,} MB (raise [limits] sheet_mb in study.toml "
            "if this file is genuine)",
            rel,
        )
    for zi in parts:
        what = f"part {zi.filename}"
        ratio = zi.file_size / max(zi.compress_size, 1)
        if zi.file_size > _RATIO_FROM_MB * MB and ratio > lim["ratio"]:
            raise _refuse(
                f"{what} unpacks {ratio:,.0f} times its packed size "
                f"({zi.file_size / MB:,.0f} MB from {zi.compress_size / MB:,.1f} MB), "
                f"over the limit of {lim['ratio']:,} (a zip bomb? raise [limits] ratio "
                "in study.toml if this file is genuine)",
                rel,
            )


def _part_cells(
    path: Path, zf: zipfile.ZipFile, zi: zipfile.ZipInfo, lim: dict, rel: str, total_cells: int
) -> int:
    """The cells of one part: counted in a worksheet's XML, estimated for .xlsb and .ods."""
    if zi.filename.endswith(".bin") or zi.filename == "content.xml":
        cells = zi.file_size // _MIN_CELL_XML
        if total_cells + (cells if "sharedStrings" not in zi.filename else 0) > lim["cells"]:
            raise _refuse(
                f"part {zi.filename} has about {cells:,} cells (estimated from its "
                f"{zi.file_size / MB:,.0f} MB), over the limit of {lim['cells']:,} "
                "cells (raise [limits] cells in study.toml if this file is genuine)",
                rel,
            )
        return cells if "sharedStrings" not in zi.filename else 0
    chunks = _unpacked(path, zf, zi)
    try:
        return _scan_part(chunks, zi, lim["cells"] - total_cells, rel, lim)
    finally:
        chunks.close()


def check_workbook(path: Path, rel: str, limits: dict | None = None) -> None:
    """Refuse a workbook too big to read, before it is read.

    Checked against ``limits`` (see :data:`mentorlib.io.study.DEFAULT_LIMITS`, ``[limits]`` in
    study.toml), first from the zip directory alone: the uncompressed size of each worksheet
    and of the shared strings, and of all of them together (``sheet_mb``); the compression
    ratio of each such part over 20 MB (``ratio``: a zip bomb expands a few hundred KB into
    gigabytes). Then each worksheet's XML is decompressed a few MB at a time (never held
    whole) and its ``<row>`` and ``<c>`` tags are counted: a sheet of more than
    :data:`EXCEL_MAX_ROWS` rows, or a workbook of more than ``cells`` cells, is refused as
    soon as the count passes the limit. A ``<dimension>`` is never trusted to be small (a sheet
    whose dimension alone is over ``cells`` is refused at once). Binary (.xlsb) sheets and an
    .ods ``content.xml`` are not counted; their cells are estimated from their size.

    Raises
    ------
    InputError
        One line naming the file, the part and the limit it exceeds.
    """
    lim = {**DEFAULT_LIMITS, **(limits or {})}
    try:
        with zipfile.ZipFile(path) as zf:
            parts = [
                zi
                for zi in zf.infolist()
                if re.fullmatch(
                    r"xl/worksheets/[^/]+\.(xml|bin)|xl/sharedStrings\.(xml|bin)|content\.xml",
                    zi.filename,
                )
            ]
            _check_sizes(parts, lim, rel)
            total_cells = 0
            for zi in parts:
                total_cells += _part_cells(path, zf, zi, lim, rel, total_cells)
    except (
        zipfile.BadZipFile,
        zlib.error,
        OSError,
        EOFError,
        RuntimeError,
        NotImplementedError,
    ) as e:
        raise InputError(f"unreadable workbook ({e})", file=rel) from None
