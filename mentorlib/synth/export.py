"""Write a generated study as a raw study folder: the files a school hands over, and the truth.

Every source kind of DESIGN.md becomes the file a school really has: rosters and exam sheets
from the records system (xlsx; the exam workbook has one sheet per class, some with a title
row), 问卷星 exports in both forms (按文本 xlsx, 按序号 CSV in GBK), one 腾讯问卷 export, a
mentors' log and a mood chart as CSV. Unless ``clean=True`` the export injects the defects real
files have (see :class:`Messer`) and records each in ``truth/manifest.parquet`` with the
file, sheet, spreadsheet row (header = row 1), column, kind, the raw value written, the true
canonical value and what a correct cleaner should do with it (``expected``):

======================  ===================================================================
expected                meaning
======================  ===================================================================
value                   the cleaned cell equals ``true_value`` (logged in the cleaning log)
missing                 the cell becomes missing (a skip marker, an out-of-range answer)
link                    the row is linked to the student ``true_value`` (by name and class)
merge                   the row is a repeated submission, merged into row ``true_value``
quarantine              the row is quarantined (unknown student, failed attention check)
value_or_quarantine     recovered to ``true_value`` when the roster makes it unambiguous,
                        else quarantined; never linked to anyone else
encoding                the file's encoding, detected and logged
======================  ===================================================================
"""

from __future__ import annotations

import io
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import tomli_w

from ..codebook import load_codebook, option_labels
from ..ids import check_digit, is_valid_student_id
from ..outputs import check_output_dir, make_temp_dir, neutralise_cells, replace_dir
from ..rules import ACTIVITIES_ZH
from ..xlsx import Patched, SheetGroups, _text_or_none, write_xlsx
from ..xlsx import classify_cells as _classify
from . import formats as fm
from . import names as nm
from .params import MOOD_CODES, SynthStudy

SYSTEM_COLS = ["序号", "提交答卷时间", "所用时间", "来源", "来源详情", "来自IP"]
TENCENT_COLS = ["编号", "开始答题时间", "结束答题时间", "答题时长"]
SUBJECT_ZH = {
    "chinese": "语文",
    "math": "数学",
    "english": "英语",
    "physics": "物理",
    "chemistry": "化学",
}
STAFF_SUBJECT_ZH = option_labels("staff", "subject")
STRENGTH_ZH = {
    "moral": "思想教育",
    "academic": "学业辅导",
    "psychological": "心理辅导",
    "habits": "习惯培养",
    "life": "生活指导",
    "reading": "阅读",
    "sports": "体育运动",
    "art": "美术",
    "music": "音乐",
    "science": "科学探究",
    "craft": "手工制作",
    "calligraphy": "书法",
    "dance": "舞蹈",
}
FAMILY_ZH = {"two_parent": "双亲", "single_parent": "单亲", "reconstituted": "重组"}
MODE_ZH = {
    "face": "面谈",
    "letter": "书信",
    "journal": "周记",
    "email": "电子邮件",
    "phone": "电话",
    "visit": "上门",
    "group": "集体",
    "online": "线上",
}
REASON_ZH = {
    "personality": "性格不合",
    "needs_mismatch": "需求不匹配",
    "too_little_contact": "交流太少",
    "friends": "想和好朋友同一个导师",
    "rebalance": "班级调整",
}
MOOD_ZH = dict(zip(MOOD_CODES, ["红", "黄", "蓝", "灰"], strict=True))
MOOD_ALIAS = {"happy": "红色", "calm": "黄色", "sad": "蓝色", "angry": "灰色"}
NOTE_TEMPLATES = {
    "talk": ["了解近期学习情况", "谈心，情绪稳定", "聊了和同学相处的问题", "鼓励按时完成作业"],
    "three_party": ["与班主任、家长沟通学习习惯", "三方沟通近期表现"],
    "parent_call": ["电话联系家长", "与家长沟通在家表现"],
    "home_visit": ["上门家访，了解家庭情况"],
    "student_report": ["学生汇报本月情况"],
    "subject_exchange": ["与科任教师交流作业和测验情况"],
    "group_counselling": ["与心理老师开展团体辅导"],
    "case_conference": ["年级组个案分析会"],
}
GRADE_SHEET = {g: fm.grade_label(g) for g in range(1, 10)}


# ----------------------------------------------------------------------------- raw tables


class Table:
    """One sheet of a raw file: header -> column, plus row keys and submit times.

    Columns are Arrow string arrays, numpy numeric arrays or categoricals: compact, no Python
    object per cell. A defect replaces a few cells; those live in sparse per-column overrides
    (``{row: value}``, text or number) until the file is written, so a district-sized file
    never becomes millions of Python strings. Row keys (``rk``) follow each row through
    defects, appended rows and re-ordering, so the manifest can name the final spreadsheet row.
    """

    def __init__(self, cols: dict, rk: np.ndarray | None = None):
        self.cols = {k: _col(v) for k, v in cols.items()}
        self.n = len(next(iter(self.cols.values()))) if self.cols else 0
        self.rk = np.arange(self.n) if rk is None else np.asarray(rk)
        self.ts: np.ndarray | None = None
        self.over: dict[str, dict[int, object]] = {}

    def __contains__(self, k):
        return k in self.cols

    def __setitem__(self, k, v):
        if np.ndim(v) == 0:
            v = (
                pa.array([v] * self.n, pa.string())
                if isinstance(v, str) or v is None
                else np.full(self.n, v)
            )
        self.cols[k] = _col(v)
        self.over.pop(k, None)

    def base(self, k):
        return self.cols[k]

    def values(self, k, idx) -> np.ndarray:
        """Current values (object array) of column ``k`` at rows ``idx``."""
        idx = np.asarray(idx, dtype=np.int64)
        b = self.cols[k]
        if isinstance(b, pa.Array):
            out = np.asarray(b.take(pa.array(idx)).to_pylist(), dtype=object)
        else:
            out = np.asarray(
                b[idx] if not isinstance(b, pd.Categorical) else b.take(idx), dtype=object
            )
        over = self.over.get(k)
        if over:
            for j, i in enumerate(idx.tolist()):
                if i in over:
                    out[j] = over[i]
        return out

    def overridden(self, k) -> np.ndarray:
        return np.fromiter(self.over.get(k, {}).keys(), dtype=np.int64)

    def put(self, k, idx, values):
        self.over.setdefault(k, {}).update(zip(np.asarray(idx).tolist(), list(values), strict=True))

    def take(self, idx) -> Table:
        idx = np.asarray(idx, dtype=np.int64)
        t = Table({k: _take(v, idx) for k, v in self.cols.items()}, self.rk[idx])
        t.ts = None if self.ts is None else self.ts[idx]
        for k, d in self.over.items():
            if not d:
                continue
            pos = np.flatnonzero(np.isin(idx, np.fromiter(d.keys(), dtype=np.int64)))
            t.over[k] = {int(p): d[int(idx[p])] for p in pos}
        return t

    def extend(self, other: Table) -> Table:
        t = Table(
            {k: _concat(v, other.cols[k]) for k, v in self.cols.items()},
            np.concatenate([self.rk, other.rk]),
        )
        if self.ts is not None:
            t.ts = np.concatenate([self.ts, other.ts])
        for k in set(self.over) | set(other.over):
            t.over[k] = {
                **self.over.get(k, {}),
                **{i + self.n: v for i, v in other.over.get(k, {}).items()},
            }
        return t

    def next_rk(self) -> int:
        return int(self.rk.max()) + 1 if self.n else 0

    def out_cols(self) -> dict:
        """Columns for the writers: overridden cells as :class:`Patched`."""
        out = {}
        for k, v in self.cols.items():
            d = self.over.get(k)
            if d:
                idx = np.array(sorted(d), dtype=np.int64)
                vals = np.empty(len(idx), dtype=object)
                vals[:] = [d[i] for i in idx.tolist()]
                out[k] = Patched(v, idx, vals)
            else:
                out[k] = v
        return out


def _col(v):
    """A column in compact form: Arrow strings (plain or dictionary), numbers or a categorical."""
    if isinstance(v, pa.DictionaryArray):
        return v
    if isinstance(v, pd.Categorical | pa.Array):
        return _as_string(v) if isinstance(v, pa.Array) else v
    if isinstance(v, pa.ChunkedArray):
        return _as_string(v.combine_chunks())
    if isinstance(v, pd.Series | pd.Index):
        if pd.api.types.is_numeric_dtype(v) and not pd.api.types.is_bool_dtype(v):
            return v.to_numpy()
        try:  # Arrow-backed text (pandas' str dtype, categoricals of text): no copy into Python
            a = pa.array(v)
            if isinstance(a, pa.ChunkedArray):
                a = a.combine_chunks()
            if pa.types.is_dictionary(a.type):
                a = a.cast(a.type.value_type)
            if pa.types.is_string(a.type) or pa.types.is_large_string(a.type):
                return _as_string(a)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
            pass
        v = v.to_numpy(dtype=object)
    v = np.asarray(v)
    if v.dtype.kind in "fiu":
        return v
    arr = _text_or_none(v.astype(object) if v.dtype.kind in "USb" else v)
    if arr is None:
        raise TypeError("a raw column must be all text or all numbers; put() the odd cells")
    return arr


def _as_string(a):
    return a.cast(pa.string()) if pa.types.is_large_string(a.type) else a


def _take(v, idx):
    if isinstance(v, pa.Array):
        return v.take(pa.array(idx))
    if isinstance(v, pd.Categorical):
        return v.take(idx)
    return v[idx]


def _concat(a, b):
    if isinstance(a, pa.Array):
        try:
            return pa.concat_arrays([a, b])
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # different dictionaries
            return pa.concat_arrays([a.cast(pa.string()), b.cast(pa.string())])
    if isinstance(a, pd.Categorical):
        return pd.Categorical.from_codes(np.concatenate([a.codes, b.codes]), a.categories)
    return np.concatenate([a, b])


# ----------------------------------------------------------------------------- defects


@dataclass
class Messer:
    """Injects defects and records each one (in bulk) for the manifest."""

    rng: np.random.Generator
    clean: bool
    chunks: list = field(default_factory=list)

    def count(self, n: int, rate: float, min_n: int = 1) -> int:
        if self.clean or n == 0 or rate <= 0:
            return 0
        return int(min(n, max(min_n, self.rng.binomial(n, rate))))

    def take(self, pool: np.ndarray, k: int) -> np.ndarray:
        pool = np.asarray(pool)
        if k <= 0 or len(pool) == 0:
            return np.array([], dtype=int)
        return np.sort(self.rng.choice(pool, min(k, len(pool)), replace=False))

    def add(self, file, rk, column, kind, raw, true, expected, sheet=None):
        rk = np.atleast_1d(np.asarray(rk))
        n = len(rk)
        if n == 0:
            return

        def arr(x):
            if x is None or np.ndim(x) == 0:
                return np.full(n, None if x is None else str(x), dtype=object)
            return np.array([None if v is None else str(v) for v in x], dtype=object)

        self.chunks.append(
            pd.DataFrame(
                {
                    "file": file,
                    "sheet": sheet,
                    "rk": rk.astype(np.int64),
                    "column": column,
                    "kind": kind,
                    "raw": arr(raw),
                    "true_value": arr(true),
                    "expected": expected,
                }
            )
        )

    def frame(self, rows: dict) -> pd.DataFrame:
        """The manifest, with row keys turned into sheet and spreadsheet row (``rows``)."""
        cols = ["file", "sheet", "row", "column", "kind", "raw", "true_value", "expected"]
        if not self.chunks:
            return pd.DataFrame(columns=cols)
        out = []
        for ch in self.chunks:
            f = ch["file"].iat[0]
            if f not in rows:  # file-level entries (encoding)
                out.append(ch.assign(row=pd.NA))
                continue
            row_of, sheet_of = rows[f]
            rk = ch["rk"].to_numpy()
            if (rk < 0).all():
                out.append(ch.assign(row=pd.NA))
                continue
            ch = ch.assign(row=row_of[rk], sheet=sheet_of[rk] if sheet_of is not None else None)
            if (ch["expected"] == "merge").any():
                tv = ch["true_value"].to_numpy(dtype=object)
                mm = (ch["expected"] == "merge").to_numpy()
                tv[mm] = [str(row_of[int(v)]) for v in tv[mm]]
                ch = ch.assign(true_value=tv)
            out.append(ch)
        df = pd.concat(out, ignore_index=True)[cols]
        return df.astype({"row": "Int64"})


def _mess_identity(
    m: Messer,
    t: Table,
    rel,
    used,
    *,
    id_col,
    name_col=None,
    class_col=None,
    rate=0.012,
    numeric_cells=False,
    allow=None,
):
    """Identity defects: broken 学籍号 of every kind, and typos in names."""
    kinds = list(
        allow
        or [
            "id_missing_g",
            "id_sci",
            "id_typo",
            "id_missing",
            "id_space",
            "id_fullwidth",
            "name_typo",
        ]
    )
    if name_col is None or class_col is None:
        kinds = [k for k in kinds if k not in ("id_typo", "id_missing", "name_typo")]
    arr = pc.fill_null(t.base(id_col), "")
    is_g = pc.starts_with(arr, "G").to_numpy(zero_copy_only=False)
    digit_end = pc.match_substring_regex(arr, r"\d$").to_numpy(zero_copy_only=False)
    for kind in kinds:
        ok = is_g & ~used & (digit_end if kind == "id_sci" else True)
        pick = m.take(np.flatnonzero(ok), m.count(t.n, rate / len(kinds)))
        if not len(pick):
            continue
        sids = t.values(id_col, pick)
        col, exp = id_col, "value"
        if kind == "id_missing_g":
            raw = [s[1:] for s in sids]
        elif kind == "id_sci":
            raw = [
                fm.sci_mangle_number(s[1:]) if numeric_cells else fm.sci_mangle_text(s[1:])
                for s in sids
            ]
            exp = "value_or_quarantine"
        elif kind == "id_typo":
            raw, keep = [], []
            for j, s in enumerate(sids):
                pos = int(m.rng.integers(7, 17))
                r = s[:pos] + str((int(s[pos]) + int(m.rng.integers(1, 10))) % 10) + s[pos + 1 :]
                if not is_valid_student_id(r):
                    raw.append(r)
                    keep.append(j)
            pick, sids, exp = pick[keep], sids[keep], "link"
        elif kind == "id_missing":
            raw, exp = [""] * len(pick), "link"
        elif kind == "id_space":
            raw = [
                (f" {s} ", f"{s[:7]} {s[7:]}", f"{s}\u3000")[int(m.rng.integers(0, 3))]
                for s in sids
            ]
        elif kind == "id_fullwidth":
            raw = [s[0] + fm.fullwidth(s[1:]) for s in sids]
        else:  # name_typo: the ID stays valid, the name is mistyped
            names = t.values(name_col, pick)
            raw = [nm.typo(x, m.rng) for x in names]
            keep = [j for j, (a, b) in enumerate(zip(raw, names, strict=True)) if a != b]
            pick, sids, raw = pick[keep], sids[keep], [raw[j] for j in keep]
            col, exp = name_col, "link"
        if not len(pick):
            continue
        raw_arr = np.empty(len(pick), dtype=object)
        raw_arr[:] = raw
        t.put(col, pick, raw_arr)
        used[pick] = True
        m.add(rel, t.rk[pick], col, kind, raw_arr, sids, exp)


def _mess_class(m: Messer, t: Table, rel, col, g, c, rate, styles, base):
    alts = [s for s in styles if s != base]
    pick = m.take(np.arange(t.n), m.count(t.n, rate))
    if not len(pick):
        return
    which = m.rng.integers(0, len(alts), len(pick))
    raw = np.empty(len(pick), dtype=object)
    for k, st in enumerate(alts):
        sel = which == k
        if sel.any():
            raw[sel] = fm.class_labels(g[pick[sel]], c[pick[sel]], st)
    t.put(col, pick, raw)
    true = [f"{int(a)}-{int(b)}" for a, b in zip(g[pick], c[pick], strict=True)]
    m.add(rel, t.rk[pick], col, "class_spelling", raw, true, "value")


def _mess_dates(
    m: Messer, t: Table, rel, col, dates, rate, base, styles=("slash", "cn", "serial", "dot")
):
    alts = [s for s in styles if s != base]
    pick = m.take(np.arange(t.n), m.count(t.n, rate))
    if not len(pick):
        return
    d = pd.DatetimeIndex(pd.to_datetime(np.asarray(dates)[pick]))
    which = m.rng.integers(0, len(alts), len(pick))
    raw = np.empty(len(pick), dtype=object)
    for k, st in enumerate(alts):
        sel = which == k
        if sel.any():
            raw[sel] = fm.date_labels(d[sel], st)
    t.put(col, pick, raw)
    true = np.asarray(d.strftime("%Y-%m-%d"), dtype=object)
    kinds = np.where(
        np.asarray(alts, dtype=object)[which] == "serial", "date_serial", "date_format"
    )
    for kind in ("date_serial", "date_format"):
        sel = kinds == kind
        m.add(rel, t.rk[pick[sel]], col, kind, raw[sel], true[sel], "value")


def _mess_values(m: Messer, t: Table, rel, col, rate, kind, make, expected="value", pool=None):
    """Generic cell defect: ``make(values, rng) -> (raw, true)`` for cells picked from ``pool``."""
    pool = np.arange(t.n) if pool is None else pool
    pick = m.take(pool, m.count(len(pool), rate))
    if not len(pick):
        return pick
    raw, true = make(t.values(col, pick), m.rng)
    raw_arr = np.empty(len(pick), dtype=object)
    raw_arr[:] = list(raw)
    t.put(col, pick, raw_arr)
    m.add(rel, t.rk[pick], col, kind, raw_arr, list(true), expected)
    return pick


def _unknown_rows(m: Messer, t: Table, n, id_col, name_col, rel, pool=None) -> Table:
    """Rows from students who are not on the roster (typed by someone else, not yet registered)."""
    if n == 0 or t.n == 0:
        return t
    src = m.take(pool, n) if pool is not None else m.rng.integers(0, t.n, n)
    rows = t.take(src)
    rows.rk = np.arange(t.next_rk(), t.next_rk() + rows.n)
    fakes = []
    for _ in range(rows.n):
        body = "".join(str(int(x)) for x in m.rng.integers(0, 10, 17))
        fakes.append("G" + body + check_digit(body))
    rows.put(id_col, np.arange(rows.n), np.array(fakes, dtype=object))
    if name_col:  # a name nobody on the roster has, so nothing can link the row by name
        taken = _roster_names()
        names = [n for n in nm.draw_names(m.rng, 4 * rows.n + 20) if n not in taken][: rows.n]
        rows.put(name_col, np.arange(rows.n), np.array(names, dtype=object))
    m.add(rel, rows.rk, id_col, "unknown_student", fakes, None, "quarantine")
    return t.extend(rows)


_ROSTER_NAMES: set = set()


def _roster_names() -> set:
    return _ROSTER_NAMES


def _duplicate_rows(m: Messer, t: Table, rel, src, kind) -> Table:
    if not len(src):
        return t
    rows = t.take(src)
    rows.rk = np.arange(t.next_rk(), t.next_rk() + rows.n)
    m.add(rel, rows.rk, None, kind, None, t.rk[src], "merge")
    return t.extend(rows)


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
    strs = _text_or_none(col)
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


class _File:
    """A raw file being built: its sheets, rows above headers, and how to write it."""

    def __init__(self, rel: str, fmt: str, encoding: str | None = None):
        self.rel, self.fmt, self.encoding = rel, fmt, encoding
        self.sheets: dict[str, Table] = {}
        self.pre_rows: dict[str, list] = {}
        self.grouped: tuple | None = None  # (table, names, bounds, headers): one table, many sheets


def _write_file(out: Path, f: _File, m: Messer, rows: dict):
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
        write_xlsx(path, SheetGroups(t.out_cols(), names, bounds, headers), pre_rows=f.pre_rows)
        return
    size = max((int(t.rk.max()) + 1 for t in f.sheets.values() if t.n), default=0)
    row_of = np.zeros(size, dtype=np.int64)
    sheet_of = np.empty(size, dtype=object) if f.fmt == "xlsx" else None
    for sheet, t in f.sheets.items():
        offset = 2 + len(f.pre_rows.get(sheet, []))
        row_of[t.rk] = np.arange(t.n) + offset
        if sheet_of is not None:
            sheet_of[t.rk] = sheet
    rows[f.rel] = (row_of, sheet_of)
    path = out / f.rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if f.fmt == "xlsx":
        write_xlsx(path, {s: t.out_cols() for s, t in f.sheets.items()}, pre_rows=f.pre_rows)
    else:
        (t,) = f.sheets.values()
        _write_csv(path, t, f.encoding or "utf-8-sig")
        if f.encoding == "gb18030":  # a file-level entry: row key -1
            m.add(f.rel, [-1], None, "encoding", ["gb18030"], ["gb18030"], "encoding")


# ----------------------------------------------------------------------------- identity


class _Ids:
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


# ----------------------------------------------------------------------------- the plan


def _plan(study: SynthStudy, clean: bool) -> list[dict]:
    """Which file each source becomes (form, format, encoding), per year."""
    p = study.params
    specs = []
    for yi, y in enumerate(p.years):
        tag = f"{y}学年"
        specs.append(dict(kind="students", year=y, path=f"roster/学生名册_{tag}.xlsx", fmt="xlsx"))
        specs.append(dict(kind="staff", year=y, path=f"roster/教职工名册_{tag}.xlsx", fmt="xlsx"))
        g_csv = not clean and yi % 3 == 1
        specs.append(
            dict(
                kind="groups",
                year=y,
                path=f"groups/导师分组_{tag}" + (".csv" if g_csv else ".xlsx"),
                fmt="csv" if g_csv else "xlsx",
                encoding="gb18030" if g_csv else None,
            )
        )
        n_form = (
            "wjx_number" if (not clean and yi % 2 == 1 and p.level == "primary") else "wjx_text"
        )
        specs.append(
            dict(
                kind="needs_survey",
                year=y,
                form=n_form,
                path=f"surveys/成长需求问卷_{tag}"
                + (".csv" if n_form == "wjx_number" else ".xlsx"),
                fmt="csv" if n_form == "wjx_number" else "xlsx",
                encoding="gb18030" if n_form == "wjx_number" else None,
            )
        )
        for wi, wave in enumerate(("pre", "post")):
            k = (2 * yi + wi) % 3
            form = "wjx_text" if clean else ("wjx_text", "wjx_number", "tencent")[k]
            fmt = "xlsx" if form == "wjx_text" else "csv"
            enc = {"wjx_number": "gb18030", "tencent": "utf-8-sig"}.get(form)
            wz = "前测" if wave == "pre" else "后测"
            specs.append(
                dict(
                    kind="assessment",
                    year=y,
                    wave=wave,
                    form=form,
                    fmt=fmt,
                    encoding=enc,
                    path=f"surveys/发展评估_{tag}_{wz}.{fmt}",
                )
            )
        for term in (1, 2):
            form = "wjx_number" if (not clean and (yi + term) % 4 == 0) else "wjx_text"
            fmt = "xlsx" if form == "wjx_text" else "csv"
            specs.append(
                dict(
                    kind="satisfaction",
                    year=y,
                    term=term,
                    form=form,
                    fmt=fmt,
                    encoding="gb18030" if fmt == "csv" else None,
                    path=f"surveys/满意度调查_{tag}_第{term}学期.{fmt}",
                )
            )
            specs.append(
                dict(
                    kind="exams",
                    year=y,
                    term=term,
                    fmt="xlsx",
                    path=f"exams/成绩单_{tag}_第{term}学期.xlsx",
                )
            )
        specs.append(
            dict(
                kind="activities",
                year=y,
                fmt="csv",
                encoding="utf-8-sig",
                path=f"records/导师工作记录_{tag}.csv",
            )
        )
        specs.append(dict(kind="rewards", year=y, fmt="xlsx", path=f"records/奖惩记录_{tag}.xlsx"))
        if study.rules.mood_chart:
            enc = "utf-8-sig" if clean else "gb18030"
            specs.append(
                dict(
                    kind="mood",
                    year=y,
                    fmt="csv",
                    encoding=enc,
                    path=f"records/心情晴雨表_{tag}.csv",
                )
            )
    return specs


# ----------------------------------------------------------------------------- sources


def _rows_of(df: pd.DataFrame, **match) -> pd.DataFrame:
    """Rows whose columns equal the given values (``_rows_of(df, year=2023, term=1)``)."""
    keep = np.ones(len(df), dtype=bool)
    for col, val in match.items():
        keep &= (df[col] == val).to_numpy()
    return df[keep].reset_index(drop=True)


def _yes_no(x) -> np.ndarray:
    return np.where(np.asarray(x, dtype=bool), "是", "否").astype(object)


def _students_file(st: SynthStudy, spec, m: Messer) -> _File:
    f = _File(spec["path"], "xlsx")
    y, lvl = spec["year"], st.params.level
    s = _rows_of(st.tables["students"], year=y)
    yi = st.params.years.index(y)
    split_cols = yi % 3 == 1 and not m.clean  # one year's export has 年级 and 班级 apart
    base = "std" if lvl == "primary" or m.clean else "chu"
    g, c = s["grade"].to_numpy(), s["class_no"].to_numpy()
    cols = {
        "序号": np.zeros(len(s), dtype=np.int64),
        "学籍号": s["student_id"],
        "姓名": s["name"],
        "性别": np.where(s["gender"] == "male", "男", "女").astype(object),
        "出生日期": fm.date_labels(s["birth_date"], "iso"),
    }
    if split_cols:
        cols["年级"] = np.array([fm.grade_label(int(x)) for x in g], dtype=object)
        cols["班级"] = np.array([f"{int(x)}班" for x in c], dtype=object)
    else:
        cols["班级"] = fm.class_labels(g, c, base)
    cols["是否转入生"] = _yes_no(s["transfer"])
    cols["家庭结构"] = s["family"].map(FAMILY_ZH)
    cols["是否留守儿童"] = _yes_no(s["left_behind"])
    cols["家庭住址片区"] = s["home_area"]
    if lvl == "middle":
        cols["是否受导学生"] = _yes_no(s["mentee"])
    cols["身高(cm)"] = s["height_cm"].to_numpy()
    cols["体重(kg)"] = s["weight_kg"].to_numpy()
    t = Table(cols)
    rel = f.rel
    if not split_cols:
        _mess_class(
            m,
            t,
            rel,
            "班级",
            g,
            c,
            0.02,
            ("std", "num", "paren", "fwparen", "fullwidth", "cnclass"),
            base,
        )
    _mess_dates(m, t, rel, "出生日期", s["birth_date"], 0.03, "iso")
    _mess_values(
        m,
        t,
        rel,
        "姓名",
        0.01,
        "whitespace",
        lambda v, r: ([x[0] + " " + x[1:] if r.random() < 0.5 else x + " " for x in v], v),
    )
    sp = {"男": ["男生", "M", " 男"], "女": ["女生", "F", "女 "]}
    _mess_values(
        m,
        t,
        rel,
        "性别",
        0.01,
        "gender_spelling",
        lambda v, r: (
            [sp[x][int(r.integers(3))] for x in v],
            ["male" if x == "男" else "female" for x in v],
        ),
    )
    for col in ("是否留守儿童", "是否转入生"):
        _mess_values(
            m,
            t,
            rel,
            col,
            0.005,
            "bool_spelling",
            lambda v, r: (
                [
                    ("√", "Y", "1")[int(r.integers(3))]
                    if x == "是"
                    else ("×", "N", "0")[int(r.integers(3))]
                    for x in v
                ],
                ["true" if x == "是" else "false" for x in v],
            ),
        )
    _mess_values(
        m,
        t,
        rel,
        "身高(cm)",
        0.01,
        "number_text",
        lambda v, r: (
            [(f"{x:g}cm", fm.fullwidth(f"{x:g}"), f" {x:g}")[int(r.integers(3))] for x in v],
            [f"{x:g}" for x in v],
        ),
    )
    for gg in np.unique(g):
        part = t.take(np.flatnonzero(g == gg))
        part["序号"] = np.arange(1, part.n + 1)
        f.sheets[GRADE_SHEET[int(gg)]] = part
    return f


def _cls_text(v, style="std"):
    if not isinstance(v, str):
        return None
    return "、".join(
        fm.class_label(int(x.split("-")[0]), int(x.split("-")[1]), style) for x in v.split(";")
    )


def _staff_file(st: SynthStudy, spec, m: Messer) -> _File:
    f = _File(spec["path"], "xlsx")
    y = spec["year"]
    s = _rows_of(st.tables["staff"], year=y)
    role_zh = {
        "principal": "校长",
        "admin": "行政",
        "class_teacher": "班主任",
        "subject_teacher": "科任教师",
        "support": "教辅",
    }
    cols = {
        "工号": np.array(
            [int(x) for x in s["staff_id"]], dtype=np.int64
        ),  # Excel keeps a numeric 工号 as a number
        "姓名": s["name"],
        "性别": np.where(s["gender"] == "male", "男", "女").astype(object),
        "岗位": s["role"].map(role_zh),
        "任教学科": np.array(
            [STAFF_SUBJECT_ZH.get(x) if isinstance(x, str) else None for x in s["subject"]],
            dtype=object,
        ),
    }
    if st.params.level == "middle":
        cols["所在年级组"] = np.array(
            [fm.grade_label(int(x)) if pd.notna(x) else None for x in s["grade"]], dtype=object
        )
    else:
        cols["联系班级"] = np.array([_cls_text(v) for v in s["link_class"]], dtype=object)
    cols["班主任班级"] = np.array([_cls_text(v) for v in s["homeroom"]], dtype=object)
    cols["任教班级"] = np.array([_cls_text(v) for v in s["classes"]], dtype=object)
    cols["导师培训学时"] = s["training_hours"].to_numpy()
    cols["是否取得导师证书"] = _yes_no(s["certified"])
    cols["是否骨干导师"] = _yes_no(s["backbone"])
    cols["特长"] = np.array(
        ["、".join(STRENGTH_ZH[x] for x in v.split(";")) for v in s["strengths"]], dtype=object
    )
    t = Table(cols)
    _mess_values(
        m,
        t,
        f.rel,
        "导师培训学时",
        0.03,
        "number_text",
        lambda v, r: ([f"{x:g}学时" for x in v], [f"{x:g}" for x in v]),
    )
    _mess_values(m, t, f.rel, "姓名", 0.02, "whitespace", lambda v, r: ([" " + x for x in v], v))
    f.sheets["教职工"] = t
    return f


def _groups_file(st: SynthStudy, spec, m: Messer, ids: _Ids) -> _File:
    f = _File(spec["path"], spec["fmt"], spec.get("encoding"))
    y = spec["year"]
    a = _rows_of(st.tables["assignments"], year=y)
    staff = _rows_of(st.tables["staff"], year=y).set_index("staff_id")["name"]
    name, g, c, _ = ids.get(y, a["student_id"])
    t = Table(
        {
            "学年": np.full(len(a), f"{y}-{y + 1}学年", dtype=object),
            "学期": np.where(a["term"] == 1, "第一学期", "第二学期").astype(object),
            "导师工号": a["mentor_id"],
            "导师姓名": staff.reindex(a["mentor_id"]).to_numpy(dtype=object),
            "学籍号": a["student_id"],
            "学生姓名": name,
            "班级": fm.class_labels(g, c, "std"),
            "开始日期": fm.date_labels(a["start_date"], "iso"),
            "调整原因": np.array(
                [REASON_ZH.get(r, r) if isinstance(r, str) else None for r in a["reason"]],
                dtype=object,
            ),
        }
    )
    used = np.zeros(t.n, dtype=bool)
    _mess_identity(
        m,
        t,
        f.rel,
        used,
        id_col="学籍号",
        name_col="学生姓名",
        class_col="班级",
        rate=0.02,
        numeric_cells=spec["fmt"] == "xlsx",
    )
    _mess_class(m, t, f.rel, "班级", g, c, 0.02, ("std", "num", "paren", "dash", "short"), "std")
    _mess_dates(m, t, f.rel, "开始日期", a["start_date"], 0.05, "iso")
    t = _duplicate_rows(
        m, t, f.rel, m.take(np.flatnonzero(~used), m.count(t.n, 0.005)), "duplicate_row"
    )
    t = _unknown_rows(m, t, m.count(t.n, 0.002), "学籍号", "学生姓名", f.rel)
    f.sheets["分组"] = t
    return f


def _multi_columns(fld, toks: np.ndarray, other: np.ndarray, form: str, qn: int):
    """A multi-select question as 问卷星 / 腾讯问卷 export it (via the distinct answer sets)."""
    code_to_label = dict(zip(fld.codes, fld.options, strict=True))
    uniq, inv = np.unique(toks.astype(str), return_inverse=True)
    sets = [set(u.split(";")) - {""} for u in uniq]
    has_other = np.array([isinstance(o, str) for o in other], dtype=bool)
    if form == "wjx_text":
        lab = np.array(
            ["┋".join(code_to_label[x] for x in fld.codes if x in s_) for s_ in sets], dtype=object
        )
        col = lab[inv]
        for i in np.flatnonzero(has_other):
            col[i] = "┋".join([p for p in (col[i], f"其他〖{other[i]}〗") if p])
        return {f"{qn}、{fld.label}": col}
    out = {}
    for code, label in zip(fld.codes, fld.options, strict=True):
        h = f"{qn}({label})" if form == "wjx_number" else f"{qn}.{fld.label}:{label}"
        out[h] = np.array(["1" if code in s_ else "0" for s_ in sets], dtype=object)[inv]
    if fld.other:
        h = f"{qn}(其他)" if form == "wjx_number" else f"{qn}.{fld.label}:其他"
        col = np.full(len(toks), "0", dtype=object)
        col[has_other] = np.char.add(np.char.add("1〖", other[has_other].astype(str)), "〗").astype(
            object
        )
        out[h] = col
    return out


def _survey_table(st: SynthStudy, spec, m: Messer, ids: _Ids, data: pd.DataFrame, cb, extra):
    """A 问卷星 (按文本 / 按序号) or 腾讯问卷 export of ``data`` (canonical, one row each).

    ``extra`` maps a codebook var to a function ``form -> raw values``. Returns the file, the
    table, and the raw header(s) of every codebook field.
    """
    form, y = spec["form"], spec["year"]
    f = _File(spec["path"], spec["fmt"], spec.get("encoding"))
    name, g, c, gender = ids.get(y, data["student_id"])
    n = len(data)
    body: dict = {}
    colmap: dict[str, list[str]] = {}
    qn = 0
    stems: dict[str, int] = {}

    def header(num, text, sub=None):
        if form == "tencent":
            return f"{num}.{text}" + (f"_{sub}" if sub else "")
        return f"{num}、{text}" + (f"—{sub}" if sub else "")

    for fld in cb.fields:
        if fld.type == "likert":
            key = fld.dimension or fld.stem_of
            stem = (cb.dimensions[key].stem if key in cb.dimensions else fld.stem) or fld.label
            if stem not in stems:
                qn += 1
                stems[stem] = qn
            h = header(stems[stem], stem, fld.label)
            vals = data[fld.var].to_numpy(dtype=float)
            iv = np.nan_to_num(vals).astype(int)
            labels = cb.scale_of(fld).labels
            if form == "wjx_number":
                opts = np.array(["-2", *[str(v) for v in range(1, len(labels) + 1)]], dtype=object)
            elif form == "tencent":
                opts = np.array(
                    ["", *[f"{chr(65 + k)}.{lab}" for k, lab in enumerate(labels)]], dtype=object
                )
            else:
                opts = np.array(["(空)", *labels], dtype=object)
            body[h] = pa.DictionaryArray.from_arrays(
                pa.array(iv.astype(np.int8)), pa.array(opts, pa.string())
            )
            colmap[fld.var] = [h]
            continue
        qn += 1
        h = header(qn, fld.label)
        if fld.type == "multi":
            other = (
                data[f"{fld.var}_other"].to_numpy(dtype=object)
                if f"{fld.var}_other" in data
                else np.full(n, None, dtype=object)
            )
            cols = _multi_columns(
                fld, data[fld.var].fillna("").to_numpy(dtype=object), other, form, qn
            )
            if form == "tencent":
                cols = {k.replace(f"{qn}、", f"{qn}."): v for k, v in cols.items()}
            body.update(cols)
            colmap[fld.var] = list(cols)
            continue
        if fld.type == "name":
            body[h] = name
        elif fld.type == "student_id":
            body[h] = data["student_id"].to_numpy(dtype=object)
        elif fld.type == "grade_class":
            body[h] = fm.class_labels(g, c, "std")
        elif fld.type == "gender":
            male = gender == "male"
            pair = {
                "wjx_number": ("1", "2"),
                "tencent": ("A.男", "B.女"),
                "wjx_text": ("男", "女"),
            }[form]
            body[h] = np.where(male, pair[0], pair[1]).astype(object)
        else:
            body[h] = extra[fld.var](form)
        colmap[fld.var] = [h]
    rng = m.rng
    secs = rng.integers(60, 900, n)
    submitted = pd.DatetimeIndex(pd.to_datetime(data["submitted_at"]))
    if form == "tencent":
        sys_cols = {
            "编号": np.zeros(n, dtype=np.int64),
            "开始答题时间": np.asarray(
                (submitted - pd.to_timedelta(secs, unit="s")).strftime("%Y-%m-%d %H:%M:%S"),
                dtype=object,
            ),
            "结束答题时间": np.asarray(submitted.strftime("%Y-%m-%d %H:%M:%S"), dtype=object),
            "答题时长": np.char.add(
                np.char.add((secs // 60).astype(str), "分"),
                np.char.add((secs % 60).astype(str), "秒"),
            ).astype(object),
        }
    else:
        ip = rng.integers(1, 255, (n, 2)).astype(str)
        sys_cols = {
            "序号": np.zeros(n, dtype=np.int64),
            "提交答卷时间": np.asarray(submitted.strftime("%Y/%m/%d %H:%M:%S"), dtype=object),
            "所用时间": np.char.add(secs.astype(str), "秒").astype(object),
            "来源": rng.choice(np.array(["微信", "手机提交", "链接"], dtype=object), n),
            "来源详情": np.full(n, "N/A", dtype=object),
            "来自IP": np.char.add(
                np.char.add(np.char.add("112.96.", ip[:, 0]), "."),
                np.char.add(ip[:, 1], "(广东-广州)"),
            ).astype(object),
        }
    t = Table({**sys_cols, **body})
    t.ts = submitted.to_numpy()
    return f, t, colmap, (name, g, c)


def _finish_survey(f: _File, t: Table, form: str) -> _File:
    order = np.lexsort((t.rk, t.ts))
    t = t.take(order)
    t[("编号" if form == "tencent" else "序号")] = np.arange(1, t.n + 1)
    if form == "tencent":  # 腾讯问卷 exports end with empty columns
        t[""] = np.full(t.n, None, dtype=object)
        t[" "] = np.full(t.n, None, dtype=object)
    f.sheets["Sheet1"] = t
    return f


def _likert_raw(v, labels, form):
    if form == "wjx_number":
        return str(v)
    if form == "tencent":
        return f"{chr(64 + v)}.{labels[v - 1]}"
    return labels[v - 1]


def _survey_defects(
    m: Messer, f, t: Table, spec, colmap, cb, ngc, *, items=(), attention=None
) -> Table:
    """Identity defects, class spellings, attention checks, out-of-range answers, repeated
    submissions and unknown students."""
    form, rel = spec["form"], f.rel
    id_col, name_col, cls_col = colmap["student_id"][0], colmap["name"][0], colmap["grade_class"][0]
    _, g, c = ngc
    used = np.zeros(t.n, dtype=bool)
    _mess_identity(m, t, rel, used, id_col=id_col, name_col=name_col, class_col=cls_col, rate=0.03)
    _mess_class(
        m,
        t,
        rel,
        cls_col,
        g,
        c,
        0.15,
        ("std", "num", "paren", "fwparen", "dash", "short", "fullwidth"),
        "std",
    )
    if attention is not None:
        (h,) = colmap[attention.var]
        labels = cb.scale_of(attention).labels
        wrong_vals = [v for v in cb.scale_of(attention).values if v != attention.attention]
        pick = m.take(np.flatnonzero(~used), m.count(t.n, 0.01))
        raw = np.array(
            [_likert_raw(int(m.rng.choice(wrong_vals)), labels, form) for _ in pick], dtype=object
        )
        if len(pick):
            t.put(h, pick, raw)
            used[pick] = True
            m.add(rel, t.rk[pick], h, "attention_fail", raw, None, "quarantine")
    if form == "wjx_number" and items:
        pick = m.take(np.flatnonzero(~used), m.count(t.n, 0.01))
        which = m.rng.integers(0, len(items), len(pick))
        for k, fld in enumerate(items):
            sel = pick[which == k]
            if not len(sel):
                continue
            (h,) = colmap[fld.var]
            raw = m.rng.choice(np.array(["0", "6", "7", "33"], dtype=object), len(sel))
            t.put(h, sel, raw)
            m.add(rel, t.rk[sel], h, "out_of_range", raw, "", "missing")
    # repeated submissions: an earlier complete one, or a later one left mostly blank
    src = m.take(np.flatnonzero(~used), m.count(t.n, 0.02))
    if len(src):
        dup = t.take(src)
        dup.rk = np.arange(t.next_rk(), t.next_rk() + dup.n)
        later = (m.rng.random(dup.n) < 0.3) & bool(items)
        shift = pd.to_timedelta(m.rng.integers(5, 3000, dup.n), unit="min").to_numpy()
        dup.ts = np.where(later, dup.ts + shift, dup.ts - shift)
        blank = {"wjx_number": "-2", "tencent": None, "wjx_text": "(空)"}[form]
        item_cols = [colmap[fl.var][0] for fl in items]
        rows_later = np.flatnonzero(later)
        for hc in item_cols[len(item_cols) // 3 :]:
            if len(rows_later):
                dup.put(hc, rows_later, [blank] * len(rows_later))
        ts = pd.DatetimeIndex(dup.ts)
        if form == "tencent":
            dup["结束答题时间"] = np.asarray(ts.strftime("%Y-%m-%d %H:%M:%S"), dtype=object)
        else:
            dup["提交答卷时间"] = np.asarray(ts.strftime("%Y/%m/%d %H:%M:%S"), dtype=object)
        m.add(rel, dup.rk, None, "duplicate_submission", None, t.rk[src], "merge")
        t = t.extend(dup)
    return _unknown_rows(m, t, m.count(t.n, 0.005), id_col, name_col, rel)


def _skip_markers(m: Messer, rel, t: Table, colmap, fields, form):
    """Record every skip marker written for a missing answer (data, not errors)."""
    marks = {"wjx_number": ("-2", "-3"), "wjx_text": ("(空)", "(跳过)"), "tencent": ()}[form]
    if not marks:
        return
    for fld in fields:
        for h in colmap.get(fld.var, []):
            base = t.base(h)
            base = base.cast(pa.string()) if pa.types.is_dictionary(base.type) else base
            mask = pc.fill_null(pc.is_in(base, value_set=pa.array(list(marks))), False)
            mask = mask.to_numpy(zero_copy_only=False).copy()
            for i, v in t.over.get(h, {}).items():
                mask[i] = v in marks
            hit = np.flatnonzero(mask)
            m.add(rel, t.rk[hit], h, "skip_marker", t.values(h, hit), "", "missing")


def _assessment_file(st, spec, m, ids):
    y, wave = spec["year"], spec["wave"]
    cb = load_codebook(f"assessment_{st.params.level}")
    w = _rows_of(st.tables["assessment_wide"], year=y, wave=wave)
    f, t, colmap, ngc = _survey_table(st, spec, m, ids, w, cb, {})
    t = _survey_defects(
        m, f, t, spec, colmap, cb, ngc, items=list(cb.items), attention=cb.attention_checks[0]
    )
    _skip_markers(m, f.rel, t, colmap, cb.items, spec["form"])
    return _finish_survey(f, t, spec["form"])


def _needs_file(st, spec, m, ids):
    y = spec["year"]
    cb = load_codebook(f"needs_{st.params.level}")
    nd = (
        st.tables["needs"]
        .query("year == @y")
        .reset_index(drop=True)
        .assign(weak_areas_other=lambda d: d["other_text"])
    )
    staff = _rows_of(st.tables["staff"], year=y).set_index("staff_id")
    label = {
        sid: f"{r['name']}（{STAFF_SUBJECT_ZH.get(r['subject'], '')}）"
        for sid, r in staff.iterrows()
    }
    msgs = np.array(["谢谢老师", "希望老师多陪我聊天", "老师辛苦了", None], dtype=object)
    pick_msg = msgs[m.rng.integers(0, len(msgs), len(nd))]

    def message(form):
        blank = {"wjx_number": "-2", "tencent": None, "wjx_text": "(空)"}[form]
        return np.where(pd.isna(pick_msg), blank, pick_msg)

    extra = {"message": message}
    for k in (1, 2, 3):
        col = f"pref_{k}"
        if col in nd:
            extra[col] = lambda form, col=col: np.array(
                [label.get(v) if isinstance(v, str) else "(跳过)" for v in nd[col]], dtype=object
            )
    f, t, colmap, ngc = _survey_table(st, spec, m, ids, nd, cb, extra)
    t = _survey_defects(m, f, t, spec, colmap, cb, ngc)
    return _finish_survey(f, t, spec["form"])


def _satisfaction_file(st, spec, m, ids):
    y, term, form = spec["year"], spec["term"], spec["form"]
    cb = load_codebook("satisfaction")
    sat = _rows_of(st.tables["satisfaction"], year=y, term=term)
    rf = cb.field("reason")

    def want(form):
        return np.where(
            sat["want_change"].to_numpy(), *(("1", "2") if form == "wjx_number" else ("是", "否"))
        ).astype(object)

    def reason(form):
        out = []
        for r, txt in zip(sat["reason"], sat["reason_text"], strict=True):
            if not isinstance(r, str):
                out.append("-3" if form == "wjx_number" else "(跳过)")
            elif r == "other":
                out.append(
                    f"{len(rf.options) + 1}〖{txt}〗" if form == "wjx_number" else f"其他〖{txt}〗"
                )
            else:
                k = list(rf.codes).index(r)
                out.append(str(k + 1) if form == "wjx_number" else rf.options[k])
        return np.array(out, dtype=object)

    f, t, colmap, ngc = _survey_table(
        st, spec, m, ids, sat, cb, {"want_change": want, "reason": reason}
    )
    items = [fl for fl in cb.fields if fl.type == "likert"]
    t = _survey_defects(m, f, t, spec, colmap, cb, ngc, items=items)
    _skip_markers(m, f.rel, t, colmap, [*items, rf], form)
    return _finish_survey(f, t, form)


def _exams_file(st, spec, m, ids):
    """The 成绩单 workbook: one sheet per class, some with a title row above the header."""
    y, term = spec["year"], spec["term"]
    f = _File(spec["path"], "xlsx")
    ex = _rows_of(st.tables["exams"], year=y, term=term)
    subjects = [s for s in SUBJECT_ZH if s in set(ex["subject"])]
    sids = np.sort(ex["student_id"].unique())
    name, g, c, _ = ids.get(y, sids)
    order = np.lexsort((sids, c, g))
    sids, name, g, c = sids[order], name[order], g[order], c[order]
    cols = {"学号": sids.astype(object), "姓名": name}
    took, absent = {}, {}
    for subj in subjects:
        e = ex[ex["subject"] == subj].set_index("student_id").reindex(sids)
        zh = SUBJECT_ZH[subj]
        cols[zh] = np.where(
            (e["status"] == "sat").to_numpy(), e["score"].to_numpy(dtype=float), np.nan
        )
        absent[zh] = np.flatnonzero((e["status"] == "absent").to_numpy())
        took[zh] = e["status"].notna().to_numpy()
    t = Table(cols)
    for zh, idx in absent.items():
        t.put(zh, idx, ["缺考"] * len(idx))
    used = np.zeros(t.n, dtype=bool)
    _mess_identity(
        m,
        t,
        f.rel,
        used,
        id_col="学号",
        rate=0.015,
        numeric_cells=True,
        allow=["id_missing_g", "id_sci", "id_space"],
    )
    for zh in took:
        for kind, rate, make, exp in (
            (
                "fullwidth",
                0.004,
                lambda v, r: ([fm.fullwidth(str(int(x))) for x in v], [str(int(x)) for x in v]),
                "value",
            ),
            (
                "out_of_range",
                0.003,
                lambda v, r: ([int(x) * 10 + int(r.integers(0, 10)) for x in v], [""] * len(v)),
                "missing",
            ),
        ):
            free = np.isfinite(t.base(zh))
            free[t.overridden(zh)] = False
            _mess_values(m, t, f.rel, zh, rate, kind, make, exp, pool=np.flatnonzero(free))
    codes = (
        g.astype(np.int64) * 10000 + c
    )  # rows are sorted by grade and class: each class is contiguous
    uniq, first = np.unique(codes, return_index=True)
    bounds = np.append(first, t.n)
    names, headers = [], []
    keys = list(t.cols)
    for k, code in enumerate(uniq):
        gg, cc = divmod(int(code), 10000)
        sl = slice(bounds[k], bounds[k + 1])
        # a subject this grade does not take (英语 before grade 3) is left off the sheet
        present = [h for h in keys if h not in took or took[h][sl].any()]
        headers.append(keys[: max(keys.index(h) for h in present) + 1])
        sheet = fm.class_label(gg, cc, "short")
        names.append(sheet)
        if not m.clean and (gg + cc) % 2 == 0:
            f.pre_rows[sheet] = [
                [f"{y}-{y + 1}学年第{'一' if term == 1 else '二'}学期期末成绩 {sheet}"]
            ]
    f.grouped = (t, names, bounds, headers)
    return f


def _activities_file(st, spec, m, ids):
    y = spec["year"]
    f = _File(spec["path"], "csv", spec["encoding"])
    a = st.tables["activities"]
    a = a[
        (a["date"] >= pd.Timestamp(y, 9, 1)) & (a["date"] < pd.Timestamp(y + 1, 9, 1))
    ].reset_index(drop=True)
    # the IDs are categorical codes: look each person up once, then take by code
    sid = a["student_id"].astype("category")
    mid = a["mentor_id"].astype("category")
    has_s = (sid.cat.codes >= 0).to_numpy()
    snames = pa.array(ids.get(y, sid.cat.categories)[0], pa.string(), from_pandas=True)
    staff = _rows_of(st.tables["staff"], year=y).set_index("staff_id")["name"]
    mnames = pa.array(
        staff.reindex(mid.cat.categories).to_numpy(dtype=object), pa.string(), from_pandas=True
    )
    act = a["activity"].astype("category")
    kinds = act.cat.categories[act.cat.codes.to_numpy()].to_numpy(dtype=object)
    u = m.rng.random(len(a))
    flat = [x for k in NOTE_TEMPLATES for x in NOTE_TEMPLATES[k]]
    note_idx = np.zeros(len(a), dtype=np.int32)
    start = 0
    for k, tmpl in NOTE_TEMPLATES.items():
        sel = kinds == k
        note_idx[sel] = start + (u[sel] * len(tmpl)).astype(np.int32)
        start += len(tmpl)

    def by_code(names: pa.Array, codes) -> pa.Array:
        codes = np.asarray(codes)
        return names.take(pa.array(np.maximum(codes, 0), mask=codes < 0))

    t = Table(
        {
            "日期": fm.date_labels(a["date"], "slash"),
            "导师工号": a["mentor_id"],
            "导师姓名": by_code(mnames, mid.cat.codes),
            "学生姓名": by_code(snames, sid.cat.codes),
            "学籍号": a["student_id"],
            "活动类型": a["activity"].map(ACTIVITIES_ZH),
            "方式": a["mode"].map(MODE_ZH),
            "时长(分钟)": pc.cast(pa.array(a["duration_min"].to_numpy()), pa.string()),
            "记录摘要": pa.DictionaryArray.from_arrays(pa.array(note_idx), pa.array(flat)).cast(
                pa.string()
            ),
        }
    )
    used = ~has_s
    _mess_identity(
        m,
        t,
        f.rel,
        used,
        id_col="学籍号",
        name_col="学生姓名",
        rate=0.01,
        allow=["id_missing_g", "id_sci", "id_space", "id_fullwidth"],
    )
    _mess_dates(m, t, f.rel, "日期", a["date"], 0.02, "slash", styles=("iso", "cn", "serial"))
    alias = {
        "talk": "谈心",
        "three_party": "三方会谈",
        "parent_call": "家长联系",
        "group_counselling": "团辅",
    }
    _mess_values(
        m,
        t,
        f.rel,
        "活动类型",
        0.01,
        "label_alias",
        lambda v, r: ([alias.get(x, x) for x in kinds_of(v)], kinds_of(v)),
        pool=np.flatnonzero(np.isin(kinds, list(alias))),
    )
    _mess_values(
        m,
        t,
        f.rel,
        "时长(分钟)",
        0.01,
        "number_text",
        lambda v, r: ([f"{x}分钟" for x in v], list(v)),
    )
    f.sheets["记录"] = _unknown_rows(
        m, t, m.count(t.n, 0.001), "学籍号", "学生姓名", f.rel, pool=np.flatnonzero(has_s)
    )
    return f


_ZH_ACT = {v: k for k, v in ACTIVITIES_ZH.items()}


def kinds_of(labels) -> list[str]:
    return [_ZH_ACT[x] for x in labels]


def _rewards_file(st, spec, m, ids):
    y = spec["year"]
    f = _File(spec["path"], "xlsx")
    r = st.tables["rewards"]
    r = r[
        (r["date"] >= np.datetime64(f"{y}-09-01")) & (r["date"] < np.datetime64(f"{y + 1}-09-01"))
    ].reset_index(drop=True)
    name, g, c, _ = ids.get(y, r["student_id"])
    t = Table(
        {
            "日期": fm.date_labels(r["date"], "iso"),
            "学籍号": r["student_id"],
            "姓名": name,
            "班级": fm.class_labels(g, c, "std"),
            "类别": np.where(r["kind"] == "reward", "奖励", "惩戒").astype(object),
            "事由": r["reason"],
            "分值": r["points"].to_numpy(),
        }
    )
    used = np.zeros(t.n, dtype=bool)
    _mess_identity(
        m,
        t,
        f.rel,
        used,
        id_col="学籍号",
        name_col="姓名",
        class_col="班级",
        rate=0.02,
        numeric_cells=True,
    )
    _mess_dates(m, t, f.rel, "日期", r["date"], 0.05, "iso", styles=("serial", "cn", "slash"))
    _mess_values(
        m,
        t,
        f.rel,
        "分值",
        0.01,
        "number_text",
        lambda v, rr: (
            [
                (f"+{x}" if x > 0 else str(x)) if rr.random() < 0.5 else fm.fullwidth(str(x))
                for x in v
            ],
            [str(x) for x in v],
        ),
    )
    f.sheets["奖惩"] = t
    return f


def _mood_file(st, spec, m, ids):
    """The mood chart as typed from the classroom wall: a row per student and month."""
    y = spec["year"]
    f = _File(spec["path"], "csv", spec["encoding"])
    (entry,) = [e for e in st.mood_days if e[0] == y]
    _, sids, months = entry
    name, g, c, _ = ids.get(y, sids)
    cls = fm.class_labels(g, c, "std")
    order = np.lexsort((sids, c, g))
    n = len(sids)
    dictionary = ["", *[MOOD_ZH[k] for k in MOOD_CODES], *[MOOD_ALIAS[k] for k in MOOD_CODES]]
    grids, mlabels = [], []
    for cy, mo, days, code in months:
        grid = np.zeros((n, 31), dtype=np.int8)
        grid[:, days - 1] = code[order] + 1
        grids.append(grid)
        mlabels.append(np.full(n, f"{cy}年{mo}月", dtype=object))
    k = len(months)
    t = Table(
        {
            "学籍号": np.tile(sids[order].astype(object), k),
            "姓名": np.tile(name[order], k),
            "班级": np.tile(cls[order], k),
            "月份": np.concatenate(mlabels),
        }
    )
    grid = np.concatenate(grids)
    used = np.zeros(t.n, dtype=bool)
    _mess_identity(
        m, t, f.rel, used, id_col="学籍号", rate=0.005, allow=["id_missing_g", "id_space"]
    )
    nz = np.flatnonzero(grid.ravel() > 0)
    pick = m.take(nz, m.count(len(nz), 0.002))
    if len(pick):
        i, d = np.divmod(pick, 31)
        true = np.asarray(MOOD_CODES, dtype=object)[grid[i, d] - 1]
        grid[i, d] += 4
        for dd in np.unique(d):
            sel = d == dd
            m.add(
                f.rel,
                t.rk[i[sel]],
                f"{dd + 1}日",
                "label_alias",
                np.asarray(dictionary, dtype=object)[grid[i[sel], dd]],
                true[sel],
                "value",
            )
    for d in range(31):
        t.cols[f"{d + 1}日"] = pd.Categorical.from_codes(grid[:, d], dictionary)
    f.sheets["心情"] = t
    return f


# ----------------------------------------------------------------------------- the folder


_BUILDERS = {
    "students": lambda st, s, m, ids: _students_file(st, s, m),
    "staff": lambda st, s, m, ids: _staff_file(st, s, m),
    "groups": _groups_file,
    "needs_survey": _needs_file,
    "assessment": _assessment_file,
    "satisfaction": _satisfaction_file,
    "exams": _exams_file,
    "activities": _activities_file,
    "rewards": _rewards_file,
    "mood": _mood_file,
}


@dataclass
class _Job:
    study: SynthStudy
    out: Path
    clean: bool
    ids: _Ids
    truth_tables: bool = True

    def __call__(self, k_spec) -> pd.DataFrame:
        k, spec = k_spec
        if spec["kind"] == "truth":
            _write_truth(self.study, self.out / "truth", self.truth_tables)
            return pd.DataFrame()
        # one random stream per file: a file's defects do not depend on any other file
        m = Messer(
            np.random.default_rng(np.random.SeedSequence([self.study.params.seed, 7919, k])),
            self.clean,
        )
        rows: dict = {}
        _write_file(self.out, _BUILDERS[spec["kind"]](self.study, spec, m, self.ids), m, rows)
        return m.frame(rows)


_JOB: _Job | None = None


def _run_in_child(k_spec):
    return _JOB(k_spec)


def _run_jobs(job: _Job, specs: list[dict], workers: int | None, progress) -> list[pd.DataFrame]:
    """Build and write every file, in parallel when there is more than one core."""
    import multiprocessing as mp
    import os

    workers = workers or min(2, os.cpu_count() or 1)
    items = list(enumerate(specs))
    # the largest files first, so the two workers finish together
    weight = {
        "truth": 10,
        "activities": 9,
        "mood": 8,
        "assessment": 7,
        "exams": 6,
        "satisfaction": 5,
        "needs_survey": 4,
    }
    items.sort(key=lambda ks: -weight.get(ks[1]["kind"], 1))
    results: dict[int, pd.DataFrame] = {}
    if workers <= 1 or len(items) < 4 or "fork" not in mp.get_all_start_methods():
        for k, spec in items:
            results[k] = job((k, spec))
            if progress:
                progress(spec["path"])
    else:
        global _JOB
        _JOB = job  # inherited by the forked workers, never pickled
        try:
            with mp.get_context("fork").Pool(workers) as pool:
                for (k, spec), res in zip(items, pool.imap(_run_in_child, items), strict=True):
                    results[k] = res
                    if progress:
                        progress(spec["path"])
        finally:
            _JOB = None
    return [results[k] for k in range(len(specs))]


def _source_entry(spec: dict, level: str) -> dict:
    src = {"kind": spec["kind"], "path": spec["path"]}
    for key in ("year", "term", "wave"):
        if key in spec:
            src[key] = spec[key]
    if spec.get("encoding") and spec["fmt"] == "csv":
        src["encoding"] = spec["encoding"]
    if spec["kind"] in ("assessment", "needs_survey"):
        src["codebook"] = f"{'assessment' if spec['kind'] == 'assessment' else 'needs'}_{level}"
    return src


def write_study(
    study: SynthStudy,
    out_dir: str | Path,
    *,
    clean: bool = False,
    overwrite: bool = False,
    truth_tables: bool = True,
    progress=None,
    workers: int | None = None,
) -> Path:
    """Write ``study`` as a raw study folder with ``study.toml`` and ``truth/``.

    Parameters
    ----------
    study : SynthStudy
        From :func:`mentorlib.synth.generate`.
    out_dir : path
        The study folder to create. An existing non-empty folder is an error unless
        ``overwrite`` (then it is replaced).
    clean : bool
        Write without injected defects, in one plain form per source (UTF-8, 问卷星 按文本).
    truth_tables : bool
        Also write the canonical answer key, ``truth/canonical/*.parquet``.
    progress : callable, optional
        Called with a short label after each file (for a progress bar).
    workers : int, optional
        Processes that write files in parallel (default: up to 2). Each file draws its defects
        from its own random stream, so the output does not depend on the number of workers.
    """
    final = Path(out_dir)
    if final.is_dir() and any(final.iterdir()) and not overwrite:
        raise FileExistsError(f"{final}: folder exists and is not empty (use --overwrite)")
    # --overwrite replaces only a synthetic study mentorlib wrote (study.toml saying synthetic
    # beside truth/params.json is its marker); built beside, then swapped in
    dest = check_output_dir(final, kind="synth", what="synth folder")
    out = make_temp_dir(dest.parent, "synth")
    try:
        _write_study_into(study, out, dest.name, clean, truth_tables, progress, workers)
        replace_dir(out, dest)
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)
        raise
    return final


def _write_study_into(
    study: SynthStudy, out: Path, name: str, clean: bool, truth_tables: bool, progress, workers
) -> None:
    (out / "truth").mkdir()
    ids = _Ids(study.tables["students"])
    _ROSTER_NAMES.clear()
    _ROSTER_NAMES.update(study.tables["students"]["name"].astype(str))
    specs = _plan(study, clean)
    job = _Job(study, out, clean, ids, truth_tables)
    manifests = _run_jobs(job, [*specs, {"kind": "truth", "path": "truth/"}], workers, progress)[
        :-1
    ]
    sources = [_source_entry(spec, study.params.level) for spec in specs]
    p = study.params
    toml = {
        "study": {
            "name": name,
            "school": study.school_name,
            "level": p.level,
            "years": p.years,
            "synthetic": True,
            "generator": f"mentorlib synth --level {p.level} --students {p.n_students} --years {p.n_years} "
            f"--seed {p.seed}" + (" --clean" if clean else ""),
        },
        "sources": sources,
    }
    (out / "study.toml").write_text(
        "# Study folder (input contract: DESIGN.md). Synthetic: no real student data.\n"
        + tomli_w.dumps(toml),
        encoding="utf-8",
    )
    parts = [x for x in manifests if len(x)]
    manifest = pd.concat(parts, ignore_index=True) if parts else Messer(None, True).frame({})
    tdir = out / "truth"
    manifest.to_parquet(tdir / "manifest.parquet", index=False)
    kinds = manifest.groupby(["kind", "expected"], dropna=False).size().rename("n").reset_index()
    neutralise_cells(kinds).to_csv(tdir / "manifest_summary.csv", index=False)


def _write_truth(study: SynthStudy, tdir: Path, tables: bool):
    """Everything of truth/ but the manifest (written once every file is done)."""
    tdir.mkdir(parents=True, exist_ok=True)
    (tdir / "params.json").write_text(
        json.dumps(study.params.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    for k, v in study.truth.items():
        v.to_parquet(tdir / f"{k}.parquet", index=False)
    readme = """# truth/ (what nobody observes)
- params.json: the generating parameters (mentorlib.synth.SynthParams)
- latent.parquet: theta_pre, theta_post, delta, improved (delta > improve_threshold) per student,
  year and dimension; the term-1 mentor, needs-strength fit, talks per month
- mentor_effects.parquet: true mentor effect per mentor, year and dimension (latent SD units);
  the placebo outcome (height) has no mentor effect by construction
- mentors.parquet: latent quality and compliance rates of every staff member
- reliability.parquet: population reliability of each dimension's mean score, per year and wave
- items.parquet: graded-response parameters of every item
- manifest.parquet: every injected defect (file, sheet, row, column, kind, raw, true_value, expected)
- canonical/: the canonical tables a perfect cleaner would produce (the answer key)
"""
    (tdir / "README.md").write_text(readme, encoding="utf-8")
    if tables:
        cdir = tdir / "canonical"
        cdir.mkdir(exist_ok=True)
        for k, v in canonical_tables(study).items():
            v.to_parquet(cdir / f"{k}.parquet", index=False)


def canonical_tables(study: SynthStudy) -> dict[str, pd.DataFrame]:
    """The canonical tables of DESIGN.md from a generated study (the cleaner's answer key).

    ``assessment_items`` is long (student_id, year, wave, dimension, item, value), in the order
    of the wide table: by year, wave and submission, then item.
    """
    t = dict(study.tables)
    wide = t.pop("assessment_wide")
    cb = load_codebook(f"assessment_{study.params.level}")
    items = list(cb.items)
    names = [f.var for f in items]
    n, k = len(wide), len(items)
    vals = wide[names].to_numpy(dtype=float).ravel()  # row-major: each student's items together
    sid_codes, sid_cats = pd.factorize(wide["student_id"].astype(str))
    wave = pd.Categorical(wide["wave"].astype(str), categories=["pre", "post"])
    dims = list(cb.dimensions)
    t["assessment_items"] = pd.DataFrame(
        {
            "student_id": pd.Categorical.from_codes(np.repeat(sid_codes, k), categories=sid_cats),
            "year": np.repeat(wide["year"].to_numpy(), k),
            "wave": pd.Categorical.from_codes(np.repeat(wave.codes, k), categories=["pre", "post"]),
            "dimension": pd.Categorical.from_codes(
                np.tile([dims.index(f.dimension) for f in items], n), categories=dims
            ),
            "item": pd.Categorical.from_codes(np.tile(np.arange(k), n), categories=names),
            "value": pd.array(np.where(np.isnan(vals), 0, vals).astype(np.int64), dtype="Int64"),
        }
    )
    t["assessment_items"].loc[np.isnan(vals), "value"] = pd.NA
    return t
