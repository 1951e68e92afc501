"""Counting compliance: one school year's process records measured against the rulebook.

The definitions of every indicator are in the package docstring (:mod:`mentorlib.compliance`);
this module builds the counting units (student-months, mentor-months, mentor-terms, mentees),
aggregates them school-wide, by month, by grade and by mentor, and returns a
:class:`~mentorlib.compliance.result.ComplianceReport`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .. import calendar
from ..errors import InputError
from ..privacy import few_text, suppress_small_cells
from ..rules import Rulebook
from .cases import (
    case_conference_counts,
    case_conference_coverage,
    students_needing_case_conference,
)
from .indicators import (
    INDICATOR_COLUMNS,
    INDICATORS,
    MONTHLY,
    STUDENT_INDICATORS,
    STUDENT_MONTHLY,
    TOL,
    passed,
    passed_vec,
    required_indicators,
    target_of,
)
from .result import ComplianceReport
from .unmeasured import unmeasured_note, unmeasured_reasons

if TYPE_CHECKING:
    from ..data import Processed

__all__ = ["case_conference_table", "compliance_report", "compliance_trend", "mentor_by_month"]

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


def _of_year(df: pd.DataFrame, year: int) -> pd.DataFrame:
    return df.loc[(pd.to_numeric(df["year"], errors="coerce") == year).fillna(False).to_numpy()]


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


def case_conference_table(processed: Processed, year: int) -> pd.DataFrame:
    """The case conferences (个案分析) of a school year by grade and month.

    :func:`mentorlib.compliance.cases.case_conference_counts` on the year's activity records:
    ``grade`` (missing when unknown), ``month`` (YYYY-MM), ``n_conferences``.
    """
    _check_year(processed, year)
    return _case_counts(processed, year, _activities(processed, year))


def _case_counts(processed, year: int, acts: pd.DataFrame) -> pd.DataFrame:
    staff, students = processed["staff"], processed["students"]
    return case_conference_counts(acts, staff, students, year)


def _mentor_months(processed, year: int) -> pd.DataFrame:
    """:func:`mentor_by_month` with the month also as a YYYYMM integer (``mkey``)."""
    months = _months(year)
    a = _of_year(processed["assignments"], year)
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
    s = _of_year(processed["students"], year)
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
    s = _of_year(processed["students"], year)
    return pd.DataFrame(
        {
            "student_id": _ids(s["student_id"]).to_numpy(),
            "grade": pd.to_numeric(s["grade"], errors="coerce").astype("Int64").to_numpy(),
        }
    ).drop_duplicates("student_id")


def _activities(processed, year: int) -> pd.DataFrame:
    """The year's activity records: mentor_id, student_id, activity, mkey, term, school_year,
    day (the date without its time)."""
    acts = processed["activities"]
    cols = ["mentor_id", "student_id", "activity", "mkey", "term", "school_year"]
    if not len(acts):
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
            "day": d.dt.normalize(),
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
        f["student_id"] = pd.NA
        f["grade"] = pd.NA
        ok = f["k"].fillna(0).to_numpy() >= rules.subject_exchanges_per_month
        out.append(_units("subject_exchange", f, ok))
    if "group_counselling" in need:
        a = acts.loc[(acts["activity"] == "group_counselling") & acts["mentor_id"].notna()]
        k = a.groupby(["mentor_id", "term"]).size().rename("k").reset_index()
        f = per_term.merge(k, on=["mentor_id", "term"], how="left")
        f["student_id"] = pd.NA
        f["grade"] = pd.NA
        f["mkey"] = pd.NA
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
    roster_sm = sm.loc[sm["on_roster"]]
    m = _of_year(processed["mood"], year)
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
    st = _of_year(processed["staff"], year)
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
    st = _of_year(processed["staff"], year)
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
            "value": float(np.mean(np.nan_to_num(h, nan=-1) >= rules.training_hours - TOL))
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
    a = _of_year(processed["assignments"], year)
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
    return df.assign(passed=passed_vec(df["indicator"], df["value"], df["target"]))


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
    return _suppress(t, min_cell, complement=True)


def _by_grade_month(units, targets, min_cell) -> pd.DataFrame:
    """The per-student monthly rules by grade and month (the principal's summary figure),
    suppressed as ``by_grade`` is."""
    u = units.loc[units["indicator"].isin(MONTHLY) & units["student_id"].notna()]
    u = u.loc[u["grade"].notna() & u["mkey"].notna()]
    t = _aggregate(u.assign(grade=u["grade"].astype("Int64")), ["grade", "mkey"], "nunique")
    t = _with_targets(t, targets).sort_values(["grade", "mkey"], kind="stable")
    t = _order(t.assign(month=t["mkey"].map(_month_label)), "grade")
    t = t[["grade", "month", "indicator", "value", "target", "passed", "n", "n_students"]]
    return _suppress(t, min_cell, complement=True)


def _small(count: pd.Series, check: pd.Series, min_cell: int) -> pd.Series:
    """``count`` where checked and above zero, else ``min_cell`` (never small)."""
    return count.where(check & (count > 0), min_cell)


def _suppress(t: pd.DataFrame, min_cell: int, complement: bool = False) -> pd.DataFrame:
    """Cells of fewer than ``min_cell`` students blanked; with ``complement``, also the shares of
    student indicators (:data:`STUDENT_INDICATORS`) whose students meeting or not meeting the
    rule number 1 to ``min_cell - 1`` (83.3% of 6 would say 1 student was missed). Zero is
    published here: "all (none) of grade 3's students had a mentor" describes the programme's
    delivery to the grade, not a few students, and 100% is what a school reports."""
    t = t.astype({"n": "int64", "n_students": "int64", "value": float, "target": float})
    counts = ["n_students"]
    if complement:
        stud = t["indicator"].isin(STUDENT_INDICATORS) & t["value"].notna()
        met = (t["value"] * t["n"]).round()
        t = t.assign(_met=_small(met, stud, min_cell), _not=_small(t["n"] - met, stud, min_cell))
        counts += ["_met", "_not"]
    out = suppress_small_cells(
        t,
        counts=counts,
        min_cell=min_cell,
        columns=["value", "passed", "n", "n_students"],
    )
    return out.drop(columns=["_met", "_not"], errors="ignore")


def _by_mentor(units) -> pd.DataFrame:
    u = units.loc[units["mentor_id"].notna() & units["mkey"].notna()]
    u = u.loc[u["indicator"].isin(MONTHLY)]
    t = _aggregate(u, ["mentor_id", "mkey"], "none")
    t = t.assign(month=t["mkey"].map(_month_label)).sort_values(
        ["mentor_id", "mkey"], kind="stable"
    )
    return t[["mentor_id", "month", "indicator", "value", "n"]].reset_index(drop=True)


# --------------------------------------------------------------------------- the report


def compliance_report(
    processed: Processed,
    year: int,
    *,
    min_cell: int | None = None,
    rules: Rulebook | None = None,
) -> ComplianceReport:
    """Measure one school year's process records against the rulebook.

    Parameters
    ----------
    processed : Processed
        A processed study (``students``, ``staff``, ``assignments``; ``activities`` and
        ``mood`` when the study has them). Where a rule's records exist, a unit without one
        counts as the rule not met; a rule with no record at all in the year is not measured
        (``unmeasured``: :mod:`mentorlib.compliance.unmeasured`), never 0%.
    year : int
        The school year (2023 = 2023-2024 学年).
    min_cell : int, optional
        Cells of ``by_month`` and ``by_grade`` describing fewer students are suppressed, and
        the public heatmap blanks mentors with fewer mentees that month. Default the
        rulebook's ``min_cell``.
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
    rules = rules or processed.rules
    min_cell = rules.min_cell if min_cell is None else min_cell
    if min_cell < 1:
        raise InputError(f"min_cell must be at least 1, got {min_cell}")
    need = required_indicators(rules)
    mm = _mentor_months(processed, year)
    acts = _activities(processed, year)
    gaps = _unmeasured(processed, year, rules, need, mm, acts)
    units, notes = _collect_units(processed, year, rules, need, mm, acts)
    units = units.loc[~units["indicator"].isin(gaps)].reset_index(drop=True)
    rows = _people_rows(processed, year, rules, mm, need)
    rows["regroup_share"] = _regroup_row(processed, year, mm)
    counts = _case_counts(processed, year, acts)
    for code, why in gaps.items():  # no record to judge by: not measured, never 0%
        note = unmeasured_note(why, year=year, code=code)
        rows[code] = {"value": math.nan, "n": 0, "note": note, "unmeasured": why[0]}
    if "case_conference" in need and "case_conference" not in gaps:
        cc, n_need, note = _case_units(processed, year, rules, acts)
        held = int(counts["n_conferences"].sum())
        notes["case_conference"] = f"{note}; {held} case conferences held (case_conferences)"
        if cc is None:  # the records name no student: the coverage is not available
            rows["case_conference"] = {
                "value": math.nan,
                "n": n_need,
                "note": notes["case_conference"],
            }
        elif len(cc):
            units = pd.concat([units, cc], ignore_index=True)
    school = _aggregate(units, [], "none").set_index("indicator")
    for code in need:
        if code in rows:
            continue
        if code in school.index:
            value, n = float(school["value"].loc[code]), int(school["n"].loc[code])
            rows[code] = {"value": value, "n": n, "note": notes[code]}
        else:
            rows[code] = {"value": math.nan, "n": 0, "note": f"{notes[code]}: nothing to count"}
    targets = {c: target_of(c, rules)[0] for c in need}
    return ComplianceReport(
        year=year,
        level=rules.level,
        indicators=_indicator_table(need, rows, rules),
        by_month=_by_month(units, targets, min_cell),
        by_grade=_by_grade(units, targets, min_cell),
        by_mentor=_by_mentor(units),
        min_cell=min_cell,
        case_conferences=counts,
        by_grade_month=_by_grade_month(units, targets, min_cell),
    )


def _unmeasured(processed, year, rules, need, mm, acts) -> dict[str, tuple[str, ...]]:
    """The indicators of ``need`` the year's records cannot measure, with the reason
    (:func:`mentorlib.compliance.unmeasured.unmeasured_reasons`)."""
    return unmeasured_reasons(
        need,
        roster=bool(len(_roster(processed, year, rules))),
        groups=bool(len(mm)),
        staff=bool(len(_of_year(processed["staff"], year))),
        kinds=set(acts["activity"].dropna().astype("str")),
        mood=bool(len(_of_year(processed["mood"], year))),
    )


def _case_units(processed, year, rules, acts) -> tuple[pd.DataFrame | None, int, str]:
    """Units of the case-conference coverage (students needing one; None when the records
    name no student), the number needing one and the note (:mod:`.cases`)."""
    roster = _roster(processed, year, rules)
    needing, need_note = students_needing_case_conference(processed, year, roster, rules)
    cov, cov_note = case_conference_coverage(needing, acts)
    note = f"{need_note}; {cov_note}"
    if cov is None:
        return None, len(needing), note
    return _units("case_conference", cov, cov["covered"].to_numpy()), len(needing), note


def _collect_units(processed, year, rules, need, mm, acts) -> tuple[pd.DataFrame, dict[str, str]]:
    """The counting units of every unit-based indicator, and the note saying what n counts."""
    months = _months(year)
    roster = _roster(processed, year, rules)
    grades = _grades(processed, year)
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
    for code in (*STUDENT_MONTHLY, "home_visit"):
        if off:
            notes[code] += f"; {few_text(off, rules.min_cell)} assigned students not on the roster"
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
        "student_coverage": f"n = {who}; {few_text(uncovered, rules.min_cell)} without a mentor",
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
        tgt, tzh, ten = target_of(code, rules)
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
                "passed": passed(code, r["value"], tgt),
                "n": int(r["n"]),
                "note": r["note"],
                "unmeasured": r.get("unmeasured"),
            }
        )
    ind = pd.DataFrame(out, columns=INDICATOR_COLUMNS)
    return ind.astype(
        {"passed": "boolean", "n": "int64", "value": float, "target": float, "unmeasured": "string"}
    )


def compliance_trend(
    processed: Processed,
    *,
    years=None,
    min_cell: int | None = None,
    rules: Rulebook | None = None,
) -> pd.DataFrame:
    """Every indicator in every year of the study (for the three-year pilot review).

    Parameters
    ----------
    processed : Processed
    years : iterable of int, optional
        Default every year of the study.
    min_cell : int, optional
        Passed to :func:`compliance_report` (default the rulebook's ``min_cell``).
    rules : Rulebook, optional
        Passed to :func:`compliance_report` (default ``processed.rules``).

    Returns
    -------
    DataFrame
        ``indicator, year, value, target, passed, n, label_zh, label_en, target_zh,
        target_en`` (the rule in words, as :func:`compliance_report` prints it): one row per
        indicator and year, indicators in report order, then years.
    """
    years = list(processed.years if years is None else years)
    frames = []
    for y in years:
        t = compliance_report(processed, y, min_cell=min_cell, rules=rules).indicators
        frames.append(t.assign(year=y))
    cols = ["indicator", "year", "value", "target", "passed", "n", "label_zh", "label_en"]
    cols += ["target_zh", "target_en", "unmeasured"]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in cols})
    t = pd.concat(frames, ignore_index=True)[cols]
    rank = t["indicator"].map({c: i for i, c in enumerate(INDICATORS)})
    order = np.lexsort((t["year"].to_numpy(), rank.to_numpy()))
    return t.iloc[order].reset_index(drop=True)
