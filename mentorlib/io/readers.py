"""Readers: a raw file (xlsx of many sheets, CSV in any Chinese encoding) to raw sheets.

A :class:`RawSheet` keeps every cell exactly as the file holds it (text, a number, a date;
IDs are never converted) with the spreadsheet row number of each data row, so every later
repair can name its file, sheet, row and column. :func:`match_columns` then maps the sheet's
headers to a codebook's fields, for records-system exports and for both 问卷星 forms (按文本,
按序号) and 腾讯问卷 exports.

Bad files give one line: a file that is not what study.toml says, an unreadable or empty
workbook, binary garbage, a codebook that does not fit (listing the questions it could not find).
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from .codebook import FUZZY_THRESHOLD, Codebook, Field, header_forms, norm_text, similarity
from .formats import MAX_HEADER_SCAN, read_as
from .limits import MB, check_workbook
from .study import DEFAULT_LIMITS

WJX_SYSTEM = {
    "序号": "resp_no",
    "提交答卷时间": "submitted_at",
    "所用时间": "duration_s",
    "来源": "channel",
    "来源详情": "channel_detail",
    "来自IP": "ip",
}
TENCENT_SYSTEM = {
    "编号": "resp_no",
    "开始答题时间": "started_at",
    "结束答题时间": "submitted_at",
    "答题时长": "duration_s",
}


@dataclass
class RawSheet:
    """One sheet (or CSV) as read: headers, raw cells, and where each row came from."""

    file: str
    sheet: str | None
    header: list[str]
    data: pd.DataFrame  # object columns, positional (0..k-1); cells as in the file
    rows: np.ndarray  # spreadsheet row number of each data row (header row = header_row)
    header_row: int = 1
    encoding: str | None = None
    platform: str | None = None  # "wjx" (问卷星), "tencent" (腾讯问卷) or None
    blank_rows: int = 0
    notes: list[str] = field(default_factory=list)
    row_sheet: np.ndarray | None = None  # per-row sheet names when sheets were read together
    title: str | None = None  # the text of the title rows above the header ("七年级语文期末成绩")
    titles: dict | None = None  # sheet -> its title, when sheets were read together
    # column -> rows whose cell continues a merged cell above (None: the reader saw no ranges)
    merged: dict[int, np.ndarray] | None = None

    @property
    def n(self) -> int:
        return len(self.rows)  # stays right after the cells are released

    def sheet_at(self, idx) -> np.ndarray:
        """The sheet of each row in ``idx`` (all the same unless sheets were combined)."""
        idx = np.asarray(idx, dtype=np.int64)
        if self.row_sheet is None:
            return np.full(len(idx), self.sheet, dtype=object)
        return self.row_sheet[idx]

    def title_of(self, sheet: str | None) -> str | None:
        """The title rows' text of one of the sheets read (None when it had none)."""
        return self.titles.get(sheet) if self.titles is not None else self.title

    def where(self, i: int) -> str:
        """'file!sheet#row' of one row: a pointer a person can follow."""
        sh = self.sheet_at([i])[0]
        return f"{self.file}" + (f"!{sh}" if sh else "") + f"#{self.rows[i]}"

    def col(self, j: int) -> pd.Series:
        return self.data.iloc[:, j]


# ----------------------------------------------------------------------------- reading


def _decodes(raw: bytes, enc: str, chunk: int = 1 << 20) -> bool:
    """Whether ``raw`` decodes as ``enc``, checked in chunks (no copy of a big file as text)."""
    try:
        dec = codecs.getincrementaldecoder(enc)()
    except LookupError:
        return False
    try:
        for i in range(0, len(raw), chunk):
            dec.decode(raw[i : i + chunk], final=False)
        dec.decode(b"", final=True)
        return True
    except UnicodeDecodeError:
        return False


def _first_undecodable(raw: bytes, enc: str, chunk: int = 1 << 20) -> int | None:
    """Byte offset of the first byte that does not decode as ``enc`` (None: it all decodes)."""
    dec = codecs.getincrementaldecoder(enc)()
    for i in range(0, len(raw), chunk):
        try:
            dec.decode(raw[i : i + chunk], final=False)
        except UnicodeDecodeError as e:
            return i + e.start
    try:
        dec.decode(b"", final=True)
    except UnicodeDecodeError:
        return len(raw) - 1
    return None


_HIGH_BYTES = bytes(range(0x80, 0x100))


def _line_of(raw: bytes, pos: int) -> int:
    return raw.count(b"\n", 0, pos) + 1


def _first_utf8_line(raw: bytes) -> int | None:
    """The first line that is clearly UTF-8 Chinese (a file otherwise in GBK): valid UTF-8 with
    at least two multi-byte characters. A GBK line almost never is."""
    for k, line in enumerate(raw.split(b"\n"), 1):
        if len(line) - len(line.translate(None, _HIGH_BYTES)) < 6:
            continue
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            continue
        return k
    return None


def _mixed(file: str, utf8_line: int, other_line: int) -> InputError:
    return InputError(
        f"mixes two encodings: line {utf8_line} is UTF-8 but line {other_line} is not (GBK?); "
        "save the whole file in one encoding (e.g. UTF-8) and run again",
        file=file,
    )


def detect_encoding(raw: bytes, declared: str | None = None, *, file: str = "") -> str:
    """The encoding of a CSV: the declared one when it decodes, else utf-8-sig / utf-8 / gb18030.

    A file that mixes UTF-8 and GBK lines (two exports pasted together) is refused, naming a line
    of each: read as one encoding, the other lines would become garbage.
    """
    if b"\x00" in raw[:65536]:
        raise InputError("binary content, not a text (CSV) file", file=file)
    if declared:
        enc = (
            "utf-8-sig"
            if declared.lower() in ("utf-8", "utf8") and raw.startswith(b"\xef\xbb\xbf")
            else declared
        )
        bad = _first_undecodable(raw, enc) if _known(enc) else 0
        if bad is None:
            if not enc.lower().startswith("utf") and (u := _first_utf8_line(raw)) is not None:
                first_other = _first_non_utf8_line(raw)
                if first_other is not None:
                    raise _mixed(file, u, first_other)
            return enc
        raise InputError(
            f"does not decode as {declared} (as study.toml says): line {_line_of(raw, bad)} "
            "is the first that does not",
            file=file,
        )
    enc = "utf-8-sig" if raw.startswith(b"\xef\xbb\xbf") else "utf-8"
    bad = _first_undecodable(raw, enc)
    if bad is None:
        return enc
    # whole lines of UTF-8 Chinese before the first bad byte: two encodings in one file
    before = _first_utf8_line(raw[: raw.rfind(b"\n", 0, bad) + 1])
    if before is not None or enc == "utf-8-sig":
        raise _mixed(file, before or 1, _line_of(raw, bad))
    if _first_undecodable(raw, "gb18030") is None:
        u = _first_utf8_line(raw)
        if u is not None:
            raise _mixed(file, u, _line_of(raw, bad))
        return "gb18030"
    if (u := _first_utf8_line(raw)) is not None:
        raise _mixed(file, u, _line_of(raw, bad))
    raise InputError(
        f"cannot decode as UTF-8 or GB18030 (GBK): line {_line_of(raw, bad)} is the first that "
        "is not UTF-8",
        file=file,
    )


def _known(enc: str) -> bool:
    try:
        codecs.lookup(enc)
        return True
    except LookupError:
        return False


def _first_non_utf8_line(raw: bytes) -> int | None:
    bad = _first_undecodable(raw, "utf-8")
    return None if bad is None else _line_of(raw, bad)


HEAD_BYTES = 1 << 20  # the start of a CSV read to find its title rows, header and separator

_TOO_MANY = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")
_OPEN_QUOTE = re.compile(r"EOF inside string starting at row (\d+)")


def head_fields(raw: bytes, enc: str, sep: str, lines: int = MAX_HEADER_SCAN) -> list[int]:
    """How many fields each of a CSV's first ``lines`` records has (0: a blank line).

    The parser takes the width of the table from the first line; a title row above the header
    ("2023学年第一学期期末成绩", one field) would make it refuse the header below. The header is
    looked for in these lines (:func:`to_raw_sheet`), so the widest of them is the table's width,
    and :func:`to_raw_sheet` refuses a line below the header that is wider than it.
    """
    head = raw[:HEAD_BYTES]
    text = codecs.getincrementaldecoder(enc)(errors="replace").decode(head, final=True)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    out: list[int] = []
    try:
        out.extend(len(rec) for rec in itertools.islice(reader, lines))
    except csv.Error:  # a cell longer than csv's limit: the parser will say where
        pass
    return out


def _too_many(line: int, saw: int, width: str) -> str:
    return (
        f"not a readable CSV: line {line} has {saw} fields, more than the {width} "
        "(a comma inside a cell that is not quoted?)"
    )


def _parser_problem(e: Exception) -> str:
    """The parser's complaint as one line naming the line of the file (1 = the first)."""
    msg = str(e).strip()
    if m := _TOO_MANY.search(msg):
        want, line, saw = m.groups()
        return _too_many(int(line), int(saw), f"{want} of the lines at the top")
    if m := _OPEN_QUOTE.search(msg):
        return f'not a readable CSV: line {int(m.group(1)) + 1} opens a quote (") never closed'
    first = msg.splitlines()[0] if msg else type(e).__name__
    return f"not a readable CSV ({first[:200]})"


def _read_csv_rows(
    path: Path, rel: str, encoding: str | None, limits: dict | None = None, *, renamed=False
) -> tuple[pd.DataFrame, str]:
    lim = {**DEFAULT_LIMITS, **(limits or {})}
    size = path.stat().st_size
    if size > lim["csv_mb"] * MB:
        raise InputError(
            f"CSV of {size / MB:,.0f} MB is larger than the limit of {lim['csv_mb']:,} MB "
            "(raise [limits] csv_mb in study.toml if this file is genuine)",
            file=rel,
        )
    raw = path.read_bytes()
    if not raw.strip():
        raise InputError("empty file", file=rel)
    enc = detect_encoding(raw, encoding, file=rel)
    sep = "\t" if path.suffix.lower() == ".tsv" else ","
    if renamed:  # a records system's "Excel export" is often tab-separated text
        head = b"\n".join(raw[:HEAD_BYTES].split(b"\n")[:MAX_HEADER_SCAN])  # a title row too
        sep = "\t" if head.count(b"\t") > head.count(b",") else ","
    fields = head_fields(raw, enc, sep)
    try:  # pandas decodes as it parses: the file is never held as one Python string
        df = pd.read_csv(
            io.BytesIO(raw),
            encoding=enc,
            header=None,
            names=range(max(fields, default=1)),  # a title row above the header: one field
            index_col=False,
            dtype=str,  # every cell as text: IDs never become numbers
            keep_default_na=False,
            na_values=[""],  # an empty field is a missing cell
            sep=sep,
            engine="c",
            skip_blank_lines=False,
            on_bad_lines="error",
        )
    except (pd.errors.ParserError, ValueError, UnicodeDecodeError) as e:
        raise InputError(_parser_problem(e), file=rel) from None
    del raw
    df.attrs["fields"] = fields  # the header is known later: to_raw_sheet checks the lines below
    return df, enc  # Arrow-backed text columns: compact even for a district's mood chart


def _read_xlsx_sheets(
    path: Path,
    rel: str,
    sheet: str | None,
    reader: str,
    limits: dict | None = None,
    *,
    renamed: bool = False,
) -> dict[str, pd.DataFrame]:
    is_zip = zipfile.is_zipfile(path)
    if is_zip:
        check_workbook(path, rel, limits)
    try:
        if reader == "openpyxl" and is_zip and not renamed:
            return _read_openpyxl(path, sheet)
        from python_calamine import CalamineWorkbook

        if renamed:  # the name's extension lies: let calamine tell the format from the content
            wb = CalamineWorkbook.from_filelike(io.BytesIO(path.read_bytes()))
        else:
            wb = CalamineWorkbook.from_path(str(path))
        names = wb.sheet_names
        if sheet is not None and sheet not in names:
            raise InputError(f"no sheet {sheet!r} (sheets: {', '.join(names)})", file=rel)
        out = {}
        for nm in [sheet] if sheet else names:
            ws = wb.get_sheet_by_name(nm)
            rows = ws.to_python(skip_empty_area=False)
            out[nm] = pd.DataFrame(rows, dtype=object) if rows else pd.DataFrame(dtype=object)
            out[nm].attrs["merged"] = list(getattr(ws, "merged_cell_ranges", None) or [])
        return out
    except InputError:
        raise
    except Exception as e:  # any reader failure is one line for the user
        msg = str(e).splitlines()[0][:160] if str(e) else type(e).__name__
        raise InputError(f"unreadable workbook ({msg})", file=rel) from None


def _read_openpyxl(path: Path, sheet: str | None) -> dict[str, pd.DataFrame]:
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        names = wb.sheetnames
        if sheet is not None and sheet not in names:
            raise InputError(f"no sheet {sheet!r} (sheets: {', '.join(names)})", file=str(path))
        out = {}
        for nm in [sheet] if sheet else names:
            rows = [list(r) for r in wb[nm].iter_rows(values_only=True)]
            width = max((len(r) for r in rows), default=0)
            out[nm] = pd.DataFrame([r + [None] * (width - len(r)) for r in rows], dtype=object)
        return out
    finally:
        wb.close()


def read_file(
    path: Path,
    rel: str,
    *,
    sheet: str | None = None,
    encoding: str | None = None,
    reader: str = "calamine",
    limits: dict | None = None,
    notes: list[str] | None = None,
) -> list[tuple[str | None, pd.DataFrame, str | None]]:
    """Every sheet of a file as ``(sheet, cells, encoding)``; cells are raw, row 0 = line 1.

    The file is read as what its content is (:func:`mentorlib.io.formats.read_as`): a real .xls
    named .xlsx as a workbook, a CSV named .xls as CSV, each with a line appended to ``notes``;
    an encrypted workbook, a web page, a WPS .et file or a zip archive is refused in plain words.
    ``limits`` (study.toml ``[limits]``, default :data:`mentorlib.io.study.DEFAULT_LIMITS`) bound
    the size of what is read: a file over a limit is refused before it is read.
    """
    if not path.is_file():
        raise InputError("file listed in study.toml not found", file=rel)
    how, note = read_as(path, rel)
    if note and notes is not None:
        notes.append(note)
    if how == "csv":
        df, enc = _read_csv_rows(path, rel, encoding, limits, renamed=note is not None)
        return [(None, df, enc)]
    sheets = _read_xlsx_sheets(path, rel, sheet, reader, limits, renamed=note is not None)
    if not sheets or all(d.empty for d in sheets.values()):
        raise InputError("empty workbook", file=rel)
    return [(nm, _blank_to_none(d), None) for nm, d in sheets.items()]


def _blank_to_none(df: pd.DataFrame) -> pd.DataFrame:
    if df.empty:
        return df
    df = df.astype(object)
    return df.where(df.notna() & (df != ""), None)


# ----------------------------------------------------------------------------- headers


def _cell_str(v) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return ""
    if isinstance(v, float) and v == int(v):
        return str(int(v))
    return str(v).strip()


def _aliases(f: Field, cb: Codebook) -> list[str]:
    out = [norm_text(t) for t in f.text]
    return [a for a in out if a]


_KNOWN: dict[str, tuple] = {}


def _known_headers(cb: Codebook) -> tuple[set, tuple]:
    if cb.name not in _KNOWN or _KNOWN[cb.name][2] is not cb:
        known = set()
        for f in cb.fields:
            known.update(_aliases(f, cb))
        known.update(norm_text(k) for k in (*WJX_SYSTEM, *TENCENT_SYSTEM))
        _KNOWN[cb.name] = (known, tuple(k for k in known if len(k) >= 4), cb)
    return _KNOWN[cb.name][:2]


def header_score(row: list, cb: Codebook) -> int:
    """How many cells of a row look like this codebook's headers (to find the header row)."""
    known, long_known = _known_headers(cb)
    score = 0
    for v in row:
        h = norm_text(_cell_str(v))
        if not h:
            continue
        forms = header_forms(_cell_str(v))
        if any(x in known for x in forms) or any(h.endswith(k) for k in long_known):
            score += 1
        elif re.match(r"^\d+\(", _cell_str(v)):  # 问卷星 按序号 option column "5(学习方法)"
            score += 1
    return score


def to_raw_sheet(
    cells: pd.DataFrame, rel: str, sheet: str | None, enc: str | None, cb: Codebook
) -> RawSheet:
    """Find the header row (title rows above it are skipped) and split headers from data."""
    if cells.empty:
        raise InputError("no rows", file=rel, sheet=sheet)
    scan = min(MAX_HEADER_SCAN, len(cells))
    need = max(1, min(3, sum(f.required for f in cb.fields)))
    head = cells.iloc[:scan].to_numpy(dtype=object)  # the first row that scores: rows below unread
    best = next((i for i in range(scan) if header_score(list(head[i]), cb) >= need), None)
    if best is None:
        expected = ", ".join(f.label for f in cb.fields if f.required)[:200]
        raise InputError(
            f"no header row found for codebook {cb.name!r} in the first {scan} rows "
            f"(expected columns such as: {expected})",
            file=rel,
            sheet=sheet,
        )
    fields = cells.attrs.get("fields") or []  # a CSV's first lines: none wider than the header
    for k in range(best + 1, len(fields)):
        if fields[k] > fields[best]:
            width = f"{fields[best]} of the header row (line {best + 1})"
            raise InputError(_too_many(k + 1, fields[k], width), file=rel)
    header = [_cell_str(v) for v in cells.iloc[best]]
    data = cells.iloc[best + 1 :].reset_index(drop=True)
    data.columns = pd.RangeIndex(data.shape[1])
    rows = np.arange(best + 2, best + 2 + len(data))
    # trailing columns with no header and no values (腾讯问卷 adds some) go; others stay named
    keep = [j for j, h in enumerate(header) if h or data.iloc[:, j].notna().any()]
    header = [header[j] or f"(无标题列{j + 1})" for j in keep]
    data = data.iloc[:, keep]
    data.columns = pd.RangeIndex(len(keep))
    blank = data.isna().all(axis=1).to_numpy() if len(data) else np.zeros(0, bool)
    rs = RawSheet(
        file=rel,
        sheet=sheet,
        header=header,
        data=data[~blank].reset_index(drop=True),
        rows=rows[~blank],
        header_row=best + 1,
        encoding=enc,
        blank_rows=int(blank.sum()),
    )
    if "merged" in cells.attrs:
        rs.merged = _merged_below(cells.attrs["merged"], rs.rows, keep)
    if best:
        rs.notes.append(f"{best} title row(s) above the header skipped")
        cells_above = (_cell_str(v) for i in range(best) for v in cells.iloc[i])
        rs.title = " ".join(t for t in cells_above if t) or None
    hset = set(header)
    if {"序号", "提交答卷时间"} <= hset:
        rs.platform = "wjx"
    elif {"编号", "开始答题时间"} <= hset or {"编号", "结束答题时间"} <= hset:
        rs.platform = "tencent"
    return rs


def _merged_below(ranges, rows: np.ndarray, keep: list[int]) -> dict[int, np.ndarray]:
    """Per kept column, the data rows whose cell lies below the top of a merged range
    (``ranges``: ((row, col), (row, col)) corners, 0-based, as calamine gives them)."""
    out: dict[int, np.ndarray] = {}
    line = rows - 1  # 0-based sheet row of each data row
    for (r0, c0), (r1, c1) in ranges:
        for j, cj in enumerate(keep):
            if c0 <= cj <= c1:
                below = (line > r0) & (line <= r1)
                if below.any():
                    out[j] = out.get(j, np.zeros(len(rows), dtype=bool)) | below
    return out


def combine_sheets(sheets: list[RawSheet]) -> list[RawSheet]:
    """Read sheets that share a header as one (an exam workbook with a sheet per class).

    Row numbers stay those of each sheet, and each row remembers its sheet (and each sheet its
    title rows, :meth:`RawSheet.title_of`), so the log and the quarantine still name the sheet
    and row a person can open, and an exam book's sheet per subject or per class keeps its
    subject or class (:mod:`mentorlib.clean.exams`).
    """
    groups: dict[tuple, list[RawSheet]] = {}
    for rs in sheets:
        groups.setdefault(tuple(rs.header), []).append(rs)
    out = []
    for group in groups.values():
        if len(group) == 1:
            out.append(group[0])
            continue
        first = group[0]
        data = pd.concat([g.data for g in group], ignore_index=True)
        row_sheet = np.concatenate([np.full(g.n, g.sheet, dtype=object) for g in group])
        rs = RawSheet(
            file=first.file,
            sheet=f"{first.sheet} … {group[-1].sheet} ({len(group)} sheets)",
            header=first.header,
            data=data,
            rows=np.concatenate([g.rows for g in group]),
            header_row=first.header_row,
            encoding=first.encoding,
            platform=first.platform,
            blank_rows=sum(g.blank_rows for g in group),
            notes=sorted({n for g in group for n in g.notes}),
            row_sheet=row_sheet,
            titles={g.sheet: g.title for g in group},
        )
        if all(g.merged is not None for g in group):
            rs.merged = {
                j: np.concatenate([(g.merged or {}).get(j, np.zeros(g.n, bool)) for g in group])
                for j in {j for g in group for j in (g.merged or {})}
            }
        out.append(rs)
    return out


# ----------------------------------------------------------------------------- column matching


@dataclass
class ColumnMap:
    """Which raw column(s) hold each codebook field, and how."""

    single: dict[str, int] = field(default_factory=dict)  # var -> column
    options: dict[str, dict[str, int]] = field(
        default_factory=dict
    )  # multi var -> option label -> column
    system: dict[str, int] = field(default_factory=dict)  # resp_no, submitted_at, duration_s, ...
    unmatched: list[str] = field(default_factory=list)  # headers no field claimed
    missing: list[str] = field(default_factory=list)  # optional fields not found
    # var -> (raw header, similarity 0-100): fields matched by a reworded header (in single)
    approx: dict[str, tuple[str, float]] = field(default_factory=dict)
    # var -> why no column was chosen although some resemble it (two columns, or a tie)
    ambiguous: dict[str, str] = field(default_factory=dict)


_OPT_COL = re.compile(r"^(\d+)\s*[(（](.+)[)）]$")  # 问卷星 按序号 "5(学习方法)"
_TENCENT_OPT = re.compile(r"^(\d+)\s*[.、]\s*(.+?)[:：](.+)$")  # 腾讯问卷 "5.题干:选项"
_MATRIX_SEP = re.compile(r"[—_]|--")


def match_columns(
    header: list[str], cb: Codebook, *, file: str = "", sheet: str | None = None
) -> ColumnMap:
    """Map raw headers to codebook fields.

    Matching ignores numbering, punctuation, spaces and width. A matrix header
    ("N、题干—子题", "N.题干_子题") matches the field whose text is the sub-item; 问卷星's number
    form spreads a multi-select over "N(选项)" columns and 腾讯问卷 over "N.题干:选项" columns.
    Wording drift: hints in brackets and section prefixes are ignored
    (:func:`~mentorlib.io.codebook.header_forms`); a question no header matches exactly takes
    the one free header whose similarity reaches
    :data:`~mentorlib.io.codebook.FUZZY_THRESHOLD` (recorded in ``approx`` with its score).
    Two such headers, or one header resembling two questions equally, match nothing (the reason
    is in ``ambiguous``).

    Raises
    ------
    InputError
        When a required field cannot be found: the message lists the questions not found and
        the headers no field claimed.
    """
    cm = ColumnMap()
    norm = [norm_text(h) for h in header]
    forms = [header_forms(h) for h in header]
    claimed: set[int] = set()
    system = {**WJX_SYSTEM, **TENCENT_SYSTEM}
    for j, h in enumerate(header):
        if h in system:
            cm.system[system[h]] = j
            claimed.add(j)
    _match_multi(cm, header, norm, cb, claimed)
    for loose in (False, True):  # exact headers first, for every field; then looser forms
        for f in cb.fields:  # a multi-select in one column of joined answers: loose only
            if f.var not in cm.single and f.var not in cm.options and (f.type != "multi" or loose):
                col = _find_column(header, norm, forms, _aliases(f, cb), claimed, loose)
                if col is not None:
                    cm.single[f.var] = col
                    claimed.add(col)
    _match_fuzzy(cm, header, forms, cb, claimed)
    shared_to_required(cm, header, cb)
    cm.unmatched = [header[j] for j in range(len(header)) if j not in claimed]
    found = set(cm.single) | set(cm.options)
    lost = [f for f in cb.fields if f.var not in found]
    cm.missing = [f.var for f in lost if not f.required]
    required_lost = [f for f in lost if f.required]
    if required_lost:
        qs = "; ".join(
            f"{f.var} ({f.label}{': ' + cm.ambiguous[f.var] if f.var in cm.ambiguous else ''})"
            for f in required_lost[:8]
        )
        extra = "; ".join(cm.unmatched[:8]) or "none"
        raise InputError(
            f"codebook {cb.name!r} does not fit: questions not found: {qs}"
            f"{' …' if len(required_lost) > 8 else ''}; headers not matched: {extra}",
            file=file,
            sheet=sheet,
        )
    return cm


def shared_to_required(cm: ColumnMap, header: list[str], cb: Codebook) -> None:
    """A header two fields name goes to the required one when the sheet has no other column
    for it (奖/惩 is a reward's kind, or the points a teacher writes there: +2分, -1分); the
    optional field is then missing. ``cb``: the codebook whose ``required`` flags count (check
    and init match with every field optional)."""
    norm = [norm_text(h) for h in header]
    by_var = {f.var: f for f in cb.fields}
    for f in cb.fields:
        if not f.required or f.var in cm.single or f.var in cm.options:
            continue
        aliases = _aliases(f, cb)
        for var, j in list(cm.single.items()):
            other = by_var.get(var)
            if other is not None and not other.required and norm[j] in aliases:
                del cm.single[var]
                cm.approx.pop(var, None)
                cm.single[f.var] = j
                break


def _match_multi(
    cm: ColumnMap, header: list[str], norm: list[str], cb: Codebook, claimed: set[int]
) -> None:
    """Multi-select fields: one column of joined answers, or one column per option."""
    opt_cols: dict[str, list[tuple[str, int]]] = {}  # question number -> (option, column)
    for j, h in enumerate(header):
        m = _OPT_COL.match(h) or _TENCENT_OPT.match(h)
        if m:
            key = m.group(1)
            label = m.groups()[-1]  # the option (every group of both patterns takes part)
            opt_cols.setdefault(key, []).append((norm_text(label), j))
    for f in cb.fields:
        if f.type != "multi":
            continue
        exact = [j for j, n in enumerate(norm) if j not in claimed and n in _aliases(f, cb)]
        if exact:
            cm.single[f.var] = exact[0]
            claimed.add(exact[0])
            continue
        labels = {norm_text(o): o for o in f.options}
        for cols in opt_cols.values():
            hits = {lab: j for lab, j in cols if lab in labels or lab in ("其他", "其它")}
            if len(hits) >= max(1, len(cols) // 2) and any(lab in labels for lab in hits):
                cm.options[f.var] = {labels.get(lab, "其他"): j for lab, j in hits.items()}
                claimed.update(hits.values())
                break


def _find_column(
    header: list[str],
    norm: list[str],
    forms: list[tuple],
    aliases: list[str],
    claimed: set[int],
    loose: bool,
) -> int | None:
    """The first unclaimed column of a field: its exact header; or, when ``loose``, a header
    without hints or section prefix, a matrix sub-item, or a long text the header ends with."""
    if not loose:
        return next((j for j, n in enumerate(norm) if j not in claimed and n in aliases), None)
    for j, h in enumerate(header):
        if j in claimed:
            continue
        sub = norm_text(_MATRIX_SEP.split(h)[-1]) if _MATRIX_SEP.search(h) else None
        if (
            (sub and sub in aliases)
            or any(x in aliases for x in forms[j])
            or any(len(a) >= 6 and norm[j].endswith(a) for a in aliases)
        ):
            return j
    return None


def _match_fuzzy(
    cm: ColumnMap, header: list[str], forms: list[tuple], cb: Codebook, claimed: set[int]
) -> None:
    """Fields still unmatched take the one free header similar enough to one of their texts;
    two candidate headers, or a header resembling two fields equally, are left unmatched."""
    free = [j for j in range(len(header)) if j not in claimed]
    best: dict[str, tuple[float, int]] = {}
    for f in cb.fields:
        if f.var in cm.single or f.var in cm.options or not free:
            continue
        aliases = _aliases(f, cb)
        hits = []
        for j in free:
            score = max((similarity(a, x) for a in aliases for x in forms[j]), default=0.0)
            if score >= FUZZY_THRESHOLD:
                hits.append((score, j))
        if len(hits) > 1:
            cm.ambiguous[f.var] = "several headers resemble it: " + "; ".join(
                f"{header[j]!r} ({s:.0f})" for s, j in hits[:4]
            )
        elif hits:
            best[f.var] = hits[0]
    by_col: dict[int, list[tuple[float, str]]] = {}
    for var, (score, j) in best.items():
        by_col.setdefault(j, []).append((score, var))
    for j, cands in by_col.items():
        cands.sort(key=lambda c: -c[0])
        tied = [var for score, var in cands if score == cands[0][0]]
        if len(tied) > 1:
            for var in tied:
                cm.ambiguous[var] = f"header {header[j]!r} resembles {', '.join(tied)} equally"
            continue
        score, var = cands[0]
        cm.single[var] = j
        cm.approx[var] = (header[j], round(score, 1))
        claimed.add(j)
