"""The generator's tables in their canonical dtypes.

:func:`to_canonical` is the one place the synthetic tables get their dtypes (categories for
codes, small integers, float32 answers); when :mod:`mentorlib.tables` holds the contract this is
the function that calls it. :func:`compact` applies the same small dtypes to the truth tables.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import calendar


def with_year_term(df: pd.DataFrame) -> pd.DataFrame:
    """Add the school year and term of each dated row (after the date column)."""
    d = pd.Series(pd.DatetimeIndex(df["date"]))
    year = calendar.school_years_of(d).to_numpy()
    term = calendar.terms_of(d.dt.month.to_numpy())
    at = list(df.columns).index("date") + 1
    df.insert(at, "year", year.astype(np.int64))
    df.insert(at + 1, "term", term.astype(np.int16))
    return df


#: Columns held as categories.
CATEGORICAL = {
    "gender",
    "family",
    "role",
    "subject",
    "activity",
    "mode",
    "kind",
    "status",
    "wave",
    "dimension",
    "reason",
    "month",
    "home_area",
}


#: Integer columns held as int16.
SMALL_INT = {
    "points",
    "duration_min",
    "school_days",
    "days_recorded",
    "n_happy",
    "n_calm",
    "n_sad",
    "n_angry",
    "sat_1",
    "sat_2",
    "sat_3",
    "sat_4",
    "sat_5",
    "term",
}


def compact(tables: dict[str, pd.DataFrame]) -> None:
    """Small dtypes in place: categories for codes, float32 answers, small integers."""
    for name, df in tables.items():
        for c in df.columns:
            s = df[c]
            if c in CATEGORICAL and not isinstance(s.dtype, pd.CategoricalDtype):
                df[c] = s.astype("category")
            elif s.dtype == object:
                df[c] = s.astype("str")
            elif c in SMALL_INT and pd.api.types.is_integer_dtype(s):
                df[c] = s.astype("int16")
            elif s.dtype == np.float64 and (
                name == "assessment_wide" and c not in ("satisfaction",)
            ):
                df[c] = s.astype("float32")


def to_canonical(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The generated canonical tables in their contract dtypes (in place; returns ``tables``)."""
    compact(tables)
    return tables
