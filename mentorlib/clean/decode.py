"""Decoding the columns of a raw sheet by their codebook fields, logging every change.

A column's own convention (the rule most of its cells need, like 三年级2班 -> 3-2 all down a
roster, or 腾讯问卷's "A." option prefixes) is logged once for the column; every cell that departs
from it is logged on its own.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from .. import calendar
from ..errors import InputError
from ..io.codebook import Codebook, Field, norm_text
from . import normalise as nz
from . import when
from .context import Context, Sheet
from .log import cell_text
from .records import StaffIndex, resolve_mentors

# ----------------------------------------------------------------------------- decoding


def decode(sh: Sheet, ctx: Context, var: str, fn, *, raw: pd.Series | None = None) -> pd.Series:
    """Normalise one column and log what changed.

    A column's own convention (the rule most of its cells need, like 三年级2班 -> 3-2 all down a
    roster, or 腾讯问卷's "A." option prefixes) is logged once for the column, with the number of
    cells and an example; every cell that departs from it (another spelling, a repair, an
    unreadable value) is logged on its own. ``raw``: the column as already repaired (a merged
    date cell filled down), instead of the sheet's.
    """
    if raw is None or sh.raw(var) is None:
        raw = sh.raw(var)
    if raw is None:
        return pd.Series([None] * sh.rs.n, dtype=object)
    vals, rules = nz.apply(raw, fn)
    log_rules(sh, ctx, sh.header_of(var), raw, vals, rules)
    return vals


def log_rules(
    sh: Sheet, ctx: Context, col: str | None, raw: pd.Series, vals: pd.Series, rules: pd.Series
) -> None:
    """Log the rules that changed a column's cells (``col``: its header)."""
    r = rules.to_numpy(dtype=object)
    has = np.array(pd.notna(rules).to_numpy(), dtype=bool)
    if not has.any():
        return
    filled = int(raw.notna().sum())  # the readers turned empty cells into None
    counts = pd.Series(r[has]).value_counts()
    top, n_top = counts.index[0], int(counts.iloc[0])
    if (
        not str(top).startswith("fail:")
        and top != "skip_marker"
        and n_top >= 0.5 * max(filled, 1)
        and n_top >= 3
    ):
        i0 = int(np.flatnonzero(r == top)[0])
        ctx.log.note(
            sh.rs,
            sh.rs.file,
            col,
            raw.iloc[i0],
            cell_text(vals.iloc[i0]),
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
    new[fails] = None  # an unreadable cell has no new value
    ctx.log.add(sh.rs, idx, col, raw.to_numpy(dtype=object)[idx], new, rl)


def field_fn(f: Field, cb: Codebook, ctx: Context, *, survey: bool = True):
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
        "date": when.date_,
        "datetime": lambda x: when.date_(x, with_time=True),
        "bool": nz.boolean,
        "school_year": when.school_year,
        "term": when.term,
        "month": when.month,
        "staff_id": nz.staff_id,
        "text": text_or_skip,
        "duration": when.duration_minutes,
    }.get(t, nz.text)


def bool_field(f: Field):
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


def text_or_skip(x):
    if nz.skip(x):
        return None, ("skip_marker" if not nz.is_blank(x) else None)
    return nz.text(x)


def single_choice(sh: Sheet, ctx: Context, f: Field) -> tuple[pd.Series, pd.Series]:
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

    vals = decode(sh, ctx, f.var, fn)
    other = nz.apply(raw, lambda v: (nz.other_text(v), None))[0]
    return vals, other


def multi_select(sh: Sheet, ctx: Context, f: Field) -> tuple[pd.Series, pd.Series]:
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

        vals = decode(sh, ctx, f.var, fn)
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
        on = nz.apply(col, lambda v: (truthy(v), None))[0].to_numpy(dtype=bool)
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


def truthy(v) -> bool:
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


def dates_in_study(sh: Sheet, ctx: Context, var: str, dates: pd.Series) -> pd.Series:
    """Set dates outside the study's years (2099, 1900) missing, and log each one.

    The study's window (:func:`mentorlib.calendar.study_window`) is its school years with the
    August before the first; a date before it (an Excel serial of the spring before the study,
    1900) or after it (2099) would give a record a school year the study does not have."""
    lo, hi = calendar.study_window(ctx.cfg.years)
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


def plausible_birth_dates(sh: Sheet, ctx: Context, dates: pd.Series, year: int) -> pd.Series:
    """Birth dates that make a pupil younger than 5 or older than 20 on 1 September of the
    roster's school year are logged and set missing (the row stays)."""
    start = pd.Timestamp(year, calendar.YEAR_START_MONTH, 1)  # the first day of the school year
    after_start = (dates.dt.month > start.month) | (
        (dates.dt.month == start.month) & (dates.dt.day > start.day)
    )
    age = start.year - dates.dt.year - after_start
    bad = (dates.notna() & ((age < AGE_RANGE[0]) | (age > AGE_RANGE[1]))).to_numpy()
    raw = sh.raw("birth_date")
    if bad.any() and raw is not None:  # (without the column every date is missing)
        idx = np.flatnonzero(bad)
        ctx.log.add(
            sh.rs,
            idx,
            sh.header_of("birth_date"),
            raw.to_numpy(dtype=object)[idx],
            None,
            "implausible_birth_date",
        )
        dates = dates.mask(bad)
    return dates


def grade_class_of(sh: Sheet, ctx: Context) -> pd.Series:
    """'g-c' per row from a combined 班级 column, or from separate 年级 + 班级 columns.

    A class named by its cohort (初2024级3班, 2024级3班) gets the grade its cohort is in
    during the source's school year (rule ``cohort_class``)."""
    year, level = sh.src.year, ctx.cfg.level

    def whole_class(x):
        v, rule = nz.grade_class(x)
        if v is not None or year is None:
            return v, rule
        co = nz.cohort_class(x)
        g = nz.cohort_grade(co[0], co[1], year, level) if co else None
        return (f"{g}-{co[2]}", "cohort_class") if co and g else (v, rule)

    if "grade" not in sh.cm.single:
        if "grade_class" in sh.cm.single:
            return decode(sh, ctx, "grade_class", whole_class)
        return pd.Series([None] * sh.rs.n, dtype=object)
    g = decode(sh, ctx, "grade", nz.grade).to_numpy(dtype=object)
    if "grade_class" not in sh.cm.single:
        return pd.Series([None] * sh.rs.n, dtype=object)

    def combine(pair):
        if pair is None:
            return None, None
        gg, x = pair
        whole, rule = whole_class(x)  # a class cell may still say 三年级2班 or 2024级2班
        if whole:
            return whole, rule
        c, rule = nz.class_number(x)
        if c is None or gg is None:
            return None, "fail:grade_class"
        return f"{int(gg)}-{int(c)}", rule

    raw = sh.column("grade_class")
    pairs = pd.Series(dtype=object, data=list(zip(g, raw.to_numpy(dtype=object), strict=True)))
    vals, rules = nz.apply(pairs, combine)
    log_rules(sh, ctx, sh.header_of("grade_class"), raw, vals, rules)
    return vals


def class_list(x):
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


def mentor_ids(sh: Sheet, ctx: Context, year: int) -> np.ndarray:
    """The 工号 of each row's mentor: as written, with leading zeros Excel stripped restored, or
    found by name (导师姓名, with a subject or class when two staff share it); the rest is
    quarantined (``unknown_mentor``, ``ambiguous_mentor``, ``no_mentor``)."""
    if "mentor_id" not in sh.cm.single and "mentor_name" not in sh.cm.single:
        raise InputError(
            "no mentor column: the sheet needs 导师工号 or 导师姓名",
            file=sh.rs.file,
            sheet=sh.rs.sheet,
        )
    mid = decode(sh, ctx, "mentor_id", nz.staff_id).to_numpy(dtype=object).copy()
    names = sh.raw("mentor_name")
    resolve_mentors(sh, ctx, year, mid, names)
    return mid


def staff_choice(sh: Sheet, ctx: Context, var: str, year: int) -> np.ndarray:
    """A chosen mentor written as '张伟（数学）' -> 工号, by name (and subject) on the staff roster;
    a 工号 written instead is read as one (its stripped leading zeros restored)."""
    raw = sh.raw(var)
    if raw is None:
        return np.full(sh.rs.n, None, dtype=object)
    idx = StaffIndex(ctx, year)

    def fn(x):
        if nz.skip(x):
            return None, None
        s = nz.staff_id(x)[0] if not isinstance(x, str) else nz.text(x)[0]
        if s and s.isdigit():
            if s in idx.ids:
                return s, None
            r = idx.restore(s)
            return (r, "staff_id_zero_restored") if r else (None, "fail:mentor_not_found")
        sid, why, _ = idx.find(s)
        if sid:
            return sid, None
        return None, "fail:mentor_not_found" if why == "unknown_mentor" else "fail:mentor_ambiguous"

    return decode(sh, ctx, var, fn).to_numpy(dtype=object)
