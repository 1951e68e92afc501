"""One cleaner per kind of source (students, staff, groups, surveys, exams, logs, mood).

Each reads the decoded columns of one raw sheet, links rows to students, merges repeats,
quarantines what cannot be trusted and emits canonical rows (:meth:`Context.emit`).
"""

from __future__ import annotations

import contextlib
import re
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from .. import calendar
from ..errors import InputError
from ..io.codebook import load_codebook
from ..io.readers import combine_sheets, match_columns, read_file, to_raw_sheet
from ..io.study import Source
from . import normalise as nz
from . import when
from .context import Context, Sheet
from .decode import (
    bool_field,
    class_list,
    dates_in_study,
    decode,
    field_fn,
    grade_class_of,
    mentor_ids,
    multi_select,
    plausible_birth_dates,
    single_choice,
    staff_choice,
    text_or_skip,
)
from .dedupe import dedupe_submissions, merge_exact_duplicates, two_classes
from .exams import clean_exams
from .link import link_students
from .log import RowStatus
from .records import fill_down_dates, log_year

# ----------------------------------------------------------------------------- kinds


def read_source(ctx: Context, src: Source, *, notes: list[str] | None = None):
    """The sheets of one source as its study.toml entry says to read them (sheet, encoding,
    reader, limits); ``notes`` collects what the file turned out to be when its name lied."""
    return read_file(
        ctx.cfg.root / src.path,
        src.path,
        sheet=src.sheet,
        encoding=src.encoding,
        reader=ctx.reader,
        limits=ctx.cfg.limits,
        notes=notes,
    )


def open_source(ctx: Context, src: Source):
    cb = load_codebook(src.codebook, base=ctx.cfg.root).for_year(src.year)  # version in force
    if cb.kind != src.kind:
        raise InputError(
            f"codebook {cb.name!r} is for {cb.kind} sources, not {src.kind}", file="study.toml"
        )
    raws = []
    notes: list[str] = []  # the file is not what its name says, but was read as what it is
    for sheet, cells, enc in read_source(ctx, src, notes=notes):
        if cells.empty:
            ctx.log.note(None, src.path, None, sheet, None, "empty_sheet_skipped")
            continue
        raws.append(to_raw_sheet(cells, src.path, sheet, enc, cb))
    for note in notes:
        ctx.log.note(None, src.path, None, None, note, "file_format")
    out = []
    for rs in combine_sheets(raws):  # sheets sharing a header are read as one
        cm = match_columns(rs.header, cb, file=src.path, sheet=rs.sheet)
        sh = Sheet(src, rs, cb, cm, RowStatus(rs, src.kind), k=len(ctx.statuses))
        ctx.statuses.append(sh.st)
        if rs.encoding:
            ctx.log.note(rs, src.path, None, None, rs.encoding, "encoding_detected")
        for note in rs.notes:
            ctx.log.note(rs, src.path, None, None, note, "header_row")
        if cm.unmatched:
            ctx.log.note(rs, src.path, None, "; ".join(cm.unmatched[:20]), None, "columns_ignored")
        for var, (h, score) in cm.approx.items():  # a reworded question, with its similarity
            ctx.log.note(rs, src.path, var, h, f"{var} ({score:g})", "header_approx")
        out.append(sh)
    return out


def decode_if_present(sh: Sheet, ctx: Context, var: str, fn) -> pd.Series | None:
    """:func:`decode` a column the sheet may lack (None when it does)."""
    return decode(sh, ctx, var, fn) if var in sh.cm.single else None


def year_of(src: Source) -> int:
    """The school year a source is for (``year =`` in ``study.toml``, which it must have)."""
    if src.year is None:
        raise InputError(f"a {src.kind} source needs year = ... in study.toml", file=src.path)
    return src.year


#: A cell that makes its row a totals row (合计 / 总计 / 小计 / 共计 at the foot of a roster).
TOTALS = re.compile(r"^\s*(合\s*计|总\s*计|小\s*计|共\s*计|总人数|total)\s*[:：]?\s*$", re.I)


def totals_row(sh: Sheet, i: int) -> bool:
    """Whether row ``i`` of a sheet is a totals row a teacher wrote below the students."""
    data = sh.rs.data
    if data is None or not 0 <= i < len(data):
        return False
    return any(isinstance(c, str) and TOTALS.match(c) for c in data.iloc[i].to_numpy())


def clean_students(ctx: Context, sh: Sheet):
    rs, st = sh.rs, sh.st
    year = year_of(sh.src)
    id_list: list[str | None] = []
    idx_fix, old, new, rules = [], [], [], []
    raw = sh.column("student_id")
    for i, x in enumerate(raw.to_numpy(dtype=object)):
        v, rule, status = nz.student_id(x)
        if status == "no_prefix":
            v, rule = f"G{v}", "id_prefix_added"
        elif status != "ok":
            id_list.append(None)
            if totals_row(sh, i):
                st.quarantine([i], "totals_row", "a totals row (合计), not a student")
            else:
                st.quarantine([i], "invalid_roster_id", f"学籍号 {x!r} is {status}")
            continue
        id_list.append(v)
        if rule:
            idx_fix.append(i)
            old.append(x)
            new.append(v)
            rules.append(rule)
    ctx.log.add(rs, idx_fix, sh.header_of("student_id"), old, new, np.asarray(rules, dtype=object))
    ids = np.asarray(id_list, dtype=object)
    temp = np.flatnonzero([isinstance(v, str) and v[0] in "LJ" for v in ids])
    ctx.log.add(rs, temp, sh.header_of("student_id"), ids[temp], ids[temp], "temp_id")  # 临时学籍号
    st.student_id[:] = ids
    gc = grade_class_of(sh, ctx)
    bad = st.alive & gc.isna().to_numpy()
    st.quarantine(np.flatnonzero(bad), "no_grade_class", "年级/班级 unreadable")
    two_classes(sh, ids, gc)
    dedupe_submissions(sh, ctx, ids, [np.full(rs.n, year)], np.ones(rs.n), None)
    cols: dict[str, Any] = {"student_id": ids, "year": year}  # column -> values, for a frame
    cols["name"] = decode(sh, ctx, "name", nz.name)
    cols["gender"] = decode(sh, ctx, "gender", nz.gender)
    cols["birth_date"] = plausible_birth_dates(
        sh, ctx, pd.to_datetime(decode(sh, ctx, "birth_date", when.date_), errors="coerce"), year
    )
    g = [int(x.split("-")[0]) if x else None for x in gc]
    c = [int(x.split("-")[1]) if x else None for x in gc]
    cols["grade"], cols["class_no"] = g, c
    for var in ("transfer", "left_behind", "mentee"):
        cols[var] = decode_if_present(sh, ctx, var, nz.boolean)
    fam, _ = single_choice(sh, ctx, sh.cb.field("family"))
    cols["family"] = fam
    cols["home_area"] = decode(sh, ctx, "home_area", nz.text)
    num = field_fn(sh.cb.field("height_cm"), sh.cb, ctx, survey=False)
    cols["height_cm"] = decode(sh, ctx, "height_cm", num)
    cols["weight_kg"] = decode(
        sh, ctx, "weight_kg", field_fn(sh.cb.field("weight_kg"), sh.cb, ctx, survey=False)
    )
    df = pd.DataFrame(cols)
    ctx.emit("students", df[st.alive], sh)


def clean_staff(ctx: Context, sh: Sheet):
    year = year_of(sh.src)
    cb = sh.cb
    cols: dict[str, Any] = {  # column -> values, for a frame
        "staff_id": decode(sh, ctx, "staff_id", nz.staff_id),
        "year": year,
        "name": decode(sh, ctx, "name", nz.name),
        "gender": decode(sh, ctx, "gender", nz.gender),
    }
    cols["role"], _ = single_choice(sh, ctx, cb.field("role"))
    cols["subject"], _ = single_choice(sh, ctx, cb.field("subject"))
    grade = decode_if_present(sh, ctx, "grade", nz.grade)
    link_class = decode_if_present(sh, ctx, "link_class", nz.grade_class)
    if grade is None and link_class is not None:  # primary: the grade of the linked class
        grade = link_class.map(lambda v: int(v.split("-")[0]) if isinstance(v, str) else None)
    cols["grade"], cols["link_class"] = grade, link_class
    cols["homeroom"] = decode_if_present(sh, ctx, "homeroom", nz.grade_class)
    cols["classes"] = decode_if_present(sh, ctx, "classes", class_list)
    cols["training_hours"] = decode(
        sh, ctx, "training_hours", field_fn(cb.field("training_hours"), cb, ctx, survey=False)
    )
    cols["certified"] = decode(sh, ctx, "certified", nz.boolean)
    cols["backbone"] = decode(sh, ctx, "backbone", nz.boolean)
    cols["strengths"], _ = multi_select(sh, ctx, cb.field("strengths"))
    df = pd.DataFrame(cols)
    missing = df["staff_id"].isna().to_numpy() & sh.st.alive
    sh.st.quarantine(np.flatnonzero(missing), "no_staff_id", "工号 missing")
    dedupe_submissions(
        sh,
        ctx,
        df["staff_id"].to_numpy(dtype=object),
        [np.full(len(df), year)],
        np.ones(len(df)),
        None,
    )
    ctx.emit("staff", df[sh.st.alive], sh)


def clean_groups(ctx: Context, sh: Sheet):
    rs = sh.rs
    years = decode(sh, ctx, "year", when.school_year)
    year = sh.src.year
    yv = (
        years.fillna(year).to_numpy(dtype=object)
        if year is not None
        else years.to_numpy(dtype=object)
    )
    terms = decode(sh, ctx, "term", when.term).to_numpy(dtype=object)
    y0 = year if year is not None else next((int(v) for v in yv if v is not None), None)
    if y0 is None:
        raise InputError("no school year (学年 column or year = in study.toml)", file=rs.file)
    gc = grade_class_of(sh, ctx)
    names = decode(sh, ctx, "name", nz.name)
    sids = link_students(sh, ctx, y0, gc=gc, names=names)
    mids = mentor_ids(sh, ctx, y0)
    start = log_dates(sh, ctx, "start_date", y0, sh.src.term, fill=())
    reason, rtext = (
        single_choice(sh, ctx, sh.cb.field("reason"))
        if "reason" in sh.cm.single
        else (pd.Series([None] * rs.n), None)
    )
    # an identical row pasted twice is merged into its first copy
    key = pd.DataFrame({"s": sids, "m": mids, "t": terms, "y": yv}).astype(str)
    dup = key.duplicated(keep="first").to_numpy() & sh.st.alive
    first_of = key.groupby(list(key.columns), sort=False).ngroup().to_numpy()
    firsts: dict[int, int] = {}  # key group -> its first row
    for row, grp in enumerate(first_of.tolist()):
        firsts.setdefault(grp, row)
    for i in np.flatnonzero(dup):
        sh.st.merge([i], rs.where(firsts[int(first_of[i])]))
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


def survey_common(ctx: Context, sh: Sheet):
    """Identity, linkage and the submission time of a survey export."""
    year = year_of(sh.src)
    gc = grade_class_of(sh, ctx)
    names = decode(sh, ctx, "name", nz.name)
    sids = link_students(sh, ctx, year, gc=gc, names=names)
    j = sh.cm.system.get("submitted_at")
    sub = (
        pd.to_datetime(
            sh.rs.col(j).map(lambda v: when.date_(v, with_time=True)[0]), errors="coerce"
        )
        if j is not None
        else pd.Series(pd.NaT, index=range(sh.rs.n))
    )
    return year, sids, sub


def clean_assessment(ctx: Context, sh: Sheet):
    rs, cb, st = sh.rs, sh.cb, sh.st
    year, sids, sub = survey_common(ctx, sh)
    items = [f for f in cb.items if f.var not in sh.cm.missing]  # a question not asked: no rows
    vals = {}
    for f in items:
        fn = field_fn(f, cb, ctx)
        vals[f.var] = decode(sh, ctx, f.var, fn)
    for f in cb.attention_checks:
        ans = decode(sh, ctx, f.var, field_fn(f, cb, ctx)).to_numpy(dtype=object)
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
    dedupe_submissions(sh, ctx, sids, [], answered, sub.to_numpy())
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


def clean_needs(ctx: Context, sh: Sheet):
    cb, st = sh.cb, sh.st
    year, sids, sub = survey_common(ctx, sh)
    cols: dict[str, Any] = {"student_id": sids, "year": year}  # column -> values, for a frame
    others = []
    for var in ("weak_areas", "help_wanted", "interests"):
        cols[var], other = multi_select(sh, ctx, cb.field(var))
        others.append(other)
    # the 其他 texts of the three questions, one text per row
    txt = [
        "；".join(x for x in row if isinstance(x, str)) or None
        for row in zip(*(o.to_numpy(dtype=object) for o in others), strict=True)
    ]
    cols["other_text"] = np.asarray(txt, dtype=object) if txt else None
    cols["submitted_at"] = sub.to_numpy()
    for k in (1, 2, 3):
        var = f"pref_{k}"
        if cb.has(var):
            cols[var] = staff_choice(sh, ctx, var, year)
    df = pd.DataFrame(cols)
    answered = df[["weak_areas", "help_wanted", "interests"]].notna().mean(axis=1).to_numpy()
    dedupe_submissions(sh, ctx, sids, [], answered, sub.to_numpy())
    ctx.emit("needs", df[st.alive], sh)


def clean_satisfaction(ctx: Context, sh: Sheet):
    cb, st = sh.cb, sh.st
    year, sids, sub = survey_common(ctx, sh)
    term = sh.src.term
    if term is None:
        raise InputError("a satisfaction source needs term = 1 or 2 in study.toml", file=sh.rs.file)
    cols: dict[str, Any] = {"student_id": sids, "year": year, "term": term}
    items = [f for f in cb.fields if f.type == "likert"]
    for f in items:
        cols[f.var] = pd.array(
            decode(sh, ctx, f.var, field_fn(f, cb, ctx)).to_numpy(dtype=object), dtype="Int64"
        )
    mat = pd.DataFrame({f.var: cols[f.var] for f in items}).astype("Float64")
    cols["satisfaction"] = mat.mean(axis=1, skipna=True).to_numpy(dtype=float, na_value=np.nan)
    cols["want_change"] = decode(
        sh, ctx, "want_change", bool_field(cb.field("want_change"))
    ).to_numpy(dtype=object)
    reason, rtext = single_choice(sh, ctx, cb.field("reason"))
    cols["reason"] = reason.to_numpy(dtype=object)
    cols["reason_text"] = rtext.to_numpy(dtype=object)
    cols["submitted_at"] = sub.to_numpy()
    df = pd.DataFrame(cols)
    answered = mat.notna().mean(axis=1).to_numpy()
    dedupe_submissions(sh, ctx, sids, [], answered, sub.to_numpy())
    ctx.emit("satisfaction", df[st.alive], sh)


def log_dates(
    sh: Sheet, ctx: Context, var: str, year: int | None, term: int | None, *, fill: tuple[str, ...]
) -> pd.Series:
    """The dates of a hand-kept log: a merged date cell filled down (``fill``: the fields a row
    must have for its blank date to take the one above), a date without a year dated in the
    source's school year and term; dates outside the study set missing (all logged)."""
    raw = fill_down_dates(sh, ctx, var, fill) if fill else None
    vals = decode(sh, ctx, var, lambda x: when.date_in_year(x, year, term), raw=raw)
    return dates_in_study(sh, ctx, var, pd.to_datetime(vals, errors="coerce"))


GROUP_WORDS = {"全班", "全体", "全体学生", "全班同学", "全班学生", "集体", "全班学生参加"}


def group_sessions(sh: Sheet, ctx: Context) -> tuple[np.ndarray, list]:
    """Rows of an activity log with no one student (全班, 全体, a blank, a class label such as
    三(2)班): kept as class-level activities, each logged ``group_session``. Returns the mask
    and the class 'g-c' each names (None when it names none)."""
    n = sh.rs.n
    cols = [
        c.to_numpy(dtype=object) for v in ("student_id", "name") if (c := sh.raw(v)) is not None
    ]
    group = np.zeros(n, dtype=bool)
    cls: list = [None] * n
    old: list = [None] * n
    seen: dict = {}  # a log repeats its cells: each distinct (ID, name) pair is read once
    for i in range(n):
        key = tuple(c[i] for c in cols)
        try:
            hit = seen.get(key)
        except TypeError:  # an unhashable cell
            hit = None
        if hit is None:
            hit = _group_row(key)
            with contextlib.suppress(TypeError):
                seen[key] = hit
        group[i], cls[i], old[i] = hit
    idx = np.flatnonzero(group & sh.st.alive)
    col = sh.header_of("name") or sh.header_of("student_id")
    ctx.log.add(sh.rs, idx, col, [old[i] for i in idx], [cls[i] for i in idx], "group_session")
    return group, cls


def _group_row(raw: tuple) -> tuple[bool, str | None, str | None]:
    """One row's (is a group session, the class it names, the text logged) from its ID and
    name cells."""
    cells = [c for c in raw if not nz.is_blank(c)]
    texts = [nz.text(c)[0] for c in cells]
    gcs = [nz.grade_class(t)[0] for t in texts if t and not re.match("[A-Za-z]", t)]
    if not cells or any(t in GROUP_WORDS for t in texts) or any(gcs):
        return True, next((g for g in gcs if g), None), (texts[0] if texts else None)
    return False, None, None


def clean_activities(ctx: Context, sh: Sheet):
    rs, cb, st = sh.rs, sh.cb, sh.st
    y_log = log_year(sh, ctx, "date")
    dates = log_dates(sh, ctx, "date", y_log, sh.src.term, fill=("activity",))
    bad = dates.isna().to_numpy() & st.alive
    st.quarantine(np.flatnonzero(bad), "no_date", "日期 missing or unreadable")
    ys = calendar.school_years_of(dates).astype("Int64")
    y0 = sh.src.year
    if y0 is None:  # the year most dates fall in; any year when no row has a date (none is kept)
        y0 = int(ys.dropna().mode().iloc[0]) if ys.notna().any() else min(ctx.cfg.years)
    mids = mentor_ids(sh, ctx, y0)
    gc = grade_class_of(sh, ctx)
    group, cls = group_sessions(sh, ctx)
    sids = np.full(rs.n, None, dtype=object)
    if (~group & st.alive).any():  # group activities (counselling, 全班) have no student
        names = decode(sh, ctx, "name", nz.name) if sh.raw("name") is not None else None
        sids = link_students(sh, ctx, y0, gc=gc, names=names, mask=~group)
    gcv = gc.to_numpy(dtype=object)
    cls = [c or (gcv[i] if group[i] else None) for i, c in enumerate(cls)]
    act, _ = single_choice(sh, ctx, cb.field("activity"))
    bad = act.isna().to_numpy() & st.alive
    st.quarantine(np.flatnonzero(bad), "unknown_activity", "活动类型 not recognised")
    mode, _ = (
        single_choice(sh, ctx, cb.field("mode"))
        if "mode" in sh.cm.single
        else (pd.Series([None] * rs.n), None)
    )
    dur = (
        decode(sh, ctx, "duration_min", field_fn(cb.field("duration_min"), cb, ctx, survey=False))
        if "duration_min" in sh.cm.single
        else pd.Series([None] * rs.n)
    )
    df = pd.DataFrame(
        {
            "mentor_id": mids,
            "student_id": sids,
            "date": dates,
            "year": ys,
            "term": calendar.terms_of(dates.dt.month),
            "activity": act.to_numpy(dtype=object),
            "mode": mode.to_numpy(dtype=object),
            "duration_min": pd.array(dur.to_numpy(dtype=object), dtype="Float64"),
            "grade": pd.array([int(c.split("-")[0]) if c else None for c in cls], dtype="Int64"),
            "class_no": pd.array([int(c.split("-")[1]) if c else None for c in cls], dtype="Int64"),
        }
    )
    merge_exact_duplicates(ctx, sh, df, "activities")
    ctx.emit("activities", df[st.alive], sh)


def reward_kinds(sh: Sheet, ctx: Context, kind: np.ndarray, pts: np.ndarray) -> None:
    """A reward's kind from the sign of its points when the 类别 cell is blank or absent
    (``reward_kind_from_sign``); a penalty's points stored negative (``penalty_points_negated``),
    as the table keeps them (in place)."""
    alive, rs = sh.st.alive, sh.rs
    col = sh.header_of("points")
    signed = np.array([p is not None and p != 0 for p in pts], dtype=bool)
    no_kind = np.array([k is None for k in kind], dtype=bool)
    if "kind" in sh.cm.single:
        no_kind &= ~sh.filled("kind")  # a 类别 not recognised stays unknown_kind
    idx = np.flatnonzero(alive & no_kind & signed)
    kind[idx] = ["reward" if pts[i] > 0 else "penalty" for i in idx]
    ctx.log.add(rs, idx, col, pts[idx], kind[idx], "reward_kind_from_sign")
    flip = np.flatnonzero(
        alive
        & signed
        & np.array([k == "penalty" for k in kind], dtype=bool)
        & np.array([p is not None and p > 0 for p in pts], dtype=bool)
    )
    old = pts[flip].copy()
    pts[flip] = [-p for p in old]
    ctx.log.add(rs, flip, col, old, pts[flip], "penalty_points_negated")


def clean_rewards(ctx: Context, sh: Sheet):
    cb, st = sh.cb, sh.st
    y_log = log_year(sh, ctx, "date")
    dates = log_dates(sh, ctx, "date", y_log, sh.src.term, fill=("name", "points"))
    st.quarantine(
        np.flatnonzero(dates.isna().to_numpy() & st.alive), "no_date", "日期 missing or unreadable"
    )
    ys = calendar.school_years_of(dates).astype("Int64")
    y0 = sh.src.year if sh.src.year is not None else int(ys.dropna().mode().iloc[0])
    gc = grade_class_of(sh, ctx)
    names = decode(sh, ctx, "name", nz.name)
    sids = link_students(sh, ctx, y0, gc=gc, names=names)
    kind = single_choice(sh, ctx, cb.field("kind"))[0].to_numpy(dtype=object).copy()
    lo, hi = cb.field("points").range or (None, None)
    pts = (
        decode(sh, ctx, "points", lambda x: when.points(x, lo=lo, hi=hi))
        .to_numpy(dtype=object)
        .copy()
    )
    reward_kinds(sh, ctx, kind, pts)
    st.quarantine(np.flatnonzero(pd.isna(kind) & st.alive), "unknown_kind", "类别 not recognised")
    df = pd.DataFrame(
        {
            "student_id": sids,
            "date": dates,
            "year": ys,
            "term": calendar.terms_of(dates.dt.month),
            "kind": kind,
            "reason": decode(sh, ctx, "reason", text_or_skip).to_numpy(dtype=object),
            "points": pd.array(pts, dtype="Float64"),
        }
    )
    ctx.emit("rewards", df[st.alive], sh)


def clean_mood(ctx: Context, sh: Sheet):
    cb, st = sh.cb, sh.st
    codes = list(cb.options.get("codes", []))
    months = decode(sh, ctx, "month", when.month)
    as_date = pd.to_datetime(months.map(lambda m: f"{m}-01" if m else None), errors="coerce")
    months = months.mask(dates_in_study(sh, ctx, "month", as_date).isna().to_numpy(), None)
    gc = grade_class_of(sh, ctx)
    names = decode(sh, ctx, "name", nz.name)
    year = sh.src.year
    y_of = months.map(
        lambda m: calendar.school_year_of(date(int(m[:4]), int(m[5:7]), 1)) if m else None
    )
    y0 = year if year is not None else int(y_of.dropna().mode().iloc[0])
    sids = link_students(sh, ctx, y0, gc=gc, names=names)
    st.quarantine(
        np.flatnonzero(months.isna().to_numpy() & st.alive),
        "no_month",
        "月份 missing or unreadable",
    )
    counts, recorded = _mood_days(ctx, sh, codes)
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
    merge_exact_duplicates(ctx, sh, df, "mood")
    ctx.emit("mood", df[st.alive], sh)


def _mood_days(ctx: Context, sh: Sheet, codes: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Read the day columns of a mood chart (one colour sticker per school day).

    Returns the count of each code per row, and which of the 31 days each row recorded."""
    rs, opts = sh.rs, sh.cb.options
    pat = re.compile(opts.get("day_column", r"^(\d{1,2})日$"))
    day_cols = [(j, int(m.group(1))) for j, h in enumerate(rs.header) if (m := pat.match(h))]
    colours = opts.get("colours", [])
    colour = {c: k for c, k in zip(colours, codes, strict=True)}
    colour.update(opts.get("aliases", {}))

    def fn(x):
        if nz.is_blank(x):
            return None, None
        s = nz.text(x)[0]
        if s in colour:
            return colour[s], (None if s in colours else "label_alias")
        return None, "fail:colour"

    counts = np.zeros((rs.n, len(codes)), dtype=np.int16)
    recorded = np.zeros((rs.n, 31), dtype=bool)
    for j, day in day_cols:
        col = rs.col(j)
        v, rules = nz.apply(col, fn)
        has = rules.notna().to_numpy()
        if has.any():
            idx = np.flatnonzero(has)
            r = rules.to_numpy(dtype=object)[idx]
            ctx.log.add(
                rs,
                idx,
                rs.header[j],
                col.to_numpy(dtype=object)[idx],
                _unless_failed(v.to_numpy(dtype=object)[idx], r),
                np.array(
                    [("unreadable_colour" if x.startswith("fail:") else x) for x in r], dtype=object
                ),
            )
        arr = v.to_numpy(dtype=object)
        for k, c in enumerate(codes):
            counts[:, k] += arr == c
        recorded[:, day - 1] = pd.notna(arr)
    return counts, recorded


def _unless_failed(new: np.ndarray, rules: np.ndarray) -> np.ndarray:
    """The new values, None where the rule says the cell could not be read (``fail:...``)."""
    out = new.copy()
    out[[r.startswith("fail:") for r in rules]] = None
    return out


CLEANERS = {
    "students": clean_students,
    "staff": clean_staff,
    "groups": clean_groups,
    "needs_survey": clean_needs,
    "assessment": clean_assessment,
    "satisfaction": clean_satisfaction,
    "exams": clean_exams,
    "activities": clean_activities,
    "rewards": clean_rewards,
    "mood": clean_mood,
}
