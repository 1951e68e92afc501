"""Small-cell suppression at the output stage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mentorlib.errors import InputError
from mentorlib.privacy import format_suppressed, suppress_small_cells


@pytest.fixture
def table():
    return pd.DataFrame(
        {
            "by": ["grade"] * 4,
            "group": ["1", "2", "3", "4"],
            "year": [2024] * 4,
            "n_students": [40, 4, 5, 0],
            "n_progressing": [30, 4, 1, 0],
            "proportion": [0.75, 1.0, 0.2, np.nan],
            "ci_low": [0.6, 0.5, 0.04, np.nan],
        }
    )


def test_rows_below_min_cell_are_blanked_and_flagged(table):
    out = suppress_small_cells(table, counts="n_students")
    assert out["suppressed"].tolist() == [False, True, False, True]
    # default columns: the counts and every float column; labels and other ints stay
    assert out["n_students"].isna().tolist() == [False, True, False, True]
    assert out["proportion"].isna().tolist() == [False, True, False, True]
    assert out["ci_low"].isna().tolist() == [False, True, False, True]
    assert out["n_progressing"].tolist() == [30, 4, 1, 0]  # not a listed count, not a float
    assert out["group"].tolist() == ["1", "2", "3", "4"] and (out["year"] == 2024).all()
    assert out["n_students"].dtype == "Int64"
    assert table["n_students"].tolist() == [40, 4, 5, 0]  # input untouched
    assert "suppressed" not in table


def test_numerator_counts_and_threshold(table):
    out = suppress_small_cells(
        table, counts=["n_students", "n_progressing"], min_cell=5, columns=None
    )
    # group 3: 5 students but only 1 progressing -> suppressed when the numerator is listed
    assert out["suppressed"].tolist() == [False, True, True, True]
    assert out.loc[2, "n_progressing"] is pd.NA
    out10 = suppress_small_cells(table, counts="n_students", min_cell=41)
    assert out10["suppressed"].all()
    out1 = suppress_small_cells(table, counts="n_students", min_cell=1)
    assert out1["suppressed"].tolist() == [False, False, False, True]


def test_explicit_columns_and_missing_counts(table):
    t = table.assign(n_students=table["n_students"].astype("float").where(table.index != 0))
    out = suppress_small_cells(t, counts="n_students", columns=["proportion"])
    assert out.loc[0, "suppressed"]  # a missing count counts as small
    assert out["ci_low"].notna().sum() == 3  # not in columns: kept


def test_format_shows_threshold_text(table):
    out = format_suppressed(suppress_small_cells(table, counts="n_students"))
    assert out["n_students"].tolist() == ["40", "<5", "5", "<5"]
    assert out["proportion"].tolist() == ["0.75", "<5", "0.2", "<5"]
    assert out["n_progressing"].tolist() == [30, 4, 1, 0]  # untouched (nothing blanked)


def test_bad_arguments(table):
    with pytest.raises(InputError, match="not in the table"):
        suppress_small_cells(table, counts="n")
    with pytest.raises(InputError, match="min_cell"):
        suppress_small_cells(table, counts="n_students", min_cell=0)
    with pytest.raises(InputError, match="suppress_small_cells first"):
        format_suppressed(table)
