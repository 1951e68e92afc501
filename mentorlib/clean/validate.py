"""Validation of the canonical tables: pandera schemas built from the table contract.

The vocabularies come from :mod:`mentorlib.tables`, the ranges from the codebooks.
:func:`validate_tables` checks every table lazily (all failures at once, never one at a time)
and returns the failure cases; the cleaner quarantines the raw rows behind them
(:func:`quarantine_failures`), so a value that slipped past its normaliser never reaches an
analysis.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
import pandera.pandas as pa

from ..io.codebook import Codebook, load_codebook
from ..io.study import StudyConfig
from ..tables import VOCAB
from .context import Context
from .exams import MAX_FULL_MARKS

STUDENT_ID = r"^(?:[GLJ]\d{17}[\dX]|P[0-9a-f]{16})$"  # a 学籍号, or its keyed pseudonym
MAX_DAYS = 31  # days of a month: the mood chart's counts
MAX_MINUTES = 480  # one activity lasts at most a working day
MAX_TRAINING_HOURS = 500
MAX_GRADE = 12
MAX_CLASS = 9999


def _id(nullable: bool = False) -> pa.Column:
    return pa.Column(str, pa.Check.str_matches(STUDENT_ID), nullable=nullable)


def _in(values: Iterable, nullable: bool = True) -> pa.Column:
    return pa.Column(checks=pa.Check.isin(list(values)), nullable=nullable)


def _vocab(name: str, nullable: bool = True) -> pa.Column:
    """A coded column: its values lie in the contract's vocabulary."""
    return _in(VOCAB[name], nullable=nullable)


def _range(lo: float, hi: float, nullable: bool = True) -> pa.Column:
    return pa.Column(None, pa.Check.in_range(lo, hi), nullable=nullable)


def schemas(
    level: str, years: Iterable[int], *, assessment: Codebook | None = None
) -> dict[str, pa.DataFrameSchema]:
    """The schema of every canonical table for a study (level, years, assessment codebook)."""
    acb = assessment or load_codebook(f"assessment_{level}")
    year = pa.Column(checks=pa.Check.isin(list(years)))
    term = pa.Column(checks=pa.Check.isin([1, 2]))
    return {
        **_roster_schemas(year, term),
        **_survey_schemas(year, term, acb),
        **_record_schemas(year, term),
    }


def _bounds(book: str, var: str) -> tuple[float, float]:
    """The range of a number field of a built-in codebook."""
    r = load_codebook(book).field(var).range
    if r is None:
        raise ValueError(f"codebook {book!r} gives {var!r} no range")
    return r


def _roster_schemas(year: pa.Column, term: pa.Column) -> dict[str, pa.DataFrameSchema]:
    return {
        "students": pa.DataFrameSchema(
            {
                "student_id": _id(),
                "year": year,
                "gender": _vocab("gender"),
                "grade": _range(1, MAX_GRADE, nullable=False),
                "class_no": _range(1, MAX_CLASS, nullable=False),
                "family": _vocab("family"),
                "height_cm": _range(*_bounds("students", "height_cm")),
                "weight_kg": _range(*_bounds("students", "weight_kg")),
            },
            unique=["student_id", "year"],
        ),
        "staff": pa.DataFrameSchema(
            {
                "staff_id": pa.Column(str, nullable=False),
                "year": year,
                "role": _vocab("role"),
                "training_hours": _range(0, MAX_TRAINING_HOURS),
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
    }


def _survey_schemas(
    year: pa.Column, term: pa.Column, acb: Codebook
) -> dict[str, pa.DataFrameSchema]:
    lo = min(min(s.values) for s in acb.scales.values())
    hi = max(max(s.values) for s in acb.scales.values())
    return {
        "needs": pa.DataFrameSchema(
            {"student_id": _id(), "year": year}, unique=["student_id", "year"]
        ),
        "assessment_items": pa.DataFrameSchema(
            {
                "student_id": _id(),
                "year": year,
                "wave": _vocab("wave", nullable=False),
                "dimension": _in(list(acb.dimensions), nullable=False),
                "value": _range(lo, hi),
            },
            unique=["student_id", "year", "wave", "item"],
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
    }


def _record_schemas(year: pa.Column, term: pa.Column) -> dict[str, pa.DataFrameSchema]:
    s_lo, s_hi = _bounds("exams", "score_math")
    s_hi = max(s_hi, MAX_FULL_MARKS)  # a paper out of 120 or 150 (数学(120))
    days = {
        c: _range(0, MAX_DAYS, nullable=False)
        for c in ("days_recorded", "school_days", "n_happy", "n_calm", "n_sad", "n_angry")
    }
    return {
        "exams": pa.DataFrameSchema(
            {
                "student_id": _id(),
                "year": year,
                "term": term,
                "score": _range(s_lo, s_hi),
                "status": _vocab("status", nullable=False),
            },
            unique=["student_id", "year", "term", "subject"],
        ),
        "activities": pa.DataFrameSchema(
            {
                "mentor_id": pa.Column(str, nullable=False),
                "student_id": _id(nullable=True),
                "activity": _vocab("activity", nullable=False),
                "duration_min": _range(1, MAX_MINUTES),
            }
        ),
        "rewards": pa.DataFrameSchema(
            {
                "student_id": _id(),
                "kind": _vocab("kind", nullable=False),
                "points": _range(*_bounds("rewards", "points")),
            }
        ),
        "mood": pa.DataFrameSchema(
            {"student_id": _id(), **days},
            checks=pa.Check(
                lambda d: d["days_recorded"] <= d["school_days"], name="recorded_within_school_days"
            ),
        ),
    }


def validate_tables(
    tables: dict[str, pd.DataFrame],
    level: str,
    years: Iterable[int],
    *,
    assessment: Codebook | None = None,
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


def quarantine_failures(
    ctx: Context, tables: dict[str, pd.DataFrame], cfg: StudyConfig
) -> pd.DataFrame:
    """pandera, lazily; a failing canonical row quarantines its raw row and everything from it."""
    acb = load_codebook(
        next(
            (s.codebook for s in cfg.sources if s.kind == "assessment"), f"assessment_{cfg.level}"
        ),
        base=cfg.root,
    )
    fails = validate_tables(  # the schemas allow the extra _sheet and _i columns
        tables,
        cfg.level,
        cfg.years,
        assessment=acb,
    )
    bad: dict[tuple[int, int], str] = {}
    for rec in fails.to_dict("records"):
        df, at = tables[str(rec["table"])], rec["index"]
        if at is None or pd.isna(at) or at not in df.index:
            continue
        r = df.loc[at]
        bad.setdefault(
            (int(r["_sheet"]), int(r["_i"])),
            f"{rec['table']}.{rec['column']}: {rec['check']} ({rec['failure_case']})",
        )
    for (k, i), why in bad.items():
        ctx.statuses[k].quarantine([i], "schema_violation", why)
    for name, df in tables.items():
        if "_sheet" in df.columns:
            if bad:
                gone = pd.MultiIndex.from_arrays([df["_sheet"], df["_i"]]).isin(list(bad))
                df = df[~gone]
            tables[name] = df.drop(columns=["_sheet", "_i"]).reset_index(drop=True)
    return fails
