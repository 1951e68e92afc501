"""The numeric design of a mentor-model fit: :func:`prepare_design` -> :class:`Design`.

Complete rows only; numeric and boolean covariates as they are, text and categorical ones as
dummies; constant columns dropped with a note that says so without saying that nobody (or
everybody) has the covariate, an empty group (the sparse-level notes' wording); one-line :class:`InputError` for what cannot be
fitted (a missing column, a constant outcome, one group, collinear covariates).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import InputError
from ..privacy import MIN_CELL

__all__ = ["Design", "prepare_design"]


@dataclass
class Design:
    """The numeric design of a fit (:func:`prepare_design`): complete rows only.

    Attributes
    ----------
    y : ndarray
        The outcome.
    X : ndarray
        Fixed-effects design, first column the intercept; ``names`` its column names.
    codes, labels : ndarray
        Group (mentor) code of each row, and the label of each code.
    n_dropped : int
        Rows dropped for a missing value.
    notes : list of str
        Covariate columns dropped for having no variation, worded as a sparse level ("fewer
        than ``min_cell`` students differ from the others"): publishable, as "nobody" or
        "everybody" would not be.
    slope : ndarray, optional
        The random-slope column.
    extra_codes, extra_labels : ndarray, optional
        Codes and labels of the extra grouping (e.g. the class).
    """

    y: np.ndarray
    X: np.ndarray
    names: list[str]
    codes: np.ndarray  # group code per row
    labels: np.ndarray  # group label per code
    n_dropped: int
    notes: list[str]
    slope: np.ndarray | None = None
    extra_codes: np.ndarray | None = None
    extra_labels: np.ndarray | None = None


def _as_float(s: pd.Series) -> np.ndarray:
    return s.to_numpy(dtype=float, na_value=np.nan)


def _columns_for(s: pd.Series, name: str) -> tuple[list[np.ndarray], list[str]]:
    """Numeric/bool -> one float column; categorical/text -> dummies (first level dropped)."""
    if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
        return [_as_float(s)], [name]
    cat = s.astype("category")
    levels = [c for c in cat.cat.categories if (cat == c).any()]
    vals = cat.to_numpy(dtype=object)
    return [(vals == lv).astype(float) for lv in levels[1:]], [f"{name}[{lv}]" for lv in levels[1:]]


def prepare_design(
    data: pd.DataFrame,
    outcome: str,
    group: str,
    pre: str | None = None,
    covariates: Sequence[str] = (),
    random_slope: str | None = None,
    extra_group: str | None = None,
    *,
    min_cell: int = MIN_CELL,
) -> Design:
    """Check the columns of a fit and build its :class:`Design` (rows with a missing value out).

    Numeric and boolean covariates enter as they are, text and categorical ones as dummies (first
    level the reference); a constant column is dropped with a note that names no empty group
    (``min_cell``: the study's small-cell threshold, in its words). Raises :class:`InputError`
    for a missing column, a non-numeric or constant outcome, fewer than two groups, too few rows
    or collinear covariates.
    """
    if not isinstance(data, pd.DataFrame):
        raise InputError(f"data must be a DataFrame, not {type(data).__name__}")
    if isinstance(covariates, str):
        covariates = (covariates,)
    wanted = [outcome, group, *([pre] if pre else []), *covariates]
    wanted += [c for c in (random_slope, extra_group) if c]
    for c in dict.fromkeys(wanted):
        if c not in data.columns:
            raise InputError("missing column", column=c)
    if not pd.api.types.is_numeric_dtype(data[outcome]) or pd.api.types.is_bool_dtype(
        data[outcome]
    ):
        raise InputError("the outcome must be numeric", column=outcome)
    df = data[list(dict.fromkeys(wanted))]
    if df[outcome].isna().all():
        raise InputError("the outcome is missing in every row", column=outcome)
    keep = df.notna().all(axis=1).to_numpy()
    df = df[keep]
    n_dropped = int((~keep).sum())
    codes, labels = pd.factorize(df[group], sort=True)
    if len(labels) < 2:
        raise InputError(f"needs at least 2 groups with data, found {len(labels)}", column=group)
    y = _as_float(df[outcome])
    if np.ptp(y) == 0:
        raise InputError("the outcome does not vary", column=outcome)
    cols, names, notes = [np.ones(len(df))], ["Intercept"], []
    for c in ([pre] if pre else []) + list(covariates):
        for col, nm in zip(*_columns_for(df[c], c), strict=True):
            if np.ptp(col) == 0:
                # "no variation" would say nobody (or everybody) has it: a group of 0
                notes.append(f"dropped {nm}: fewer than {min_cell} students differ from the others")
                continue
            cols.append(col)
            names.append(nm)
    X = np.column_stack(cols)
    if len(y) <= X.shape[1] + 1:
        raise InputError(f"too few rows ({len(y)}) for {X.shape[1]} fixed effects")
    if np.linalg.matrix_rank(X) < X.shape[1]:
        raise InputError(f"collinear covariates in {names[1:]}: drop one")
    d = Design(y, X, names, codes.astype(np.int64), np.asarray(labels), n_dropped, notes)
    if random_slope:
        d.slope = _as_float(df[random_slope])
    if extra_group:
        ec, el = pd.factorize(df[extra_group], sort=True)
        if len(el) < 2:
            raise InputError("needs at least 2 levels", column=extra_group)
        d.extra_codes, d.extra_labels = ec.astype(np.int64), np.asarray(el)
    return d
