"""Input checks shared by the modules of :mod:`mentorlib.progress` (not part of the public API)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import InputError


def as_float(x, name: str) -> np.ndarray:
    """``x`` as a float array (a Series' missing values as NaN); InputError when not numeric."""
    try:
        a = np.asarray(
            x.to_numpy(dtype=float, na_value=np.nan) if isinstance(x, pd.Series) else x,
            dtype=float,
        )
    except (TypeError, ValueError):
        raise InputError(f"{name} must be numeric") from None
    return a


def check_counts(successes, n) -> tuple[np.ndarray, np.ndarray]:
    """Counts as float arrays, checked: whole numbers with 0 <= successes <= n and n >= 1."""
    x, m = np.asarray(successes, dtype=float), np.asarray(n, dtype=float)
    if np.any(m < 1) or np.any(x < 0) or np.any(x > m) or np.any(x != np.round(x)):
        raise InputError("need whole numbers with 0 <= successes <= n and n >= 1")
    return x, m


def need_columns(df: pd.DataFrame, need: set[str], what: str) -> None:
    """InputError naming the columns of ``need`` that ``df`` lacks."""
    if not need <= set(df.columns):
        raise InputError(f"{what} lack column(s) {sorted(need - set(df.columns))}")


def year_roster(students: pd.DataFrame, year: int) -> pd.DataFrame:
    """The students of one year (``student_id`` as str), each once; InputError otherwise."""
    if "student_id" not in students.columns or "year" not in students.columns:
        raise InputError("the students table needs student_id and year")
    r = students.loc[students["year"] == year].assign(
        student_id=lambda d: d["student_id"].astype("str")
    )
    if r.empty:
        raise InputError(f"no students on the roster in year {year}")
    dup = r["student_id"].duplicated()
    if dup.any():
        raise InputError(
            f"{int(dup.sum())} student(s) listed twice in year {year}, "
            f"e.g. {r.loc[dup, 'student_id'].iloc[0]}"
        )
    return r.reset_index(drop=True)
