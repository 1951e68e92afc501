"""pandera schemas of the canonical tables, with ranges taken from the codebooks.

:func:`validate_tables` checks every table lazily (all failures at once, never one at a time)
and returns the failure cases; the cleaner quarantines the raw rows behind them, so a value
that slipped past its normaliser never reaches an analysis.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa

from .codebook import Codebook, load_codebook
from .rules import ACTIVITIES_ZH

STUDENT_ID = r"^(?:[GLJ]\d{17}[\dX]|P[0-9a-f]{16})$"  # a 学籍号, or its keyed pseudonym


def _id(nullable=False):
    return pa.Column(str, pa.Check.str_matches(STUDENT_ID), nullable=nullable)


def _in(values, nullable=True):
    return pa.Column(checks=pa.Check.isin(list(values)), nullable=nullable)


def _range(lo, hi, nullable=True, dtype=None):
    return pa.Column(dtype, pa.Check.in_range(lo, hi), nullable=nullable)


def schemas(
    level: str, years, *, assessment: Codebook | None = None
) -> dict[str, pa.DataFrameSchema]:
    """The schema of every canonical table for a study (level, years, assessment codebook)."""
    acb = assessment or load_codebook(f"assessment_{level}")
    lo, hi = (
        min(min(s.values) for s in acb.scales.values()),
        max(max(s.values) for s in acb.scales.values()),
    )
    rcb, sb, exams = load_codebook("rewards"), load_codebook("students"), load_codebook("exams")
    p_lo, p_hi = rcb.field("points").range
    h_lo, h_hi = sb.field("height_cm").range
    w_lo, w_hi = sb.field("weight_kg").range
    s_lo, s_hi = exams.field("score_math").range
    year = pa.Column(checks=pa.Check.isin(list(years)))
    term = pa.Column(checks=pa.Check.isin([1, 2]))
    return {
        "students": pa.DataFrameSchema(
            {
                "student_id": _id(),
                "year": year,
                "gender": _in(["female", "male"]),
                "grade": _range(1, 12, nullable=False),
                "class_no": _range(1, 9999, nullable=False),
                "family": _in(["two_parent", "single_parent", "reconstituted"]),
                "height_cm": _range(h_lo, h_hi),
                "weight_kg": _range(w_lo, w_hi),
            },
            unique=["student_id", "year"],
        ),
        "staff": pa.DataFrameSchema(
            {
                "staff_id": pa.Column(str, nullable=False),
                "year": year,
                "role": _in(["principal", "admin", "class_teacher", "subject_teacher", "support"]),
                "training_hours": _range(0, 500),
            },
            unique=["staff_id", "year"],
        ),
        "assignments": pa.DataFrameSchema(
            {
                "student_id": _id(),
                "mentor_id": pa.Column(str, nullable=False),
                "year": year,
                "term": term,
            }
        ),
        "needs": pa.DataFrameSchema(
            {"student_id": _id(), "year": year}, unique=["student_id", "year"]
        ),
        "assessment_items": pa.DataFrameSchema(
            {
                "student_id": _id(),
                "year": year,
                "wave": _in(["pre", "post"], nullable=False),
                "dimension": _in(list(acb.dimensions), nullable=False),
                "value": _range(lo, hi),
            },
            unique=["student_id", "year", "wave", "item"],
        ),
        "exams": pa.DataFrameSchema(
            {
                "student_id": _id(),
                "year": year,
                "term": term,
                "score": _range(s_lo, s_hi),
                "status": _in(["sat", "absent", "exempt", "invalid"], nullable=False),
            },
            unique=["student_id", "year", "term", "subject"],
        ),
        "satisfaction": pa.DataFrameSchema(
            {
                "student_id": _id(),
                "year": year,
                "term": term,
                **{f"sat_{k}": _range(1, 5) for k in range(1, 6)},
                "satisfaction": _range(1, 5),
            },
            unique=["student_id", "year", "term"],
        ),
        "activities": pa.DataFrameSchema(
            {
                "mentor_id": pa.Column(str, nullable=False),
                "student_id": _id(nullable=True),
                "activity": _in(list(ACTIVITIES_ZH), nullable=False),
                "duration_min": _range(1, 480),
            }
        ),
        "rewards": pa.DataFrameSchema(
            {
                "student_id": _id(),
                "kind": _in(["reward", "penalty"], nullable=False),
                "points": _range(p_lo, p_hi),
            }
        ),
        "mood": pa.DataFrameSchema(
            {
                "student_id": _id(),
                "days_recorded": _range(0, 31, nullable=False),
                "school_days": _range(0, 31, nullable=False),
                **{
                    c: _range(0, 31, nullable=False)
                    for c in ("n_happy", "n_calm", "n_sad", "n_angry")
                },
            },
            checks=pa.Check(
                lambda d: d["days_recorded"] <= d["school_days"], name="recorded_within_school_days"
            ),
        ),
    }


def validate_tables(
    tables: dict[str, pd.DataFrame], level: str, years, *, assessment: Codebook | None = None
) -> pd.DataFrame:
    """Validate every non-empty table lazily, without copying it (nothing is coerced; extra
    columns are allowed).

    Returns
    -------
    DataFrame
        One row per failure: table, column, check, failure_case, index (the row of the table).
        Empty when everything passes.
    """
    out = []
    for name, schema in schemas(level, years, assessment=assessment).items():
        df = tables.get(name)
        if df is None or df.empty:
            continue
        try:
            schema.validate(df, lazy=True, inplace=True)  # a copy is a district's memory
        except pa.errors.SchemaErrors as e:
            fc = e.failure_cases[["column", "check", "failure_case", "index"]].copy()
            fc.insert(0, "table", name)
            out.append(fc)
    cols = ["table", "column", "check", "failure_case", "index"]
    return pd.concat(out, ignore_index=True)[cols] if out else pd.DataFrame(columns=cols)
