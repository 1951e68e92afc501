"""Writing a raw file (xlsx or CSV in its encoding), and the identities files spell."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from ..io.xlsx import Patched, SheetGroups, text_or_none, write_xlsx
from ..io.xlsx import classify_cells as _classify
from .rawtable import Messer, Table

# ----------------------------------------------------------------------------- writers


def _csv_column(col) -> pa.Array:
    if isinstance(col, Patched):
        base = _csv_column(col.base)
        if isinstance(base, pa.DictionaryArray):
            base = base.cast(pa.string())
        mask = np.zeros(len(base), dtype=bool)
        mask[col.idx] = True
        return pc.replace_with_mask(base, pa.array(mask), _csv_column(col.values))
    if isinstance(col, pa.Array):
        return pc.fill_null(col.cast(pa.string()) if pa.types.is_dictionary(col.type) else col, "")
    if isinstance(col, pd.Categorical):
        return pa.DictionaryArray.from_arrays(
            pa.array(col.codes), pa.array(list(col.categories), pa.string())
        )
    if col.dtype.kind in "fiu":
        f = col.astype(float)
        txt = pc.cast(pa.array(np.where(np.isfinite(f), f, 0.0)), pa.string())
        return pc.if_else(pa.array(np.isfinite(f)), txt, "")
    strs = text_or_none(col)
    if strs is not None:
        return pc.fill_null(strs, "")
    is_str, is_num = _classify(col)
    out = np.full(len(col), "", dtype=object)
    out[is_str] = col[is_str]
    if is_num.any():
        f = col[is_num].astype(float)
        out[is_num] = np.asarray(pc.cast(pa.array(f), pa.string()).to_pylist(), dtype=object)
    return pa.array(out, pa.string())


def _write_csv(path: Path, t: Table, encoding: str, chunk: int = 250_000) -> None:
    """Write a CSV the way Excel and 问卷星 do (CRLF; BOM for UTF-8), in chunks of rows so a
    district-sized GBK file never sits in memory three times over."""
    table = pa.table({k: _csv_column(v) for k, v in t.out_cols().items()})
    with open(path, "wb") as f:
        if encoding == "utf-8-sig":
            f.write(b"\xef\xbb\xbf")
        for start in range(0, max(table.num_rows, 1), chunk):
            buf = io.BytesIO()
            pacsv.write_csv(
                table.slice(start, chunk),
                buf,
                pacsv.WriteOptions(quoting_style="needed", include_header=start == 0),
            )
            data = buf.getvalue().replace(b"\n", b"\r\n")
            f.write(
                data
                if encoding in ("utf-8", "utf-8-sig")
                else data.decode("utf-8").encode(encoding)
            )


class RawFile:
    """A raw file being built: its sheets, rows above headers, and how to write it."""

    def __init__(self, rel: str, fmt: str, encoding: str | None = None):
        self.rel, self.fmt, self.encoding = rel, fmt, encoding
        self.sheets: dict[str, Table] = {}
        self.pre_rows: dict[str, list] = {}
        self.grouped: tuple | None = None  # (table, names, bounds, headers): one table, many sheets


def write_file(out: Path, f: RawFile, m: Messer, rows: dict):
    """Write the file; remember where every row key ended up (for the manifest)."""
    if f.grouped is not None:
        t, names, bounds, headers = f.grouped
        sizes = np.diff(bounds)
        lead = np.array([len(f.pre_rows.get(nm, [])) + 2 for nm in names])
        row_of = np.zeros(t.next_rk(), dtype=np.int64)
        sheet_of = np.empty(t.next_rk(), dtype=object)
        row_of[t.rk] = np.arange(t.n) - np.repeat(bounds[:-1], sizes) + np.repeat(lead, sizes)
        sheet_of[t.rk] = np.repeat(np.asarray(names, dtype=object), sizes)
        rows[f.rel] = (row_of, sheet_of)
        path = out / f.rel
        path.parent.mkdir(parents=True, exist_ok=True)
        groups = SheetGroups(t.out_cols(), names, bounds, headers)
        write_xlsx(path, groups, pre_rows=f.pre_rows)
        return
    size = max((int(t.rk.max()) + 1 for t in f.sheets.values() if t.n), default=0)
    row_of = np.zeros(size, dtype=np.int64)
    sheet_at = np.empty(size, dtype=object) if f.fmt == "xlsx" else None
    for sheet, t in f.sheets.items():
        offset = 2 + len(f.pre_rows.get(sheet, []))
        row_of[t.rk] = np.arange(t.n) + offset
        if sheet_at is not None:
            sheet_at[t.rk] = sheet
    rows[f.rel] = (row_of, sheet_at)
    path = out / f.rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if f.fmt == "xlsx":
        sheets = {s: t.out_cols() for s, t in f.sheets.items()}
        write_xlsx(path, sheets, pre_rows=f.pre_rows)
    else:
        (t,) = f.sheets.values()
        _write_csv(path, t, f.encoding or "utf-8-sig")
        if f.encoding == "gb18030":  # a file-level entry: row key -1
            m.add(f.rel, [-1], None, "encoding", ["gb18030"], ["gb18030"], "encoding")


# ----------------------------------------------------------------------------- identity


class Identities:
    """Per-year lookup of a student's identity as files spell it."""

    def __init__(self, students: pd.DataFrame):
        self.s = students.set_index(["year", "student_id"])

    def get(self, year, ids):
        sub = self.s.loc[year].reindex(np.asarray(ids, dtype=object))
        return (
            sub["name"].to_numpy(dtype=object),
            sub["grade"].to_numpy(),
            sub["class_no"].to_numpy(),
            sub["gender"].to_numpy(dtype=object),
        )
