"""Clean a study folder into canonical tables, losing nothing (``mentorlib clean``).

Flow for every source listed in ``study.toml``: read the file (:mod:`mentorlib.ingest`), find
its header row, match headers to the source's codebook, decode every field by its type
(:mod:`mentorlib.normalize`), link each row to a student on the roster, merge repeated
submissions, quarantine what cannot be trusted, validate the canonical tables (pandera, lazily),
and write them with the cleaning log, the quarantine and a per-source summary.

Every input row ends as exactly one of: ``kept``, ``merged`` (a repeated submission, with a
pointer to the row it merged into) or ``quarantined`` (with a reason); blank rows are counted
apart. Every changed cell is in the cleaning log (source, sheet, row, column, old, new, rule);
a column decoded wholesale by its codebook (labels to codes) is logged once for the column.

Linkage (survey and log rows to the roster): by 学籍号; a number that lost its prefix letter
gets it back from the roster; Excel's scientific-notation damage is recovered only when the
roster leaves exactly one student consistent with the digits left (and the name and class, when
the row has them); a missing or broken 学籍号 links by name + grade + class (exact, then
normalised). Ambiguous or unknown rows are quarantined with the candidates listed.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import normalize as nz
from .codebook import Codebook, Field, load_codebook, norm_text, option_labels
from .data import TABLES
from .errors import InputError
from .ingest import ColumnMap, RawSheet, combine_sheets, match_columns, read_file, to_raw_sheet
from .outputs import (
    PROCESSED_FORMAT,
    check_output_dir,
    make_temp_dir,
    replace_dir,
    write_csv,
    write_text,
)
from .pseudonymise import header_kind, load_key, pseudonymise_outputs
from .schemas import validate_tables
from .study import Source, StudyConfig, load_config

ORDER = (
    "students",
    "staff",
    "groups",
    "needs_survey",
    "assessment",
    "satisfaction",
    "exams",
    "activities",
    "rewards",
    "mood",
)
OUTPUT_TABLES = TABLES  # the canonical tables of the data contract
COMPLETE = 0.8  # a submission is complete when at least this share of its items is answered


# ----------------------------------------------------------------------------- bookkeeping


class _Log:
    """The cleaning log, collected in column-sized chunks."""

    def __init__(self):
        self.chunks: list[pd.DataFrame] = []

    def add(self, rs: RawSheet, idx, column, old, new, rule):
        idx = np.atleast_1d(np.asarray(idx, dtype=np.int64))
        if not len(idx):
            return
        n = len(idx)

        def strs(x):
            if x is None or np.ndim(x) == 0:
                return np.full(n, _s(x), dtype=object)
            return np.array([_s(v) for v in x], dtype=object)

        self.chunks.append(
            pd.DataFrame(
                {
                    "source": rs.file,
                    "sheet": rs.sheet_at(idx),
                    "row": rs.rows[idx],
                    "column": column,
                    "old": strs(old),
                    "new": strs(new),
                    "rule": rule if isinstance(rule, str) else strs(rule),
                }
            )
        )

    def note(self, rs: RawSheet | None, file: str, column, old, new, rule):
        self.chunks.append(
            pd.DataFrame(
                {
                    "source": [file],
                    "sheet": [rs.sheet if rs else None],
                    "row": [pd.NA],
                    "column": [column],
                    "old": [_s(old)],
                    "new": [_s(new)],
                    "rule": [rule],
                }
            )
        )

    def frame(self) -> pd.DataFrame:
        cols = ["source", "sheet", "row", "column", "old", "new", "rule"]
        if not self.chunks:
            return pd.DataFrame(columns=cols)
        df = pd.concat(self.chunks, ignore_index=True)[cols]
        df["row"] = df["row"].astype("Int64")
        for c in ("source", "sheet", "column", "rule"):
            df[c] = df[c].astype("category")
        return df


def _s(v) -> str | None:
    if v is None or (isinstance(v, float) and v != v):
        return None
    if isinstance(v, float | np.floating) and float(v).is_integer():
        return str(int(v))
    if isinstance(v, bool | np.bool_):
        return "true" if v else "false"
    return str(v)


_STATUSES = ["kept", "merged", "quarantined"]


def _concat_compact(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate frames column by column, keeping categoricals categorical when their
    categories differ (``pd.concat`` would fall back to one Python object per row)."""
    cols = {}
    for c in frames[0].columns:
        parts = [f[c] for f in frames]
        if not all(isinstance(p.dtype, pd.CategoricalDtype) for p in parts):
            cols[c] = pd.concat(parts, ignore_index=True)
            continue
        names = [p.cat.categories.astype(str) for p in parts]
        cats = pd.Index(sorted(set().union(*names)), dtype="str")
        # a code of -1 (missing) picks the -1 appended at the end
        codes = [
            np.append(cats.get_indexer(nm), -1)[p.cat.codes.to_numpy()]
            for p, nm in zip(parts, names, strict=True)
        ]
        cols[c] = pd.Categorical.from_codes(np.concatenate(codes), cats)
    return pd.DataFrame(cols)


class _Status:
    """Fate of every row of one raw sheet: kept, merged (into which row) or quarantined (why)."""

    def __init__(self, rs: RawSheet, kind: str):
        self.rs, self.kind = rs, kind
        n = rs.n
        self.status = np.full(n, "kept", dtype=object)
        self.reason = np.full(n, None, dtype=object)
        self.detail = np.full(n, None, dtype=object)
        self.merged_into = np.full(n, None, dtype=object)
        self.student_id = np.full(n, None, dtype=object)
        self.raw_of: dict[int, str] = {}

    @property
    def alive(self) -> np.ndarray:
        return self.status == "kept"

    def quarantine(self, idx, reason: str, detail=None):
        """Quarantine rows still kept; ``detail`` is one text, or one per row of ``idx``."""
        idx = np.atleast_1d(np.asarray(idx, dtype=np.int64))
        if detail is None or isinstance(detail, str):
            detail = np.full(len(idx), detail, dtype=object)
        detail = np.asarray(detail, dtype=object)
        live = self.status[idx] == "kept"
        idx, detail = idx[live], detail[live]
        self.status[idx] = "quarantined"
        self.reason[idx] = reason
        self.detail[idx] = detail
        return idx

    def merge(self, idx, into_rows):
        self.status[idx] = "merged"
        self.merged_into[idx] = into_rows

    def frame(self) -> pd.DataFrame:
        """One row per raw row, in small dtypes: a district has tens of millions of raw rows."""
        n = self.rs.n
        sid = pd.array(self.student_id, dtype="str").copy()
        sid[self.status == "quarantined"] = None
        return pd.DataFrame(
            {
                "source": pd.Categorical.from_codes(np.zeros(n, np.int8), [self.rs.file]),
                "sheet": pd.Categorical(self.rs.sheet_at(np.arange(n))),
                "row": self.rs.rows,
                "kind": pd.Categorical.from_codes(np.zeros(n, np.int8), [self.kind]),
                "status": pd.Categorical(self.status, categories=_STATUSES),
                "reason": pd.Categorical(self.reason),
                "detail": pd.array(self.detail, dtype="str"),
                "merged_into": pd.array(self.merged_into, dtype="str"),
                "student_id": pd.array(sid, dtype="str"),
            }
        )

    def keep_raw_of_quarantined(self) -> None:
        """Remember the raw cells of the rows quarantined so far, then let the sheet's cells go
        (a district-sized study does not fit in memory as raw cells)."""
        hdr = self.rs.header
        for i in np.flatnonzero(self.status == "quarantined"):
            if int(i) not in self.raw_of:
                row = self.rs.data.iloc[int(i)].tolist()
                self.raw_of[int(i)] = json.dumps(
                    {h: _s(v) for h, v in zip(hdr, row, strict=True) if _s(v) is not None},
                    ensure_ascii=False,
                )
        self.rs.data = pd.DataFrame(
            columns=range(self.rs.data.shape[1]), dtype=object
        )  # a view would keep every cell
        self.student_id = pd.array(self.student_id, dtype="str")  # not a Python object per row

    def quarantine_frame(self) -> pd.DataFrame:
        q = np.flatnonzero(self.status == "quarantined")
        if not len(q):
            return pd.DataFrame()
        raw = [self.raw_of.get(int(i)) for i in q]
        return pd.DataFrame(
            {
                "source": self.rs.file,
                "sheet": self.rs.sheet_at(q),
                "row": self.rs.rows[q],
                "kind": self.kind,
                "reason": self.reason[q],
                "detail": self.detail[q],
                "raw": raw,
            }
        )


# ----------------------------------------------------------------------------- the roster index


class _Roster:
    """Who the students are: the lookups that link survey and log rows to a 学籍号."""

    def __init__(self, students: pd.DataFrame):
        s = students
        self.ids = set(s["student_id"])
        self.id_array = pa.array(sorted(self.ids), pa.string())
        self.by_digits: dict[str, list[str]] = {}
        for sid in self.ids:
            self.by_digits.setdefault(sid[1:], []).append(sid)
        num = sorted((int(x[1:]), x) for x in self.ids if x[1:].isdigit())
        self.num_keys = np.array([k for k, _ in num], dtype=np.int64)
        self.num_ids = np.array([v for _, v in num], dtype=object)
        self.name_of = dict(
            zip(zip(s["year"], s["student_id"], strict=True), s["name"], strict=True)
        )
        self.cls_of = {
            (y, i): (g, c)
            for y, i, g, c in zip(
                s["year"], s["student_id"], s["grade"], s["class_no"], strict=True
            )
        }
        self.by_name: dict[tuple, list[str]] = {}
        self.by_name_cls: dict[tuple, list[str]] = {}
        for y, i, n, g, c in zip(
            s["year"], s["student_id"], s["name"], s["grade"], s["class_no"], strict=True
        ):
            self.by_name.setdefault((y, n), []).append(i)
            self.by_name_cls.setdefault((y, n, int(g), int(c)), []).append(i)
        self.years = set(s["year"])

    def lookup(self, year, name, gc) -> tuple[list[str], str]:
        """Candidates by name (+ class when known): exact name first, then normalised."""
        if not name:
            return [], "no name"
        names = [name]
        norm = nz.name(name)[0]
        if norm and norm != name:
            names.append(norm)
        for nm in names:
            if gc:
                g, c = (int(x) for x in gc.split("-"))
                hits = self.by_name_cls.get((year, nm, g, c), [])
            else:
                hits = self.by_name.get((year, nm), [])
            if hits:
                return hits, "name+class" if gc else "name"
        return [], "none"

    def mangled(self, digits: str, year=None, name=None, gc=None) -> list[str]:
        """Roster IDs consistent with what Excel left of an 18-digit number.

        With a name (and class) only that student's namesakes are checked against the digits
        left; without, the whole roster is searched (a 6-digit remnant rarely settles it).
        """
        k = len(digits)
        if k < 6 or k > 18 or not digits.isdigit():
            return []
        x = int(digits) * 10 ** (18 - k)
        half = 5 * 10 ** (18 - k - 1) if k < 18 else 0
        if name:
            pool, _ = self.lookup(year, name, gc)
            if not pool and gc:
                pool, _ = self.lookup(year, name, None)
            return [i for i in pool if i[1:].isdigit() and x - half <= int(i[1:]) <= x + half]
        lo, hi = np.searchsorted(self.num_keys, [x - half, x + half + 1])
        return list(self.num_ids[lo:hi])


# ----------------------------------------------------------------------------- the context


@dataclass
class _Ctx:
    cfg: StudyConfig
    log: _Log = field(default_factory=_Log)
    statuses: list[_Status] = field(default_factory=list)
    sheets: list = field(default_factory=list)
    parts: dict[str, list] = field(default_factory=dict)  # frames, or Parquet paths once spilled
    spill_dir: Path | None = (
        None  # big tables go to disk as they are made (a district fits in memory)
    )
    roster: _Roster | None = None
    staff_ids: dict[int, set] = field(default_factory=dict)
    staff_by_name: dict[tuple, list[str]] = field(default_factory=dict)
    attention: str = "quarantine"
    reader: str = "calamine"
    seen: dict = field(default_factory=dict)  # table -> _Seen: records read so far (daily logs)

    def emit(self, table: str, df: pd.DataFrame, sh: _Sheet, rows=None):
        """Add canonical rows; ``rows`` is the raw row of each (default: the frame's index).

        Provenance (``_sheet``, ``_i``) rides along until validation, then is dropped."""
        if len(df):
            src_rows = df.index.to_numpy() if rows is None else np.asarray(rows)
            df = _compact_part(df.assign(_sheet=np.int32(sh.k), _i=src_rows.astype(np.int32)))
            if self.spill_dir is not None and table not in (
                "students",
                "staff",
            ):  # the roster stays at hand
                path = self.spill_dir / f"{table}.{len(self.parts.get(table, [])):05d}.parquet"
                df.to_parquet(path, index=False)
                df = path
            self.parts.setdefault(table, []).append(df)


@dataclass
class _Sheet:
    """One raw sheet being cleaned: its source, codebook, columns and row fates."""

    src: Source
    rs: RawSheet
    cb: Codebook
    cm: ColumnMap
    st: _Status
    k: int = 0  # index of the sheet among all sheets read

    def raw(self, var: str) -> pd.Series | None:
        j = self.cm.single.get(var)
        return None if j is None else self.rs.col(j)

    def header_of(self, var: str) -> str | None:
        j = self.cm.single.get(var)
        return None if j is None else self.rs.header[j]


# ----------------------------------------------------------------------------- decoding


def _decode(sh: _Sheet, ctx: _Ctx, var: str, fn) -> pd.Series:
    """Normalise one column and log what changed.

    A column's own convention (the rule most of its cells need, like 三年级2班 -> 3-2 all down a
    roster, or 腾讯问卷's "A." option prefixes) is logged once for the column, with the number of
    cells and an example; every cell that departs from it (another spelling, a repair, an
    unreadable value) is logged on its own.
    """
    raw = sh.raw(var)
    if raw is None:
        return pd.Series([None] * sh.rs.n, dtype=object)
    vals, rules = nz.apply(raw, fn)
    _log_rules(sh, ctx, sh.header_of(var), raw, vals, rules)
    return vals


def _log_rules(sh: _Sheet, ctx: _Ctx, col: str, raw: pd.Series, vals: pd.Series, rules: pd.Series):
    r = rules.to_numpy(dtype=object)
    has = np.array(pd.notna(rules).to_numpy(), dtype=bool)
    if not has.any():
        return
    filled = int(raw.notna().sum())  # the readers turned empty cells into None
    counts = pd.Series(r[has]).value_counts()
    top, n_top = counts.index[0], int(counts.iloc[0])
    convention = None
    if (
        not str(top).startswith("fail:")
        and top != "skip_marker"
        and n_top >= 0.5 * max(filled, 1)
        and n_top >= 3
    ):
        convention = top
        i0 = int(np.flatnonzero(r == top)[0])
        ctx.log.note(
            sh.rs,
            sh.rs.file,
            col,
            raw.iloc[i0],
            _s(vals.iloc[i0]),
            f"{top} (column convention, {n_top} cells)",
        )
        has &= r != top
    idx = np.flatnonzero(has)
    if not len(idx):
        return
    new = vals.to_numpy(dtype=object)[idx]
    rl = r[idx]
    fails = np.array([isinstance(x, str) and x.startswith("fail:") for x in rl], dtype=bool)
    rl = np.array(
        [f"unreadable_{x[5:]}" if f else x for x, f in zip(rl, fails, strict=True)], dtype=object
    )
    ctx.log.add(sh.rs, idx, col, raw.to_numpy(dtype=object)[idx], np.where(fails, None, new), rl)
    del convention


def _field_fn(f: Field, cb: Codebook, ctx: _Ctx, *, survey: bool = True):
    """The normaliser of a field. ``survey``: the sheet is a 问卷星/腾讯问卷 export, where -2
    and -3 are skip codes; in a records-system sheet they are numbers (penalty points)."""
    t = f.type
    if t == "likert":
        sc = cb.scale_of(f)
        return lambda x: nz.likert(x, sc.labels, sc.values)
    if t in ("number", "score"):
        lo, hi = f.range or (None, None)

        def num(x, lo=lo, hi=hi):
            if nz.is_blank(x):
                return None, None
            if survey and nz.skip(x):
                return None, "skip_marker"
            v, rule = nz.number(x, lo=lo, hi=hi)
            return v, ("out_of_range" if rule == "fail:out_of_range" else rule)

        return num
    return {
        "name": nz.name,
        "staff_name": nz.name,
        "gender": nz.gender,
        "grade_class": nz.grade_class,
        "grade": nz.grade,
        "date": nz.date_,
        "datetime": lambda x: nz.date_(x, with_time=True),
        "bool": nz.boolean,
        "school_year": nz.school_year,
        "term": nz.term,
        "month": nz.month,
        "staff_id": nz.staff_id,
        "text": _text_or_skip,
        "duration": nz.duration_minutes,
    }.get(t, nz.text)


def _bool_field(f: Field):
    """A yes/no question; in a 问卷星 按序号 export the answer is the option number (1 = 是)."""
    labels = list(f.options)

    def fn(x):
        if nz.skip(x):
            return None, None
        if labels:
            k = nz.number(x)[0] if not isinstance(x, str) or x.strip().isdigit() else None
            if isinstance(k, int) and 1 <= k <= len(labels):
                return nz.boolean(labels[k - 1])[0], None
        return nz.boolean(x)

    return fn


def _text_or_skip(x):
    if nz.skip(x):
        return None, ("skip_marker" if not nz.is_blank(x) else None)
    return nz.text(x)


def _single(sh: _Sheet, ctx: _Ctx, f: Field) -> tuple[pd.Series, pd.Series]:
    """A single-choice question: label, alias or option number -> code; 其他〖…〗 -> other + text."""
    raw = sh.raw(f.var)
    n = sh.rs.n
    if raw is None:
        return pd.Series([None] * n, dtype=object), pd.Series([None] * n, dtype=object)
    codes = list(f.codes or f.options)
    code_of = f.code_of()

    def fn(x):
        if nz.skip(x):
            return None, ("skip_marker" if not nz.is_blank(x) else None)
        if isinstance(x, int | float | np.integer | np.floating) and not isinstance(x, bool):
            k = int(x) if float(x).is_integer() else -1
            if 1 <= k <= len(codes):
                return codes[k - 1], None
            if f.other and k == len(codes) + 1:
                return "other", None
            return None, "fail:option"
        s = nz.text(x)[0]
        m = re.match(r"^(\d+)\s*(?:〖.*〗)?$", s)
        if m:
            return fn(int(m.group(1)))
        t = re.sub(r"^[A-Za-z][.、．)]\s*", "", s)
        key = norm_text(t)
        if key in code_of:
            rule = None if t == s and s in f.options else "label_alias"
            return code_of[key], rule
        if f.other and (t.startswith(("其他", "其它")) or "〖" in t):
            return "other", None
        if f.other:
            return "other", "free_text_as_other"
        return None, "fail:option"

    vals = _decode_with(sh, ctx, f.var, fn)
    other = nz.apply(raw, lambda v: (nz.other_text(v), None))[0]
    return vals, other


def _decode_with(sh: _Sheet, ctx: _Ctx, var: str, fn) -> pd.Series:
    return _decode(sh, ctx, var, fn)


def _multi(sh: _Sheet, ctx: _Ctx, f: Field) -> tuple[pd.Series, pd.Series]:
    """A multi-select: '学习方法┋其他〖…〗' (问卷星 按文本) or one 0/1 column per option."""
    n = sh.rs.n
    codes = list(f.codes or f.options)
    code_of = f.code_of()
    if f.var in sh.cm.single:
        raw = sh.rs.col(sh.cm.single[f.var])

        def fn(x):
            if nz.skip(x):
                return None, ("skip_marker" if not nz.is_blank(x) else None)
            parts = [p.strip() for p in re.split(r"[┋|;；,，、]", str(x)) if p.strip()]
            got, bad = set(), []
            for p in parts:
                key = norm_text(re.sub(r"〖.*?〗", "", p))
                if key in code_of:
                    got.add(code_of[key])
                elif key in ("其他", "其它") or "〖" in p:
                    continue
                else:
                    bad.append(p)
            if bad and not got:
                return None, "fail:option"
            return ";".join(c for c in codes if c in got), (
                None if not bad else "unknown_option_dropped"
            )

        vals = _decode(sh, ctx, f.var, fn)
        return vals, nz.apply(raw, lambda v: (nz.other_text(v), None))[0]
    cols = sh.cm.options.get(f.var, {})
    if not cols:
        return pd.Series([None] * n, dtype=object), pd.Series([None] * n, dtype=object)
    chosen = np.zeros((n, len(codes)), dtype=bool)
    answered = np.zeros(n, dtype=bool)
    other = pd.Series([None] * n, dtype=object)
    for label, j in cols.items():
        col = sh.rs.col(j)
        if label == "其他":
            other = nz.apply(col, lambda v: (nz.other_text(v), None))[0]
            answered |= ~nz.apply(col, lambda v: (nz.skip(v), None))[0].to_numpy(dtype=bool)
            continue
        k = codes.index(code_of[norm_text(label)])
        on = nz.apply(col, lambda v: (_truthy(v), None))[0].to_numpy(dtype=bool)
        chosen[:, k] = on
        answered |= ~nz.apply(col, lambda v: (nz.skip(v), None))[0].to_numpy(dtype=bool)
    words = np.array(
        [";".join(c for c, on in zip(codes, row, strict=True) if on) for row in chosen],
        dtype=object,
    )
    words[~answered] = None
    ctx.log.note(
        sh.rs,
        sh.rs.file,
        f"{f.var} ({len(cols)} option columns)",
        None,
        None,
        "multi_select_columns_combined",
    )
    return pd.Series(words, dtype=object), other


def _truthy(v) -> bool:
    if nz.skip(v):
        return False
    if isinstance(v, int | float | np.integer | np.floating):
        return float(v) == 1.0
    s = str(v).strip()
    return (
        s == "1"
        or s.startswith("1〖")
        or s.startswith("〖")
        or (s not in ("0", "") and not s.isdigit())
    )


# ----------------------------------------------------------------------------- linkage


def _link(
    sh: _Sheet,
    ctx: _Ctx,
    year: int,
    *,
    gc: pd.Series | None,
    names: pd.Series | None,
    id_var: str = "student_id",
    mask: np.ndarray | None = None,
) -> np.ndarray:
    """The 学籍号 of every row (None where quarantined); logs every repair, quarantines the rest.

    ``mask`` limits linking to some rows (a group activity has no student to link).
    """
    rs, st, roster = sh.rs, sh.st, ctx.roster
    raw = sh.raw(id_var)
    n = rs.n
    out = np.full(n, None, dtype=object)
    col = sh.header_of(id_var)
    raw_vals = raw.to_numpy(dtype=object) if raw is not None else np.full(n, None, dtype=object)
    name_vals = (
        names.to_numpy(dtype=object) if names is not None else np.full(n, None, dtype=object)
    )
    gc_vals = gc.to_numpy(dtype=object) if gc is not None else np.full(n, None, dtype=object)
    log_idx, log_old, log_new, log_rule = [], [], [], []
    q_unknown, q_unknown_d, q_amb, q_amb_d = [], [], [], []
    parsed = {}
    todo = st.alive if mask is None else st.alive & mask
    # the common case first, vectorised: a well-formed 学籍号 that is on the roster
    if raw is not None:
        # exact 学籍号 on the roster: one Arrow set-membership pass, no Python per row
        text = pa.array([v if isinstance(v, str) else None for v in raw_vals], pa.string())
        exact = pc.fill_null(pc.is_in(text, value_set=roster.id_array), False).to_numpy(
            zero_copy_only=False
        )
        out[todo & exact] = raw_vals[todo & exact]
        rest = todo & ~exact
        ids, rules = nz.apply(raw[rest], lambda x: _id_ok(x, roster.ids))
        fast = np.zeros(n, dtype=bool)
        fast[np.flatnonzero(rest)[pd.notna(ids).to_numpy()]] = True
        out[fast] = ids.to_numpy(dtype=object)[pd.notna(ids).to_numpy()]
        rr = np.full(n, None, dtype=object)
        rr[rest] = rules.to_numpy(dtype=object)
        rules = pd.Series(rr, dtype=object)
        fixed = fast & pd.notna(rules).to_numpy()
        fast |= todo & exact
        if fixed.any():
            fi = np.flatnonzero(fixed)
            log_idx += fi.tolist()
            log_old += raw_vals[fi].tolist()
            log_new += out[fi].tolist()
            log_rule += rules.to_numpy(dtype=object)[fi].tolist()
        if names is not None and fast.any():
            yr = np.full(fast.sum(), year)
            rn = np.array(
                [roster.name_of.get((y, i)) for y, i in zip(yr, out[fast], strict=True)],
                dtype=object,
            )
            nm_fast = name_vals[fast]
            differ = np.array(
                [
                    a is not None and b is not None and a != b and nz.name(a)[0] != b
                    for a, b in zip(nm_fast, rn, strict=True)
                ],
                dtype=bool,
            )
            if differ.any():
                di = np.flatnonzero(fast)[differ]
                ctx.log.add(
                    rs,
                    di,
                    sh.header_of("name"),
                    nm_fast[differ],
                    rn[differ],
                    "name_differs_from_roster",
                )
        todo = todo & ~fast
    for i in np.flatnonzero(todo):
        x = raw_vals[i]
        key = (type(x), x)
        if key not in parsed:
            parsed[key] = nz.student_id(x)
        val, rule, status = parsed[key]
        nm, g = name_vals[i], gc_vals[i]
        sid, why = None, None
        if status == "ok" and val in roster.ids:
            sid = val
        elif status == "no_prefix":
            c = roster.by_digits.get(val, [])
            if len(c) == 1:
                sid, rule = c[0], "id_prefix_added"
        elif status == "mangled":
            c = roster.mangled(val, year, nm, g)
            if len(c) == 1:
                sid, rule = c[0], "id_sci_recovered"
            else:
                q_amb.append(i)
                q_amb_d.append(f"学籍号 damaged by Excel ({x}); {len(c)} roster students fit")
                continue
        if sid is None:
            hits, how = roster.lookup(year, nm, g)
            if len(hits) == 1:
                sid, rule = hits[0], f"linked_by_{how.replace('+', '_')}"
            elif len(hits) > 1:
                q_amb.append(i)
                q_amb_d.append(f"{len(hits)} students match {how}: " + ", ".join(hits[:5]))
                continue
            else:
                q_unknown.append(i)
                why = {
                    "ok": "学籍号 not on the roster",
                    "no_prefix": "学籍号 not on the roster",
                    "invalid": "学籍号 invalid (check digit/format)",
                    "missing": "学籍号 missing",
                }.get(status, status)
                q_unknown_d.append(
                    f"{why}; no roster student named {nm!r}" + (f" in class {g}" if g else "")
                )
                continue
        out[i] = sid
        if rule:
            log_idx.append(i)
            log_old.append(x)
            log_new.append(sid)
            log_rule.append(rule)
        rn = roster.name_of.get((year, sid))
        if nm and rn and nm != rn and nz.name(nm)[0] != rn:
            ctx.log.add(rs, [i], sh.header_of("name"), [nm], [rn], "name_differs_from_roster")
    ctx.log.add(rs, log_idx, col, log_old, log_new, np.asarray(log_rule, dtype=object))
    st.student_id[:] = out
    st.quarantine(q_unknown, "unknown_student", q_unknown_d)
    st.quarantine(q_amb, "ambiguous_student", q_amb_d)
    return out


def _id_ok(x, on_roster: set):
    """A well-formed 学籍号 found on the roster (the fast path of linkage), else None."""
    v, rule, status = nz.student_id(x)
    return (v, rule) if status == "ok" and v in on_roster else (None, None)


def _dedupe(
    sh: _Sheet,
    ctx: _Ctx,
    sids: np.ndarray,
    keys: list,
    completeness: np.ndarray,
    submitted: np.ndarray | None,
):
    """Repeated submissions of one student: keep the latest complete one, merge the others."""
    alive = np.flatnonzero(sh.st.alive & pd.notna(sids))
    if not len(alive):
        return
    df = pd.DataFrame(
        {
            "i": alive,
            "sid": sids[alive],
            "c": completeness[alive],
            "t": submitted[alive] if submitted is not None else np.zeros(len(alive)),
            **{f"k{j}": np.asarray(k, dtype=object)[alive] for j, k in enumerate(keys)},
        }
    )
    df["complete"] = df["c"] >= COMPLETE
    keycols = ["sid", *[f"k{j}" for j in range(len(keys))]]
    dup = df[df.duplicated(keycols, keep=False)].copy()
    if dup.empty:
        return
    # rank within each group: complete before incomplete, then most answered, then latest
    dup["g"] = dup.groupby(keycols, sort=False, dropna=False).ngroup()
    order = dup.sort_values(["g", "complete", "c", "t", "i"], kind="stable")
    keep = order.groupby("g", sort=False)["i"].last()
    dup["keep"] = dup["g"].map(keep)
    merged = dup[dup["i"] != dup["keep"]]
    pointer = {int(k): sh.rs.where(int(k)) for k in keep.to_numpy()}
    for i, k in zip(
        merged["i"].to_numpy(dtype=np.int64), merged["keep"].to_numpy(dtype=np.int64), strict=True
    ):
        sh.st.merge([i], pointer[int(k)])


class _Seen:
    """Hashes of the records of one daily log read so far, with where each was first read.

    A sorted array plus a few recent chunks, merged now and then: memory is two int64 per
    record, and a district's thousands of sheets are not each compared with a copy of all."""

    def __init__(self):
        self.h = np.zeros(0, np.uint64)
        self.ref = np.zeros(0, np.int64)
        self.recent: list[tuple[np.ndarray, np.ndarray]] = []

    def _settle(self, force=False):
        n_recent = sum(len(h) for h, _ in self.recent)
        if self.recent and (force or n_recent > max(100_000, len(self.h) // 4)):
            h = np.concatenate([self.h, *(h for h, _ in self.recent)])
            ref = np.concatenate([self.ref, *(r for _, r in self.recent)])
            order = np.argsort(h, kind="stable")
            self.h, self.ref, self.recent = h[order], ref[order], []

    def find(self, h: np.ndarray) -> np.ndarray:
        """The first reference of each hash, or -1."""
        self._settle(force=len(self.recent) > 8)
        out = np.full(len(h), -1, np.int64)
        if len(self.h):
            pos = np.searchsorted(self.h, h).clip(0, len(self.h) - 1)
            hit = self.h[pos] == h
            out[hit] = self.ref[pos[hit]]
        for rh, rr in self.recent:
            m = pd.Index(rh).get_indexer(h)  # recent chunks hold each hash once
            hit = (m >= 0) & (out < 0)
            out[hit] = rr[m[hit]]
        return out

    def add(self, h: np.ndarray, ref: np.ndarray):
        if len(h):
            self.recent.append((h, ref))
            self._settle()


def _merge_exact_duplicates(ctx: _Ctx, sh: _Sheet, df: pd.DataFrame, table: str) -> None:
    """Merge records of a daily log (mood, activities) that repeat one already read, exactly.

    The same rows pasted twice in one file, or one file handed over again under another name
    and listed as another source, would count each day two or three times (a participation
    rate of 266.8%). Each repeat becomes ``merged`` (reason ``exact_duplicate``) into its first
    copy, and the cleaning log counts them per sheet.
    """
    alive = np.flatnonzero(sh.st.alive)
    if not len(alive):
        return
    h = pd.util.hash_pandas_object(df.iloc[alive], index=False).to_numpy(np.uint64)
    seen = ctx.seen.setdefault(table, _Seen())
    before = seen.find(h)
    first_here = ~pd.Series(h).duplicated().to_numpy()
    own = (np.int64(sh.k) << 32) | alive.astype(np.int64)
    seen.add(h[first_here & (before < 0)], own[first_here & (before < 0)])
    # every copy points at the first copy ever read: an earlier sheet's, or this one's
    first_ref = pd.Series(own[first_here], index=h[first_here])
    ref = np.where(before >= 0, before, first_ref.reindex(h).to_numpy())
    dup = ref != own
    if not dup.any():
        return
    idx = alive[dup]
    pointers = {}
    for r in np.unique(ref[dup]):
        k, i = int(r) >> 32, int(r) & 0xFFFFFFFF
        pointers[int(r)] = ctx.statuses[k].rs.where(i)
    sh.st.merge(idx, np.array([pointers[int(r)] for r in ref[dup]], dtype=object))
    sh.st.reason[idx] = "exact_duplicate"
    first = pointers[int(ref[dup][0])]
    ctx.log.note(
        sh.rs,
        sh.rs.file,
        None,
        f"{len(idx)} rows",
        f"merged into their first copies (first: {first})",
        "exact_duplicate",
    )


def _window(cfg: StudyConfig) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Dates a study's records can carry: its school years (1 September to 31 August), with one
    month before the first for the preparations of a new year (groups formed in August).

    A date before it (an Excel serial of the spring before the study, 1900) or after it (2099)
    would give a record a school year the study does not have."""
    return pd.Timestamp(min(cfg.years), 8, 1), pd.Timestamp(max(cfg.years) + 1, 8, 31, 23, 59, 59)


def _dates_in_study(sh: _Sheet, ctx: _Ctx, var: str, dates: pd.Series) -> pd.Series:
    """Set dates outside the study's years (2099, 1900) missing, and log each one."""
    lo, hi = _window(ctx.cfg)
    bad = (dates.notna() & ((dates < lo) | (dates > hi))).to_numpy()
    if bad.any():
        idx = np.flatnonzero(bad)
        raw = sh.raw(var)
        ctx.log.add(
            sh.rs,
            idx,
            sh.header_of(var),
            raw.to_numpy(dtype=object)[idx] if raw is not None else dates.to_numpy()[idx],
            None,
            "date_outside_study",
        )
        dates = dates.mask(bad)
    return dates


AGE_RANGE = (5, 20)  # plausible ages of a pupil at the start of a school year


def _plausible_birth_dates(sh: _Sheet, ctx: _Ctx, dates: pd.Series, year: int) -> pd.Series:
    """Birth dates that make a pupil younger than 5 or older than 20 on 1 September of the
    roster's school year are logged and set missing (the row stays)."""
    start = pd.Timestamp(year, 9, 1)
    age = (
        start.year
        - dates.dt.year
        - ((dates.dt.month > 9) | ((dates.dt.month == 9) & (dates.dt.day > 1)))
    )
    bad = (dates.notna() & ((age < AGE_RANGE[0]) | (age > AGE_RANGE[1]))).to_numpy()
    if bad.any():
        idx = np.flatnonzero(bad)
        ctx.log.add(
            sh.rs,
            idx,
            sh.header_of("birth_date"),
            sh.raw("birth_date").to_numpy(dtype=object)[idx],
            None,
            "implausible_birth_date",
        )
        dates = dates.mask(bad)
    return dates


def _two_classes(sh: _Sheet, ids: np.ndarray, gc: pd.Series) -> None:
    """A 学籍号 listed in two classes of one roster is not a repeated submission: quarantine
    every row of it, naming the classes (which one is right is for the school to say)."""
    alive = sh.st.alive & pd.notna(ids) & gc.notna().to_numpy()
    df = pd.DataFrame({"sid": ids[alive], "gc": gc.to_numpy(dtype=object)[alive]})
    if df.empty:
        return
    classes = df.groupby("sid")["gc"].agg(lambda v: sorted(set(v)))
    two = classes[classes.map(len) > 1]
    if two.empty:
        return
    rows = np.flatnonzero(alive)[df["sid"].isin(two.index).to_numpy()]
    sh.st.quarantine(
        rows,
        "two_classes_in_roster",
        [f"学籍号 listed in classes {' and '.join(two[ids[i]])} of this roster" for i in rows],
    )


# ----------------------------------------------------------------------------- kinds


def _open(ctx: _Ctx, src: Source):
    cb = load_codebook(src.codebook, base=ctx.cfg.root)
    if cb.kind != src.kind:
        raise InputError(
            f"codebook {cb.name!r} is for {cb.kind} sources, not {src.kind}", file="study.toml"
        )
    raws = []
    for sheet, cells, enc in read_file(
        ctx.cfg.root / src.path,
        src.path,
        sheet=src.sheet,
        encoding=src.encoding,
        reader=ctx.reader,
        limits=ctx.cfg.limits,
    ):
        if cells.empty:
            ctx.log.note(None, src.path, None, sheet, None, "empty_sheet_skipped")
            continue
        raws.append(to_raw_sheet(cells, src.path, sheet, enc, cb))
    out = []
    for rs in combine_sheets(raws):  # sheets sharing a header are read as one
        cm = match_columns(rs.header, cb, file=src.path, sheet=rs.sheet)
        sh = _Sheet(src, rs, cb, cm, _Status(rs, src.kind), k=len(ctx.statuses))
        ctx.statuses.append(sh.st)
        if rs.encoding:
            ctx.log.note(rs, src.path, None, None, rs.encoding, "encoding_detected")
        for note in rs.notes:
            ctx.log.note(rs, src.path, None, None, note, "header_row")
        if cm.unmatched:
            ctx.log.note(rs, src.path, None, "; ".join(cm.unmatched[:20]), None, "columns_ignored")
        out.append(sh)
    return out


def _year_of(src: Source, *, required=True) -> int | None:
    if src.year is None and required:
        raise InputError(f"a {src.kind} source needs year = ... in study.toml", file=src.path)
    return src.year


def _gc_series(sh: _Sheet, ctx: _Ctx) -> pd.Series:
    """'g-c' per row from a combined 班级 column, or from separate 年级 + 班级 columns."""
    if "grade" not in sh.cm.single:
        if "grade_class" in sh.cm.single:
            return _decode(sh, ctx, "grade_class", nz.grade_class)
        return pd.Series([None] * sh.rs.n, dtype=object)
    g = _decode(sh, ctx, "grade", nz.grade).to_numpy(dtype=object)
    if "grade_class" not in sh.cm.single:
        return pd.Series([None] * sh.rs.n, dtype=object)

    def combine(pair):
        if pair is None:
            return None, None
        gg, x = pair
        whole, rule = nz.grade_class(x)  # a class cell may still say 三年级2班
        if whole:
            return whole, rule
        c, rule = nz.class_number(x)
        if c is None or gg is None:
            return None, "fail:grade_class"
        return f"{int(gg)}-{int(c)}", rule

    raw = sh.raw("grade_class")
    pairs = pd.Series(list(zip(g, raw.to_numpy(dtype=object), strict=True)), dtype=object)
    vals, rules = nz.apply(pairs, combine)
    _log_rules(sh, ctx, sh.header_of("grade_class"), raw, vals, rules)
    return vals


def _clean_students(ctx: _Ctx, sh: _Sheet):
    rs, st = sh.rs, sh.st
    year = _year_of(sh.src)
    ids = []
    idx_fix, old, new, rules = [], [], [], []
    raw = sh.raw("student_id")
    for i, x in enumerate(raw.to_numpy(dtype=object)):
        v, rule, status = nz.student_id(x)
        if status == "no_prefix":
            v, rule = "G" + v, "id_prefix_added"
        elif status != "ok":
            ids.append(None)
            st.quarantine([i], "invalid_roster_id", f"学籍号 {x!r} is {status}")
            continue
        ids.append(v)
        if rule:
            idx_fix.append(i)
            old.append(x)
            new.append(v)
            rules.append(rule)
    ctx.log.add(rs, idx_fix, sh.header_of("student_id"), old, new, np.asarray(rules, dtype=object))
    ids = np.asarray(ids, dtype=object)
    st.student_id[:] = ids
    gc = _gc_series(sh, ctx)
    bad = st.alive & gc.isna().to_numpy()
    st.quarantine(np.flatnonzero(bad), "no_grade_class", "年级/班级 unreadable")
    _two_classes(sh, ids, gc)
    _dedupe(sh, ctx, ids, [np.full(rs.n, year)], np.ones(rs.n), None)
    cols = {"student_id": ids, "year": year}
    cols["name"] = _decode(sh, ctx, "name", nz.name)
    cols["gender"] = _decode(sh, ctx, "gender", nz.gender)
    cols["birth_date"] = _plausible_birth_dates(
        sh, ctx, pd.to_datetime(_decode(sh, ctx, "birth_date", nz.date_), errors="coerce"), year
    )
    g = [int(x.split("-")[0]) if x else None for x in gc]
    c = [int(x.split("-")[1]) if x else None for x in gc]
    cols["grade"], cols["class_no"] = g, c
    for var in ("transfer", "left_behind", "mentee"):
        cols[var] = _decode(sh, ctx, var, nz.boolean) if var in sh.cm.single else None
    fam, _ = _single(sh, ctx, sh.cb.field("family"))
    cols["family"] = fam
    cols["home_area"] = _decode(sh, ctx, "home_area", nz.text)
    num = _field_fn(sh.cb.field("height_cm"), sh.cb, ctx, survey=False)
    cols["height_cm"] = _decode(sh, ctx, "height_cm", num)
    cols["weight_kg"] = _decode(
        sh, ctx, "weight_kg", _field_fn(sh.cb.field("weight_kg"), sh.cb, ctx, survey=False)
    )
    df = pd.DataFrame(cols)
    ctx.emit("students", df[st.alive], sh)


def _clean_staff(ctx: _Ctx, sh: _Sheet):
    year = _year_of(sh.src)
    cb = sh.cb
    cols = {
        "staff_id": _decode(sh, ctx, "staff_id", nz.staff_id),
        "year": year,
        "name": _decode(sh, ctx, "name", nz.name),
        "gender": _decode(sh, ctx, "gender", nz.gender),
    }
    cols["role"], _ = _single(sh, ctx, cb.field("role"))
    cols["subject"], _ = _single(sh, ctx, cb.field("subject"))
    cols["grade"] = _decode(sh, ctx, "grade", nz.grade) if "grade" in sh.cm.single else None
    for var in ("link_class", "homeroom"):
        cols[var] = _decode(sh, ctx, var, nz.grade_class) if var in sh.cm.single else None
    cols["classes"] = (
        _decode(sh, ctx, "classes", _class_list) if "classes" in sh.cm.single else None
    )
    if (
        cols["grade"] is None and cols["link_class"] is not None
    ):  # primary: the grade of the linked class
        cols["grade"] = cols["link_class"].map(
            lambda v: int(v.split("-")[0]) if isinstance(v, str) else None
        )
    cols["training_hours"] = _decode(
        sh, ctx, "training_hours", _field_fn(cb.field("training_hours"), cb, ctx, survey=False)
    )
    cols["certified"] = _decode(sh, ctx, "certified", nz.boolean)
    cols["backbone"] = _decode(sh, ctx, "backbone", nz.boolean)
    cols["strengths"], _ = _multi(sh, ctx, cb.field("strengths"))
    df = pd.DataFrame(cols)
    missing = df["staff_id"].isna().to_numpy() & sh.st.alive
    sh.st.quarantine(np.flatnonzero(missing), "no_staff_id", "工号 missing")
    _dedupe(
        sh,
        ctx,
        df["staff_id"].to_numpy(dtype=object),
        [np.full(len(df), year)],
        np.ones(len(df)),
        None,
    )
    ctx.emit("staff", df[sh.st.alive], sh)


def _class_list(x):
    if nz.is_blank(x):
        return None, None
    parts = [p for p in re.split(r"[、,，;；/\s]+", nz.text(x)[0]) if p]
    out = []
    for p in parts:
        v, _ = nz.grade_class(p)
        if v is None:
            return None, "fail:class_list"
        out.append(v)
    return ";".join(out), "class_list"


def _mentor_ids(sh: _Sheet, ctx: _Ctx, year: int) -> np.ndarray:
    mid = _decode(sh, ctx, "mentor_id", nz.staff_id).to_numpy(dtype=object)
    known = ctx.staff_ids.get(year, set())
    bad = np.array([m is not None and m not in known for m in mid], dtype=bool) & sh.st.alive
    sh.st.quarantine(
        np.flatnonzero(bad),
        "unknown_mentor",
        [f"工号 {m} not on the {year} staff roster" for m in mid[bad]],
    )
    miss = np.array([m is None for m in mid], dtype=bool) & sh.st.alive
    sh.st.quarantine(np.flatnonzero(miss), "no_mentor", "导师工号 missing")
    return mid


def _clean_groups(ctx: _Ctx, sh: _Sheet):
    rs = sh.rs
    years = _decode(sh, ctx, "year", nz.school_year)
    year = sh.src.year
    yv = (
        years.fillna(year).to_numpy(dtype=object)
        if year is not None
        else years.to_numpy(dtype=object)
    )
    terms = _decode(sh, ctx, "term", nz.term).to_numpy(dtype=object)
    y0 = year if year is not None else next((int(v) for v in yv if v is not None), None)
    if y0 is None:
        raise InputError("no school year (学年 column or year = in study.toml)", file=rs.file)
    gc = _gc_series(sh, ctx)
    names = _decode(sh, ctx, "name", nz.name)
    sids = _link(sh, ctx, y0, gc=gc, names=names)
    mids = _mentor_ids(sh, ctx, y0)
    start = _dates_in_study(
        sh,
        ctx,
        "start_date",
        pd.to_datetime(_decode(sh, ctx, "start_date", nz.date_), errors="coerce"),
    )
    reason, rtext = (
        _single(sh, ctx, sh.cb.field("reason"))
        if "reason" in sh.cm.single
        else (pd.Series([None] * rs.n), None)
    )
    # an identical row pasted twice is merged into its first copy
    key = pd.DataFrame({"s": sids, "m": mids, "t": terms, "y": yv}).astype(str)
    dup = key.duplicated(keep="first").to_numpy() & sh.st.alive
    first_of = key.groupby(list(key.columns), sort=False).ngroup().to_numpy()
    firsts = {}
    for i in range(rs.n):
        firsts.setdefault(first_of[i], i)
    for i in np.flatnonzero(dup):
        sh.st.merge([i], rs.where(firsts[first_of[i]]))
    df = pd.DataFrame(
        {
            "student_id": sids,
            "year": [int(v) if v is not None else y0 for v in yv],
            "term": terms,
            "mentor_id": mids,
            "start_date": start,
            "reason": reason,
        }
    )
    df["regroup"] = (df["term"] == 2) | df["reason"].notna()
    ctx.emit("assignments", df[sh.st.alive], sh)


def _survey_common(ctx: _Ctx, sh: _Sheet):
    """Identity, linkage and the submission time of a survey export."""
    year = _year_of(sh.src)
    gc = _gc_series(sh, ctx)
    names = _decode(sh, ctx, "name", nz.name)
    sids = _link(sh, ctx, year, gc=gc, names=names)
    j = sh.cm.system.get("submitted_at")
    sub = (
        pd.to_datetime(sh.rs.col(j).map(lambda v: nz.date_(v, with_time=True)[0]), errors="coerce")
        if j is not None
        else pd.Series(pd.NaT, index=range(sh.rs.n))
    )
    return year, sids, sub


def _clean_assessment(ctx: _Ctx, sh: _Sheet):
    rs, cb, st = sh.rs, sh.cb, sh.st
    year, sids, sub = _survey_common(ctx, sh)
    items = list(cb.items)
    vals = {}
    for f in items:
        fn = _field_fn(f, cb, ctx)
        vals[f.var] = _decode(sh, ctx, f.var, fn)
    for f in cb.attention_checks:
        ans = _decode(sh, ctx, f.var, _field_fn(f, cb, ctx)).to_numpy(dtype=object)
        failed = np.array([a is not None and a != f.attention for a in ans], dtype=bool) & st.alive
        if ctx.attention == "quarantine":
            st.quarantine(
                np.flatnonzero(failed),
                "attention_check_failed",
                [f"{f.var} answered {a}, expected {f.attention}" for a in ans[failed]],
            )
        elif failed.any():
            ctx.log.add(
                rs,
                np.flatnonzero(failed),
                sh.header_of(f.var),
                ans[failed],
                None,
                "attention_check_failed_flagged",
            )
    answered = (
        np.column_stack([vals[f.var].notna().to_numpy() for f in items]).mean(1)
        if items
        else np.ones(rs.n)
    )
    _dedupe(sh, ctx, sids, [], answered, sub.to_numpy())
    keep = np.flatnonzero(st.alive)
    wave = sh.src.wave
    k = len(items)
    mat = (
        np.column_stack([vals[f.var].to_numpy(dtype=object)[keep] for f in items])
        if k
        else np.zeros((len(keep), 0))
    )
    long = pd.DataFrame(
        {
            "student_id": np.repeat(sids[keep], k),
            "year": year,
            "wave": wave,
            "dimension": np.tile([f.dimension for f in items], len(keep)),
            "item": np.tile([f.var for f in items], len(keep)),
            "value": pd.array([None if v is None else int(v) for v in mat.ravel()], dtype="Int64"),
        }
    )
    ctx.emit("assessment_items", long, sh, rows=np.repeat(keep, k))


def _clean_needs(ctx: _Ctx, sh: _Sheet):
    cb, st = sh.cb, sh.st
    year, sids, sub = _survey_common(ctx, sh)
    cols = {"student_id": sids, "year": year}
    others = []
    for var in ("weak_areas", "help_wanted", "interests"):
        cols[var], other = _multi(sh, ctx, cb.field(var))
        others.append(other)
    txt = (
        pd.concat(others, axis=1).apply(
            lambda r: "；".join(x for x in r if isinstance(x, str)) or None, axis=1
        )
        if len(others) and sh.rs.n
        else pd.Series([None] * sh.rs.n, dtype=object)
    )
    cols["other_text"] = txt.to_numpy(dtype=object) if len(txt) else None
    cols["submitted_at"] = sub.to_numpy()
    for k in (1, 2, 3):
        var = f"pref_{k}"
        if cb.has(var):
            cols[var] = _staff_choice(sh, ctx, var, year)
    df = pd.DataFrame(cols)
    answered = df[["weak_areas", "help_wanted", "interests"]].notna().mean(axis=1).to_numpy()
    _dedupe(sh, ctx, sids, [], answered, sub.to_numpy())
    ctx.emit("needs", df[st.alive], sh)


def _staff_choice(sh: _Sheet, ctx: _Ctx, var: str, year: int) -> np.ndarray:
    """A chosen mentor written as '张伟（数学）' -> 工号, by name (and subject) on the staff roster."""
    raw = sh.raw(var)
    if raw is None:
        return np.full(sh.rs.n, None, dtype=object)
    subj_of = {v: k for k, v in _SUBJECT_ZH.items()}

    def fn(x):
        if nz.skip(x):
            return None, None
        s = nz.text(x)[0]
        m = re.match(r"^(.+?)\s*[(（](.+)[)）]$", s)
        nm, subj = (m.group(1), subj_of.get(m.group(2))) if m else (s, None)
        hits = ctx.staff_by_name.get((year, nz.name(nm)[0]), [])
        if subj and len(hits) > 1:
            hits = [h for h in hits if h[1] == subj]
        if len(hits) == 1:
            return hits[0][0], None
        return None, "fail:mentor_not_found" if not hits else "fail:mentor_ambiguous"

    return _decode(sh, ctx, var, fn).to_numpy(dtype=object)


_SUBJECT_ZH = option_labels("staff", "subject")


def _clean_satisfaction(ctx: _Ctx, sh: _Sheet):
    cb, st = sh.cb, sh.st
    year, sids, sub = _survey_common(ctx, sh)
    term = sh.src.term
    if term is None:
        raise InputError("a satisfaction source needs term = 1 or 2 in study.toml", file=sh.rs.file)
    cols = {"student_id": sids, "year": year, "term": term}
    items = [f for f in cb.fields if f.type == "likert"]
    for f in items:
        cols[f.var] = pd.array(
            _decode(sh, ctx, f.var, _field_fn(f, cb, ctx)).to_numpy(dtype=object), dtype="Int64"
        )
    mat = pd.DataFrame({f.var: cols[f.var] for f in items}).astype("Float64")
    cols["satisfaction"] = mat.mean(axis=1, skipna=True).to_numpy(dtype=float, na_value=np.nan)
    cols["want_change"] = _decode(
        sh, ctx, "want_change", _bool_field(cb.field("want_change"))
    ).to_numpy(dtype=object)
    reason, rtext = _single(sh, ctx, cb.field("reason"))
    cols["reason"] = reason.to_numpy(dtype=object)
    cols["reason_text"] = rtext.to_numpy(dtype=object)
    cols["submitted_at"] = sub.to_numpy()
    df = pd.DataFrame(cols)
    answered = mat.notna().mean(axis=1).to_numpy()
    _dedupe(sh, ctx, sids, [], answered, sub.to_numpy())
    ctx.emit("satisfaction", df[st.alive], sh)


def _clean_exams(ctx: _Ctx, sh: _Sheet):
    rs, cb, st = sh.rs, sh.cb, sh.st
    year = _year_of(sh.src)
    term = sh.src.term
    if term is None:
        raise InputError("an exams source needs term = 1 or 2 in study.toml", file=rs.file)
    gc = _gc_series(sh, ctx)
    if gc.isna().all() and rs.sheet:  # one sheet per class: the sheet name is the class
        names_of = pd.Series(rs.sheet_at(np.arange(rs.n)), dtype=object)
        gc, _ = nz.apply(names_of, nz.grade_class)
    names = _decode(sh, ctx, "name", nz.name)
    sids = _link(sh, ctx, year, gc=gc, names=names)
    opts = cb.options or {}
    absent, exempt = set(opts.get("absent", [])), set(opts.get("exempt", []))
    frames = []
    for f in cb.fields:
        if f.type != "score" or f.var not in sh.cm.single:
            continue
        lo, hi = f.range or (0, 100)
        raw = sh.raw(f.var)

        def fn(x, lo=lo, hi=hi):
            if isinstance(x, str) and x.strip() in absent | exempt:
                return ("absent" if x.strip() in absent else "exempt"), None
            if nz.is_blank(x):
                return None, None
            v, rule = nz.number(x, lo=lo, hi=hi)
            return v, ("out_of_range" if rule == "fail:out_of_range" else rule)

        vals = _decode(sh, ctx, f.var, fn)
        status = vals.map(lambda v: v if isinstance(v, str) else ("sat" if v is not None else None))
        score = vals.map(lambda v: None if isinstance(v, str) else v)
        took = raw.notna().to_numpy()
        frames.append(
            pd.DataFrame(
                {
                    "i": np.arange(rs.n),
                    "student_id": sids,
                    "year": year,
                    "term": term,
                    "subject": f.subject,
                    "score": score.astype(float).to_numpy(),
                    "status": status.to_numpy(dtype=object),
                }
            )[took]
        )
    dup_key = pd.Series(sids).astype(str)
    dup = dup_key.duplicated(keep="first").to_numpy() & st.alive & pd.notna(sids)
    first = {}
    for i, k in enumerate(dup_key):
        first.setdefault(k, i)
    for i in np.flatnonzero(dup):
        st.merge([i], rs.where(first[dup_key[i]]))
    if frames:
        df = pd.concat(frames, ignore_index=True)
        df = df[st.alive[df["i"].to_numpy()]]
        df["status"] = df["status"].fillna("invalid")  # an unreadable score stays visible
        ctx.emit("exams", df.drop(columns="i"), sh, rows=df["i"].to_numpy())


def _clean_activities(ctx: _Ctx, sh: _Sheet):
    rs, cb, st = sh.rs, sh.cb, sh.st
    dates = _dates_in_study(
        sh, ctx, "date", pd.to_datetime(_decode(sh, ctx, "date", nz.date_), errors="coerce")
    )
    bad = dates.isna().to_numpy() & st.alive
    st.quarantine(np.flatnonzero(bad), "no_date", "日期 missing or unreadable")
    year = sh.src.year
    ys = (dates.dt.year - (dates.dt.month < 9)).astype("Int64")
    y0 = year if year is not None else int(ys.dropna().mode().iloc[0]) if ys.notna().any() else None
    mids = _mentor_ids(sh, ctx, y0)
    has_student = sh.raw("student_id").notna().to_numpy() | (
        sh.raw("name").notna().to_numpy() if sh.raw("name") is not None else False
    )
    sids = np.full(rs.n, None, dtype=object)
    if has_student.any():  # group activities (counselling, case conferences) have no student
        names = _decode(sh, ctx, "name", nz.name) if sh.raw("name") is not None else None
        sids = _link(sh, ctx, y0, gc=None, names=names, mask=has_student)
    act, _ = _single(sh, ctx, cb.field("activity"))
    bad = act.isna().to_numpy() & st.alive
    st.quarantine(np.flatnonzero(bad), "unknown_activity", "活动类型 not recognised")
    mode, _ = (
        _single(sh, ctx, cb.field("mode"))
        if "mode" in sh.cm.single
        else (pd.Series([None] * rs.n), None)
    )
    dur = (
        _decode(sh, ctx, "duration_min", _field_fn(cb.field("duration_min"), cb, ctx, survey=False))
        if "duration_min" in sh.cm.single
        else pd.Series([None] * rs.n)
    )
    df = pd.DataFrame(
        {
            "mentor_id": mids,
            "student_id": sids,
            "date": dates,
            "year": ys,
            "term": np.where(dates.dt.month.isin([9, 10, 11, 12, 1]), 1, 2),
            "activity": act.to_numpy(dtype=object),
            "mode": mode.to_numpy(dtype=object),
            "duration_min": pd.array(dur.to_numpy(dtype=object), dtype="Float64"),
        }
    )
    _merge_exact_duplicates(ctx, sh, df, "activities")
    ctx.emit("activities", df[st.alive], sh)


def _clean_rewards(ctx: _Ctx, sh: _Sheet):
    cb, st = sh.cb, sh.st
    dates = _dates_in_study(
        sh, ctx, "date", pd.to_datetime(_decode(sh, ctx, "date", nz.date_), errors="coerce")
    )
    st.quarantine(
        np.flatnonzero(dates.isna().to_numpy() & st.alive), "no_date", "日期 missing or unreadable"
    )
    ys = (dates.dt.year - (dates.dt.month < 9)).astype("Int64")
    y0 = sh.src.year if sh.src.year is not None else int(ys.dropna().mode().iloc[0])
    gc = _gc_series(sh, ctx)
    names = _decode(sh, ctx, "name", nz.name)
    sids = _link(sh, ctx, y0, gc=gc, names=names)
    kind, _ = _single(sh, ctx, cb.field("kind"))
    pts = _decode(sh, ctx, "points", _field_fn(cb.field("points"), cb, ctx, survey=False))
    st.quarantine(
        np.flatnonzero(kind.isna().to_numpy() & st.alive), "unknown_kind", "类别 not recognised"
    )
    df = pd.DataFrame(
        {
            "student_id": sids,
            "date": dates,
            "year": ys,
            "term": np.where(dates.dt.month.isin([9, 10, 11, 12, 1]), 1, 2),
            "kind": kind.to_numpy(dtype=object),
            "reason": _decode(sh, ctx, "reason", _text_or_skip).to_numpy(dtype=object),
            "points": pd.array(pts.to_numpy(dtype=object), dtype="Float64"),
        }
    )
    ctx.emit("rewards", df[st.alive], sh)


def _clean_mood(ctx: _Ctx, sh: _Sheet):
    rs, cb, st = sh.rs, sh.cb, sh.st
    opts = cb.options
    pat = re.compile(opts.get("day_column", r"^(\d{1,2})日$"))
    day_cols = [(j, int(m.group(1))) for j, h in enumerate(rs.header) if (m := pat.match(h))]
    codes = list(opts.get("codes", []))
    colour = {c: k for c, k in zip(opts.get("colours", []), codes, strict=True)}
    colour.update(opts.get("aliases", {}))
    months = _decode(sh, ctx, "month", nz.month)
    as_date = pd.to_datetime(months.map(lambda m: f"{m}-01" if m else None), errors="coerce")
    months = months.mask(_dates_in_study(sh, ctx, "month", as_date).isna().to_numpy(), None)
    gc = _gc_series(sh, ctx)
    names = _decode(sh, ctx, "name", nz.name)
    year = sh.src.year
    y_of = months.map(lambda m: int(m[:4]) - (int(m[5:7]) < 9) if m else None)
    y0 = year if year is not None else int(y_of.dropna().mode().iloc[0])
    sids = _link(sh, ctx, y0, gc=gc, names=names)
    st.quarantine(
        np.flatnonzero(months.isna().to_numpy() & st.alive),
        "no_month",
        "月份 missing or unreadable",
    )
    counts = np.zeros((rs.n, len(codes)), dtype=np.int16)
    recorded = np.zeros((rs.n, 31), dtype=bool)
    for j, day in day_cols:
        col = rs.col(j)

        def fn(x):
            if nz.is_blank(x):
                return None, None
            s = nz.text(x)[0]
            if s in colour:
                return colour[s], (None if s in opts.get("colours", []) else "label_alias")
            return None, "fail:colour"

        vals = nz.apply(col, fn)
        v, rules = vals
        has = rules.notna().to_numpy()
        if has.any():
            idx = np.flatnonzero(has)
            r = rules.to_numpy(dtype=object)[idx]
            ctx.log.add(
                rs,
                idx,
                rs.header[j],
                col.to_numpy(dtype=object)[idx],
                np.where([x.startswith("fail:") for x in r], None, v.to_numpy(dtype=object)[idx]),
                np.array(
                    [("unreadable_colour" if x.startswith("fail:") else x) for x in r], dtype=object
                ),
            )
        arr = v.to_numpy(dtype=object)
        for k, c in enumerate(codes):
            counts[:, k] += arr == c
        recorded[:, day - 1] = pd.notna(arr)
    df = pd.DataFrame(
        {
            "student_id": sids,
            "year": y_of.to_numpy(dtype=object),
            "month": months.to_numpy(dtype=object),
            "days_recorded": recorded.sum(1),
        }
    )
    for k, c in enumerate(codes):
        df[f"n_{c}"] = counts[:, k]
    df["_days"] = (recorded.astype(np.int64) << np.arange(31)).sum(1)  # a bit per day of the month
    _merge_exact_duplicates(ctx, sh, df, "mood")
    ctx.emit("mood", df[st.alive], sh)


_KIND = {
    "students": _clean_students,
    "staff": _clean_staff,
    "groups": _clean_groups,
    "needs_survey": _clean_needs,
    "assessment": _clean_assessment,
    "satisfaction": _clean_satisfaction,
    "exams": _clean_exams,
    "activities": _clean_activities,
    "rewards": _clean_rewards,
    "mood": _clean_mood,
}


# ----------------------------------------------------------------------------- assembling


def _finish_tables(ctx: _Ctx) -> dict[str, pd.DataFrame]:
    out = {}
    for t in OUTPUT_TABLES:
        parts = [pd.read_parquet(x) if isinstance(x, Path) else x for x in ctx.parts.get(t, [])]
        out[t] = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
        ctx.parts[t] = []
    s = out["students"]
    if len(s):
        s["mentee"] = s["mentee"].astype(object)
        if ctx.cfg.level == "primary":
            s["mentee"] = s["mentee"].where(s["mentee"].notna(), True)
        else:
            a = out["assignments"]
            assigned = set(zip(a["student_id"], a["year"], strict=True)) if len(a) else set()
            s["mentee"] = s["mentee"].where(
                s["mentee"].notna(),
                pd.Series(
                    [(i, y) in assigned for i, y in zip(s["student_id"], s["year"], strict=True)]
                ),
            )
        out["students"] = s.sort_values(
            ["year", "grade", "class_no", "student_id"], ignore_index=True
        )
    m = out["mood"]
    if len(m):
        # a school day is a day someone put a sticker on the chart that month
        days = m.groupby("month")["_days"].apply(
            lambda v: int(np.bitwise_or.reduce(v.to_numpy(dtype=np.int64))).bit_count()
        )
        m.insert(3, "school_days", m["month"].map(days).astype(int))
        out["mood"] = m.drop(columns="_days")
    return _types(out)


_VOCAB = {
    "wave": ["pre", "post"],
    "activity": [
        "talk",
        "student_report",
        "three_party",
        "parent_call",
        "home_visit",
        "subject_exchange",
        "group_counselling",
        "case_conference",
    ],
    "status": ["sat", "absent", "exempt", "invalid"],
    "kind": ["reward", "penalty"],
}
_TEXT_IDS = ("student_id", "mentor_id")


def _compact_part(df: pd.DataFrame) -> pd.DataFrame:
    """A canonical part in small dtypes as it is emitted (a district's tables must fit in memory).

    Codes with a fixed vocabulary become categoricals with that vocabulary, so parts concatenate
    without losing it; IDs become Arrow-backed text; item and dimension names categoricals."""
    for c in df.columns:
        if c in _VOCAB:
            df[c] = pd.Categorical(df[c].astype(object), categories=_VOCAB[c])
        elif c in _TEXT_IDS:
            df[c] = df[c].astype(object).where(df[c].notna(), None).astype("str")
        elif c in ("subject", "mode", "month"):
            df[c] = df[c].astype("str")
        elif c in ("item", "dimension"):  # a codebook's names: few, repeated millions of times
            df[c] = df[c].astype("category")
    return df


def _types(t: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Canonical dtypes: IDs as text, nullable integers and booleans, categories for codes."""
    ints = {
        "year",
        "term",
        "grade",
        "class_no",
        "school_days",
        "days_recorded",
        "n_happy",
        "n_calm",
        "n_sad",
        "n_angry",
        "sat_1",
        "sat_2",
        "sat_3",
        "sat_4",
        "sat_5",
    }
    bools = {"transfer", "left_behind", "mentee", "certified", "backbone", "want_change", "regroup"}
    cats = {
        "gender",
        "family",
        "role",
        "subject",
        "wave",
        "dimension",
        "item",
        "status",
        "activity",
        "mode",
        "kind",
        "reason",
    }
    for df in t.values():
        for c in df.columns:
            s = df[c]
            if c in ints:
                if s.dtype != "Int64":
                    num = (
                        s
                        if pd.api.types.is_numeric_dtype(s)
                        else pd.to_numeric(s.astype(object), errors="coerce")
                    )
                    df[c] = num.astype("Int64")
            elif c in bools:
                if s.dtype != "boolean":
                    df[c] = pd.array(s.astype(object).where(s.notna(), None), dtype="boolean")
            elif c in cats:
                if not isinstance(s.dtype, pd.CategoricalDtype):
                    df[c] = s.astype(object).astype("category")
            elif c in (
                "student_id",
                "mentor_id",
                "staff_id",
                "name",
                "home_area",
                "link_class",
                "homeroom",
                "classes",
                "strengths",
                "weak_areas",
                "help_wanted",
                "interests",
                "other_text",
                "reason_text",
                "month",
                "pref_1",
                "pref_2",
                "pref_3",
            ):
                if isinstance(s.dtype, pd.CategoricalDtype):
                    df[c] = s.astype("str")
                elif not pd.api.types.is_string_dtype(s) or s.dtype == object:
                    df[c] = s.astype(object).where(s.notna(), None).astype("str")
            elif c in (
                "height_cm",
                "weight_kg",
                "training_hours",
                "score",
                "satisfaction",
                "duration_min",
                "points",
            ):
                if s.dtype != float:
                    num = (
                        s
                        if pd.api.types.is_numeric_dtype(s)
                        else pd.to_numeric(s.astype(object), errors="coerce")
                    )
                    df[c] = num.astype(float)
    return t


def _validate(ctx: _Ctx, tables: dict[str, pd.DataFrame], cfg: StudyConfig) -> pd.DataFrame:
    """pandera, lazily; a failing canonical row quarantines its raw row and everything from it."""
    acb = load_codebook(
        next(
            (s.codebook for s in cfg.sources if s.kind == "assessment"), f"assessment_{cfg.level}"
        ),
        base=cfg.root,
    )
    fails = validate_tables(  # the schemas allow the extra _sheet and _i columns
        tables,
        cfg.level,
        cfg.years,
        assessment=acb,
    )
    bad: dict[tuple[int, int], str] = {}
    for f in fails.itertuples(index=False):
        df = tables[f.table]
        if f.index is None or pd.isna(f.index) or f.index not in df.index:
            continue
        r = df.loc[f.index]
        bad.setdefault(
            (int(r["_sheet"]), int(r["_i"])), f"{f.table}.{f.column}: {f.check} ({f.failure_case})"
        )
    for (k, i), why in bad.items():
        ctx.statuses[k].quarantine([i], "schema_violation", why)
    for name, df in tables.items():
        if "_sheet" in df.columns:
            if bad:
                gone = pd.MultiIndex.from_arrays([df["_sheet"], df["_i"]]).isin(list(bad))
                df = df[~gone]
            tables[name] = df.drop(columns=["_sheet", "_i"]).reset_index(drop=True)
    return fails


def _pseudonymise(ctx: _Ctx, res: dict, key: bytes) -> dict:
    """Pseudonymise everything the cleaning writes (:mod:`mentorlib.pseudonymise`).

    ``res`` holds the canonical ``tables`` (changed in place) and the ``log``, ``row_status``,
    ``quarantine``, ``summary`` and ``validation`` frames; returns those frames scrubbed, and
    ``study_text``: the ``[study] school`` text scrubbed (for ``study.json`` and the reports)."""
    kinds: dict[tuple[str, str], str | None] = {}
    for sh in ctx.sheets:
        for var, j in sh.cm.single.items():
            t = sh.cb.field(var).type if sh.cb.has(var) else None
            k = t if t in ("student_id", "name", "staff_name", "staff_choice") else None
            k = "birth_date" if var == "birth_date" else k
            kinds[(sh.rs.file, sh.rs.header[j])] = k or header_kind(sh.rs.header[j])
        for var, j in sh.cm.system.items():
            if var in ("ip", "channel_detail"):
                kinds[(sh.rs.file, sh.rs.header[j])] = "drop"
    frames = {k: res[k] for k in ("log", "row_status", "quarantine", "summary", "validation")}
    return pseudonymise_outputs(
        res["tables"],
        key=key,
        column_kinds=kinds,
        study_text={"school": ctx.cfg.school or ""},
        **frames,
    )


def _key_of(cfg: StudyConfig) -> bytes | None:
    """The study's pseudonym key (:func:`mentorlib.pseudonymise.load_key`)."""
    return load_key(cfg)


@dataclass
class CleanResult:
    """What ``clean_study`` produced: the canonical tables and the full account of the cleaning."""

    tables: dict[str, pd.DataFrame]
    log: pd.DataFrame
    quarantine: pd.DataFrame
    row_status: pd.DataFrame
    summary: pd.DataFrame
    meta: dict
    validation: pd.DataFrame = field(default_factory=pd.DataFrame)
    out_dir: Path | None = None

    def processed(self):
        from .data import Processed

        m = self.meta
        return Processed(
            name=m["name"],
            level=m["level"],
            years=tuple(m["years"]),
            tables=self.tables,
            codebooks=m["codebooks"],
            root=self.out_dir,
            school=m.get("school", ""),
            pseudonymised=m["pseudonymised"],
            synthetic=bool(m.get("synthetic", False)),
        )


def clean_study(
    study_dir: str | Path,
    out_dir: str | Path | None = None,
    *,
    attention: str = "quarantine",
    reader: str = "calamine",
    progress=None,
) -> CleanResult:
    """Clean a study folder into canonical tables (and write them when ``out_dir`` is given).

    Parameters
    ----------
    study_dir : path
        The raw study folder with its ``study.toml``. Never written to.
    out_dir : path, optional
        Where to write (``data/processed/<study>``): the canonical tables as Parquet,
        ``cleaning_log.parquet``, ``quarantine.parquet``, ``row_status.parquet``,
        ``source_summary.csv`` and ``study.json``. Written to a temporary folder first and moved
        into place, so a failed run leaves no half-written output.
    attention : {"quarantine", "flag", "ignore"}
        What to do with a failed attention check.
    reader : {"calamine", "openpyxl"}
        The xlsx reader.
    progress : callable, optional
        Called with each source path as it is done.

    Returns
    -------
    CleanResult
    """
    t0 = time.perf_counter()
    cfg = load_config(study_dir)
    if attention not in ("quarantine", "flag", "ignore"):
        raise ValueError("attention must be 'quarantine', 'flag' or 'ignore'")
    ctx = _Ctx(cfg=cfg, attention=attention, reader=reader)
    if out_dir is not None:  # refused before any work: never replace what we did not write
        out_dir = check_output_dir(out_dir, kind="processed", raw_roots=(study_dir,))
    # spill beside the output (same file system), or in the system temporary folder
    ctx.spill_dir = make_temp_dir(None if out_dir is None else out_dir.parent, "spill")
    try:
        return _clean(ctx, cfg, t0, out_dir, attention, reader, progress)
    finally:
        shutil.rmtree(ctx.spill_dir, ignore_errors=True)


def _clean(
    ctx: _Ctx, cfg: StudyConfig, t0: float, out_dir, attention: str, reader: str, progress
) -> CleanResult:
    key = _key_of(cfg)
    sources = sorted(cfg.sources, key=lambda s: ORDER.index(s.kind))
    codebooks = {}
    for src in sources:
        if src.kind not in ("students", "staff") and ctx.roster is None:
            st = ctx.parts.get("students")
            if not st:
                raise InputError(
                    "no students roster source: every other source links to it", file="study.toml"
                )
            ctx.roster = _Roster(pd.concat(st, ignore_index=True))
            staff = pd.concat(
                ctx.parts.get(
                    "staff", [pd.DataFrame(columns=["staff_id", "year", "name", "subject"])]
                )
            )
            for y, g in staff.groupby("year"):
                ctx.staff_ids[int(y)] = set(g["staff_id"])
            for sid, y, nm, subj in zip(
                staff["staff_id"], staff["year"], staff["name"], staff["subject"], strict=True
            ):
                ctx.staff_by_name.setdefault((y, nm), []).append((sid, subj))
        codebooks.setdefault(src.kind, src.codebook)
        for sh in _open(ctx, src):
            _KIND[src.kind](ctx, sh)
            sh.st.keep_raw_of_quarantined()
            ctx.sheets.append(sh)
        if progress:
            progress(src.path)
    tables = _finish_tables(ctx)
    validation = _validate(ctx, tables, cfg)
    row_status = _concat_compact([s.frame() for s in ctx.statuses])
    qparts = [q for s in ctx.statuses if len(q := s.quarantine_frame())]
    quarantine = (
        pd.concat(qparts, ignore_index=True)
        if qparts
        else pd.DataFrame(columns=["source", "sheet", "row", "kind", "reason", "detail", "raw"])
    )
    summary = pd.DataFrame(
        [_summary_row(sh) for sh in ctx.sheets]
    )  # after validation's quarantines
    log = ctx.log.frame()
    if key:  # the whole folder: tables, log, quarantine, row status, summary, failures
        done = _pseudonymise(
            ctx,
            dict(
                tables=tables,
                log=log,
                row_status=row_status,
                quarantine=quarantine,
                summary=summary,
                validation=validation,
            ),
            key,
        )
        log, row_status, quarantine = done["log"], done["row_status"], done["quarantine"]
        summary, validation = done["summary"], done["validation"]
    meta = {
        "name": cfg.name,
        "school": done["study_text"]["school"] if key else cfg.school,
        "level": cfg.level,
        "years": list(cfg.years),
        "codebooks": codebooks,
        "pseudonymised": bool(key),
        "synthetic": cfg.synthetic,
        "attention": attention,
        "reader": reader,
        "schema_failures": int(len(validation)),
        "seconds": round(time.perf_counter() - t0, 2),
        "rows": {
            k: int(v)
            for k, v in summary[["rows_in", "kept", "merged", "quarantined"]].sum().items()
        }
        if len(summary)
        else {},
    }
    res = CleanResult(
        validation=validation,
        tables=tables,
        log=log,
        quarantine=quarantine,
        row_status=row_status,
        summary=summary,
        meta=meta,
    )
    if out_dir is not None:
        res.out_dir = write_processed(res, out_dir)
    return res


def _summary_row(sh: _Sheet) -> dict:
    st = sh.st.status
    return {
        "source": sh.rs.file,
        "sheet": sh.rs.sheet,
        "kind": sh.src.kind,
        "rows_in": sh.rs.n,
        "kept": int((st == "kept").sum()),
        "merged": int((st == "merged").sum()),
        "quarantined": int((st == "quarantined").sum()),
        "blank_rows": sh.rs.blank_rows,
        "encoding": sh.rs.encoding,
        "platform": sh.rs.platform,
        "header_row": sh.rs.header_row,
        "columns_ignored": len(sh.cm.unmatched),
    }


def write_processed(res: CleanResult, out_dir: str | Path) -> Path:
    """Write a clean result atomically: a temporary sibling folder, then one rename.

    ``out_dir`` must be new, empty or a processed folder written before
    (:func:`mentorlib.outputs.check_output_dir`); ``study.json`` carries the format tag that
    marks it as ours.
    """
    out = check_output_dir(out_dir, kind="processed")
    tmp = make_temp_dir(out.parent, "processed")
    try:
        for name, df in res.tables.items():
            df.to_parquet(tmp / f"{name}.parquet", index=False)
        res.log.to_parquet(tmp / "cleaning_log.parquet", index=False)
        q = res.quarantine.astype({c: "str" for c in ("detail", "raw") if c in res.quarantine})
        q.to_parquet(tmp / "quarantine.parquet", index=False)
        rs = res.row_status.astype({"merged_into": "str", "detail": "str", "reason": "str"})
        rs.to_parquet(tmp / "row_status.parquet", index=False)
        write_csv(res.summary, tmp / "source_summary.csv")
        if len(res.validation):
            res.validation.astype(str).to_parquet(tmp / "validation_failures.parquet", index=False)
        files = sorted(f.name for f in tmp.iterdir()) + ["study.json"]
        meta = {"format": PROCESSED_FORMAT, **res.meta, "files": files}
        write_text(tmp / "study.json", json.dumps(meta, ensure_ascii=False, indent=2) + "\n")
        replace_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def load_study(study_dir: str | Path, **kwargs):
    """Clean a study folder in memory and return its canonical tables (a ``Processed``)."""
    return clean_study(study_dir, **kwargs).processed()
