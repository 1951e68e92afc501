"""The facts behind the narrative parts of the reports (issue 16 item 2), counted from the
processed tables and the rulebook: the school's size and mentors (:func:`school_facts`) and the
activities by month (:func:`activities_by_month`). No number here is typed; every one is a
count of the study's own tables.
"""

from __future__ import annotations

import pandas as pd

from ..calendar import year_months
from ..compliance import mentor_by_month
from ..errors import InputError
from ..labels import ACTIVITY_LABELS, ROLE_LABELS
from ..privacy import Document
from .sources import regrouping

__all__ = ["activities_by_month", "required_activities", "school_facts", "stage_table"]


def _year(df: pd.DataFrame, year: int) -> pd.DataFrame:
    return df.loc[df["year"] == year] if "year" in df.columns else df.iloc[0:0]


def _training(mentors: pd.DataFrame, hours_rule: float | None) -> dict:
    """Training hours and certificates of the year's mentors."""
    h = pd.to_numeric(mentors["training_hours"], errors="coerce").dropna()
    return {
        "n_hours": len(h),
        "mean_hours": float(h.mean()) if len(h) else float("nan"),
        "n_trained": int((h >= hours_rule).sum()) if hours_rule is not None else None,
        "n_certified": int(mentors["certified"].fillna(False).astype(bool).sum()),
        "n_backbone": int(mentors["backbone"].fillna(False).astype(bool).sum()),
    }


def _group_sizes(processed, year: int) -> pd.Series:
    """Distinct students per mentor and term, with the mentor in force each month (the
    compliance indicator's definition: :func:`mentorlib.compliance.mentor_by_month`)."""
    try:
        mm = mentor_by_month(processed, year)
    except InputError:
        return pd.Series(dtype=int)
    return mm.dropna(subset=["mentor_id"]).groupby(["mentor_id", "term"])["student_id"].nunique()


def school_facts(processed, year: int) -> dict:
    """The school in one year, counted from its rosters and groups.

    Returns
    -------
    dict
        n_students (on the roster), n_grades, n_classes (distinct grade and class),
        n_mentees (students flagged as mentees), n_staff (staff roster), n_mentors (staff
        with a student in the year's groups), roles (role -> mentors, in the labels' order),
        n_mentored (students with a mentor), group_min / group_max (smallest and largest
        number of distinct students per mentor in a term), n_hours, mean_hours, n_trained
        (None when the rules set no hours), n_certified, n_backbone (among the mentors).
    """
    st = _year(processed["students"], year)
    sf = _year(processed["staff"], year)
    asg = _year(processed["assignments"], year)
    cls = st[["grade", "class_no"]].dropna().drop_duplicates()
    mentor_ids = set(asg["mentor_id"].dropna().astype(str))
    mentors = sf.loc[sf["staff_id"].astype(str).isin(mentor_ids)]
    roles = mentors["role"].astype("object").value_counts()
    n_per = _group_sizes(processed, year)
    return {
        "n_students": int(st["student_id"].nunique()),
        "n_grades": int(st["grade"].dropna().nunique()),
        "n_classes": len(cls),
        "n_mentees": int(st["mentee"].fillna(False).astype(bool).sum()),
        "n_staff": int(sf["staff_id"].nunique()),
        "n_mentors": len(mentors),
        "roles": {r: int(roles[r]) for r in ROLE_LABELS if roles.get(r, 0)},
        "n_mentored": int(asg["student_id"].nunique()),
        "group_min": int(n_per.min()) if len(n_per) else None,
        "group_max": int(n_per.max()) if len(n_per) else None,
        **_training(mentors, processed.rules.training_hours),
    }


def required_activities(rules) -> list[str]:
    """The activity kinds the rulebook asks for (a frequency above zero, or case conferences)."""
    need = {
        "talk": rules.talks_per_month,
        "student_report": rules.student_reports_per_month,
        "three_party": rules.three_party_per_month,
        "parent_call": rules.parent_calls_per_month,
        "home_visit": rules.home_visits_per_year,
        "subject_exchange": rules.subject_exchanges_per_month,
        "group_counselling": rules.group_counselling_per_term,
        "case_conference": int(bool(rules.case_conferences)),
    }
    return [k for k, v in need.items() if v]


def activities_by_month(processed, year: int, min_cell: int) -> tuple[pd.DataFrame, Document]:
    """Activities of one school year counted by month and kind, protected for publication.

    A kind whose records name a student (talks, home visits, case conferences ...) describes
    students: its monthly counts and year total are registered in a disclosure document (the
    months add up to the total) and protected, so a count under ``min_cell`` prints "<5" and
    no suppressed month can be worked out from the total. A kind whose records name no student
    (group activities) counts meetings and is printed as it is.

    Returns
    -------
    counts : DataFrame
        One row per month of the school year (``"YYYY-MM"`` index) plus ``"total"``; one
        column per activity kind with a record, in the labels' order; true counts (int).
    doc : Document
        The protected document: cell ``"{kind}.{month}"`` / ``"{kind}.total"`` for the kinds
        that describe students (others are not registered).
    """
    act = _year(processed["activities"], year)
    act = act.dropna(subset=["date"])
    doc = Document(min_cell, name=f"activities {processed.name} {year}")
    months = [f"{y:04d}-{m:02d}" for y, m in year_months(year)]
    kinds = [k for k in ACTIVITY_LABELS if (act["activity"] == k).any()]
    month = pd.to_datetime(act["date"]).dt.strftime("%Y-%m")
    out = pd.DataFrame(0, index=[*months, "total"], columns=kinds, dtype=int)
    for k in kinds:
        sel = act["activity"] == k
        c = month[sel].value_counts()
        extra = [m for m in c.index if m not in months]  # outside term months: still counted
        for m in extra:
            out.loc[m] = 0
        for m, v in c.items():
            out.at[m, k] = int(v)
        out.at["total", k] = int(sel.sum())
    rows = [m for m in out.index if m != "total"]
    out = out.loc[[*sorted(rows), "total"]]
    for k in kinds:
        if act.loc[act["activity"] == k, "student_id"].notna().any():
            keys = [doc.count(f"{k}.{m}", out.at[m, k]) for m in out.index if m != "total"]
            doc.count(f"{k}.total", out.at["total", k])
            doc.total(f"{k}.total", keys)
    doc.protect()
    return out, doc


def stage_table(processed, years, min_cell: int) -> pd.DataFrame:
    """The pilot year by year, as true numbers (the review's 实施阶段; its student counts are
    published through the review's disclosure document,
    :func:`mentorlib.report.disclosure.register_stages`).

    Returns
    -------
    DataFrame
        year, n_students, n_mentored, n_mentees, n_mentors, n_new (mentors who were not
        mentors the year before; NA the first year), n_backbone, n_certified, n_records
        (process records), n_regrouped (changes of mentor: start of year plus term 2).
    """
    rows, prev = [], None
    asg = processed["assignments"]
    for y in years:
        f = school_facts(processed, y)
        ids = set(asg.loc[asg["year"] == y, "mentor_id"].dropna().astype(str))
        counts, _ = activities_by_month(processed, y, min_cell)
        rg, _ = regrouping(processed, y)
        rows.append(
            {
                "year": y,
                "n_students": f["n_students"],
                "n_mentored": f["n_mentored"],
                "n_mentees": f["n_mentees"],
                "n_mentors": f["n_mentors"],
                "n_new": pd.NA if prev is None else len(ids - prev),
                "n_backbone": f["n_backbone"],
                "n_certified": f["n_certified"],
                "n_records": int(counts.loc["total"].to_numpy().sum()) if counts.shape[1] else 0,
                "n_regrouped": rg.get("n_start", 0) + rg.get("n_term2", 0),
            }
        )
        prev = ids
    return pd.DataFrame(rows)
