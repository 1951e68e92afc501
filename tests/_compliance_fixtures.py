"""Shared test data of the compliance tests (plain builders; each test file wraps them in
its own fixtures)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mentorlib import calendar as schoolcal
from mentorlib.data import Processed
from mentorlib.synth import SynthParams, generate

CONTRACT = {
    "indicators": [
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
        "unmeasured",
    ],
    "by_month": ["month", "indicator", "value", "target", "passed", "n"],
    "by_grade": ["grade", "indicator", "value", "target", "passed", "n"],
    "by_mentor": ["mentor_id", "month", "indicator", "value", "n"],
}


def make_truth_study():
    """A one-year primary school of 1,500 students (about 1 s to generate)."""
    return generate(SynthParams(level="primary", n_students=1500, n_years=1, seed=21))


def ind(rep) -> pd.DataFrame:
    return rep.indicators.set_index("indicator")


def months_of(year):
    return [
        (schoolcal.month_label(cy, m), 1 if i < 5 else 2)
        for i, (cy, m) in enumerate(schoolcal.year_months(year))
    ]


def acts(rows):
    df = pd.DataFrame(rows, columns=["mentor_id", "student_id", "date", "activity"])
    df["date"] = pd.to_datetime(df["date"])
    df["year"] = df["date"].dt.year - (df["date"].dt.month < 9)
    df["term"] = np.where(df["date"].dt.month.isin([9, 10, 11, 12, 1]), 1, 2)
    return df


def day(month_label: str) -> str:
    return f"{month_label}-15"


def make_tiny_primary() -> Processed:
    """Mentor A (s01-s05, loses s05 to B in term 2), B (s06-s10, no records), C mentors nobody.

    Grade 1: s01-s06 and s11 (no mentor); grade 2: s07-s10 (four students, a small cell).
    """
    sids = [f"s{i:02d}" for i in range(1, 12)]
    students = pd.DataFrame(
        {
            "student_id": sids,
            "year": 2023,
            "name": [f"学生{i}" for i in range(1, 12)],
            "grade": [1] * 6 + [2] * 4 + [1],
            "mentee": True,
            "left_behind": False,
            "family": "two_parent",
        }
    )
    staff = pd.DataFrame(
        {
            "staff_id": ["A", "B", "C"],
            "year": 2023,
            "name": ["甲老师", "乙老师", "丙老师"],
            "role": ["class_teacher", "subject_teacher", "support"],
            "grade": [1, 1, pd.NA],
            "training_hours": [40.0, 30.0, 44.0],
            "certified": [True, False, True],
        }
    )
    t1 = pd.Timestamp("2023-09-01")
    assignments = pd.DataFrame(
        {
            "student_id": sids[:10] + ["s05"],
            "year": 2023,
            "term": [1] * 10 + [2],
            "mentor_id": ["A"] * 5 + ["B"] * 5 + ["B"],
            "start_date": [t1] * 10 + [pd.Timestamp("2024-02-26")],
            "reason": [None] * 10 + ["needs_mismatch"],
            "regroup": [False] * 10 + [True],
        }
    )
    months = months_of(2023)
    rows = []
    for month, _ in months:
        for s in ["s01", "s02", "s03", "s04", "s05"]:
            if s == "s01" and month == "2024-06":
                rows.append([None, s, day(month), "talk"])  # mentor not recorded: counts
            else:
                rows.append(["A", s, day(month), "talk"])  # s05 in term 2: not B's talk
        rows.append(["A", None, day(month), "subject_exchange"])
    rows += [
        ["A", None, "2023-10-10", "group_counselling"],
        ["A", None, "2023-11-10", "group_counselling"],
    ]
    rows += [["A", None, "2024-04-10", "group_counselling"]]
    rows += [["A", "s01", "2024-02-27", "talk"]]  # February: no school month
    mood = pd.DataFrame(
        {
            "student_id": "s01",
            "year": 2023,
            "month": [m for m, _ in months],
            "school_days": [
                len(schoolcal.school_days_in_month(2023, int(m[:4]), int(m[5:]))) for m, _ in months
            ],
        }
    )
    mood["days_recorded"] = mood["school_days"]
    tables = {
        "students": students,
        "staff": staff,
        "assignments": assignments,
        "activities": acts(rows),
        "mood": mood,
    }
    return Processed(name="tiny", level="primary", years=(2023,), tables=tables)


def make_tiny_middle() -> Processed:
    students = pd.DataFrame(
        {
            "student_id": ["m1", "m2", "m3", "n1"],
            "year": 2023,
            "name": ["甲", "乙", "丙", "丁"],
            "grade": 7,
            "mentee": [True, True, True, False],
        }
    )
    staff = pd.DataFrame(
        {
            "staff_id": ["T1", "T2", "T3", "P"],
            "year": 2023,
            "name": ["一", "二", "三", "四"],
            "role": ["subject_teacher", "class_teacher", "subject_teacher", "principal"],
            "grade": ["7", "7", "7", None],
            "training_hours": [0.0, 4.0, 8.0, 0.0],
            "certified": [False, False, False, False],
        }
    )
    assignments = pd.DataFrame(
        {
            "student_id": ["m1", "m2", "m3"],
            "year": 2023,
            "term": 1,
            "mentor_id": ["T1", "T1", "T2"],
            "start_date": pd.Timestamp("2023-09-01"),
            "reason": None,
            "regroup": False,
        }
    )
    rows = []
    for month, _ in months_of(2023):
        rows += [["T1", "m1", day(month), "talk"]] * 2 + [["T1", "m2", day(month), "talk"]]
        rows += [["T1", "m1", day(month), "parent_call"]]
    rows += [["T2", "m3", "2023-09-05", "talk"], ["T2", "m3", "2023-09-20", "talk"]]
    rows += [["T2", "m3", "2023-11-08", "home_visit"]]
    tables = {
        "students": students,
        "staff": staff,
        "assignments": assignments,
        "activities": acts(rows),
    }
    return Processed(name="tiny-middle", level="middle", years=(2023,), tables=tables)
