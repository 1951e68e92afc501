"""Exam books (成绩单): scores per student, subject and term, as 班主任 and 教务处 keep them.

A book comes in two layouts, and a workbook may repeat either over its sheets:

* one row per student with a column per subject (语文, 数学(120), 英语 …), often one sheet per
  class: the class comes from the 班级 column, else the sheet name (3班, 七(3)班, 初一3班) or the
  title row above the header ("七年级(3)班期末成绩单"), logged ``class_from_sheet``;
* one sheet per subject with one 成绩/分数/得分 column: the subject comes from the sheet name or
  the title row ("七年级语文期末成绩"), logged ``subject_from_sheet``. Sheets of different
  subjects are never merged as duplicates of one another.

总分, 平均分 and 排名 columns are derived and ignored (``derived_column_ignored``). 缺考/缺 make a
score ``absent``, 免考 ``exempt``, 作弊/违纪 ``void`` (the score is null); half points are kept.
A score's full mark (``full_marks`` note) comes from its header ("数学(120)", "数学（满分150）"),
else the title row, else the codebook field's ``full_marks``, else the top of its ``range``. A
score above it is the cell's ``invalid`` status in a row of several subjects (the others kept),
and quarantines the row (``score_above_full_marks``) in a sheet of one subject. A sheet with
neither a 成绩 column nor a subject column has no score to read: every row of it is quarantined
(``no_score_column``), never dropped.

A blank marker (/, —, --: the skip markers of :data:`~mentorlib.clean.normalise.SKIP_MARKERS`
that are not numbers) says "no score" without saying why: it is logged (``skip_marker``) and
read as a blank cell, never as 0, ``absent`` or ``invalid``. A row whose score cells are all
blank or blank markers (一个空的成绩, or every subject column empty: a row the teacher never
filled in) has nothing to put in the exams table; it is quarantined (``blank_score``, its cells
kept in the quarantine), as a sheet with no score column is, and each sheet's count of them is
logged (``blank_score``). A wholly empty row is not a row: the readers count it apart
(``blank_rows``).
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd

from ..errors import InputError
from ..io.codebook import Codebook, Field, norm_text
from ..io.readers import ColumnMap, RawSheet
from ..labels_units import en_noun
from . import normalise as nz
from .context import Context, Sheet
from .decode import decode, grade_class_of, log_rules
from .link import link_students

MAX_FULL_MARKS = 150  # the highest full mark a header may give (语文/数学 150 in 高中)
GENERIC = "score"  # the codebook field of a sheet with one score column (成绩/分数/得分)
NO_SCORE_COLUMN = "no_score_column"  # the quarantine reason of a sheet with no score column
BLANK_SCORE = "blank_score"  # the quarantine reason of a row with no score in any score column
MARKERS = (("void", "void"), ("exempt", "exempt"), ("absent", "absent"))  # option -> status
_FULL = re.compile(
    r"[(（\[【]\s*(?:满分|总分)?\s*[:：]?\s*(\d{2,3})\s*分?\s*[)）\]】]|满分\s*(\d{2,3})"
)
_CLASS = re.compile(
    r"(初[一二三123]|高[一二三123]|[一二三四五六七八九1-9]\s*年级|[一二三四五六七八九])?"
    r"\s*[(（]?\s*(\d{1,2})\s*[)）]?\s*班"
)
_GRADE = re.compile(r"初[一二三123]|高[一二三123]|[一二三四五六七八九1-9]\s*年级")
_INTEGER = re.compile(r"\s*-?\d+\s*")


# ----------------------------------------------------------------------------- the sheets


def _sheets(sh: Sheet) -> tuple[np.ndarray, dict]:
    """The sheet of every row, and each sheet's first row."""
    names = sh.rs.sheet_at(np.arange(sh.rs.n))
    first: dict = {}
    for i, s in enumerate(names):
        first.setdefault(s, i)
    return names, first


def subject_names(cb: Codebook) -> dict[str, str]:
    """Normalised subject name (语文, 道法 …) -> subject code, from the codebook's score fields."""
    out = {}
    for f in cb.fields:
        if f.type == "score" and f.subject:
            for t in f.text:
                out[norm_text(t)] = f.subject
    return out


def subject_in(text: str | None, names: dict[str, str]) -> str | None:
    """The one subject a sheet name or title names (None: none, or several)."""
    if not text:
        return None
    t = norm_text(text)
    found = {code for nm, code in names.items() if nm and nm in t}
    return found.pop() if len(found) == 1 else None


def class_in(texts: list[str | None]) -> tuple[str | None, int | None, int | None]:
    """'g-c', else the class number and grade found in a sheet name or title (first text first)."""
    cls = grade = None
    for text in texts:
        if not text:
            continue
        t = unicodedata.normalize("NFKC", text)
        m = _CLASS.search(t)
        if m and m.group(1):
            gc, _ = nz.grade_class(m.group(0).replace(" ", ""))
            if gc:
                return gc, None, None
        if m and cls is None:
            cls = int(m.group(2))
        g = _GRADE.search(t)
        if g and grade is None:
            gv = nz.grade(g.group(0).replace(" ", ""))[0]
            grade = int(gv) if gv is not None else None
    if cls is not None and grade is not None:
        return f"{int(grade)}-{cls}", None, None
    return None, cls, grade


def _grade_from_roster(ctx: Context, year: int, names: list, cls: int) -> int | None:
    """The grade whose class ``cls`` holds most of a sheet's names (more than half of them)."""
    roster = ctx.linked_roster()
    hits: dict[int, int] = {}
    for nm in names:
        for g in range(1, 13):
            if (year, nm, g, cls) in roster.by_name_cls:
                hits[g] = hits.get(g, 0) + 1
    if not hits:
        return None
    g, k = max(hits.items(), key=lambda kv: kv[1])
    tied = [x for x, v in hits.items() if v == k]
    return g if len(tied) == 1 and k > len(names) / 2 else None


def classes(sh: Sheet, ctx: Context, year: int, names: pd.Series) -> pd.Series:
    """'g-c' per row: the 班级 column, else the row's sheet name or title (``class_from_sheet``)."""
    gc = grade_class_of(sh, ctx)
    if not gc.isna().any():
        return gc
    rs = sh.rs
    rows_sheet, first = _sheets(sh)
    out = gc.to_numpy(dtype=object).copy()
    for s in first:
        rows = np.flatnonzero((rows_sheet == s) & pd.isna(out))
        if not len(rows):
            continue
        title = rs.title_of(s)
        found, cls, grade = class_in([s, title])
        if found is None and cls is not None:
            nm = [x for x in names.to_numpy(dtype=object)[rows] if x]
            grade = grade or _grade_from_roster(ctx, year, nm, cls)
            found = f"{int(grade)}-{cls}" if grade else None
        if found is None:
            continue
        out[rows] = found
        ctx.log.add(
            rs,
            [int(rows[0])],
            None,
            " ".join(x for x in (s, title) if x),
            found,
            "class_from_sheet",
        )
    return pd.Series(out, dtype=object)


def _subjects(sh: Sheet, ctx: Context) -> np.ndarray:
    """The subject of each row of a one-score sheet, from its sheet name or title."""
    rs, st = sh.rs, sh.st
    known = subject_names(sh.cb)
    rows_sheet, first = _sheets(sh)
    out = np.full(rs.n, None, dtype=object)
    for s, i0 in first.items():
        title = rs.title_of(s)
        subj = subject_in(s, known) or subject_in(title, known)
        rows = np.flatnonzero(rows_sheet == s)
        if subj is None:
            st.quarantine(
                rows[st.alive[rows]],
                "unknown_subject",
                f"the sheet name {s!r} and its title {title!r} name no one subject",
            )
            continue
        out[rows] = subj
        ctx.log.add(
            rs,
            [i0],
            sh.header_of(GENERIC),
            " ".join(x for x in (s, title) if x),
            subj,
            "subject_from_sheet",
        )
    return out


def note_derived(sh: Sheet, ctx: Context) -> None:
    """Log each 总分/平均分/排名 column, ignored as derived (never a subject)."""
    derived = {norm_text(x) for x in (sh.cb.options or {}).get("derived", [])}
    for h in sh.cm.unmatched:
        forms = {norm_text(h), norm_text(re.sub(r"[(（].*?[)）]", "", h))}
        if forms & derived:
            ctx.log.note(sh.rs, sh.rs.file, h, h, None, "derived_column_ignored")


# ----------------------------------------------------------------------------- the scores


def full_mark_in(text: str | None) -> float | None:
    """The full mark a header or title gives: 数学(120), 数学（满分150）, 满分120."""
    if not text:
        return None
    m = _FULL.search(unicodedata.normalize("NFKC", text))
    v = float(m.group(1) or m.group(2)) if m else None
    return v if v is not None and 10 <= v <= MAX_FULL_MARKS else None


def _field_full(f: Field | None) -> float:
    if f is None:
        return 100.0
    if f.full_marks is not None:
        return float(f.full_marks)
    return float(f.range[1]) if f.range else 100.0


def _markers(cb: Codebook) -> dict[str, str]:
    opts = cb.options or {}
    out = {}
    for opt, status in reversed(MARKERS):  # void wins over exempt over absent
        for x in opts.get(opt, []):
            out[norm_text(x)] = status
    return out


def blank_marker(x) -> bool:
    """True for a text that says "no score" without saying why (/, —, --, 空), not for -2.

    >>> [blank_marker(x) for x in ("/", "—", " -- ", "-2", "缺考", None)]
    [True, True, True, False, False, False]
    """
    return isinstance(x, str) and nz.skip(x) and not nz.is_blank(x) and not _INTEGER.fullmatch(x)


def has_score(x) -> bool:
    """True for a score cell that gives an exam row: a number, a marker (缺考, 免考 …) or an
    unreadable text (``invalid``); false for a blank cell or a :func:`blank_marker`."""
    return not nz.is_blank(x) and not blank_marker(x)


def blank_score_rows(rs: RawSheet, cm: ColumnMap, cb: Codebook) -> np.ndarray:
    """The rows with a score column whose score cells are all blank (or blank markers).

    False everywhere for a sheet with no score column (:func:`quarantine_unscored`)."""
    cols = [cm.single[f.var] for f in cb.score_fields if f.var in cm.single]
    out = np.zeros(rs.n, dtype=bool)
    if cols:
        out[:] = True
        for j in cols:
            out &= ~np.fromiter(map(has_score, rs.col(j)), dtype=bool, count=rs.n)
    return out


def read_score(x, hi: float, markers: dict[str, str]):
    """(value or status, rule) of one score cell: a marker's status, a number within 0..hi;
    (None, ``skip_marker``) for a :func:`blank_marker`."""
    if blank_marker(x):
        return None, "skip_marker"
    if isinstance(x, str):
        t = norm_text(x)
        if t in markers:
            return markers[t], None
        hit = [s for m, s in markers.items() if len(m) >= 2 and m in t]
        if hit:
            return hit[0], "exam_marker_text"
    if nz.is_blank(x):
        return None, None
    v, rule = nz.number(x, lo=0, hi=hi)
    return v, ("out_of_range" if rule == "fail:out_of_range" else rule)


def _one_column(sh, ctx, var, full, markers):
    """Status and score of one score column, with the full mark of each row."""
    raw = sh.column(var)
    pairs = list(zip(raw.to_numpy(dtype=object), full, strict=True))
    res = [read_score(x, hi, markers) for x, hi in pairs]
    vals = pd.Series([r[0] for r in res], dtype=object)
    rules = pd.Series([r[1] for r in res], dtype=object)
    log_rules(sh, ctx, sh.header_of(var), raw, vals, rules)
    status = vals.map(lambda v: v if isinstance(v, str) else ("sat" if v is not None else None))
    score = vals.map(lambda v: None if isinstance(v, str) else v)
    return raw, status, score, rules


def _note_full(sh, ctx, var, full, rows_sheet, first) -> None:
    """One ``full_marks`` note per column and sheet: the full mark its scores were read against."""
    seen = set()
    for s, i0 in first.items():
        fm = full[i0]
        if (s, fm) in seen:
            continue
        seen.add((s, fm))
        ctx.log.add(sh.rs, [i0], sh.header_of(var), None, f"{fm:g}", "full_marks")


def _frame(sh, year, term, subject, score, status, took) -> pd.DataFrame:
    """The exam rows of the cells ``took`` (``student_id`` filled once the rows are linked)."""
    return pd.DataFrame(
        {
            "i": np.arange(sh.rs.n),
            "student_id": None,
            "year": year,
            "term": term,
            "subject": subject,
            "score": score.astype(float).to_numpy(),
            "status": status.to_numpy(dtype=object),
        }
    )[took]


def wide_scores(sh, ctx, year, term, markers) -> list[pd.DataFrame]:
    """A column per subject: each a long frame (a score above full marks is ``invalid``)."""
    frames = []
    for f in sh.cb.fields:
        if f.type != "score" or f.var == GENERIC or f.var not in sh.cm.single:
            continue
        hdr = sh.header_of(f.var)
        fm = full_mark_in(hdr) or _field_full(f)
        full = np.full(sh.rs.n, fm)
        ctx.log.note(sh.rs, sh.rs.file, hdr, None, f"{fm:g}", "full_marks")
        raw, status, score, _ = _one_column(sh, ctx, f.var, full, markers)
        took = np.fromiter(map(has_score, raw), dtype=bool, count=sh.rs.n)
        frames.append(_frame(sh, year, term, f.subject, score, status, took))
    return frames


def sheet_scores(sh, ctx, year, term, markers) -> pd.DataFrame:
    """One score column, its subject from each row's sheet; above full marks is quarantined."""
    rs, st, cb = sh.rs, sh.st, sh.cb
    subj = _subjects(sh, ctx)
    rows_sheet, first = _sheets(sh)
    by_code = {f.subject: f for f in cb.fields if f.type == "score" and f.subject}
    own = full_mark_in(sh.header_of(GENERIC))
    full = np.empty(rs.n)
    for s, _ in first.items():
        rows = rows_sheet == s
        code = subj[np.flatnonzero(rows)[0]]
        full[rows] = (
            own
            or full_mark_in(rs.title_of(s))
            or full_mark_in(s)
            or (_field_full(by_code.get(code)) if code else _field_full(cb.field(GENERIC)))
        )
    _note_full(sh, ctx, GENERIC, full, rows_sheet, first)
    raw, status, score, rules = _one_column(sh, ctx, GENERIC, full, markers)
    bad = np.flatnonzero((rules == "out_of_range").to_numpy() & st.alive)
    hdr = sh.header_of(GENERIC)
    raw_v = raw.to_numpy(dtype=object)
    for i in bad:
        st.quarantine(
            [i],
            "score_above_full_marks",
            f"{hdr} {raw_v[i]!r} is not within 0-{full[i]:g} (full marks of {subj[i]})",
        )
    took = np.fromiter(map(has_score, raw), dtype=bool, count=rs.n) & pd.notna(subj)
    return _frame(sh, year, term, subj, score, status, took)


def quarantine_unscored(sh: Sheet) -> bool:
    """Quarantine every row of a sheet with no score column (no 成绩, no subject); True if so."""
    if any(f.var in sh.cm.single for f in sh.cb.score_fields):
        return False
    scores = "/".join(t for f in sh.cb.score_fields for t in f.text[:1])
    heads = ", ".join(sh.rs.header[:12]) + (" …" if len(sh.rs.header) > 12 else "")
    sh.st.quarantine(
        np.flatnonzero(sh.st.alive),
        NO_SCORE_COLUMN,
        f"no score column ({scores}) among the headers: {heads}",
    )
    return True


def quarantine_blank(sh: Sheet, ctx: Context) -> None:
    """Quarantine the rows with no score in any score column (``blank_score``), and log each
    sheet's count of them: they would give no exam row, and must not pass as kept."""
    rs = sh.rs
    blank = np.flatnonzero(blank_score_rows(rs, sh.cm, sh.cb) & sh.st.alive)
    if not len(blank):
        return
    heads = [h for f in sh.cb.score_fields if (h := sh.header_of(f.var))]
    cols = ", ".join(heads)
    what = f"the {cols} column" if len(heads) == 1 else f"any subject column ({cols})"
    sh.st.quarantine(blank, BLANK_SCORE, f"no score in {what}: blank, or a blank marker")
    sheets = rs.sheet_at(blank)
    for s in dict.fromkeys(sheets):
        n = int((sheets == s).sum())
        ctx.log.note(rs, rs.file, cols, None, en_noun(n, "row"), BLANK_SCORE, sheet=s)


def merge_repeats(sh: Sheet, sids: np.ndarray, subj: np.ndarray | None) -> None:
    """A student's second row for the same subject merges into the first (two class sheets)."""
    st = sh.st
    key = pd.Series(sids).astype(str)
    if subj is not None:
        key = key + "|" + pd.Series(subj).astype(str)
    dup = key.duplicated(keep="first").to_numpy() & st.alive & pd.notna(sids)
    first: dict[str, int] = {}
    for row, k in enumerate(key):
        first.setdefault(k, row)
    for i in np.flatnonzero(dup):
        st.merge([i], sh.rs.where(first[key[i]]))


def clean_exams(ctx: Context, sh: Sheet):
    rs, st = sh.rs, sh.st
    year = sh.src.year
    if year is None:
        raise InputError("an exams source needs year = ... in study.toml", file=sh.src.path)
    term = sh.src.term
    if term is None:
        raise InputError("an exams source needs term = 1 or 2 in study.toml", file=rs.file)
    if quarantine_unscored(sh):
        return
    names = decode(sh, ctx, "name", nz.name)
    gc = classes(sh, ctx, year, names)
    note_derived(sh, ctx)
    markers = _markers(sh.cb)
    generic = GENERIC in sh.cm.single
    # read the scores before linking: a sheet naming no subject, a row with no score, are
    # quarantined for that, not linked for nothing
    frames = [sheet_scores(sh, ctx, year, term, markers)] if generic else []
    frames += wide_scores(sh, ctx, year, term, markers)
    quarantine_blank(sh, ctx)
    sids = link_students(sh, ctx, year, gc=gc, names=names)
    for part in frames:
        part["student_id"] = sids[part["i"].to_numpy()]
    subj_rows = None
    if generic:
        subj_rows = np.full(rs.n, None, dtype=object)
        subj_rows[frames[0]["i"].to_numpy()] = frames[0]["subject"].to_numpy()
    merge_repeats(sh, sids, subj_rows)
    if frames:
        df = pd.concat(frames, ignore_index=True)
        df = df[st.alive[df["i"].to_numpy()]]
        df["status"] = df["status"].fillna("invalid")  # an unreadable score stays visible
        ctx.emit("exams", df.drop(columns="i"), sh, rows=df["i"].to_numpy())
