"""Hand-kept records: the staff roster as mentors are written in a log, and a log's dates.

A 班主任's log names a mentor by a 工号 Excel stripped of its leading zeros (1201 for 01201),
or by name only ("王芳", "语文-王芳", "王芳(语文)", "王芳 3班"); :class:`StaffIndex` finds the
roster's 工号 for either, and says why when it cannot. A log's date is often a merged cell
spanning several rows (:func:`fill_down_dates`) and often has no year (``10月12日(周四)``,
dated by :func:`~mentorlib.clean.when.date_in_year`).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..io.codebook import option_labels
from . import normalise as nz
from . import when
from .context import Context, Sheet

SUBJECT_ZH = option_labels("staff", "subject")  # code -> 语文
SUBJECT_CODE = {v: k for k, v in SUBJECT_ZH.items()}  # 语文 -> code
_SPLIT = re.compile(r"[\s\-—_/,，、:：(（)）\[\]【】]+")
_CLASS_ONLY = re.compile(r"^(\d{1,2}|[一二三四五六七八九十]{1,3})班$")


def _classes_of(row) -> set[str]:
    """The classes a staff member is tied to: homeroom, linked class and taught classes."""
    out: set[str] = set()
    for c in ("homeroom", "link_class", "classes"):
        v = row.get(c)
        if isinstance(v, str) and v:
            out.update(x for x in v.split(";") if x)
    return out


class StaffIndex:
    """The staff roster of one school year, for finding a mentor by 工号 or by name."""

    def __init__(self, ctx: Context, year: int):
        self.year = year
        self.ids: set[str] = {str(x) for x in ctx.staff_ids.get(year, set())}
        self.by_digits: dict[str, list[str]] = {}
        for sid in self.ids:
            if sid.isdigit():
                self.by_digits.setdefault(sid.lstrip("0"), []).append(sid)
        self.people: dict[str, list[dict]] = {}  # name -> [{id, subject, classes}]
        parts = [p for p in ctx.parts.get("staff", []) if isinstance(p, pd.DataFrame)]
        if parts:
            staff = pd.concat(parts, ignore_index=True)
            staff = staff[staff["year"].astype("Int64") == year]
            for row in staff.to_dict("records"):
                subj = row.get("subject")
                self.people.setdefault(str(row["name"]), []).append(
                    {
                        "id": str(row["staff_id"]),
                        "subject": subj if isinstance(subj, str) else None,
                        "classes": _classes_of(row),
                    }
                )
        else:  # only the name lookup the pipeline keeps
            for (y, nm), hits in ctx.staff_by_name.items():
                if int(y) == year:
                    self.people[str(nm)] = [
                        {"id": str(i), "subject": s, "classes": set()} for i, s in hits
                    ]

    def restore(self, sid: str) -> str | None:
        """The roster's 工号 for one whose leading zeros were stripped (or added) on the way:
        only when exactly one roster 工号 has the same digits after its zeros."""
        if not sid.isdigit():
            return None
        hits = self.by_digits.get(sid.lstrip("0"), [])
        return hits[0] if len(hits) == 1 else None

    def find(self, cell: str, subject: str | None = None) -> tuple[str | None, str, str]:
        """The 工号 of a mentor written by name: ``(id, reason, detail)``.

        ``reason`` is ``""`` when found, else ``unknown_mentor`` or ``ambiguous_mentor``; the
        cell may add a subject or a class ("语文-王芳", "王芳(语文)", "王芳 3班"), and
        ``subject`` is a 学科 column's value."""
        name, subj, cls = parse_mentor_cell(cell)
        subj = subj or (SUBJECT_CODE.get(subject) if subject else None)
        nm = nz.name(name)[0] if name else None
        hits = self.people.get(nm or "", [])
        if not hits:
            return None, "unknown_mentor", f"no staff named {cell!r} on the {self.year} roster"
        if len(hits) > 1 and subj:
            hits = [h for h in hits if h["subject"] == subj] or hits
        if len(hits) > 1 and cls:
            hits = [h for h in hits if any(_same_class(c, cls) for c in h["classes"])] or hits
        if len(hits) == 1:
            return hits[0]["id"], "", ""
        who = ", ".join(
            f"{h['id']} ({SUBJECT_ZH.get(h['subject'], h['subject'] or '?')})" for h in hits
        )
        return None, "ambiguous_mentor", f"{len(hits)} staff named {nm}: {who}"


def _same_class(roster_gc: str, given: str) -> bool:
    """A roster class 'g-c' against a class given as 'g-c' or as the class number only."""
    return roster_gc == given if "-" in given else roster_gc.split("-")[-1] == given


def parse_mentor_cell(cell: str) -> tuple[str | None, str | None, str | None]:
    """(name, subject code, class) of a mentor cell: '语文-王芳', '王芳(语文)', '王芳 3班',
    '王芳 三(2)班'. The class is 'g-c', or the class number alone when the grade is not given.

    >>> parse_mentor_cell("语文-王芳"), parse_mentor_cell("王芳 3班")
    (('王芳', 'chinese', None), ('王芳', None, '3'))
    """
    s = nz.text(cell)[0] or ""
    whole, _ = nz.grade_class(s.split()[-1]) if " " in s else (None, None)
    name_parts, subj, cls = [], None, None
    if whole:
        s, cls = " ".join(s.split()[:-1]), whole
    m = re.search(r"[(（]?\s*([一二三四五六七八九\d]{1,2})\s*[(（]\s*(\d{1,2})\s*[)）]\s*班", s)
    if m and cls is None:
        cls, s = nz.grade_class(m.group(0).lstrip("(（"))[0], s.replace(m.group(0), " ")
    for tok in (t for t in _SPLIT.split(s) if t):
        if tok in SUBJECT_CODE:
            subj = SUBJECT_CODE[tok]
        elif (c := _CLASS_ONLY.match(tok)) and cls is None:
            cls = str(nz.chinese_numeral(c.group(1)))
        else:
            name_parts.append(tok)
    return ("".join(name_parts) or None), subj, cls


def resolve_mentors(
    sh: Sheet, ctx: Context, year: int, mid: np.ndarray, names: pd.Series | None
) -> None:
    """Fill ``mid`` (the decoded 工号 per row) in place: a 工号 not on the roster gets its
    leading zeros back when one roster 工号 fits; a row with a name only is found by name.
    Quarantines the rest (``unknown_mentor``, ``ambiguous_mentor``, ``no_mentor``)."""
    st, rs = sh.st, sh.rs
    idx = StaffIndex(ctx, year)
    subj = sh.raw("mentor_subject")
    subj_vals = subj.to_numpy(dtype=object) if subj is not None else None
    name_vals = names.to_numpy(dtype=object) if names is not None else None
    fixes: dict[str, list] = {"staff_id_zero_restored": [], "mentor_by_name": []}
    bad: dict[str, list[tuple[int, str]]] = {"unknown_mentor": [], "ambiguous_mentor": []}
    todo = np.flatnonzero(st.alive & np.array([m not in idx.ids for m in mid], dtype=bool))
    for i in (int(k) for k in todo):
        m = mid[i]
        if m is not None:
            r = idx.restore(str(m))
            if r is None:
                bad["unknown_mentor"].append((i, f"工号 {m} not on the {year} staff roster"))
                continue
            fixes["staff_id_zero_restored"].append((i, m, r))
            mid[i] = r
            continue
        cell = name_vals[i] if name_vals is not None else None
        if nz.is_blank(cell):
            continue  # no_mentor below
        s = subj_vals[i] if subj_vals is not None else None
        sid, why, detail = idx.find(str(cell), nz.text(s)[0] if not nz.is_blank(s) else None)
        if sid is None:
            bad[why].append((i, detail))
            continue
        fixes["mentor_by_name"].append((i, cell, sid))
        mid[i] = sid
    for rule, rows in fixes.items():
        col = sh.header_of("mentor_id" if rule == "staff_id_zero_restored" else "mentor_name")
        ctx.log.add(rs, [r[0] for r in rows], col, [r[1] for r in rows], [r[2] for r in rows], rule)
    for why, rows in bad.items():
        st.quarantine([r[0] for r in rows], why, [r[1] for r in rows])
    miss = np.array([m is None for m in mid], dtype=bool) & st.alive
    st.quarantine(np.flatnonzero(miss), "no_mentor", "导师工号 and 导师姓名 missing")


# ----------------------------------------------------------------------------- dates


def fill_down_dates(sh: Sheet, ctx: Context, var: str, needed: tuple[str, ...]) -> pd.Series:
    """The raw date column with a merged date cell filled down, each filled cell logged
    ``date_filled_down``. A workbook whose merged ranges the reader saw fills the cells below
    the top of a range; otherwise a blank date below a dated row of the same sheet is filled
    when the row has every cell of ``needed`` that the sheet has a column for."""
    raw = sh.raw(var)
    if raw is None:
        return pd.Series([None] * sh.rs.n, dtype=object)
    vals = raw.to_numpy(dtype=object).copy()
    sheets = sh.rs.sheet_at(np.arange(sh.rs.n))
    if sh.rs.merged is not None:  # the workbook's own ranges
        below = sh.rs.merged.get(sh.cm.single[var], np.zeros(sh.rs.n, dtype=bool))
    else:
        below = np.ones(sh.rs.n, dtype=bool)
        for v in needed:
            if v in sh.cm.single:
                below &= sh.filled(v)
    filled = []
    for i in range(1, len(vals)):
        if nz.is_blank(vals[i]) and below[i] and not nz.is_blank(vals[i - 1]):
            if sheets[i] == sheets[i - 1]:
                vals[i] = vals[i - 1]
                filled.append(i)
    if filled:
        ctx.log.add(sh.rs, filled, sh.header_of(var), None, vals[filled], "date_filled_down")
    return pd.Series(vals, index=raw.index, dtype=object)


def log_year(sh: Sheet, ctx: Context, var: str) -> int | None:
    """The school year a log's dates without a year belong to: the source's ``year``, else
    the year of most of its full dates, else the study's one year."""
    if sh.src.year is not None:
        return sh.src.year
    raw = sh.raw(var)
    if raw is not None:
        full = pd.to_datetime(nz.apply(raw, when.date_)[0], errors="coerce").dropna()
        if len(full):
            ys = full.dt.year - (full.dt.month < 8)
            return int(ys.mode().iloc[0])
    years = list(ctx.cfg.years)
    return years[0] if len(years) == 1 else None
