"""Case conferences (个案分析): how many the grade groups held, and whether the students who
needed one had one.

Seed 001 (middle school, section 4): "年级组定期组织导师进行个案分析，必要时对重点案例进行集体会诊"
(the grade group regularly holds case conferences of the mentors and, where necessary, a joint
consultation on the serious cases). The rule has no number, so neither measure has a target.
A level's rulebook asks for them with ``case_conferences`` (middle True, primary False).

Definitions
-----------
A case conference
    An activity record of kind ``case_conference`` dated in the school year (any month: the
    record's calendar month). A record naming a student (``student_id``) is one conference
    about that student; several rows on the same day by the same leader naming different
    students are counted as one conference per row (the log sheet records one case a row).
Its grade
    The grade of the staff member who led it (``staff.grade`` of the year: the grade group's
    class teacher); when the leader has no grade, the grade of the student it names; else
    unknown (a missing ``grade``).
Students needing one
    The year's roster (:func:`mentorlib.compliance.measure`: every student in primary school,
    the nominated mentees in middle school) who deteriorated on the headline rule (a reliable
    decline, RCI below ``-rci_z``, in at least one dimension:
    :func:`mentorlib.progress.study_changes` / :func:`~mentorlib.progress.student_progress`,
    ``n_deteriorated >= 1``) or are flagged (a focus group: transfer student, single-parent or
    reconstituted family, left-behind). The decline is measured at the year's post-test, so a
    conference at any time of the school year counts: the measure says whether these students
    were discussed, not whether the conference followed the decline.
Coverage
    The share of the students needing one who are named in at least one case-conference record
    of the year. Computed only when some case-conference record of the year names a student;
    records that name no student (mentor-level rows, as some logs keep them; the synthetic
    schools name the students discussed) cannot say who was discussed: the coverage is then "not available: the records name no student".
    No case-conference record at all in the year: the coverage is not measured (no record
    to judge by, as for every other rule: :mod:`mentorlib.compliance.unmeasured`).

Privacy
-------
The counts by grade and month are about meetings, not students: published as they are. The
coverage is a share of students: the indicator is one of
:data:`mentorlib.compliance.STUDENT_INDICATORS` (the reports publish it under disclosure
control) and its cells by grade are suppressed below ``min_cell`` like every other by-grade
cell.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import calendar
from ..errors import InputError
from ..progress import student_progress, study_changes
from ..rules import Rulebook

__all__ = [
    "CASE_COUNT_COLUMNS",
    "FOCUS_FLAGS",
    "case_conference_counts",
    "case_conference_coverage",
    "students_needing_case_conference",
]

#: Columns of :func:`case_conference_counts` (:attr:`ComplianceReport.case_conferences`).
CASE_COUNT_COLUMNS = ["grade", "month", "n_conferences"]

#: The focus groups that make a student "flagged" (students.transfer, .family, .left_behind).
FOCUS_FLAGS = ("transfer", "single_parent", "reconstituted", "left_behind")

KIND = "case_conference"


def _grade_of(ids: pd.Series, table: pd.DataFrame | None, key: str, year: int) -> pd.Series:
    """The year's grade (Int64) of each ID in ``ids`` from a students or staff table."""
    if table is None or "grade" not in table.columns or key not in table.columns:
        return pd.Series(pd.NA, index=ids.index, dtype="Int64")
    t = table.loc[table["year"] == year] if "year" in table.columns else table
    g = pd.Series(
        pd.to_numeric(t["grade"], errors="coerce").astype("Int64").to_numpy(),
        index=t[key].astype("str").to_numpy(),
    )
    g = g[~g.index.duplicated()]
    return pd.Series(g.reindex(ids.astype("str").to_numpy()).to_numpy(), index=ids.index)


def case_conference_counts(acts: pd.DataFrame, staff, students, year: int) -> pd.DataFrame:
    """Case conferences of a school year by grade and month.

    Parameters
    ----------
    acts : DataFrame
        The year's activity records: ``mentor_id, student_id, activity`` and ``mkey``
        (YYYYMM of the date; rows without a date are left out); with ``day`` (the date), the
        rows of one leader on one day are one conference (a log names each student discussed
        on a row of its own).
    staff, students : DataFrame or None
        The study's ``staff`` and ``students`` tables (for the grades; see the module's
        definitions).
    year : int

    Returns
    -------
    DataFrame
        :data:`CASE_COUNT_COLUMNS`: ``grade`` (Int64, missing when unknown), ``month``
        (YYYY-MM), ``n_conferences``; one row per grade and month with at least one.
    """
    a = acts.loc[(acts["activity"] == KIND) & acts["mkey"].notna()]
    if "day" in a.columns:  # one meeting per leader and day, however many students it discussed
        a = a.drop_duplicates(["mentor_id", "day"])
    if not len(a):
        return pd.DataFrame(
            {
                "grade": pd.Series(dtype="Int64"),
                "month": pd.Series(dtype="str"),
                "n_conferences": pd.Series(dtype="int64"),
            }
        )
    grade = _grade_of(a["mentor_id"], staff, "staff_id", year)
    grade = grade.fillna(_grade_of(a["student_id"], students, "student_id", year))
    mk = a["mkey"].astype("int64")
    f = pd.DataFrame({"grade": grade.astype("Int64"), "mkey": mk})
    out = f.groupby(["grade", "mkey"], dropna=False).size().rename("n_conferences").reset_index()
    out = out.sort_values(["grade", "mkey"], na_position="last", kind="stable")
    month = [calendar.month_label(int(k) // 100, int(k) % 100) for k in out["mkey"]]
    return pd.DataFrame(
        {
            "grade": out["grade"].astype("Int64").to_numpy(),
            "month": pd.Series(month, dtype="str").to_numpy(),
            "n_conferences": out["n_conferences"].astype("int64").to_numpy(),
        }
    )


def _flagged(students: pd.DataFrame) -> np.ndarray:
    """Whether each student is in a focus group (missing columns: not flagged)."""
    n = len(students)
    flag = np.zeros(n, dtype=bool)
    if "transfer" in students.columns:
        flag |= students["transfer"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    if "left_behind" in students.columns:
        flag |= students["left_behind"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    if "family" in students.columns:
        fam = students["family"].astype("str")
        flag |= fam.isin(["single_parent", "reconstituted"]).fillna(False).to_numpy(dtype=bool)
    return flag


def students_needing_case_conference(
    processed, year: int, roster: pd.DataFrame, rules: Rulebook
) -> tuple[pd.DataFrame, str]:
    """The roster students who needed a case conference, and what was counted.

    Parameters
    ----------
    processed : Processed
        The study (``students``; ``assessment_items`` for the reliable change).
    year : int
    roster : DataFrame
        ``student_id`` (str), ``grade``: the students the programme serves this year.
    rules : Rulebook
        ``rci_z`` and ``min_answered`` of the reliable change.

    Returns
    -------
    (DataFrame, str)
        ``student_id, grade, deteriorated, flagged`` (bools) for the students needing one
        (either flag), and a note (English) saying how many of each, or why the decline could
        not be measured (then only the flagged count).
    """
    s = processed["students"]
    s = s.loc[s["year"] == year].drop_duplicates("student_id")
    flags = pd.Series(_flagged(s), index=s["student_id"].astype("str").to_numpy())
    flags = flags[~flags.index.duplicated()]
    out = roster[["student_id", "grade"]].copy()
    out["flagged"] = flags.reindex(out["student_id"]).fillna(False).to_numpy(dtype=bool)
    try:
        per = student_progress(study_changes(processed, year, rules=rules))
        det = per.set_index(per["student_id"].astype("str"))["n_deteriorated"] >= 1
        det = det[~det.index.duplicated()]
        out["deteriorated"] = det.reindex(out["student_id"]).fillna(False).to_numpy(dtype=bool)
        how = f"{int(out['deteriorated'].sum())} with a reliable decline in at least one dimension"
    except (InputError, KeyError, ValueError) as e:
        out["deteriorated"] = False
        how = f"decline not measured ({e}): flagged students only"
    need = out.loc[out["deteriorated"] | out["flagged"]].reset_index(drop=True)
    note = (
        f"n = students needing one: {how}, {int(out['flagged'].sum())} in a focus group "
        f"(transfer, single-parent, reconstituted, left-behind), {len(need)} either"
    )
    return need[["student_id", "grade", "deteriorated", "flagged"]], note


def case_conference_coverage(
    needing: pd.DataFrame, acts: pd.DataFrame
) -> tuple[pd.DataFrame | None, str]:
    """Which students needing a case conference had one.

    Parameters
    ----------
    needing : DataFrame
        ``student_id`` (str), ``grade``: :func:`students_needing_case_conference`.
    acts : DataFrame
        The year's activity records (``student_id, activity``).

    Returns
    -------
    (DataFrame or None, str)
        ``needing`` with ``covered`` (bool: named in a case-conference record of the year),
        or None when case-conference records exist but none names a student; and a note.
    """
    a = acts.loc[acts["activity"] == KIND]
    named = a["student_id"].dropna()
    if len(a) and not len(named):
        note = (
            f"not available: the records name no student ({len(a)} case conferences recorded "
            "without a student ID; record the student in each row to measure the coverage)"
        )
        return None, note
    out = needing.assign(covered=needing["student_id"].isin(set(named.astype("str"))))
    note = f"{len(a)} case-conference records, {named.nunique()} students named"
    if not len(a):
        note = "no case-conference records this year: none held"
    return out, note
