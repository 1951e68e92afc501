"""A fast, deterministic writer of plain .xlsx workbooks (values only, no formatting).

The generator writes tens of millions of cells for a district-sized study; xlsxwriter writes
about 0.17 million cells a second here, far from the 2-minute target (see
``benchmarks/bench_synth.py``, which measures both in the same run). This writer builds each
column's cell XML with vectorised pyarrow string kernels and zips the parts with fixed
timestamps, so the same frames always give byte-identical files. It writes what an export
from a records system or a survey platform contains: text (inline strings), numbers and empty
cells, one or more sheets, optional rows above the header. It reads back identically with
openpyxl and python-calamine (tested), and opens in LibreOffice Calc 7.4 (checked by converting a
generated workbook to CSV: values in their cells).
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeAlias

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

_FIXED_TIME = (1980, 1, 1, 0, 0, 0)
_BAD_SHEET = re.compile(r"[\[\]:*?/\\]")
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")

CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">\
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>\
<Default Extension="xml" ContentType="application/xml"/>\
<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>\
<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>\
{sheets}</Types>"""
SHEET_CT = (
    '<Override PartName="/xl/worksheets/sheet{i}.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
)
ROOT_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>\
</Relationships>"""
WORKBOOK = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" \
xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>{sheets}</sheets></workbook>"""
WB_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{rels}\
<Relationship Id="rIdS" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>\
</Relationships>"""
STYLES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">\
<fonts count="1"><font><sz val="11"/><name val="等线"/></font></fonts>\
<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>\
<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>\
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>\
<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>\
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>\
</styleSheet>"""
SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
SHEET_TAIL = "</sheetData></worksheet>"


def col_letter(i: int) -> str:
    """Column letters of a 0-based column index (0 -> A, 26 -> AA)."""
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


_NEEDS_ESCAPE = "[&<>\x00-\x08\x0b\x0c\x0e-\x1f]"


def _escape(arr: pa.Array) -> pa.Array:
    """XML-escape text; most columns need nothing, so look before rewriting."""
    if not pc.any(pc.match_substring_regex(arr, _NEEDS_ESCAPE)).as_py():
        return arr
    arr = pc.replace_substring(arr, "&", "&amp;")
    arr = pc.replace_substring(arr, "<", "&lt;")
    arr = pc.replace_substring(arr, ">", "&gt;")
    return pc.replace_substring_regex(arr, _XML_BAD.pattern, "")


_NUM_TYPES = (int, float, np.integer, np.floating)


def _cell_code(v) -> int:
    if isinstance(v, str):
        return 1
    if isinstance(v, _NUM_TYPES) and not isinstance(v, bool | np.bool_):
        return 2 if np.isfinite(v) else 0
    return 0


_cell_codes = np.frompyfunc(_cell_code, 1, 1)


def classify_cells(col: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Masks of the text cells and the (finite) numeric cells of an object column."""
    if not len(col):
        return np.zeros(0, bool), np.zeros(0, bool)
    code = _cell_codes(col).astype(np.int8)
    return code == 1, code == 2


def text_or_none(values: np.ndarray) -> pa.Array | None:
    """The column as an Arrow string array when every cell is text or empty, else None."""
    try:
        return pa.array(values, pa.string(), from_pandas=True)
    except (pa.ArrowTypeError, pa.ArrowInvalid, TypeError):
        return None


@dataclass
class Patched:
    """A column with a few cells replaced: ``base`` (numpy or Arrow) and ``values`` at ``idx``.

    Lets a caller keep a large column compact while a handful of cells hold something else
    (a number typed into a text column, say).
    """

    base: Column
    idx: np.ndarray
    values: np.ndarray

    def __len__(self) -> int:
        return len(self.base)


#: A column the writer takes: numpy (any dtype, object for mixed text and numbers), pandas,
#: Arrow (dictionary-encoded too), or one of these with a few cells replaced.
Column: TypeAlias = "np.ndarray | pd.Series | pd.Categorical | pa.Array | Patched"
#: One sheet: a DataFrame, or header -> column.
SheetData: TypeAlias = "pd.DataFrame | Mapping[str, Column]"


_EMPTY = "<c/>"
_T_OPEN = '<c t="inlineStr"><is><t xml:space="preserve">'
_T_CLOSE = "</t></is></c>"


def _column_cells(values) -> pa.Array:
    """XML of one column's cells, in row order, without cell references.

    Cells carry no ``r`` attribute (optional in SpreadsheetML; openpyxl, calamine, Excel and
    LibreOffice place them in order), so an empty cell is ``<c/>`` and a cell's XML depends on
    its value alone: a column with few distinct values (Likert labels, 是/否, class names) is
    built from its dictionary, not cell by cell.
    """
    if isinstance(values, Patched):
        xml = _column_cells(values.base)
        if len(values.idx):
            mask = np.zeros(len(xml), dtype=bool)
            mask[values.idx] = True
            xml = pc.replace_with_mask(xml, pa.array(mask), _column_cells(values.values))
        return xml
    if isinstance(values, pa.DictionaryArray):  # few distinct values, already encoded
        d = values.dictionary.cast(pa.string())
        xml = pc.if_else(
            pc.equal(d, ""), _EMPTY, pc.binary_join_element_wise(_T_OPEN, _escape(d), _T_CLOSE, "")
        )
        return pc.fill_null(xml.take(values.indices), _EMPTY)
    if isinstance(values, pa.Array):
        return _text_cells(
            values.cast(pa.string()) if not pa.types.is_string(values.type) else values
        )
    if isinstance(values, pd.Series):
        values = (
            values.to_numpy(dtype=object)
            if not pd.api.types.is_numeric_dtype(values)
            else values.to_numpy()
        )
    values = np.asarray(values)
    if values.dtype.kind in "fiub":
        return _number_cells(values.astype("float64"))
    strs = text_or_none(values)
    if strs is not None:  # the common case: text and empty cells only
        return _text_cells(strs)
    is_str, is_num = classify_cells(values)
    txt = np.full(len(values), None, dtype=object)
    txt[is_str] = values[is_str]
    res = _text_cells(pa.array(txt, pa.string()))
    if is_num.any():
        num = np.full(len(values), np.nan)
        num[is_num] = values[is_num].astype(float)
        res = pc.if_else(pa.array(is_num), _number_cells(num), res)
    return res


def _number_cells(num: np.ndarray) -> pa.Array:
    finite = np.isfinite(num)
    txt = pc.cast(pa.array(np.where(finite, num, 0.0)), pa.string())  # 1.0 -> "1", 0.5 -> "0.5"
    xml = pc.binary_join_element_wise("<c><v>", txt, "</v></c>", "")
    return pc.if_else(pa.array(finite), xml, _EMPTY)


def _text_cells(strs: pa.Array) -> pa.Array:
    filled = pc.fill_null(strs, "")
    enc = filled.dictionary_encode()
    if len(enc.dictionary) * 4 < len(filled):  # few distinct values: build each once
        d = enc.dictionary
        xml = pc.if_else(
            pc.equal(d, ""), _EMPTY, pc.binary_join_element_wise(_T_OPEN, _escape(d), _T_CLOSE, "")
        )
        return xml.take(enc.indices)
    xml = pc.binary_join_element_wise(_T_OPEN, _escape(filled), _T_CLOSE, "")
    return pc.if_else(pc.equal(filled, ""), _EMPTY, xml)


def _head_rows(rows: list[list]) -> str:
    out = []
    for row in rows:
        cells = "".join(
            _EMPTY if v is None or v == "" else f"{_T_OPEN}{_escape_py(v)}{_T_CLOSE}" for v in row
        )
        out.append(f"<row>{cells}</row>")
    return "".join(out)


def _rows_xml(columns: list) -> pa.Array:
    body = pc.binary_join_element_wise(*[_column_cells(v) for v in columns], "")
    body = pc.replace_substring_regex(body, "(?:<c/>)+$", "")  # no trailing empty cells
    return pc.binary_join_element_wise("<row>", body, "</row>", "")


def _sheet_xml(data: SheetData, pre_rows: list[list] | None) -> bytes:
    if isinstance(data, pd.DataFrame):
        columns: list[Column] = [data[c] for c in data.columns]
    else:
        columns = list(data.values())
    head = (SHEET_HEAD + _head_rows([*(pre_rows or []), [str(c) for c in data]])).encode("utf-8")
    if not columns or not len(columns[0]):
        return head + SHEET_TAIL.encode()
    return head + _concat_bytes(_rows_xml(columns)) + SHEET_TAIL.encode()


@dataclass
class SheetGroups:
    """One table split across many sheets (an exam workbook with a sheet per class).

    The XML of every row is built in one vectorised pass, then cut per sheet: thousands of
    sheets cost no more than one.

    Attributes
    ----------
    columns : dict
        Header -> column, for all rows; rows are sorted so each sheet's rows are contiguous.
    names : list of str
        Sheet names, in order.
    bounds : array
        ``len(names) + 1`` row offsets: sheet ``k`` holds rows ``bounds[k]:bounds[k + 1]``.
    headers : list of list of str
        Each sheet's header; a prefix of ``columns`` (trailing columns may be left out when a
        sheet has no values in them, like 英语 for grades 1-2).
    """

    columns: dict
    names: list
    bounds: np.ndarray
    headers: list


def _grouped_xml(g: SheetGroups, pre_rows: dict) -> list[bytes]:
    keys = list(g.columns)
    sizes = np.diff(g.bounds)
    rows = _rows_xml([g.columns[k] for k in keys])
    out = []
    for k, nm in enumerate(g.names):
        if g.headers[k] != keys[: len(g.headers[k])]:
            raise ValueError(f"sheet {nm!r}: header must be a prefix of the columns")
        head = (SHEET_HEAD + _head_rows([*pre_rows.get(nm, []), g.headers[k]])).encode("utf-8")
        out.append(
            head + _concat_bytes(rows.slice(int(g.bounds[k]), int(sizes[k]))) + SHEET_TAIL.encode()
        )
    return out


def _concat_bytes(arr: pa.Array) -> bytes:
    """All values of a null-free string array, concatenated (read straight from its buffer)."""
    arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    if len(arr) == 0:
        return b""
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32)[
        arr.offset : arr.offset + len(arr) + 1
    ]
    return memoryview(arr.buffers()[2])[offsets[0] : offsets[-1]].tobytes()


def _escape_py(v) -> str:
    s = str(v).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _XML_BAD.sub("", s)


def write_xlsx(
    path: str | Path,
    sheets: Mapping[str, SheetData] | SheetGroups,
    *,
    pre_rows: dict[str, list[list]] | None = None,
    compresslevel: int = 1,
) -> Path:
    """Write DataFrames as sheets of one .xlsx workbook, deterministically.

    Parameters
    ----------
    path : path
        Output file.
    sheets : dict or SheetGroups
        Sheet name -> DataFrame, or a mapping header -> column (:data:`Column`); or one table
        cut into many sheets (:class:`SheetGroups`). The headers become the first row. Cells
        that are ``str`` are written as text (IDs stay text), numbers as numbers, ``None``/NaN
        as empty cells.
    pre_rows : dict, optional
        Sheet name -> rows written above the header (a title line, say).
    compresslevel : int
        zlib level (1 is fast and still small).

    Returns
    -------
    Path
    """
    path = Path(path)
    names = list(sheets.names) if isinstance(sheets, SheetGroups) else list(sheets)
    for nm in names:
        if not nm or len(nm) > 31 or _BAD_SHEET.search(nm):
            raise ValueError(f"invalid sheet name {nm!r}")
    if len(set(names)) != len(names):
        raise ValueError("duplicate sheet names")
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as z:

        def put(name: str, data: bytes | str):
            info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(
                info,
                data.encode("utf-8") if isinstance(data, str) else data,
                compresslevel=compresslevel,
            )

        for part, xml in _workbook_parts(names).items():
            put(part, xml)
        if isinstance(sheets, SheetGroups):
            for i, sheet_xml in enumerate(_grouped_xml(sheets, pre_rows or {})):
                put(f"xl/worksheets/sheet{i + 1}.xml", sheet_xml)
        else:
            for i, nm in enumerate(names):
                put(
                    f"xl/worksheets/sheet{i + 1}.xml",
                    _sheet_xml(sheets[nm], (pre_rows or {}).get(nm)),
                )
    return path


def _workbook_parts(names: list[str]) -> dict[str, str]:
    """The parts of a workbook other than its sheets, in the order they are zipped."""
    ct = CONTENT_TYPES.format(sheets="".join(SHEET_CT.format(i=i + 1) for i in range(len(names))))
    wb = WORKBOOK.format(
        sheets="".join(
            f'<sheet name="{_escape_py(nm)}" sheetId="{i + 1}" r:id="rId{i + 1}"/>'
            for i, nm in enumerate(names)
        )
    )
    rels = WB_RELS.format(
        rels="".join(
            f'<Relationship Id="rId{i + 1}" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
            f'Target="worksheets/sheet{i + 1}.xml"/>'
            for i in range(len(names))
        )
    )
    return {
        "[Content_Types].xml": ct,
        "_rels/.rels": ROOT_RELS,
        "xl/workbook.xml": wb,
        "xl/_rels/workbook.xml.rels": rels,
        "xl/styles.xml": STYLES,
    }
