"""The school calendar: school years, terms, months and school days.

A school year is named by its first calendar year (2023 = the 2023-2024 学年). Term 1 (autumn)
runs from 1 September to mid-January, term 2 (spring) from late February to the end of June.
School days are Monday to Friday outside the national holidays that always fall in term time
(National Day week, Labour Day). The calendar is deliberately simple: it only has to place
synthetic records on plausible days and count the months a rule applies to.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from .rules import TERM_MONTHS


@lru_cache(maxsize=64)
def term_bounds(year: int, term: int) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last calendar day of a term."""
    if term == 1:
        return pd.Timestamp(year, 9, 1), pd.Timestamp(year + 1, 1, 16)
    if term == 2:
        return pd.Timestamp(year + 1, 2, 24), pd.Timestamp(year + 1, 6, 30)
    raise ValueError(f"term must be 1 or 2, got {term!r}")


@lru_cache(maxsize=64)
def school_days(year: int, term: int) -> pd.DatetimeIndex:
    """Monday-Friday days of a term, without the National Day and Labour Day holidays."""
    start, end = term_bounds(year, term)
    days = pd.bdate_range(start, end)
    holiday = ((days.month == 10) & (days.day <= 7)) | ((days.month == 5) & (days.day <= 5))
    return days[~holiday]


def term_months(year: int, term: int) -> list[tuple[int, int]]:
    """(calendar year, month) pairs of a term, in order."""
    return [(year if m >= 9 else year + 1, m) for m in TERM_MONTHS[term]]


def year_months(year: int) -> list[tuple[int, int]]:
    """(calendar year, month) pairs of a school year, in order (9 months)."""
    return term_months(year, 1) + term_months(year, 2)


def school_days_in_month(year: int, cal_year: int, month: int) -> pd.DatetimeIndex:
    """School days of one calendar month within school year ``year``."""
    term = 1 if month in TERM_MONTHS[1] else 2
    days = school_days(year, term)
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
