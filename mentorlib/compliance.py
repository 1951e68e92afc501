"""Process compliance: the programme's records checked against its rulebook.

The activity table of ``PROGRAMME.md`` says what every mentor must do (talk with each student
every month, a three-party communication a month, two group-counselling sessions a term ...);
the targets say who must take part (100% of staff, 100% of students) and how much regrouping is
allowed (at most 15%). This module measures each rule on one school year of a processed study,
school-wide, by month, by grade and by mentor, and says whether the target was met.

Entry points
------------
:func:`compliance_report`
    One year: a :class:`ComplianceReport` (indicators, by_month, by_grade, by_mentor, heatmap).
:func:`compliance_trend`
    Every year of the study: one row per indicator and year (for the three-year pilot review).
:func:`mentor_by_month`
    Who mentors whom in each school month (the base every per-student rule is counted on).

Definitions
-----------
School months
    ``calendar.year_months(year)``: September-January (term 1) and March-June (term 2). A
    record dated outside them (February, the summer) counts for no monthly rule.
The mentor of a student in a month
    The assignment row in force: each row of the year applies from its first month (the first
    month of its term, or the month of its ``start_date`` if later) until a later row replaces
    it. With the canonical rows (term 1 for everyone, term 2 only for changes) this is the
    term-1 mentor in term-1 months and, after a term-2 regroup row, the new mentor in term-2
    months. A student with no row in force that month has no mentor that month.
Which records count
    A per-student record (talk, three-party, parent call, student report, home visit) counts
    for a student-month when its mentor is the student's mentor that month, or is not recorded;
    a record made by another staff member does not count. Mentor-level records
    (subject-teacher exchange, group counselling) count for the mentor who made them.
Roster
    Primary: every student of the year's ``students`` table. Middle: the nominated mentees
    (``students.mentee``). Students with an assignment but not on the roster are counted in
    the per-student rules and noted.

Indicators (code, value, denominator ``n``; targets from :mod:`mentorlib.rules`)
    ``staff_coverage``
        Share of staff in the rulebook's mentor roles who mentor at least one student in some
        school month. ``n`` = those staff. Primary target 1.0 ("100% of staff are mentors").
        Middle school: the class and subject teachers of a grade (staff with a grade); only
        1-2 nominated students per mentor, so not every teacher mentors: no target.
    ``student_coverage``
        Share of roster students with a mentor in at least one school month. ``n`` = roster
        students (primary: all students; middle: the nominated mentees). Target 1.0.
    ``group_size``
        Share of mentors whose group size is within ``[group_min, group_max]`` in every term
        they mentor; a group's size in a term is the number of distinct students the mentor
        mentors in any month of that term. ``n`` = mentors. Target 1.0.
    ``training_hours``
        Share of mentors with ``training_hours >= rules.training_hours`` on the year's staff
        roster (primary: 40). A mentor without a record counts as not meeting it. Target 1.0.
    ``certified``
        Share of mentors with ``certified`` true (missing counts as not certified). Target 1.0.
    ``talk``, ``three_party``, ``parent_call``, ``student_report``
        Share of student-months (students with a mentor that month) with at least the monthly
        number the rulebook asks (talks: 1 primary, 2 middle). ``n`` = student-months.
    ``subject_exchange``
        Share of mentor-months (mentors with at least one student that month) with at least
        ``subject_exchanges_per_month`` exchanges. ``n`` = mentor-months.
    ``group_counselling``
        Share of mentor-terms with at least ``group_counselling_per_term`` sessions dated in the
        term (``calendar.term_bounds``). ``n`` = mentor-terms.
    ``home_visit``
        Share of mentees (students with a mentor in some month of the year) with at least
        ``home_visits_per_year`` visits dated in the school year. ``n`` = mentees.
    ``mood_participation``
        Sum of ``days_recorded`` over the sum of ``school_days``, over every roster
        student-month ("every student, every day"); a student-month without a mood row counts
        as 0 days recorded out of the calendar's school days. ``n`` = student-months.
    ``regroup_share``
        The largest share of students who changed mentor in one adjustment of the year: at
        the start of the year (term-1 rows with ``regroup`` true, over the students with a
        term-1 row) and in term 2 (students whose term-2 row names a mentor other than their
        term-1 mentor, over the students with a term-1 mentor). ``n`` = the denominator of
        the larger. Target ``max_regroup_share`` (0.15); passed when ``value <= target``.

    Every other indicator passes when ``value >= target``: a target of 1.0 means the rule
    held in every unit (student-month, mentor ...) counted. Indicators whose rule the
    level's rulebook does not have (0, None or False) are left out; ``passed`` is missing
    when there is no target or no unit to count.

Privacy
-------
``by_month`` and ``by_grade`` carry ``n_students`` (the distinct students a cell describes;
for mentor-level rules the students of the mentors counted) and are passed through
:func:`mentorlib.privacy.suppress_small_cells`: a cell describing fewer than ``min_cell``
students has its value, pass flag and counts blanked (``suppressed`` true). Suppression is
primary only (see that module). ``by_mentor`` identifies mentors by staff ID and is internal
(:attr:`ComplianceReport.INTERNAL`); the public heatmap has no mentor label and blanks the
cells of mentors with fewer than ``min_cell`` mentees that month (every middle-school cell:
groups of 1-2).

Examples
--------
>>> from mentorlib.synth import generate, SynthParams
>>> from mentorlib.data import from_synth
>>> P = from_synth(generate(SynthParams(n_students=200, n_years=1, seed=5)))
>>> rep = compliance_report(P, 2023)
>>> rep.indicators["indicator"].tolist()[:4]
['staff_coverage', 'student_coverage', 'group_size', 'training_hours']
>>> float(rep.indicators.set_index("indicator").loc["student_coverage", "value"])
1.0
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np
import pandas as pd

from . import calendar
from .errors import InputError
from .privacy import MIN_CELL, suppress_small_cells
from .rules import Rulebook

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .data import Processed

#: Indicator codes in report order, with their Chinese and English labels.
INDICATORS: dict[str, tuple[str, str]] = {
    "staff_coverage": ("教职工担任导师比例", "Staff serving as mentors"),
    "student_coverage": ("学生配备导师比例", "Students with a mentor"),
    "group_size": ("导师组人数达标比例", "Mentors with a group of the required size"),
    "training_hours": ("导师培训学时达标比例", "Mentors with the required training hours"),
    "certified": ("导师持证比例", "Mentors certified"),
    "talk": ("谈心谈话达标率", "One-to-one talks"),
    "three_party": ("三方沟通达标率", "Three-party communication"),
    "subject_exchange": ("与学科教师交流达标率", "Exchanges with subject teachers"),
    "group_counselling": ("团体辅导达标率", "Group counselling"),
    "parent_call": ("家长电话达标率", "Parent phone calls"),
    "home_visit": ("家访达标率", "Home visits"),
    "student_report": ("学生汇报达标率", "Student reports to the mentor"),
    "mood_participation": ("心情晴雨表参与率", "Mood-chart participation"),
    "regroup_share": ("单次调整更换导师比例", "Largest share regrouped in one adjustment"),
}

#: Indicators whose ``n`` counts students and whose value is a share of them (the students
#: with a mentor, the mentees visited at home, the students regrouped): published with their
#: numerator and complement under disclosure control (:mod:`mentorlib.privacy`).
STUDENT_INDICATORS = ("student_coverage", "home_visit", "regroup_share")

#: Per-student monthly rules: indicator (= activity kind) -> rulebook attribute.
STUDENT_MONTHLY: dict[str, str] = {
    "talk": "talks_per_month",
    "three_party": "three_party_per_month",
    "parent_call": "parent_calls_per_month",
    "student_report": "student_reports_per_month",
}

#: Indicators with a value per month (``by_month``) and per mentor and month (``by_mentor``).
MONTHLY = (
    "talk",
    "three_party",
    "subject_exchange",
    "parent_call",
    "student_report",
    "mood_participation",
)

INDICATOR_COLUMNS = [
    "indicator",
    "label_zh",
    "label_en",
    "value",
    "target",
    "target_zh",
    "target_en",
    "unit",
    "passed",
    "n",
    "note",
]

_TOL = 1e-12


# --------------------------------------------------------------------------- rules


def required_indicators(rules: Rulebook) -> list[str]:
    """The indicator codes a rulebook asks for, in report order."""
    need = {
        "staff_coverage": True,
        "student_coverage": True,
        "group_size": True,
        "training_hours": bool(rules.training_hours),
        "certified": bool(rules.training_hours),
        "talk": rules.talks_per_month > 0,
        "three_party": rules.three_party_per_month > 0,
        "subject_exchange": rules.subject_exchanges_per_month > 0,
        "group_counselling": rules.group_counselling_per_term > 0,
        "parent_call": rules.parent_calls_per_month > 0,
        "home_visit": rules.home_visits_per_year > 0,
        "student_report": rules.student_reports_per_month > 0,
        "mood_participation": bool(rules.mood_chart),
        "regroup_share": rules.max_regroup_share is not None,
    }
    return [code for code in INDICATORS if need[code]]


def _target(code: str, rules: Rulebook) -> tuple[float, str, str]:
    """Target share and the rule in words (zh, en) of an indicator."""
    r = rules
    if code == "staff_coverage" and not r.all_students_mentored:
        return math.nan, "不适用（按需配备）", "not applicable (as needed)"
    if code == "regroup_share":
        return (
            float(r.max_regroup_share),
            f"≤{r.max_regroup_share:.0%}",
            f"<= {r.max_regroup_share:.0%}",
        )
    words = {
        "staff_coverage": ("全员100%", "100% of staff"),
        "student_coverage": ("100%", "100%"),
        "group_size": (
            f"每位导师{r.group_min}–{r.group_max}人",
            f"{r.group_min}-{r.group_max} students per mentor",
        ),
        "training_hours": (
            f"≥{r.training_hours or 0:g}学时",
            f">= {r.training_hours or 0:g} hours",
        ),
        "certified": ("持证上岗", "certified"),
        "subject_exchange": (
            f"≥{r.subject_exchanges_per_month}次/月",
            f">= {r.subject_exchanges_per_month} a month",
        ),
        "group_counselling": (
            f"≥{r.group_counselling_per_term}次/学期",
            f">= {r.group_counselling_per_term} a term",
        ),
        "home_visit": (f"≥{r.home_visits_per_year}次/学年", f">= {r.home_visits_per_year} a year"),
        "mood_participation": ("每人每天", "every student, every day"),
    }
    if code in STUDENT_MONTHLY:
        k = getattr(r, STUDENT_MONTHLY[code])
        words[code] = (f"≥{k}次/月", f">= {k} a month")
    zh, en = words[code]
    return 1.0, zh, en


def _passed(code: str, value: float, target: float):
    if value is None or target is None or not np.isfinite(value) or not np.isfinite(target):
        return pd.NA
    if code == "regroup_share":
        return bool(value <= target + _TOL)
    return bool(value >= target - _TOL)


def _passed_vec(code: pd.Series, value: pd.Series, target: pd.Series) -> pd.Series:
    v = pd.to_numeric(value, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    t = pd.to_numeric(target, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    upper = (code == "regroup_share").to_numpy()
    ok = np.where(upper, v <= t + _TOL, v >= t - _TOL)
    out = pd.array(ok, dtype="boolean")
    out[np.isnan(v) | np.isnan(t)] = pd.NA
    return pd.Series(out, index=value.index)


# --------------------------------------------------------------------------- inputs


def _ids(s: pd.Series) -> pd.Series:
    """IDs as ``str`` (categorical, object or integer in), missing kept missing."""
    return s.astype("str")


def _months(year: int) -> pd.DataFrame:
    """The school months of a year: idx, mkey (YYYYMM int), month (YYYY-MM), term, last day."""
    rows = []
    for term in (1, 2):
        for cy, m in calendar.term_months(year, term):
            rows.append(
                {
                    "mkey": cy * 100 + m,
                    "month": calendar.month_label(cy, m),
                    "term": term,
                    "last": pd.Timestamp(cy, m, 1) + pd.offsets.MonthEnd(0),
                    "days": len(calendar.school_days_in_month(year, cy, m)),
                }
            )
    out = pd.DataFrame(rows)
    out.insert(0, "idx", np.arange(len(out)))
    return out


def _check_year(processed, year: int) -> None:
    if year not in tuple(processed.years):
        raise InputError(
            f"year {year} is not in study {processed.name!r} (years {tuple(processed.years)})"
        )


def _table(processed, name: str) -> pd.DataFrame | None:
    return processed[name] if name in processed else None


def _mkey(dates: pd.Series) -> pd.Series:
    d = pd.to_datetime(dates, errors="coerce")
    return (d.dt.year * 100 + d.dt.month).astype("Int64")


def mentor_by_month(processed: Processed, year: int) -> pd.DataFrame:
    """The mentor of every assigned student in every school month of a year.

    Parameters
    ----------
    processed : Processed
        A processed study (its ``assignments`` table).
    year : int
        The school year.

    Returns
    -------
    DataFrame
        ``student_id, month`` (``YYYY-MM``), ``term, mentor_id``: one row per student and
        school month in which an assignment row is in force (see the module's definitions).
    """
    _check_year(processed, year)
    return _mentor_months(processed, year).drop(columns="mkey")


def _mentor_months(processed, year: int) -> pd.DataFrame:
    """:func:`mentor_by_month` with the month also as a YYYYMM integer (``mkey``)."""
    months = _months(year)
    a = processed["assignments"]
    a = a.loc[a["year"] == year]
    rows = pd.DataFrame(
        {
            "student_id": _ids(a["student_id"]).to_numpy(),
            "mentor_id": _ids(a["mentor_id"]).to_numpy(),
            "row_term": pd.to_numeric(a["term"], errors="coerce").to_numpy(),
            "start": pd.to_datetime(a["start_date"], errors="coerce").to_numpy(),
        }
    )
    rows = rows.dropna(subset=["student_id", "mentor_id", "row_term"])
    rows["order"] = np.arange(len(rows))
    cross = rows.merge(months[["idx", "mkey", "month", "term", "last"]], how="cross")
    in_force = (cross["term"] >= cross["row_term"]) & (
        cross["start"].isna() | (cross["start"] <= cross["last"])
    )
    cross = cross.loc[in_force].sort_values(
        ["student_id", "idx", "row_term", "start", "order"], kind="stable", na_position="first"
    )
    last = cross.drop_duplicates(["student_id", "idx"], keep="last")
    return last[["student_id", "month", "term", "mentor_id", "mkey"]].reset_index(drop=True)


def _roster(processed, year: int, rules: Rulebook) -> pd.DataFrame:
    """Students of the year (``student_id, grade``): all, or the nominated mentees."""
    s = processed["students"]
    s = s.loc[s["year"] == year]
    if not rules.all_students_mentored and "mentee" in s.columns:
        s = s.loc[s["mentee"].astype("boolean").fillna(False).to_numpy(dtype=bool)]
    out = pd.DataFrame(
        {
            "student_id": _ids(s["student_id"]).to_numpy(),
            "grade": pd.to_numeric(s["grade"], errors="coerce").astype("Int64").to_numpy(),
        }
    )
    return out.drop_duplicates("student_id")


def _grades(processed, year: int) -> pd.DataFrame:
    s = processed["students"]
    s = s.loc[s["year"] == year]
    return pd.DataFrame(
        {
            "student_id": _ids(s["student_id"]).to_numpy(),
            "grade": pd.to_numeric(s["grade"], errors="coerce").astype("Int64").to_numpy(),
        }
    ).drop_duplicates("student_id")


def _activities(processed, year: int) -> pd.DataFrame:
    """The year's activity records: mentor_id, student_id, activity, mkey, term, school_year."""
    acts = _table(processed, "activities")
    cols = ["mentor_id", "student_id", "activity", "mkey", "term", "school_year"]
    if acts is None or not len(acts):
        return pd.DataFrame({c: pd.Series(dtype="object") for c in cols})
    d = pd.to_datetime(acts["date"], errors="coerce")
    sy = calendar.school_years_of(d).astype("Int64")
    if "year" in acts.columns:
        sy = sy.fillna(pd.to_numeric(acts["year"], errors="coerce").astype("Int64"))
    term = pd.Series(pd.NA, index=acts.index, dtype="Int64")
    for t in (1, 2):
        lo, hi = calendar.term_bounds(year, t)
        term = term.mask((d.dt.normalize() >= lo) & (d.dt.normalize() <= hi), t)
    out = pd.DataFrame(
        {
            "mentor_id": _ids(acts["mentor_id"]),
            "student_id": _ids(acts["student_id"]),
            "activity": acts["activity"].astype("str"),
            "mkey": _mkey(acts["date"]),
            "term": term,
            "school_year": sy,
        }
    )
    return out.loc[(out["school_year"] == year).fillna(False).to_numpy(dtype=bool)]


# --------------------------------------------------------------------------- units


def _units(code, frame, num, den=1.0) -> pd.DataFrame:
    """Counting units of one indicator: one row each, with a numerator and a denominator."""
    out = pd.DataFrame(
        {
            "indicator": code,
            "student_id": frame["student_id"] if "student_id" in frame else pd.NA,
            "mentor_id": frame["mentor_id"] if "mentor_id" in frame else pd.NA,
            "mkey": frame["mkey"] if "mkey" in frame else pd.NA,
            "grade": frame["grade"] if "grade" in frame else pd.NA,
            "students": frame["students"] if "students" in frame else 1,
            "num": np.asarray(num, dtype=float),
            "den": np.asarray(den, dtype=float) * np.ones(len(frame)),
        },
        index=frame.index,
    )
    return out.reset_index(drop=True)


def _student_monthly(sm: pd.DataFrame, acts: pd.DataFrame, codes: list[str], rules) -> list:
    """Units of the per-student monthly rules: student-months with a mentor."""
    taught = sm.loc[sm["mentor_id"].notna()]
    a = acts.loc[acts["activity"].isin(codes) & acts["student_id"].notna()]
    a = a.merge(
        taught[["student_id", "mkey", "mentor_id"]],
        on=["student_id", "mkey"],
        how="inner",
        suffixes=("", "_m"),
    )
    a = a.loc[a["mentor_id"].isna() | (a["mentor_id"] == a["mentor_id_m"])]
    counts = a.groupby(["student_id", "mkey", "activity"]).size().rename("k").reset_index()
    out = []
    for code in codes:
        c = counts.loc[counts["activity"] == code, ["student_id", "mkey", "k"]]
        k = taught.merge(c, on=["student_id", "mkey"], how="left")["k"].fillna(0)
        out.append(_units(code, taught, k.to_numpy() >= getattr(rules, STUDENT_MONTHLY[code])))
    return out


def _group_sizes(mm: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Students per mentor and month, and per mentor and term."""
    per_month = mm.groupby(["mentor_id", "mkey"]).size().rename("students").reset_index()
    per_term = (
        mm.groupby(["mentor_id", "term"])["student_id"].nunique().rename("students").reset_index()
    )
    return per_month, per_term


def _mentor_rules(mm, acts, rules, need) -> list:
    """Units of the mentor-level rules: subject exchanges (mentor-months), counselling (terms)."""
    per_month, per_term = _group_sizes(mm)
    out = []
    if "subject_exchange" in need:
        a = acts.loc[(acts["activity"] == "subject_exchange") & acts["mentor_id"].notna()]
        k = a.groupby(["mentor_id", "mkey"]).size().rename("k").reset_index()
        f = per_month.merge(k, on=["mentor_id", "mkey"], how="left")
        f = f.assign(student_id=pd.NA, grade=pd.NA)
        ok = f["k"].fillna(0).to_numpy() >= rules.subject_exchanges_per_month
        out.append(_units("subject_exchange", f, ok))
    if "group_counselling" in need:
        a = acts.loc[(acts["activity"] == "group_counselling") & acts["mentor_id"].notna()]
        k = a.groupby(["mentor_id", "term"]).size().rename("k").reset_index()
        f = per_term.merge(k, on=["mentor_id", "term"], how="left")
        f = f.assign(student_id=pd.NA, grade=pd.NA, mkey=pd.NA)
        ok = f["k"].fillna(0).to_numpy() >= rules.group_counselling_per_term
        out.append(_units("group_counselling", f, ok))
    return out


def _home_visits(mm, acts, grades, rules) -> pd.DataFrame:
    """Units of the yearly home-visit rule: mentees (students with a mentor in the year)."""
    pairs = mm[["student_id", "mentor_id"]].drop_duplicates()
    mentees = pairs[["student_id"]].drop_duplicates().merge(grades, on="student_id", how="left")
    a = acts.loc[(acts["activity"] == "home_visit") & acts["student_id"].notna()]
    a = a.merge(pairs.assign(ok=True), on=["student_id", "mentor_id"], how="left")
    a = a.loc[a["ok"].fillna(False).astype(bool) | a["mentor_id"].isna()]
    k = a.groupby("student_id").size().rename("k").reset_index()
    k = mentees.merge(k, on="student_id", how="left")["k"].fillna(0).to_numpy()
    return _units("home_visit", mentees, k >= rules.home_visits_per_year)


def _mood(processed, year, sm, months) -> tuple[pd.DataFrame | None, str]:
    """Units of the mood chart: roster student-months, days recorded over school days."""
    mood = _table(processed, "mood")
    roster_sm = sm.loc[sm["on_roster"]]
    if mood is None:
        return None, "no mood-chart table in the study"
    m = mood.loc[mood["year"] == year]
    if not len(m):
        return None, f"no mood-chart records for {year}"
    f = pd.DataFrame(
        {
            "student_id": _ids(m["student_id"]).to_numpy(),
            "month": m["month"].astype("str").to_numpy(),
            "rec": pd.to_numeric(m["days_recorded"], errors="coerce").to_numpy(
                dtype=float, na_value=np.nan
            ),
            "sd": pd.to_numeric(m["school_days"], errors="coerce").to_numpy(
                dtype=float, na_value=np.nan
            ),
        }
    )
    f = f.groupby(["student_id", "month"], as_index=False).agg(rec=("rec", "sum"), sd=("sd", "max"))
    g = roster_sm.merge(f, on=["student_id", "month"], how="left")
    g = g.merge(months[["month", "days"]], on="month", how="left")
    sd = g["sd"].fillna(g["days"]).to_numpy(dtype=float)
    missing = int(g["rec"].isna().sum())
    note = (
        "value = days recorded / school days; n = roster student-months; "
        f"{missing} student-months without a record count as 0 days"
    )
    return _units("mood_participation", g, g["rec"].fillna(0).to_numpy(), sd), note


# --------------------------------------------------------------------------- people


def _staff_coverage(processed, year, rules, mentors: set) -> dict:
    st = processed["staff"]
    st = st.loc[st["year"] == year]
    role = st["role"].astype("str")
    keep = role.isin(rules.mentor_roles).to_numpy()
    if not rules.all_students_mentored and "grade" in st.columns:
        keep = keep & pd.to_numeric(st["grade"], errors="coerce").notna().to_numpy()
    ids = set(_ids(st.loc[keep, "staff_id"]).dropna())
    n = len(ids)
    k = len(ids & mentors)
    off = len(mentors - set(_ids(st["staff_id"]).dropna()))
    who = (
        f"staff in mentor roles ({', '.join(rules.mentor_roles)})"
        if rules.all_students_mentored
        else "class and subject teachers of a grade"
    )
    note = f"n = {who}; {n - k} of them mentor no student"
    if not rules.all_students_mentored:
        note += "; middle school mentors only nominated students (1-2 each): no target"
    if off:
        note += f"; {off} mentor IDs not on the year's staff roster"
    return {"value": k / n if n else math.nan, "n": n, "note": note}


def _mentor_table(processed, year, mentors: list[str]) -> pd.DataFrame:
    st = processed["staff"]
    st = st.loc[st["year"] == year]
    f = pd.DataFrame(
        {
            "mentor_id": _ids(st["staff_id"]).to_numpy(),
            "hours": pd.to_numeric(st["training_hours"], errors="coerce").to_numpy(
                dtype=float, na_value=np.nan
            ),
            "certified": st["certified"].astype("boolean").to_numpy(),
        }
    ).drop_duplicates("mentor_id")
    keys = pd.DataFrame({"mentor_id": pd.Series(mentors, dtype="str")})
    return keys.merge(f, on="mentor_id", how="left")


def _people_rows(processed, year, rules, mm, need) -> dict[str, dict]:
    mentors = sorted(mm["mentor_id"].unique())
    rows: dict[str, dict] = {}
    rows["staff_coverage"] = _staff_coverage(processed, year, rules, set(mentors))
    _, per_term = _group_sizes(mm)
    lo = per_term.groupby("mentor_id")["students"].min()
    hi = per_term.groupby("mentor_id")["students"].max()
    ok = (lo >= rules.group_min) & (hi <= rules.group_max)
    rows["group_size"] = {
        "value": float(ok.mean()) if len(ok) else math.nan,
        "n": len(ok),
        "note": f"n = mentors; size = distinct students in a term; "
        f"{int((hi > rules.group_max).sum())} above {rules.group_max}, "
        f"{int((lo < rules.group_min).sum())} below {rules.group_min}",
    }
    if "training_hours" in need or "certified" in need:
        t = _mentor_table(processed, year, mentors)
        n = len(t)
        h = t["hours"].to_numpy(dtype=float)
        no_h = int(np.isnan(h).sum())
        rows["training_hours"] = {
            "value": float(np.mean(np.nan_to_num(h, nan=-1) >= rules.training_hours - _TOL))
            if n
            else math.nan,
            "n": n,
            "note": f"n = mentors; {no_h} without recorded hours count as not meeting",
        }
        c = t["certified"].astype("boolean")
        rows["certified"] = {
            "value": float(c.fillna(False).astype(bool).mean()) if n else math.nan,
            "n": n,
            "note": f"n = mentors; {int(c.isna().sum())} without a record count as not certified",
        }
    return rows


def _regroup_row(processed, year, mm) -> dict:
    a = processed["assignments"]
    a = a.loc[a["year"] == year]
    term = pd.to_numeric(a["term"], errors="coerce").to_numpy()
    sid = _ids(a["student_id"])
    t1 = a.loc[term == 1]
    base1 = set(sid[term == 1].dropna())
    regroup = t1["regroup"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    moved1 = set(_ids(t1["student_id"])[regroup].dropna())
    first = (
        mm.loc[mm["term"] == 1]
        .sort_values("mkey", kind="stable")
        .drop_duplicates("student_id", keep="last")
        .set_index("student_id")["mentor_id"]
    )
    t2 = pd.DataFrame({"student_id": sid[term == 2], "mentor_id": _ids(a["mentor_id"])[term == 2]})
    t2 = t2.dropna().assign(before=lambda d: d["student_id"].map(first))
    moved2 = set(t2.loc[t2["before"].notna() & (t2["before"] != t2["mentor_id"]), "student_id"])
    shares = [
        (len(moved1) / len(base1) if base1 else math.nan, len(base1), len(moved1)),
        (len(moved2) / len(first) if len(first) else math.nan, len(first), len(moved2)),
    ]
    valid = [s for s in shares if np.isfinite(s[0])]
    best = max(valid, key=lambda s: s[0]) if valid else (math.nan, 0, 0)
    note = (
        f"start of year {shares[0][2]}/{shares[0][1]}, term 2 {shares[1][2]}/{shares[1][1]}; "
        "the larger share is reported; n = students mentored before that adjustment"
    )
    return {"value": best[0], "n": best[1], "note": note}


# --------------------------------------------------------------------------- aggregation


def _aggregate(units: pd.DataFrame, keys: list[str], students: str) -> pd.DataFrame:
    g = units.groupby(["indicator", *keys], sort=False, observed=True, dropna=True)
    out = g.agg(num=("num", "sum"), den=("den", "sum"), n=("num", "size"))
    if students == "sum":
        out["n_students"] = g["students"].sum()
    elif students == "nunique":
        out["n_students"] = g["student_id"].nunique()
    out = out.reset_index()
    with np.errstate(invalid="ignore", divide="ignore"):
        out["value"] = (out["num"] / out["den"]).astype(float)
    return out.drop(columns=["num", "den"])


def _with_targets(df: pd.DataFrame, targets: dict[str, float]) -> pd.DataFrame:
    df = df.assign(target=df["indicator"].map(targets).astype(float))
    return df.assign(passed=_passed_vec(df["indicator"], df["value"], df["target"]))


def _order(df: pd.DataFrame, key: str) -> pd.DataFrame:
    rank = {c: i for i, c in enumerate(INDICATORS)}
    return (
        df.assign(_r=df["indicator"].map(rank))
        .sort_values([key, "_r"], kind="stable")
        .drop(columns="_r")
        .reset_index(drop=True)
    )


def _month_label(mkey) -> str:
    mkey = int(mkey)
    return calendar.month_label(mkey // 100, mkey % 100)


def _by_month(units, targets, min_cell) -> pd.DataFrame:
    u = units.loc[units["indicator"].isin(MONTHLY)]
    u = u.loc[u["mkey"].notna()]
    t = _aggregate(u, ["mkey"], "sum")
    t = _with_targets(t, targets)
    t = _order(t.assign(month=t["mkey"].map(_month_label)), "mkey")
    t = t[["month", "indicator", "value", "target", "passed", "n", "n_students"]]
    return _suppress(t, min_cell)


def _by_grade(units, targets, min_cell) -> pd.DataFrame:
    u = units.loc[units["student_id"].notna() & units["grade"].notna()]
    t = _aggregate(u.assign(grade=u["grade"].astype("Int64")), ["grade"], "nunique")
    t = _order(_with_targets(t, targets), "grade")
    t = t[["grade", "indicator", "value", "target", "passed", "n", "n_students"]]
    return _suppress(t, min_cell)


def _suppress(t: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    t = t.astype({"n": "int64", "n_students": "int64", "value": float, "target": float})
    return suppress_small_cells(
        t,
        counts="n_students",
        min_cell=min_cell,
        columns=["value", "passed", "n", "n_students"],
    )


def _by_mentor(units) -> pd.DataFrame:
    u = units.loc[units["mentor_id"].notna() & units["mkey"].notna()]
    u = u.loc[u["indicator"].isin(MONTHLY)]
    t = _aggregate(u, ["mentor_id", "mkey"], "none")
    t = t.assign(month=t["mkey"].map(_month_label)).sort_values(
        ["mentor_id", "mkey"], kind="stable"
    )
    return t[["mentor_id", "month", "indicator", "value", "n"]].reset_index(drop=True)


# --------------------------------------------------------------------------- the report


def _plain(v):
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def _records(df: pd.DataFrame) -> list[dict]:
    return [
        {str(k): _plain(v) for k, v in row.items()}
        for row in df.astype("object").to_dict("records")
    ]


@dataclass
class ComplianceReport:
    """Process compliance of one school year against the level's rulebook.

    Attributes
    ----------
    year : int
    level : {"primary", "middle"}
    indicators : DataFrame
        School level, one row per indicator (see the module docstring for the definitions):
        ``indicator, label_zh, label_en, value`` (a share in [0, 1]), ``target`` (NaN when
        none), ``target_zh, target_en`` (the rule in words), ``unit`` ("share"), ``passed``
        (nullable boolean; missing when not applicable), ``n`` (the denominator), ``note``
        (what ``n`` counts and anything counted specially, English).
    by_month : DataFrame
        ``month`` (YYYY-MM), ``indicator, value, target, passed, n``, plus ``n_students`` and
        ``suppressed`` (small cells blanked). Monthly indicators only.
    by_grade : DataFrame
        ``grade, indicator, value, target, passed, n``, plus ``n_students`` and
        ``suppressed``. Per-student indicators only (students of unknown grade are left out).
    by_mentor : DataFrame
        INTERNAL: ``mentor_id, month, indicator, value, n`` (n = the mentor's mentees that
        month; 1 for the mentor-level ``subject_exchange``).
    min_cell : int
        The suppression threshold used.
    """

    year: int
    level: str
    indicators: pd.DataFrame
    by_month: pd.DataFrame
    by_grade: pd.DataFrame
    by_mentor: pd.DataFrame
    min_cell: int = MIN_CELL

    INTERNAL: ClassVar[tuple[str, ...]] = ("by_mentor",)

    def heatmap(self, *, lang: str = "zh", indicator: str = "talk", public: bool = True) -> Figure:
        """Mentor x month grid: the share of each mentor's mentees who met the rule that month.

        Parameters
        ----------
        lang : {"zh", "en"}
            Label language.
        indicator : str, default "talk"
            Any indicator in ``by_mentor``.
        public : bool, default True
            True: rows carry no mentor label (sorted by the mentor's overall share, best at
            the top) and cells describing fewer than ``min_cell`` mentees are blanked (grey).
            False: rows labelled with the mentor's staff ID (internal use only).

        Returns
        -------
        matplotlib.figure.Figure
        """
        import matplotlib.pyplot as plt

        from .plots import label, use_style

        t = self.by_mentor.loc[self.by_mentor["indicator"] == indicator]
        if not len(t):
            have = sorted(self.by_mentor["indicator"].unique())
            raise InputError(f"no per-mentor values of {indicator!r}; have {have}")
        use_style()
        t = t.assign(w=t["value"] * t["n"])
        overall = t.groupby("mentor_id")["w"].sum() / t.groupby("mentor_id")["n"].sum()
        order = overall.sort_values(ascending=False, kind="stable").index
        months = sorted(t["month"].unique())
        val = t.pivot(index="mentor_id", columns="month", values="value").reindex(
            index=order, columns=months
        )
        cnt = t.pivot(index="mentor_id", columns="month", values="n").reindex(
            index=order, columns=months
        )
        grid = val.to_numpy(dtype=float)
        small = public & (cnt.fillna(0).to_numpy(dtype=float) < self.min_cell)
        grid = np.where(small, np.nan, grid)
        m = len(order)
        fig, ax = plt.subplots(
            figsize=(6.4, min(11.0, 2.2 + 0.06 * m + (0 if public else 0.1 * m)))
        )
        cmap = plt.get_cmap("YlGnBu").with_extremes(bad="#d9d9d9")
        im = ax.imshow(
            np.ma.masked_invalid(grid),
            aspect="auto",
            cmap=cmap,
            vmin=0,
            vmax=1,
            interpolation="nearest",
        )
        ax.set_xticks(
            np.arange(len(months)),
            [label(f"{int(x[5:])}月", x, lang) for x in months],
            rotation=0 if lang == "zh" else 45,
        )
        if public:
            ax.set_yticks([])
        else:
            ax.set_yticks(np.arange(m), list(order), fontsize=max(3, min(8, 400 // max(m, 1))))
        name_zh, name_en = INDICATORS.get(indicator, (indicator, indicator))
        ax.set_ylabel(
            label(
                f"导师（{m}名，按全年达标率排序）",
                f"mentors ({m}, sorted by the year's share)",
                lang,
            )
        )
        ax.set_title(
            label(
                f"{self.year}学年 {name_zh}：各导师每月达标的受导学生比例",
                f"{self.year}: {name_en}, share of each mentor's mentees meeting the rule",
                lang,
            )
        )
        cb = fig.colorbar(im, ax=ax, fraction=0.05, pad=0.02)
        cb.set_label(label("达标学生比例", "share of mentees", lang))
        cb.ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
        if small.all():
            ax.text(
                0.5,
                0.5,
                label(
                    f"每位导师的受导学生均少于{self.min_cell}人，公开版不显示",
                    f"every mentor has fewer than {self.min_cell} mentees: not shown",
                    lang,
                ),
                transform=ax.transAxes,
                ha="center",
                va="center",
                fontsize=9,
                color="#333333",
            )
        if small.any():
            fig.text(
                0.01,
                0.005,
                label(
                    f"灰色：少于{self.min_cell}名学生，不显示",
                    f"grey: fewer than {self.min_cell} students, not shown",
                    lang,
                ),
                fontsize=7,
                color="#555555",
            )
        return fig

    def to_json_dict(self, *, public: bool = True) -> dict:
        """Every table as records of plain Python values (``by_mentor`` only when internal)."""
        out = {
            "year": int(self.year),
            "level": self.level,
            "min_cell": int(self.min_cell),
            "indicators": _records(self.indicators),
            "by_month": _records(self.by_month),
            "by_grade": _records(self.by_grade),
        }
        if not public:
            out["by_mentor"] = _records(self.by_mentor)
        return out

    def summary(self, lang: str = "zh") -> str:
        """A few lines for the command line: each indicator, its target and the verdict."""
        t = self.indicators
        n_pass = int(t["passed"].fillna(False).astype(bool).sum())
        n_app = int(t["passed"].notna().sum())
        if lang == "zh":
            lvl = {"primary": "小学", "middle": "初中"}.get(self.level, self.level)
            lines = [f"{self.year}学年过程合规（{lvl}）：{n_app}项有目标的指标中{n_pass}项达标"]
        else:
            lines = [
                f"Process compliance {self.year} ({self.level}): {n_pass} of {n_app} "
                "indicators with a target met"
            ]
        for r in t.itertuples(index=False):
            v = "—" if pd.isna(r.value) else f"{r.value:.1%}"
            if lang == "zh":
                verdict = "不适用" if pd.isna(r.passed) else ("达标" if r.passed else "未达标")
                lines.append(f"  {r.label_zh}：{v}（目标 {r.target_zh}，n={r.n:,}）{verdict}")
            else:
                verdict = "n/a" if pd.isna(r.passed) else ("met" if r.passed else "not met")
                lines.append(f"  {r.label_en}: {v} (target {r.target_en}, n={r.n:,}) {verdict}")
        return "\n".join(lines)


def compliance_report(
    processed: Processed,
    year: int,
    *,
    min_cell: int = MIN_CELL,
    rules: Rulebook | None = None,
) -> ComplianceReport:
    """Measure one school year's process records against the rulebook.

    Parameters
    ----------
    processed : Processed
        A processed study (``students``, ``staff``, ``assignments``; ``activities`` and
        ``mood`` when the study has them: an absent record counts as a rule not met).
    year : int
        The school year (2023 = 2023-2024 学年).
    min_cell : int, default 5
        Cells of ``by_month`` and ``by_grade`` describing fewer students are suppressed, and
        the public heatmap blanks mentors with fewer mentees that month.
    rules : Rulebook, optional
        Default ``processed.rules`` (the level's rulebook); pass a changed copy
        (``Rulebook.with_changes``) for a sensitivity analysis.

    Returns
    -------
    ComplianceReport
        See the module docstring for every indicator's definition.

    Raises
    ------
    InputError
        A year the study does not have, or ``min_cell`` below 1.
    """
    _check_year(processed, year)
    if min_cell < 1:
        raise InputError(f"min_cell must be at least 1, got {min_cell}")
    rules = rules or processed.rules
    need = required_indicators(rules)
    mm = _mentor_months(processed, year)
    units, notes = _collect_units(processed, year, rules, need, mm)
    rows = _people_rows(processed, year, rules, mm, need)
    rows["regroup_share"] = _regroup_row(processed, year, mm)
    school = _aggregate(units, [], "none").set_index("indicator")
    for code in need:
        if code in rows:
            continue
        if code in school.index:
            value, n = float(school.at[code, "value"]), int(school.at[code, "n"])
            rows[code] = {"value": value, "n": n, "note": notes[code]}
        else:
            rows[code] = {"value": math.nan, "n": 0, "note": f"{notes[code]}: nothing to count"}
    targets = {c: _target(c, rules)[0] for c in need}
    return ComplianceReport(
        year=year,
        level=rules.level,
        indicators=_indicator_table(need, rows, rules),
        by_month=_by_month(units, targets, min_cell),
        by_grade=_by_grade(units, targets, min_cell),
        by_mentor=_by_mentor(units),
        min_cell=min_cell,
    )


def _collect_units(processed, year, rules, need, mm) -> tuple[pd.DataFrame, dict[str, str]]:
    """The counting units of every unit-based indicator, and the note saying what n counts."""
    months = _months(year)
    roster = _roster(processed, year, rules)
    grades = _grades(processed, year)
    acts = _activities(processed, year)
    on_roster = set(roster["student_id"])
    # student-months: roster x months, plus any assigned student-month off the roster
    base = roster[["student_id"]].merge(months[["mkey"]], how="cross")
    sm = base.merge(mm[["student_id", "mkey", "mentor_id"]], on=["student_id", "mkey"], how="outer")
    sm = sm.merge(months[["mkey", "month", "term"]], on="mkey")
    sm = sm.merge(grades, on="student_id", how="left")
    sm["on_roster"] = sm["student_id"].isin(on_roster)
    covered = roster.assign(num=roster["student_id"].isin(set(mm["student_id"])))
    parts = [_units("student_coverage", covered, covered["num"].to_numpy())]
    parts += _student_monthly(sm, acts, [c for c in STUDENT_MONTHLY if c in need], rules)
    parts += _mentor_rules(mm, acts, rules, need)
    if "home_visit" in need:
        parts.append(_home_visits(mm, acts, grades, rules))
    notes = _unit_notes(rules, len(roster) - int(covered["num"].sum()))
    off = int(mm.loc[~mm["student_id"].isin(on_roster), "student_id"].nunique())
    for code in (*STUDENT_MONTHLY, "subject_exchange", "group_counselling", "home_visit"):
        if off and code not in ("subject_exchange", "group_counselling"):
            notes[code] += f"; {off} assigned students not on the roster"
        if not len(acts):
            notes[code] += f"; no activity records for {year}"
    if "mood_participation" in need:
        mood, notes["mood_participation"] = _mood(processed, year, sm, months)
        if mood is not None:
            parts.append(mood)
    parts = [p for p in parts if len(p)]
    units = pd.concat(parts, ignore_index=True) if parts else _units("none", sm.iloc[:0], [])
    return units, notes


def _unit_notes(rules: Rulebook, uncovered: int) -> dict[str, str]:
    who = (
        "students on the year's roster"
        if rules.all_students_mentored
        else "nominated mentees (students.mentee)"
    )
    return {
        "student_coverage": f"n = {who}; {uncovered} without a mentor",
        "subject_exchange": "n = mentor-months (mentors with students that month)",
        "group_counselling": "n = mentor-terms (mentors with students that term)",
        "home_visit": "n = mentees (students with a mentor in the year)",
        **{
            c: "n = student-months with a mentor; records by another mentor not counted"
            for c in STUDENT_MONTHLY
        },
    }


def _indicator_table(need: list[str], rows: dict[str, dict], rules: Rulebook) -> pd.DataFrame:
    out = []
    for code in need:
        r = rows[code]
        tgt, tzh, ten = _target(code, rules)
        zh, en = INDICATORS[code]
        out.append(
            {
                "indicator": code,
                "label_zh": zh,
                "label_en": en,
                "value": float(r["value"]),
                "target": tgt,
                "target_zh": tzh,
                "target_en": ten,
                "unit": "share",
                "passed": _passed(code, r["value"], tgt),
                "n": int(r["n"]),
                "note": r["note"],
            }
        )
    ind = pd.DataFrame(out, columns=INDICATOR_COLUMNS)
    return ind.astype({"passed": "boolean", "n": "int64", "value": float, "target": float})


def compliance_trend(processed: Processed, *, years=None, min_cell: int = MIN_CELL) -> pd.DataFrame:
    """Every indicator in every year of the study (for the three-year pilot review).

    Parameters
    ----------
    processed : Processed
    years : iterable of int, optional
        Default every year of the study.
    min_cell : int, default 5
        Passed to :func:`compliance_report`.

    Returns
    -------
    DataFrame
        ``indicator, year, value, target, passed, n, label_zh, label_en``: one row per
        indicator and year, indicators in report order, then years.
    """
    years = list(processed.years if years is None else years)
    frames = []
    for y in years:
        t = compliance_report(processed, y, min_cell=min_cell).indicators
        frames.append(t.assign(year=y))
    cols = ["indicator", "year", "value", "target", "passed", "n", "label_zh", "label_en"]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in cols})
    t = pd.concat(frames, ignore_index=True)[cols]
    rank = t["indicator"].map({c: i for i, c in enumerate(INDICATORS)})
    order = np.lexsort((t["year"].to_numpy(), rank.to_numpy()))
    return t.iloc[order].reset_index(drop=True)
