"""The school calendar: school years, terms, months and school days, in one place.

A school year is named by its first calendar year (2023 = the 2023-2024 学年) and runs from
1 September to 31 August. Term 1 (autumn) runs from 1 September to mid-January (its months are
September-January), term 2 (spring) from late February to the end of June (its months are
March-June); a date in February, July or August belongs to term 2 of its school year. School
days are Monday to Friday outside the national holidays that always fall in term time (National
Day week, Labour Day). The calendar is deliberately simple: it only has to place synthetic
records on plausible days and count the months a rule applies to.

Inside :mod:`mentorlib` import it relatively (``from . import calendar`` or
``from .calendar import term_months``): the name shadows the standard library's ``calendar``
only for a bare ``import calendar``, which no module of the package writes.

Examples
--------
>>> term_of_month(1), term_of_month(3)
(1, 2)
>>> school_year_of(pd.Timestamp("2024-08-31")), school_year_of(pd.Timestamp("2024-09-01"))
(2023, 2024)
>>> term_months(2023, 2)
[(2024, 3), (2024, 4), (2024, 5), (2024, 6)]
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from functools import lru_cache

import numpy as np
import pandas as pd

from .errors import InputError

__all__ = [
    "TERM_MONTHS",
    "YEAR_START_MONTH",
    "month_label",
    "random_school_days",
    "school_days",
    "school_days_in_month",
    "school_year_of",
    "school_years_of",
    "study_window",
    "term_bounds",
    "term_months",
    "term_of_month",
    "terms_of",
    "year_months",
]

#: The month a school year starts in (1 September).
YEAR_START_MONTH = 9

#: Months of each term (term 1 = autumn, term 2 = spring), in calendar order within the term.
TERM_MONTHS: dict[int, tuple[int, ...]] = {1: (9, 10, 11, 12, 1), 2: (3, 4, 5, 6)}


def term_of_month(month: int) -> int:
    """Term (1 autumn, 2 spring) of a calendar month: September-January is term 1, else 2."""
    return 1 if month in TERM_MONTHS[1] else 2


def school_year_of(day: date | pd.Timestamp) -> int:
    """The school year (named by its first calendar year) a date falls in: September-August."""
    return day.year if day.month >= YEAR_START_MONTH else day.year - 1


def school_years_of(dates: pd.Series) -> pd.Series:
    """:func:`school_year_of` for a Series of datetimes (missing stays missing)."""
    return dates.dt.year - (dates.dt.month < YEAR_START_MONTH)


def terms_of(months: Iterable[int] | np.ndarray | pd.Index) -> np.ndarray:
    """:func:`term_of_month` for an array of calendar months (an integer array of 1 and 2)."""
    return np.where(np.isin(np.asarray(months), TERM_MONTHS[1]), 1, 2)


@lru_cache(maxsize=64)
def term_bounds(year: int, term: int) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last calendar day of a term."""
    if term == 1:
        return pd.Timestamp(year, 9, 1), pd.Timestamp(year + 1, 1, 16)
    if term == 2:
        return pd.Timestamp(year + 1, 2, 24), pd.Timestamp(year + 1, 6, 30)
    raise InputError(f"term must be 1 or 2, got {term!r}")


@lru_cache(maxsize=64)
def school_days(year: int, term: int) -> pd.DatetimeIndex:
    """Monday-Friday days of a term, without the National Day and Labour Day holidays."""
    start, end = term_bounds(year, term)
    days = pd.bdate_range(start, end)
    holiday = ((days.month == 10) & (days.day <= 7)) | ((days.month == 5) & (days.day <= 5))
    return days[~holiday]


def term_months(year: int, term: int) -> list[tuple[int, int]]:
    """(calendar year, month) pairs of a term, in order."""
    return [(year if m >= YEAR_START_MONTH else year + 1, m) for m in TERM_MONTHS[term]]


def year_months(year: int) -> list[tuple[int, int]]:
    """(calendar year, month) pairs of a school year, in order (9 months)."""
    return term_months(year, 1) + term_months(year, 2)


def school_days_in_month(year: int, cal_year: int, month: int) -> pd.DatetimeIndex:
    """School days of one calendar month within school year ``year``."""
    days = school_days(year, term_of_month(month))
    return days[(days.year == cal_year) & (days.month == month)]


def random_school_days(
    rng: np.random.Generator, year: int, cal_year: int, month: int, n: int
) -> np.ndarray:
    """``n`` school days of a month, drawn uniformly (datetime64[D])."""
    days = school_days_in_month(year, cal_year, month).values.astype("datetime64[D]")
    return days[rng.integers(0, len(days), size=n)]


def month_label(cal_year: int, month: int) -> str:
    """ISO month label ``YYYY-MM``."""
    return f"{cal_year:04d}-{month:02d}"


def study_window(years: Iterable[int]) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Dates a study's records can carry: its school years (1 September to 31 August), with
    one month before the first for the preparations of a new year (groups formed in August).

    >>> study_window([2023, 2024])
    (Timestamp('2023-08-01 00:00:00'), Timestamp('2025-08-31 23:59:59'))
    """
    ys = list(years)
    return pd.Timestamp(min(ys), 8, 1), pd.Timestamp(max(ys) + 1, 8, 31, 23, 59, 59)
