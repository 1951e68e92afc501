"""The school calendar: one definition of school years, terms and months."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mentorlib import calendar, rules


@pytest.mark.parametrize(
    ("month", "term"),
    [(9, 1), (10, 1), (11, 1), (12, 1), (1, 1), (2, 2), (3, 2), (4, 2), (5, 2), (6, 2), (7, 2)]
    + [(8, 2)],
)
def test_term_of_each_month(month, term):
    assert calendar.term_of_month(month) == term


def test_terms_of_is_the_vector_form():
    months = np.arange(1, 13)
    assert calendar.terms_of(months).tolist() == [calendar.term_of_month(m) for m in months]


def test_school_year_turns_on_first_of_september():
    assert calendar.school_year_of(pd.Timestamp("2024-08-31")) == 2023
    assert calendar.school_year_of(pd.Timestamp("2024-09-01")) == 2024
    assert calendar.school_year_of(pd.Timestamp("2025-01-15")) == 2024
    dates = pd.Series(pd.to_datetime(["2024-08-31", "2024-09-01", None, "2025-06-30"]))
    got = calendar.school_years_of(dates)
    assert got.iloc[[0, 1, 3]].tolist() == [2023, 2024, 2024]
    assert pd.isna(got.iloc[2])


def test_months_of_a_term_and_a_year():
    assert calendar.term_months(2023, 1) == [(2023, 9), (2023, 10), (2023, 11), (2023, 12)] + [
        (2024, 1)
    ]
    assert calendar.term_months(2023, 2) == [(2024, 3), (2024, 4), (2024, 5), (2024, 6)]
    assert calendar.year_months(2023) == calendar.term_months(2023, 1) + calendar.term_months(
        2023, 2
    )
    assert len(calendar.year_months(2023)) == 9
    assert calendar.month_label(2024, 3) == "2024-03"


def test_term_bounds_and_school_days():
    assert calendar.term_bounds(2023, 1) == (pd.Timestamp("2023-09-01"), pd.Timestamp("2024-01-16"))
    assert calendar.term_bounds(2023, 2) == (pd.Timestamp("2024-02-24"), pd.Timestamp("2024-06-30"))
    with pytest.raises(ValueError):
        calendar.term_bounds(2023, 3)
    days = calendar.school_days(2023, 1)
    assert (days.day_of_week < 5).all()
    assert not ((days.month == 10) & (days.day <= 7)).any()  # National Day week
    may = calendar.school_days_in_month(2023, 2024, 5)
    assert may.min() > pd.Timestamp("2024-05-05")  # Labour Day holiday
    assert len(calendar.school_days_in_month(2023, 2023, 9)) == 21  # Sep 2023: 21 weekdays


def test_random_school_days_fall_in_the_month():
    rng = np.random.default_rng(0)
    got = calendar.random_school_days(rng, 2023, 2023, 11, 50)
    allowed = set(calendar.school_days_in_month(2023, 2023, 11).values.astype("datetime64[D]"))
    assert len(got) == 50 and set(got) <= allowed


def test_study_window():
    lo, hi = calendar.study_window([2024, 2023])
    assert lo == pd.Timestamp("2023-08-01")
    assert hi == pd.Timestamp("2025-08-31 23:59:59")


def test_rules_re_exports_the_calendar():
    assert rules.TERM_MONTHS is calendar.TERM_MONTHS
    assert rules.term_of_month is calendar.term_of_month
    assert rules.school_year_of is calendar.school_year_of
